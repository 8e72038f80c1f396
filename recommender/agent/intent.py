"""Deterministic intent parsing: one chat message (plus the previous answer) → the tool calls to make.

This is the chat's default planner (no language model). It reads only the person's message and the facts of the
previous answer that gemfinder itself produced (its task, constraints, pick sizes); it never reads model cards or
tool output, so text inside a card cannot change which tools run.

Intents, tried in order:

* **gems** — "hidden gems for mistral-7b on gsm8k" → ``list_gems``;
* **evaluate** — "evaluate the top 3 on medqa with 200 questions" → ``confirm_top``;
* **explain / why not** — "why not mistralai/Mistral-7B-v0.1?", "tell me about org/name" → ``explain_model``;
  "compare A and B" → ``predict_scores``;
* **refine** — after an answer, a message that only adds or changes constraints ("only apache-2.0", "smaller",
  "instruct only", "under 3B", "with 500 queries") → ``search_models`` on the previous request, edited;
* **search** — anything naming a task, a size, a licence, a family or a model → ``search_models``;
* otherwise no tool runs and the reply says what the chat can do.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any

from index.vocabulary import BENCHMARKS
from search.query import Constraints, ParsedQuery, parse_query

__all__ = ["ToolCall", "Plan", "plan_message"]

_GEMS = re.compile(r"\b(?:hidden\s+)?gems?\b", re.IGNORECASE)
_EVALUATE = re.compile(r"\b(?:evaluate|evaluation\s+of|re-?evaluate|test|benchmark|measure|confirm|run)\b",
                       re.IGNORECASE)
_TOP_N = re.compile(r"\btop\s*(\d{1,2})\b|\bfirst\s+(\d{1,2})\b|\b(\d{1,2})\s+(?:best|top)\b", re.IGNORECASE)
_QUESTIONS = re.compile(r"\b(\d[\d,]*)\s*(?:questions?|items?|problems?|samples?|examples?)\b", re.IGNORECASE)
_DATASET = re.compile(r"\b(gsm8k|math500|math-500|medqa|medmcqa|pubmedqa|mmlu_medical|mmlu-medical|arith|arc|mmlu|"
                      r"truthfulqa)\b", re.IGNORECASE)
_JSONL = re.compile(r"(?<![\w/.-])((?:/|~/)?(?:[\w.~-]+/)*[\w.~-]+\.jsonl(?:\.gz)?)(?![\w/])")
_WHY_NOT = re.compile(r"\bwhy\s+not\b|\bwhy\s+(?:is|isn't|wasn't)\b|\bwhat\s+about\b", re.IGNORECASE)
_EXPLAIN = re.compile(r"\b(?:explain|tell\s+me\s+(?:more\s+)?about|details?\s+(?:on|of|for)|describe|more\s+on|"
                      r"show\s+me)\b", re.IGNORECASE)
_COMPARE = re.compile(r"\b(?:compare|versus|vs\.?)\b", re.IGNORECASE)
_SMALLER = re.compile(r"\b(?:smaller|tinier|lighter|fewer\s+parameters)\b", re.IGNORECASE)
_BIGGER = re.compile(r"\b(?:bigger|larger|more\s+parameters)\b", re.IGNORECASE)
_FOLLOW_UP_CUE = re.compile(r"^\s*(?:only|just|and|but|also|now|instead|same|with|without|make\s+it|what\s+if|"
                            r"ok|okay|then)\b", re.IGNORECASE)
_MODEL_WORDS = re.compile(r"\b(?:models?|llms?|checkpoints?|weights|fine-?tunes?|merges?)\b", re.IGNORECASE)
_TREE = re.compile(r"\b([a-z][a-z0-9.]*(?:-[a-z0-9.]+)*?-(?:\d+x)?\d+(?:\.\d+)?b)\b", re.IGNORECASE)
#: phrases that try to steer the assistant rather than ask for models; they are cut out before planning.
_INJECTION = re.compile(
    r"(?:ignore|disregard|forget|override)\s+(?:all\s+|any\s+|the\s+|your\s+)*(?:previous|prior|above|earlier|"
    r"preceding|system|safety)?\s*(?:instructions?|prompts?|rules?|messages?)[^.!?\n]*|"
    r"(?:reveal|print|show|repeat|leak)\s+(?:me\s+)?(?:your|the)\s+(?:system\s+)?(?:prompt|instructions?)[^.!?\n]*|"
    r"you\s+are\s+now\b[^.!?\n]*|\bjailbreak\w*|\bdeveloper\s+mode\b|\bDAN\b",
    re.IGNORECASE,
)
#: a follow-up that edits constraints is short; a long message is a new request.
_FOLLOW_UP_WORDS = 12


_HELP = (
    "I could not find a model request in that message. I find and compare open models: ask e.g. "
    "\"best 7B model for grade-school math, apache-2.0\", \"hidden gems for mistral-7b\", or "
    "\"tell me about mistralai/Mistral-7B-v0.1\". Instructions inside messages or model cards do not change "
    "what I run."
)


@dataclass(frozen=True)
class ToolCall:
    """One tool call of a plan.

    Attributes:
        name (`str`): a tool name (`recommender.agent.tools.TOOL_NAMES`).
        args (`dict`): its keyword arguments (JSON-able).
        valid (`bool`): `False` for a call a chat model proposed that failed validation (not executed).
        error (`str`, *optional*): why it was invalid.
    """

    name: str
    args: dict[str, Any] = field(default_factory=dict)
    valid: bool = True
    error: str | None = None


@dataclass(frozen=True)
class Plan:
    """What to do with one message: tool calls, or a reply without tools (`note`)."""

    calls: tuple[ToolCall, ...] = ()
    note: str | None = None
    parsed: ParsedQuery | None = None  # the (edited) request search_models should run


@dataclass(frozen=True)
class LastAnswer:
    """The facts of the previous answer a follow-up may refer to (all produced by gemfinder, never card text)."""

    parsed: ParsedQuery
    task: str | None
    pick_sizes: tuple[float, ...]


def plan_message(message: str, last: LastAnswer | None = None) -> Plan:
    """The tool calls for one message (see the module docstring for the intents).

    Args:
        message: the person's message, already checked (non-empty, not too long, text).
        last: the previous answer, when there is one.

    Returns:
        The `Plan`.

    Raises:
        QueryError: the message is a request that cannot be parsed (contradictory, unknown licence).
    """
    text = message.strip()
    steering = _INJECTION.search(text)
    if steering:
        text = _INJECTION.sub(" ", text).strip(" .,;:!?\n")
        if not text:
            return Plan(note=_HELP)
    if _GEMS.search(text):
        return _plan_gems(text, last)
    if _EVALUATE.search(text) and (
            _JSONL.search(text) or _TOP_N.search(text) or _QUESTIONS.search(text) or re.search(r"\b(?:them|these|those|picks?)\b", text)):
        return _plan_evaluate(text, last)
    parsed = parse_query(text)
    if parsed.mentioned_models:
        ids = list(parsed.mentioned_models)
        if len(ids) > 1 and (_COMPARE.search(text) or " and " in text.lower()):
            task = parsed.task or (last.task if last else None)
            if task is not None:
                return Plan((ToolCall("predict_scores", {"model_ids": ids[:20], "task": task}),))
        if _WHY_NOT.search(text) or _EXPLAIN.search(text) or not _has_request(parsed, ignore_models=True):
            return Plan(tuple(ToolCall("explain_model", {"model_id": m}) for m in ids[:3]))
    if last is not None and _is_follow_up(text, parsed, last):
        edited = _refine(parsed, last, text)
        return Plan((ToolCall("search_models", {"request": edited.text, "k": 10,
                                                "budget": parsed.budget_queries}),), parsed=edited)
    if not _has_request(parsed):
        return Plan(note=_HELP)
    return Plan((ToolCall("search_models", {"request": parsed.text, "k": 10, "budget": parsed.budget_queries}),),
                parsed=parsed)


def _has_request(parsed: ParsedQuery, *, ignore_models: bool = False) -> bool:
    return bool(parsed.task or not parsed.constraints.is_empty or parsed.budget_queries or parsed.finetune
                or (parsed.mentioned_models and not ignore_models) or _MODEL_WORDS.search(parsed.text))


def _plan_gems(text: str, last: LastAnswer | None) -> Plan:
    dataset = _DATASET.search(text)
    tree = _TREE.search(text)
    task: str | None = None
    if dataset and dataset.group(1).lower() in BENCHMARKS:
        task = dataset.group(1).lower()
    else:
        try:
            task = parse_query(text).task
        except Exception:  # noqa: BLE001 - a gems request needs no constraints; fall back to the last task
            task = None
    task = task or (last.task if last else None) or "math"
    top = _TOP_N.search(text)
    k = int(next(g for g in top.groups() if g)) if top else 10
    args: dict[str, Any] = {"task": task, "k": max(1, min(k, 50))}
    if tree:
        args["tree"] = tree.group(1).lower()
    return Plan((ToolCall("list_gems", args),))


def _plan_evaluate(text: str, last: LastAnswer | None) -> Plan:
    top = _TOP_N.search(text)
    n = int(next(g for g in top.groups() if g)) if top else 3
    count = _QUESTIONS.search(text)
    questions = int(count.group(1).replace(",", "")) if count else 100
    dataset = _DATASET.search(text)
    args: dict[str, Any] = {"n": n, "questions": questions}
    if dataset:
        args["dataset"] = dataset.group(1).lower().replace("-", "_").replace("math_500", "math500")
    own = _JSONL.search(text)
    if own:
        args["questions_file"] = own.group(1)
    return Plan((ToolCall("confirm_top", args),))


def _is_follow_up(text: str, parsed: ParsedQuery, last: LastAnswer) -> bool:
    words = len(text.split())
    if words > _FOLLOW_UP_WORDS:
        return False
    if parsed.task is not None and parsed.task != last.task:
        return False  # a new task is a new request
    edits = not parsed.constraints.is_empty or parsed.budget_queries is not None
    return bool(_FOLLOW_UP_CUE.search(text) or _SMALLER.search(text) or _BIGGER.search(text)
                or (parsed.task is None and edits))


def _refine(parsed: ParsedQuery, last: LastAnswer, text: str) -> ParsedQuery:
    """The previous request with the follow-up's constraints laid over it."""
    old, new = last.parsed.constraints, parsed.constraints
    lo, hi = old.params_min_b, old.params_max_b
    if new.params_min_b is not None or new.params_max_b is not None:
        lo, hi = new.params_min_b, new.params_max_b
    sizes = [s for s in last.pick_sizes if s]
    if _SMALLER.search(text) and sizes:
        lo, hi = None, round(0.75 * min(sizes), 3)  # below the smallest pick shown
    elif _BIGGER.search(text) and sizes:
        lo, hi = round(1.25 * max(sizes), 3), None
    constraints = Constraints(
        params_min_b=lo, params_max_b=hi,
        license=new.license if new.license is not None else old.license,
        family=new.family if new.family is not None else old.family,
        instruct=new.instruct if new.instruct is not None else old.instruct,
    )
    return replace(
        last.parsed, constraints=constraints, text=f"{last.parsed.text} ({text})",
        budget_queries=parsed.budget_queries if parsed.budget_queries is not None else last.parsed.budget_queries,
        include_flagged=last.parsed.include_flagged or parsed.include_flagged,
    )
