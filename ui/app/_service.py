"""What the app does for one message, with no gradio in sight: run the chat turn, shape progress and the answer.

A message goes to the agent's `ChatSession` (one per browser session, so follow-ups such as "only apache-2.0" refine
the last answer), which plans tool calls and runs the `Recommender` pipeline. `AppService.chat` turns its stage
events into `ChatUpdate` snapshots (parse → retrieve → prioritise → confirm → answer) so the Gradio layer only
renders them, and a load test or a unit test drives the same code. Bad input is answered by the session with one
sentence; anything unexpected becomes a sentence too, with the traceback in the server log (``logging``), never in
the chat.
"""

from __future__ import annotations

import logging
import math
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from index.vocabulary import TASK_BENCHMARKS

if TYPE_CHECKING:
    from index.catalog import Catalog
    from recommender.agent import ChatSession
    from recommender.gems import GemIndex
    from recommender.pipeline import Recommender
    from recommender.records import Recommendation, StageEvent
    from recommender.shortlist import Shortlister

__all__ = ["AppService", "ChatUpdate", "STAGE_LABELS", "parse_budget", "safe_markdown"]

log = logging.getLogger("gemfinder.app")

#: pipeline stage → the name the chat shows (the pipeline's ``predict`` is the prioritise stage).
STAGE_LABELS: dict[str, str] = {
    "parse": "parse", "retrieve": "retrieve", "predict": "prioritise", "confirm": "confirm", "answer": "answer",
}
_MARKS = {"started": "⏳", "progress": "⏳", "done": "✓", "skipped": "–"}

# Markdown that would make the browser fetch something (an outbound call) or inject markup; card text quoted in a
# reply is data, so images become their alt text and raw HTML tags are dropped.
_MD_IMAGE = re.compile(r"!\[([^\]]{0,200})\]\([^)]{0,2000}\)")
_HTML_TAG = re.compile(r"</?[a-zA-Z][^>]{0,2000}>")


def safe_markdown(text: str) -> str:
    """`text` with Markdown images and HTML tags neutralised (nothing in it can load a remote resource).

    The gem mark becomes ★, as in the table, since browsers without an emoji font draw 💎 as a box.
    """
    text = _MD_IMAGE.sub(lambda m: f"[image: {m.group(1) or 'no description'}]", text)
    return _HTML_TAG.sub("", text).replace("💎", "★")


@dataclass(frozen=True)
class ChatUpdate:
    """A snapshot of one answer while it is being built.

    Attributes:
        stages (`tuple[str, ...]`): one Markdown line per stage reported so far, in pipeline order.
        text (`str`, *optional*): the reply, set on the last update.
        table (`pd.DataFrame`, *optional*): the ranked picks with their evidence, when the turn searched.
        error (`bool`): the message could not be answered; `text` says why and what to do.
    """

    stages: tuple[str, ...] = ()
    text: str | None = None
    table: pd.DataFrame | None = None
    error: bool = False

    def markdown(self) -> str:
        """The assistant's chat message: stage lines, then the reply."""
        parts = list(self.stages)
        if self.text:
            parts.append(self.text)
        return "\n\n".join(parts) if parts else "…"


def parse_budget(value: Any) -> tuple[int | None, str | None]:
    """The budget box's value → (queries, or `None` when empty; a refusal sentence, or `None`).

    Accepts ``500``, ``"500"``, ``"2,000"``, ``"2k"``; refuses zero, negatives, fractions and words.

    Example:
        >>> parse_budget("2k"), parse_budget("")[0], parse_budget("-5")[0]
        ((2000, None), None, None)
    """
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None, None
    text = str(value).strip().lower().replace(",", "").replace("_", "")
    if not text:
        return None, None
    scale = 1000 if text.endswith("k") else 1
    try:
        number = float(text[:-1] if scale > 1 else text) * scale
    except ValueError:
        return None, (f"The evaluation budget {str(value)[:40]!r} is not a number. Give a whole number of "
                      "evaluation queries (one question to one model), e.g. 500, or leave the box empty.")
    if not math.isfinite(number) or number <= 0 or number != int(number):
        return None, (f"A discovery budget of {str(value)[:40]} queries allows no evaluation. Give a positive whole "
                      "number of evaluation queries (one question to one model), or leave the box empty.")
    return int(number), None


