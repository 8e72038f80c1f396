"""Reading final answers out of completions: numbers, ``\\boxed{}`` expressions, multiple-choice letters.

Small models state answers in many shapes ("The answer is $1,234.", "**B**", "answer: b", "#### 18", the option's
text echoed back). Each reader tries the explicit shapes first, from the end of the text (a model's last word is
its answer), and falls back to the loosest shape only when no explicit one is present.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from fractions import Fraction

# A number as people write it: sign, thousands separators, decimals, a simple fraction ("3/4").
_NUM = r"[-−]?\$?\s?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:\s?/\s?\d+)?"
_NUMBER = re.compile(_NUM)
_ANSWER_IS = re.compile(r"(?:final\s+answer|answer)\s*(?:is|:|=)?\s*[:=]?\s*(?:\*\*|\$)*\s*", re.I)
_HASHES = re.compile(r"####\s*")


def last_boxed(text: str) -> str | None:
    """The contents of the last ``\\boxed{...}`` (or ``\\fbox{...}``), braces balanced; None when there is none.

    Example:
        >>> last_boxed(r"so $x = \\boxed{\\frac{1}{2}}$.")
        '\\\\frac{1}{2}'
    """
    start = max(text.rfind("\\boxed"), text.rfind("\\fbox"))
    if start < 0:
        return None
    i = text.find("{", start)
    if i < 0:
        # "\boxed 5" (no braces) is legal LaTeX for a single token
        m = re.match(r"\\(?:boxed|fbox)\s+(\S+)", text[start:])
        return m.group(1).rstrip("$.") if m else None
    depth = 0
    for j in range(i, len(text)):
        depth += {"{": 1, "}": -1}.get(text[j], 0)
        if depth == 0:
            return text[i + 1 : j].strip()
    return None  # unbalanced: the model was cut off inside the box


def parse_number(text: str) -> Fraction | None:
    """A written number as an exact fraction: ``"$1,234.50"`` → 2469/2, ``"-3/4"`` → -3/4; None if not a number."""
    s = text.strip().replace("−", "-").replace("$", "").replace(",", "").replace(" ", "")
    s = re.sub(r"^\\?\(|\\?\)$", "", s)
    try:
        return Fraction(s)
    except (ValueError, ZeroDivisionError):
        return None


def format_number(value: Fraction) -> str:
    """The canonical spelling: integers plainly, other values as a reduced fraction (``"5/2"``)."""
    return str(value.numerator) if value.denominator == 1 else f"{value.numerator}/{value.denominator}"


def extract_number(text: str) -> str | None:
    """The final number of a completion, canonically spelled; None when it has no number.

    Order: the last ``\\boxed{}``, the last "answer is / answer: / ####" followed by a number, then the last number
    anywhere. Thousands separators, ``$``, units and trailing punctuation are dropped.

    Example:
        >>> extract_number("She makes 9 * 2 = $18 a day. The answer is $1,018.")
        '1018'
    """
    boxed = last_boxed(text)
    if boxed is not None:
        value = _first_number(_strip_latex_number(boxed))
        if value is not None:
            return value
    for marker in (_HASHES, _ANSWER_IS):
        matches = list(marker.finditer(text))
        for m in reversed(matches):
            value = _first_number(text[m.end() : m.end() + 40])
            if value is not None:
                return value
    numbers = _NUMBER.findall(text)
    for raw in reversed(numbers):
        value = parse_number(raw)
        if value is not None:
            return format_number(value)
    return None


def states_number_answer(step: str) -> bool:
    """Whether a step states its final answer explicitly ("The answer is 42", "#### 42", ``\\boxed{42}``)."""
    if last_boxed(step) is not None or _HASHES.search(step):
        return True
    return any(_first_number(step[m.end() : m.end() + 40]) is not None for m in _ANSWER_IS.finditer(step))


def _first_number(text: str) -> str | None:
    m = _NUMBER.match(text.lstrip()) or _NUMBER.search(text[:12])
    if m is None:
        return None
    value = parse_number(m.group())
    return None if value is None else format_number(value)


def _strip_latex_number(s: str) -> str:
    """``\\frac{3}{4}`` → ``3/4``, ``\\$5`` → ``5``, ``10\\%`` → ``10`` (only what a numeric answer needs)."""
    s = re.sub(r"\\[dt]?frac\{([^{}]+)\}\{([^{}]+)\}", r"\1/\2", s)
    return s.replace("\\$", "").replace("\\%", "").replace("\\!", "").replace("{,}", ",")


def numbers_equal(a: str, b: str) -> bool:
    """Whether two written numbers are the same value (exact; ``"18.00"`` equals ``"18"``)."""
    x, y = parse_number(a), parse_number(b)
    return x is not None and y is not None and x == y


# Multiple choice --------------------------------------------------------------------------------------------------

# "The answer is (B)", "answer: b", "Answer: **B**", "the correct option is B." (keywords in any case)
_ANSWER_LETTER = re.compile(
    r"(?:answer|option|choice)\s*(?:is|:|=)?\s*(?:option|choice)?\s*[:=]?\s*[\*\(\[\s]*([A-Za-z])(?![\w'])(\s*\w)?",
    re.I,
)
# "**B**", "(B)", "[B]"; then "B." / "B)" / "B:" opening a line
_MARKED_LETTER = re.compile(r"\*\*\(?([A-Z])\)?\*\*|\(([A-Z])\)|\[([A-Z])\]")
_LINE_LETTER = re.compile(r"(?m)^\s*([A-Z])\s*[.):]")


def _answer_letters(text: str, letters: set[str]) -> list[str]:
    """Letters named after "answer is" / "answer:"; a lower-case one only when no word follows (not "is a drug")."""
    found = []
    for m in _ANSWER_LETTER.finditer(text):
        letter, after = m.group(1), m.group(2)
        if letter.islower() and after is not None and after.strip().isalpha():
            continue
        if letter.upper() in letters:
            found.append(letter.upper())
    return found


def extract_letter(text: str, options: Mapping[str, str]) -> str | None:
    """The chosen option letter (upper case) of a multiple-choice completion; None when it names none.

    Tries, in order: the last explicit "answer is X" (any case), the first marked letter (``**B**``, ``(B)``,
    ``[B]``), a letter opening a line (``B.``), the one option whose text the completion echoes, and a lone letter.
    Only letters that are keys of `options` count.

    Example:
        >>> extract_letter("I think the answer is (b) because...", {"A": "x", "B": "y"})
        'B'
    """
    letters = {k.upper() for k in options}
    explicit = _answer_letters(text, letters)
    if explicit:
        return explicit[-1]
    for pattern in (_MARKED_LETTER, _LINE_LETTER):
        found = [g for m in pattern.finditer(text) for g in m.groups() if g and g in letters]
        if found:
            return found[0]
    echoed = _echoed_option(text, options)
    if echoed is not None:
        return echoed
    lone = re.fullmatch(r"\W*([A-Za-z])\W*", text.strip())
    if lone and lone.group(1).upper() in letters:
        return lone.group(1).upper()
    return None


def _echoed_option(text: str, options: Mapping[str, str]) -> str | None:
    """The letter of the one option whose text the completion contains (whole words); None if none or several.

    An option whose text is part of another echoed option's text ("Factor VII" inside "Factor VII deficiency")
    does not count separately.
    """
    low = " ".join(text.lower().split())
    norm = {k.upper(): " ".join(v.lower().split()).rstrip(".") for k, v in options.items() if v and v.strip()}
    hits = {k: v for k, v in norm.items() if re.search(rf"(?<!\w){re.escape(v)}(?!\w)", low)}
    kept = [k for k, v in hits.items() if not any(v != w and v in w for w in hits.values())]
    return kept[0] if len(kept) == 1 else None


def states_letter_answer(step: str, options: Mapping[str, str]) -> bool:
    """Whether a step names a final choice explicitly ("The answer is (B)")."""
    return bool(_answer_letters(step, {k.upper() for k in options}))
