"""The `gemfinder` CLI: ask / index stats on the shipped catalog, and every bad input gets one clear line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ui.cli.main import main

GEMFINDER = str(Path(sys.executable).parent / "gemfinder")

BAD_INPUTS = [
    pytest.param([""], "empty_query", "empty", id="empty"),
    pytest.param(["   \n\t "], "empty_query", "empty", id="whitespace"),
    pytest.param(["best model " * 10_000], "query_too_long", "limit", id="100kB"),
    pytest.param([os.fsdecode(b"best \xff\xfe model for math")], "query_encoding", "UTF-8", id="non-utf8"),
    pytest.param(["a model under 1B, at least 70B"], "contradictory_constraints", "both", id="contradictory"),
    pytest.param(["a 7B model under the FooBar-9 license"], "unknown_license", "Unknown license", id="license"),
]


@pytest.mark.parametrize(("argv", "kind", "fragment"), BAD_INPUTS)
def test_bad_input_is_one_line_human(argv, kind, fragment, capsys):
    code = main(["ask", *argv])
    out, err = capsys.readouterr()
    assert code == 1 and out == ""
    assert err.count("\n") == 1 and err.startswith("gemfinder: error: ") and fragment in err
    assert "Traceback" not in err


@pytest.mark.parametrize(("argv", "kind", "fragment"), BAD_INPUTS)
def test_bad_input_is_the_json_error_object(argv, kind, fragment, capsys):
    code = main(["ask", *argv, "--json"])
    out, err = capsys.readouterr()
    assert code == 1
    obj = json.loads(out)
    assert obj == {"error": {"type": kind, "message": obj["error"]["message"]}}
    assert fragment in obj["error"]["message"]


def test_usage_error_with_json_is_an_error_object(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["ask", "math model", "--k", "0", "--json"])
    assert exit_.value.code == 2
    assert json.loads(capsys.readouterr().out)["error"]["type"] == "usage"


def _run(*args, stdin: bytes | None = None, env=None):
    return subprocess.run([GEMFINDER, *args], input=stdin, capture_output=True, timeout=120,
                          env={**os.environ, **(env or {})})


def test_non_utf8_bytes_from_a_real_shell_argv():
    proc = _run(b"ask".decode(), os.fsdecode(b"\xc3\x28 math model"), "--json")
    assert proc.returncode == 1 and b"Traceback" not in proc.stderr
    assert json.loads(proc.stdout)["error"]["type"] == "query_encoding"


def test_ask_json_on_the_shipped_catalog(shipped_catalog):
    proc = _run("ask", "best 7B model for grade-school math with an apache-2.0 license", "--json", "--k", "5")
    assert proc.returncode == 0, proc.stderr.decode()
    obj = json.loads(proc.stdout)  # exactly one JSON object on stdout
    assert obj["task"] == "math"
    assert obj["constraints"] == {"params_min_b": 5.9, "params_max_b": 8.1, "license": ["apache-2.0"],
                                  "family": None, "instruct": None}
    assert len(obj["results"]) == 5
    for r in obj["results"]:
        assert r["license"] == "apache-2.0" and 5.9 <= r["params_b"] <= 8.1
        assert r["scores"] == {b: s.value for b, s in shipped_catalog.get(r["id"]).scores.items()}
    # The first pick has the best known gsm8k of every eligible catalog model that has no math_lvl5 score.
    f = shipped_catalog.frame
    eligible = f[(f["license"] == "apache-2.0") & f["params_b"].between(5.9, 8.1) & (f["flagged"] != True)
                 & (f["available"] != False) & f["score.math_lvl5"].isna()]
    assert obj["results"][0]["scores"]["gsm8k"] == eligible["score.gsm8k"].max()


def test_ask_reads_stdin_and_prints_a_table():
    proc = _run("ask", "-", "--k", "3", stdin="medical QA model, commercial use".encode())
    assert proc.returncode == 0, proc.stderr.decode()
    assert b"task: medical" in proc.stdout


def test_index_stats_json(shipped_catalog):
    proc = _run("index", "stats", "--json")
    assert proc.returncode == 0
    stats = json.loads(proc.stdout)
    assert set(stats) == {"records", "with_card_text", "coverage", "scores_as_of"}
    assert stats["records"] == len(shipped_catalog) >= 10_000
    assert stats["coverage"]["gsm8k"] > 1000 and stats["scores_as_of"] >= "2024-01-01"