class AppService:
    """The app's back end: loads the pipeline once, answers chat messages, feeds the Gems tab and model pages.

    Thread-safe: Gradio runs handlers on worker threads; the first use loads the models under a lock and every
    later call only reads. Each browser session has its own `ChatSession` (its follow-up memory).

    Args:
        data_dir: catalog + vectors folder (default: the shipped snapshot or ``$GEMFINDER_DATA_DIR``).
        k: picks per answer.
        shortlister: an already loaded first stage to reuse (tests share one); default loads from `data_dir`.

    Example:
        >>> service = AppService().warm()
        >>> session = service.new_session()
        >>> for update in service.chat("best 7B model for grade-school math", session=session):
        ...     print(update.markdown())
    """

    def __init__(self, data_dir: str | Path | None = None, *, k: int = 10, shortlister: Shortlister | None = None):
        self.data_dir = data_dir
        self.k = k
        self._lock = threading.Lock()
        self._shortlister = shortlister
        self._recommender: Recommender | None = None
        self._gems: GemIndex | None = None
        self._children: dict[str, list[str]] | None = None

    # Loading ---------------------------------------------------------------------------------------------------

    def warm(self, *, priors: bool = False) -> AppService:
        """Load everything now (the app calls this before it serves, so the first message is not slow).

        Args:
            priors: also fit (or load from the disk cache) the catalog prior of every task benchmark; ~35 s on two
                cores the first time on a machine, milliseconds afterwards.
        """
        self.recommender.recommend("best 7B model for grade-school math", k=1, confirm="none")
        self.gem_index.gems("gsm8k")  # the Gems tab's first view: places every tree once
        if priors:
            for task, benchmarks in TASK_BENCHMARKS.items():
                self.recommender.predictor.predict_rows(np.arange(1), benchmarks)
        return self

    @property
    def recommender(self) -> Recommender:
        if self._recommender is None:
            with self._lock:
                if self._recommender is None:
                    from recommender import Recommender
                    from recommender.shortlist import Shortlister

                    shortlister = self._shortlister or Shortlister.load(self.data_dir)
                    self._recommender = Recommender(shortlister)
        return self._recommender

    @property
    def catalog(self) -> Catalog:
        return self.recommender.catalog

    @property
    def gem_index(self) -> GemIndex:
        if self._gems is None:
            catalog = self.catalog
            with self._lock:
                if self._gems is None:
                    from recommender.gems import GemIndex

                    self._gems = GemIndex(catalog)
        return self._gems

    def new_session(self) -> ChatSession:
        """A fresh conversation (deterministic planner, or the chat model ``$GEMFINDER_CHAT_MODEL`` names)."""
        from recommender.agent import ChatSession

        return ChatSession(self.recommender)

    # Chat ------------------------------------------------------------------------------------------------------

    def chat(self, message: Any, *, budget: Any = None, session: ChatSession | None = None,
             questions_file: str | None = None) -> Iterator[ChatUpdate]:
        """Answer one message, yielding a snapshot as each stage reports; the last one carries the reply.

        Args:
            message: the message as typed.
            budget: the budget box's value (see `parse_budget`); empty for none (a budget in the message counts).
            session: the conversation to continue; `None` for a one-off message.
            questions_file: an uploaded JSONL of ``{"question", "answer"}``: the local candidates are evaluated on it.

        Yields:
            `ChatUpdate` snapshots; never raises for bad input (the last update has ``error=True`` and a sentence).
        """
        queries, refusal = parse_budget(budget)
        if refusal:
            yield ChatUpdate(text=refusal, error=True)
            return
        session = session or self.new_session()
        if queries is not None and isinstance(message, str) and message.strip() and len(message) < 1900:
            message = f"{message.rstrip()} (evaluation budget: {queries} queries)"
        events: dict[str, StageEvent] = {}
        try:
            for item in session.stream(message, questions_file=questions_file or None):
                if hasattr(item, "stage"):
                    events[item.stage] = item
                    yield ChatUpdate(_stage_lines(events))
                    continue
                table = None if item.recommendation is None else self.results_table(item.recommendation)
                yield ChatUpdate(_stage_lines(events), safe_markdown(item.reply), table, error=item.error is not None)
        except Exception as err:  # noqa: BLE001 - every failure is a sentence in the chat; the app keeps serving
            log.exception("chat message failed")
            yield ChatUpdate(_stage_lines(events), text=(
                f"Something went wrong inside gemfinder ({type(err).__name__}); the app is still up. "
                "Try again, or rephrase the request."), error=True)

    def results_table(self, answer: Recommendation) -> pd.DataFrame:
        """The ranked picks with their evidence columns (numbers stay numbers so the table sorts)."""
        rows = []
        for p in answer.picks:
            known = {s.benchmark: s.value for s in p.known_scores}
            pred, meas = p.comparable_prediction(), p.measured
            row = {
                "#": p.rank, "model": p.id, "params (B)": p.params_b, "licence": p.license or "—",
                "popularity": p.popularity, "pop. is": p.popularity_kind or "—", "gem": "★ gem" if p.gem else "",
                "predicted": None if pred is None else pred[1], "± σ": None if pred is None else pred[2],
                "predicted on": "—" if pred is None else pred[0],
                "measured": None if meas is None else meas.accuracy, "n": None if meas is None else meas.n,
                "measured on": "—" if meas is None else meas.source,
                **{f"known {b}": known.get(b) for b in answer.benchmarks},
                "queries": p.queries, "best strategy": p.best_strategy or "—", "why": p.why_retrieved,
            }
            rows.append(row)
        columns = ["#", "model", "params (B)", "licence", "popularity", "pop. is", "gem", "predicted", "± σ",
                   "predicted on", "measured", "n", "measured on", *(f"known {b}" for b in answer.benchmarks), "queries",
                   "best strategy", "why"]
        numeric = ["params (B)", "popularity", "predicted", "± σ", "measured", "n",
                   *(f"known {b}" for b in answer.benchmarks)]
        return pd.DataFrame(rows, columns=columns).astype({c: "float64" for c in numeric}).round(2)

    # Model pages ------------------------------------------------------------------------------------------------

    def children(self, model_id: str) -> list[str]:
        """Catalog models whose ``base_model`` is `model_id` (case-insensitive), in catalog order."""
        if self._children is None:
            children: dict[str, list[str]] = {}
            frame = self.catalog.frame
            for child, base in zip(frame["id"], frame["base_model"]):
                if isinstance(base, str) and base:
                    children.setdefault(base.lower(), []).append(child)
            self._children = children
        return self._children.get(model_id.lower(), [])

    def evaluations(self, model_id: str) -> list[dict[str, Any]]:
        """Live evaluations of `model_id` found in the on-disk result cache (dataset, strategy, n, accuracy, when)."""
        from ui.app._evaluations import cached_evaluations

        return cached_evaluations(model_id)


def _stage_lines(events: dict[str, StageEvent]) -> tuple[str, ...]:
    """One line per stage reported so far, in pipeline order."""
    lines = []
    for stage, label in STAGE_LABELS.items():
        e = events.get(stage)
        if e is None:
            continue
        count = f" ({e.done:,}/{e.total:,})" if e.status == "progress" and e.total else ""
        took = f" · {e.seconds:.2f} s" if e.status == "done" else ""
        lines.append(f"{_MARKS.get(e.status, '·')} **{label}**: {safe_markdown(e.message)}{count}{took}")
    return tuple(lines)
