"""The first answer gemfinder gives: retrieve, filter, and order by what is already known about the task.

A request's task maps to benchmarks (``math`` → gsm8k, math_lvl5). Raw points are not comparable across
benchmarks (a 40 on MATH Lvl 5 is excellent, on GSM8K it is weak), so each known score is turned into its percentile
among all catalog models with that benchmark, and a model's *task score* is the mean percentile over the task's
benchmarks it has. Models with a task score come first, by task score; the rest follow by retrieval score. The
prioritise (prediction) and confirm (evaluation) stages refine this order later in the pipeline.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from index import constants
from index.catalog import Catalog
from index.embed import Embedder
from index.errors import NoCandidatesError
from index.record import ModelRecord
from index.vectors import OnStale_T, open_vector_store
from index.vocabulary import BENCHMARKS, TASK_BENCHMARKS
from search.query import ParsedQuery, parse_query
from search.retrieval import Candidate, Retriever


@dataclass(frozen=True)
class ShortlistEntry:
    """One model in the answer.

    Attributes:
        record (`ModelRecord`): the catalog record.
        candidate (`Candidate`): how it was retrieved.
        task_score (`float`, *optional*): mean percentile (0–100) of its known scores on the task's benchmarks;
            `None` when no task was inferred or none of them is known.
        reason (`str`): why it is on the list.
    """

    record: ModelRecord
    candidate: Candidate
    task_score: float | None
    reason: str

    def to_dict(self) -> dict[str, Any]:
        """The ``results[]`` item of ``gemfinder ask --json``."""
        r = self.record
        return {
            "id": r.id, "params_b": r.params_b, "license": r.license, "likes": r.likes, "downloads": r.downloads,
            "scores": {b: s.value for b, s in r.scores.items()},
            "retrieval_score": self.candidate.retrieval_score, "reason": self.reason,
        }


@dataclass(frozen=True)
class Shortlist:
    """The ordered answer to one request."""

    query: ParsedQuery
    entries: tuple[ShortlistEntry, ...]
    eligible: int  # models that passed the hard filters

    @property
    def benchmarks(self) -> tuple[str, ...]:
        """The inferred task's benchmarks (empty when no task)."""
        return TASK_BENCHMARKS.get(self.query.task, ()) if self.query.task else ()

    def to_dict(self) -> dict[str, Any]:
        """The ``gemfinder ask --json`` object."""
        return {
            "query": self.query.text, "task": self.query.task, "constraints": self.query.constraints.to_dict(),
            "results": [e.to_dict() for e in self.entries],
        }


def benchmark_percentiles(catalog: Catalog) -> dict[str, np.ndarray]:
    """Per benchmark, each row's percentile (0–100) among rows with a score; NaN where unknown."""
    out = {}
    for b in BENCHMARKS:
        values = catalog.scores(b)
        known = ~np.isnan(values)
        pct = np.full(len(values), np.nan)
        if known.any():
            ranks = values[known].argsort(kind="stable").argsort(kind="stable")
            pct[known] = 100.0 * (ranks + 0.5) / known.sum()
        out[b] = pct
    return out


class Shortlister:
    """Answer a request with a ranked shortlist (retrieval + known scores).

    Args:
        retriever: dense + lexical retrieval over the catalog.
        pool: how many fused retrieval candidates are considered besides the best-known task performers.

    Example:
        >>> shortlister = Shortlister.load()
        >>> shortlister.ask("best 7B model for grade-school math with an apache-2.0 license", k=5)
    """

    def __init__(self, retriever: Retriever, *, pool: int = 100):
        self.retriever = retriever
        self.pool = pool
        self._percentiles = benchmark_percentiles(retriever.catalog)

    @classmethod
    def load(
        cls, data_dir: str | Path | None = None, *, embedder: Embedder | None = None, on_stale: OnStale_T = "error"
    ) -> Shortlister:
        """Open the catalog and vectors in `data_dir` (default: the shipped snapshot)."""
        data_dir = Path(data_dir) if data_dir is not None else constants.DATA_DIR
        catalog = Catalog.load(data_dir / constants.CATALOG_FILENAME)
        embedder = embedder or Embedder()
        store = open_vector_store(
            catalog, path=data_dir / constants.VECTORS_FILENAME, embedder=embedder, on_stale=on_stale
        )
        return cls(Retriever(catalog, store, embedder))

    @property
    def catalog(self) -> Catalog:
        return self.retriever.catalog

    def task_scores(self, task: str | None) -> np.ndarray:
        """Per row, the mean percentile over the task's known benchmarks (NaN where none is known)."""
        if task is None:
            return np.full(len(self.catalog), np.nan)
        stacked = np.vstack([self._percentiles[b] for b in TASK_BENCHMARKS[task]])
        known = ~np.isnan(stacked)
        total = np.where(known, stacked, 0.0).sum(axis=0)
        count = known.sum(axis=0)
        return np.where(count > 0, total / np.maximum(count, 1), np.nan)

    def ask(self, query: str | bytes | ParsedQuery, *, k: int = 10, mask: np.ndarray | None = None) -> Shortlist:
        """Parse, retrieve, filter and order.

        Args:
            query: the request text (or an already parsed query).
            k: how many models to return.
            mask: an extra row filter (bool per catalog row) applied on top of the request's own filters (e.g. a
                price bound, or the models a follow-up keeps).

        Returns:
            The shortlist, best first.

        Raises:
            QueryError: the request cannot be parsed (empty, too long, contradictory, unknown licence).
            NoCandidatesError: no catalog model passes the request's filters.
        """
        parsed = query if isinstance(query, ParsedQuery) else parse_query(query)
        mask = self.retriever.mask(parsed) if mask is None else self.retriever.mask(parsed) & mask
        if not mask.any():
            raise NoCandidatesError(parsed.constraints.describe())
        task_score = self.task_scores(parsed.task)
        scored_rows = np.flatnonzero(mask & ~np.isnan(task_score))
        best_known = scored_rows[np.argsort(-task_score[scored_rows], kind="stable")][: max(k, self.pool)]
        candidates = self.retriever.retrieve(parsed, k=max(k, self.pool), mask=mask, include_rows=best_known)
        # Known task performance first (higher is better), then retrieval; ties keep retrieval order.
        candidates.sort(key=lambda c: (np.isnan(task_score[c.row]), -np.nan_to_num(task_score[c.row])))
        entries = tuple(self._entry(parsed, c, task_score[c.row]) for c in candidates[:k])
        return Shortlist(query=parsed, entries=entries, eligible=int(mask.sum()))

    def _entry(self, parsed: ParsedQuery, candidate: Candidate, task_score: float) -> ShortlistEntry:
        record = self.catalog.record(candidate.row)
        reason = candidate.reason
        if not np.isnan(task_score):
            known = [f"{b} {record.score(b):.1f}" for b in TASK_BENCHMARKS[parsed.task] if record.score(b) is not None]
            top = max(1, round(100 - task_score))
            reason = f"known {parsed.task} scores: {', '.join(known)} (top {top}% of the catalog); {reason}"
        return ShortlistEntry(record, candidate, None if np.isnan(task_score) else round(float(task_score), 2), reason)
