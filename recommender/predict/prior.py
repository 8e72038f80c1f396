"""The catalog prior: a model's score on a benchmark predicted from what the catalog knows about it otherwise.

For each benchmark *b* one gradient-boosted regressor (scikit-learn's `HistGradientBoostingRegressor`, which routes
missing values natively) maps a model's known scores on the *other* benchmarks, its log parameter count, family,
architecture, instruct and merged flags onto its score on *b* (points, 0–100). Missing values are the norm — Open LLM
Leaderboard v1 models lack v2 scores and vice versa, and half the catalog has no score at all — so each training row
is also shown to the learner with its evidence masked the way a prediction row would lack it (no score from *b*'s
own leaderboard; no score at all). Without that, a v2-only model asking for a v1 benchmark would be routed down
whichever branch held most training rows.

Uncertainty is conformal by cross-fitting (after the CV+ recipe of Barber et al., "Predictive inference with the
jackknife+", Ann. Statist. 2021, here with a full refit): the models are split into `n_folds` folds, a regressor per
fold is fitted on the others and its out-of-fold absolute residuals are collected; the predicting regressor is then
fitted on all rows. A benchmark with fewer than 1,000 known scores gets 10 folds instead of 4: the fold regressors
then see 90% of the rows, not 75%, and on a small benchmark that difference is what made its intervals too wide.
The residual quantile is taken per *evidence level* — ``same`` (a known score from *b*'s leaderboard), ``cross``
(scores from other leaderboards only), ``meta`` (no score; size / family / flags only) — and per bin of the predicted
value (scores near 0 or 100 err less), so a model with little evidence gets a wide interval. `std` is that quantile
over the normal quantile z = Φ⁻¹((1 + quantile) / 2) (1.2816 for 80%), so ``mean ± z·std`` is the calibrated
interval. An evidence level with fewer than 30 residuals borrows those of the next less-informed level (its own pooled
with them) rather than every level's. A row with no evidence at all gets the benchmark's population mean ± population standard deviation.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy.stats import norm
from sklearn.base import BaseEstimator
from sklearn.ensemble import HistGradientBoostingRegressor
from threadpoolctl import threadpool_limits

from index.errors import NotFittedError, UnknownBenchmarkError
from index.vocabulary import BENCHMARKS, TASK_BENCHMARKS, normalize_task

if TYPE_CHECKING:
    from index.catalog import Catalog
    from index.record import ModelRecord

#: benchmarks measured together (one leaderboard or suite): a known score from the same group is the best evidence.
BENCHMARK_GROUPS: dict[str, tuple[str, ...]] = {
    "open_llm_v1": ("arc", "hellaswag", "mmlu", "truthfulqa", "winogrande", "gsm8k"),
    "open_llm_v2": ("ifeval", "bbh", "math_lvl5", "gpqa", "musr", "mmlu_pro"),
    "code": ("humaneval", "mbpp"),
    "medical": ("mmlu_medical", "medqa"),
}
_GROUP_OF = {b: g for g, bs in BENCHMARK_GROUPS.items() for b in bs}

#: evidence levels, most to least informed; ``none`` gets the population mean ± population std.
LEVELS: tuple[str, ...] = ("same", "cross", "meta", "none")

_META = ("log_params", "instruct", "merged", "family", "architecture")
_CATEGORICAL = ("family", "architecture")
_OTHER = "<other>"  # category of a family / architecture that is known but too rare to get its own


def _as_frame(data: pd.DataFrame | Catalog | Iterable[ModelRecord]) -> pd.DataFrame:
    """A frame with (some of) the catalog's columns from a frame, a `Catalog` or `ModelRecord`s."""
    if isinstance(data, pd.DataFrame):
        return data
    frame = getattr(data, "frame", None)
    if isinstance(frame, pd.DataFrame):
        return frame
    from index.catalog import records_to_frame

    return records_to_frame(data)


