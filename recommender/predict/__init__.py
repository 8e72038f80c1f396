"""Prediction: a score ± uncertainty per candidate (the catalog prior; the fine-tuning laws)."""

from recommender.predict.baselines import AtS, ModelSize, ZeroShot
from recommender.predict.curves import CurveSet, load_curves
from recommender.predict.laws import LensLLMLaw, PooledLensLLM, RectifiedLaw, ntk_term
from recommender.predict.prior import CatalogPrior

__all__ = [
    "CatalogPrior",
    "RectifiedLaw", "LensLLMLaw", "PooledLensLLM", "ntk_term",
    "ZeroShot", "ModelSize", "AtS",
    "CurveSet", "load_curves",
]
