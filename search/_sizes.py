"""Reading parameter-size constraints ("8B", "under 3B", "7-9B", "fits a 24 GB GPU at 4-bit") from a request."""

from __future__ import annotations

import re
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import NamedTuple

from index.errors import ContradictoryConstraintsError
from search._scan import _SIZE_UNIT, _Scan, _size_text

# Sizes --------------------------------------------------------------------------------------------------------


class _SizeClause(NamedTuple):
    """One size statement, in billions; `approx` ones ("8B") are combined by union, the others by intersection."""

    lo: Decimal | None
    hi: Decimal | None
    phrase: str
    approx: bool = False


_NUM = r"\d+(?:\.\d+)?"
# Counts that are not parameters: "1M context", "2B tokens", "500k downloads".
_NOT_PARAMS = r"(?!\s*(?:tokens?|context|ctx|words|downloads?|likes|users|rows|examples|samples|documents|docs)\b)"
_PARAMS = r"(?:[\s-]*(?:parameters?|params?))?"
# A spelled-out unit needs a model word after it: "8 billion parameters", but not "6 million visitors".
_SPELLED_UNIT_OK = (
    r"(?:(?<=illion)(?=[\s-]*(?:parameters?|params?|models?|llms?|weights)\b|\s*(?:$|[,.;:!?)]))|(?<!illion))"
)
_SIZE = rf"(?P<n>{_NUM})\s?(?P<u>{_SIZE_UNIT})(?!\w){_SPELLED_UNIT_OK}{_NOT_PARAMS}{_PARAMS}"

_GB = re.compile(
    r"(?<!\w)(?:(?:that\s+|which\s+|to\s+)?(?:fits?|fitting|runs?|running|load(?:s|ing)?)\s+"
    r"(?:(?:on|in|into|within|under)\s+)?|(?:on|in|into|within|under|with)\s+)?"
    r"(?:(?:an?|one|my|our|the|single)\s+)*"
    r"(?P<gb>\d+(?:\.\d+)?)\s?(?:gb|gib)(?!\w)(?!\s*(?:of\s+)?(?:text|data|tokens|disk|storage|downloads?)\b)"
    r"(?:\s+(?:of\s+)?(?:gpu\s+memory|graphics\s+card|v?ram|gpus?|cards?|memory))?"
)
_PRECISION = re.compile(
    r"(?<!\w)(?:(?:at|in|with|using)\s+)?(?:(?P<bits>2|3|4|5|6|8|16|32)[\s-]?bits?|(?:int|q)(?P<qbits>[2-8])"
    r"(?:_k(?:_[sml])?|_[01])?|fp(?P<fbits>8|16|32)|(?P<half>bf16|half[\s-]precision|full[\s-]precision)|"
    r"(?P<four>nf4|awq|gptq))(?:\s+(?:quantization|quantisation|quantized|quantised|precision|weights))?(?!\w)"
)
_MOE = re.compile(rf"(?<![\w.$€£])(?P<e>\d+)\s?x\s?(?P<n>{_NUM})\s?(?P<u>{_SIZE_UNIT})(?!\w){_PARAMS}")
_RANGE = re.compile(
    rf"(?:(?P<between>between)\s+|from\s+)?(?<![\w.$€£-])(?P<a>{_NUM})\s?(?P<ua>{_SIZE_UNIT})?\s*"
    rf"(?P<sep>-|–|—|to|and)\s*(?P<b>{_NUM})\s?(?P<ub>{_SIZE_UNIT})(?!\w){_SPELLED_UNIT_OK}{_NOT_PARAMS}{_PARAMS}"
)
_UPPER = (
    r"under|below|beneath|at\s+most|(?:no|not)\s+more\s+than|(?:no|not)\s+(?:larger|bigger|greater)\s+than|"
    r"(?:smaller|less|lower|fewer|lighter)\s+than|up\s+to|max(?:imum)?(?:\s+(?:of|size))?\s*:?|sub|<=|≤|=<|<"
)
_LOWER = (
    r"at\s+least|over|above|more\s+than|(?:no|not)\s+(?:less|fewer|smaller)\s+than|(?:larger|bigger|greater)\s+than|"
    r"min(?:imum)?(?:\s+(?:of|size))?\s*:?|exceeding|>=|≥|=>|>"
)
_BOUND_BEFORE = re.compile(
    rf"(?<![\w<>=≤≥])(?:(?P<up>{_UPPER})|(?P<low>{_LOWER}))[\s-]*(?:an?\s+)?~?\s*{_SIZE}"
)
_BOUND_AFTER = re.compile(
    rf"(?<![\w.$€£]){_SIZE}(?:\s+models?)?(?:\s*(?P<plus>\+)|[\s,]+(?:or|and)\s+"
    r"(?:(?P<down>smaller|less|lower|fewer|under|below|down)|(?P<upw>larger|more|bigger|greater|above|over|up|higher))"
    r"|\s+(?:(?P<max>max(?:imum)?|at\s+most|tops)|(?P<min>min(?:imum)?|at\s+least)))(?!\w)"
)
_APPROX = re.compile(
    rf"(?:(?:about|around|roughly|approximately|approx\.?|circa|~|≈)\s*)?(?<![\w.$€£]){_SIZE}(?:[\s-]?ish)?"
)

