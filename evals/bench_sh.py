"""The Sequential Halving replication: best-arm algorithms on real model trees, the Hidden Gems paper's Table 2.

Hidden Gems (arXiv 2601.22157) searches trees of fine-tunes for the best model with N queries per model. Here the
arms are the models of one tree of a recorded response matrix (metabench: ARC, GSM8K, MMLU, TruthfulQA and the four
combined), one pull is one question asked to one model, and B = N·K. Per tree and N, over `reps` repetitions (each
with its own seed, arm order and question order), every registered algorithm plus three baselines is scored under
two truths, in points (0–100):

* *subset* — the model's mean over the matrix's questions × 100 (the pool the bandit samples: the paper's setting);
* *full* — the model's whole-benchmark score (the matrices are IRT-selected subsets of 100–249 questions).

Metrics: mean rank of the pick (1 = best; ties share the best rank), mean regret (true best − true score of the
pick), P(pick in the top ⌈1% of K⌉), budget spent (fraction of N·K), and the rate of returning a *hidden gem*
(paper's definition: not in the top ⌈1% of K⌉ by popularity, in the top ⌈1% of K⌉ by performance, strictly better
than every popular model; null where the tree has none). Baselines: ``random`` (a uniform pick, no queries),
``best_popular`` (the tree's most popular model by catalog likes, else downloads; no queries) and ``exhaustive``
(every arm on every question; picks the best subset mean; ties averaged).

The prior of the prior-aware algorithms comes only from catalog evidence that excludes the target: a
`recommender.predict.CatalogPrior` fitted on catalog models outside every searched tree, whose target benchmark is
never one of its features; its predictions are mapped onto the pool's scale by a line fitted on the matrix's models
outside the tree (subset means are not whole-benchmark scores).

    python -m evals.bench_sh [--budgets 5,10,20,50,100] [--reps 100] [--workers 2]

writes ``evals/reports/bench_sh.{json,md}`` and ``bench_sh_regret.png`` and prints the tables and the issue's
target check. The reports derive from CC BY-NC-SA 4.0 data (index/data/responses/NOTICE): same licence.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
import zlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np

from recommender.gems import gem_mask

if TYPE_CHECKING:
    from index.catalog import Catalog
    from recommender.confirm.matrix import ResponseMatrix

REPORTS = Path(__file__).resolve().parent / "reports"

Truth_T = Literal["subset", "full"]
TRUTHS: tuple[str, ...] = ("subset", "full")
BASELINES: tuple[str, ...] = ("random", "best_popular", "exhaustive")
#: algorithms handed the catalog prior (the others get ``prior=None``).
PRIOR_ALGORITHMS: tuple[str, ...] = ("prior_sh", "bayes_elim", "accelerated_sh")
DEFAULT_BUDGETS: tuple[int, ...] = (5, 10, 20, 50, 100)
#: the issue's target: on trees of at least this many models …
TARGET_MIN_TREE = 300
#: … min(accelerated_sh, prior_sh) at N=10 ≤ sequential_halving at N=50 + this many points, and at N=5 < SH at N=5.
TARGET_SLACK = 0.25


# Records --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReplicationRow:
    """One cell of the replication table: one algorithm at one N on one tree under one truth.

    Attributes:
        benchmark (`str`): the question pool (``"gsm8k"``, ``"combined"``).
        tree (`str`): the model tree (``"mistral-7b"``; ``"all"`` with ``--trees none``).
        n_models (`int`): K, arms in the tree.
        n_questions (`int`): Q, questions in the pool.
        queries_per_model (`int`): N (B = N·K); 0 for ``random`` / ``best_popular``, Q for ``exhaustive``.
        algorithm (`str`): a registered algorithm or a baseline.
        reps (`int`): repetitions averaged (fewer than asked where a slow algorithm hit its time cap; 1 for the
            deterministic ``best_popular`` and ``exhaustive``).
        truth (`str`): ``"subset"`` or ``"full"``.
        mean_rank (`float`): mean rank of the pick under the truth (1 = best, ties share the best rank).
        regret (`float`): mean (best true score − true score of the pick), points.
        p_top1pct (`float`): fraction of picks in the top ⌈1% of K⌉.
        budget_spent (`float`): mean pulls spent / (N·K); 1.0 for ``exhaustive``, 0.0 for the query-free baselines.
        gem_rate (`float`, *optional*): fraction of picks that are hidden gems; `None` when the tree has no gem
            under this truth or its popularity is unknown.
    """

    benchmark: str
    tree: str
    n_models: int
    n_questions: int
    queries_per_model: int
    algorithm: str
    reps: int
    truth: str
    mean_rank: float
    regret: float
    p_top1pct: float
    budget_spent: float
    gem_rate: float | None

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class GemReport:
    """Whether a tree holds a hidden gem under one truth (Hidden Gems' definition).

    Attributes:
        benchmark, tree, truth (`str`): where.
        n_models (`int`): K.
        top (`int`): ⌈1% of K⌉, the size of both "top 1%" sets.
        popular (`tuple[str, ...]`): the top-1%-popular models (ties at the cut included); empty when unknown.
        gems (`tuple[str, ...]`): the hidden gems; empty when none.
        popularity_known (`bool`): whether popularity was available to apply the definition at all.
    """

    benchmark: str
    tree: str
    truth: str
    n_models: int
    top: int
    popular: tuple[str, ...]
    gems: tuple[str, ...]
    popularity_known: bool

    @property
    def exists(self) -> bool:
        return bool(self.gems)

    def to_dict(self) -> dict:
        return {**asdict(self), "exists": self.exists}


@dataclass(frozen=True)
class TargetCheck:
    """The issue's target on one tree of ≥ 300 models under one truth (regrets in points)."""

    benchmark: str
    tree: str
    truth: str
    fast_n10: float
    sh_n50: float
    fast_n5: float
    sh_n5: float

    @property
    def passed_n10(self) -> bool:
        return self.fast_n10 <= self.sh_n50 + TARGET_SLACK

    @property
    def passed_n5(self) -> bool:
        return self.fast_n5 < self.sh_n5

    @property
    def passed(self) -> bool:
        return self.passed_n10 and self.passed_n5

    def to_dict(self) -> dict:
        return {**asdict(self), "passed_n10": self.passed_n10, "passed_n5": self.passed_n5, "passed": self.passed}


@dataclass(frozen=True)
class TreeInstance:
    """Everything a worker needs to replay one tree (plain arrays: cheap to send to a process).

    Attributes:
        benchmark, tree (`str`): names.
        model_ids (`tuple[str, ...]`): the arms, in matrix order.
        values (`np.ndarray`): ``uint8 (K, Q)`` answers of the tree's models.
        truths (`dict[str, np.ndarray]`): truth name → points per arm (``"full"`` absent when not known).
        popularity (`np.ndarray`, *optional*): likes-else-downloads per arm, NaN where unknown; `None` when too
            little is known to use.
        prior (`tuple[np.ndarray, np.ndarray]`, *optional*): (mean, std) per arm on the 0–1 reward scale.
    """

    benchmark: str
    tree: str
    model_ids: tuple[str, ...]
    values: np.ndarray
    truths: dict[str, np.ndarray]
    popularity: np.ndarray | None = None
    prior: tuple[np.ndarray, np.ndarray] | None = None

    @property
    def n_models(self) -> int:
        return self.values.shape[0]

    @property
    def n_questions(self) -> int:
        return self.values.shape[1]


@dataclass(frozen=True)
class ReplicationConfig:
    """Settings of one replication run.

    Attributes:
        budgets (`tuple[int, ...]`): the N values (queries per model).
        reps (`int`): repetitions per cell.
        min_tree (`int`): smallest tree searched.
        workers (`int`): processes (1 = in-process).
        seed (`int`): base of every repetition's seed.
        algo_time_s (`float`): per (tree, N, algorithm) cap in seconds: a slow algorithm stops after the repetition
            that crosses it, and its row says how many it ran (at least `min_reps`).
        min_reps (`int`): repetitions run whatever the time.
    """

    budgets: tuple[int, ...] = DEFAULT_BUDGETS
    reps: int = 100
    min_tree: int = 100
    workers: int = 2
    seed: int = 0
    algo_time_s: float = 2.0
    min_reps: int = 10

    def __post_init__(self) -> None:
        if not self.budgets or any(int(n) != n or n < 1 for n in self.budgets):
            raise ValueError(f"budgets={self.budgets!r} must be positive whole numbers of queries per model.")
        if self.reps < 1 or self.min_reps < 1:
            raise ValueError(f"reps={self.reps!r} and min_reps={self.min_reps!r} must be at least 1.")
        if self.min_tree < 2:
            raise ValueError(f"min_tree={self.min_tree!r} must be at least 2 (a search needs two arms).")
        if self.workers < 1:
            raise ValueError(f"workers={self.workers!r} must be at least 1.")


@dataclass
class Replication:
    """The outcome: rows, tree sizes, gems, target checks, notes and runtime."""

    rows: list[ReplicationRow] = field(default_factory=list)
    trees: list = field(default_factory=list)  # TreeReport per pool
    gems: list[GemReport] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    runtime_s: float = 0.0
    config: ReplicationConfig | None = None

    @property
    def checks(self) -> list[TargetCheck]:
        return target_checks(self.rows)

    def to_dict(self) -> dict:
        return {
            "config": None if self.config is None else asdict(self.config),
            "runtime_s": round(self.runtime_s, 1),
            "trees": [t.to_dict() for t in self.trees],
            "gems": [g.to_dict() for g in self.gems],
            "target_check": [c.to_dict() for c in self.checks],
            "notes": list(self.notes),
            "rows": [r.to_dict() for r in self.rows],
        }


# Truth, ranks and gems --------------------------------------------------------------------------------------------


def true_ranks(truth: np.ndarray) -> np.ndarray:
    """Rank of each arm under `truth`: 1 + the number of arms strictly better (ties share the best rank)."""
    ordered = np.sort(truth)
    return truth.size - np.searchsorted(ordered, truth, side="right") + 1


def top_count(n_models: int) -> int:
    """⌈1% of K⌉, the size of the paper's "top 1%"."""
    return max(1, math.ceil(0.01 * n_models))


def hidden_gems(truth: np.ndarray, popularity: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The paper's hidden gems over one tree's arms: the product's own definition (`recommender.gems.gem_mask`).

    Not top-1% popular, top-1% by performance, strictly better than every popular model; ties at the popularity cut
    are all popular, so the bar a gem must clear is never lowered by an arbitrary tie-break.

    Returns:
        ``(gem, popular)``: boolean masks over the arms.
    """
    return gem_mask(truth, popularity)


def _metrics(picks: np.ndarray, weights: np.ndarray | None, truth: np.ndarray,
             gem: np.ndarray | None) -> tuple[float, float, float, float | None]:
    """(mean rank, regret, p_top1pct, gem_rate) of picks (optionally weighted, e.g. uniform over ties)."""
    ranks = true_ranks(truth)[picks]
    w = np.full(picks.size, 1.0 / picks.size) if weights is None else weights
    rank = float(np.dot(w, ranks))
    regret = float(np.dot(w, truth.max() - truth[picks]))
    p_top = float(np.dot(w, ranks <= top_count(truth.size)))
    gem_rate = None if gem is None or not gem.any() else float(np.dot(w, gem[picks]))
    return rank, regret, p_top, gem_rate


# One cell: the algorithms on one tree at one N --------------------------------------------------------------------


def _replay_oracle(matrix: ResponseMatrix):
    """A fresh `RecordedOracle` over the tree's rows."""
    from recommender.confirm.oracle import RecordedOracle

    return RecordedOracle(matrix)


def _permuted(matrix: ResponseMatrix, ids: np.ndarray, questions: np.ndarray, arm_order: np.ndarray,
              question_order: np.ndarray) -> ResponseMatrix:
    """`matrix` with rows and columns permuted, without re-running its checks (a permutation of a valid matrix is
    valid; the 0/1 check over K·Q values is most of a repetition's set-up time)."""
    out = object.__new__(type(matrix))
    for name, value in (("benchmark", matrix.benchmark), ("model_ids", tuple(ids[arm_order])),
                        ("question_ids", tuple(questions[question_order])),
                        ("values", matrix.values[np.ix_(arm_order, question_order)]), ("costs", matrix.costs)):
        object.__setattr__(out, name, value)
    return out


def _instance_seed(instance: TreeInstance, seed: int) -> int:
    return zlib.crc32(f"{seed}/{instance.benchmark}/{instance.tree}".encode())


def _replay(instance: TreeInstance, n: int, algorithms: Mapping[str, type], config: ReplicationConfig,
            use_prior: bool | None = None) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Run each algorithm `config.reps` times at N = `n`; name → (picks as original arm indices, pulls spent).

    The instance's prior goes to every algorithm when `use_prior` is True, to none when False, and to those named
    in `PRIOR_ALGORITHMS` when None. The time cap counts this process's CPU time, so other processes sharing the
    cores do not cut the repetitions.
    """
    from recommender.confirm.base import Prior
    from recommender.confirm.matrix import ResponseMatrix

    k, q = instance.values.shape
    ids = np.asarray(instance.model_ids, dtype=object)
    questions = np.asarray([f"q{j}" for j in range(q)], dtype=object)
    picks = {name: [] for name in algorithms}
    spent = {name: [] for name in algorithms}
    elapsed = dict.fromkeys(algorithms, 0.0)
    base = _instance_seed(instance, config.seed)
    checked = ResponseMatrix(instance.benchmark, tuple(ids), tuple(questions), instance.values)  # validated once
    for r in range(config.reps):
        active = [a for a in algorithms if r < config.min_reps or elapsed[a] < config.algo_time_s]
        if not active:
            break
        # A fresh arm order and question order per repetition, shared by every algorithm and N (common random
        # numbers: differences between algorithms are not drowned by differences between draws).
        rng = np.random.default_rng([base, r])
        arm_order, question_order = rng.permutation(k), rng.permutation(q)
        oracle = _replay_oracle(_permuted(checked, ids, questions, arm_order, question_order))
        for name in active:
            oracle.reset()
            prior = None
            wants_prior = name in PRIOR_ALGORITHMS if use_prior is None else use_prior
            if wants_prior and instance.prior is not None:
                prior = Prior(instance.prior[0][arm_order], instance.prior[1][arm_order])
            t0 = time.process_time()
            est = algorithms[name](seed=base + r).fit(oracle, n * k, prior=prior)
            elapsed[name] += time.process_time() - t0
            picks[name].append(arm_order[est.best_arm_])
            spent[name].append(est.result_.spent)
    return {a: (np.asarray(picks[a], dtype=np.int64), np.asarray(spent[a], dtype=float)) for a in algorithms}


def run_cell(instance: TreeInstance, n: int, algorithms: Mapping[str, type] | Sequence[str],
             config: ReplicationConfig, use_prior: bool | None = None) -> list[ReplicationRow]:
    """Rows of every algorithm at N = `n` on one tree, under every truth the instance has.

    Args:
        instance: the tree.
        n: queries per model (B = n·K).
        algorithms: name → class, or names looked up in ``recommender.confirm.ALGORITHMS`` (what a worker
            process receives, since classes travel by name anyway).
        config: reps, seed, time cap.
        use_prior: hand the instance's prior to every algorithm (True), to none (False), or to those named in
            `PRIOR_ALGORITHMS` (None).

    Returns:
        One `ReplicationRow` per (algorithm, truth).
    """
    if not isinstance(algorithms, Mapping):
        from recommender.confirm import ALGORITHMS

        algorithms = {a: ALGORITHMS[a] for a in algorithms}
    results = _replay(instance, n, algorithms, config, use_prior)
    rows = []
    for truth_name, truth in instance.truths.items():
        gem = None if instance.popularity is None else hidden_gems(truth, instance.popularity)[0]
        for name, (picks, spent) in results.items():
            rank, regret, p_top, gem_rate = _metrics(picks, None, truth, gem)
            rows.append(_row(instance, n, name, picks.size, truth_name, rank, regret, p_top,
                             float(spent.mean() / (n * instance.n_models)), gem_rate))
    return rows


def baseline_rows(instance: TreeInstance, config: ReplicationConfig) -> list[ReplicationRow]:
    """``random``, ``best_popular`` (when popularity is known) and ``exhaustive`` under every truth."""
    k, q = instance.values.shape
    rng = np.random.default_rng([_instance_seed(instance, config.seed), 10**6])
    random_picks = rng.integers(k, size=config.reps)
    subset_mean = instance.values.mean(axis=1)
    exhaustive = np.flatnonzero(subset_mean == subset_mean.max())  # ties: every tied arm, equally likely
    popular_pick = None
    if instance.popularity is not None:
        known = np.where(np.isnan(instance.popularity), -np.inf, instance.popularity)
        popular_pick = np.flatnonzero(known == known.max())
    rows = []
    for truth_name, truth in instance.truths.items():
        gem = None if instance.popularity is None else hidden_gems(truth, instance.popularity)[0]
        rank, regret, p_top, gem_rate = _metrics(random_picks, None, truth, gem)
        rows.append(_row(instance, 0, "random", config.reps, truth_name, rank, regret, p_top, 0.0, gem_rate))
        if popular_pick is not None:
            rank, regret, p_top, gem_rate = _metrics(popular_pick, None, truth, gem)
            rows.append(_row(instance, 0, "best_popular", 1, truth_name, rank, regret, p_top, 0.0, gem_rate))
        rank, regret, p_top, gem_rate = _metrics(exhaustive, None, truth, gem)
        rows.append(_row(instance, q, "exhaustive", 1, truth_name, rank, regret, p_top, 1.0, gem_rate))
    return rows


def _row(instance: TreeInstance, n: int, algorithm: str, reps: int, truth: str, rank: float, regret: float,
         p_top: float, spent: float, gem_rate: float | None) -> ReplicationRow:
    return ReplicationRow(instance.benchmark, instance.tree, instance.n_models, instance.n_questions, int(n),
                          algorithm, int(reps), truth, round(rank, 4), round(regret, 4), round(p_top, 4),
                          round(spent, 4), None if gem_rate is None else round(gem_rate, 4))


def gem_reports(instance: TreeInstance) -> list[GemReport]:
    """The gem verdict of one tree under each truth."""
    out = []
    for truth_name, truth in instance.truths.items():
        if instance.popularity is None:
            out.append(GemReport(instance.benchmark, instance.tree, truth_name, instance.n_models,
                                 top_count(instance.n_models), (), (), popularity_known=False))
            continue
        gem, popular = hidden_gems(truth, instance.popularity)
        ids = np.asarray(instance.model_ids, dtype=object)
        out.append(GemReport(instance.benchmark, instance.tree, truth_name, instance.n_models,
                             top_count(instance.n_models), tuple(ids[popular]), tuple(ids[gem]), True))
    return out


# Preparing the trees ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pool:
    """A question pool to replicate on.

    Attributes:
        matrix (`ResponseMatrix`): the answers.
        full_scores (`dict[str, float]`, *optional*): lower-cased id → whole-benchmark points; `None` = no full truth.
        targets (`tuple[str, ...]`): catalog benchmarks whose mean the prior predicts (``("gsm8k",)``; the four for
            the combined pool); empty when the pool is no catalog benchmark (no prior then).
    """

    matrix: ResponseMatrix
    full_scores: dict[str, float] | None = None
    targets: tuple[str, ...] = ()


def shipped_pools() -> list[Pool]:
    """The four shipped pools and their combination, each with its full scores."""
    from recommender.confirm.recorded import (
        RECORDED_BENCHMARKS, combined_full_scores, combined_matrix, full_scores_path, load_full_scores,
        load_responses,
    )

    pools = [Pool(load_responses(b), load_full_scores(full_scores_path(b)), (b,)) for b in RECORDED_BENCHMARKS]
    pools.append(Pool(combined_matrix(), combined_full_scores(), RECORDED_BENCHMARKS))
    return pools


def catalog_popularity(model_ids: Sequence[str], catalog: Catalog | None) -> np.ndarray:
    """Likes-else-downloads per model (DESIGN "Popularity"); NaN where the catalog does not know it."""
    out = np.full(len(model_ids), np.nan)
    if catalog is None:
        return out
    likes = catalog.frame["likes"].to_numpy(dtype=float, na_value=np.nan)
    downloads = catalog.frame["downloads"].to_numpy(dtype=float, na_value=np.nan)
    for i, model_id in enumerate(model_ids):
        if model_id in catalog:
            row = catalog.row(model_id)
            out[i] = likes[row] if not np.isnan(likes[row]) else downloads[row]
    return out


def prepare(pools: Sequence[Pool], catalog: Catalog | None, *, mode: str, config: ReplicationConfig,
            notes: list[str]) -> tuple[list[TreeInstance], list]:
    """Split each pool into trees and build the instances of the trees with at least `config.min_tree` models.

    Returns:
        ``(instances, tree reports)``; `notes` receives what was left out and why.
    """
    from recommender.confirm.trees import build_trees, tree_report

    instances, reports = [], []
    for pool in pools:
        m = pool.matrix
        trees = build_trees(m.model_ids, catalog, mode=mode)
        report = tree_report(m.benchmark, m.model_ids, catalog, mode=mode)
        reports.append(report)
        if not report.trees_at_least(config.min_tree):
            biggest = next(iter(report.sizes.items()), ("none", 0))
            notes.append(f"{m.benchmark}: no tree has ≥ {config.min_tree} models (largest: {biggest[0]} with "
                         f"{biggest[1]}); nothing searched.")
        index = {mid: i for i, mid in enumerate(m.model_ids)}
        for tree, members in trees.items():
            if len(members) < config.min_tree:
                continue
            rows = np.array([index[mid] for mid in members])
            values = m.values[rows]
            truths = {"subset": 100.0 * values.mean(axis=1)}
            if pool.full_scores is not None:
                missing = [mid for mid in members if mid.lower() not in pool.full_scores]
                if missing:
                    notes.append(f"{m.benchmark}/{tree}: no full truth ({len(missing)} of {len(members)} models "
                                 f"lack a full score, e.g. '{missing[0]}').")
                else:
                    truths["full"] = np.array([pool.full_scores[mid.lower()] for mid in members])
            popularity = catalog_popularity(members, catalog)
            known = np.isfinite(popularity).mean()
            if known < 0.5:
                notes.append(f"{m.benchmark}/{tree}: popularity known for {known:.0%} of the models (< 50%): no "
                             "best_popular row and no gem verdict.")
                popularity = None
            instances.append(TreeInstance(m.benchmark, tree, tuple(members), values, truths, popularity))
    return instances, reports


# The prior ------------------------------------------------------------------------------------------------------


def predict_priors(catalog_path: str | None, requests: Sequence[tuple[int, tuple[str, ...], tuple[str, ...]]],
                   exclude_ids: Iterable[str], *, catalog: Catalog | None = None) -> dict[int, tuple]:
    """Catalog-prior predictions (points) for each request ``(key, model_ids, targets)``.

    One `CatalogPrior` is fitted on the catalog models outside `exclude_ids` (every searched tree), so no arm's own
    target score is a training target, and a target is never a feature of its own regressor. A request's
    prediction is the mean over its targets (std: the mean of theirs, the fully correlated case).

    Returns:
        key → ``(mean, std)`` arrays in points, one per model (population mean ± std where the catalog knows
        nothing of a model).
    """
    import pandas as pd

    from index.catalog import Catalog as _Catalog
    from recommender.predict.prior import CatalogPrior

    catalog = catalog if catalog is not None else _Catalog.load(catalog_path)
    frame = catalog.frame
    excluded = frame["id"].str.lower().isin({m.lower() for m in exclude_ids})
    targets = tuple(dict.fromkeys(t for _, _, ts in requests for t in ts))
    # Lighter than the defaults (3 folds, 60 rounds): the fit shares two cores with the replication itself.
    prior = CatalogPrior(n_folds=3, max_iter=60).fit(frame[~excluded], benchmarks=targets)
    out = {}
    for key, model_ids, ts in requests:
        known = np.array([m in catalog for m in model_ids])
        rows = frame.iloc[[catalog.row(m) for m, k in zip(model_ids, known) if k]]
        # A model the catalog does not know gets a row with nothing but its id: the population mean ± std.
        strangers = pd.DataFrame({"id": [m for m, k in zip(model_ids, known) if not k]})
        preds = []
        for t in ts:
            if t not in prior.models_:
                continue
            mean, std = np.empty(len(model_ids)), np.empty(len(model_ids))
            mean[known], std[known] = prior.predict(rows, t)
            if (~known).any():
                mean[~known], std[~known] = prior.predict(strangers, t)
            preds.append((mean, std))
        if preds:
            out[key] = (np.mean([p for p, _ in preds], axis=0), np.mean([s for _, s in preds], axis=0))
    return out


def pool_scale(instance: TreeInstance, pool: Pool, catalog: Catalog | None, mean_pts: np.ndarray,
               std_pts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The prior on the reward scale (0–1) of the pool's questions.

    The catalog prior predicts whole-benchmark points, but the bandit samples an IRT-selected subset whose mean is
    a curved function of the whole score (TruthfulQA's subset sits ~10 points above it for strong models). A cubic
    from catalog score to subset mean, fitted on the pool's models *outside* the tree (never the arms), maps one
    onto the other; the std is carried through the cubic's local slope and widened by the cubic's own residual
    spread, so the prior does not claim more precision than the map has. Without 30 such models: the identity.
    """
    coef, resid_sd = np.array([1.0, 0.0]), 0.0
    low, high = 0.0, 100.0
    if catalog is not None and pool.targets:
        members = {m.lower() for m in instance.model_ids}
        xs, ys = [], []
        cols = [catalog.scores(t) for t in pool.targets]
        for i, mid in enumerate(pool.matrix.model_ids):
            if mid.lower() in members or mid not in catalog:
                continue
            row = catalog.row(mid)
            x = np.mean([c[row] for c in cols])
            if np.isfinite(x):
                xs.append(x)
                ys.append(100.0 * pool.matrix.values[i].mean())
        if len(xs) >= 30:
            xs_arr, ys_arr = np.asarray(xs), np.asarray(ys)
            coef = np.polyfit(xs_arr, ys_arr, 3)
            resid_sd = float(np.std(ys_arr - np.polyval(coef, xs_arr)))
            low, high = float(xs_arr.min()), float(xs_arr.max())
    x = np.clip(mean_pts, low, high)  # no extrapolation of the cubic beyond the models it was fitted on
    slope = np.maximum(np.abs(np.polyval(np.polyder(coef), x)), 0.1)
    mean = np.clip(np.polyval(coef, x) / 100.0, 0.001, 0.999)
    std = np.maximum(np.sqrt((slope * std_pts) ** 2 + resid_sd**2) / 100.0, 0.005)
    return mean, std


def _limit_threads() -> None:
    """One BLAS / OpenMP thread per worker: two workers on two cores, not two times two."""
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(1)
    except ImportError:  # pragma: no cover - threadpoolctl ships with scikit-learn
        pass


# Orchestration ----------------------------------------------------------------------------------------------------


def run_replication(
    pools: Sequence[Pool],
    catalog: Catalog | None,
    *,
    mode: str = "auto",
    config: ReplicationConfig | None = None,
    algorithms: Mapping[str, type] | None = None,
    prior_algorithms: Sequence[str] = PRIOR_ALGORITHMS,
    progress: bool = True,
) -> Replication:
    """Run every algorithm and baseline on every tree of every pool; see the module docstring.

    Args:
        pools: the question pools (`shipped_pools()` for the issue's replication).
        catalog: places models in trees, gives popularity and the prior; may be `None` with ``mode="none"``.
        mode: ``"auto"`` (family + size trees) or ``"none"`` (one tree ``"all"``).
        config: budgets, reps, workers, time caps.
        algorithms: name → class; default ``recommender.confirm.ALGORITHMS``. With ``workers > 1`` they are
            looked up by name in the workers, so custom classes need ``workers=1``.
        prior_algorithms: the names that receive the catalog prior.
        progress: a tqdm bar on stderr.

    Returns:
        The `Replication`.
    """
    config = config or ReplicationConfig()
    if algorithms is None:
        from recommender.confirm import ALGORITHMS

        algorithms = dict(ALGORITHMS)
    t0 = time.perf_counter()
    result = Replication(config=config)
    instances, result.trees = prepare(pools, catalog, mode=mode, config=config, notes=result.notes)
    pool_of = {id(inst): next(p for p in pools if p.matrix.benchmark == inst.benchmark) for inst in instances}
    plain = [a for a in algorithms if a not in prior_algorithms]
    with_prior = [a for a in algorithms if a in prior_algorithms]
    requests = [(i, inst.model_ids, pool_of[id(inst)].targets) for i, inst in enumerate(instances)
                if pool_of[id(inst)].targets and catalog is not None]
    exclude = {m for inst in instances for m in inst.model_ids}

    def attach_priors(predicted: dict[int, tuple]) -> None:
        for i, inst in enumerate(instances):
            if i in predicted:
                mean, std = pool_scale(inst, pool_of[id(inst)], catalog, *predicted[i])
                instances[i] = TreeInstance(inst.benchmark, inst.tree, inst.model_ids, inst.values, inst.truths,
                                            inst.popularity, (mean, std))
            elif with_prior:
                result.notes.append(f"{inst.benchmark}/{inst.tree}: no catalog prior for this pool; "
                                    f"{', '.join(with_prior)} ran with prior=None.")

    # Biggest cells first so the two workers finish together.
    order = sorted(((i, n) for i in range(len(instances)) for n in config.budgets),
                   key=lambda c: -instances[c[0]].n_models * min(c[1], instances[c[0]].n_questions))
    total = len(order) * (bool(plain) + bool(with_prior))
    bar = _progress(total, progress)
    for inst in instances:
        result.rows.extend(baseline_rows(inst, config))
        result.gems.extend(gem_reports(inst))
    if config.workers == 1 or not instances:
        if with_prior and requests:
            attach_priors(predict_priors(None, requests, exclude, catalog=catalog))
        for names in (plain, with_prior):
            if not names:
                continue
            for i, n in order:
                result.rows.extend(run_cell(instances[i], n, {a: algorithms[a] for a in names}, config,
                                            names is with_prior))
                bar.update()
    else:
        _run_parallel(instances, order, plain, with_prior, requests, exclude, catalog, config, result,
                      attach_priors, bar)
    bar.close()
    if with_prior and not requests and instances:
        result.notes.append(f"no pool is a catalog benchmark: {', '.join(with_prior)} ran with prior=None.")
    result.rows = _sorted_rows(result.rows, list(algorithms), instances)
    result.runtime_s = time.perf_counter() - t0
    return result


def _run_parallel(instances, order, plain, with_prior, requests, exclude, catalog, config, result,
                  attach_priors: Callable, bar) -> None:
    """The cells over `config.workers` processes; the prior is fitted in a worker while plain cells run."""
    with ProcessPoolExecutor(config.workers, initializer=_limit_threads) as pool:
        pending = set()
        prior_future = None
        if with_prior and requests:
            catalog_path = getattr(catalog, "path", None)
            if catalog_path is None:  # an in-memory catalog cannot be re-read by a worker
                attach_priors(predict_priors(None, requests, exclude, catalog=catalog))
            else:
                prior_future = pool.submit(predict_priors, catalog_path, requests, exclude)
                pending.add(prior_future)
        if plain:
            pending |= {pool.submit(run_cell, instances[i], n, plain, config, False) for i, n in order}
        prior_cells_sent = prior_future is None and not with_prior
        if with_prior and prior_future is None:
            pending |= {pool.submit(run_cell, instances[i], n, with_prior, config, True) for i, n in order}
            prior_cells_sent = True
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                if future is prior_future:
                    attach_priors(future.result())
                    continue
                result.rows.extend(future.result())
                bar.update()
            if not prior_cells_sent and prior_future is not None and prior_future.done():
                pending |= {pool.submit(run_cell, instances[i], n, with_prior, config, True) for i, n in order}
                prior_cells_sent = True


def _progress(total: int, enabled: bool):
    from tqdm import tqdm

    return tqdm(total=total, desc="bench-sh cells", unit="cell", file=sys.stderr, disable=not enabled,
                dynamic_ncols=True)


def _sorted_rows(rows: list[ReplicationRow], algorithms: list[str],
                 instances: list[TreeInstance]) -> list[ReplicationRow]:
    algo_order = {a: i for i, a in enumerate([*algorithms, *BASELINES])}
    tree_order = {(inst.benchmark, inst.tree): i for i, inst in enumerate(instances)}
    return sorted(rows, key=lambda r: (tree_order.get((r.benchmark, r.tree), 0), TRUTHS.index(r.truth),
                                       algo_order.get(r.algorithm, 99), r.queries_per_model))


def target_checks(rows: Sequence[ReplicationRow]) -> list[TargetCheck]:
    """The issue's target on every tree of ≥ 300 models, both truths (where the rows needed exist)."""
    regret = {(r.benchmark, r.tree, r.truth, r.algorithm, r.queries_per_model): r.regret for r in rows}
    checks = []
    seen = dict.fromkeys((r.benchmark, r.tree, r.truth) for r in rows if r.n_models >= TARGET_MIN_TREE)
    for b, t, truth in seen:
        def get(algo: str, n: int) -> float:
            return regret.get((b, t, truth, algo, n), math.nan)

        fast10 = np.nanmin([get("accelerated_sh", 10), get("prior_sh", 10)]) if any(
            (b, t, truth, a, 10) in regret for a in ("accelerated_sh", "prior_sh")) else math.nan
        fast5 = np.nanmin([get("accelerated_sh", 5), get("prior_sh", 5)]) if any(
            (b, t, truth, a, 5) in regret for a in ("accelerated_sh", "prior_sh")) else math.nan
        sh50, sh5 = get("sequential_halving", 50), get("sequential_halving", 5)
        if not any(math.isnan(v) for v in (fast10, fast5, sh50, sh5)):
            checks.append(TargetCheck(b, t, truth, float(fast10), sh50, float(fast5), sh5))
    return checks


# Command line -----------------------------------------------------------------------------------------------------


def parse_budgets(text: str) -> tuple[int, ...]:
    """``"5,10,20"`` → ``(5, 10, 20)``; `ValueError` naming the bad part."""
    try:
        budgets = tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise ValueError(f"--budgets {text!r} must be comma-separated whole numbers, e.g. 5,10,20,50,100.") from None
    if not budgets or min(budgets) < 1:
        raise ValueError(f"--budgets {text!r} must list queries per model ≥ 1, e.g. 5,10,20,50,100.")
    return tuple(sorted(set(budgets)))


def write_reports(replication: Replication, folder: Path = REPORTS) -> list[Path]:
    """``bench_sh.json``, ``bench_sh.md`` and ``bench_sh_regret.png`` in `folder`."""
    import json

    from evals._bench_sh_report import full_markdown, plot_regret

    folder.mkdir(parents=True, exist_ok=True)
    json_path, md_path = folder / "bench_sh.json", folder / "bench_sh.md"
    json_path.write_text(json.dumps(replication.to_dict(), indent=1, allow_nan=False) + "\n")
    md_path.write_text(full_markdown(replication) + "\n")
    return [json_path, md_path, plot_regret(replication, folder / "bench_sh_regret.png")]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evals.bench_sh", description=__doc__.split("\n\n")[0])
    parser.add_argument("--budgets", default=",".join(map(str, DEFAULT_BUDGETS)), help="N values (default 5,…,100)")
    parser.add_argument("--reps", type=int, default=100, help="repetitions per cell (default 100)")
    parser.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1), help="processes (default 2)")
    parser.add_argument("--algo-time", type=float, default=ReplicationConfig.algo_time_s,
                        help="seconds per (tree, N, algorithm) before a slow algorithm stops repeating")
    parser.add_argument("--out", type=Path, default=REPORTS, help="report folder (default evals/reports)")
    args = parser.parse_args(argv)
    from evals._bench_sh_report import checks_markdown, gems_markdown, tables_markdown, tree_sizes_markdown
    from index.catalog import Catalog

    config = ReplicationConfig(budgets=parse_budgets(args.budgets), reps=args.reps, workers=args.workers,
                               algo_time_s=args.algo_time)
    t0 = time.perf_counter()
    replication = run_replication(shipped_pools(), Catalog.load(), config=config)
    replication.runtime_s = time.perf_counter() - t0  # loading included
    paths = write_reports(replication, args.out)
    print(tree_sizes_markdown(replication, config.min_tree), "\n")
    print(tables_markdown(replication.rows))
    print(gems_markdown(replication), "\n")
    print("Target check (min(accelerated_sh, prior_sh) @N=10 ≤ SH @N=50 + 0.25, and @N=5 < SH @N=5):")
    print(checks_markdown(replication), "\n")
    for note in replication.notes:
        print(f"note: {note}")
    print(f"total runtime {replication.runtime_s:.0f} s; wrote {', '.join(str(p) for p in paths)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
