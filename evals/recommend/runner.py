"""Running an offline evaluation: per request, hide the target, ask every system, score the answers.

`EvalContext` holds what is shared by all requests — the catalog, the card vectors, the embedding model, the
recorded matrices — and caches per target benchmark what is expensive: the held-out view and the catalog priors
fitted on it (one `CatalogPrior` per (target, benchmark), 1–3 s each; fitted when first needed, then reused by
every request with that target).

Example:
    >>> ctx = EvalContext.load()
    >>> result = evaluate(load_queries("evals/queries/recommend.jsonl"), ctx, EvalConfig())
    >>> result.summary()["gemfinder"]["ndcg@10"]
"""

from __future__ import annotations

import copy
import math
import os
import re
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np

from index.catalog import Catalog
from index.embed import Embedder
from index.errors import QueryError, UsageError
from index.store import VectorStore
from index.vocabulary import BENCHMARKS, TASK_BENCHMARKS
from evals.recommend import metrics
from evals.recommend.protocol import HeldOut
from evals.recommend.queries import QueryCase
from evals.recommend.systems import SYSTEMS, Answer, EvalConfig, Request, request_seed
from recommender.confirm.matrix import ResponseMatrix
from search.filters import filter_mask
from search.query import Constraints, ParsedQuery, parse_query
from search.retrieval import Retriever

__all__ = ["EvalContext", "EvalResult", "QueryOutcome", "SUBSETS", "constraints_match", "evaluate",
           "load_oracles", "V1_BENCHMARKS"]

#: the Open LLM Leaderboard v1 benchmarks (popularity is known for every model there: the issue's target subset).
V1_BENCHMARKS: tuple[str, ...] = ("arc", "hellaswag", "mmlu", "truthfulqa", "winogrande", "gsm8k")
#: relative tolerance on size bounds when a parse is compared with the truth (the parser rounds 5.95 → 5.9).
SIZE_TOLERANCE = 0.02
_RESPONSES_FILE = re.compile(r"^(?P<b>[a-z0-9_]+?)_responses.*\.csv(?:\.gz)?$")


# Oracles ------------------------------------------------------------------------------------------------------


def load_oracles(responses_dir: str | Path | None = None, *, shipped: bool = True) -> dict[str, ResponseMatrix]:
    """Recorded matrices by benchmark: the shipped four, plus (replacing them) those in `responses_dir`.

    Args:
        responses_dir: a folder of ``<benchmark>_responses*.csv[.gz]`` files in the ``bench-sh`` format.
        shipped: include the shipped matrices (``index/data/responses``).

    Raises:
        UsageError: the folder is missing, holds no such file, or names a benchmark twice or an unknown one.
        ResponseMatrixError: a file cannot be read as a matrix.
    """
    from recommender.confirm.recorded import RECORDED_BENCHMARKS, load_responses, read_matrix

    oracles = {b: load_responses(b) for b in RECORDED_BENCHMARKS} if shipped else {}
    if responses_dir is None:
        return oracles
    folder = Path(responses_dir)
    if not folder.is_dir():
        raise UsageError(f"--responses '{folder}' is not a folder; pass a folder of <benchmark>_responses*.csv[.gz].")
    found: dict[str, Path] = {}
    for path in sorted(folder.iterdir()):
        m = _RESPONSES_FILE.match(path.name)
        if not m:
            continue
        b = m.group("b")
        if b not in BENCHMARKS:
            raise UsageError(f"'{path}' names benchmark '{b}', which the catalog does not score; expected "
                             f"<benchmark>_responses*.csv[.gz] with one of {', '.join(BENCHMARKS)}.")
        if b in found:
            raise UsageError(f"'{found[b]}' and '{path}' are both matrices of '{b}'; keep one per benchmark.")
        found[b] = path
    if not found:
        raise UsageError(f"--responses '{folder}' holds no <benchmark>_responses*.csv[.gz] file.")
    oracles.update({b: read_matrix(p, benchmark=b) for b, p in found.items()})
    return oracles


# The shared context ----------------------------------------------------------------------------------------------


