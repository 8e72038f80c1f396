"""``beam_search``: step-level beam search guided by a PRM (Snell et al., 2024; search-and-learn's ``beam_search``).

N beams per question. The first step samples N different opening steps; afterwards the N/M best open beams (by
aggregated PRM score) each expand M next steps, so N beams are alive again. Finished beams (EOS, a final answer, the
length limit) leave the search; it stops once N have finished or after ``max_steps`` steps (the last step runs each
beam to its end). The answer is the PRM-weighted vote over the finished beams.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from recommender.confirm.strategies._base import (
    Solution,
    StrategyConfig,
    _Ledger,
    check_prm,
    root_prompts,
    weighted_vote,
)
from recommender.confirm.strategies._tree import Node, expand

if TYPE_CHECKING:
    from recommender.confirm.datasets import Dataset, Question
    from recommender.confirm.engine import Engine
    from recommender.confirm.prms import PRM


def beam_search(engine: Engine, dataset: Dataset, questions: Sequence[Question], config: StrategyConfig, *,
                prm: PRM | None = None) -> list[Solution]:
    """Answer every question by PRM-guided beam search; each search step is one engine call over all questions.

    Args:
        engine: the loaded model.
        dataset: prompts, answer reader, final-answer test and grader.
        questions: the questions to answer.
        config: ``StrategyConfig("beam_search", n=N, width=M, max_steps=..., aggregation=...)``; N beams, N/M kept.
        prm: the process reward model (required).

    Returns:
        One `Solution` per question; ``generations`` counts every step completion (N on each step).

    Example:
        >>> beam_search(engine, ds, ds.questions[:4], StrategyConfig("beam_search", n=8, width=4), prm=verifier)
    """
    check_prm(config, prm)
    ledger, roots = _Ledger(len(questions)), root_prompts(engine, dataset, questions)
    keep = config.n // config.width
    active: list[list[Node]] = [[Node(i)] for i in range(len(questions))]
    done: list[list[Node]] = [[] for _ in questions]
    for step in range(config.max_steps):
        # 1. expand: N samples from each root on the first step, M from each kept beam afterwards
        nodes = [node for beams in active for node in beams]
        if not nodes:
            break
        children = expand(engine, dataset, prm, questions, roots, nodes, config, ledger,
                          n=config.n if step == 0 else config.width, call=step, last=step == config.max_steps - 1)
        # 2. finished beams leave the search; the N/M best open ones are kept for the next step
        by_question: list[list[Node]] = [[] for _ in questions]
        for node, kids in zip(nodes, children):
            for k, kid in enumerate(kids):
                if step == 0:
                    kid.lineage = k
                (done[kid.question] if kid.done else by_question[kid.question]).append(kid)
        for i, open_beams in enumerate(by_question):
            open_beams.sort(key=lambda b: -b.score)  # stable: equal scores keep sample order
            active[i] = [] if len(done[i]) >= config.n else open_beams[:keep]
    return [_answer(i, q, dataset, ledger, done[i] or active[i]) for i, q in enumerate(questions)]


def _answer(i: int, question: Question, dataset: Dataset, ledger: _Ledger, beams: list[Node]) -> Solution:
    candidates = [b.candidate(dataset, question) for b in beams]
    chosen = weighted_vote(candidates) or (max(candidates, key=lambda c: c.score) if candidates else None)
    if chosen is None:
        return ledger.solution(i, question, None, "", candidates)
    return ledger.solution(i, question, chosen.answer, chosen.text, candidates)
