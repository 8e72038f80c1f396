"""Ranking metrics of one answer against one request's ground truth.

Every metric reads the same two arrays: the answer's ranking (catalog rows, best first) and ``truth``, the true
score in points of every row on the request's benchmark with NaN for rows outside the eligible set (fails the
request's true filters, or has no score). A pick outside the eligible set gains 0.

- **NDCG@k** — gain = true score (points); DCG = Σᵢ gainᵢ / log₂(i + 1) over ranks i = 1 … k (Järvelin & Kekäläinen,
  TOIS 2002, the form `sklearn.metrics.ndcg_score` uses), divided by the DCG of the eligible set's best k.
- **top-1 regret** — true best eligible score − true score of the first pick (points; the best score itself when
  the pick is not eligible).
- **recall@k** — the share of the true top k found in the first k picks; the true top k is every eligible row
  scoring at least the k-th best score (ties at the cut included), out of min(k, eligible).
- **gem hit** — whether the first pick is a hidden gem of the eligible set by the Hidden Gems paper's definition
  (`recommender.gems.gem_mask`: not in the top 1% by popularity, in the top 1% by score, strictly better than every
  popular model); `None` when the eligible set holds no gem.

Example:
    >>> truth = np.array([70.0, 50.0, np.nan, 60.0])
    >>> round(ndcg_at_k(np.array([3, 0, 1]), truth, k=2), 4), top1_regret(np.array([3]), truth)
    (0.8805, 10.0)
"""

from __future__ import annotations

import numpy as np

from recommender.gems import gem_mask

__all__ = ["gains", "gem_hit", "ndcg_at_k", "recall_at_k", "top1_regret"]


def gains(ranking: np.ndarray, truth: np.ndarray, k: int | None = None) -> np.ndarray:
    """True scores of the first `k` picks, 0 for picks outside the eligible set."""
    picks = np.asarray(ranking, dtype=np.int64)[:k]
    return np.nan_to_num(truth[picks], nan=0.0)


def _dcg(values: np.ndarray) -> float:
    return float(np.sum(values / np.log2(np.arange(2, values.size + 2))))


def _eligible_sorted(truth: np.ndarray) -> np.ndarray:
    values = truth[~np.isnan(truth)]
    if values.size == 0:
        raise ValueError("The eligible set is empty: no metric is defined for this request.")
    return np.sort(values)[::-1]


def ndcg_at_k(ranking: np.ndarray, truth: np.ndarray, k: int = 10) -> float:
    """NDCG@k with gain = true score (0–1).

    Args:
        ranking: catalog rows, best first (may be shorter than k; duplicates are a caller error).
        truth: true points per catalog row, NaN outside the eligible set.
        k: the cut-off.

    Returns:
        DCG of the picks over the DCG of the eligible set's top k.

    Raises:
        ValueError: the eligible set is empty or every eligible score is 0.
    """
    ideal = _dcg(_eligible_sorted(truth)[:k])
    if ideal <= 0:
        raise ValueError("Every eligible model scores 0: NDCG is undefined.")
    return _dcg(gains(ranking, truth, k)) / ideal


def top1_regret(ranking: np.ndarray, truth: np.ndarray) -> float:
    """True best eligible score − true score of the first pick, in points (the best score for no/ineligible pick)."""
    best = float(_eligible_sorted(truth)[0])
    picked = float(gains(ranking, truth, 1)[0]) if len(ranking) else 0.0
    return best - picked


def recall_at_k(ranking: np.ndarray, truth: np.ndarray, k: int = 10) -> float:
    """Share of the true top k (ties at the cut included) among the first k picks, out of min(k, eligible)."""
    ordered = _eligible_sorted(truth)
    cut = ordered[min(k, ordered.size) - 1]
    picks = np.unique(np.asarray(ranking, dtype=np.int64)[:k])
    found = int(np.sum(~np.isnan(truth[picks]) & (np.nan_to_num(truth[picks], nan=-np.inf) >= cut)))
    return min(1.0, found / min(k, ordered.size))


def gem_hit(ranking: np.ndarray, truth: np.ndarray, popularity: np.ndarray) -> bool | None:
    """Whether the first pick is a hidden gem of the eligible set; `None` when the set has none.

    Args:
        ranking: catalog rows, best first.
        truth: true points per row, NaN outside the eligible set.
        popularity: likes-else-downloads per row, NaN where unknown (never popular).
    """
    eligible = np.flatnonzero(~np.isnan(truth))
    if eligible.size == 0:
        raise ValueError("The eligible set is empty: no metric is defined for this request.")
    gem, _ = gem_mask(truth[eligible], popularity[eligible])
    if not gem.any():
        return None
    if not len(ranking):
        return False
    gems = set(eligible[gem].tolist())
    return int(ranking[0]) in gems
