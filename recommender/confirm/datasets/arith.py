"""``arith``: generated multi-step arithmetic word problems whose every intermediate step can be checked exactly.

Why it exists: the PyPI-shipped models (SmolLM2-135M-Instruct, gemma-3-270m) score near 1% on GSM8K, which cannot
tell a broken test-time strategy from a working one. ``arith`` problems have the shape of GSM8K (a quantity changed
by a chain of events) with a difficulty knob, so those models land between 20% and 60% greedy, and a true process
reward exists: step *i* of a solution is correct iff it is the equation ``a op b = c`` of the *i*-th event.

The prompt shows a few solved problems of the same difficulty as earlier chat turns (``shots``, default 3): the
small models copy a worked example's numbers when it sits inside the instructions, but follow its format when it
is a turn of their own. The default difficulty is ``steps=1, digits=1, ops="+-"`` (one event, then the answer:
`load_dataset` gives the measured accuracies; every extra event costs both models more than half their accuracy).
A problem with
``steps=3, digits=2, ops="+-*/"``::

    Mia has 47 marbles. Then she finds 28 more marbles. Then she gives away 19 marbles. Then she ends up with
    2 times as many marbles as before. How many marbles does Mia have now?

and its gold solution, one step per paragraph (steps are separated by a blank line, as the tree searches split)::

    47 + 28 = 75

    75 - 19 = 56

    56 * 2 = 112

    The answer is 112.

The text is generated from fixed sentence templates, so `solve` recovers the gold steps from the text alone; the
step verifier PRM needs nothing but the question.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

from recommender.confirm.datasets._types import Question

_NAMES = ("Mia", "Leo", "Ava", "Noah", "Zoe", "Omar", "Ivy", "Ben", "Lena", "Sam", "Tara", "Ravi")
_PRONOUN = {"Mia": "she", "Ava": "she", "Zoe": "she", "Ivy": "she", "Lena": "she", "Tara": "she"}
_ITEMS = ("marbles", "apples", "stickers", "coins", "books", "shells", "cards", "stamps", "pencils", "beads")

# One template per operation; `solve` reads them back with the matching regex.
_TEMPLATES = {
    "+": "Then {p} finds {b} more {items}.",
    "-": "Then {p} gives away {b} {items}.",
    "*": "Then {p} ends up with {b} times as many {items} as before.",
    "/": "Then {p} shares the {items} equally among {b} boxes and keeps one box.",
}
_PATTERNS = {
    "+": re.compile(r"finds (\d+) more"),
    "-": re.compile(r"gives away (\d+)"),
    "*": re.compile(r"ends up with (\d+) times as many"),
    "/": re.compile(r"equally among (\d+) boxes"),
}
_START = re.compile(r"^\w+ has (\d+) ")

INSTRUCTIONS = (
    "Solve step by step: one equation 'a op b = c' per paragraph, in the order of the events, then "
    "'The answer is N.'"
)


@dataclass(frozen=True)
class Step:
    """One gold step ``a op b = c``."""

    a: int
    op: str
    b: int
    c: int

    def __str__(self) -> str:
        return f"{self.a} {self.op} {self.b} = {self.c}"


def _apply(a: int, op: str, b: int) -> int:
    return {"+": a + b, "-": a - b, "*": a * b, "/": a // b}[op]


def _next_step(rng: random.Random, value: int, digits: int, ops: str) -> Step:
    """A random event on the current value: results stay positive, divisions exact, products bounded."""
    lo, hi = 10 ** (digits - 1) if digits > 1 else 1, 10**digits - 1
    while True:
        op = rng.choice(ops)
        if op == "+":
            b = rng.randint(lo, hi)
        elif op == "-":
            if value <= 1:
                continue
            b = rng.randint(1, min(hi, value - 1))
        elif op == "*":
            if value * 2 > 10 ** (digits + 1):  # keep products within one more digit
                continue
            b = rng.randint(2, 5)
        else:
            divisors = [d for d in range(2, 10) if value % d == 0 and value // d > 1]
            if not divisors:
                continue
            b = rng.choice(divisors)
        return Step(value, op, b, _apply(value, op, b))


def generate(n: int, *, steps: int = 3, digits: int = 2, ops: str = "+-*/", seed: int = 0) -> tuple[Question, ...]:
    """`n` seeded arith problems.

    Args:
        n: number of problems.
        steps: events per problem (= equations in the gold solution); the main difficulty knob.
        digits: size of the starting amount and of added / removed amounts (2 → 10–99).
        ops: the operations drawn from (any of ``+-*/``).
        seed: the same seed and knobs give the same problems.

    Returns:
        Questions with ``meta["steps"]`` (the gold equations as strings) and the final value as ``answer``.

    Example:
        >>> q = generate(1, steps=2, digits=2, seed=3)[0]
        >>> [str(s) for s in solve(q.text)] == q.meta["steps"]
        True
    """
    if steps < 1 or digits < 1 or not ops or set(ops) - set("+-*/"):
        raise ValueError(f"arith needs steps >= 1, digits >= 1 and ops from '+-*/'; got steps={steps}, "
                         f"digits={digits}, ops='{ops}'.")
    rng = random.Random(f"arith-{seed}-{steps}-{digits}-{ops}")
    questions = []
    for i in range(n):
        name, items = rng.choice(_NAMES), rng.choice(_ITEMS)
        p = _PRONOUN.get(name, "he")
        value = rng.randint(10 ** (digits - 1) if digits > 1 else 2, 10**digits - 1)
        sentences, chain = [f"{name} has {value} {items}."], []
        for _ in range(steps):
            step = _next_step(rng, value, digits, ops)
            sentences.append(_TEMPLATES[step.op].format(p=p, b=step.b, items=items))
            chain.append(step)
            value = step.c
        sentences.append(f"How many {items} does {name} have now?")
        questions.append(Question(
            id=f"s{steps}-d{digits}-{ops}-r{seed}-{i}",
            text=" ".join(sentences),
            answer=str(value),
            meta={"steps": [str(s) for s in chain], "solution": gold_solution(chain)},
        ))
    return tuple(questions)


def worked_examples(k: int, *, steps: int, digits: int, ops: str,
                    exclude: tuple[Question, ...] = ()) -> tuple[Question, ...]:
    """`k` solved problems with the same knobs, for the prompt's worked examples (few-shot turns).

    They come from their own seeded stream, so they are the same for every question set of these knobs, and none
    of them repeats a question of `exclude` (the set being asked).
    """
    asked = {q.text for q in exclude}
    pool = generate(k + len(exclude), steps=steps, digits=digits, ops=ops, seed=-1)
    return tuple(q for q in pool if q.text not in asked)[:k]


def gold_solution(chain: list[Step]) -> str:
    """The reference solution text in the format the prompt asks for."""
    return "\n\n".join([*(str(s) for s in chain), f"The answer is {chain[-1].c}."])


def solve(text: str) -> list[Step] | None:
    """The gold steps of an arith problem, read back from its text; None if `text` is not an arith problem."""
    start = _START.match(text)
    if start is None:
        return None
    value, chain = int(start.group(1)), []
    for sentence in re.split(r"(?<=\.) ", text)[1:]:
        for op, pattern in _PATTERNS.items():
            m = pattern.search(sentence)
            if m:
                b = int(m.group(1))
                chain.append(Step(value, op, b, _apply(value, op, b)))
                value = chain[-1].c
                break
    return chain or None
