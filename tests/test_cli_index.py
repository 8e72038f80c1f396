"""`gemfinder index build --source hub` against a real local Hub server, and its fast failure with no Hub."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from hub_server import SilentHub, closed_port_endpoint, local_hub  # noqa: F401  (session fixture)

from index.catalog import Catalog
from index.store import VectorStore

GEMFINDER = str(Path(sys.executable).parent / "gemfinder")


def _env(endpoint: str, tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "HF_HUB_OFFLINE"}
    return {**env, "HF_ENDPOINT": endpoint, "HF_HOME": str(tmp_path / "hf-home")}


def test_hub_build_ingests_and_embeds(local_hub, tmp_path):  # noqa: F811
    out = tmp_path / "hub-catalog"
    proc = subprocess.run(
        [GEMFINDER, "index", "build", "--source", "hub", "--max-models", "5", "--out-dir", str(out), "--json"],
        capture_output=True, text=True, timeout=300, env=_env(local_hub.endpoint, tmp_path),
    )
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    assert summary["records"] == 5
    catalog = Catalog.load(out / "catalog.parquet")
    assert catalog.get("mistralai/Mistral-7B-Instruct-v0.2").license == "apache-2.0"
    VectorStore.load(out / "vectors.npz", catalog_fingerprint=catalog.fingerprint())  # verified, not stale
    # The new catalog answers requests through GEMFINDER_DATA_DIR.
    ask = subprocess.run([GEMFINDER, "ask", "qwen2.5 instruct model", "--json", "--k", "2"], capture_output=True,
                         text=True, timeout=120, env={**os.environ, "GEMFINDER_DATA_DIR": str(out)})
    assert ask.returncode == 0, ask.stderr
    assert json.loads(ask.stdout)["results"][0]["id"] == "Qwen/Qwen2.5-7B-Instruct"


def test_unreachable_hub_fails_within_5_seconds(tmp_path):
    with SilentHub() as silent:
        for endpoint in (closed_port_endpoint(), silent.endpoint):
            started = time.perf_counter()
            proc = subprocess.run(
                [GEMFINDER, "index", "build", "--source", "hub", "--out-dir", str(tmp_path / "x")],
                capture_output=True, text=True, timeout=60, env=_env(endpoint, tmp_path),
            )
            elapsed = time.perf_counter() - started
            # The whole process, interpreter start included, stays under 5 s.
            assert proc.returncode == 1 and elapsed < 5, (elapsed, proc.stderr)
            assert "not reachable" in proc.stderr and "shipped catalog remains in use" in proc.stderr
            assert "Traceback" not in proc.stderr
    assert not (tmp_path / "x" / "catalog.parquet").exists()
