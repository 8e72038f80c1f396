"""``gemfinder bench-lensllm``: Lin et al.'s LLM-selection benchmark with gemfinder's LensLLM fit, on a curve file.

For each budget ratio γ every method fits the sizes ≤ D_max/γ and predicts the loss at D_max; the table reports
PearCorr, RelAcc and RMSE for lensllm, rectified (Rectified law + AtS), zeroshot and modelsize.

Examples:
    gemfinder bench-lensllm --curves index/data/curves/benchmark_flan.csv
    gemfinder bench-lensllm --curves my_curves.csv --ratios 8 64 --json
"""

from __future__ import annotations

import argparse

from ui.cli._options import int_at_least
from ui.cli._output import emit_json, info

#: methods the JSON rows carry (the report's extra reference rows stay out of the CLI's schema).
JSON_METHODS = ("lensllm", "rectified", "zeroshot", "modelsize")
DEFAULT_RATIOS = (8, 16, 32, 64, 128, 256, 512)


def register(sub) -> None:
    p = sub.add_parser(
        "bench-lensllm", help="replicate the LensLLM / Rectified-law selection benchmark on a curve file",
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--curves", required=True, metavar="FILE",
                   help="CSV with 'config name', one column per training-set size, optional 'size' and 'family'")
    p.add_argument("--ratios", nargs="+", type=int_at_least(2), default=list(DEFAULT_RATIOS), metavar="γ",
                   help="budget ratios: fit on sizes ≤ D_max/γ (default 8 16 32 64 128 256 512)")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    # evals is imported here only: the CLI's other commands must not pay for (or depend on) the benchmarks
    from evals import bench_lensllm

    rows = bench_lensllm.run_file(args.curves, args.ratios, progress=info)
    if args.json:
        emit_json({"rows": [{k: r[k] for k in ("method", "dataset", "ratio", "pearcorr", "relacc", "rmse")}
                            for r in rows if r["method"] in JSON_METHODS]})
        return 0
    print(bench_lensllm.render_table(rows))
    checks = bench_lensllm.target_check(rows)
    if any(c["pub_ats_pearcorr"] is not None for c in checks):
        print()
        print(bench_lensllm.render_checks(checks))
    return 0
