"""``gemfinder evaluate``: option checks before any work, the JSON shape, error rows, the compute-optimal table."""

from __future__ import annotations

import json

import pytest

from ui.cli.main import main

SMOL = "smollm2-135m-instruct"
ROW_KEYS = {"model", "dataset", "strategy", "n", "questions", "accuracy", "ci95", "tokens", "seconds", "pareto",
            "error"}


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    import index.constants

    monkeypatch.setattr(index.constants, "EVALUATION_CACHE_DIR", tmp_path / "evaluations")
    return tmp_path / "evaluations"


@pytest.mark.parametrize(
    ("argv", "kind", "fragment"),
    [
        (["--strategy", "sampling"], "usage", "Unknown strategy 'sampling'"),
        (["--strategy", "majority", "--n", "1,4"], "usage", "--strategy all"),
        (["--n", "4,x"], "usage", "whole numbers"),
        (["--strategy", "dvts", "--n", "6"], "usage", "multiple of width"),
        (["--trust-remote-code", "other/model"], "usage", "names no model"),
        (["--dataset", "gsm9k"], "unknown_name", "Unknown dataset 'gsm9k'"),
    ],
)
def test_bad_options_are_one_json_error(argv, kind, fragment, capsys):
    base = {"--models": SMOL, "--dataset": "arith"}
    for flag, value in zip(argv[::2], argv[1::2]):
        base[flag] = value
    code = main(["evaluate", *[x for kv in base.items() for x in kv], "--json"])
    out, _ = capsys.readouterr()
    error = json.loads(out)["error"]
    assert code != 0 and error["type"] == kind and fragment in error["message"]


def test_error_row_and_accuracy_row(cache_dir, capsys):
    code = main(["evaluate", "--models", "no-such-model", SMOL, "--dataset", "arith", "--questions", "3",
                 "--max-tokens", "32", "--device", "cpu", "--json"])
    out, err = capsys.readouterr()
    assert code == 0 and "evaluate:" in err  # progress on stderr, one object on stdout
    bad, good = json.loads(out)["results"]
    assert set(bad) == set(good) == ROW_KEYS
    assert bad["error"].startswith("Unknown model 'no-such-model'") and bad["accuracy"] is None
    assert good["error"] is None and good["questions"] == 3 and good["strategy"] == "greedy" and good["n"] == 1
    assert good["ci95"][0] <= good["accuracy"] <= good["ci95"][1] and good["tokens"] > 0
    assert len(list(cache_dir.glob("*.jsonl"))) == 1


def test_compute_optimal_table(cache_dir, capsys):
    code = main(["evaluate", "--models", SMOL, "--dataset", "arith", "--strategy", "all", "--n", "1,2",
                 "--width", "2", "--questions", "1", "--max-tokens", "8", "--device", "cpu", "--json"])
    out, _ = capsys.readouterr()
    rows = json.loads(out)["results"]
    assert code == 0
    cells = {(r["strategy"], r["n"]) for r in rows}
    assert ("greedy", 1) in cells and ("greedy", 2) not in cells  # greedy only at N = 1
    assert ("dvts", 2) in cells and ("dvts", 1) not in cells  # tree searches at multiples of M only
    assert all(r["error"] is None and isinstance(r["pareto"], bool) for r in rows)
    front = [r for r in rows if r["pareto"]]
    assert front and max(r["accuracy"] for r in rows) == max(r["accuracy"] for r in front)
    cheapest = min(r["tokens"] for r in rows)
    assert any(r["tokens"] == cheapest for r in front) or all(
        r["accuracy"] < f["accuracy"] for r in rows if r["tokens"] == cheapest for f in front)
