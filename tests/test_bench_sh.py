"""The Sequential Halving replication harness and `gemfinder bench-sh` (small real sub-matrices, few reps)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from evals.bench_sh import (
    BASELINES, ReplicationConfig, ReplicationRow, TreeInstance, baseline_rows, hidden_gems, run_cell,
    target_checks, true_ranks,
)
from recommender.confirm._sampling import BanditEstimator, rank
from recommender.confirm.recorded import full_scores_path, load_full_scores, load_responses
from recommender.confirm.trees import build_trees
from ui.cli.main import main

ROW_KEYS = {"benchmark": str, "tree": str, "n_models": int, "n_questions": int, "queries_per_model": int,
            "algorithm": str, "reps": int, "truth": str, "mean_rank": float, "regret": float, "p_top1pct": float,
            "budget_spent": float}


class _GreedyStandIn(BanditEstimator):
    """A tiny local algorithm (one question per arm, best wins), so the harness is tested on its own."""

    def __init__(self, *, seed=None):
        self.seed = seed

    def _search(self, ledger, rng, prior):
        ledger.pull(np.arange(ledger.n_arms), 1)
        return int(rank(ledger.means(), rng)[0]), (ledger.n_arms,)


class TestDefinitions:
    def test_ranks_share_the_best_rank_on_ties(self):
        assert true_ranks(np.array([50.0, 70.0, 70.0, 10.0])).tolist() == [3, 1, 1, 4]

    def test_hidden_gem_exists(self):
        # 120 models → top ⌈1%⌉ = 2. The two most liked score 60 and 55; model 7 (80) is unpopular and the best.
        truth = np.full(120, 40.0)
        truth[[0, 1, 7, 9]] = [60.0, 55.0, 80.0, 61.0]
        popularity = np.zeros(120)
        popularity[[0, 1]] = [1000, 900]
        gem, popular = hidden_gems(truth, popularity)
        assert np.flatnonzero(popular).tolist() == [0, 1]
        assert np.flatnonzero(gem).tolist() == [7, 9]  # top-2 by truth, both beat every popular model

    def test_no_gem_when_a_popular_model_is_best(self):
        truth = np.array([90.0, 80.0, 70.0])
        gem, _ = hidden_gems(truth, np.array([5.0, 1.0, 0.0]))
        assert not gem.any()

    def test_a_tie_with_a_popular_model_is_no_gem(self):
        truth = np.array([90.0, 90.0, 10.0])  # the unpopular 90 is not *strictly* better
        gem, _ = hidden_gems(truth, np.array([5.0, 1.0, 0.0]))
        assert not gem.any()

    def test_unknown_popularity_is_never_popular(self):
        truth = np.array([10.0, 90.0, 20.0])
        gem, popular = hidden_gems(truth, np.array([np.nan, np.nan, 3.0]))
        assert popular.tolist() == [False, False, True] and gem.tolist() == [False, True, False]

    def test_target_check(self):
        def row(algo, n, regret):
            return ReplicationRow("b", "t", 400, 100, n, algo, 10, "subset", 1.0, regret, 1.0, 1.0, None)

        rows = [row("sequential_halving", 50, 1.0), row("sequential_halving", 5, 3.0), row("accelerated_sh", 10, 1.2),
                row("prior_sh", 10, 1.5), row("accelerated_sh", 5, 3.5), row("prior_sh", 5, 2.5)]
        (check,) = target_checks(rows)
        assert check.fast_n10 == 1.2 and check.passed_n10 and check.fast_n5 == 2.5 and check.passed_n5


@pytest.fixture(scope="module")
def small_tree():
    """150 real models of the GSM8K matrix's mistral-7b tree (with the catalog's popularity)."""
    from evals.bench_sh import catalog_popularity
    from index.catalog import Catalog

    catalog = Catalog.load()
    matrix = load_responses("gsm8k")
    members = build_trees(matrix.model_ids, catalog, mode="auto")["mistral-7b"][::11][:150]
    sub = matrix.rows(members)
    full = load_full_scores(full_scores_path("gsm8k"))
    truths = {"subset": sub.subset_scores(), "full": np.array([full[m.lower()] for m in members])}
    return sub, TreeInstance("gsm8k", "mistral-7b", tuple(members), sub.values, truths,
                             catalog_popularity(members, catalog))


class TestHarness:
    def test_run_cell_with_a_stand_in(self, small_tree):
        _, instance = small_tree
        config = ReplicationConfig(budgets=(5,), reps=4, workers=1)
        rows = run_cell(instance, 5, {"greedy": _GreedyStandIn}, config)
        assert {(r.algorithm, r.truth) for r in rows} == {("greedy", "subset"), ("greedy", "full")}
        for r in rows:
            assert r.reps == 4 and r.n_models == 150 and 1 <= r.mean_rank <= 150 and r.regret >= 0
            assert r.budget_spent == pytest.approx(1 / 5)  # one question per arm out of N = 5
        assert rows == run_cell(instance, 5, {"greedy": _GreedyStandIn}, config)  # seed-reproducible

    def test_baselines(self, small_tree):
        _, instance = small_tree
        rows = {(r.algorithm, r.truth): r for r in baseline_rows(instance, ReplicationConfig(reps=20, workers=1))}
        assert {a for a, _ in rows} == set(BASELINES)
        ex = rows[("exhaustive", "subset")]
        assert ex.regret == 0 and ex.mean_rank == 1 and ex.queries_per_model == instance.n_questions
        assert ex.budget_spent == 1.0
        assert rows[("best_popular", "full")].queries_per_model == 0 and rows[("random", "full")].reps == 20


@pytest.fixture(scope="module")
def sub_matrix_file(small_tree, tmp_path_factory):
    """The 150-model sub-matrix as a user's file; the name is no catalog benchmark, so no prior is fitted."""
    sub, _ = small_tree
    folder = tmp_path_factory.mktemp("bench")
    path = folder / "gsm8ksub_responses_x.csv.gz"
    import pandas as pd

    frame = pd.DataFrame(sub.values, columns=sub.question_ids)
    frame.insert(0, "model", sub.model_ids)
    frame.to_csv(path, index=False)
    full = load_full_scores(full_scores_path("gsm8k"))
    scores = folder / "full.csv"
    pd.DataFrame({"model": sub.model_ids, "score": [full[m.lower()] for m in sub.model_ids]}).to_csv(scores,
                                                                                                      index=False)
    return path, scores


