"""Offline evaluation (evals.recommend): query files, metrics on hand-computed examples, the leave-target-out
protocol (a planted target score must never reach what the systems see), and ``gemfinder eval``."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from evals.recommend import metrics
from evals.recommend.protocol import HIDDEN, hide_benchmark, scrub_card
from evals.recommend.queries import load_queries, parse_line
from index.errors import QueryFileError

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ROOT / "evals" / "queries" / "recommend.jsonl"
TINY = Path(__file__).parent / "fixtures" / "eval_tiny.jsonl"


# Query files -------------------------------------------------------------------------------------------------------


class TestQueryFile:
    def test_valid_line(self):
        case = parse_line('{"query": "math model under 3B", "truth": {"benchmark": "gsm8k", "filters": '
                          '{"params_max_b": 3, "license": ["Apache-2.0"], "family": "Llama", "instruct": true}}}', 4)
        assert (case.line, case.benchmark, case.task) == (4, "gsm8k", "math")
        assert case.filters.license == ("apache-2.0",) and case.filters.family == "llama"
        assert case.filters.params_max_b == 3 and case.filters.instruct is True

    @pytest.mark.parametrize("line, fragment", [
        ('{"query": "x", "truth": {"benchmark": "gsm9k"}}', "unknown benchmark \"gsm9k\""),
        ('{"query": "x", "truth": {"benchmark": "gsm8k", "filters": {"size": 7}}}', r"unknown filter key\(s\) \['size'\]"),
        ('{"query": "x", "truth": {"benchmark": "gsm8k", "filters": {"params_max_b": "7"}}}', "must be a number"),
        ('{"query": "x", "truth": {"benchmark": "gsm8k", "filters": {"license": "mit"}}}', "must be a list of strings"),
        ('{"query": "x", "truth": {"benchmark": "gsm8k", "filters": {"instruct": "yes"}}}', "must be a bool"),
        ('{"query": "x", "truth": {"benchmark": "gsm8k", "filters": {"params_max_b": true}}}', "must be a number"),
        ('{"query": "x", "truth": {"benchmark": "gsm8k", "filters": {"params_min_b": 9, "params_max_b": 3}}}',
         "params_min_b"),
        ('{"query": "x", "truth": {"benchmark": "gsm8k", "task": "code"}}', "does not measure task 'code'"),
        ('{"query": "", "truth": {"benchmark": "gsm8k"}}', "'query' must be a non-empty string"),
        ('{"query": "x", "truth": {"benchmark": "gsm8k"}, "answer": 1}', "unknown \\['answer'\\]"),
        ('{"query": "x", "truth": {"benchmark": "gsm8k"', "not valid JSON"),
    ])
    def test_errors_name_the_line(self, tmp_path, line, fragment):
        path = tmp_path / "q.jsonl"
        path.write_text('{"query": "ok", "truth": {"benchmark": "arc"}}\n\n' + line + "\n", encoding="utf-8")
        with pytest.raises(QueryFileError, match=fragment) as err:
            load_queries(path)
        assert err.value.line == 3 and "line 3" in str(err.value)

    def test_missing_and_empty_files(self, tmp_path):
        with pytest.raises(QueryFileError, match="does not exist"):
            load_queries(tmp_path / "nope.jsonl")
        (tmp_path / "empty.jsonl").write_text("\n\n", encoding="utf-8")
        with pytest.raises(QueryFileError, match="holds no request"):
            load_queries(tmp_path / "empty.jsonl")

    def test_shipped_set(self, shipped_catalog):
        from search.filters import filter_mask

        cases = load_queries(SHIPPED)
        assert len(cases) >= 60
        areas = {"math", "reasoning", "knowledge", "instruction_following", "truthfulness", "science", "code",
                 "medical"}
        assert areas <= {c.task for c in cases}
        f = [c.filters for c in cases]
        assert sum(x.params_max_b is not None for x in f) >= 20 and sum(x.license is not None for x in f) >= 10
        assert sum(x.family is not None for x in f) >= 15 and len({c.query for c in cases}) == len(cases)
        frame = shipped_catalog.frame
        for c in cases:  # every request has someone to find
            scored = frame[f"score.{c.benchmark}"].notna().to_numpy()
            assert (filter_mask(frame, c.filters) & scored).sum() >= 5, c.query


# Metrics (hand-computed) ---------------------------------------------------------------------------------------------


class TestMetrics:
    # rows 0..4; row 2 is outside the eligible set (fails a true filter or has no score)
    truth = np.array([70.0, 50.0, np.nan, 60.0, 40.0])

    def test_ndcg(self):
        # picks 3, 0, 2 → gains 60, 70, 0; ideal 70, 60, 50
        expected = (60 + 70 / math.log2(3) + 0) / (70 + 60 / math.log2(3) + 50 / 2)
        assert metrics.ndcg_at_k(np.array([3, 0, 2, 1]), self.truth, k=3) == pytest.approx(expected)
        assert expected == pytest.approx(0.78405, abs=1e-5)
        assert metrics.ndcg_at_k(np.array([0, 3, 1, 4]), self.truth, k=10) == pytest.approx(1.0)

    def test_ndcg_matches_sklearn(self):
        from sklearn.metrics import ndcg_score

        ranking = np.array([4, 3, 2, 0, 1])
        y_true = np.nan_to_num(self.truth)[None, :]
        y_score = np.zeros((1, 5))
        y_score[0, ranking] = np.arange(5, 0, -1)
        for k in (1, 2, 3, 5):
            assert metrics.ndcg_at_k(ranking, self.truth, k) == pytest.approx(ndcg_score(y_true, y_score, k=k))

    def test_regret(self):
        assert metrics.top1_regret(np.array([3, 0]), self.truth) == pytest.approx(10.0)
        assert metrics.top1_regret(np.array([0]), self.truth) == 0.0
        assert metrics.top1_regret(np.array([2]), self.truth) == pytest.approx(70.0)  # ineligible pick gains 0

    def test_recall(self):
        assert metrics.recall_at_k(np.array([3, 1]), self.truth, k=2) == pytest.approx(0.5)  # top 2 = {0, 3}
        assert metrics.recall_at_k(np.array([0, 3, 1, 4]), self.truth, k=10) == pytest.approx(1.0)  # 4 eligible
        tied = np.array([70.0, 60.0, 60.0, 50.0])  # cut at 60: {0, 1, 2} are all "top 2"
        assert metrics.recall_at_k(np.array([2, 3]), tied, k=2) == pytest.approx(0.5)

    def test_gem_hit(self):
        truth = np.array([50.0, 60.0, 70.0, np.nan])
        popularity = np.array([100.0, 1.0, 2.0, 1000.0])  # the 1000 is outside the eligible set
        # K = 3 eligible → top 1%: one model. Popular: row 0 (50); gem: row 2 (70, top score, > 50, not popular).
        assert metrics.gem_hit(np.array([2, 0]), truth, popularity) is True
        assert metrics.gem_hit(np.array([1, 2]), truth, popularity) is False
        # the popular model is the best: no gem, so no verdict
        assert metrics.gem_hit(np.array([1]), np.array([70.0, 60.0]), np.array([100.0, 1.0])) is None

    def test_empty_eligible_set_is_refused(self):
        with pytest.raises(ValueError, match="eligible set is empty"):
            metrics.ndcg_at_k(np.array([0]), np.array([np.nan, np.nan]))


# Leave target out ----------------------------------------------------------------------------------------------------


def test_scrub_card():
    assert scrub_card("GSM8K: 54.3, MMLU 60.1", "gsm8k", None) == f"GSM8K: {HIDDEN}, MMLU 60.1"
    assert scrub_card("| score | 72.31 |", "gsm8k", 72.31) == f"| score | {HIDDEN} |"
    assert scrub_card("We reach GSM8K 61.5.", "gsm8k", None) == f"We reach GSM8K {HIDDEN}."
    # sizes, licences and repo names are not scores
    text = "TinyLlama-1.1B, apache-2.0, gsm8k-3 data, a 7.1B model"
    assert scrub_card(text, "gsm8k", 7.1) == text


SENTINEL = 99.123


def _small_world(catalog, store, *, sentinel: bool):
    """~1,600 real rows (v1 and v2 models), their real vectors, one card quoting its gsm8k score; optionally every
    gsm8k score replaced by a planted sentinel (and the quoted one too)."""
    from index.catalog import Catalog
    from index.store import VectorStore
    from index.vectors import embedding_text, text_hash

    frame = catalog.frame
    v1 = np.flatnonzero(frame["score.gsm8k"].notna() & (frame["family"] == "mistral"))[:1200]
    v2 = np.flatnonzero(frame["score.math_lvl5"].notna())[:400]
    rows = np.unique(np.concatenate([v1, v2]))
    sub = frame.iloc[rows].reset_index(drop=True).copy()
    quoted = int(np.flatnonzero(sub["score.gsm8k"].notna())[0])
    value = SENTINEL if sentinel else float(sub.at[quoted, "score.gsm8k"])
    sub.at[quoted, "card_text"] = f"{sub.at[quoted, 'card_text']} Results: GSM8K {value:.2f}."
    if sentinel:
        sub.loc[sub["score.gsm8k"].notna(), "score.gsm8k"] = SENTINEL
    small = Catalog(sub)
    hashes = np.array([text_hash(embedding_text(i, t)) for i, t in zip(sub["id"], sub["card_text"].fillna(""))],
                      dtype=np.uint64)
    vectors = VectorStore.build(store.vectors[rows], model=store.header.model,
                                catalog_fingerprint=small.fingerprint(), text_hashes=hashes)
    return small, vectors


def _answers(catalog, store, embedder):
    from evals.recommend import SYSTEMS, EvalConfig, EvalContext, QueryCase
    from recommender.confirm.recorded import load_responses
    from search.query import Constraints

    matrix = load_responses("gsm8k")
    ids = [m for m in catalog.frame["id"] if m.lower() in {x.lower() for x in matrix.model_ids}]
    ctx = EvalContext(catalog, store, embedder, oracles={"gsm8k": matrix.rows(ids)},
                      prior_params={"max_iter": 30, "n_folds": 2})
    config = EvalConfig(budget_per_model=10, confirm_k=8)
    answers, truths = {}, []
    for text in ("best 7B model for grade-school math", "mistral model that is good at arithmetic, apache-2.0",
                 "which model should I use"):
        case = QueryCase(1, text, "gsm8k", Constraints(), "math")
        request, truth = ctx.request(case, config)
        truths.append(truth)
        for name, system in SYSTEMS.items():
            answers[text, name] = system(request, config).ranking[:10].tolist()
        views = [request.view]
    return answers, truths, ctx, views


def test_target_scores_never_reach_the_systems(shipped_catalog, embedder):
    """Plant a sentinel as every model's gsm8k score (and in a card): every system must answer exactly as before,
    and the sentinel must appear nowhere the systems read — only in the harness's truth."""
    from index.vectors import open_vector_store

    store = open_vector_store(shipped_catalog, embedder=embedder)
    real, real_store = _small_world(shipped_catalog, store, sentinel=False)
    planted, planted_store = _small_world(shipped_catalog, store, sentinel=True)

    answers_real, truth_real, _, _ = _answers(real, real_store, embedder)
    answers_planted, truth_planted, ctx, views = _answers(planted, planted_store, embedder)

    # the harness does see the planted values (so the two runs really differ) …
    assert np.nanmax(truth_planted[0]) == SENTINEL and np.nanmax(truth_real[0]) != SENTINEL
    # … but no system's answer moves, and the sentinel is nowhere in what they read
    assert answers_planted == answers_real
    view = ctx.held_out("gsm8k").view
    assert view.frame["score.gsm8k"].isna().all() and view.frame["source.gsm8k"].isna().all()
    numeric = view.frame[[c for c in view.frame.columns if c.startswith("score.")]].to_numpy(dtype=float)
    assert not np.isclose(numeric, SENTINEL).any()
    assert not view.frame["card_text"].fillna("").str.contains("99.12").any()
    assert ctx.retriever("gsm8k").catalog is view
    for (target, _), prior in ctx._priors.items():
        if prior is not None:
            assert target not in prior.feature_benchmarks_ and target not in prior.models_
    assert ctx.prior("gsm8k", "gsm8k") is None


