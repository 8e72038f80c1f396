"""``dvts``: diverse verifier tree search (Beeching, Tunstall & Rush, "Scaling test-time compute with open models",
Hugging Face 2024; search-and-learn's ``diverse_verifier_tree_search``).

Beam search spends its budget on a few high-scoring prefixes and loses diversity; DVTS splits the budget N into N/M
independent subtrees. Each subtree expands M candidate next steps from its own prefix and greedily keeps the one the
PRM scores best (aggregated over the steps so far); a subtree ends when that step ends the solution (EOS, a final
answer, the length limit) or after ``max_steps`` steps (the last step runs to the end). The leaves are the M
candidates of each subtree's last expansion (N in all, as in search-and-learn), and the answer is the PRM-weighted
vote over the finished leaves. Subtrees share nothing: not a prefix, a score, or a choice.
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


def dvts(engine: Engine, dataset: Dataset, questions: Sequence[Question], config: StrategyConfig, *,
         prm: PRM | None = None) -> list[Solution]:
    """Answer every question by DVTS; each search step is one engine call over all open subtrees of all questions.

    Args:
        engine: the loaded model.
        dataset: prompts, answer reader, final-answer test and grader.
        questions: the questions to answer.
        config: ``StrategyConfig("dvts", n=N, width=M)`` (M = 4 by default); N/M subtrees per question.
        prm: the process reward model (required).

    Returns:
        One `Solution` per question with its N leaves as ``candidates`` (``Candidate.subtree`` names the subtree).

    Example:
        >>> dvts(engine, ds, ds.questions[:4], StrategyConfig("dvts", n=16, width=4), prm=verifier)
    """
    check_prm(config, prm)
    ledger, roots = _Ledger(len(questions)), root_prompts(engine, dataset, questions)
    m, n_subtrees = config.width, config.n // config.width
    # subtree k of question i; `leaves` holds each subtree's latest M candidates
    subtrees = [Node(i, lineage=k) for i in range(len(questions)) for k in range(n_subtrees)]
    leaves: dict[tuple[int, int], list[Node]] = {}
    for step in range(config.max_steps):
        last = step == config.max_steps - 1
        open_trees = [t for t in subtrees if not t.done]
        if not open_trees:
            break
        if step == 0:
            # 1a. the subtrees share only the question: sample all N first steps from one prompt per question
            # (n=N), then deal M to each subtree; the same as M per subtree, with one prompt instead of N/M
            roots_only = [Node(i) for i in range(len(questions))]
            firsts = expand(engine, dataset, prm, questions, roots, roots_only, config, ledger, n=config.n,
                            call=step, last=last)
            children = [firsts[t.question][t.lineage * m : (t.lineage + 1) * m] for t in open_trees]
        else:
            # 1b. each open subtree expands M candidates from its own prefix
            children = expand(engine, dataset, prm, questions, roots, open_trees, config, ledger, n=m, call=step,
                              last=last)
        # 2. each subtree greedily keeps its best-scored candidate; it ends when that candidate ends
        for tree, kids in zip(open_trees, children):
            for kid in kids:
                kid.lineage = tree.lineage
            leaves[(tree.question, tree.lineage)] = kids
            best = max(kids, key=lambda k: k.score)  # first of equal scores: deterministic
            tree.text, tree.steps, tree.score, tree.done = best.text, list(best.steps), best.score, best.done
    solutions = []
    for i, q in enumerate(questions):
        nodes = [leaf for k in range(n_subtrees) for leaf in leaves.get((i, k), [])]
        candidates = [node.candidate(dataset, q) for node in nodes]
        chosen = weighted_vote([c for c in candidates if c.finished]) or weighted_vote(candidates)
        solutions.append(ledger.solution(i, q, chosen.answer if chosen else None, chosen.text if chosen else "",
                                         candidates))
    return solutions
