"""Question and Dataset: what a live evaluation asks, how it prompts, how it reads and grades an answer."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Question:
    """One question of a question set.

    Attributes:
        id (`str`): stable within its dataset (source index or generator seed); part of the result-cache key.
        text (`str`): the question as the user sees it (options included for multiple choice).
        answer (`str`): the gold answer: a number / LaTeX expression, a letter (``"B"``) or a string.
        meta (`dict`): extra facts by dataset: ``options`` (letter → text) for multiple choice, ``steps`` (the gold
            intermediate equations) for ``arith``, ``subject``/``level`` for math500. Empty when there are none.
    """

    id: str
    text: str
    answer: str
    meta: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)


@dataclass(frozen=True)
class Dataset:
    """A named question set with its prompt, answer reader and grader.

    Attributes:
        name (`str`): the ``--dataset`` spelling (``gsm8k``, ``arith``, ...) or ``jsonl:<path>``.
        questions (`tuple[Question, ...]`): in a fixed order (shuffled once by the loader's seed when it was asked
            for a subset).
        instructions (`str`): put before every question in the user message.
        reader (`Callable[[str, Question | None], str | None]`): final answer of a completion (given the question
            when known, so multiple choice can match echoed option text), or None when it states none.
        final (`Callable[[str], bool]`): whether one reasoning step states a final answer (ends a tree search).
        grader (`Callable[[Question, str], bool]`): whether an extracted answer matches the question's gold answer.
        stop (`tuple[str, ...]`): strings that end a completion (a small model that starts inventing the next
            "Question:" has finished its answer); also passed to every engine call.
        cue (`str`): ends the user message, so a base model (no chat template) knows the answer starts there.
        params (`dict`): the loader parameters that produced the questions (e.g. arith's ``steps``); part of the
            cache identity of the dataset.
        shots (`tuple[tuple[str, str], ...]`): worked examples as earlier ``(user message, reply)`` turns of the chat;
            a chat model follows a format shown in its own turns far better than one described in the instructions
            (arith: SmolLM2-135M-Instruct 5% → 54% greedy). Empty for the shipped question sets.

    Example:
        >>> ds = load_dataset("arith", limit=3)
        >>> q = ds.questions[0]
        >>> ds.is_correct(q, ds.extract("... The answer is " + q.answer))
        True
    """

    name: str
    questions: tuple[Question, ...]
    instructions: str
    reader: Callable[[str, Question | None], str | None] = field(repr=False)
    final: Callable[[str], bool] = field(repr=False)
    grader: Callable[[Question, str], bool] = field(repr=False)
    params: dict[str, Any] = field(default_factory=dict, compare=False)
    stop: tuple[str, ...] = ("Question:",)
    cue: str = "\nAnswer:"
    shots: tuple[tuple[str, str], ...] = ()

    def __len__(self) -> int:
        return len(self.questions)

    def prompt(self, question: Question) -> str:
        """The user message for `question` (instructions included); engines wrap it with `Engine.format_chat`."""
        return f"{self.instructions}\n\nQuestion: {question.text}{self.cue}"

    def extract(self, text: str, question: Question | None = None) -> str | None:
        """The final answer stated in a completion, or None when it states none.

        Pass `question` when known: a multiple-choice reader then also recognises an option's text echoed back.
        """
        return self.reader(text, question)

    def is_final(self, step: str) -> bool:
        """Whether a reasoning step states a final answer (a tree search stops expanding that branch)."""
        return self.final(step)

    def is_correct(self, question: Question, answer: str | None) -> bool:
        """Whether `answer` (from `extract`) matches the gold answer; None is never correct."""
        return answer is not None and self.grader(question, answer)

    def by_id(self, question_id: str) -> Question:
        """The question with this id (`KeyError` naming it when absent)."""
        for q in self.questions:
            if q.id == question_id:
                return q
        raise KeyError(f"Dataset '{self.name}' has no question '{question_id}'.")
