"""Uniform allocation: every arm gets the same number of questions, the best empirical mean wins.

The baseline every adaptive algorithm must beat; with N = Q it is the exhaustive evaluation.
"""

from __future__ import annotations

import numpy as np

from recommender.confirm._sampling import BanditEstimator, PullLedger, rank
from recommender.confirm.base import Prior


class Uniform(BanditEstimator):
    """Ask every arm ⌊B/K⌋ questions (the remaining B mod K pulls go to random arms), return the best mean.

    The prior is ignored; ties are broken at random under the seed.

    Args:
        seed: seeds question orders and tie-breaks.

    Example:
        >>> Uniform(seed=0).fit(RecordedOracle(matrix), budget=10 * matrix.n_models).best_arm_
    """

    def __init__(self, *, seed: int | None = None):
        self.seed = seed

    def _search(self, ledger: PullLedger, rng: np.random.Generator, prior: Prior | None) -> tuple[int, tuple]:
        arms = rng.permutation(ledger.n_arms)  # random order decides who gets the B mod K extra pulls
        ledger.pull(arms, -(-ledger.budget // ledger.n_arms))
        return int(rank(ledger.means(), rng)[0]), (ledger.n_arms,)