def test_hide_benchmark_keeps_rows(shipped_catalog):
    view, _ = hide_benchmark(shipped_catalog, "ifeval")
    assert len(view) == len(shipped_catalog) and view.frame["score.ifeval"].isna().all()
    assert view.frame["score.bbh"].notna().sum() == shipped_catalog.frame["score.bbh"].notna().sum()


# gemfinder eval ------------------------------------------------------------------------------------------------------


def test_cli_eval_json(tmp_path, capsys):
    from ui.cli.main import main

    code = main(["eval", "--queries", str(TINY), "--budget-per-model", "10", "--out", str(tmp_path), "--json"])
    out = capsys.readouterr().out
    assert code == 0 and out.count("\n") == 1
    obj = json.loads(out)
    assert obj["queries"] == 3 and 0.0 <= obj["parse_accuracy"] <= 1.0
    names = [s["name"] for s in obj["systems"]]
    assert names == ["gemfinder", "gemfinder_no_confirm", "gemfinder_exhaustive", "dense_only",
                     "other_benchmarks_mean", "popularity", "keyword_popularity", "random"]
    by = {s["name"]: s for s in obj["systems"]}
    for s in obj["systems"]:
        assert set(s) == {"name", "ndcg@10", "regret@1", "recall@10", "gem_hit_rate", "queries_spent"}
        assert 0.0 <= s["ndcg@10"] <= 1.0 and s["regret@1"] >= 0.0
    # only gemfinder pays for evaluation; the recorded gsm8k and truthfulqa requests are confirmed
    assert by["gemfinder"]["queries_spent"] > 0 and by["popularity"]["queries_spent"] == 0
    assert by["gemfinder_exhaustive"]["queries_spent"] > by["gemfinder"]["queries_spent"]
    written = {p.name for p in tmp_path.iterdir()}
    assert {"eval_eval_tiny.md", "eval_eval_tiny.json", "eval_eval_tiny_regret_budget.png",
            "eval_eval_tiny_per_task.png"} <= written


