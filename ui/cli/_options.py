"""Option types shared by the CLI commands (argparse ``type=`` callables)."""

from __future__ import annotations

import argparse
from collections.abc import Callable


def int_at_least(minimum: int) -> Callable[[str], int]:
    """An argparse type for a whole number ≥ `minimum`, with a one-line message for anything else.

    Example:
        >>> int_at_least(1)("8")
        8
    """

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number ≥ {minimum}, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"expected a whole number ≥ {minimum}, got {value}")
        return value

    parse.__name__ = f"int_at_least_{minimum}"  # argparse names the type in its error for a bad value
    return parse


#: the most common case: counts and sizes.
positive_int = int_at_least(1)


def int_between(low: int, high: int) -> Callable[[str], int]:
    """An argparse type for a whole number in ``[low, high]`` (a port, a worker count).

    Example:
        >>> int_between(1, 65535)("7860")
        7860
    """
    at_least = int_at_least(low)

    def parse(text: str) -> int:
        value = at_least(text)
        if value > high:
            raise argparse.ArgumentTypeError(f"expected a whole number from {low} to {high}, got {value}")
        return value

    parse.__name__ = f"int_between_{low}_{high}"
    return parse
