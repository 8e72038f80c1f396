"""Prior-guided Sequential Halving: accelerated SH (shared questions, Kahana/Horwitz/Hoshen arXiv 2601.22157) whose
queries are steered by a predicted score ± std per arm (the catalog prior of ``recommender.predict``).

The prior decides where queries go: a free pre-screen spends nothing on arms it rules out, and it breaks the
many ties that a few shared 0/1 answers leave. Optionally (``posterior=True``) a Gaussian posterior (prior ⊕
observed answers, Atsidakou et al. 2022-style, prior std re-calibrated from the answers) drives every elimination;
on GSM8K that is worse, because a hidden gem is by definition an arm its prior under-rates (see the class).
"""

from __future__ import annotations

import numpy as np

from recommender.confirm._sampling import BanditEstimator, PullLedger, halving_sizes, shared_rounds
from recommender.confirm.base import Prior


class PriorSequentialHalving(BanditEstimator):
    """Shared-question Sequential Halving with a prior-driven pre-screen and posterior-mean eliminations.

    Schedule, on B pulls over K arms:

    1. *Pre-screen* (free): drop arms whose prior upper bound μ+zσ is below the ``prescreen_rank``-th best prior
       lower bound μ−zσ (z = ``prescreen_z``); at least ``first_round_keep`` arms stay.
    2. *Screen*: halving rounds with shared questions from the pre-screened pool S_0 down to ``first_round_keep``
       arms, spending ``screen_share`` of B.
    3. *Halve*: halving rounds down to one arm with the rest of B (cumulative questions double per round, capped
       at Q, so the last arms answer every question when B allows).

    Eliminations rank survivors by their mean over the shared questions, ties broken by prior mean. Measured on
    the Mistral-7B GSM8K tree (K = 1,699, prior from the catalog's other benchmarks, r = 0.87): the pre-screen
    keeps 1,424 arms including the true top 10, and regret at N = 10 falls from ≈0.9 points (no prior) to ≈0.5.
    Posterior-mean eliminations (``posterior=True``) were worse (≈2.2 points): the true best arm is the prior's
    #174, 10 points above its prediction, and shrinking it toward that prediction drops it in the early rounds.

    With ``posterior=True``: survivors have answered the same questions, so their observed means share the
    questions' difficulty; it is removed by centring (observed mean − survivors' mean + survivors' prior mean)
    before the precision-weighted average with the prior. The reward variance is p̄(1−p̄) of the survivors; the prior variance is rescaled once, after the first round, so that the prior's residuals on the
    whole (not yet selected) pool match what the answers show (method of moments), never below ``min_prior_std``.
    Without a prior it is `AcceleratedSequentialHalving` with these parameters.

    Args:
        seed: seeds the shared question order and tie-breaks.
        first_round_keep: arms left after the screen.
        screen_share: fraction of B spent by the screen.
        prescreen_z: z of the pre-screen's bounds (larger drops fewer arms).
        prescreen_rank: which best lower bound the upper bounds are compared with.
        posterior: rank by posterior means instead of observed means.
        min_prior_std: floor of the calibrated prior std (accuracy scale, ``posterior=True`` only).
    """

    shared_questions = True

    def __init__(self, *, seed: int | None = None, first_round_keep: int = 100, screen_share: float = 0.7,
                 prescreen_z: float = 2.0, prescreen_rank: int = 5, posterior: bool = False,
                 min_prior_std: float = 0.005):
        self.seed = seed
        self.first_round_keep = first_round_keep
        self.screen_share = screen_share
        self.prescreen_z = prescreen_z
        self.prescreen_rank = prescreen_rank
        self.posterior = posterior
        self.min_prior_std = min_prior_std

    def _search(self, ledger: PullLedger, rng: np.random.Generator, prior: Prior | None) -> tuple[int, tuple]:
        survivors = np.arange(ledger.n_arms) if prior is None else self._prescreen(prior)
        calibration: dict = {}  # the prior's variance scale, fitted once from the first answers
        if prior is not None and self.posterior:
            score = lambda a: self._posterior(ledger, prior, a, calibration)
        else:
            score = lambda a: ledger.means()[a]
        tiebreak = None if prior is None else prior.mean
        keep = min(self.first_round_keep, survivors.size)
        screen = halving_sizes(survivors.size, last=keep) if keep < survivors.size else []
        finals = halving_sizes(keep)
        # screen: the pre-screened pool down to first_round_keep with screen_share of B
        if screen:
            survivors = shared_rounds(ledger, rng, survivors, screen, int(self.screen_share * ledger.budget), score,
                                      final_keep=keep, tiebreak=tiebreak)
        # halve: down to one with the rest of B
        survivors = shared_rounds(ledger, rng, survivors, finals, ledger.remaining, score, tiebreak=tiebreak)
        return int(survivors[0]), tuple(([ledger.n_arms] if prior is not None else []) + screen + finals)

    def _prescreen(self, prior: Prior) -> np.ndarray:
        """Arms whose prior upper bound reaches the ``prescreen_rank``-th best prior lower bound."""
        upper = prior.mean + self.prescreen_z * prior.std
        lower = np.sort(prior.mean - self.prescreen_z * prior.std)[::-1]
        bar = lower[min(self.prescreen_rank, lower.size) - 1]
        kept = np.flatnonzero(upper >= bar)
        if kept.size < min(self.first_round_keep, prior.mean.size):  # too few: top first_round_keep by prior mean
            kept = np.argsort(-prior.mean, kind="stable")[: self.first_round_keep]
        return kept

    def _posterior(self, ledger: PullLedger, prior: Prior, arms: np.ndarray, calibration: dict) -> np.ndarray:
        """Posterior means of ``arms`` (which have answered the same questions) under the calibrated prior."""
        counts = ledger.counts[arms]
        if counts.max() == 0:
            return prior.mean[arms].copy()
        observed = ledger.sums[arms] / np.maximum(counts, 1)
        # centre: shared questions give every survivor the same difficulty offset; the prior carries the level
        centred = observed - observed.mean() + prior.mean[arms].mean()
        p = np.clip(observed.mean(), 0.05, 0.95)
        noise = p * (1 - p) / np.maximum(counts, 1)
        if "scale" not in calibration:
            # calibrate once, on the first round's unselected pool: var(centred − μ) = prior var + sampling noise
            excess = float(np.var(centred - prior.mean[arms]) - noise.mean())
            calibration["scale"] = max(excess, self.min_prior_std ** 2) / float(np.mean(prior.std[arms] ** 2))
        prior_var = np.maximum(calibration["scale"] * prior.std[arms] ** 2, self.min_prior_std ** 2)
        weight = prior_var / (prior_var + noise)  # weight of the data
        return weight * centred + (1 - weight) * prior.mean[arms]