def test_cli_eval_errors(tmp_path, capsys):
    from ui.cli.main import main

    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"query": "x", "truth": {"benchmark": "gsm8k", "filters": {"params_max_b": "7"}}}\n')
    assert main(["eval", "--queries", str(bad), "--json"]) == 1
    err = json.loads(capsys.readouterr().out)["error"]
    assert err["type"] == "invalid_query_file" and "line 1" in err["message"]
    assert main(["eval", "--queries", str(TINY), "--responses", str(tmp_path / "none"), "--json"]) == 1
    err = json.loads(capsys.readouterr().out)["error"]
    assert err["type"] == "usage" and "is not a folder" in err["message"]
    with pytest.raises(SystemExit) as exit_:
        main(["eval", "--queries", str(TINY), "--budget-per-model", "-3", "--json"])
    assert exit_.value.code == 2 and json.loads(capsys.readouterr().out)["error"]["type"] == "usage"


def test_load_oracles_from_a_folder(tmp_path):
    from evals.recommend import load_oracles
    from index.errors import UsageError

    (tmp_path / "truthfulqa_responses_mine.csv").write_text("model,q1,q2\norg/a,1,0\norg/b,0,0\n", encoding="utf-8")
    (tmp_path / "notes.txt").write_text("not a matrix", encoding="utf-8")
    oracles = load_oracles(tmp_path, shipped=False)
    assert list(oracles) == ["truthfulqa"] and oracles["truthfulqa"].values.tolist() == [[1, 0], [0, 0]]
    (tmp_path / "wikitext_responses.csv").write_text("model,q1\norg/a,1\n", encoding="utf-8")
    with pytest.raises(UsageError, match="names benchmark 'wikitext'"):
        load_oracles(tmp_path, shipped=False)


def test_constraints_match():
    from evals.recommend import constraints_match
    from search.query import Constraints

    truth = Constraints(params_min_b=5.95, params_max_b=8.05, license=("mit", "apache-2.0"))
    assert constraints_match(Constraints(params_min_b=5.9, params_max_b=8.1, license=("apache-2.0", "mit")), truth)
    assert not constraints_match(Constraints(params_min_b=5.0, params_max_b=8.1, license=("mit", "apache-2.0")), truth)
    assert not constraints_match(Constraints(params_min_b=5.95, params_max_b=8.05), truth)
    assert not constraints_match(Constraints(params_min_b=5.95, params_max_b=8.05, license=("mit", "apache-2.0"),
                                             instruct=True), truth)
