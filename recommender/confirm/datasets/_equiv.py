"""Whether two math answers are the same: string normalisation first, then sympy under a timeout.

MATH-500 answers are LaTeX (``\\frac{1}{2}``, ``3\\sqrt{2}``, ``(-\\infty, 3]``, ``\\left( 3, \\frac{\\pi}{2}
\\right)``, ``10\\%``, ``\\text{(B)}``). Most matches are settled by normalising both strings; the rest are turned
into sympy expressions and compared by ``simplify(a - b) == 0``. sympy can hang on adversarial input (a model's
``2^{2^{2^{99}}}``), so every symbolic comparison runs under a time limit and counts as "not equal" when it expires.
"""

from __future__ import annotations

import re
import signal
import threading
from collections.abc import Callable
from typing import TypeVar

#: seconds one symbolic comparison may take before it counts as "not equal".
SYMPY_TIMEOUT_S = 2.0

T = TypeVar("T")


class EquivalenceTimeout(Exception):
    """A symbolic comparison ran past its time limit."""


def run_with_timeout(fn: Callable[[], T], seconds: float) -> T:
    """Run `fn()`; raise `EquivalenceTimeout` if it takes longer than `seconds`.

    In the main thread a ``SIGALRM`` interrupts the computation itself; elsewhere (signals only reach the main
    thread) it runs in a daemon thread that is abandoned when it overruns.
    """
    if threading.current_thread() is threading.main_thread() and hasattr(signal, "setitimer"):
        def _alarm(signum, frame):
            raise EquivalenceTimeout

        previous = signal.signal(signal.SIGALRM, _alarm)
        signal.setitimer(signal.ITIMER_REAL, seconds)
        try:
            return fn()
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
    box: list = []
    worker = threading.Thread(target=lambda: box.append(_capture(fn)), daemon=True)
    worker.start()
    worker.join(seconds)
    if not box:
        raise EquivalenceTimeout
    ok, value = box[0]
    if not ok:
        raise value
    return value


def _capture(fn):
    try:
        return True, fn()
    except Exception as err:  # handed back to the caller's thread
        return False, err


# Normalisation ----------------------------------------------------------------------------------------------------

_UNITS = r"(?:units?|degrees?|cm|m|km|inches|inch|feet|ft|meters?|dollars?|cents?|square|sq)"


def normalize_math(answer: str) -> str:
    """A canonical string for a LaTeX answer: no ``$``, spacing, ``\\left``/``\\right``, ``\\text{}`` wrappers,
    ``^\\circ``, trailing units or periods; ``\\dfrac``/``\\tfrac`` → ``\\frac``; ``0.5`` stays ``0.5``.

    Example:
        >>> normalize_math(r"$\\dfrac{1}{2}$ .")
        '\\\\frac{1}{2}'
    """
    s = answer.strip()
    s = re.sub(r"\\text\{\s*(?:" + _UNITS + r")\s*\}", "", s)
    s = re.sub(r"\\(?:text|textbf|mathrm|mbox)\{([^{}]*)\}", r"\1", s)
    for old, new in (("\\left", ""), ("\\right", ""), ("\\!", ""), ("\\,", ""), ("\\;", ""), ("\\ ", ""),
                     ("\\dfrac", "\\frac"), ("\\tfrac", "\\frac"), ("^\\circ", ""), ("^{\\circ}", ""),
                     ("\\%", ""), ("%", ""), ("\\$", ""), ("$", ""), ("\\displaystyle", "")):
        s = s.replace(old, new)
    s = re.sub(r"\s+", "", s)
    s = re.sub(_UNITS + r"$", "", s)
    s = s.rstrip(".")
    # "x=5" / "k = 5": the value is what is graded
    if re.fullmatch(r"[a-zA-Z]\w*=[^=]+", s):
        s = s.split("=", 1)[1]
    # "\frac12" → "\frac{1}{2}", "\sqrt2" → "\sqrt{2}"
    s = re.sub(r"\\frac(\d)(\d)", r"\\frac{\1}{\2}", s)
    s = re.sub(r"\\sqrt(\d+|[a-z])", r"\\sqrt{\1}", s)
    # 1,000 → 1000 (a thousands separator, not a tuple: exactly three digits follow)
    if re.fullmatch(r"-?\d{1,3}(,\d{3})+(\.\d+)?", s):
        s = s.replace(",", "")
    return s


