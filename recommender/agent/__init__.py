"""The chat agent: langchain-core tools over the `Recommender` and a chat loop with a rules or LLM planner.

Example:
    >>> from recommender import Recommender
    >>> from recommender.agent import ChatSession
    >>> chat = ChatSession(Recommender.load())
    >>> print(chat.send("best 7B model for grade-school math").reply)
"""

from __future__ import annotations

from recommender.agent.intent import Plan, ToolCall, plan_message
from recommender.agent.session import ChatSession, ChatTurn
from recommender.agent.tools import TOOL_NAMES, Toolbox

__all__ = ["ChatSession", "ChatTurn", "Plan", "TOOL_NAMES", "ToolCall", "Toolbox", "plan_message"]
