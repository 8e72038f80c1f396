"""``gemfinder bench-sh``: the Sequential Halving replication on any response matrix (Hidden Gems, Table 2 layout).

Every registered best-arm algorithm plus ``random``, ``best_popular`` and ``exhaustive`` searches each model tree of
the matrix for its best model with N queries per model, over many seeded repetitions; rows give the mean rank of the
pick, its regret in points, P(top 1%), the budget spent and the hidden-gem rate, under the subset truth (the matrix's
own mean) and, with ``--full-scores``, the whole-benchmark truth.

Examples:
    gemfinder bench-sh --responses index/data/responses/gsm8k_responses_train.csv.gz \\
        --full-scores index/data/responses/gsm8k_fullscore_train_val.csv.gz
    gemfinder bench-sh --responses my_eval_responses.csv --trees none --budgets 5,10 --reps 20 --json
"""

from __future__ import annotations

import argparse

from index.errors import CatalogNotFoundError, UsageError
from ui.cli._output import emit_json, info


def register(sub) -> None:
    p = sub.add_parser(
        "bench-sh", help="replicate the Sequential Halving table on a response matrix", description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--responses", required=True, metavar="FILE",
                   help="CSV or CSV.GZ: first column the model id, one column per question, values 0/1")
    p.add_argument("--full-scores", metavar="FILE", help="CSV with columns model,score (points): adds the full truth")
    p.add_argument("--benchmark", metavar="NAME",
                   help="the pool's name (default: the file name before '_responses', else its stem)")
    p.add_argument("--trees", choices=("auto", "none"), default="auto",
                   help="auto: one tree per family and size (catalog); none: every model in one tree 'all'")
    p.add_argument("--budgets", default="5,10,20,50,100", metavar="N,N,…", help="queries per model (default 5,…,100)")
    p.add_argument("--reps", type=_positive_int, default=100, help="repetitions per cell (default 100)")
    p.add_argument("--min-tree", type=_positive_int, default=100, metavar="K",
                   help="smallest tree searched (default 100, the issue's threshold)")
    p.add_argument("--workers", type=_positive_int, default=2, help="worker processes (default 2)")
    p.add_argument("--json", action="store_true", help="print one JSON object {\"rows\": [...]} instead of tables")
    p.set_defaults(handler=run)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number ≥ 1, got {value}")
    return value


def run(args: argparse.Namespace) -> int:
    from evals import bench_sh
    from index.vocabulary import BENCHMARKS
    from recommender.confirm.recorded import load_full_scores, read_matrix

    # Options first, before reading anything.
    try:
        budgets = bench_sh.parse_budgets(args.budgets)
    except ValueError as err:
        raise UsageError(str(err)) from None
    if args.min_tree < 2:
        raise UsageError(f"--min-tree {args.min_tree} must be at least 2: a search needs two models.")
    config = bench_sh.ReplicationConfig(budgets=budgets, reps=args.reps, min_tree=args.min_tree,
                                        workers=args.workers)

    matrix = read_matrix(args.responses, benchmark=args.benchmark)
    full = load_full_scores(args.full_scores) if args.full_scores else None
    catalog = _catalog(args.trees)
    if args.trees == "auto":
        known = sum(m in catalog for m in matrix.model_ids)
        if known == 0:
            raise UsageError(
                f"None of the {matrix.n_models:,} models in '{args.responses}' is in the catalog, so --trees auto "
                "cannot group them by family and size. Use --trees none to search them as one tree."
            )
        if known < matrix.n_models:
            info(f"note: {matrix.n_models - known:,} of {matrix.n_models:,} models are not in the catalog and join "
                 "no tree (--trees none keeps them).")
    targets = (matrix.benchmark,) if matrix.benchmark in BENCHMARKS else ()
    if not targets:
        info(f"note: '{matrix.benchmark}' is no catalog benchmark, so the prior-aware algorithms get no prior "
             f"(known: {', '.join(BENCHMARKS)}; set --benchmark).")
    info(f"bench-sh: {matrix.benchmark}, {matrix.n_models:,} models × {matrix.n_questions} questions, "
         f"N = {','.join(map(str, budgets))}, {config.reps} reps")
    replication = bench_sh.run_replication([bench_sh.Pool(matrix, full, targets)], catalog, mode=args.trees,
                                           config=config)
    if not replication.rows:
        report = replication.trees[0]
        biggest = ", ".join(f"{t} ({n})" for t, n in list(report.sizes.items())[:3]) or "none"
        raise UsageError(
            f"No tree of '{args.responses}' has at least {config.min_tree} models (largest: {biggest}; "
            f"{report.unplaced:,} models unplaced). Use --trees none, or lower --min-tree."
        )
    for note in replication.notes:
        info(f"note: {note}")
    if args.json:
        emit_json({"rows": [r.to_dict() for r in replication.rows]})
    else:
        _render(replication)
    return 0


def _catalog(mode: str):
    """The shipped catalog; with ``--trees none`` a missing catalog only costs popularity and the prior."""
    from index.catalog import Catalog

    try:
        return Catalog.load()
    except CatalogNotFoundError:
        if mode == "auto":
            raise
        info("note: no catalog, so no popularity (no best_popular row, no gem verdict) and no prior.")
        return None


def _render(replication) -> None:
    from evals._bench_sh_report import checks_markdown, gems_markdown, tables_markdown, tree_sizes_markdown

    print(tree_sizes_markdown(replication, replication.config.min_tree), "\n")
    print(tables_markdown(replication.rows))
    print(gems_markdown(replication), "\n")
    if replication.checks:
        print(checks_markdown(replication))
    print(f"\n{len(replication.rows)} rows in {replication.runtime_s:.0f} s")