def _column(frame: pd.DataFrame, name: str) -> np.ndarray:
    """A numeric column as float (NaN where unknown or where the frame lacks it)."""
    if name not in frame.columns:
        return np.full(len(frame), np.nan)
    return pd.to_numeric(frame[name], errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def _codes(frame: pd.DataFrame, name: str, categories: Sequence[str]) -> np.ndarray:
    """Category codes of a string column: its index in `categories`, the ``<other>`` code, or NaN if unknown."""
    if name not in frame.columns:
        return np.full(len(frame), np.nan)
    values = frame[name].astype(object)
    known = values.notna().to_numpy()
    codes = pd.Categorical(values.where(values.isin(categories)), categories=list(categories)).codes.astype(float)
    # Known but rare values share the last code; unknown stays NaN so the learner routes it as missing.
    codes[(codes < 0) & known] = len(categories)
    codes[~known] = np.nan
    return codes


@dataclass
class _BenchmarkModel:
    """What `CatalogPrior` learns for one benchmark (its regressor and its residual quantiles)."""

    features: tuple[str, ...]  # the benchmarks whose scores are features, then the _META columns used
    score_cols: np.ndarray  # their indices in BENCHMARKS
    meta_cols: np.ndarray  # indices in _META of the metadata used
    same: np.ndarray  # bool mask over `features`: score columns from the benchmark's own group
    regressor: HistGradientBoostingRegressor | None  # None when no feature was ever known on its training rows
    edges: dict[str, np.ndarray]  # level → inner bin edges over the predicted mean
    halfwidth: dict[str, np.ndarray]  # level → residual quantile per bin (points)
    population: tuple[float, float]  # mean, std of the benchmark over its training rows
    n_train: int
    n_calibration: dict[str, int]  # level → out-of-fold residuals behind its quantiles


class CatalogPrior(BaseEstimator):
    """Predicts a model's score (points) ± uncertainty on a benchmark from the catalog's other evidence about it.

    One regressor per benchmark *b*; its features are the model's scores on every benchmark except *b* and except
    those in `exclude`, plus log parameters, family, architecture, instruct and merged (see the module docstring
    for the model and the calibration). A model's own score on *b* is never an input to *b*'s prediction, so
    ``predict(rows, b)`` is a leave-benchmark-out prediction even for rows that have *b*.

    Args:
        exclude (`tuple[str, ...]`): benchmarks hidden from every model: never a feature, never a training target.
            Fitting or predicting an excluded benchmark is refused (its column is hidden); to predict a held-out
            target *t*, fit without excluding it — *t*'s own model never reads *t* (see the examples).
        quantile (`float`): coverage of the interval ``mean ± z·std``, z = Φ⁻¹((1 + quantile) / 2); 0.8 → z = 1.2816.
        n_folds (`int`): folds of the cross-fit (≥ 2) whose out-of-fold residuals set the intervals; the
            predicting regressor is then fitted on every row.
        small_folds (`int`): folds used instead for a benchmark with fewer than `small_rows` known scores.
        small_rows (`int`): below this many known scores a benchmark is cross-fitted with `small_folds` folds.
        min_scores (`int`): a benchmark with fewer known scores is skipped (reason in ``skipped_``).
        top_families (`int`): families (and architectures) with their own category; rarer ones share one.
        max_iter, learning_rate, max_leaf_nodes, min_samples_leaf, l2_regularization: passed to each
            `HistGradientBoostingRegressor` (`min_samples_leaf` is lowered for small benchmarks).
        n_threads (`int`, *optional*): OpenMP threads of the regressors; `None` = the library default (all cores).
            1 by default: the fits are small, and on a shared machine oversubscribed OpenMP threads spin-wait —
            measured 14× slower with 2 threads than with 1 on a loaded 2-core box.
        random_state (`int`): seeds the folds and the regressors.

    Attributes:
        models_ (`dict[str, _BenchmarkModel]`): the fitted benchmarks.
        skipped_ (`dict[str, str]`): benchmarks asked for but not fitted → why.
        families_, architectures_ (`tuple[str, ...]`): categories with their own code.
        z_ (`float`): the normal quantile turning the interval half-width into `std`.

    Example:
        Everyday use — predict every benchmark for any candidate:

        >>> prior = CatalogPrior().fit(Catalog.load())
        >>> mean, std = prior.predict(candidates_frame, "gsm8k")      # points; mean ± 1.2816·std is the 80% interval
        >>> mean, std = prior.predict_task(candidates_frame, "math")

        Sequential Halving replication — target benchmark *t*, arms = the models of one tree. Fit *t*'s model on
        the catalog without the tree's rows (so no arm's own *t* score is a training target), then predict the
        arms; *t* is never a feature of *t*'s model, so the arms' own *t* scores are not read either:

        >>> frame = Catalog.load().frame
        >>> in_tree = frame["id"].isin(tree_ids)
        >>> prior = CatalogPrior().fit(frame[~in_tree], benchmarks=(t,))
        >>> mean, std = prior.predict(frame[in_tree], t)

        To also hide *t* from the features of other benchmarks' models (a whole-pipeline offline run with *t*
        hidden), use ``CatalogPrior(exclude=(t,))`` — which then refuses to fit or predict *t* itself.
    """

    def __init__(
        self,
        *,
        exclude: tuple[str, ...] = (),
        quantile: float = 0.8,
        # cross-fit and data
        n_folds: int = 4,
        small_folds: int = 10,
        small_rows: int = 1000,
        min_scores: int = 30,
        top_families: int = 40,
        # the regressors
        max_iter: int = 100,
        learning_rate: float = 0.15,
        max_leaf_nodes: int = 15,
        min_samples_leaf: int = 20,
        l2_regularization: float = 1.0,
        n_threads: int | None = 1,
        random_state: int = 0,
    ):
        self.exclude = exclude
        self.quantile = quantile
        self.n_folds = n_folds
        self.small_folds = small_folds
        self.small_rows = small_rows
        self.min_scores = min_scores
        self.top_families = top_families
        self.max_iter = max_iter
        self.learning_rate = learning_rate
        self.max_leaf_nodes = max_leaf_nodes
        self.min_samples_leaf = min_samples_leaf
        self.l2_regularization = l2_regularization
        self.n_threads = n_threads
        self.random_state = random_state

    # Fitting ---------------------------------------------------------------------------------------------------

    def fit(
        self, catalog: pd.DataFrame | Catalog | Iterable[ModelRecord], benchmarks: tuple[str, ...] | None = None
    ) -> CatalogPrior:
        """Fit one regressor per benchmark on the models that have it.

        Args:
            catalog: the training models — a `Catalog`, its frame (or a subset of its rows), or `ModelRecord`s.
                Columns the frame lacks count as unknown.
            benchmarks: the benchmarks to fit; default every benchmark not in `exclude`.

        Returns:
            `self`.

        Raises:
            UnknownBenchmarkError: a name in `benchmarks` or `exclude` is not a benchmark.
            ValueError: a benchmark is both asked for and excluded, or a parameter is out of range.
            TypeError: `exclude` or `benchmarks` is a string instead of a tuple.

        Example:
            >>> CatalogPrior(exclude=("gsm8k",)).fit(catalog, benchmarks=("math_lvl5", "arc")).skipped_
            {}
        """
        targets = self._check_params(benchmarks)
        frame = _as_frame(catalog)
        self.z_ = float(norm.ppf((1.0 + self.quantile) / 2.0))
        self.families_ = self._top_values(frame, "family")
        self.architectures_ = self._top_values(frame, "architecture")
        self.feature_benchmarks_ = tuple(b for b in BENCHMARKS if b not in self.exclude)
        scores, meta = self._score_matrix(frame), self._meta_matrix(frame)
        self.models_, self.skipped_ = {}, {}
        for b in targets:
            y = scores[:, BENCHMARKS.index(b)]
            n = int(np.isfinite(y).sum())
            if n < self.min_scores:
                self.skipped_[b] = f"{n} known scores < min_scores={self.min_scores}"
                continue
            with threadpool_limits(limits=self.n_threads, user_api="openmp"):
                self.models_[b] = self._fit_benchmark(b, scores, meta, y)
        return self

    def _check_params(self, benchmarks: tuple[str, ...] | None) -> tuple[str, ...]:
        """Validate parameters and the benchmarks asked for, before any work; the benchmarks to fit."""
        for name, value in (("exclude", self.exclude), ("benchmarks", benchmarks)):
            if isinstance(value, str):
                raise TypeError(f"{name}={value!r} must be a tuple of benchmarks, e.g. ({value!r},).")
        for b in (*self.exclude, *(benchmarks or ())):
            if b not in BENCHMARKS:
                raise UnknownBenchmarkError(b)
        if not 0.0 < self.quantile < 1.0:
            raise ValueError(f"quantile={self.quantile!r} must lie strictly between 0 and 1 (0.8 → 80% intervals).")
        if self.n_folds < 2:
            raise ValueError(f"n_folds={self.n_folds!r} must be at least 2: the intervals come from a cross-fit.")
        if benchmarks is None:
            return tuple(b for b in BENCHMARKS if b not in self.exclude)
        hidden = [b for b in benchmarks if b in self.exclude]
        if hidden:
            raise ValueError(
                f"Cannot fit benchmarks {hidden}: they are in exclude={tuple(self.exclude)!r}, so their scores are "
                "hidden. To predict a held-out target t, fit without excluding it — CatalogPrior().fit(train_rows, "
                "benchmarks=(t,)) — t's model never uses t as a feature."
            )
        return tuple(dict.fromkeys(benchmarks))

    def _top_values(self, frame: pd.DataFrame, name: str) -> tuple[str, ...]:
        if name not in frame.columns:
            return ()
        counts = frame[name].dropna().astype(str).value_counts()
        return tuple(counts.index[: self.top_families])

    def _fit_benchmark(self, b: str, scores: np.ndarray, meta: np.ndarray, y: np.ndarray) -> _BenchmarkModel:
        """Cross-fit `b`'s regressors on its augmented rows and learn the residual quantiles per evidence level."""
        rows = np.flatnonzero(np.isfinite(y))
        # Features: every non-excluded benchmark but b, then the metadata — minus columns (almost) never known on
        # b's models: they carry nothing, and an all-missing column breaks the regressor's binning.
        known = np.isfinite(np.hstack([scores[rows], meta[rows]])).sum(axis=0) >= 10
        score_cols = np.array([i for i, c in enumerate(BENCHMARKS) if c in self.feature_benchmarks_ and c != b
                               and known[i]], dtype=int)
        meta_cols = np.flatnonzero(known[len(BENCHMARKS):])
        features = tuple(BENCHMARKS[i] for i in score_cols) + tuple(_META[i] for i in meta_cols)
        same = np.array([_GROUP_OF[BENCHMARKS[i]] == _GROUP_OF[b] for i in score_cols] + [False] * len(meta_cols),
                        dtype=bool)
        categorical = np.array([False] * len(score_cols) + [_META[i] in _CATEGORICAL for i in meta_cols], dtype=bool)
        X = np.hstack([scores[rows][:, score_cols], meta[rows][:, meta_cols]])
        n_scores = len(score_cols)
        yb = y[rows]
        population = (float(yb.mean()), float(yb.std(ddof=1)) if len(yb) > 1 else 0.0)
        if X.shape[1] == 0:  # nothing but the target is known: every prediction is the population
            return _BenchmarkModel(features, score_cols, meta_cols, same, None, {}, {}, population, len(rows), {})
        X_aug, group, level = _augment(X, same, n_scores)
        y_aug = y[rows][group]

        # Phase 1: out-of-fold predictions; folds over models (a model's masked copies share its fold, or a copy
        # would leak its target into the fit that predicts it).
        rng = np.random.default_rng(self.random_state)
        # CV+ intervals are conservative by the gap between a fold regressor's (K − 1)/K of the rows and the
        # predicting regressor's all of them; on a small benchmark that gap is a steep part of the learning curve,
        # so it gets more folds.
        n_folds = min(self.n_folds if len(rows) >= self.small_rows else max(self.n_folds, self.small_folds), len(rows))
        fold = (rng.permutation(len(rows)) % n_folds)[group]
        oof = np.full(len(y_aug), np.nan)
        for k in range(n_folds):
            train = fold != k
            reg = self._regressor(int(train.sum()), categorical, k).fit(X_aug[train], y_aug[train])
            oof[~train] = reg.predict(X_aug[~train])
        # The predicting regressor sees every row: slightly better than the fold regressors whose residuals set the
        # intervals, so these err on the wide side. One regressor (not the fold ensemble) keeps predict fast.
        regressor = self._regressor(len(y_aug), categorical, n_folds).fit(X_aug, y_aug)

        # Phase 2: residual quantiles per evidence level and per bin of the predicted value.
        oof = np.clip(oof, 0.0, 100.0)  # as `predict` clips, so bins and residuals match what it returns
        edges, halfwidth, n_cal = _calibrate(oof, np.abs(oof - y_aug), level, self.quantile)
        return _BenchmarkModel(
            features=features,
            score_cols=score_cols,
            meta_cols=meta_cols,
            same=same,
            regressor=regressor,
            edges=edges,
            halfwidth=halfwidth,
            population=population,
            n_train=len(rows),
            n_calibration=n_cal,
        )

    def _regressor(self, n_rows: int, categorical: np.ndarray, seed_offset: int) -> HistGradientBoostingRegressor:
        """A fresh regressor with this prior's settings for `n_rows` rows (`categorical`: mask over the columns)."""
        return HistGradientBoostingRegressor(
            max_iter=self.max_iter,
            learning_rate=self.learning_rate,
            max_leaf_nodes=self.max_leaf_nodes,
            # Small benchmarks (code, medical: tens of models) would get no split at all with a leaf of 20.
            min_samples_leaf=max(3, min(self.min_samples_leaf, n_rows // 20)),
            l2_regularization=self.l2_regularization,
            categorical_features=categorical if categorical.any() else None,
            early_stopping=False,
            random_state=self.random_state + seed_offset,
        )

    # Design matrices -------------------------------------------------------------------------------------------

    def _score_matrix(self, frame: pd.DataFrame) -> np.ndarray:
        """Scores of every benchmark in `BENCHMARKS` order (NaN where unknown, and for excluded benchmarks)."""
        out = np.column_stack([_column(frame, f"score.{b}") for b in BENCHMARKS])
        for b in self.exclude:
            out[:, BENCHMARKS.index(b)] = np.nan  # hidden: never seen, even as a training target of another model
        return out

    def _meta_matrix(self, frame: pd.DataFrame) -> np.ndarray:
        """log10 params, instruct, merged, family code, architecture code (NaN where unknown)."""
        params = _column(frame, "params_b")
        with np.errstate(divide="ignore", invalid="ignore"):
            log_params = np.where(params > 0, np.log10(params), np.nan)
        return np.column_stack([
            log_params,
            _column(frame, "instruct"),
            _column(frame, "merged"),
            _codes(frame, "family", self.families_),
            _codes(frame, "architecture", self.architectures_),
        ])

    # Prediction ------------------------------------------------------------------------------------------------

    def predict(
        self, rows: pd.DataFrame | Catalog | Iterable[ModelRecord], benchmark: str
    ) -> tuple[np.ndarray, np.ndarray]:
        """Predicted score and its uncertainty on `benchmark`, one per row.

        Args:
            rows: the models — a frame with the catalog's columns (missing columns count as unknown), a `Catalog`
                or `ModelRecord`s. A row's own `benchmark` score, if any, is ignored.
            benchmark: a fitted benchmark.

        Returns:
            ``(mean, std)``: float arrays in points; `mean` is clipped to [0, 100], ``mean ± z_·std`` is the
            `quantile` interval (80% by default), `std` > 0.

        Raises:
            NotFittedError: `fit` was not called, or `benchmark` was skipped or not asked for.
            UnknownBenchmarkError: `benchmark` is not a benchmark.
            ValueError: `benchmark` is in `exclude`.

        Example:
            >>> mean, std = prior.predict(catalog.frame.head(3), "mmlu_pro")
        """
        model = self._model(benchmark)
        frame = _as_frame(rows)
        return self._predict(model, self._score_matrix(frame), self._meta_matrix(frame))

    def _predict(self, model: _BenchmarkModel, scores: np.ndarray, meta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """`predict` on design matrices already built (so `predict_task` builds them once)."""
        X = np.hstack([scores[:, model.score_cols], meta[:, model.meta_cols]])
        level = _levels(X, model.same, len(model.score_cols))
        # No evidence at all: the regressor would answer with an arbitrary leaf; the population is honest.
        mean = np.full(len(X), model.population[0])
        std = np.full(len(X), model.population[1])
        informed = level != "none"
        if informed.any():
            with threadpool_limits(limits=self.n_threads, user_api="openmp"):
                mean[informed] = np.clip(model.regressor.predict(X[informed]), 0.0, 100.0)
        for lv in LEVELS[:-1]:
            at = level == lv
            if at.any():
                std[at] = model.halfwidth[lv][np.searchsorted(model.edges[lv], mean[at], side="right")] / self.z_
        return mean, np.maximum(std, 1e-3)

    def predict_task(
        self, rows: pd.DataFrame | Catalog | Iterable[ModelRecord], task: str
    ) -> tuple[np.ndarray, np.ndarray]:
        """Predicted score ± uncertainty on a task: the mean over the task's fitted benchmarks.

        The task's benchmarks that were skipped (too few scores) or excluded are left out of the mean. The
        benchmarks' errors are positively correlated (one model, one kind of skill), so the task's `std` is taken
        as the mean of theirs — the fully correlated case, which keeps the interval from being too narrow.

        Args:
            rows: the models (as for `predict`).
            task: a task or alias (``"math"`` → gsm8k, math_lvl5).

        Returns:
            ``(mean, std)`` in points, one per row.

        Raises:
            UnknownTaskError: the task is not known.
            NotFittedError: none of the task's benchmarks is fitted.

        Example:
            >>> mean, std = prior.predict_task(candidates, "code")
        """
        self._check_fitted()
        task = normalize_task(task)
        usable = [b for b in TASK_BENCHMARKS[task] if b in self.models_]
        if not usable:
            raise NotFittedError(
                type(self).__name__,
                f"None of task '{task}''s benchmarks {TASK_BENCHMARKS[task]} is fitted "
                f"(fitted: {sorted(self.models_)}; skipped: {self.skipped_}).",
            )
        frame = _as_frame(rows)
        scores, meta = self._score_matrix(frame), self._meta_matrix(frame)
        preds = [self._predict(self.models_[b], scores, meta) for b in usable]
        return np.mean([m for m, _ in preds], axis=0), np.mean([s for _, s in preds], axis=0)

    def _check_fitted(self) -> None:
        if not hasattr(self, "models_"):
            raise NotFittedError(type(self).__name__)

    def _model(self, benchmark: str) -> _BenchmarkModel:
        """The fitted model of `benchmark`, or the error that says why there is none."""
        self._check_fitted()
        if benchmark not in BENCHMARKS:
            raise UnknownBenchmarkError(benchmark)
        if benchmark in self.exclude:
            raise ValueError(f"Benchmark '{benchmark}' is in exclude={tuple(self.exclude)!r}: it cannot be predicted.")
        if benchmark not in self.models_:
            why = self.skipped_.get(benchmark, "it was not in the benchmarks passed to fit")
            raise NotFittedError(
                type(self).__name__,
                f"CatalogPrior has no model for '{benchmark}': {why}. Fitted: {', '.join(self.models_) or 'none'}.",
            )
        return self.models_[benchmark]


# Helpers ------------------------------------------------------------------------------------------------------


def _levels(X: np.ndarray, same: np.ndarray, n_scores: int) -> np.ndarray:
    """Evidence level of each row of a design matrix (score columns first, then the _META columns)."""
    known = np.isfinite(X)
    has_same = known[:, same].any(axis=1)
    has_score = known[:, :n_scores].any(axis=1)
    has_meta = known[:, n_scores:].any(axis=1)
    return np.where(has_same, "same", np.where(has_score, "cross", np.where(has_meta, "meta", "none")))


def _augment(X: np.ndarray, same: np.ndarray, n_scores: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Training rows plus masked copies that look like less-informed prediction rows.

    A copy without the same-group scores (for rows that also have scores from elsewhere) teaches e.g. the gsm8k
    model to answer from v2 scores alone; a copy without any score (for rows with metadata) teaches it to answer
    from size and family. Rows left with no evidence at all are dropped: those get the population at prediction.

    Returns:
        ``(X_aug, group, level)``: the stacked rows, the original row of each, its evidence level.
    """
    level = _levels(X, same, n_scores)
    parts, groups, levels = [X], [np.arange(len(X))], [level]
    cross = X.copy()
    cross[:, np.flatnonzero(same)] = np.nan
    cross_level = _levels(cross, same, n_scores)
    keep = (level == "same") & (cross_level == "cross")
    parts.append(cross[keep]), groups.append(np.flatnonzero(keep)), levels.append(cross_level[keep])
    meta = X.copy()
    meta[:, :n_scores] = np.nan
    keep = (level != "meta") & (level != "none") & np.isfinite(X[:, n_scores:]).any(axis=1)
    parts.append(meta[keep]), groups.append(np.flatnonzero(keep)), levels.append(np.full(keep.sum(), "meta"))
    X_aug, group, lv = np.vstack(parts), np.concatenate(groups), np.concatenate(levels)
    keep = lv != "none"
    return X_aug[keep], group[keep], lv[keep]


def _calibrate(
    pred: np.ndarray, residual: np.ndarray, level: np.ndarray, q: float
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], dict[str, int]]:
    """Per evidence level: bin edges over the prediction, the `q` quantile of |residual| per bin, the count."""
    pooled = float(np.quantile(residual, q))
    edges, halfwidth, n_cal = {}, {}, {}
    for i, lv in enumerate(LEVELS[:-1]):
        at = level == lv
        n_cal[lv] = int(at.sum())
        if n_cal[lv] >= 30:
            edges[lv], halfwidth[lv] = _binned_quantiles(pred[at], residual[at], q)
            continue
        nxt = level == LEVELS[i + 1] if i + 2 < len(LEVELS) else np.zeros_like(at)
        if i + 2 < len(LEVELS) and int((at | nxt).sum()) >= 30:
            # Too few residuals of a better-informed level: its own, pooled with those of the next less-informed
            # level (whose rows know less, so its residuals bound these from above). Pooling every level would
            # hand these rows the no-score level's much wider intervals.
            pool = at | nxt
            edges[lv], halfwidth[lv] = _binned_quantiles(pred[pool], residual[pool], q)
            continue
        # Too few residuals for a quantile: all levels pooled, and never narrower than a better-informed level.
        wider = [float(halfwidth[LEVELS[j]].max()) for j in range(i)]
        edges[lv], halfwidth[lv] = np.array([]), np.array([max([pooled, *wider])])
    return edges, halfwidth, n_cal


def _binned_quantiles(pred: np.ndarray, residual: np.ndarray, q: float) -> tuple[np.ndarray, np.ndarray]:
    """Quantile `q` of |residual| in bins of the predicted value (≥ 50 residuals a bin, at most 4 bins).

    Returns:
        ``(edges, halfwidth)``: inner bin edges (len k − 1) and one half-width per bin (len k), non-decreasing
        in neither — each bin keeps its own quantile.
    """
    n_bins = int(max(1, min(4, len(pred) // 50)))
    edges = np.quantile(pred, np.linspace(0, 1, n_bins + 1)[1:-1]) if n_bins > 1 else np.array([])
    edges = np.unique(edges)
    which = np.searchsorted(edges, pred, side="right")
    # Finite-sample conformal correction: the ceil((n + 1) q)-th smallest residual.
    half = []
    for k in range(len(edges) + 1):
        r = np.sort(residual[which == k]) if (which == k).any() else np.sort(residual)
        idx = min(len(r) - 1, math.ceil((len(r) + 1) * q) - 1)
        half.append(float(r[idx]))
    return edges, np.array(half)
