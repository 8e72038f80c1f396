"""UCB-E (Audibert & Bubeck, "Best Arm Identification in Multi-Armed Bandits", COLT 2010).

Pull the arm maximising μ̂_i + √(a / T_i); recommend the best empirical mean. The theory asks for
a ≤ (25/36)(B − K)/H with H = Σ_{i≠*} 1/Δ_i², which is unknown; we estimate it after a uniform warm-up.
"""

from __future__ import annotations

import numpy as np

from recommender.confirm._sampling import BanditEstimator, PullLedger, rank
from recommender.confirm.base import Prior


class UCBE(BanditEstimator):
    """UCB-E with an estimated exploration parameter, pulled in batches.

    UCB-E is sequential; one oracle call per pull would cost K·N calls. We pull the ``batch`` arms with the
    highest indices per step (one question each), ``batch = ⌈K / batch_divisor⌉``: the indices move little within
    a step, and a live oracle needs batches anyway.

    Exploration a: ``exploration`` when given; else a = c·(B − K)/Ĥ, where Ĥ = Σ_{i≠î} 1/max(Δ̂_i, 1/√T_i)² comes
    from the means after a uniform warm-up of ``warmup``·B pulls (Δ̂ clipped below at the warm-up's resolution, so
    a handful of near-ties cannot make Ĥ explode). The prior is ignored; ties are broken at random.

    Args:
        seed: seeds question orders and tie-breaks.
        c: the constant in a = c·(B − K)/H (the paper's analysis holds for c ≤ 25/36; we default to 1).
        exploration: a fixed a instead of the estimate.
        warmup: fraction of B spent uniformly before the index takes over.
        batch_divisor: K / batch size.
    """

    def __init__(self, *, seed: int | None = None, c: float = 1.0, exploration: float | None = None,
                 warmup: float = 0.2, batch_divisor: int = 16):
        self.seed = seed
        self.c = c
        self.exploration = exploration
        self.warmup = warmup
        self.batch_divisor = batch_divisor

    def _search(self, ledger: PullLedger, rng: np.random.Generator, prior: Prior | None) -> tuple[int, tuple]:
        n_arms, arms = ledger.n_arms, np.arange(ledger.n_arms)
        # warm-up: every arm max(1, ⌊warmup·B/K⌋) questions
        ledger.pull(rng.permutation(n_arms), max(1, int(self.warmup * ledger.budget) // n_arms))
        a = self.exploration if self.exploration is not None else self._estimate_a(ledger, rng)
        batch = -(-n_arms // self.batch_divisor)
        # index: pull the `batch` arms with the highest μ̂_i + √(a / T_i) until B is spent
        while ledger.remaining > 0:
            index = ledger.means() + np.sqrt(a / ledger.counts)
            index[ledger.room(arms) == 0] = -np.inf
            m = min(batch, ledger.remaining, int(np.isfinite(index).sum()))
            if m == 0:
                break  # every arm has answered every question
            ledger.pull(np.argpartition(-index, m - 1)[:m], 1)
        return int(rank(ledger.means(), rng)[0]), (n_arms,)

    def _estimate_a(self, ledger: PullLedger, rng: np.random.Generator) -> float:
        """a = c·(B − K)/Ĥ from the warm-up means."""
        means = ledger.means()
        best = rank(means, rng)[0]
        gaps = np.maximum(means[best] - means, 1.0 / np.sqrt(ledger.counts))
        gaps[best] = np.inf
        h = max(float(np.sum(1.0 / gaps ** 2)), 1.0)  # one arm: nothing to separate
        return self.c * max(ledger.budget - ledger.n_arms, 1) / h
