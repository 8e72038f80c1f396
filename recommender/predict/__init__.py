"""Prediction: a score ± uncertainty per candidate (the catalog prior; the fine-tuning laws)."""

from recommender.predict.baselines import AtS, ModelSize, ZeroShot
from recommender.predict.curves import CurveSet, load_curves
from recommender.predict.finetune import (
    LOCAL_MODELS, CandidateResult, CurvePoint, FinetuneConfig, FinetuneSelection, LawFit, select,
)
from recommender.predict.laws import LensLLMLaw, PooledLensLLM, RectifiedLaw, ntk_term
from recommender.predict.prior import CatalogPrior

__all__ = [
    "CatalogPrior",
    "RectifiedLaw", "LensLLMLaw", "PooledLensLLM", "ntk_term",
    "ZeroShot", "ModelSize", "AtS",
    "CurveSet", "load_curves",
    "select", "FinetuneConfig", "FinetuneSelection", "CandidateResult", "CurvePoint", "LawFit", "LOCAL_MODELS",
]
