"""The prioritise stage's numbers: per candidate and task benchmark, the known score where the catalog has one and
the catalog prior's prediction ± σ otherwise.

Fitting `CatalogPrior` on the whole 22k-row catalog takes ~35 s on two cores, so the predictor fits one benchmark
at a time, when a request first needs it (1–3 s each), and keeps each fit on disk with joblib under a key made of
a checksum of every catalog column the prior reads, the prior's settings and the library versions; a later process
loads it in milliseconds. A prior passed in already fitted (offline evaluation hiding a benchmark) is used as is.

Implementation-only; the pipeline (`recommender.pipeline.Recommender`) is the public face.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import norm

from index import constants
from index.catalog import Catalog
from index.vocabulary import BENCHMARKS
from recommender.predict.prior import CatalogPrior
from recommender.records import KnownScore, Prediction

#: columns `CatalogPrior` reads; their checksum keys the on-disk cache.
_PRIOR_COLUMNS = ("id", "params_b", "instruct", "merged", "family", "architecture", *(f"score.{b}" for b in BENCHMARKS))


def catalog_checksum(catalog: Catalog) -> str:
    """SHA-256 over the columns the prior reads (ids, sizes, flags, family, architecture, every score)."""
    frame = catalog.frame[list(_PRIOR_COLUMNS)]
    hashed = pd.util.hash_pandas_object(frame.astype(object).where(frame.notna(), None), index=False)
    return hashlib.sha256(hashed.to_numpy().tobytes()).hexdigest()


class TaskPredictor:
    """Known-or-predicted scores for catalog rows, fitting the catalog prior per benchmark on first need.

    Args:
        catalog: the catalog (training rows of the prior, and the rows predicted).
        prior: a fitted `CatalogPrior` (used as is), an unfitted one (its settings are used for the lazy fits) or
            `None` (default settings).
        cache_dir: where lazy fits are kept; `None` = ``$GEMFINDER_PRIOR_CACHE`` (``~/.cache/gemfinder/priors``);
            `False` = keep them in memory only.

    Example:
        >>> predictor = TaskPredictor(Catalog.load())
        >>> predictions = predictor.predict_rows(np.array([0, 1]), ("gsm8k", "math_lvl5"))
    """

    def __init__(self, catalog: Catalog, prior: CatalogPrior | None = None, *, cache_dir: Path | bool | None = None):
        self.catalog = catalog
        self._fitted = prior if prior is not None and hasattr(prior, "models_") else None
        self._template = prior if prior is not None else CatalogPrior()
        self.cache_dir = None if cache_dir is False else Path(cache_dir or constants.PRIOR_CACHE_DIR)
        self._per_benchmark: dict[str, CatalogPrior | None] = {}
        self._lock = threading.Lock()
        self._checksum: str | None = None
        self.fit_seconds = 0.0  # time spent fitting in this process (0 when every fit came from the cache)

    # Which benchmarks can be predicted ---------------------------------------------------------------------------

    def prior_for(self, benchmark: str) -> CatalogPrior | None:
        """The fitted prior that predicts `benchmark`, or `None` when it cannot (excluded, too few scores)."""
        if self._fitted is not None:
            return self._fitted if benchmark in self._fitted.models_ else None
        if benchmark in self._template.exclude:
            return None
        with self._lock:  # one fit per benchmark even when many chats ask at once
            if benchmark not in self._per_benchmark:
                self._per_benchmark[benchmark] = self._load_or_fit(benchmark)
        return self._per_benchmark[benchmark]

    def _load_or_fit(self, benchmark: str) -> CatalogPrior | None:
        import joblib

        path = self._cache_path(benchmark)
        if path is not None and path.exists():
            try:
                prior = joblib.load(path)
                return prior if benchmark in prior.models_ else None
            except Exception:  # noqa: BLE001 - a damaged or foreign cache file is refitted, never fatal
                pass
        import time

        from sklearn.base import clone

        start = time.perf_counter()
        prior = clone(self._template).fit(self.catalog, benchmarks=(benchmark,))
        self.fit_seconds += time.perf_counter() - start
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            joblib.dump(prior, tmp)
            os.replace(tmp, path)  # atomic: a concurrent reader sees the old file or the whole new one
        return prior if benchmark in prior.models_ else None

    def _cache_path(self, benchmark: str) -> Path | None:
        if self.cache_dir is None:
            return None
        import sklearn

        if self._checksum is None:
            self._checksum = catalog_checksum(self.catalog)
        settings = json.dumps(self._template.get_params(), sort_keys=True, default=str)
        key = hashlib.sha256(
            f"{self._checksum}|{settings}|{benchmark}|{sklearn.__version__}|{np.__version__}".encode()
        ).hexdigest()[:20]
        return self.cache_dir / f"prior-{benchmark}-{key}.joblib"

    # Predicting --------------------------------------------------------------------------------------------------

    def known(self, row: int, benchmarks: Sequence[str]) -> tuple[KnownScore, ...]:
        """The catalog's scores of one row on `benchmarks`, with source and date."""
        frame = self.catalog.frame
        out = []
        for b in benchmarks:
            value = frame.at[row, f"score.{b}"]
            if pd.notna(value):
                date = frame.at[row, f"date.{b}"]
                out.append(KnownScore(b, round(float(value), 2), str(frame.at[row, f"source.{b}"]),
                                      None if pd.isna(date) else str(date)))
        return tuple(out)

    def benchmark_scores(self, rows: np.ndarray, benchmark: str) -> tuple[np.ndarray, np.ndarray] | None:
        """Per row, (score, σ) on `benchmark`: known (σ 0) where the catalog has it, predicted elsewhere; `None`
        when rows without a score exist and the prior cannot predict the benchmark."""
        known = self.catalog.scores(benchmark)[rows]
        missing = np.isnan(known)
        if not missing.any():
            return known, np.zeros(len(rows))
        prior = self.prior_for(benchmark)
        if prior is None:
            return None
        mean, std = prior.predict(self.catalog.frame.iloc[rows[missing]], benchmark)
        values, sigmas = known.copy(), np.zeros(len(rows))
        values[missing], sigmas[missing] = mean, std
        return values, sigmas

    def predict_rows(self, rows: np.ndarray, benchmarks: Sequence[str]) -> list[Prediction | None]:
        """The task prediction of each row: the mean over the benchmarks the prior can predict.

        A benchmark the prior cannot predict (too few scores: medqa's 28; hidden) is left out of every row's mean,
        even a row that has a known score on it (it stays among the row's known scores), so every row is compared
        over the same benchmarks whichever rows it is predicted with: a model with a known MedQA is not averaged
        over a harder benchmark than its neighbours. Only when no task benchmark can be predicted are the known
        ones used, for rows that all have them. σ is the mean of the benchmarks' σ (0 for known scores: the fully
        correlated case, as `CatalogPrior.predict_task`).

        Returns:
            One `Prediction` per row; all `None` when no benchmark can be scored.
        """
        rows = np.asarray(rows, dtype=np.int64)
        predictable = [b for b in benchmarks if self.prior_for(b) is not None]
        table = {b: s for b in predictable or benchmarks if (s := self.benchmark_scores(rows, b)) is not None}
        if not table:
            return [None] * len(rows)
        z = float(norm.ppf((1.0 + (self._fitted or self._template).quantile) / 2.0))
        out = []
        for i in range(len(rows)):
            per = {b: (round(float(v[i]), 2), round(float(s[i]), 2)) for b, (v, s) in table.items()}
            mean = float(np.mean([m for m, _ in per.values()]))
            std = float(np.mean([s for _, s in per.values()]))
            kinds = {"known" if s == 0 else "prior" for _, s in per.values()}
            source = kinds.pop() if len(kinds) == 1 else "known+prior"
            interval = (round(max(0.0, mean - z * std), 2), round(min(100.0, mean + z * std), 2))
            out.append(Prediction(round(mean, 2), round(std, 2), interval, per, source))
        return out
