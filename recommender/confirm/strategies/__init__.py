"""Test-time strategies: how a model answers a question with a budget of N generations (DESIGN "pipeline").

Every strategy has one signature, ``STRATEGIES[name](engine, dataset, questions, config, *, prm=None) ->
list[Solution]``, batched over the questions so each step is one ``engine.generate`` call, and reports exactly the
completions, generated tokens and seconds it spent per question. Names: ``greedy``, ``majority`` (self-consistency),
``best_of_n`` and ``weighted_best_of_n`` (PRM-ranked samples), ``beam_search`` and ``dvts`` (PRM-guided step-level
search, as in Hugging Face's search-and-learn; steps are paragraphs).

Example:
    >>> from recommender.confirm.strategies import STRATEGIES, StrategyConfig
    >>> config = StrategyConfig("dvts", n=16, width=4)
    >>> solutions = STRATEGIES[config.name](engine, dataset, dataset.questions[:10], config, prm=prm)
"""

from __future__ import annotations

from collections.abc import Callable

from recommender.confirm.strategies._base import (
    PRM_STRATEGIES,
    STEP_SEPARATOR,
    TREE_STRATEGIES,
    Aggregation,
    Candidate,
    Solution,
    StrategyConfig,
    StrategyName,
    aggregate,
    split_steps,
)
from recommender.confirm.strategies.beam_search import beam_search
from recommender.confirm.strategies.best_of_n import best_of_n
from recommender.confirm.strategies.dvts import dvts
from recommender.confirm.strategies.greedy import greedy
from recommender.confirm.strategies.majority import majority
from recommender.confirm.strategies.weighted_best_of_n import weighted_best_of_n

#: name → strategy function, cheapest first.
STRATEGIES: dict[str, Callable[..., list[Solution]]] = {
    "greedy": greedy,
    "majority": majority,
    "best_of_n": best_of_n,
    "weighted_best_of_n": weighted_best_of_n,
    "beam_search": beam_search,
    "dvts": dvts,
}

__all__ = [
    "PRM_STRATEGIES",
    "STEP_SEPARATOR",
    "STRATEGIES",
    "TREE_STRATEGIES",
    "Aggregation",
    "Candidate",
    "Solution",
    "StrategyConfig",
    "StrategyName",
    "aggregate",
    "beam_search",
    "best_of_n",
    "dvts",
    "greedy",
    "majority",
    "split_steps",
    "weighted_best_of_n",
]
