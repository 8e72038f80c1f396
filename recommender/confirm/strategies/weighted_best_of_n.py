"""``weighted_best_of_n``: N sampled solutions, answers voted with their PRM scores as weights.

The "weighted Best-of-N" of search-and-learn (Hugging Face, 2024): identical answers pool their scores, so a
consistent answer beats a single lucky high score.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from recommender.confirm.strategies._base import Solution, StrategyConfig, weighted_vote
from recommender.confirm.strategies.best_of_n import scored_samples

if TYPE_CHECKING:
    from recommender.confirm.datasets import Dataset, Question
    from recommender.confirm.engine import Engine
    from recommender.confirm.prms import PRM


def weighted_best_of_n(engine: Engine, dataset: Dataset, questions: Sequence[Question], config: StrategyConfig, *,
                       prm: PRM | None = None) -> list[Solution]:
    """Sample N solutions per question and return the answer with the largest summed PRM score.

    Args:
        engine: the loaded model.
        dataset: prompts, answer reader and grader.
        questions: the questions to answer.
        config: ``StrategyConfig("weighted_best_of_n", n=N, aggregation=...)``.
        prm: the process reward model (required).

    Returns:
        One `Solution` per question; ``generations`` is N each.
    """
    ledger, candidates = scored_samples(engine, dataset, questions, config, prm)
    solutions = []
    for i, (q, cands) in enumerate(zip(questions, candidates)):
        chosen = weighted_vote(cands) or max(cands, key=lambda c: c.score)
        solutions.append(ledger.solution(i, q, chosen.answer, chosen.text, cands))
    return solutions
