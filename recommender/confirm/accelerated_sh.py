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

from recommender.confirm._sampling import BanditEstimator, PullLedger, shared_race
from recommender.confirm.base import Prior


class AcceleratedSequentialHalving(BanditEstimator):
    """Sequential Halving with shared questions, confidence-aware cuts and a final stage on the last few arms.

    Rounds split what is left of B equally (Sequential Halving's split, recomputed per round); after each round
    an arm stays when its mean over the shared questions is within ``z`` standard errors of the mean at the
    halving position (so ties and near-ties survive), between ``min_keep`` and ``max_keep`` of the survivors;
    once ``final_size`` arms are left they get all the rest of B, up to every question of the pool
    (`recommender.confirm._sampling.shared_race`).

    The prior is ignored: ties are broken at random under the seed. (Breaking them by the catalog prior helps
    where the prior is right — MMLU — and is fatal where the best arms are ones it under-rates: TruthfulQA's
    contaminated runs score 100 against a predicted ~45 and lose every tie. `PriorSequentialHalving` is the
    prior-guided variant.)

    Args:
        seed: seeds the shared question order and tie-breaks.
        final_size: arms that share the final stage.
        z: keep margin in standard errors (0 = tie-aware halving).
        max_keep: largest fraction of survivors a cut keeps (guarantees progress).
        min_keep: smallest fraction a cut keeps.
        first_share: the first round spends at least this fraction of B.
        first_round_keep: if set, the first cut keeps at most this many arms (the paper's aggressive first round;
            off by default, see the module docstring).
    """

    shared_questions = True

    def __init__(self, *, seed: int | None = None, final_size: int = 4, z: float = 1.0, max_keep: float = 0.75,
                 min_keep: float = 0.5, first_share: float = 0.3, first_round_keep: int | None = None):
        self.seed = seed
        self.final_size = final_size
        self.z = z
        self.max_keep = max_keep
        self.min_keep = min_keep
        self.first_round_keep = first_round_keep
        self.first_share = first_share

    def _search(self, ledger: PullLedger, rng: np.random.Generator, prior: Prior | None) -> tuple[int, tuple]:
        sizes: list[int] = []
        survivors = shared_race(ledger, rng, np.arange(ledger.n_arms), ledger.remaining, final_size=self.final_size,
                                z=self.z, max_keep=self.max_keep, min_keep=self.min_keep,
                                first_keep=self.first_round_keep, first_share=self.first_share, sizes=sizes)
        return int(survivors[0]), tuple(sizes)
