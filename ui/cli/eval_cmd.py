"""``gemfinder eval``: offline evaluation of recommendation quality on a query set (leave target out).

Each request of the query file (JSONL, see ``evals/queries/README.md``) is answered by gemfinder and by the
baselines while the request's target benchmark is hidden from everything they see; the answers are scored against
the hidden scores: NDCG@10 (gain = true score), top-1 regret in points, recall@10, hidden-gem hit rate and the
evaluation queries spent. Prints the table and writes ``eval_<file stem>.{md,json}`` with plots (regret vs
budget, per-task breakdown) under ``evals/reports/`` (or ``--out``).

Examples:
    gemfinder eval --queries evals/queries/recommend.jsonl
    gemfinder eval --queries my_requests.jsonl --budget-per-model 20 --json
    gemfinder eval --queries my_requests.jsonl --responses my_matrices/   # adds <benchmark>_responses*.csv[.gz]
"""

from __future__ import annotations

import argparse

from ui.cli._output import emit_json, info


def register(sub) -> None:
    p = sub.add_parser(
        "eval", help="offline evaluation of recommendation quality on a query set", description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--queries", required=True, metavar="FILE", help="JSONL query set (one request per line)")
    p.add_argument("--budget-per-model", type=_non_negative_int, default=50, metavar="Q",
                   help="confirm queries per confirmed candidate, on average (default 50; 0 = no confirmation)")
    p.add_argument("--responses", metavar="DIR",
                   help="folder of recorded matrices <benchmark>_responses*.csv[.gz] (bench-sh format), added to "
                        "the shipped arc / gsm8k / mmlu / truthfulqa ones as confirm oracles")
    p.add_argument("--out", metavar="DIR", help="report folder (default evals/reports)")
    p.add_argument("--json", action="store_true",
                   help='print one JSON object {"queries", "parse_accuracy", "systems": [...]} instead of tables')
    p.set_defaults(handler=run)


def _non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number of queries, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a number ≥ 0, got {value}")
    return value


def run(args: argparse.Namespace) -> int:
    from evals.recommend import EvalConfig, EvalContext, evaluate, load_oracles, load_queries
    from evals.recommend.report import cli_object, summary_markdown, target_checks, write_report

    # Inputs first (query file, matrices), before loading the catalog and the embedding model.
    cases = load_queries(args.queries)
    oracles = load_oracles(args.responses)
    config = EvalConfig(budget_per_model=args.budget_per_model)
    info(f"eval: {len(cases)} requests from {args.queries}; {config.budget_per_model} queries per confirmed "
         f"candidate; matrices: {', '.join(sorted(oracles)) or 'none'}")
    context = EvalContext.load()
    context.oracles = oracles
    result = evaluate(cases, context, config)
    paths = write_report(result, args.queries, args.out)
    info(f"eval: {len(result.outcomes)} requests in {result.runtime_s:.0f} s; report: {paths[0]}")
    if args.json:
        emit_json(cli_object(result))
        return 0
    print(summary_markdown(result))
    for check in target_checks(result):
        value = "—" if check["value"] is None else f"{check['value']:.3f}"
        print(f"{'met' if check['met'] else 'MISSED'}: {check['target']} ({value})")
    return 0
