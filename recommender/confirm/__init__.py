"""Confirmation: budgeted best-arm identification over candidate models, answered by oracles.

``ALGORITHMS`` maps each algorithm's name (the CLI's and the JSON's spelling) to its class; every class is a
scikit-learn style estimator: ``Algo(seed=..., **params).fit(oracle, budget, prior=...)`` sets ``best_arm_`` and
``result_``.
"""

from __future__ import annotations

from recommender.confirm.accelerated_sh import AcceleratedSequentialHalving
from recommender.confirm.base import BanditResult, Prior
from recommender.confirm.bayes_elim import BayesElimination
from recommender.confirm.live import EvaluationRow, LiveOracle, evaluate
from recommender.confirm.matrix import ResponseMatrix
from recommender.confirm.oracle import Oracle, RecordedOracle, RepeatedPullError
from recommender.confirm.prior_sh import PriorSequentialHalving
from recommender.confirm.recorded import (
    RECORDED_BENCHMARKS,
    combined_full_scores,
    combined_matrix,
    load_full_scores,
    load_responses,
    read_matrix,
)
from recommender.confirm.sequential_halving import SequentialHalving
from recommender.confirm.successive_rejects import SuccessiveRejects
from recommender.confirm.trees import TreeReport, build_trees, place_models, tree_report
from recommender.confirm.ucb_e import UCBE
from recommender.confirm.uniform import Uniform

#: name → algorithm class, in the replication table's order.
ALGORITHMS: dict[str, type] = {
    "uniform": Uniform,
    "ucb_e": UCBE,
    "successive_rejects": SuccessiveRejects,
    "sequential_halving": SequentialHalving,
    "bayes_elim": BayesElimination,
    "accelerated_sh": AcceleratedSequentialHalving,
    "prior_sh": PriorSequentialHalving,
}

__all__ = [
    "EvaluationRow",
    "LiveOracle",
    "evaluate",
    "ALGORITHMS",
    "RECORDED_BENCHMARKS",
    "TreeReport",
    "build_trees",
    "combined_full_scores",
    "combined_matrix",
    "load_full_scores",
    "load_responses",
    "place_models",
    "read_matrix",
    "tree_report",
    "UCBE",
    "AcceleratedSequentialHalving",
    "BanditResult",
    "BayesElimination",
    "Oracle",
    "Prior",
    "PriorSequentialHalving",
    "RecordedOracle",
    "RepeatedPullError",
    "ResponseMatrix",
    "SequentialHalving",
    "SuccessiveRejects",
    "Uniform",
]
