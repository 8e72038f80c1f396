"""Hidden gems of the catalog: per model tree, the rarely used models that beat every popular one on a benchmark.

The definition is the Hidden Gems paper's, as ``evals.bench_sh`` applies it to the recorded matrices, here applied
to the catalog's full-benchmark scores. In a tree of K scored models (``mistral-7b``: one family at one size, see
`recommender.confirm.trees`):

- *popular* = the top ⌈1% of K⌉ by popularity (likes, else downloads; ties at the cut are all popular so the bar is
  never lowered by a tie-break; unknown popularity never counts as popular);
- a *gem* is not popular, in the top ⌈1% of K⌉ by score, and strictly better than every popular model.

Flagged models (e.g. contaminated) and models no longer available stay out of every tree, as they stay out of
every recommendation. Licence and size filters choose which trees and gems are *shown*; they never change a tree's
K, so a gem means the same thing whichever filter found it.

Example:
    >>> from index.catalog import Catalog
    >>> gems = GemIndex(Catalog.load())
    >>> tree = gems.tree("mistral-7b", benchmark="gsm8k")
    >>> tree.n_models > 1000, tree.gems["score"].min() > tree.best_popular
    (True, True)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from index.vocabulary import BENCHMARKS, PERMISSIVE_LICENSES

if TYPE_CHECKING:
    from index.catalog import Catalog

__all__ = ["GemIndex", "TreeGems", "gem_mask", "DEFAULT_MIN_MODELS"]

#: trees with fewer scored models are not listed: with K < 20 "top 1%" is one model and the definition says little.
DEFAULT_MIN_MODELS = 20

#: the columns of `TreeGems.models` and `GemIndex.gems`, in display order.
COLUMNS = ("id", "tree", "score", "popularity", "popular", "gem", "rank", "params_b", "license", "source", "date")


def _ranks(values: np.ndarray) -> np.ndarray:
    """1 + the number of strictly greater values (ties share the best rank); -inf ranks last."""
    ordered = np.sort(values)
    return values.size - np.searchsorted(ordered, values, side="right") + 1


def gem_mask(scores: np.ndarray, popularity: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Which models of one tree are hidden gems, and which are popular.

    Args:
        scores: points per model (no NaN: unscored models are not in the tree).
        popularity: likes-else-downloads per model, NaN where unknown (never popular).

    Returns:
        ``(gem, popular)`` boolean masks.

    Example:
        >>> gem, popular = gem_mask(np.array([50.0, 60.0, 70.0]), np.array([100.0, 1.0, np.nan]))
        >>> gem.tolist(), popular.tolist()
        ([False, False, True], [True, False, False])
    """
    top = max(1, math.ceil(0.01 * scores.size))
    known = np.where(np.isnan(popularity), -np.inf, popularity)
    popular = (_ranks(known) <= top) & np.isfinite(known)
    best_popular = scores[popular].max() if popular.any() else -np.inf
    gem = ~popular & (_ranks(scores) <= top) & (scores > best_popular)
    return gem, popular


@dataclass(frozen=True)
class TreeGems:
    """One tree on one benchmark, every scored model with its popular / gem flags.

    Attributes:
        tree (`str`): the tree (``"mistral-7b"``).
        benchmark (`str`): the benchmark whose scores decide.
        models (`pd.DataFrame`): one row per scored model, best score first, columns `COLUMNS`.
        popularity_known (`bool`): whether any model of the tree has a known popularity (without it no model is
            popular and the definition does not apply: `gems` is then empty).
    """

    tree: str
    benchmark: str
    models: pd.DataFrame
    popularity_known: bool

    @property
    def n_models(self) -> int:
        """K, the number of scored models."""
        return len(self.models)

    @property
    def top(self) -> int:
        """⌈1% of K⌉, the size of both "top 1%" sets."""
        return max(1, math.ceil(0.01 * self.n_models))

    @property
    def gems(self) -> pd.DataFrame:
        """The hidden gems (rows of `models`), best first."""
        return self.models[self.models["gem"]]

    @property
    def best_popular(self) -> float | None:
        """The best score among popular models; `None` when no model is popular."""
        popular = self.models.loc[self.models["popular"], "score"]
        return None if popular.empty else float(popular.max())


