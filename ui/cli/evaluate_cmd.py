"""``gemfinder evaluate``: run models live on a question set under a test-time strategy.

Each model answers the questions through an engine (transformers, or vLLM in ``.venv-vllm``); the table gives
accuracy in points with its 95 % Wilson interval, generated tokens and seconds per model. ``--strategy all`` with
``--n 1,4,16`` evaluates every (strategy, N) and marks the Pareto front of accuracy against tokens per question:
the best you can get for a given compute. Answers are cached on disk (``GEMFINDER_CACHE_DIR``), so a rerun, or an
interrupted run restarted, pays only for what is missing. A model that cannot be loaded gets a row with its error.

Examples:
    gemfinder evaluate --models smollm2-135m-instruct gemma-3-270m --dataset arith --strategy greedy --questions 50
    gemfinder evaluate --models smollm2-135m-instruct --dataset arith --strategy all --n 1,4,16 --questions 20
    gemfinder evaluate --models ./my-model --trust-remote-code ./my-model --dataset gsm8k --strategy majority --n 4
    .venv-vllm/bin/gemfinder evaluate --models smollm2-135m-instruct --dataset arith --engine vllm --json
"""

from __future__ import annotations

import argparse

from index.errors import UsageError
from ui.cli._options import positive_int
from ui.cli._output import console, emit_json, fmt_number, info


def register(sub) -> None:
    from recommender.confirm.datasets import DATASETS
    from recommender.confirm.engines import BACKENDS
    from recommender.confirm.prms import PRMS
    from recommender.confirm.strategies import STRATEGIES

    p = sub.add_parser(
        "evaluate", help="evaluate models live on a question set (accuracy, tokens, seconds)", description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--models", nargs="+", required=True, metavar="ID",
                   help="aliases (gemfinder models --local), local folders, .gguf files or cached Hub ids")
    p.add_argument("--dataset", required=True, metavar="D",
                   help=f"one of {', '.join(DATASETS)}, or a JSONL file of {{\"question\", \"answer\"}}")
    p.add_argument("--strategy", default="greedy", metavar="S",
                   help=f"one of {', '.join(STRATEGIES)}, or 'all' (default greedy)")
    p.add_argument("--n", default="1", metavar="N[,N…]",
                   help="the budget N (samples, beams or leaves); a list with --strategy all (default 1)")
    p.add_argument("--width", type=positive_int, default=4, metavar="M",
                   help="beam width / DVTS expansions per step, M (default 4)")
    p.add_argument("--questions", type=positive_int, default=None, metavar="K",
                   help="evaluate K questions (a seeded subset; default: all, arith: 200)")
    p.add_argument("--max-tokens", type=positive_int, default=256, help="tokens per completion (default 256)")
    p.add_argument("--temperature", type=float, default=0.8, help="sampling temperature (default 0.8)")
    p.add_argument("--seed", type=int, default=0, help="question subset and sampling seed (default 0)")
    p.add_argument("--engine", choices=BACKENDS, default="transformers", help="the back end (default transformers)")
    p.add_argument("--device", choices=("cpu", "cuda"), default=None, help="default: CUDA when available")
    p.add_argument("--prm", choices=PRMS, default=None,
                   help="PRM of the PRM-guided strategies (default: verifier on arith, small_lm elsewhere)")
    p.add_argument("--trust-remote-code", action="append", default=[], metavar="ID",
                   help="allow this model's own code to run (repeat per model)")
    p.add_argument("--json", action="store_true", help='print one JSON object {"results": [...]}')
    p.set_defaults(handler=run)


def parse_budgets(text: str) -> tuple[int, ...]:
    """``"1,4,16"`` → ``(1, 4, 16)``; refuses anything but positive whole numbers."""
    try:
        values = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise UsageError(f"--n {text!r} must be whole numbers separated by commas, e.g. 1,4,16.") from None
    if not values or min(values) < 1:
        raise UsageError(f"--n {text!r}: every N must be at least 1.")
    return tuple(dict.fromkeys(values))


