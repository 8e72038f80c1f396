"""The live oracle, its result cache and `evaluate`, with the real PyPI-shipped models on `arith` questions.

The interruption test really kills a process (SIGKILL) midway through an evaluation, then resumes in this process
and checks that every answer written before the kill is reused and only the rest is generated.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from index.errors import RemoteCodeRefusedError
from recommender.confirm._result_cache import CachedResult, ResultCache, ResultKey
from recommender.confirm.datasets import load_dataset
from recommender.confirm.live import LiveOracle, evaluate, mark_pareto, wilson_interval
from recommender.confirm.oracle import Oracle, RepeatedPullError
from recommender.confirm.strategies import StrategyConfig

ROOT = Path(__file__).resolve().parents[1]
SMOL = "smollm2-135m-instruct"
GREEDY = StrategyConfig("greedy", max_tokens=48)


@pytest.fixture(scope="module")
def arith():
    return load_dataset("arith", limit=6, steps=2, digits=1, seed=1)


@pytest.fixture(scope="module")
def engines(smollm2_engine):
    return {SMOL: smollm2_engine}


class TestResultCache:
    KEY = ResultKey("m", "rev", "arith", "greedy|t=0.8", 1, 0)

    def test_round_trip_and_separate_keys(self, tmp_path):
        cache = ResultCache(tmp_path)
        cache.put(self.KEY, CachedResult("q1", "5", True, 12, 0.5, 1, "transformers"))
        other = ResultKey("m", "rev", "arith", "greedy|t=0.8", 1, 1)  # another seed
        assert ResultCache(tmp_path).get(self.KEY)["q1"].tokens == 12
        assert ResultCache(tmp_path).get(other) == {}

    def test_cut_line_is_skipped_and_duplicates_keep_the_first(self, tmp_path):
        cache = ResultCache(tmp_path)
        cache.put(self.KEY, CachedResult("q1", "5", True, 12, 0.5, 1))
        path = cache.path(self.KEY)
        first = path.read_text()
        with path.open("a") as f:
            f.write(first.replace('"tokens": 12', '"tokens": 99'))  # a second writer's duplicate
            f.write(first[: len(first) // 2])  # a write cut short by a kill
        assert ResultCache(tmp_path).get(self.KEY)["q1"].tokens == 12


def test_wilson_interval_and_pareto():
    low, high = wilson_interval(8, 10)
    assert 49.0 < low < 49.1 and 94.3 < high < 94.4
    assert wilson_interval(0, 5)[0] == 0.0 and wilson_interval(5, 5)[1] == 100.0
    from recommender.confirm.live import EvaluationRow

    def row(acc, tokens):
        return EvaluationRow("m", "arith", "s", 1, 10, acc, (0.0, 100.0), tokens, 1.0)

    flags = [r.pareto for r in mark_pareto([row(50, 100), row(60, 200), row(55, 300), row(40, 50)])]
    assert flags == [True, True, False, True]


class TestLiveOracle:
    def test_protocol_pull_and_repeat(self, arith, engines, tmp_path):
        oracle = LiveOracle([SMOL], arith, GREEDY, cache_dir=tmp_path, engines=engines)
        assert isinstance(oracle, Oracle) and (oracle.n_arms, oracle.n_questions) == (1, 6)
        rewards, costs = oracle.pull(np.array([0, 0]), np.array([0, 3]))
        assert set(rewards) <= {0.0, 1.0} and (costs > 0).all() and (costs <= 48).all()
        assert oracle.results[0].tokens == costs.sum() and oracle.results[0].fresh == 2
        with pytest.raises(RepeatedPullError):
            oracle.pull(np.array([0]), np.array([3]))
        with pytest.raises(RepeatedPullError):
            oracle.pull(np.array([0, 0]), np.array([1, 1]))
        # A new oracle on the same cache pays nothing for what was answered.
        again = LiveOracle([SMOL], arith, GREEDY, cache_dir=tmp_path, engines=engines)
        rewards2, costs2 = again.pull(np.array([0, 0]), np.array([0, 3]))
        assert (rewards2 == rewards).all() and (costs2 == costs).all() and again.results[0].fresh == 0

    def test_sequential_halving_over_two_real_models(self, arith, engines, tmp_path):
        from recommender.confirm import SequentialHalving

        oracle = LiveOracle([SMOL, "gemma-3-270m"], arith, GREEDY, cache_dir=tmp_path, engines=engines)
        search = SequentialHalving(seed=0).fit(oracle, budget=8)
        oracle.close()
        assert search.best_arm_ in (0, 1)
        assert search.result_.spent == oracle.n_pulls == 8
        assert search.result_.cost == oracle.total_cost > 0
        assert [len(r.answers) for r in oracle.results] == [4, 4]

    def test_refused_model(self, arith, tmp_path):
        folder = tmp_path / "needs-code"
        folder.mkdir()
        (folder / "config.json").write_text(json.dumps({"auto_map": {"AutoModelForCausalLM": "m.M"}}))
        oracle = LiveOracle([str(folder)], arith, GREEDY, cache_dir=tmp_path / "cache")
        with pytest.raises(RemoteCodeRefusedError, match="--trust-remote-code"):
            oracle.pull(np.array([0]), np.array([0]))


def test_resume_after_kill(arith, engines, tmp_path):
    """Kill a real evaluation after its second answer lands on disk; the rerun generates only the rest."""
    cache = tmp_path / "cache"
    script = (
        "import numpy as np, sys\n"
        "from recommender.confirm.datasets import load_dataset\n"
        "from recommender.confirm.live import LiveOracle\n"
        "from recommender.confirm.strategies import StrategyConfig\n"
        "ds = load_dataset('arith', limit=6, steps=2, digits=1, seed=1)\n"
        f"o = LiveOracle([{SMOL!r}], ds, StrategyConfig('greedy', max_tokens=48), cache_dir={str(cache)!r},"
        " chunk_size=1, device='cpu')\n"
        "o.pull(np.zeros(6, dtype=int), np.arange(6))\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, env={**os.environ, "PYTHONPATH": str(ROOT)})
    deadline = time.monotonic() + 600
    files: list[Path] = []
    while time.monotonic() < deadline and proc.poll() is None:
        files = list(cache.glob("*.jsonl"))
        if files and len(files[0].read_text().splitlines()) >= 2:
            break
        time.sleep(0.2)
    assert proc.poll() is None, f"the evaluation ended before it could be killed: {proc.stderr.read()[-2000:]}"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    before = files[0].read_text().splitlines()
    assert 2 <= len(before) < 6

    oracle = LiveOracle([SMOL], arith, GREEDY, cache_dir=cache, chunk_size=1, engines=engines)
    oracle.pull(np.zeros(6, dtype=int), np.arange(6))
    after = files[0].read_text().splitlines()
    assert oracle.results[0].fresh == 6 - len(before)  # nothing paid twice
    assert after[: len(before)] == before and len(after) == 6  # nothing lost, nothing duplicated


def test_evaluate_keeps_going_past_a_broken_model(arith, engines, tmp_path):
    rows = evaluate(["no-such-model", SMOL], arith, [GREEDY], cache_dir=tmp_path, engines=engines)
    bad, good = rows
    assert bad.error and "no-such-model" in bad.error and bad.accuracy is None
    assert good.error is None and good.questions == 6 and 0 <= good.accuracy <= 100
    low, high = good.ci95
    assert low <= good.accuracy <= high and good.tokens > 0 and good.seconds > 0
    assert set(good.to_dict()) == {"model", "dataset", "strategy", "n", "questions", "accuracy", "ci95", "tokens",
                                   "seconds", "pareto", "error"}
