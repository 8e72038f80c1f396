"""``gemfinder ask``: a ranked shortlist for a request typed in plain words.

Examples:
    gemfinder ask "best 7B model for grade-school math with an apache-2.0 license"
    gemfinder ask "small instruct model under 2B for python code" --k 5
    echo "llama-3 8B for medical QA, commercial use" | gemfinder ask - --json
"""

from __future__ import annotations

import argparse
import os
import sys

from index.vocabulary import TASK_BENCHMARKS
from ui.cli._output import console, emit_json, fmt_number, fmt_popularity


def register(sub) -> None:
    p = sub.add_parser(
        "ask", help="rank catalog models for a request", description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("query", help='the request in plain words, or "-" to read it from stdin')
    p.add_argument("--k", type=_positive_int, default=10, help="how many models to list (default 10)")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    p.set_defaults(handler=run)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if not 1 <= value <= 1000:
        raise argparse.ArgumentTypeError(f"expected 1–1000, got {value}")
    return value


def read_query(raw: str) -> str | bytes:
    """The query as text, or as raw bytes when the shell handed us bytes that are not UTF-8."""
    if raw == "-":
        return sys.stdin.buffer.read()
    try:
        raw.encode("utf-8")
    except UnicodeEncodeError:
        # Python smuggles undecodable argv bytes in as lone surrogates; give the parser the original bytes.
        return os.fsencode(raw)
    return raw


def run(args: argparse.Namespace) -> int:
    from search.query import parse_query

    # Parse first: a bad request is answered in milliseconds, before the models load.
    parsed = parse_query(read_query(args.query))
    from recommender.shortlist import Shortlister

    shortlist = Shortlister.load().ask(parsed, k=args.k)
    if args.json:
        emit_json(shortlist.to_dict())
    else:
        render(shortlist)
    return 0


def render(shortlist) -> None:
    from rich.table import Table

    q = shortlist.query
    benchmarks = TASK_BENCHMARKS.get(q.task, ()) if q.task else ()
    title = f"task: {q.task or '—'} · filters: {q.constraints.describe()} · {shortlist.eligible:,} eligible"
    table = Table(title=title, title_justify="left")
    for name in ("#", "model", "params (B)", "license", "popularity"):
        table.add_column(name, justify="right" if name in ("#", "params (B)", "popularity") else "left")
    for b in benchmarks:
        table.add_column(b, justify="right")
    table.add_column("why", overflow="fold", max_width=60)
    table.caption = "popularity: ♥ likes, else ↓ downloads (as of the source's snapshot)"
    for i, e in enumerate(shortlist.entries, 1):
        r = e.record
        row = [str(i), r.id, fmt_number(r.params_b), r.license or "—", fmt_popularity(r.likes, r.downloads)]
        row += [fmt_number(r.score(b)) for b in benchmarks]
        table.add_row(*row, e.reason)
    out = console()
    out.print(table)
    if not shortlist.entries:
        out.print("No model matched; loosen a constraint.")
