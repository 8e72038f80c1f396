"""Prior-guided Sequential Halving: accelerated SH (shared questions, after Kahana/Horwitz/Hoshen arXiv 2601.22157)
whose queries are steered by a predicted score ± std per arm (the catalog prior of ``recommender.predict``).

A hidden gem is by definition an arm its prior under-rates, so the prior never decides an elimination on its own
beyond a capped, heavy-tailed pre-screen; it breaks the ties that a few shared 0/1 answers leave.
"""

from __future__ import annotations

import numpy as np

from recommender.confirm._sampling import BanditEstimator, PullLedger, shared_race
from recommender.confirm.base import Prior


class PriorSequentialHalving(BanditEstimator):
    """Shared-question racing (`AcceleratedSequentialHalving`'s schedule) with a capped prior pre-screen and prior
    tie-breaks.

    1. *Pre-screen* (free): an arm is dropped only when its prior upper bound μ + zσ (z = ``prescreen_z``, 3 by
       default: a wide bound, since the prior's errors are heavy-tailed — contaminated or broken runs sit 50
       points above their prediction) is below the ``prescreen_rank``-th best lower bound μ − zσ, and never
       more than ``prescreen_max_frac`` of the arms (the lowest upper bounds go first); at least ``final_size``
       arms stay.
    2. *Race*: confidence-aware halving rounds over shared questions, ties at each cut broken by the prior mean,
       then the rest of B on the last ``final_size`` arms (`recommender.confirm._sampling.shared_race`).

    Without a prior it is `AcceleratedSequentialHalving` with these parameters.

    Args:
        seed: seeds the shared question order and tie-breaks.
        final_size: arms that share the final stage.
        z: keep margin of a cut in standard errors.
        max_keep: largest fraction of survivors a cut keeps.
        min_keep: smallest fraction a cut keeps.
        first_share: the first round spends at least this fraction of B.
        prescreen_z: z of the pre-screen's bounds (larger drops fewer arms; ``None`` = no pre-screen).
        prescreen_rank: which best lower bound the upper bounds are compared with.
        prescreen_max_frac: largest fraction of the arms the pre-screen may drop.
    """

    shared_questions = True

    def __init__(self, *, seed: int | None = None, final_size: int = 4, z: float = 1.0, max_keep: float = 0.6,
                 min_keep: float = 0.5, first_share: float = 0.3, prescreen_z: float | None = 3.0,
                 prescreen_rank: int = 5, prescreen_max_frac: float = 0.25):
        self.seed = seed
        self.final_size = final_size
        self.z = z
        self.max_keep = max_keep
        self.min_keep = min_keep
        self.first_share = first_share
        self.prescreen_z = prescreen_z
        self.prescreen_rank = prescreen_rank
        self.prescreen_max_frac = prescreen_max_frac

    def _search(self, ledger: PullLedger, rng: np.random.Generator, prior: Prior | None) -> tuple[int, tuple]:
        survivors = np.arange(ledger.n_arms) if prior is None else self._prescreen(prior)
        sizes: list[int] = [ledger.n_arms] if survivors.size < ledger.n_arms else []
        survivors = shared_race(ledger, rng, survivors, ledger.remaining, final_size=self.final_size, z=self.z,
                                max_keep=self.max_keep, min_keep=self.min_keep, first_share=self.first_share,
                                tiebreak=None if prior is None else prior.mean, sizes=sizes)
        return int(survivors[0]), tuple(sizes)

    def _prescreen(self, prior: Prior) -> np.ndarray:
        """The arms the prior does not rule out (all of them when ``prescreen_z`` is None)."""
        k = prior.mean.size
        if self.prescreen_z is None:
            return np.arange(k)
        upper = prior.mean + self.prescreen_z * prior.std
        lower = np.sort(prior.mean - self.prescreen_z * prior.std)[::-1]
        bar = lower[min(self.prescreen_rank, k) - 1]
        hopeless = np.flatnonzero(upper < bar)
        cap = min(int(self.prescreen_max_frac * k), max(k - self.final_size, 0))
        if hopeless.size > cap:  # drop only the cap's worth, lowest upper bounds first
            hopeless = hopeless[np.argsort(upper[hopeless], kind="stable")[:cap]]
        return np.setdiff1d(np.arange(k), hopeless)
