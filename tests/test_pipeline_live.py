"""The confirm stage's live path: the PyPI SmolLM2-135M-Instruct (a catalog model that runs here) evaluated by
the live oracle inside `Recommender.recommend` (slow: real generation on the CPU)."""

from __future__ import annotations

import pytest

from recommender.pipeline import Recommender

pytestmark = pytest.mark.slow

SMOLLM2 = "HuggingFaceTB/SmolLM2-135M-Instruct"


def test_live_confirm_measures_the_local_model_and_picks_a_strategy(shortlister, tmp_path, monkeypatch):
    pytest.importorskip("recommender.confirm.live")
    monkeypatch.setenv("GEMFINDER_CACHE_DIR", str(tmp_path / "evaluations"))
    from index import constants

    monkeypatch.setattr(constants, "EVALUATION_CACHE_DIR", tmp_path / "evaluations", raising=False)
    rec = Recommender(shortlister, prior_cache=tmp_path, live_questions=1)
    answer = rec.recommend("SmolLM2 135M instruct model for math, budget 12 queries", k=5, confirm="live")
    assert answer.stages["confirm"].startswith("done"), answer.stages["confirm"]
    pick = next(p for p in answer.picks if p.id == SMOLLM2)
    assert pick.measured is not None and pick.measured.source == "live:gsm8k" and pick.measured.n == 1
    assert pick.measured.tokens > 0 and pick.best_strategy in ("greedy@1", "majority@4")
    assert 0 < answer.spent_queries <= 12 and answer.spent_tokens > 0
