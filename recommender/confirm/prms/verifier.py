"""``verifier``: the exact process reward for ``arith`` — 1 for a correct step, 0 otherwise.

The gold chain of an arith problem is read back from its text (`arith.solve`), so the verifier needs only the
question. A solution is walked step by step with a pointer into the gold chain:

- a step holding equations ``a op b = c`` is correct iff every one is arithmetically true and is a gold step at or
  after the pointer (same operation and operands, either order for + and *; the pointer then moves past it). A wrong
  step leaves the pointer, so a later step that repairs the error scores 1 again, while steps that build on a wrong
  value score 0;
- a step stating "The answer is N" is correct iff N is the gold answer (and any equations in it pass);
- any other step (prose, a restated question) scores 0: it is not a step of the requested format.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from fractions import Fraction

from recommender.confirm.datasets import arith
from recommender.confirm.datasets._answers import extract_number, parse_number, states_number_answer
from recommender.confirm.prms.base import PRM

_NUM = r"-?\d[\d,]*(?:\.\d+)?"
_EQUATION = re.compile(rf"({_NUM})\s*([+\-−*×x·/÷])\s*({_NUM})\s*=\s*({_NUM})")
_OPS = {"+": "+", "-": "-", "−": "-", "*": "*", "×": "*", "x": "*", "·": "*", "/": "/", "÷": "/"}


def _value(text: str) -> Fraction | None:
    return parse_number(text)


def _true(a: Fraction, op: str, b: Fraction, c: Fraction) -> bool:
    if op == "/":
        return b != 0 and a / b == c
    return {"+": a + b, "-": a - b, "*": a * b}[op] == c


class ArithVerifierPRM(PRM):
    """Programmatic step verifier for ``arith`` questions.

    Raises (from `score`):
        ValueError: the question is not an arith problem (the verifier cannot know its gold steps).

    Example:
        >>> ArithVerifierPRM().score("Ann has 12 shells. Then she finds 7 more shells. How many shells does Ann "
        ...                           "have now?", [["12 + 7 = 19", "The answer is 19."]])
        [[1.0, 1.0]]
    """

    name = "verifier"

    def score(self, question: str, steps: Sequence[Sequence[str]]) -> list[list[float]]:
        chain = arith.solve(question)
        if chain is None:
            raise ValueError("The verifier PRM checks only arith problems; use --prm small_lm for other datasets. "
                             f"Question: {question[:80]!r}")
        return [self._score_candidate(chain, candidate) for candidate in steps]

    @staticmethod
    def _score_candidate(chain: list[arith.Step], steps: Sequence[str]) -> list[float]:
        pointer, scores = 0, []
        for step in steps:
            equations = _EQUATION.findall(step)
            states_answer = states_number_answer(step)
            ok, at = bool(equations) or states_answer, pointer
            for a, op, b, c in equations:
                values = (_value(a), _value(b), _value(c))
                j = None if None in values else _gold_index(chain, at, values[0], _OPS[op], values[1], values[2])
                if j is None:
                    ok = False
                    break
                at = j + 1
            if ok and states_answer:
                stated = extract_number(step)
                ok = stated is not None and _value(stated) == chain[-1].c
            if ok:
                pointer = at
            scores.append(1.0 if ok else 0.0)
        return scores


def _gold_index(chain: list[arith.Step], start: int, a: Fraction, op: str, b: Fraction, c: Fraction) -> int | None:
    """The first gold step at or after `start` that this true equation performs (operands in either order for + and
    *); None when the equation is false or is no remaining gold step."""
    if not _true(a, op, b, c):
        return None
    for j in range(start, len(chain)):
        g = chain[j]
        operands = (a, b) == (g.a, g.b) or (op in "+*" and (b, a) == (g.a, g.b))
        if g.op == op and operands and c == g.c:
            return j
    return None
