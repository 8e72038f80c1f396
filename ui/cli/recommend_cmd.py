"""``gemfinder recommend``: the whole pipeline — retrieve, predict, confirm within a budget — with evidence per pick.

Stage progress goes to stderr; the answer to stdout (a table, or one JSON object with ``--json``).

Examples:
    gemfinder recommend "best 7B model for grade-school math, apache-2.0" --budget 500
    gemfinder recommend "medical QA model under 3B" --k 5 --json
    gemfinder recommend "math model for llama-3.1 8B, \\$5 of evaluation" --confirm recorded
    gemfinder recommend "best small math model" --questions my_questions.jsonl
"""

from __future__ import annotations

import argparse

from ui.cli._output import console, emit_json, fmt_number, info
from ui.cli.ask_cmd import _positive_int, read_query


def register(sub) -> None:
    p = sub.add_parser(
        "recommend", help="rank models with predictions and a budgeted evaluation (evidence per pick)",
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("query", help='the request in plain words, or "-" to read it from stdin')
    p.add_argument("--k", type=_positive_int, default=10, help="how many picks (default 10)")
    p.add_argument("--budget", type=_budget, metavar="Q",
                   help="evaluation queries for the confirm stage (default: what the request says, else 1,000)")
    p.add_argument("--confirm", choices=("auto", "recorded", "live", "none"), default="auto",
                   help="confirm stage: recorded answers where the task has them, live where models run here")
    p.add_argument("--questions", metavar="FILE.jsonl",
                   help='your own evaluation questions for live confirmation ({"question", "answer"} per line)')
    p.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    p.set_defaults(handler=run)


def _budget(text: str) -> int:
    try:
        value = int(text.replace(",", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number of queries, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"the budget must buy at least one query, got {value}")
    return value


def run(args: argparse.Namespace) -> int:
    from search.query import parse_query

    parsed = parse_query(read_query(args.query))  # bad requests fail before anything loads
    from recommender.pipeline import Recommender

    rec = Recommender.load()
    answer = rec.recommend(parsed, k=args.k, budget=args.budget, confirm=args.confirm, questions=args.questions,
                           on_event=_progress)
    if args.json:
        emit_json(answer.to_dict())
    else:
        render(answer)
    return 0


def _progress(event) -> None:
    if event.status in ("done", "skipped"):
        info(f"[{event.seconds:6.2f}s] {event.stage}: {event.status} — {event.message}")


def render(answer) -> None:
    from rich.table import Table

    title = (f"task: {answer.task or '—'} · {answer.eligible:,} eligible · budget {answer.budget.queries:,} queries "
             f"({answer.budget.stated}), {answer.spent_queries:,} spent")
    table = Table(title=title, title_justify="left")
    for name in ("#", "model", "params (B)", "license", "popularity", "predicted", "measured", "gem"):
        table.add_column(name, justify="right" if name in ("#", "params (B)", "popularity") else "left")
    table.add_column("why", overflow="fold", max_width=60)
    for p in answer.picks:
        pop = "—" if p.popularity is None else f"{p.popularity:,} {'♥' if p.popularity_kind == 'likes' else '↓'}"
        pred = "—"
        if (comparable := p.comparable_prediction()) is not None:
            on, mean, std = comparable
            pred = f"{mean:.1f} ± {std:.1f} {on}" if std else f"{mean:.1f} {on} (known)"
        meas = "—"
        if p.measured is not None:
            low, high = p.measured.interval
            meas = f"{p.measured.accuracy:.1f} [{low:.0f}–{high:.0f}] n={p.measured.n}"
        table.add_row(str(p.rank), p.id, fmt_number(p.params_b), p.license or "—", pop, pred, meas,
                      "💎" if p.gem else "", p.why_retrieved)
    out = console()
    out.print(table)
    for note in answer.notes:
        out.print(note)
