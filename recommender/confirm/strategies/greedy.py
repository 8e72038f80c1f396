"""``greedy``: one temperature-0 completion per question; its final answer is the answer."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from recommender.confirm.strategies._base import Candidate, Solution, StrategyConfig, _Ledger, generate, root_prompts

if TYPE_CHECKING:
    from recommender.confirm.datasets import Dataset, Question
    from recommender.confirm.engine import Engine
    from recommender.confirm.prms import PRM


def greedy(engine: Engine, dataset: Dataset, questions: Sequence[Question], config: StrategyConfig, *,
           prm: PRM | None = None) -> list[Solution]:
    """Answer every question with one greedy completion (one batched engine call).

    Args:
        engine: the loaded model.
        dataset: prompts, answer reader and grader.
        questions: the questions to answer.
        config: ``StrategyConfig("greedy")``; only ``max_tokens`` matters.
        prm: unused (accepted so every strategy has one signature).

    Returns:
        One `Solution` per question, in order; ``generations`` is 1 each.

    Example:
        >>> sols = greedy(engine, ds, ds.questions[:8], StrategyConfig("greedy", max_tokens=128))
    """
    ledger = _Ledger(len(questions))
    generations = generate(engine, root_prompts(engine, dataset, questions), config, dataset, n=1, call=0,
                           greedy=True)
    solutions = []
    for i, (q, g) in enumerate(zip(questions, generations)):
        ledger.charge(i, g)
        text = g.completions[0].text
        answer = dataset.extract(text, q)
        solutions.append(ledger.solution(i, q, answer, text, [Candidate(text, answer)]))
    return solutions
