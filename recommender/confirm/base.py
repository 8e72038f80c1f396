"""What every best-arm identification algorithm shares: parameters, the result record, budget bookkeeping.

An algorithm is estimator-like (scikit-learn style): ``__init__`` stores keyword parameters, ``fit(oracle, budget)``
runs the search, stores what it learned in attributes ending in ``_`` and returns ``self``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Prior:
    """A predicted score ± uncertainty per arm, on the reward scale (0–1 accuracy).

    Attributes:
        mean (`np.ndarray`): predicted accuracy per arm.
        std (`np.ndarray`): its standard deviation per arm (> 0).
    """

    mean: np.ndarray
    std: np.ndarray

    def __post_init__(self) -> None:
        if self.mean.shape != self.std.shape or self.mean.ndim != 1:
            raise ValueError(f"Prior mean {self.mean.shape} and std {self.std.shape} must be equal 1-d shapes.")
        if not (self.std > 0).all():
            raise ValueError("Prior std must be positive for every arm.")


@dataclass(frozen=True)
class BanditResult:
    """The outcome of one run.

    Attributes:
        best_arm (`int`): the arm returned.
        estimates (`np.ndarray`): empirical mean reward per arm (NaN where never pulled).
        pulls (`np.ndarray`): pulls per arm.
        budget (`int`): pulls allowed (after capping at n_arms × n_questions).
        spent (`int`): pulls made (≤ budget).
        cost (`float`): sum of the oracle's costs of those pulls.
        survivors_per_round (`tuple[int, ...]`): arms alive at the start of each round (elimination algorithms).
    """

    best_arm: int
    estimates: np.ndarray
    pulls: np.ndarray
    budget: int
    spent: int
    cost: float
    survivors_per_round: tuple[int, ...] = ()

    @property
    def unspent(self) -> int:
        """Budget left unspent (e.g. every surviving arm answered every question)."""
        return self.budget - self.spent


def capped_budget(budget: int, n_arms: int, n_questions: int) -> int:
    """The budget an algorithm may spend: B, capped at K·Q (every arm on every question)."""
    if budget < 0:
        raise ValueError(f"budget={budget!r} must be a non-negative number of pulls.")
    return int(min(budget, n_arms * n_questions))