class TestCli:
    def test_end_to_end_json(self, sub_matrix_file, capsys):
        path, scores = sub_matrix_file
        argv = ["bench-sh", "--responses", str(path), "--full-scores", str(scores), "--budgets", "5,10",
                "--reps", "3", "--workers", "1", "--json"]
        assert main(argv) == 0
        captured = capsys.readouterr()
        out = json.loads(captured.out)
        assert set(out) == {"rows"}
        rows = out["rows"]
        from recommender.confirm import ALGORITHMS

        assert {r["algorithm"] for r in rows} == set(ALGORITHMS) | set(BASELINES)
        for r in rows:
            assert set(r) == set(ROW_KEYS) | {"gem_rate"}
            assert all(isinstance(r[k], t) or (t is float and isinstance(r[k], int)) for k, t in ROW_KEYS.items())
            assert r["gem_rate"] is None or 0 <= r["gem_rate"] <= 1
            assert r["benchmark"] == "gsm8ksub" and r["tree"] == "mistral-7b" and r["n_models"] == 150
            assert r["truth"] in ("subset", "full")
            if r["algorithm"] in ALGORITHMS:
                assert r["queries_per_model"] in (5, 10) and r["reps"] == 3 and 0 < r["budget_spent"] <= 1
        exhaustive = {r["truth"]: r for r in rows if r["algorithm"] == "exhaustive"}
        assert exhaustive["subset"]["regret"] == 0 and exhaustive["subset"]["queries_per_model"] == 249
        assert exhaustive["full"]["regret"] >= 0
        assert "bench-sh cells" in captured.err  # progress on stderr

    def test_unknown_models_with_auto_trees(self, tmp_path, capsys):
        path = tmp_path / "mine_responses.csv"
        path.write_text("model,q1,q2\nnobody/a,1,0\nnobody/b,0,1\n")
        assert main(["bench-sh", "--responses", str(path), "--json"]) == 1
        message = json.loads(capsys.readouterr().out)["error"]["message"]
        assert "not in the catalog" in message or "is in the catalog" in message
        assert "--trees none" in message

    def test_trees_none_without_popularity_omits_best_popular(self, tmp_path, capsys):
        rng = np.random.default_rng(0)
        path = tmp_path / "mine_responses.csv"
        lines = ["model," + ",".join(f"q{j}" for j in range(20))]
        lines += [f"nobody/m{i}," + ",".join(map(str, rng.integers(0, 2, 20))) for i in range(12)]
        path.write_text("\n".join(lines) + "\n")
        argv = ["bench-sh", "--responses", str(path), "--trees", "none", "--min-tree", "10", "--budgets", "5",
                "--reps", "2", "--workers", "1", "--json"]
        assert main(argv) == 0
        captured = capsys.readouterr()
        rows = json.loads(captured.out)["rows"]
        assert {r["tree"] for r in rows} == {"all"} and {r["truth"] for r in rows} == {"subset"}
        assert "best_popular" not in {r["algorithm"] for r in rows}
        assert "no best_popular row" in captured.err
        assert all(r["gem_rate"] is None for r in rows)

    def test_bad_budgets(self, sub_matrix_file, capsys):
        path, _ = sub_matrix_file
        assert main(["bench-sh", "--responses", str(path), "--budgets", "5,x", "--json"]) == 1
        assert json.loads(capsys.readouterr().out)["error"]["type"] == "usage"


def test_replay_oracle_refuses_repeats(small_tree):
    from evals.bench_sh import _replay_oracle
    from recommender.confirm.oracle import RepeatedPullError

    sub, _ = small_tree
    oracle = _replay_oracle(sub)
    rewards, costs = oracle.pull(np.array([0, 1]), np.array([3, 3]))
    assert rewards.tolist() == sub.values[[0, 1], [3, 3]].tolist() and costs.tolist() == [1.0, 1.0]
    with pytest.raises(RepeatedPullError):
        oracle.pull(np.array([0]), np.array([3]))  # asked before
    oracle.reset()
    with pytest.raises(RepeatedPullError):
        oracle.pull(np.array([2, 2]), np.array([5, 5]))  # repeated inside one batch


def test_permuted_matrix_keeps_each_answer_with_its_labels():
    from evals.bench_sh import _permuted
    from recommender.confirm.matrix import ResponseMatrix

    values = np.array([[1, 0, 0], [0, 1, 1]], dtype=np.uint8)
    ids, questions = np.array(["a", "b"], dtype=object), np.array(["x", "y", "z"], dtype=object)
    m = _permuted(ResponseMatrix("t", ("a", "b"), ("x", "y", "z"), values), ids, questions,
                  np.array([1, 0]), np.array([2, 0, 1]))
    assert m.model_ids == ("b", "a") and m.question_ids == ("z", "x", "y")
    np.testing.assert_array_equal(m.values, [[1, 0, 1], [0, 1, 0]])
    assert m.n_models == 2 and m.costs is None
