"""Accelerated Sequential Halving: shared questions and a designed schedule (after Kahana, Horwitz & Hoshen,
"Hidden Gems", arXiv 2601.22157).

Two changes to Sequential Halving (Karnin et al. 2013): (a) *shared queries* — every round asks all survivors the
same fresh questions, so comparisons between arms are paired and question difficulty cancels; (b) a schedule built
for few 0/1 answers instead of the paper's fixed "cut to 100 after one shared question" (measured worse than plain
SH on our trees: a few shared answers leave half the pool tied, and a blind cut among ties loses the best arm
about half the time). See `AcceleratedSequentialHalving`.
"""

from __future__ import annotations

import numpy as np

from recommender.confirm._guided import guided_race
from recommender.confirm._sampling import BanditEstimator, PullLedger
from recommender.confirm.base import Prior


class AcceleratedSequentialHalving(BanditEstimator):
    """Sequential Halving with shared questions on a budget-sized doubling schedule, tie-aware cuts and a final stage.

    Every round asks all survivors the same next questions; each round keeps ``keep`` of them and multiplies the
    questions answered by ``growth``, the first round being the longest the budget can carry through to the end
    (`recommender.confirm._guided.next_length`: survivors fall like 1/n in the questions answered, Sequential
    Halving's shape, whatever B is; an equal split per round instead leaves 1-question rounds at N = 5–10 that
    cut on noise). The leaders' tie group survives a cut whole while it is at most ``protect_cap`` of the
    survivors; the last ``final_size`` arms get the rest of B, up to every question
    (`recommender.confirm._guided.guided_race`).

    The prior is ignored: ties are broken at random under the seed (breaking them by the catalog prior helps where
    the prior is right and loses the arms it under-rates: TruthfulQA's contaminated runs score 100 against a
    predicted ~45). `PriorSequentialHalving` is the prior-guided variant.

    Args:
        seed: seeds the shared question order and tie-breaks.
        keep: fraction of the survivors each round keeps.
        growth: factor by which each round multiplies the questions answered.
        final_size: arms that share the rest of the budget at the end.
        protect_cap: the leaders' tie group survives a cut whole while it is at most this fraction of the survivors.
        first_round_keep: if set, the first cut keeps at most this many arms (the paper's aggressive first round;
            off by default, see the module docstring).
    """

    shared_questions = True

    def __init__(self, *, seed: int | None = None, keep: float = 0.5, growth: float = 2.0, final_size: int = 4,
                 protect_cap: float = 0.75, first_round_keep: int | None = None):
        self.seed = seed
        self.keep = keep
        self.growth = growth
        self.final_size = final_size
        self.protect_cap = protect_cap
        self.first_round_keep = first_round_keep

    def _search(self, ledger: PullLedger, rng: np.random.Generator, prior: Prior | None) -> tuple[int, tuple]:
        sizes: list[int] = []
        survivors = guided_race(ledger, rng, np.arange(ledger.n_arms), None, keep=self.keep, growth=self.growth,
                                final_size=self.final_size, protect_cap=self.protect_cap,
                                first_keep=self.first_round_keep, sizes=sizes)
        return int(survivors[0]), tuple(sizes)