class GemIndex:
    """Trees of the catalog and their hidden gems, per benchmark.

    Trees are placed once (``recommender.confirm.trees.place_models`` over every catalog model, ~0.6 s); each
    (tree, benchmark) is then a group-by over numpy columns.

    Args:
        catalog: the catalog whose family / size / lineage place models and whose scores and popularity decide.

    Example:
        >>> index = GemIndex(Catalog.load())
        >>> list(index.trees("gsm8k"))[:2]
        ['mistral-7b', 'llama-3-8b']
    """

    def __init__(self, catalog: Catalog):
        self.catalog = catalog
        self._frame: pd.DataFrame | None = None
        self._gem_ids: dict[tuple[str, int], frozenset[str]] = {}
        self._scored_by: dict[str, pd.DataFrame] = {}

    @property
    def frame(self) -> pd.DataFrame:
        """Per eligible catalog row: id, tree, popularity, params_b, license (built on first use)."""
        if self._frame is None:
            self._frame = self._build_frame()
        return self._frame

    def _build_frame(self) -> pd.DataFrame:
        from recommender.confirm.trees import place_models
        from search.filters import filter_mask
        from search.query import Constraints

        source = self.catalog.frame
        likes = source["likes"].to_numpy(dtype=float, na_value=np.nan)
        downloads = source["downloads"].to_numpy(dtype=float, na_value=np.nan)
        frame = pd.DataFrame({
            "row": np.arange(len(source)),
            "id": source["id"],
            "tree": pd.Series(place_models(list(source["id"]), self.catalog).values(), dtype=object),
            "popularity": np.where(np.isnan(likes), downloads, likes),
            "params_b": source["params_b"].to_numpy(dtype=float, na_value=np.nan),
            "license": source["license"],
        })
        # Flagged and unavailable models are out of every recommendation, so they are out of every tree too.
        eligible = filter_mask(source, Constraints())
        return frame[eligible & frame["tree"].notna().to_numpy()].reset_index(drop=True)

    # Listing ---------------------------------------------------------------------------------------------------

    def trees(self, benchmark: str, *, min_models: int = DEFAULT_MIN_MODELS, min_params_b: float | None = None,
              max_params_b: float | None = None) -> dict[str, int]:
        """Trees with at least `min_models` models scored on `benchmark`, largest first.

        Args:
            benchmark: a catalog benchmark (``"gsm8k"``).
            min_models: smallest K listed.
            min_params_b, max_params_b: keep trees whose median size (billions) lies in this range.

        Returns:
            Tree name → K.

        Raises:
            UnknownBenchmarkError: `benchmark` is not a catalog benchmark.
        """
        scored = self._scored(benchmark)
        sizes = scored.groupby("tree").agg(k=("id", "size"), params=("params_b", "median"))
        keep = sizes["k"] >= min_models
        if min_params_b is not None:
            keep &= sizes["params"] >= min_params_b
        if max_params_b is not None:
            keep &= sizes["params"] <= max_params_b
        sizes = sizes[keep].sort_values("k", ascending=False, kind="stable")
        return {str(t): int(k) for t, k in sizes["k"].items()}

    def tree(self, name: str, *, benchmark: str) -> TreeGems:
        """Every scored model of tree `name` on `benchmark`, with popular and gem flags.

        Raises:
            UnknownBenchmarkError: `benchmark` is not a catalog benchmark.
            KeyError: no model of the tree has a score on `benchmark` (the message names the tree).
        """
        scored = self._scored(benchmark)
        members = scored[scored["tree"] == name.lower()]
        if members.empty:
            raise KeyError(f"Tree '{name}' has no model scored on {benchmark}; pick one of the listed trees.")
        return self._flag(name.lower(), benchmark, members)

    def gems(self, benchmark: str, *, min_models: int = DEFAULT_MIN_MODELS, min_params_b: float | None = None,
             max_params_b: float | None = None, license: str | None = None) -> pd.DataFrame:
        """The hidden gems of every listed tree (see `trees`), best score first.

        Args:
            benchmark, min_models, min_params_b, max_params_b: as in `trees`.
            license: show only gems with this licence id, or ``"permissive"`` for any permissive licence (DESIGN:
                "commercial use"); an unknown licence never passes. `None` shows all.

        Returns:
            Rows with `COLUMNS` plus ``best_popular`` (the score a gem beat) and ``margin`` (points above it).
        """
        parts = []
        listed = self.trees(benchmark, min_models=min_models, min_params_b=min_params_b, max_params_b=max_params_b)
        scored = self._scored(benchmark)
        for name, members in scored[scored["tree"].isin(list(listed))].groupby("tree", sort=False):
            tree = self._flag(str(name), benchmark, members)
            found = tree.gems.copy()
            found["best_popular"] = tree.best_popular
            parts.append(found)
        columns = list(COLUMNS) + ["best_popular", "margin"]
        if not parts:
            return pd.DataFrame(columns=columns)
        out = pd.concat(parts, ignore_index=True)
        out["margin"] = out["score"] - out["best_popular"]
        if license is not None:
            allowed = PERMISSIVE_LICENSES if license == "permissive" else (license,)
            out = out[out["license"].isin(allowed)]
        return out.sort_values("score", ascending=False, kind="stable").reset_index(drop=True)[columns]

    def gem_ids(self, benchmark: str, *, min_models: int = DEFAULT_MIN_MODELS) -> frozenset[str]:
        """Lower-cased ids of every hidden gem on `benchmark` (all listed trees, no filters); cached per benchmark."""
        key = (benchmark, min_models)
        if key not in self._gem_ids:
            self._gem_ids[key] = frozenset(self.gems(benchmark, min_models=min_models)["id"].str.lower())
        return self._gem_ids[key]

    def tree_of(self, model_id: str) -> str | None:
        """The tree of an eligible catalog model, `None` when it is unplaced, flagged or unknown."""
        hit = self.frame.loc[self.frame["id"].str.lower() == model_id.lower(), "tree"]
        return None if hit.empty else str(hit.iloc[0])

    # Internals -------------------------------------------------------------------------------------------------

    def _scored(self, benchmark: str) -> pd.DataFrame:
        """The eligible placed models with a score on `benchmark` (cached: the Gems tab asks again and again)."""
        if benchmark not in BENCHMARKS:
            from index.errors import UnknownBenchmarkError

            raise UnknownBenchmarkError(benchmark)
        if benchmark not in self._scored_by:
            self._scored_by[benchmark] = self._score_frame(benchmark)
        return self._scored_by[benchmark]

    def _score_frame(self, benchmark: str) -> pd.DataFrame:
        frame = self.frame
        source = self.catalog.frame
        rows = frame["row"].to_numpy()
        scored = frame.assign(
            score=self.catalog.scores(benchmark)[rows],
            source=source[f"source.{benchmark}"].to_numpy()[rows],
            date=source[f"date.{benchmark}"].to_numpy()[rows],
        )
        return scored[scored["score"].notna()]

    @staticmethod
    def _flag(name: str, benchmark: str, members: pd.DataFrame) -> TreeGems:
        scores = members["score"].to_numpy(dtype=float)
        popularity = members["popularity"].to_numpy(dtype=float)
        gem, popular = gem_mask(scores, popularity)
        models = members.assign(popular=popular, gem=gem, rank=_ranks(scores))
        models = models.sort_values(["rank", "id"], kind="stable").reset_index(drop=True)[list(COLUMNS)]
        return TreeGems(name, benchmark, models, popularity_known=bool(np.isfinite(popularity).any()))