class EvalContext:
    """The catalog, retrieval and oracles shared by every request, plus per-target caches.

    Args:
        catalog: the full catalog (ground truth lives here; systems only ever see held-out views of it).
        store: its card vectors.
        embedder: the model the store was built with (embeds queries).
        oracles: benchmark → recorded response matrix.
        prior_params: keyword arguments of every `CatalogPrior` fitted (default the prior's own defaults).
    """

    def __init__(self, catalog: Catalog, store: VectorStore, embedder: Embedder, *,
                 oracles: Mapping[str, ResponseMatrix] | None = None, prior_params: Mapping | None = None):
        self.catalog = catalog
        self.store = store
        self.embedder = embedder
        self.oracles = dict(oracles or {})
        self.prior_params = dict(prior_params or {})
        self._base_retriever: Retriever | None = None
        self._held: dict[str, HeldOut] = {}
        self._retrievers: dict[str, Retriever] = {}
        self._priors: dict[tuple[str, str], object] = {}
        self._recommenders: dict[tuple[str, int, int], object] = {}
        self.prior_seconds = 0.0

    @classmethod
    def load(cls, *, responses_dir: str | Path | None = None, embedder: Embedder | None = None,
             data_dir: str | Path | None = None) -> EvalContext:
        """The shipped catalog and vectors (or those in `data_dir`), the shipped matrices plus `responses_dir`."""
        from index import constants
        from index.vectors import open_vector_store

        data_dir = Path(data_dir) if data_dir is not None else constants.DATA_DIR
        catalog = Catalog.load(data_dir / constants.CATALOG_FILENAME)
        embedder = embedder or Embedder()
        store = open_vector_store(catalog, path=data_dir / constants.VECTORS_FILENAME, embedder=embedder)
        return cls(catalog, store, embedder, oracles=load_oracles(responses_dir))

    def held_out(self, benchmark: str) -> HeldOut:
        if benchmark not in self._held:
            self._held[benchmark] = HeldOut.build(self.catalog, benchmark)
        return self._held[benchmark]

    def retriever(self, benchmark: str) -> Retriever:
        """Retrieval over the view without `benchmark` (re-embedding only the cards the scrub changed)."""
        if benchmark in self._retrievers:
            return self._retrievers[benchmark]
        held = self.held_out(benchmark)
        if held.changed_cards.size == 0:
            # Same texts, so the same vectors and lexical index; only the catalog handle is swapped for the view.
            if self._base_retriever is None:
                self._base_retriever = Retriever(self.catalog, self.store, self.embedder)
            retriever = copy.copy(self._base_retriever)
            retriever.catalog = held.view
        else:
            from index.vectors import build_vector_store

            store = build_vector_store(held.view, embedder=self.embedder, previous=self.store, progress=False)
            retriever = Retriever(held.view, store, self.embedder)
        self._retrievers[benchmark] = retriever
        return retriever

    def prior(self, target: str, benchmark: str):
        """The catalog prior for `benchmark` fitted on the view without `target`; `None` when it cannot be fitted."""
        if benchmark == target:
            return None
        key = (target, benchmark)
        if key not in self._priors:
            from recommender.predict.prior import CatalogPrior

            t0 = time.perf_counter()
            prior = CatalogPrior(exclude=(target,), **self.prior_params).fit(
                self.held_out(target).view.frame, benchmarks=(benchmark,))
            self.prior_seconds += time.perf_counter() - t0
            self._priors[key] = prior if benchmark in prior.models_ else None
        return self._priors[key]

    def recommender(self, target: str, config: EvalConfig):
        """The product's `Recommender` on the view without `target`: its shortlister, prior and oracles hide it."""
        key = (target, config.confirm_k, config.seed)
        if key not in self._recommenders:
            from recommender import Recommender
            from recommender.predict.prior import CatalogPrior
            from recommender.shortlist import Shortlister

            matrix = self.oracles.get(target)
            rec = Recommender(Shortlister(self.retriever(target)), CatalogPrior(exclude=(target,), **self.prior_params),
                              oracles={target: matrix} if matrix is not None else {}, prior_cache=False,
                              confirm_pool=config.confirm_k, seed=config.seed)
            # Share this context's per-(target, benchmark) fits instead of fitting the same priors a second time
            # (the pipeline has no per-benchmark prior hook; its predictor fits lazily with the same settings).
            rec.predictor.prior_for = lambda b, t=target: self.prior(t, b)
            self._recommenders[key] = rec
        return self._recommenders[key]

    def request(self, case: QueryCase, config: EvalConfig) -> tuple[Request, np.ndarray]:
        """The `Request` a system sees for `case`, and the truth the harness keeps (NaN outside the eligible set).

        A request the parser refuses (contradictory, unknown licence) gets no candidates: every system answers
        nothing and scores as such.
        """
        held = self.held_out(case.benchmark)
        try:
            parsed = parse_query(case.query)
            seen = filter_mask(held.view.frame, parsed.constraints, include_flagged=parsed.include_flagged,
                               include_unavailable=parsed.include_unavailable)
        except QueryError:
            parsed = ParsedQuery(text=case.query, task=None, constraints=Constraints(), retrieval_text=case.query)
            seen = np.zeros(len(held.view), dtype=bool)
        candidates = np.flatnonzero(seen & held.universe)
        request = Request(
            text=case.query, parsed=parsed, candidates=candidates, view=held.view,
            retriever=self.retriever(case.benchmark), prior=lambda b, t=case.benchmark: self.prior(t, b),
            matrix=self.oracles.get(case.benchmark), seed=request_seed(case.query, config.seed),
            recommender=lambda t=case.benchmark: self.recommender(t, config),
        )
        eligible = filter_mask(self.catalog.frame, case.filters) & held.universe
        return request, np.where(eligible, held.truth, np.nan)

    def popularity(self) -> np.ndarray:
        """Likes, else downloads, per row (NaN where neither is known)."""
        likes = self.catalog.frame["likes"].to_numpy(dtype=float, na_value=np.nan)
        downloads = self.catalog.frame["downloads"].to_numpy(dtype=float, na_value=np.nan)
        return np.where(np.isnan(likes), downloads, likes)


