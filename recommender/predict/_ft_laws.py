"""Glue between measured curve points and the scaling laws of `recommender.predict.laws`.

`fit_laws` fits LensLLM and Rectified to a candidate's curve and predicts the loss at the full pool size;
`ntk_per_step` evaluates the LensLLM NTK term F(Θ, t) on the candidate itself (a probe batch, at initialisation)
so the report can set the computed F beside the constant the curve fit settles on.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from transformers import PreTrainedModel

    from recommender.predict._ft_data import Encoded
    from recommender.predict.finetune import CurvePoint, LawFit

#: laws fitted on every curve, ranking law first: LensLLM with F a fitted constant (the form that extrapolates the
#: measured curve), LensLLM with F held at the NTK value F(Θ, t_N) computed from the model, and Rectified.
LAWS = ("lensllm", "lensllm-ntk", "rectified")


def fit_laws(points: Sequence[CurvePoint], n_full: int, ntk_F: float | None = None) -> tuple[LawFit, ...]:
    """Fit the laws of `LAWS` on (D, L(D)) and predict L(n_full); a law whose fit fails is left out.

    Args:
        points: the curve so far, zero-shot point included (at least 3 points).
        n_full: the full training-pool size N.
        ntk_F: F(Θ, t) from `ntk_value` for the full-data run; None skips ``lensllm-ntk``.

    Returns:
        One `LawFit` per law that fitted, in `LAWS` order.
    """
    from recommender.predict.finetune import LawFit
    from recommender.predict.laws import LensLLMLaw, RectifiedLaw

    sizes = [float(p.examples) for p in points]
    losses = [float(p.loss) for p in points]
    laws = {"lensllm": LensLLMLaw(), "rectified": RectifiedLaw()}
    if ntk_F is not None:
        laws["lensllm-ntk"] = LensLLMLaw(ntk=ntk_F)
    fits = []
    for name in LAWS:
        if name not in laws:
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # a rough fit on 3 points is expected; the stopping rule handles it
                law = laws[name].fit(sizes, losses)
                mean, std = law.predict([float(n_full)])
        except (ValueError, RuntimeError, ArithmeticError, np.linalg.LinAlgError):
            continue
        mean, std = float(mean[0]), float(std[0])
        if math.isfinite(mean) and mean > 0:
            fits.append(LawFit(name, mean, std if math.isfinite(std) else abs(mean - losses[-1]),
                               {k: float(v) for k, v in law.params_.items()}))
    return tuple(fits)


#: which fit ranks a candidate, in order of preference: the NTK-fixed law comes last because a computed F far above
#: D^β leaves the law no room to bend (see the module docstring of `finetune`).
RANKING_ORDER = ("lensllm", "rectified", "lensllm-ntk")


def primary(fits: Sequence[LawFit]) -> LawFit:
    """The fit that ranks the candidate: the first of `RANKING_ORDER` present in `fits` (non-empty)."""
    return min(fits, key=lambda f: RANKING_ORDER.index(f.law))


def ntk_per_step(model: PreTrainedModel, probe: Sequence[Encoded], *, pad_id: int, device: str) -> float | None:
    """F(Θ, 1) of `model` at initialisation on the probe batch: the mean squared per-example loss-gradient norm.

    `ntk_term` is linear in t (F = t · tr Θ / n), so one evaluation at t = 1 gives F(Θ, t) for every run's t
    without recomputing the gradients. None when the gradients are not finite.
    """
    from recommender.predict._training import collate
    from recommender.predict.laws import ntk_term

    try:
        value = float(ntk_term(model, collate(probe, pad_id, device), 1))
    except (ValueError, RuntimeError, ArithmeticError):
        return None
    return value if math.isfinite(value) and value > 0 else None
