"""The systems compared by offline evaluation: gemfinder (three ways) and five baselines.

Every system is a function ``(request, config) → Answer``. A `Request` holds only what a system may see under the
leave-target-out protocol (`evals.recommend.protocol`): the request text, the constraints gemfinder's parser reads
from it (every system gets them, so rankings are compared on equal footing), the candidate rows (models that pass
those constraints and have a score on the target; the values are hidden), the catalog view without the target,
retrieval over that view, the catalog prior fitted on that view, and the target's recorded response matrix when one
exists (an evaluation paid for in queries).

Systems:

- ``gemfinder`` — predict, then confirm: each candidate's task score is the mean percentile over the parsed task's
  benchmarks visible in the view (its known score, else the catalog prior's prediction) plus its general capability
  (`predicted_task_scores`); then, when the parsed task includes the benchmark of the available matrix, accelerated
  Sequential Halving over the top `EvalConfig.confirm_k` candidates that the matrix holds, with `budget_per_model`
  queries per candidate; the measured order leads, the predicted order follows.
- ``gemfinder_no_confirm`` — the predicted order alone.
- ``gemfinder_exhaustive`` — the same confirmed candidates asked every question of the matrix.
- ``dense_only`` — cosine similarity of the request and the card embeddings.
- ``other_benchmarks_mean`` — the mean of each model's known scores (points) on every other benchmark.
- ``popularity`` — likes, else downloads.
- ``keyword_popularity`` — models whose name or card mention the task's words (the request's words when no task is
  parsed), by popularity, then the rest by popularity: a Hub search sorted by likes.
- ``random`` — a uniform random order, seeded per request.
- ``pipeline`` / ``pipeline_no_confirm`` — the product itself: `recommender.Recommender.recommend` (retrieval pool,
  known-or-predicted task scores, recorded confirmation of its top candidates) built on the same view, prior and
  matrix, with the candidates passed as its ``mask`` and B = `budget_per_model` × `confirm_k`. The ``gemfinder*``
  rows use the same parts (parser, catalog prior, recorded matrices, best-arm search) but rank every candidate, vote
  in percentiles with a general-capability vote, and order all confirmed candidates by measurement.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from index.catalog import Catalog
from index.vocabulary import BENCHMARKS, TASK_BENCHMARKS, TASK_KEYWORDS
from recommender.confirm.matrix import ResponseMatrix
from search.query import ParsedQuery
from search.retrieval import Retriever

__all__ = ["SYSTEMS", "Answer", "EvalConfig", "Request", "confirm", "predicted_task_scores", "request_seed"]


@dataclass(frozen=True)
class EvalConfig:
    """Settings of one evaluation run.

    Attributes:
        budget_per_model (`int`): confirm queries per confirmed candidate on average (B = this × candidates); 0 skips
            confirmation.
        confirm_k (`int`): candidates confirmed (the top of the predicted order that the matrix holds).
        algorithm (`str`): the best-arm algorithm (`recommender.confirm.ALGORITHMS`).
        k (`int`): the cut-off of NDCG and recall.
        seed (`int`): seeds the random baseline and the confirm stage (with each request's text).
    """

    budget_per_model: int = 50
    confirm_k: int = 40
    algorithm: str = "accelerated_sh"
    k: int = 10
    seed: int = 0

    def __post_init__(self) -> None:
        from recommender.confirm import ALGORITHMS

        if self.budget_per_model < 0:
            raise ValueError(f"budget_per_model={self.budget_per_model!r} must be ≥ 0 queries per candidate.")
        if self.confirm_k < 2:
            raise ValueError(f"confirm_k={self.confirm_k!r} must be at least 2: a search needs two candidates.")
        if self.k < 1:
            raise ValueError(f"k={self.k!r} must be at least 1.")
        if self.algorithm not in ALGORITHMS:
            raise ValueError(f"Unknown algorithm {self.algorithm!r}; expected one of {', '.join(ALGORITHMS)}.")


@dataclass(frozen=True)
class Request:
    """What a system sees of one evaluation request (never the target's scores).

    Attributes:
        text (`str`): the request as written.
        parsed (`ParsedQuery`): gemfinder's reading of it (task, constraints).
        candidates (`np.ndarray`): catalog rows that pass the parsed constraints and have a target score (sorted).
        view (`Catalog`): the catalog without the target benchmark.
        retriever (`Retriever`): dense + lexical retrieval over the view.
        prior (`Callable[[str], CatalogPrior | None]`): benchmark → the catalog prior fitted on the view for it,
            `None` where it cannot be fitted (the hidden target, too few scores).
        matrix (`ResponseMatrix`, *optional*): the target's recorded answers, when a matrix exists.
        seed (`int`): this request's seed.
        recommender (`Callable[[], Recommender]`, *optional*): the product's `recommender.Recommender` built on the
            view (its shortlister, prior and oracles all hide the target), made on first call.
    """

    text: str
    parsed: ParsedQuery
    candidates: np.ndarray
    view: Catalog
    retriever: Retriever
    prior: Callable
    matrix: ResponseMatrix | None
    seed: int
    recommender: Callable | None = None


@dataclass(frozen=True)
class Answer:
    """A system's ranking of the candidates.

    Attributes:
        ranking (`np.ndarray`): catalog rows, best first (every candidate, or at least the first `k`).
        spent (`int`): evaluation queries spent (one question to one model).
    """

    ranking: np.ndarray
    spent: int = 0


def request_seed(text: str, seed: int) -> int:
    """A per-request seed: the run's seed mixed with the request text."""
    return zlib.crc32(f"{seed}/{text}".encode())


def _order(rows: np.ndarray, score: np.ndarray) -> np.ndarray:
    """`rows` by `score` descending (NaN last), ties in row order."""
    key = np.where(np.isnan(score), -np.inf, score)
    return rows[np.argsort(-key, kind="stable")]


# Prediction ---------------------------------------------------------------------------------------------------


def _percentile(values: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Percentile (0–100) of each value among the reference's known values (mid-rank); NaN stays NaN."""
    ref = np.sort(reference[~np.isnan(reference)])
    lo = np.searchsorted(ref, values, side="left")
    hi = np.searchsorted(ref, values, side="right")
    out = 100.0 * (lo + hi) / (2.0 * ref.size)
    return np.where(np.isnan(values), np.nan, out)


def _general(request: Request) -> np.ndarray:
    """Each candidate's general capability: the mean percentile of all its known scores in the view (NaN: none)."""
    rows = request.candidates
    columns = [_percentile(ref[rows], ref) for b in BENCHMARKS if not np.isnan(ref := request.view.scores(b)).all()]
    return _nanmean(np.vstack(columns))


def _nanmean(stacked: np.ndarray) -> np.ndarray:
    known = ~np.isnan(stacked)
    total = np.where(known, stacked, 0.0).sum(axis=0)
    return np.where(known.any(axis=0), total / np.maximum(known.sum(axis=0), 1), np.nan)


def predicted_task_scores(request: Request) -> np.ndarray:
    """Each candidate's predicted task score (mean percentile, 0–100; NaN where nothing is known), as `gemfinder`.

    One vote per benchmark of the parsed task that the view still scores — the known score where the view has one,
    else the catalog prior's prediction, placed among the view's known scores of that benchmark — plus one vote for
    the candidate's general capability (mean percentile of all its known scores). Benchmarks share a strong common
    factor, and a task benchmark known only through the prior (gpqa for a v1 model) is a noisy estimate; the general
    vote keeps such a prediction from deciding the order alone. With no task parsed, the general vote decides.
    """
    rows = request.candidates
    frame = request.view.frame
    task = request.parsed.task
    columns = []
    for b in TASK_BENCHMARKS.get(task, ()) if task else ():
        reference = request.view.scores(b)
        if np.isnan(reference).all():
            continue  # the hidden target: nothing left to place a prediction against
        value = reference[rows].copy()
        missing = np.isnan(value)
        prior = request.prior(b)
        if missing.any() and prior is not None:
            value[missing] = prior.predict(frame.iloc[rows[missing]], b)[0]
        columns.append(_percentile(value, reference))
    columns.append(_general(request))
    return _nanmean(np.vstack(columns))


# Confirmation -------------------------------------------------------------------------------------------------


def confirm(request: Request, order: np.ndarray, config: EvalConfig, *, exhaustive: bool) -> Answer:
    """Measure the top of `order` on the target's matrix; the measured order leads, the rest keep `order`."""
    matrix = request.matrix
    if matrix is None or (config.budget_per_model == 0 and not exhaustive):
        return Answer(order, 0)
    task = request.parsed.task
    if task is None or matrix.benchmark not in TASK_BENCHMARKS[task]:
        return Answer(order, 0)  # the request, as parsed, does not ask for what the matrix measures
    in_matrix = {m.lower() for m in matrix.model_ids}
    ids = request.view.frame["id"].to_numpy()
    arms = np.array([r for r in order if ids[r].lower() in in_matrix][: config.confirm_k], dtype=np.int64)
    if arms.size < 2:
        return Answer(order, 0)
    sub = matrix.rows([ids[r] for r in arms])
    if exhaustive:
        measured = sub.values.mean(axis=1)
        # Ties keep the predicted order (arms are already in it).
        confirmed = arms[np.argsort(-measured, kind="stable")]
        spent = sub.values.size
    else:
        from recommender.confirm import ALGORITHMS
        from recommender.confirm.oracle import RecordedOracle

        est = ALGORITHMS[config.algorithm](seed=request.seed).fit(
            RecordedOracle(sub), config.budget_per_model * arms.size)
        result = est.result_
        estimates = np.nan_to_num(result.estimates, nan=-1.0)
        # The returned arm first; then arms that survived longer (more pulls), then by measured mean.
        rest = np.lexsort((np.arange(arms.size), -estimates, -result.pulls))
        rest = rest[rest != result.best_arm]
        confirmed = arms[np.concatenate([[result.best_arm], rest])]
        spent = int(result.spent)
    measured_set = set(confirmed.tolist())
    tail = np.array([r for r in order if r not in measured_set], dtype=np.int64)
    return Answer(np.concatenate([confirmed, tail]), spent)


# The systems --------------------------------------------------------------------------------------------------


def gemfinder_no_confirm(request: Request, config: EvalConfig) -> Answer:
    return Answer(_order(request.candidates, predicted_task_scores(request)))


def gemfinder(request: Request, config: EvalConfig) -> Answer:
    return confirm(request, gemfinder_no_confirm(request, config).ranking, config, exhaustive=False)


def gemfinder_exhaustive(request: Request, config: EvalConfig) -> Answer:
    return confirm(request, gemfinder_no_confirm(request, config).ranking, config, exhaustive=True)


def dense_only(request: Request, config: EvalConfig) -> Answer:
    retriever = request.retriever
    mask = np.zeros(len(request.view), dtype=bool)
    mask[request.candidates] = True
    query = retriever.embedder.encode_query(request.parsed.retrieval_text or request.text)
    _, rows = retriever.store.search(query, max(config.k, 1), mask=mask)
    return Answer(np.asarray(rows, dtype=np.int64))


def other_benchmarks_mean(request: Request, config: EvalConfig) -> Answer:
    scores = np.column_stack([request.view.scores(b)[request.candidates] for b in BENCHMARKS])
    known = ~np.isnan(scores)
    mean = np.where(known.any(axis=1), np.nansum(scores, axis=1) / np.maximum(known.sum(axis=1), 1), np.nan)
    return Answer(_order(request.candidates, mean))


def _popularity(view: Catalog, rows: np.ndarray) -> np.ndarray:
    likes = view.frame["likes"].to_numpy(dtype=float, na_value=np.nan)[rows]
    downloads = view.frame["downloads"].to_numpy(dtype=float, na_value=np.nan)[rows]
    return np.where(np.isnan(likes), downloads, likes)


def popularity(request: Request, config: EvalConfig) -> Answer:
    return Answer(_order(request.candidates, _popularity(request.view, request.candidates)))


def keyword_popularity(request: Request, config: EvalConfig) -> Answer:
    task = request.parsed.task
    words = " ".join(TASK_KEYWORDS[task]) if task else (request.parsed.retrieval_text or request.text)
    matched = request.retriever.lexical.scores(words)[request.candidates] > 0
    pop = np.nan_to_num(_popularity(request.view, request.candidates), nan=-1.0)
    # Matches first (by popularity), then the rest (by popularity): a Hub search sorted by likes, then browsing.
    return Answer(request.candidates[np.lexsort((request.candidates, -pop, ~matched))])


def _pipeline(request: Request, config: EvalConfig, *, confirmed: bool) -> Answer:
    """The product's `Recommender.recommend` on the request, restricted to the candidates by its ``mask``."""
    from index.errors import NoCandidatesError

    if request.recommender is None or request.candidates.size == 0:
        return Answer(np.empty(0, dtype=np.int64))
    mask = np.zeros(len(request.view), dtype=bool)
    mask[request.candidates] = True
    on = confirmed and config.budget_per_model > 0
    try:
        out = request.recommender().recommend(
            request.text, k=config.k, budget=config.budget_per_model * config.confirm_k if on else None,
            confirm="recorded" if on else "none", mask=mask)
    except NoCandidatesError:
        return Answer(np.empty(0, dtype=np.int64))
    return Answer(np.array([request.view.row(p.id) for p in out.picks], dtype=np.int64), int(out.spent_queries))


def pipeline(request: Request, config: EvalConfig) -> Answer:
    return _pipeline(request, config, confirmed=True)


def pipeline_no_confirm(request: Request, config: EvalConfig) -> Answer:
    return _pipeline(request, config, confirmed=False)


def random(request: Request, config: EvalConfig) -> Answer:
    rng = np.random.default_rng(request.seed)
    return Answer(rng.permutation(request.candidates))


#: name → system, in the report's order.
SYSTEMS: dict[str, Callable[[Request, EvalConfig], Answer]] = {
    "gemfinder": gemfinder,
    "gemfinder_no_confirm": gemfinder_no_confirm,
    "gemfinder_exhaustive": gemfinder_exhaustive,
    "dense_only": dense_only,
    "other_benchmarks_mean": other_benchmarks_mean,
    "popularity": popularity,
    "keyword_popularity": keyword_popularity,
    "random": random,
    "pipeline": pipeline,
    "pipeline_no_confirm": pipeline_no_confirm,
}
