"""The Recommender pipeline over the shipped catalog, vectors, prior and recorded matrices (recommender.pipeline)."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from index.errors import InvalidBudgetError, NoCandidatesError
from recommender.pipeline import Recommender
from recommender.records import STAGES, Recommendation, StageEvent, wilson_interval
from search.query import parse_query

MATH = "best 7B model for grade-school math with an apache-2.0 license"


@pytest.fixture(scope="session")
def prior_dir(prior_cache_dir):
    return prior_cache_dir


@pytest.fixture(scope="session")
def rec(shortlister, prior_dir):
    return Recommender(shortlister, prior_cache=prior_dir)


@pytest.fixture(scope="session")
def math_events(rec):
    events: list[StageEvent] = []
    answer = rec.recommend(MATH, k=5, budget=600, on_event=events.append)
    return answer, events


class TestRecommend:
    def test_stages_run_in_order_and_confirm_spends_within_budget(self, math_events):
        answer, events = math_events
        finished = [e.stage for e in events if e.status in ("done", "skipped")]
        assert finished == list(STAGES)
        assert answer.stages["confirm"].startswith("done")
        assert 0 < answer.spent_queries <= 600
        progress = [e for e in events if e.status == "progress"]
        assert progress and progress[-1].done == answer.spent_queries and 0 < progress[-1].fraction <= 1

    def test_picks_carry_evidence(self, math_events, shortlister):
        answer, _ = math_events
        assert 1 <= len(answer.picks) <= 5 and [p.rank for p in answer.picks] == list(range(1, len(answer.picks) + 1))
        catalog = shortlister.catalog
        for p in answer.picks:
            record = catalog.get(p.id)
            assert record.license == "apache-2.0" and 5.9 <= record.params_b <= 8.1
            assert p.prediction is not None and set(p.prediction.per_benchmark) <= {"gsm8k", "math_lvl5"}
            for s in p.known_scores:
                assert record.scores[s.benchmark].value == pytest.approx(s.value) and s.source
            assert p.why_retrieved and p.gem_reason
        measured = [p for p in answer.picks if p.measured is not None]
        assert measured, "the confirmed best must be measured"
        first = answer.picks[0].measured
        assert first is not None and first.source == "recorded:gsm8k"
        assert first.interval[0] <= first.accuracy <= first.interval[1] and first.n == answer.picks[0].queries

    def test_ranks_every_eligible_model_and_orders_confirmed_arms_by_measurement(self, rec):
        # A pool of 2 retrieved candidates: the predicted order still covers every eligible model.
        small = Recommender(rec.shortlister, prior_cache=False, pool=2, confirm_pool=6)
        small.predictor = rec.predictor
        none = small.recommend(MATH, k=20, confirm="none")
        assert len(none.picks) == 20
        eligible = np.flatnonzero(small.eligible_mask(parse_query(MATH)))
        vote = small.task_vote("math", eligible)
        rows = [small.catalog.row(p.id) for p in none.picks]
        got = small.task_vote("math", np.array(rows))
        assert list(got) == sorted(got, reverse=True) and got[0] == np.nanmax(vote)
        assert all(p.prediction is not None for p in none.picks)
        # Exhaustive: every question of the matrix asked of the raced arms, which lead in measured order.
        full = small.recommend(MATH, k=20, confirm="exhaustive")
        measured = [p for p in full.picks if p.measured is not None]
        assert 2 <= len(measured) <= 6 and all(p.measured is not None for p in full.picks[: len(measured)])
        assert all(p.measured.n == measured[0].measured.n for p in measured)
        accuracy = [p.measured.accuracy for p in full.picks[: len(measured)]]
        assert accuracy == sorted(accuracy, reverse=True)
        assert full.spent_queries == sum(p.measured.n for p in measured)

    def test_a_pick_ranked_by_prediction_says_what_it_is_ranked_on(self, rec):
        # Retrieval keeps 2 candidates, so most picks come from the task vote alone; their reason names its parts.
        small = Recommender(rec.shortlister, prior_cache=False, pool=2)
        small.predictor = rec.predictor
        answer = small.recommend("medical QA model under 8B", k=8, confirm="none")
        by_vote = [p for p in answer.picks if p.why_retrieved.startswith("not a text match; ranked among")]
        assert len(by_vote) >= 6
        for p in by_vote:
            row = small.catalog.row(p.id)
            parts = dict((b, (int(pct), how)) for b, pct, how in
                         re.findall(r"(\w+) (\d+)(?:st|nd|rd|th) percentile \((known|predicted)\)", p.why_retrieved))
            assert set(parts) <= {"mmlu_medical", "medqa"} and "mmlu_medical" in parts
            known = {s.benchmark for s in p.known_scores}
            for b, (pct, how) in parts.items():
                assert (how == "known") == (b in known)
                assert pct == min(99, max(1, round(float(small._benchmark_vote(b)[row]))))
            general = re.search(r"general capability (\d+)\w\w percentile \((\d+) known scores?\)", p.why_retrieved)
            assert general and int(general.group(1)) == min(99, max(1, round(float(small.general_vote([row])[0]))))

    def test_to_dict_is_json(self, math_events):
        answer, _ = math_events
        data = json.loads(json.dumps(answer.to_dict(), allow_nan=False))
        assert data["task"] == "math" and data["budget"]["queries"] == 600 and len(data["picks"]) == len(answer.picks)

    def test_an_unspent_stated_budget_gets_the_command_that_spends_it(self, rec):
        # No medical matrix is recorded and no 8B model runs here: the stated budget goes unspent, and the note
        # says how to spend it on the top picks elsewhere.
        answer = rec.recommend("best 8B model for medical QA, spend at most 2,000 evaluation questions", k=5)
        assert answer.spent_queries == 0 and answer.stages["confirm"].startswith("skipped")
        note = next(n for n in answer.notes if n.startswith("Your budget of 2,000 evaluation queries was not spent"))
        command = re.search(r"`gemfinder evaluate --models (.+) --dataset (\S+) --questions (\d+) --engine vllm`",
                            note)
        assert command and command.group(2) == "medqa" and int(command.group(3)) == 500
        assert command.group(1).split() == [p.id for p in answer.picks[:4]]
        # the default budget was not asked for, so nothing is owed
        assert not any("was not spent" in n for n in rec.recommend("best 8B model for medical QA", k=5).notes)

    def test_stream_yields_events_then_the_answer(self, rec):
        items = list(rec.stream("medical QA model under 3B", k=3))
        assert all(isinstance(i, StageEvent) for i in items[:-1]) and isinstance(items[-1], Recommendation)
        answer = items[-1]
        assert answer.task == "medical" and answer.stages["confirm"].startswith("skipped")
        assert "no recorded response matrix" in answer.stages["confirm"]

    def test_money_budget_is_converted_with_stated_assumptions(self, rec):
        answer = rec.recommend("best 7B math model, $1 of evaluation", k=3)
        assert answer.budget.stated == "$1" and answer.budget.queries > 0
        assert any("per GPU-hour" in n for n in answer.notes)

    def test_fine_tune_intent_points_to_finetune_select(self, rec):
        answer = rec.recommend("which 8B base model should I fine-tune for code", k=3, confirm=False)
        assert any("finetune-select" in n for n in answer.notes)
        assert answer.stages["confirm"].startswith("skipped")


class TestBadInput:
    @pytest.mark.parametrize("budget", [0, -5])
    def test_budget_must_buy_a_query(self, rec, budget):
        with pytest.raises(InvalidBudgetError, match="cannot be used"):
            rec.recommend(MATH, budget=budget)

    def test_negative_budget_in_text(self, rec):
        with pytest.raises(InvalidBudgetError, match="negative"):
            rec.recommend("best math model, budget -20 queries")

    def test_stream_raises_after_events(self, rec):
        with pytest.raises(NoCandidatesError):
            list(rec.stream("math model under 1B with at least 0.9B parameters, license gpl-2.0, family falcon"))

    def test_missing_questions_file(self, rec, tmp_path):
        from index.errors import QuestionFileError

        with pytest.raises(QuestionFileError, match="no such file"):
            rec.recommend(MATH, questions=tmp_path / "nope.jsonl")

    def test_bad_confirm_mode(self, rec):
        with pytest.raises(ValueError, match="confirm mode"):
            rec.recommend(MATH, confirm="sometimes")


class TestInjection:
    def test_a_hidden_benchmark_is_neither_known_nor_raced(self, shortlister, prior_dir):
        from index.catalog import Catalog
        from recommender.shortlist import Shortlister

        frame = shortlister.catalog.frame.copy()
        frame[["score.gsm8k", "source.gsm8k", "date.gsm8k"]] = None
        hidden = Catalog(frame)
        hidden_shortlister = Shortlister(type(shortlister.retriever)(hidden, shortlister.retriever.store,
                                                                     shortlister.retriever.embedder))
        rec = Recommender(hidden_shortlister, oracles={}, prior_cache=False)
        answer = rec.recommend(MATH, k=5)
        assert answer.stages["confirm"].startswith("skipped")
        for p in answer.picks:
            assert all(s.benchmark != "gsm8k" for s in p.known_scores)
            assert "gsm8k" not in p.prediction.per_benchmark  # unfittable without any gsm8k score


def test_prior_cache_round_trip(shipped_catalog, tmp_path):
    from recommender._prior import TaskPredictor

    rows = np.arange(0, 2000, 97)
    first = TaskPredictor(shipped_catalog, cache_dir=tmp_path)
    a = first.predict_rows(rows, ("math_lvl5",))
    assert first.fit_seconds > 0 and list(tmp_path.glob("prior-math_lvl5-*.joblib"))
    second = TaskPredictor(shipped_catalog, cache_dir=tmp_path)
    b = second.predict_rows(rows, ("math_lvl5",))
    assert second.fit_seconds == 0 and a == b


def test_wilson_interval():
    low, high = wilson_interval(8, 10)
    assert (low, high) == (49.02, 94.33)
    assert wilson_interval(0, 0) == (0.0, 100.0)


@pytest.mark.parametrize(("value", "text"), [(0.2, "1st"), (2, "2nd"), (3.4, "3rd"), (4, "4th"), (11, "11th"),
                                             (12, "12th"), (13, "13th"), (21, "21st"), (42, "42nd"), (99.9, "99th")])
def test_percentiles_read_as_ordinals(value, text):
    from recommender.pipeline import _ordinal

    assert _ordinal(value) == text


def test_a_task_mean_does_not_depend_on_the_rows_predicted_with_it(rec):
    # medqa has 28 known scores, too few for a prior: it is left out of every row's medical mean, so a model with
    # a known MedQA (harder than mmlu_medical) is compared with its neighbours over mmlu_medical alone.
    phi = rec.catalog.row("microsoft/Phi-3-small-8k-instruct")
    other = rec.catalog.row("FINGU-AI/Chocolatine-Fusion-14B")
    alone = rec.predictor.predict_rows(np.array([phi]), ("mmlu_medical", "medqa"))[0]
    together = rec.predictor.predict_rows(np.array([phi, other]), ("mmlu_medical", "medqa"))[0]
    assert alone == together
    assert alone.mean == pytest.approx(79.9, abs=0.05) and set(alone.per_benchmark) == {"mmlu_medical"}
    assert {s.benchmark for s in rec.predictor.known(phi, ("mmlu_medical", "medqa"))} == {"mmlu_medical", "medqa"}
