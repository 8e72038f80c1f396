"""Offline evaluation of recommendation quality: query sets, the leave-target-out protocol, systems, metrics.

    python -m evals.recommend [--queries FILE] [--budget-per-model 50]    # or: gemfinder eval --queries FILE

writes ``evals/reports/eval_<file stem>.{md,json}`` and the plots beside them.
"""

from evals.recommend.protocol import HeldOut, hide_benchmark, scrub_card
from evals.recommend.queries import FILTER_KEYS, QueryCase, load_queries, parse_line
from evals.recommend.runner import EvalContext, EvalResult, QueryOutcome, constraints_match, evaluate, load_oracles
from evals.recommend.systems import SYSTEMS, Answer, EvalConfig, Request

__all__ = [
    "FILTER_KEYS", "SYSTEMS",
    "Answer", "EvalConfig", "EvalContext", "EvalResult", "HeldOut", "QueryCase", "QueryOutcome", "Request",
    "constraints_match", "evaluate", "hide_benchmark", "load_oracles", "load_queries", "parse_line", "scrub_card",
]