def configurations(strategy: str, budgets: tuple[int, ...], *, width: int, temperature: float, max_tokens: int,
                   seed: int) -> list:
    """The `StrategyConfig`s to run: one per (strategy, N) that is valid (greedy only at N = 1, tree searches only
    at multiples of M)."""
    from recommender.confirm.strategies import STRATEGIES, TREE_STRATEGIES, StrategyConfig

    if strategy != "all":
        if strategy not in STRATEGIES:
            raise UsageError(f"Unknown strategy '{strategy}'. Expected one of: {', '.join(STRATEGIES)}, all.")
        if len(budgets) > 1:
            raise UsageError(f"--n {','.join(map(str, budgets))} lists several budgets: use --strategy all, "
                             "or one N per run.")
        try:
            return [StrategyConfig(strategy, n=budgets[0], width=width, temperature=temperature,
                                   max_tokens=max_tokens, seed=seed)]
        except ValueError as err:
            raise UsageError(str(err)) from None
    configs = []
    for name in STRATEGIES:
        for n in budgets:
            if (name == "greedy" and n != 1) or (name in TREE_STRATEGIES and (n < width or n % width)):
                continue
            configs.append(StrategyConfig(name, n=n, width=width, temperature=temperature, max_tokens=max_tokens,
                                          seed=seed))
    if not configs:
        raise UsageError(f"No strategy runs at --n {','.join(map(str, budgets))}; try --n 1,4,16.")
    return configs


def run(args: argparse.Namespace) -> int:
    from recommender.confirm.datasets import load_dataset
    from recommender.confirm.live import evaluate
    from recommender.confirm.prms import default_prm, load_prm
    from recommender.confirm.strategies import PRM_STRATEGIES

    # Options first, before loading anything.
    if args.temperature < 0:
        raise UsageError(f"--temperature {args.temperature} must be ≥ 0.")
    unknown_trust = sorted(set(args.trust_remote_code) - set(args.models))
    if unknown_trust:
        raise UsageError(f"--trust-remote-code {' '.join(unknown_trust)} names no model in --models.")
    configs = configurations(args.strategy, parse_budgets(args.n), width=args.width, temperature=args.temperature,
                             max_tokens=args.max_tokens, seed=args.seed)
    dataset = load_dataset(args.dataset, limit=args.questions, seed=args.seed)
    prm = None
    if any(c.name in PRM_STRATEGIES for c in configs):
        prm = load_prm(args.prm or default_prm(dataset.name))
    info(f"evaluate: {len(args.models)} model(s) × {len(configs)} configuration(s) on {dataset.name} "
         f"({len(dataset.questions)} questions), engine {args.engine}")
    try:
        rows = evaluate(args.models, dataset, configs, engine=args.engine, prm=prm,
                        trust_remote_code=args.trust_remote_code, device=args.device, on_progress=info)
    finally:
        if prm is not None:
            prm.close()
    if args.json:
        emit_json({"results": [r.to_dict() for r in rows]})
    else:
        _render(rows)
    return 0 if any(r.error is None for r in rows) else 1


def _render(rows) -> None:
    from rich.table import Table

    columns = ["model", "strategy", "N", "questions", "accuracy", "95% CI", "tokens/question", "tokens", "seconds",
               "pareto"]
    errors = any(r.error is not None for r in rows)
    table = Table(title=f"{rows[0].dataset} · accuracy in points (95% Wilson interval)")
    for column in columns + (["error"] if errors else []):
        table.add_column(column, justify="left" if column in ("model", "strategy", "error") else "right")
    for r in rows:
        if r.error is not None:
            table.add_row(r.model, r.strategy, str(r.n), *["—"] * 7, r.error)
            continue
        table.add_row(r.model, r.strategy, str(r.n), str(r.questions), fmt_number(r.accuracy),
                      f"{r.ci95[0]:.1f}–{r.ci95[1]:.1f}", fmt_number(r.tokens_per_question), f"{r.tokens:,}",
                      fmt_number(r.seconds), {True: "★", False: "", None: ""}[r.pareto], *([""] if errors else []))
    console().print(table)
