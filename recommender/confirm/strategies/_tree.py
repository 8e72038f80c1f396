"""Step-level search shared by beam search and DVTS: a partial solution (`Node`) and one batched expansion.

A node's text is what the model has generated after the prompt, steps separated by a blank line. Expanding a node
asks the engine for its next step (stop string ``"\\n\\n"``); the PRM then scores each child's whole step list.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from recommender.confirm.strategies._base import (
    STEP_SEPARATOR,
    Candidate,
    StrategyConfig,
    _Ledger,
    aggregate,
    finished,
    generate,
    score_candidates,
    split_steps,
)

if TYPE_CHECKING:
    from recommender.confirm.datasets import Dataset, Question
    from recommender.confirm.engine import Engine
    from recommender.confirm.prms import PRM


@dataclass
class Node:
    """A partial solution of one question.

    Attributes:
        question (`int`): index of its question in the strategy's batch.
        text (`str`): generated text so far (each step followed by the separator while the node is open).
        steps (`list[str]`): its steps, stripped.
        score (`float`): aggregated PRM score of `steps` (0 for the root).
        done (`bool`): it ended (EOS, final answer, length limit, empty step or the last allowed step).
        lineage (`int`): the DVTS subtree (or the beam's first-step ancestor) it descends from.
    """

    question: int
    text: str = ""
    steps: list[str] = field(default_factory=list)
    score: float = 0.0
    done: bool = False
    lineage: int = 0

    def candidate(self, dataset: Dataset, question: Question) -> Candidate:
        text = self.text.removesuffix(STEP_SEPARATOR)
        return Candidate(text, dataset.extract(text, question), self.score, self.done, self.lineage)


def expand(engine: Engine, dataset: Dataset, prm: PRM, questions: Sequence[Question], roots: Sequence[str],
           nodes: Sequence[Node], config: StrategyConfig, ledger: _Ledger, *, n: int, call: int,
           last: bool) -> list[list[Node]]:
    """Generate `n` next steps for every node (one engine call), score the children (one PRM call).

    On the `last` step no stop string is set, so each child runs to the end of its solution.

    Returns:
        Per node, its `n` children in sample order (children share nothing with each other or other nodes).
    """
    prompts = [roots[node.question] + node.text for node in nodes]
    generations = generate(engine, prompts, config, dataset, n=n, call=call, stop=() if last else (STEP_SEPARATOR,))
    children: list[list[Node]] = []
    for node, g in zip(nodes, generations):
        ledger.charge(node.question, g)
        kids = []
        for c in g.completions:
            new_steps = split_steps(c.text) if last else ([c.text.strip()] if c.text.strip() else [])
            # a blank line before any text is no step: the branch goes on from after it (rather than ending empty)
            blank = not c.text.strip() and c.stop_reason == STEP_SEPARATOR
            done = last or (not blank and finished(c, dataset, c.text))
            text = node.text + c.text + ("" if done else STEP_SEPARATOR)
            kids.append(Node(node.question, text, [*node.steps, *new_steps], done=done, lineage=node.lineage))
        children.append(kids)
    _score(prm, questions, [k for kids in children for k in kids], config, ledger)
    return children


def _score(prm: PRM, questions: Sequence[Question], nodes: list[Node], config: StrategyConfig,
           ledger: _Ledger) -> None:
    """Set each node's aggregated score; one PRM call with the nodes grouped by question."""
    by_question: dict[int, list[Node]] = {}
    for node in nodes:
        by_question.setdefault(node.question, []).append(node)
    order = list(by_question)
    scores = score_candidates(prm, [questions[q] for q in order], [[n.steps for n in by_question[q]] for q in order],
                              ledger, order)
    for q, per_q in zip(order, scores):
        for node, s in zip(by_question[q], per_q):
            node.score = aggregate(s, config.aggregation)