# Scoring ------------------------------------------------------------------------------------------------------


def _close(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is b
    return math.isclose(a, b, rel_tol=SIZE_TOLERANCE, abs_tol=1e-9)


def constraints_match(parsed: Constraints, truth: Constraints) -> bool:
    """Whether a parse reads the truth's constraints: sizes within `SIZE_TOLERANCE`, the rest exactly (licence sets)."""
    licenses = (None if parsed.license is None else set(parsed.license),
                None if truth.license is None else set(truth.license))
    return (_close(parsed.params_min_b, truth.params_min_b) and _close(parsed.params_max_b, truth.params_max_b)
            and licenses[0] == licenses[1] and parsed.family == truth.family and parsed.instruct == truth.instruct)


@dataclass(frozen=True)
class QueryOutcome:
    """One request's scores for every system.

    Attributes:
        line (`int`), query (`str`), benchmark (`str`), task (`str`): the case.
        eligible (`int`): models that pass the true filters and have a target score.
        candidates (`int`): models the systems ranked (parsed filters ∩ scored models).
        parse_ok (`bool`): the parsed constraints match the true filters.
        parsed_task (`str`, *optional*): the task the parser read.
        task_ok (`bool`): the parsed task's benchmarks include the target.
        recorded (`bool`): the target has a recorded matrix (confirm can measure).
        has_gem (`bool`): the eligible set holds a hidden gem.
        best (`str`, *optional*): the true best eligible model.
        systems (`dict[str, dict]`): name → {"ndcg@10", "regret@1", "recall@10", "gem_hit", "queries_spent", "pick"}.
        sweep (`dict[str, float]`): budget label → gemfinder's top-1 regret (recorded targets only).
    """

    line: int
    query: str
    benchmark: str
    task: str
    eligible: int
    candidates: int
    parse_ok: bool
    parsed_task: str | None
    task_ok: bool
    recorded: bool
    has_gem: bool
    best: str | None
    systems: dict = field(default_factory=dict)
    sweep: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)


def _score(answer: Answer, truth: np.ndarray, popularity: np.ndarray, ids: np.ndarray, k: int) -> dict:
    ranking = np.asarray(answer.ranking, dtype=np.int64)
    return {
        f"ndcg@{k}": metrics.ndcg_at_k(ranking, truth, k),
        "regret@1": metrics.top1_regret(ranking, truth),
        f"recall@{k}": metrics.recall_at_k(ranking, truth, k),
        "gem_hit": metrics.gem_hit(ranking, truth, popularity),
        "queries_spent": int(answer.spent),
        "pick": str(ids[ranking[0]]) if ranking.size else None,
    }


#: seeds averaged per budget in the regret-vs-budget sweep (one confirm run is cheap; one seed is noisy).
SWEEP_SEEDS = 5


def _sweep(request: Request, config: EvalConfig, budgets: Sequence[int], truth: np.ndarray) -> dict[str, float]:
    """gemfinder's top-1 regret at each budget per model (mean over `SWEEP_SEEDS` seeds), and exhaustive."""
    from evals.recommend.systems import gemfinder, gemfinder_exhaustive

    out = {}
    for n in budgets:
        regrets = [metrics.top1_regret(gemfinder(replace(request, seed=request.seed + s),
                                                 replace(config, budget_per_model=n)).ranking, truth)
                   for s in range(SWEEP_SEEDS if n else 1)]
        out[str(n)] = float(np.mean(regrets))
    out["exhaustive"] = metrics.top1_regret(gemfinder_exhaustive(request, config).ranking, truth)
    return out


