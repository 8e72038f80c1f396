"""`gemfinder bench-lensllm` end to end on the shipped FLAN curves, and the benchmark's metrics."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from ui.cli.main import main

FLAN = Path(__file__).resolve().parents[1] / "index" / "data" / "curves" / "benchmark_flan.csv"


def test_cli_json_end_to_end(capsys):
    # one ratio keeps the test short; the full table is `python -m evals.bench_lensllm`
    assert main(["bench-lensllm", "--curves", str(FLAN), "--ratios", "64", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) == {"rows"}
    assert {r["method"] for r in out["rows"]} == {"lensllm", "rectified", "zeroshot", "modelsize"}
    for row in out["rows"]:
        assert set(row) == {"method", "dataset", "ratio", "pearcorr", "relacc", "rmse"}
        assert row["dataset"] == "benchmark_flan" and row["ratio"] == 64
        assert -100 <= row["pearcorr"] <= 100 and 0 <= row["relacc"] <= 100
        assert (row["rmse"] is None) == (row["method"] in ("zeroshot", "modelsize"))
        if row["rmse"] is not None:
            assert 0 < row["rmse"] < 1
    zeroshot = next(r for r in out["rows"] if r["method"] == "zeroshot")
    assert zeroshot["pearcorr"] == pytest.approx(-10.7, abs=0.1)  # Lin et al.'s Table 1 value


def test_cli_bad_file_is_json_error(tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text("config name,0,200,400\na,3,nan,1\n")
    assert main(["bench-lensllm", "--curves", str(bad), "--json"]) == 1
    err = json.loads(capsys.readouterr().out)["error"]
    assert err["type"] == "invalid_curve_file" and "NaN" in err["message"]


def test_metrics_and_published_figures():
    from evals.bench_lensllm import pearcorr, published_ats, relacc, rmse

    truth = np.array([1.0, 2.0, 3.0])
    assert pearcorr(truth * 2, truth) == pytest.approx(100.0)
    assert relacc(np.array([3.0, 1.0, 2.0]), truth) == pytest.approx(50.0)
    assert rmse(np.array([[1.0, 1.0]]), np.array([[1.0, 2.0]])) == pytest.approx(np.sqrt(0.5))
    pub = published_ats("benchmark_flan")
    assert pub["pearcorr"][8] == 90.9 and pub["relacc"][128] == 85.3
    assert published_ats("benchmark_gigaword")["pearcorr"][512] == 91.0
    assert published_ats("unknown") == {}
