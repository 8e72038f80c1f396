"""All CLI printing: human tables (rich) on stdout, or exactly one JSON object with ``--json``; progress on stderr."""

from __future__ import annotations

import json
import sys
from typing import Any


def emit_json(obj: dict[str, Any]) -> None:
    """Print one JSON object on stdout (DESIGN: every ``--json`` output is exactly one object)."""
    sys.stdout.write(json.dumps(obj, ensure_ascii=False, allow_nan=False, default=_default) + "\n")
    sys.stdout.flush()


def _default(value: Any) -> Any:
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    if isinstance(value, (set, tuple)):
        return list(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def console(stderr: bool = False):
    """A rich console that does not wrap tables awkwardly when stdout is a pipe."""
    from rich.console import Console

    return Console(stderr=stderr, width=None if sys.stdout.isatty() else 200, highlight=False, soft_wrap=False)


def info(message: str) -> None:
    """A progress / status line on stderr."""
    print(message, file=sys.stderr, flush=True)


def fmt_number(value: float | int | None, digits: int = 1) -> str:
    if value is None:
        return "—"
    if isinstance(value, int):
        return f"{value:,}"
    if 0 < abs(value) < 10 ** -digits:
        return f"{value:.2g}"  # a 7M-parameter model is 0.007B, not "0.0"
    return f"{value:.{digits}f}"


def fmt_popularity(likes: int | None, downloads: int | None) -> str:
    """Popularity as DESIGN defines it (likes, else downloads), marked so the two are never confused."""
    if likes is not None:
        return f"{likes:,} ♥"
    if downloads is not None:
        return f"{downloads:,} ↓"
    return "—"
