"""Prediction: a score ± uncertainty per candidate (the catalog prior; the fine-tuning laws)."""

from recommender.predict.prior import CatalogPrior

__all__ = ["CatalogPrior"]