# LaTeX → sympy ----------------------------------------------------------------------------------------------------


def _latex_to_sympy_text(s: str) -> str:
    """A sympy-parsable string for the LaTeX of a single expression (no commas, no intervals)."""
    for _ in range(4):  # nested \frac / \sqrt
        s = re.sub(r"\\frac\{([^{}]*)\}\{([^{}]*)\}", r"((\1)/(\2))", s)
        s = re.sub(r"\\sqrt\[([^\]]*)\]\{([^{}]*)\}", r"((\2)**(1/(\1)))", s)
        s = re.sub(r"\\sqrt\{([^{}]*)\}", r"sqrt(\1)", s)
    s = re.sub(r"\^\{([^{}]*)\}", r"**(\1)", s).replace("^", "**")
    for old, new in (("\\pi", "pi"), ("\\cdot", "*"), ("\\times", "*"), ("\\div", "/"), ("\\infty", "oo"),
                     ("\\sin", "sin"), ("\\cos", "cos"), ("\\tan", "tan"), ("\\ln", "log"), ("\\log", "log"),
                     ("{", "("), ("}", ")"), ("\\", "")):
        s = s.replace(old, new)
    return s


def _sympify(text: str):
    from sympy.parsing.sympy_parser import (
        implicit_multiplication_application,
        parse_expr,
        standard_transformations,
    )

    return parse_expr(text, transformations=standard_transformations + (implicit_multiplication_application,),
                      evaluate=True)


def _split_top_level(s: str) -> list[str]:
    """Split at commas outside brackets: ``(1,2),3`` → ``["(1,2)", "3"]``."""
    parts, depth, cur = [], 0, []
    for ch in s:
        depth += ch in "([{"
        depth -= ch in ")]}"
        if ch == "," and depth == 0:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    parts.append("".join(cur))
    return parts


def _bracketed(s: str) -> tuple[str, list[str], str] | None:
    """``(a,b]`` → ``("(", ["a", "b"], "]")`` for a tuple or interval; None for anything else."""
    if len(s) >= 2 and s[0] in "([" and s[-1] in ")]":
        inner = s[1:-1]
        parts = _split_top_level(inner)
        if len(parts) > 1:
            return s[0], parts, s[-1]
    return None


def _symbolic_equal(a: str, b: str) -> bool:
    import sympy

    x = _sympify(_latex_to_sympy_text(a))
    y = _sympify(_latex_to_sympy_text(b))
    if x == y:
        return True
    diff = sympy.simplify(x - y)
    return diff == 0


def math_equal(predicted: str, gold: str, *, timeout: float = SYMPY_TIMEOUT_S) -> bool:
    """Whether a predicted math answer equals the gold one.

    Compares normalised strings, then tuples / intervals element-wise (bracket kinds must match), then each element
    symbolically with sympy under `timeout` seconds (a timeout or an unparsable side counts as "not equal").

    Args:
        predicted: the model's answer (``\\boxed{}`` contents or a plain string).
        gold: the reference answer.
        timeout: seconds for each symbolic comparison.

    Example:
        >>> math_equal(r"\\frac{\\sqrt{2}}{2}", r"\\frac{1}{\\sqrt{2}}")
        True
    """
    a, b = normalize_math(predicted), normalize_math(gold)
    if not a or not b:
        return False
    if a == b:
        return True
    ba, bb = _bracketed(a), _bracketed(b)
    if ba or bb:
        if not (ba and bb) or (ba[0], ba[2]) != (bb[0], bb[2]) or len(ba[1]) != len(bb[1]):
            return False
        return all(math_equal(x, y, timeout=timeout) for x, y in zip(ba[1], bb[1]))
    pa, pb = _split_top_level(a), _split_top_level(b)
    if len(pa) > 1 or len(pb) > 1:  # an unordered list of solutions: "1,-2" equals "-2,1"
        return len(pa) == len(pb) and all(any(math_equal(x, y, timeout=timeout) for y in pb) for x in pa)
    import sympy  # noqa: F401 - imported before the clock starts: a cold import alone can take seconds
    import sympy.parsing.sympy_parser  # noqa: F401

    try:
        return bool(run_with_timeout(lambda: _symbolic_equal(a, b), timeout))
    except EquivalenceTimeout:
        return False
    except Exception:  # unparsable by sympy: only the string comparison above could match
        return False
