"""The systems compared by offline evaluation: gemfinder (three ways) and five baselines.

Every system is a function ``(request, config) → Answer``. A `Request` holds only what a system may see under the
leave-target-out protocol (`evals.recommend.protocol`): the request text, the constraints gemfinder's parser reads
from it (every system gets them, so rankings are compared on equal footing), the candidate rows (models that pass
those constraints and have a score on the target; the values are hidden), the catalog view without the target,
retrieval over that view, the catalog prior fitted on that view, and the target's recorded response matrix when one
exists (an evaluation paid for in queries).

Systems:

- ``gemfinder`` — the product: `recommender.Recommender.recommend` built on the view, its prior and the target's
  matrix (`Request.recommender`), with the candidates passed as its ``mask`` and a discovery budget of
  `budget_per_model` × `confirm_k` queries. It ranks every candidate by its task vote (`Recommender.task_vote`: one
  percentile per visible task benchmark — known, else the catalog prior's prediction — plus a general-capability
  vote); when the parsed task includes the matrix's benchmark, it races the top `confirm_k` candidates that the
  matrix holds and puts the confirmed arms first in measured order.
- ``gemfinder_no_confirm`` — the same Recommender with ``confirm="none"``: the predicted order alone.
- ``gemfinder_exhaustive`` — the same Recommender with ``confirm="exhaustive"``: the same candidates asked every
  question of the matrix.
- ``dense_only`` — cosine similarity of the request and the card embeddings.
- ``other_benchmarks_mean`` — the mean of each model's known scores (points) on every other benchmark.
- ``popularity`` — likes, else downloads.
- ``keyword_popularity`` — models whose name or card mention the task's words (the request's words when no task is
  parsed), by popularity, then the rest by popularity: a Hub search sorted by likes.
- ``random`` — a uniform random order, seeded per request.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from index.catalog import Catalog
from index.vocabulary import BENCHMARKS, TASK_KEYWORDS
from recommender.confirm.matrix import ResponseMatrix
from search.query import ParsedQuery
from search.retrieval import Retriever

__all__ = ["SYSTEMS", "Answer", "EvalConfig", "Request", "request_seed"]


@dataclass(frozen=True)
class EvalConfig:
    """Settings of one evaluation run.

    Attributes:
        budget_per_model (`int`): confirm queries per confirmed candidate on average (B = this × candidates); 0 skips
            confirmation.
        confirm_k (`int`): candidates confirmed (the top of the predicted order that the matrix holds).
        algorithm (`str`): the best-arm algorithm named in the report; the Recommender's confirm stage races with
            prior-guided Sequential Halving where it has a prior on the matrix's benchmark and accelerated
            Sequential Halving otherwise — always the latter here, since the target is hidden.
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


# The systems --------------------------------------------------------------------------------------------------


def _gemfinder(request: Request, config: EvalConfig, *, confirm: str) -> Answer:
    """The product's `Recommender.recommend` on the request, restricted to the candidates by its ``mask``."""
    from index.errors import NoCandidatesError

    if request.recommender is None or request.candidates.size == 0:
        return Answer(np.empty(0, dtype=np.int64))
    mask = np.zeros(len(request.view), dtype=bool)
    mask[request.candidates] = True
    if confirm == "recorded" and config.budget_per_model == 0:
        confirm = "none"
    try:
        out = request.recommender().recommend(
            request.text, k=config.k, budget=max(1, config.budget_per_model * config.confirm_k),
            confirm=confirm, mask=mask, seed=request.seed)
    except NoCandidatesError:
        return Answer(np.empty(0, dtype=np.int64))
    return Answer(np.array([request.view.row(p.id) for p in out.picks], dtype=np.int64), int(out.spent_queries))


def gemfinder(request: Request, config: EvalConfig) -> Answer:
    return _gemfinder(request, config, confirm="recorded")


def gemfinder_no_confirm(request: Request, config: EvalConfig) -> Answer:
    return _gemfinder(request, config, confirm="none")


def gemfinder_exhaustive(request: Request, config: EvalConfig) -> Answer:
    return _gemfinder(request, config, confirm="exhaustive")


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
}
