"""Sequential Halving (Karnin, Koren & Somekh, "Almost Optimal Exploration in Multi-Armed Bandits", ICML 2013).

⌈log2 K⌉ rounds; in round r each survivor in S_r gets ⌊B / (|S_r|·⌈log2 K⌉)⌋ fresh questions of its own, then the
better half (by empirical mean) survives. This is the "plain SH" the accelerated variants are measured against.
"""

from __future__ import annotations

import math

import numpy as np

from recommender.confirm._sampling import BanditEstimator, PullLedger, rank
from recommender.confirm.base import Prior


class SequentialHalving(BanditEstimator):
    """Plain Sequential Halving with private (per-arm) question orders.

    Each arm walks its own random question order, so arms are compared on different questions (the paper's
    i.i.d.-pull setting). Survivors are ranked by the mean of *all* their answers so far (``reuse=True``, the usual
    practical variant; ``reuse=False`` ranks by the current round's answers only, as in the paper's analysis).
    The prior is ignored; ties are broken at random under the seed. Budget a round cannot use (an arm that has
    answered all Q questions) stays unspent, as in the paper's fixed split. When B < K·⌈log2 K⌉ the split rounds
    to zero; every survivor then still gets one question (``max(1, ·)``), and the ledger cuts the last rounds so
    B is never exceeded (otherwise round 1 would halve the pool blindly).

    Args:
        seed: seeds question orders and tie-breaks.
        reuse: rank by cumulative means (True) or by the round's means (False).

    Example:
        >>> SequentialHalving(seed=0).fit(RecordedOracle(matrix), budget=50 * matrix.n_models).best_arm_
    """

    def __init__(self, *, seed: int | None = None, reuse: bool = True):
        self.seed = seed
        self.reuse = reuse

    def _search(self, ledger: PullLedger, rng: np.random.Generator, prior: Prior | None) -> tuple[int, tuple]:
        survivors = np.arange(ledger.n_arms)
        n_rounds = max(1, math.ceil(math.log2(ledger.n_arms)))
        sizes = []
        for _ in range(n_rounds):
            if survivors.size == 1:
                break
            sizes.append(survivors.size)
            # pull: each survivor in S_r gets max(1, ⌊B / (|S_r| ⌈log2 K⌉)⌋) fresh questions, in one batch
            before_sums, before_counts = ledger.sums[survivors].copy(), ledger.counts[survivors].copy()
            ledger.pull(survivors, max(1, ledger.budget // (survivors.size * n_rounds)))
            # score: cumulative mean, or this round's mean only
            sums, counts = ledger.sums[survivors], ledger.counts[survivors]
            if not self.reuse:
                sums, counts = sums - before_sums, counts - before_counts
            with np.errstate(invalid="ignore", divide="ignore"):
                scores = np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
            # eliminate: keep the better half, ⌈|S_r| / 2⌉
            survivors = survivors[rank(scores, rng)[: -(-survivors.size // 2)]]
        return int(survivors[rank(ledger.means()[survivors], rng)[0]]), tuple(sizes)
