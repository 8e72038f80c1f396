"""Turning known exceptions into one-line messages and exit codes (no tracebacks unless GEMFINDER_DEBUG=1)."""

from __future__ import annotations

import sys

from index import constants
from index.errors import GemfinderError
from ui.cli._output import emit_json

#: exit code for a request that cannot be answered / a failed command.
EXIT_FAILURE = 1


def report(err: BaseException, *, as_json: bool) -> int:
    """Print `err` for a person (stderr) or as the JSON error object (stdout); return the exit code."""
    kind, message = describe(err)
    if as_json:
        emit_json({"error": {"type": kind, "message": message}})
    else:
        print(f"gemfinder: error: {message}", file=sys.stderr)
        if not constants.DEBUG and not isinstance(err, GemfinderError):
            print("Set GEMFINDER_DEBUG=1 to see the full traceback.", file=sys.stderr)
    if constants.DEBUG:
        import traceback

        traceback.print_exception(err, file=sys.stderr)
    return EXIT_FAILURE


def describe(err: BaseException) -> tuple[str, str]:
    """(type, one-line message) for any exception."""
    if isinstance(err, GemfinderError):
        return err.kind, str(err)
    if isinstance(err, KeyError):  # catalog lookups raise KeyError with a full sentence
        return "not_found", str(err.args[0]) if err.args else "not found"
    if isinstance(err, MemoryError):
        return "out_of_memory", "Ran out of memory. Try a smaller --k or a smaller catalog."
    first = str(err).splitlines()[0] if str(err) else ""
    return type(err).__name__, f"unexpected {type(err).__name__}: {first}"
