"""``best_of_n``: N sampled solutions per question, the one the PRM scores highest.

Scoring follows search-and-learn (``sal/search/best_of_n.py``): each solution is split into steps at blank lines, the
PRM scores every step, and the step scores are aggregated (``last`` / ``min`` / ``prod``) into the solution score.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from recommender.confirm.strategies._base import (
    Candidate,
    Solution,
    StrategyConfig,
    _Ledger,
    aggregate,
    check_prm,
    generate,
    root_prompts,
    score_candidates,
    split_steps,
)

if TYPE_CHECKING:
    from recommender.confirm.datasets import Dataset, Question
    from recommender.confirm.engine import Engine
    from recommender.confirm.prms import PRM


def scored_samples(engine: Engine, dataset: Dataset, questions: Sequence[Question], config: StrategyConfig,
                   prm: PRM) -> tuple[_Ledger, list[list[Candidate]]]:
    """N samples per question (one engine call), each scored by the PRM (one batched PRM call)."""
    check_prm(config, prm)
    ledger = _Ledger(len(questions))
    generations = generate(engine, root_prompts(engine, dataset, questions), config, dataset, n=config.n, call=0)
    for i, g in enumerate(generations):
        ledger.charge(i, g)
    steps = [[split_steps(c.text) for c in g.completions] for g in generations]
    scores = score_candidates(prm, questions, steps, ledger, range(len(questions)))
    candidates = [
        [Candidate(c.text, dataset.extract(c.text, q), aggregate(s, config.aggregation))
         for c, s in zip(g.completions, per_q)]
        for q, g, per_q in zip(questions, generations, scores)
    ]
    return ledger, candidates


def best_of_n(engine: Engine, dataset: Dataset, questions: Sequence[Question], config: StrategyConfig, *,
              prm: PRM | None = None) -> list[Solution]:
    """Sample N solutions per question and keep the highest-scored one.

    Args:
        engine: the loaded model.
        dataset: prompts, answer reader and grader.
        questions: the questions to answer.
        config: ``StrategyConfig("best_of_n", n=N, aggregation=...)``.
        prm: the process reward model (required).

    Returns:
        One `Solution` per question; ``generations`` is N each.

    Raises:
        ValueError: no PRM was given.
    """
    ledger, candidates = scored_samples(engine, dataset, questions, config, prm)
    solutions = []
    for i, (q, cands) in enumerate(zip(questions, candidates)):
        best = max(cands, key=lambda c: c.score)  # the first of equal scores: deterministic
        solutions.append(ledger.solution(i, q, best.answer, best.text, cands))
    return solutions
