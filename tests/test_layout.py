"""Package contracts: lazy heavy imports, one-way dependencies, `__all__` consistency."""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ["index", "search", "recommender", "ui"]
# ui → recommender → search → index; evals may import all; nobody below ui imports ui or evals.
FORBIDDEN = {
    "index": {"search", "recommender", "ui", "evals"},
    "search": {"recommender", "ui", "evals"},
    "recommender": {"ui", "evals"},
    "ui": set(),
}


def test_importing_packages_does_not_load_heavy_libraries():
    code = (
        "import sys, index, search, recommender, ui, ui.cli.main, search.retrieval, recommender.shortlist\n"
        "heavy = [m for m in ('torch', 'vllm', 'gradio', 'sentence_transformers', 'faiss', 'transformers') "
        "if m in sys.modules]\n"
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == ""


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("package", PACKAGES)
def test_dependencies_point_one_way(package):
    offenders = {
        str(p.relative_to(ROOT)): sorted(_imports(p) & FORBIDDEN[package])
        for p in (ROOT / package).rglob("*.py")
        if _imports(p) & FORBIDDEN[package]
    }
    assert offenders == {}


def test_only_cli_benchmark_commands_import_evals():
    # benchmark commands: bench-* and eval (offline evaluation of recommendation quality)
    offenders = [str(p.relative_to(ROOT)) for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py")
                 if "evals" in _imports(p) and not p.name.startswith(("bench", "eval_cmd"))]
    assert offenders == []


@pytest.mark.parametrize("package", PACKAGES)
def test_all_names_exist(package):
    module = importlib.import_module(package)
    for name in getattr(module, "__all__", []):
        assert hasattr(module, name), f"{package}.__all__ lists {name!r} which does not exist"
