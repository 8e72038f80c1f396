"""Step-level search shared by beam search and DVTS: a partial solution (`Node`) and one batched expansion.

A node's text is what the model has generated after the prompt, steps separated by a blank line. Expanding a node
asks the engine for its next step (stop string ``"\\n\\n"``); the PRM then scores each child's whole step list.

Token boundaries: a prompt that ends with the blank line is re-tokenised, and a BPE tokenizer such as SmolLM2's
writes a final ``"\\n\\n"`` as one merged token that in running text appears only before more whitespace (before
a word it is two ``"\\n"`` tokens). After that unnatural token the model continues off its distribution (a stray
space, a new equation instead of the answer: beam search fell 10 points below greedy on arith). So when the
engine's tokenizer splits ``"\\n\\nThe"`` this way, the prompt ends one ``"\\n"`` earlier and the model writes the
second one itself, which is then dropped from the step.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
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
    heal = _heals_separator(engine)
    # per node: whether its prompt ends one newline short (the model then writes that newline first)
    short = [heal and node.text.endswith(STEP_SEPARATOR) for node in nodes]
    prompts = [roots[node.question] + (node.text[:-1] if cut else node.text) for node, cut in zip(nodes, short)]
    generations = generate(engine, prompts, config, dataset, n=n, call=call, stop=() if last else (STEP_SEPARATOR,))
    children: list[list[Node]] = []
    for node, cut, g in zip(nodes, short, generations):
        ledger.charge(node.question, g)
        kids = []
        for c in g.completions:
            if cut and c.text.startswith("\n"):
                c = replace(c, text=c.text[1:])  # the separator's second newline, written by the model
            new_steps = split_steps(c.text) if last else ([c.text.strip()] if c.text.strip() else [])
            # a blank line before any text is no step: the branch goes on from after it (rather than ending empty)
            blank = not c.text.strip() and c.stop_reason == STEP_SEPARATOR
            done = last or (not blank and finished(c, dataset, c.text))
            text = node.text + c.text + ("" if done else STEP_SEPARATOR)
            kids.append(Node(node.question, text, [*node.steps, *new_steps], done=done, lineage=node.lineage))
        children.append(kids)
    _score(prm, questions, [k for kids in children for k in kids], config, ledger)
    return children


def _heals_separator(engine: Engine) -> bool:
    """Whether prompts should end one newline short of the step separator (see the module docstring); three short
    tokenisations per expansion, next to the thousands of prompts the expansion tokenises anyway."""
    tokenizer = getattr(engine, "tokenizer", None)
    if tokenizer is None:
        return False

    def ids(text: str) -> list[int]:
        return list(tokenizer(text, add_special_tokens=False)["input_ids"])

    running, cut = ids("= 2" + STEP_SEPARATOR + "The"), ids("= 2" + STEP_SEPARATOR)
    # in running text the separator starts as a lone newline: the prompt should stop after that one
    return running[: len(cut)] != cut and running[: len(cut)] == ids("= 2\n")


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
