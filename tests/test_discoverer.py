"""ModelDiscoverer (the README's Python example, run as written) and `gemfinder recommend`."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from index.errors import InvalidBudgetError, UnknownTaskError
from recommender import ModelDiscoverer


def _readme_example() -> str:
    """The README's first Python block that uses `ModelDiscoverer`: the test runs the text users read."""
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", readme, flags=re.S)
    return next(block for block in blocks if "ModelDiscoverer(" in block)


README_EXAMPLE = _readme_example()


def test_readme_example_runs_as_written(monkeypatch, prior_cache_dir, capsys, shipped_catalog):
    from index import constants

    monkeypatch.setattr(constants, "PRIOR_CACHE_DIR", prior_cache_dir)
    exec(compile(README_EXAMPLE, "README", "exec"), {})
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 5 and [line.split()[0] for line in lines] == ["1", "2", "3", "4", "5"]
    for line in lines:
        record = shipped_catalog.get(line.split()[1])
        assert record.family == "llama-3.1" and 7.5 <= record.params_b <= 8.5  # the llama-3.1-8b tree


def test_tree_names_are_case_insensitive_and_confirmed(shortlister, prior_cache_dir):
    from recommender.pipeline import Recommender

    rec = Recommender(shortlister, prior_cache=prior_cache_dir)
    picks = ModelDiscoverer(model_family="Mistral-7B", task="gsm8k", budget=800, recommender=rec).find_top_k(k=3)
    assert len(picks) == 3 and picks[0].measured is not None and picks[0].measured.n > 0
    assert all(shortlister.catalog.get(p.id).family == "mistral" for p in picks)


@pytest.mark.parametrize(("kwargs", "error"), [({"task": "astrology"}, UnknownTaskError),
                                               ({"budget": 0}, InvalidBudgetError),
                                               ({"budget": -10}, InvalidBudgetError)])
def test_bad_arguments_fail_before_loading(kwargs, error):
    with pytest.raises(error):
        ModelDiscoverer(**{"task": "math", **kwargs})


def test_cli_recommend_json(prior_cache_dir, monkeypatch, capsys):
    from index import constants
    from ui.cli.main import main

    monkeypatch.setattr(constants, "PRIOR_CACHE_DIR", prior_cache_dir)
    assert main(["recommend", "best 7B model for math, apache-2.0", "--k", "3", "--budget", "200", "--json"]) == 0
    out = capsys.readouterr()
    data = json.loads(out.out)
    assert len(data["picks"]) == 3 and data["spent_queries"] <= 200 and "confirm:" in out.err
    with pytest.raises(SystemExit) as usage:  # argparse refuses the option itself, as JSON
        main(["recommend", "math", "--budget", "-3", "--json"])
    assert usage.value.code == 2 and json.loads(capsys.readouterr().out)["error"]["type"] == "usage"
    assert main(["recommend", "best math model, budget of 0 queries", "--json"]) == 1
    assert json.loads(capsys.readouterr().out)["error"]["type"] == "invalid_budget"
