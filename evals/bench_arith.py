"""How hard ``arith`` is for the PyPI models: greedy accuracy over its difficulty knobs.

The default difficulty is the one where both small models land between 20% and 60% greedy, so a test-time strategy
that helps (or hurts) shows. Each row: one (model, steps, ops, shots) setting, greedy, on the same questions.

Usage:
    python -m evals.bench_arith                      # vLLM engine (needs .venv-vllm), 100 questions per setting
    python -m evals.bench_arith --engine transformers --questions 40

Writes ``evals/reports/bench_arith.{md,json}``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
from pathlib import Path

from recommender.confirm.datasets import load_dataset
from recommender.confirm.datasets._loaders import ARITH_DEFAULTS
from recommender.confirm.strategies import STRATEGIES, StrategyConfig
from recommender.records import wilson_interval

REPORTS = Path(__file__).resolve().parent / "reports"
MODELS = ("smollm2-135m-instruct", "gemma-3-270m")
#: (steps, ops, shots): the default first, then one knob moved at a time
SETTINGS = ((1, "+-", 3), (1, "+-", 0), (1, "+-", 6), (1, "+-*", 3), (2, "+", 3), (2, "+-", 3), (3, "+-", 3))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evals.bench_arith", description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--questions", type=int, default=100)
    parser.add_argument("--engine", choices=("transformers", "vllm"), default="vllm")
    parser.add_argument("--out", default=str(REPORTS / "bench_arith"))
    args = parser.parse_args(argv)
    from recommender.confirm.engines import load_engine

    rows = []
    for model in args.models.split(","):
        engine = load_engine(model, backend=args.engine)
        for steps, ops, shots in SETTINGS:
            ds = load_dataset("arith", limit=args.questions, steps=steps, digits=1, ops=ops, shots=shots)
            sols = STRATEGIES["greedy"](engine, ds, ds.questions, StrategyConfig("greedy", max_tokens=96))
            correct = sum(ds.is_correct(q, s.answer) for q, s in zip(ds.questions, sols))
            low, high = wilson_interval(correct, len(sols))
            rows.append({"model": model, "steps": steps, "digits": 1, "ops": ops, "shots": shots,
                         "default": (steps, ops, shots) == (ARITH_DEFAULTS["steps"], ARITH_DEFAULTS["ops"],
                                                            ARITH_DEFAULTS["shots"]),
                         "questions": len(sols), "accuracy": round(100 * correct / len(sols), 1),
                         "ci95": [round(low, 1), round(high, 1)]})
            print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
        engine.close()
    out = Path(args.out)
    out.with_suffix(".json").write_text(json.dumps({"engine": args.engine, "rows": rows}, indent=1) + "\n")
    lines = ["# arith difficulty vs greedy accuracy", "",
             f"`python -m evals.bench_arith` on {platform.machine()}, {os.cpu_count()} cores; engine `{args.engine}`; "
             f"{args.questions} questions per setting (1-digit numbers); greedy, up to 96 tokens. `shots` = worked "
             "examples shown as earlier chat turns. **bold** = the default.", "",
             "| model | events | ops | shots | accuracy (points) | 95% CI |", "|---|---:|---|---:|---:|---|"]
    for r in rows:
        b = "**" if r["default"] else ""
        lines.append(f"| {r['model']} | {b}{r['steps']}{b} | `{r['ops']}` | {r['shots']} | {b}{r['accuracy']:.1f}{b} "
                     f"| [{r['ci95'][0]:.1f}, {r['ci95'][1]:.1f}] |")
    out.with_suffix(".md").write_text("\n".join(lines) + "\n")
    print(f"wrote {out}.md, {out}.json", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
