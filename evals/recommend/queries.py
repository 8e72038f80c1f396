"""Query sets for offline evaluation: one JSON request per line, with the ground truth used only for scoring.

A line is ``{"query": str, "truth": {"benchmark": str, "filters": {...}, "task": str}}``:

- ``query`` — the request as a person writes it; the only thing a system under test sees;
- ``truth.benchmark`` — the benchmark (`index.vocabulary.BENCHMARKS`) whose catalog scores are the ground truth;
- ``truth.filters`` — the constraints the request means, exactly the keys `params_min_b`, `params_max_b` (numbers,
  billions), `license` (list of licence ids; a model whose licence is unknown fails it), `family` (lowercase, prefix
  match) and `instruct` (bool), all optional;
- ``truth.task`` (*optional*) — the task area the request belongs to (a `TASKS` name whose benchmarks include the
  benchmark), for the per-task breakdown; default the first task that lists the benchmark.

The eligible set of a request is every catalog model that passes ``truth.filters`` (and, as every recommendation,
is neither flagged nor unavailable) and has a score on ``truth.benchmark``, ranked by that score.

Example:
    >>> cases = load_queries("evals/queries/recommend.jsonl")
    >>> cases[0].benchmark, cases[0].filters.describe()
    ('gsm8k', '5.95–8.05B, licence in (apache-2.0)')
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

from index.errors import QueryFileError
from index.vocabulary import BENCHMARKS, TASK_BENCHMARKS, TASKS
from search.query import Constraints

__all__ = ["FILTER_KEYS", "QueryCase", "default_task", "load_queries", "parse_line"]

#: the filter keys a query file may use, and the JSON types each accepts.
FILTER_KEYS: dict[str, str] = {
    "params_min_b": "number", "params_max_b": "number", "license": "list of strings", "family": "string",
    "instruct": "bool",
}
_TOP_KEYS = ("query", "truth")
_TRUTH_KEYS = ("benchmark", "filters", "task")


@dataclass(frozen=True)
class QueryCase:
    """One evaluation request.

    Attributes:
        line (`int`): 1-based line number in its file (for messages and reports).
        query (`str`): the request text, all a system under test sees.
        benchmark (`str`): the ground-truth benchmark.
        filters (`Constraints`): the constraints the request means (scoring only).
        task (`str`): the task area of the request (per-task breakdown).
    """

    line: int
    query: str
    benchmark: str
    filters: Constraints
    task: str

    def to_dict(self) -> dict:
        """The query-file form of the case (``task`` included)."""
        filters = {k: v for k, v in self.filters.to_dict().items() if v is not None}
        return {"query": self.query, "truth": {"benchmark": self.benchmark, "task": self.task, "filters": filters}}


def default_task(benchmark: str) -> str:
    """The first task (in `TASKS` order) whose benchmarks include `benchmark`."""
    return next(t for t in TASKS if benchmark in TASK_BENCHMARKS[t])


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _check_filters(filters, where: str) -> Constraints:
    if not isinstance(filters, dict):
        raise ValueError(f"{where}: truth.filters must be an object, got {type(filters).__name__}")
    unknown = sorted(set(filters) - set(FILTER_KEYS))
    if unknown:
        raise ValueError(f"{where}: unknown filter key(s) {unknown}; allowed: {', '.join(FILTER_KEYS)}")
    for key, value in filters.items():
        kind = FILTER_KEYS[key]
        ok = {
            "number": _is_number(value) and value >= 0,
            "list of strings": isinstance(value, list) and bool(value) and all(isinstance(x, str) for x in value),
            "string": isinstance(value, str) and bool(value.strip()),
            "bool": isinstance(value, bool),
        }[kind]
        if not ok:
            extra = " ≥ 0" if kind == "number" else (" (non-empty)" if kind != "bool" else "")
            raise ValueError(f"{where}: filter '{key}' must be a {kind}{extra}, got {json.dumps(value)}")
    data = dict(filters)
    if "license" in data:
        data["license"] = [x.strip().lower() for x in data["license"]]
    if "family" in data:
        data["family"] = data["family"].strip().lower()
    try:
        return Constraints.from_dict(data)
    except ValueError as err:  # e.g. params_min_b above params_max_b
        raise ValueError(f"{where}: {err}") from None


def parse_line(text: str, line: int, *, path: str = "<query file>") -> QueryCase:
    """Validate one line of a query file.

    Args:
        text: the line (one JSON object).
        line: its 1-based number.
        path: the file, for messages.

    Returns:
        The `QueryCase`.

    Raises:
        QueryFileError: invalid JSON, a missing or unknown key, an unknown benchmark / task, or a filter of the
            wrong type; the message names the file and line.
    """
    where = f"{path} line {line}"
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise QueryFileError(path, line, f"not valid JSON ({err.msg} at column {err.colno})") from None
    try:
        return _case(data, line, where)
    except ValueError as err:
        raise QueryFileError(path, line, str(err).removeprefix(f"{where}: ")) from None


def _case(data, line: int, where: str) -> QueryCase:
    if not isinstance(data, dict):
        raise ValueError(f"{where}: expected an object {{\"query\": ..., \"truth\": ...}}")
    unknown = sorted(set(data) - set(_TOP_KEYS))
    missing = [k for k in _TOP_KEYS if k not in data]
    if unknown or missing:
        raise ValueError(f"{where}: keys must be exactly {list(_TOP_KEYS)} (missing {missing}, unknown {unknown})")
    query, truth = data["query"], data["truth"]
    if not isinstance(query, str) or not query.strip():
        raise ValueError(f"{where}: 'query' must be a non-empty string")
    if not isinstance(truth, dict):
        raise ValueError(f"{where}: 'truth' must be an object with 'benchmark' and optional 'filters', 'task'")
    unknown = sorted(set(truth) - set(_TRUTH_KEYS))
    if unknown:
        raise ValueError(f"{where}: unknown truth key(s) {unknown}; allowed: {', '.join(_TRUTH_KEYS)}")
    benchmark = truth.get("benchmark")
    if benchmark not in BENCHMARKS:
        raise ValueError(f"{where}: unknown benchmark {json.dumps(benchmark)}; expected one of {', '.join(BENCHMARKS)}")
    task = truth.get("task", default_task(benchmark))
    if task not in TASKS:
        raise ValueError(f"{where}: unknown task {json.dumps(task)}; expected one of {', '.join(TASKS)}")
    if benchmark not in TASK_BENCHMARKS[task]:
        raise ValueError(f"{where}: benchmark '{benchmark}' does not measure task '{task}' "
                         f"(its benchmarks: {', '.join(TASK_BENCHMARKS[task])})")
    filters = _check_filters(truth.get("filters", {}), where)
    return QueryCase(line=line, query=query.strip(), benchmark=benchmark, filters=filters, task=task)


def load_queries(path: str | Path) -> list[QueryCase]:
    """Read and validate a query file (JSONL; blank lines are skipped).

    Args:
        path: the file.

    Returns:
        The cases in file order.

    Raises:
        QueryFileError: the file is missing, unreadable, empty, or a line is invalid (the message names the line).

    Example:
        >>> len(load_queries("evals/queries/recommend.jsonl")) >= 60
        True
    """
    path = Path(path)
    if not path.is_file():
        raise QueryFileError(str(path), None, "the file does not exist" if not path.exists() else "it is a folder")
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as err:
        raise QueryFileError(str(path), None, f"it cannot be read as UTF-8 text ({err})") from None
    cases = [parse_line(text, i, path=str(path)) for i, text in enumerate(lines, start=1) if text.strip()]
    if not cases:
        raise QueryFileError(str(path), None, "it holds no request")
    return cases
