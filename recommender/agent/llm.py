"""Planning with a LangChain chat model that supports tool calling (optional; the rules planner is the default).

Configure with ``GEMFINDER_CHAT_MODEL`` (or ``ChatSession(chat_model=...)``):

* ``openai:<base_url>/<model>`` — any OpenAI-compatible server, e.g. ``openai:http://127.0.0.1:8000/v1/smollm2``
  (``vllm serve``); needs the ``llm`` extra (``langchain-openai``). ``OPENAI_API_KEY`` is used if set, else a
  placeholder (local servers ignore it);
* a LangChain `BaseChatModel` instance (any provider) passed directly.

The model sees a fixed system prompt, gemfinder's own one-line summary of the previous answer and the person's
message, and answers with tool calls. Each call is validated against the tool's argument schema; invalid calls are
kept (marked invalid, with the reason) but never run. Tool output is never sent back to the model.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from index import constants
from index.errors import UsageError
from recommender.agent.intent import LastAnswer, ToolCall
from recommender.agent.tools import TOOL_NAMES, _schemas

if TYPE_CHECKING:
    from recommender.agent.tools import Toolbox

__all__ = ["SYSTEM_PROMPT", "load_chat_model", "resolve_chat_model", "plan_with_model"]

SYSTEM_PROMPT = (
    "You are gemfinder's planner. You choose tools that find open language models for the user's request. "
    "Always answer with one or more tool calls and no other text. Use search_models for a request for models "
    "(pass the user's words as 'request'); list_gems for hidden gems; explain_model for one named model; "
    "predict_scores to compare named models; confirm_top to evaluate the top models of the previous answer.\n"
    "Examples (user message → tool and arguments):\n"
    "best 7B model for math → search_models {\"request\": \"best 7B model for math\"}\n"
    "hidden gems for mistral-7b on gsm8k → list_gems {\"task\": \"gsm8k\", \"tree\": \"mistral-7b\"}\n"
    "tell me about org/model-7b → explain_model {\"model_id\": \"org/model-7b\"}\n"
    "evaluate the top 3 with 50 questions → confirm_top {\"n\": 3, \"questions\": 50}"
)


#: generated tokens a plan may take (a few tool calls are well under this).
PLAN_MAX_TOKENS = 160


def load_chat_model(spec: str):
    """A chat model from a spec string (see the module docstring).

    Raises:
        UsageError: the spec is not understood, or its extra is not installed.
    """
    provider, _, rest = spec.partition(":")
    if provider != "openai" or "/" not in rest:
        raise UsageError(f"Chat model spec {spec!r} is not understood; expected 'openai:<base_url>/<model>', e.g. "
                         "'openai:http://127.0.0.1:8000/v1/smollm2'.")
    base_url, _, model = rest.rstrip("/").rpartition("/")
    try:
        from langchain_openai import ChatOpenAI
    except ImportError:
        raise UsageError("The chat model needs langchain-openai: pip install 'gemfinder[llm]'.") from None
    import os

    return ChatOpenAI(model=model, base_url=base_url, api_key=os.environ.get("OPENAI_API_KEY") or "not-needed",
                      temperature=0, max_tokens=PLAN_MAX_TOKENS, timeout=180, max_retries=0)


def resolve_chat_model(chat_model):
    """`None` (rules) or a chat model, from an argument or ``$GEMFINDER_CHAT_MODEL``."""
    if chat_model is False:
        return None
    if chat_model is None:
        spec = constants.CHAT_MODEL
        return load_chat_model(spec) if spec else None
    if isinstance(chat_model, str):
        return load_chat_model(chat_model)
    return chat_model


def _state_line(last: LastAnswer | None) -> str:
    if last is None:
        return "There is no previous answer."
    # Only gemfinder's own facts: the request text the user typed earlier, the task, sizes of the picks.
    return f"Previous request: {last.parsed.text!r} (task: {last.task or 'none'})."


def plan_with_model(model, message: str, last: LastAnswer | None, tools: Toolbox, *,
                    tool_choice: str | None = None) -> list[ToolCall]:
    """The model's tool calls for `message`, each validated (invalid ones marked, never run).

    Args:
        tool_choice: passed to ``bind_tools`` (``"any"`` forces a call where the provider supports it: vLLM then
            constrains the output to the tools' JSON schemas); `None` lets the model choose.

    Returns:
        The calls in the model's order; empty when it made none (or the server failed: the reason is one
        invalid call named ``"<no call>"``).
    """
    from langchain_core.messages import HumanMessage, SystemMessage

    lc_tools = tools.langchain_tools()
    bound = model.bind_tools(lc_tools) if tool_choice is None else model.bind_tools(lc_tools, tool_choice=tool_choice)
    messages = [SystemMessage(SYSTEM_PROMPT), HumanMessage(f"{_state_line(last)}\nUser: {message}")]
    try:
        reply = bound.invoke(messages)
    except Exception as err:  # noqa: BLE001 - a down or confused server must not break the chat
        return [ToolCall("<no call>", {}, valid=False, error=f"{type(err).__name__}: {str(err)[:200]}")]
    calls = [validate_call(c.get("name"), c.get("args")) for c in getattr(reply, "tool_calls", [])]
    for bad in getattr(reply, "invalid_tool_calls", []) or []:
        calls.append(ToolCall(str(bad.get("name")), {}, valid=False, error=str(bad.get("error"))[:200]))
    if not calls:
        text = str(getattr(reply, "content", ""))[:200]
        calls.append(ToolCall("<no call>", {}, valid=False, error=f"the model answered without a tool call: {text!r}"))
    return calls


def validate_call(name: Any, args: Any) -> ToolCall:
    """A `ToolCall`, valid when `name` is a tool and `args` fit its schema (coerced, defaults filled)."""
    from pydantic import ValidationError

    if name not in TOOL_NAMES:
        return ToolCall(str(name), args if isinstance(args, dict) else {}, valid=False,
                        error=f"unknown tool {name!r}")
    if isinstance(args, str):
        try:
            args = json.loads(args)
        except json.JSONDecodeError:
            return ToolCall(name, {}, valid=False, error="arguments are not JSON")
    if not isinstance(args, dict):
        return ToolCall(name, {}, valid=False, error="arguments are not an object")
    try:
        checked = _schemas()[name].model_validate(args)
    except ValidationError as err:
        return ToolCall(name, args, valid=False, error=str(err).splitlines()[0][:200])
    return ToolCall(name, checked.model_dump())
