"""Bayesian elimination (after Atsidakou, Katariya, Sanghavi & Kveton, "Bayesian Fixed-Budget Best-Arm
Identification", 2022): Sequential Halving whose eliminations rank arms by Gaussian posterior means.
"""

from __future__ import annotations

import math

import numpy as np

from recommender.confirm._sampling import BanditEstimator, PullLedger, posterior_means, rank
from recommender.confirm.base import Prior


class BayesElimination(BanditEstimator):
    """Halving on posterior means: prior N(μ0_i, σ0_i²) per arm, rewards Gaussian with variance p(1−p).

    ⌈log2 K⌉ rounds with Sequential Halving's budget split and private question orders; after each round the
    better half by posterior mean survives, so an arm with a strong prior needs fewer good answers to stay. With
    no prior, an empirical-Bayes prior shared by all arms is fitted from the first round (μ0 = mean of the arm
    means, σ0² = their variance minus the sampling noise), which shrinks arms with fewer answers toward the pool.

    Args:
        seed: seeds question orders and tie-breaks.
        min_prior_std: floor of the empirical-Bayes σ0 (accuracy scale).
    """

    def __init__(self, *, seed: int | None = None, min_prior_std: float = 0.01):
        self.seed = seed
        self.min_prior_std = min_prior_std

    def _search(self, ledger: PullLedger, rng: np.random.Generator, prior: Prior | None) -> tuple[int, tuple]:
        survivors = np.arange(ledger.n_arms)
        n_rounds = max(1, math.ceil(math.log2(ledger.n_arms)))
        sizes = []
        for r in range(n_rounds):
            if survivors.size == 1:
                break
            sizes.append(survivors.size)
            # pull: Sequential Halving's ⌊B / (|S_r| ⌈log2 K⌉)⌋ fresh questions per survivor
            ledger.pull(survivors, max(1, ledger.budget // (survivors.size * n_rounds)))
            if prior is None and r == 0:
                prior = self._empirical_prior(ledger)
            # eliminate: the better half by posterior mean
            p = np.clip(np.nanmean(ledger.means()[survivors]), 0.05, 0.95)
            post = posterior_means(prior, survivors, ledger.sums[survivors], ledger.counts[survivors], p * (1 - p))
            survivors = survivors[rank(post, rng, prior.mean[survivors])[: -(-survivors.size // 2)]]
        return int(survivors[0]), tuple(sizes)

    def _empirical_prior(self, ledger: PullLedger) -> Prior:
        """One Gaussian for all arms, fitted by moments from the first round's means."""
        means = ledger.means()
        p = float(np.nanmean(means))
        noise = p * (1 - p) / max(float(np.mean(ledger.counts)), 1.0)
        std = max(math.sqrt(max(float(np.nanvar(means)) - noise, 0.0)), self.min_prior_std)
        return Prior(mean=np.full(ledger.n_arms, p), std=np.full(ledger.n_arms, std))