_PCT_LO, _PCT_HI = Decimal("0.85"), Decimal("1.15")


def _billions(n: str, unit: str | None) -> Decimal:
    return Decimal(n) / 1000 if unit and unit.startswith("m") else Decimal(n)


def _round_out(x: Decimal, *, up: bool) -> Decimal:
    """Round to two significant digits away from the nominal size, so the range always holds N ± 15%.

    8B gives 6.8–9.2 exactly; 7B gives 5.9–8.1 (5.95–8.05 widened), 70B gives 59–81.
    """
    if x == 0:
        return x
    step = Decimal(1).scaleb(x.adjusted() - 1)
    return x.quantize(step, rounding=ROUND_CEILING if up else ROUND_FLOOR)


def _approx(n: Decimal) -> tuple[Decimal, Decimal]:
    return _round_out(n * _PCT_LO, up=False), _round_out(n * _PCT_HI, up=True)


def _bits(m: re.Match[str]) -> int:
    for group in ("bits", "qbits", "fbits"):
        if m.group(group):
            return int(m.group(group))
    return 16 if m.group("half") else 4


def _take_memory(scan: _Scan) -> _SizeClause | None:
    """"fits a 24 GB GPU" → ≤ 12B at 16-bit, ≤ 24B at 8-bit, ≤ 48B at 4-bit (the precision named anywhere).

    Several precisions ("int8 or int4") are alternatives the user accepts, so the smallest bit width counts.
    """
    hits = scan.find(_GB)
    if not hits:
        return None
    precisions = scan.find(_PRECISION)
    bits = min((_bits(m) for m in precisions), default=16)
    for m in hits + precisions:
        scan.take(m.span())
    first = hits[0]
    hi = Decimal(first.group("gb")) * 8 / bits
    return _SizeClause(None, hi, f"{scan.quote(first.span())} ({_size_text(None, hi)} at {bits}-bit)")


def _size_clauses(scan: _Scan) -> list[_SizeClause]:
    """Every size statement, read most specific form first (so "7-9B" is not read as "9B")."""
    clauses: list[_SizeClause] = []

    def add(m: re.Match[str], lo: Decimal | None, hi: Decimal | None, *, approx: bool = False) -> None:
        clauses.append(_SizeClause(lo, hi, f"{scan.quote(m.span())} ({_size_text(lo, hi)})", approx))
        scan.take(m.span())

    for m in scan.find(_MOE):
        # A mixture of experts shares attention and embeddings, so its total is below experts × size
        # (Mixtral 8x7B has 46.7B, not 56B): accept 75–100% of the product.
        total = Decimal(m.group("e")) * _billions(m.group("n"), m.group("u"))
        add(m, _round_out(total * Decimal("0.75"), up=False), total, approx=True)
    for m in scan.find(_RANGE):
        if m.group("sep") == "and" and not m.group("between"):
            continue  # "7 and 9B" without "between" lists two sizes; the approximate reader takes the 9B
        unit = m.group("ub")
        a, b = sorted((_billions(m.group("a"), m.group("ua") or unit), _billions(m.group("b"), unit)))
        add(m, a, b)
    for m in scan.find(_BOUND_BEFORE):
        n = _billions(m.group("n"), m.group("u"))
        add(m, *((None, n) if m.group("up") else (n, None)))
    for m in scan.find(_BOUND_AFTER):
        n = _billions(m.group("n"), m.group("u"))
        add(m, *((None, n) if m.group("down") or m.group("max") else (n, None)))
    for m in scan.find(_APPROX):
        add(m, *_approx(_billions(m.group("n"), m.group("u"))), approx=True)
    return clauses


def _combine_sizes(clauses: list[_SizeClause]) -> tuple[float | None, float | None]:
    """Bounds intersect ("at least 7B, under 13B" → 7–13); approximate sizes unite ("7B or 13B") and then
    intersect with the bounds.

    Raises:
        ContradictoryConstraintsError: the intersection is empty ("under 1B, at least 70B"; "70B that fits 24 GB").
    """
    bounds = [c for c in clauses if not c.approx]
    approx = [c for c in clauses if c.approx]
    low = max((c for c in bounds if c.lo is not None), key=lambda c: c.lo, default=None)
    high = min((c for c in bounds if c.hi is not None), key=lambda c: c.hi, default=None)
    if low is not None and high is not None and low.lo > high.hi:
        raise ContradictoryConstraintsError(*(c.phrase for c in sorted((low, high), key=clauses.index)))
    lo = None if low is None else low.lo
    hi = None if high is None else high.hi
    if approx:
        a_lo, a_hi = min(c.lo for c in approx), max(c.hi for c in approx)
        if high is not None and a_lo > high.hi:
            raise ContradictoryConstraintsError(approx[0].phrase, high.phrase)
        if low is not None and a_hi < low.lo:
            raise ContradictoryConstraintsError(approx[0].phrase, low.phrase)
        lo = a_lo if lo is None else max(lo, a_lo)
        hi = a_hi if hi is None else min(hi, a_hi)
    return (None if lo is None else float(lo)), (None if hi is None else float(hi))


