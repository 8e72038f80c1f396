"""Accelerated Sequential Halving: shared questions and an aggressive first round (Kahana, Horwitz & Hoshen,
"Hidden Gems", arXiv 2601.22157).

Two changes to Sequential Halving (Karnin et al. 2013): (a) *shared queries* — every round asks all survivors the
same fresh questions, so comparisons between arms are paired and question difficulty cancels; (b) an *aggressive
first round* — the pool is cut to ``first_round_keep`` arms early and the rest of the budget is spent on them.
The schedule is ours (see `AcceleratedSequentialHalving`).
"""

from __future__ import annotations

import numpy as np

from recommender.confirm._sampling import BanditEstimator, PullLedger, halving_sizes, shared_rounds
from recommender.confirm.base import Prior


class AcceleratedSequentialHalving(BanditEstimator):
    """Sequential Halving with shared questions and a two-stage schedule.

    Stage 1 (screen) halves S_0 = all K arms down to ``first_round_keep`` arms with ``screen_share`` of B;
    stage 2 halves those down to one with the rest. Within each stage the cumulative questions per survivor grow
    by ``growth`` per round (2 = equal budget per round, plain SH's split), capped at Q, with what the capped
    final rounds cannot absorb handed back to earlier rounds. Arms are ranked by cumulative means over their
    (shared, hence identical) questions.

    The prior, when given, only breaks ties (0/1 answers on a few shared questions tie often).

    Args:
        seed: seeds the shared question order and tie-breaks.
        first_round_keep: arms left after the screen (100 in the paper).
        screen_share: fraction of B spent by the screen.
        growth: ratio of consecutive cumulative targets within a stage.
    """

    shared_questions = True

    def __init__(self, *, seed: int | None = None, first_round_keep: int = 100, screen_share: float = 0.5,
                 growth: float = 2.0):
        self.seed = seed
        self.first_round_keep = first_round_keep
        self.screen_share = screen_share
        self.growth = growth

    def _search(self, ledger: PullLedger, rng: np.random.Generator, prior: Prior | None) -> tuple[int, tuple]:
        tiebreak = None if prior is None else prior.mean
        means = ledger.means
        survivors = np.arange(ledger.n_arms)
        keep = min(self.first_round_keep, ledger.n_arms)
        screen = halving_sizes(ledger.n_arms, last=keep) if keep < ledger.n_arms else []
        finals = halving_sizes(keep)
        # screen: S_0 = all arms down to first_round_keep with screen_share of B
        if screen:
            budget = int(self.screen_share * ledger.budget)
            survivors = shared_rounds(ledger, rng, survivors, screen, budget, lambda a: means()[a],
                                      final_keep=keep, growth=self.growth, tiebreak=tiebreak)
        # halve: the survivors down to one with the rest of B
        survivors = shared_rounds(ledger, rng, survivors, finals, ledger.remaining, lambda a: means()[a],
                                  growth=self.growth, tiebreak=tiebreak)
        return int(survivors[0]), tuple(screen + finals)