@dataclass
class EvalResult:
    """Every request's outcome plus the run's settings and timings."""

    config: EvalConfig
    outcomes: list[QueryOutcome]
    skipped: list[dict]  # {"line", "query", "reason"} of requests with an empty eligible set
    systems: tuple[str, ...]
    sweep_budgets: tuple[int, ...]
    runtime_s: float = 0.0
    prior_s: float = 0.0
    load_start: float | None = None  # 1-minute load average when the run started (shared machines)

    def summary(self, where: Callable[[QueryOutcome], bool] | None = None) -> dict[str, dict]:
        """Per system, the means over the selected requests (gem hit rate over those with a gem; `None` if none)."""
        chosen = [o for o in self.outcomes if where is None or where(o)]
        k = self.config.k
        out = {}
        for name in self.systems:
            rows = [o.systems[name] for o in chosen]
            gems = [r["gem_hit"] for r in rows if r["gem_hit"] is not None]
            out[name] = {
                "n": len(rows),
                f"ndcg@{k}": _mean(r[f"ndcg@{k}"] for r in rows),
                "regret@1": _mean(r["regret@1"] for r in rows),
                f"recall@{k}": _mean(r[f"recall@{k}"] for r in rows),
                "gem_hit_rate": _mean(gems) if gems else None,
                "queries_spent": _mean(r["queries_spent"] for r in rows),
            }
        return out

    @property
    def parse_accuracy(self) -> float:
        return _mean(o.parse_ok for o in self.outcomes)

    @property
    def task_accuracy(self) -> float:
        return _mean(o.task_ok for o in self.outcomes)


def _mean(values: Iterable) -> float | None:
    values = [float(v) for v in values]
    return float(np.mean(values)) if values else None


#: named subsets of the requests, for the report (name → (description, predicate)).
SUBSETS: dict[str, tuple[str, Callable[[QueryOutcome], bool]]] = {
    "all": ("every request", lambda o: True),
    "v1": ("target from the Open LLM Leaderboard v1", lambda o: o.benchmark in V1_BENCHMARKS),
    "recorded": ("target has a recorded matrix", lambda o: o.recorded),
}


def evaluate(cases: Sequence[QueryCase], context: EvalContext, config: EvalConfig, *,
             systems: Sequence[str] | None = None, sweep_budgets: Sequence[int] = (0, 5, 10, 20, 50, 100),
             progress: bool = True) -> EvalResult:
    """Answer every case with every system under the leave-target-out protocol and score the answers.

    Args:
        cases: the requests (`load_queries`).
        context: the shared catalog, retrieval, oracles and caches.
        config: budget, confirm size, algorithm, cut-off, seed.
        systems: names from `SYSTEMS` (default all, in order).
        sweep_budgets: budgets per model at which gemfinder's top-1 regret is also measured (recorded targets).
        progress: one line per request on stderr.

    Returns:
        The `EvalResult`; requests whose eligible set is empty are listed in ``skipped``, not scored.

    Raises:
        ValueError: an unknown system name.
    """
    names = tuple(systems or SYSTEMS)
    unknown = [n for n in names if n not in SYSTEMS]
    if unknown:
        raise ValueError(f"Unknown system(s) {unknown}; expected some of {', '.join(SYSTEMS)}.")
    t0 = time.perf_counter()
    load_start = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    popularity = context.popularity()
    ids = context.catalog.frame["id"].to_numpy()
    outcomes, skipped = [], []
    for i, case in enumerate(cases, start=1):
        request, truth = context.request(case, config)
        eligible = int((~np.isnan(truth)).sum())
        if eligible == 0 or np.nanmax(truth) <= 0:
            skipped.append({"line": case.line, "query": case.query, "reason": "no eligible model has a score > 0"})
            continue
        scored = {n: _score(SYSTEMS[n](request, config), truth, popularity, ids, config.k) for n in names}
        parsed = request.parsed
        has_gem = next(iter(scored.values()))["gem_hit"] is not None
        outcome = QueryOutcome(
            line=case.line, query=case.query, benchmark=case.benchmark, task=case.task, eligible=eligible,
            candidates=int(request.candidates.size), parse_ok=constraints_match(parsed.constraints, case.filters),
            parsed_task=parsed.task, task_ok=parsed.task is not None and case.benchmark in TASK_BENCHMARKS[parsed.task],
            recorded=request.matrix is not None, has_gem=has_gem, best=str(ids[int(np.nanargmax(truth))]),
            systems=scored, sweep=_sweep(request, config, sweep_budgets, truth) if request.matrix is not None else {},
        )
        outcomes.append(outcome)
        if progress:
            g = scored.get("gemfinder", next(iter(scored.values())))
            print(f"[{i}/{len(cases)}] {case.benchmark:<12} eligible {eligible:>5,}  ndcg@{config.k} "
                  f"{g[f'ndcg@{config.k}']:.3f}  regret {g['regret@1']:5.2f}  {case.query[:60]}", file=sys.stderr)
    return EvalResult(config, outcomes, skipped, names, tuple(sweep_budgets), time.perf_counter() - t0,
                      context.prior_seconds, load_start)
