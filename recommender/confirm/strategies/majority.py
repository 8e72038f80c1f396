"""``majority``: self-consistency (Wang et al., 2023): N sampled solutions per question, the most frequent answer."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from recommender.confirm.strategies._base import (
    Candidate,
    Solution,
    StrategyConfig,
    _Ledger,
    generate,
    root_prompts,
    weighted_vote,
)

if TYPE_CHECKING:
    from recommender.confirm.datasets import Dataset, Question
    from recommender.confirm.engine import Engine
    from recommender.confirm.prms import PRM


def majority(engine: Engine, dataset: Dataset, questions: Sequence[Question], config: StrategyConfig, *,
             prm: PRM | None = None) -> list[Solution]:
    """Sample N solutions per question (one engine call with ``n=N``) and return the majority answer.

    Args:
        engine: the loaded model.
        dataset: prompts, answer reader and grader.
        questions: the questions to answer.
        config: ``StrategyConfig("majority", n=N, temperature=...)``.
        prm: unused.

    Returns:
        One `Solution` per question; ``generations`` is N each; ties go to the answer sampled first.
    """
    ledger = _Ledger(len(questions))
    generations = generate(engine, root_prompts(engine, dataset, questions), config, dataset, n=config.n, call=0)
    solutions = []
    for i, (q, g) in enumerate(zip(questions, generations)):
        ledger.charge(i, g)
        candidates = [Candidate(c.text, dataset.extract(c.text, q)) for c in g.completions]
        winner = weighted_vote(candidates, weighted=False)
        chosen = winner or candidates[0]
        solutions.append(ledger.solution(i, q, chosen.answer, chosen.text, candidates))
    return solutions
