"""gemfinder's recommender: prediction, confirmation, the `Recommender` pipeline and the `ModelDiscoverer` API.

Importing the package stays light (no torch, transformers or gradio): the public names load on first use.

Example:
    >>> from recommender import Recommender, ModelDiscoverer
    >>> ModelDiscoverer(model_family="mistral-7b", task="math_reasoning", budget=2000).find_top_k(k=5)
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from recommender.discoverer import ModelDiscoverer
    from recommender.pipeline import Recommender
    from recommender.records import Pick, Recommendation, StageEvent

__all__ = ["Recommender", "ModelDiscoverer", "Recommendation", "Pick", "StageEvent"]

_LAZY = {
    "Recommender": "recommender.pipeline",
    "ModelDiscoverer": "recommender.discoverer",
    "Recommendation": "recommender.records",
    "Pick": "recommender.records",
    "StageEvent": "recommender.records",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'recommender' has no attribute {name!r}")
