"""`ChatSession`: the chat loop. One message in → tool calls → one reply, with stage progress streamed.

Planning (which tools to call with which arguments) comes from the deterministic intent parser
(`recommender.agent.intent`, the default) or, when configured, from a LangChain chat model with tool calling
(`recommender.agent.llm`). Either way the planner sees only the person's message and gemfinder's own summary of the
previous answer; tool output (model cards included) is rendered for the person and never shown to the planner, so
text inside a card cannot change which tools run. A chat model's tool call that fails validation is not run; the
turn then falls back to the deterministic plan and records that.

Bad input — empty, over 2,000 characters, not UTF-8 text, a model id the catalog lacks, a budget of 0 — is answered
with one sentence (`ChatTurn.error`), and the session stays usable.

Example:
    >>> chat = ChatSession(Recommender.load())
    >>> print(chat.send("best 7B model for grade-school math").reply)
    >>> print(chat.send("only apache-2.0").reply)
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from index.errors import GemfinderError, UsageError
from recommender.agent.intent import LastAnswer, Plan, ToolCall, plan_message
from recommender.agent.render import render_result
from recommender.agent.tools import TOOL_NAMES, Toolbox
from recommender.records import Recommendation, StageEvent

if TYPE_CHECKING:
    from recommender.pipeline import Recommender

__all__ = ["ChatSession", "ChatTurn"]

#: characters a chat message may have (the query parser's limit).
MAX_MESSAGE_CHARS = 2000


@dataclass(frozen=True)
class ChatTurn:
    """One answered message.

    Attributes:
        message (`str`): the message as received (cut to 200 characters for long input).
        reply (`str`): the markdown reply.
        tool_calls (`tuple[ToolCall, ...]`): the calls planned, invalid ones included (not run).
        results (`tuple[dict, ...]`): each run call's result, in order.
        recommendation (`Recommendation`, *optional*): the answer when ``search_models`` ran.
        error (`dict`, *optional*): ``{"type", "message"}`` when the message could not be answered.
        planner (`str`): ``"rules"``, ``"llm"`` or ``"llm-fallback"`` (the model's calls were unusable).
        seconds (`float`): wall time.
    """

    message: str
    reply: str
    tool_calls: tuple[ToolCall, ...] = ()
    results: tuple[dict, ...] = ()
    recommendation: Recommendation | None = None
    error: dict[str, str] | None = None
    planner: str = "rules"
    seconds: float = 0.0

    @property
    def tools_run(self) -> tuple[str, ...]:
        """Names of the calls that ran."""
        return tuple(c.name for c in self.tool_calls if c.valid)

    def to_dict(self) -> dict[str, Any]:
        return {
            "message": self.message, "reply": self.reply,
            "tool_calls": [{"name": c.name, "args": c.args, "valid": c.valid, "error": c.error}
                           for c in self.tool_calls],
            "recommendation": None if self.recommendation is None else self.recommendation.to_dict(),
            "error": self.error, "planner": self.planner, "seconds": round(self.seconds, 3),
        }


@dataclass
class _History:
    turns: list[ChatTurn] = field(default_factory=list)
    last: LastAnswer | None = None


class ChatSession:
    """A conversation with gemfinder.

    Args:
        recommender: the pipeline the tools run on.
        chat_model: a LangChain chat model with tool calling, a spec string (``"openai:http://127.0.0.1:8000/v1/
            <model>"``), or `None`: then ``$GEMFINDER_CHAT_MODEL`` if set, else the deterministic planner.
            Pass ``chat_model=False`` to force the deterministic planner.

    Example:
        >>> chat = ChatSession(Recommender.load())
        >>> for item in chat.stream("medical QA model under 3B"):
        ...     print(item.message if isinstance(item, StageEvent) else item.reply)
    """

    def __init__(self, recommender: Recommender, *, chat_model=None):
        from recommender.agent.llm import resolve_chat_model

        self.tools = Toolbox(recommender)
        self.planner = resolve_chat_model(chat_model)
        self.history = _History()

    # Public API --------------------------------------------------------------------------------------------------

    def send(self, message: str | bytes, *, on_event: Callable[[StageEvent], None] | None = None,
             questions_file: str | None = None) -> ChatTurn:
        """Answer one message. Never raises for bad input: the turn's `error` and `reply` say what was wrong.

        Args:
            message: the message.
            on_event: progress callback.
            questions_file: a JSONL of ``{"question", "answer"}`` sent with the message (the app's upload): a search
                evaluates its local candidates on it, and an evaluation request that names no file uses it.
        """
        start = time.perf_counter()
        shown = _shown(message)
        try:
            text = _check_message(message)
            plan, planner = self._plan(text)
            turn = self._run(shown, plan, planner, on_event, questions_file)
        except GemfinderError as err:
            turn = ChatTurn(shown, str(err), error={"type": err.kind, "message": str(err)})
        except Exception as err:  # noqa: BLE001 - the chat stays up; the person gets one sentence
            first = str(err).splitlines()[0][:200] if str(err) else ""
            message_ = f"Something went wrong answering that ({type(err).__name__}: {first}). Try rephrasing."
            turn = ChatTurn(shown, message_, error={"type": type(err).__name__, "message": message_})
        turn = _with_seconds(turn, time.perf_counter() - start)
        self.history.turns.append(turn)
        return turn

    def stream(self, message: str | bytes, *, questions_file: str | None = None) -> Iterator[StageEvent | ChatTurn]:
        """`send`, yielding stage events while it runs and the `ChatTurn` last."""
        from recommender._streaming import stream_events

        return stream_events(lambda report: self.send(message, on_event=report, questions_file=questions_file),
                             name="gemfinder-chat")

    @property
    def last_answer(self) -> Recommendation | None:
        """The last recommendation shown (follow-ups refine it)."""
        return self.tools.last

    # Internals ---------------------------------------------------------------------------------------------------

    def _plan(self, text: str) -> tuple[Plan, str]:
        if self.planner is None:
            return plan_message(text, self.history.last), "rules"
        from recommender.agent.llm import plan_with_model

        calls = plan_with_model(self.planner, text, self.history.last, self.tools)
        if any(c.valid for c in calls):
            return Plan(tuple(calls)), "llm"
        fallback = plan_message(text, self.history.last)
        return Plan(tuple(calls) + fallback.calls, fallback.note, fallback.parsed), "llm-fallback"

    def _run(self, shown: str, plan: Plan, planner: str, on_event, questions_file: str | None = None) -> ChatTurn:
        if not any(c.valid for c in plan.calls):
            return ChatTurn(shown, plan.note or "I could not tell which tool to use; ask for models for a task.",
                            plan.calls, planner=planner)
        results, replies, answer = [], [], None
        for call in plan.calls:
            if not call.valid:
                continue
            result = self._call(call, plan, on_event, questions_file)
            results.append(result)
            if call.name == "search_models":
                answer = self.tools.last
                self._remember(plan, answer)
            replies.append(render_result(call.name, result, answer if call.name == "search_models" else None))
        return ChatTurn(shown, "\n\n".join(replies), plan.calls, tuple(results), answer, planner=planner)

    def _call(self, call: ToolCall, plan: Plan, on_event, questions_file: str | None = None) -> dict:
        if call.name not in TOOL_NAMES:
            raise UsageError(f"Unknown tool '{call.name}'; known: {', '.join(TOOL_NAMES)}.")
        args = dict(call.args)
        if call.name == "search_models":
            return self.tools.search_models(**args, parsed=plan.parsed, questions_file=questions_file,
                                            on_event=on_event)
        if call.name == "confirm_top":
            if questions_file is not None and not args.get("questions_file"):
                args["questions_file"] = questions_file
            return self.tools.confirm_top(**args, on_event=on_event)
        return getattr(self.tools, call.name)(**args)

    def _remember(self, plan: Plan, answer: Recommendation) -> None:
        from search.query import parse_query

        parsed = plan.parsed if plan.parsed is not None else parse_query(answer.query)
        self.history.last = LastAnswer(parsed, answer.task, tuple(p.params_b for p in answer.picks if p.params_b))


def _shown(message: str | bytes) -> str:
    text = message.decode("utf-8", "replace") if isinstance(message, bytes) else str(message)
    return text if len(text) <= 200 else text[:200] + "…"


def _check_message(message: str | bytes) -> str:
    """The message as text, or the query parser's error for empty, too long or non-UTF-8 input."""
    from index.errors import EmptyQueryError, QueryEncodingError, QueryTooLongError

    if isinstance(message, bytes):
        try:
            message = message.decode("utf-8")
        except UnicodeDecodeError as err:
            raise QueryEncodingError(f"byte {err.start}") from None
    if not isinstance(message, str):
        raise UsageError(f"A chat message must be text, got {type(message).__name__}.")
    if "\x00" in message or sum(not (c.isprintable() or c.isspace()) for c in message) > max(3, len(message) // 20):
        raise QueryEncodingError("it holds control characters: binary data rather than text")
    if not message.strip():
        raise EmptyQueryError()
    if len(message) > MAX_MESSAGE_CHARS:
        raise QueryTooLongError(len(message), MAX_MESSAGE_CHARS)
    return message


def _with_seconds(turn: ChatTurn, seconds: float) -> ChatTurn:
    from dataclasses import replace

    return replace(turn, seconds=seconds)
