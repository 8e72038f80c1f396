"""Successive Rejects (Audibert & Bubeck, "Best Arm Identification in Multi-Armed Bandits", COLT 2010).

K − 1 phases; after phase k every surviving arm has been pulled n_k = ⌈(B − K) / (loḡ(K) (K + 1 − k))⌉ times,
with loḡ(K) = 1/2 + Σ_{i=2..K} 1/i, and the arm with the lowest empirical mean is rejected.
"""

from __future__ import annotations

import numpy as np

from recommender.confirm._sampling import BanditEstimator, PullLedger, rank
from recommender.confirm.base import Prior


class SuccessiveRejects(BanditEstimator):
    """Successive Rejects with private question orders, one oracle call per phase that pulls.

    Consecutive phases with the same n_k pull nothing new, so their rejections happen together (same result as
    one at a time: the means do not change in between). The prior is ignored; ties are broken at random.

    Args:
        seed: seeds question orders and tie-breaks.
    """

    def __init__(self, *, seed: int | None = None):
        self.seed = seed

    def _search(self, ledger: PullLedger, rng: np.random.Generator, prior: Prior | None) -> tuple[int, tuple]:
        n_arms = ledger.n_arms
        if n_arms == 1:
            ledger.pull(np.array([0]), ledger.budget)
            return 0, (1,)
        log_bar = 0.5 + np.sum(1.0 / np.arange(2, n_arms + 1))
        phases = np.arange(1, n_arms)
        n_k = np.ceil((ledger.budget - n_arms) / (log_bar * (n_arms + 1 - phases))).astype(np.int64)
        n_k = np.maximum(n_k, 1)  # every arm answers at least one question before it can be rejected
        survivors, sizes, k = np.arange(n_arms), [], 0
        while k < n_arms - 1:
            # phases k … k+run−1 share n_k: one pull, then `run` rejections
            run = int(np.searchsorted(n_k, n_k[k], side="right")) - k
            sizes.append(survivors.size)
            ledger.pull(survivors, n_k[k] - ledger.counts[survivors])
            # reject: the `run` lowest empirical means
            survivors = survivors[rank(ledger.means()[survivors], rng)[: survivors.size - run]]
            k += run
        return int(survivors[0]), tuple(sizes)
