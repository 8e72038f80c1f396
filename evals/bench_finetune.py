"""``finetune-select`` on real models, end to end, with the checks the law fits allow on a small budget.

Runs `recommender.predict.finetune.select` (or reads its point cache, so an earlier or interrupted run is reused)
and reports three tables:

1. the selection: rank, predicted held-out loss at the full pool size N ± its uncertainty, the measured curve, and
   the compute spent versus fine-tuning every candidate fully;
2. LensLLM's NTK term computed from each model (empirical NTK of the loss at initialisation on a probe batch,
   F(Θ, t) = t · tr Θ / n, t = optimiser steps of the full-data run) beside the constant F the curve fit settles on,
   and the ratio F / D^β at the largest measured D (how much room the law has to bend);
3. a back-test: every law refitted without the largest measured size predicts it, against the measurement
   (``lensllm`` = F fitted, ``lensllm-ntk`` = F held at the computed F(Θ, t_D) for that run's steps, ``rectified``).

    python -m evals.bench_finetune                       # the GSM8K fixture, both shipped models, CPU-sized
    python -m evals.bench_finetune --max-examples 256 --max-length 128 --cache-dir DIR

Writes ``evals/reports/bench_finetune.{md,json}``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import sys
import time
from pathlib import Path

from recommender.predict._ft_laws import fit_laws
from recommender.predict.finetune import CandidateResult, FinetuneConfig, FinetuneSelection, select

REPORTS = Path(__file__).resolve().parent / "reports"
FIXTURE = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "finetune" / "gsm8k_300.jsonl"
MODELS = ("smollm2-135m-instruct", "gemma-3-270m")


def backtest(result: CandidateResult, config: FinetuneConfig, n_full: int) -> list[dict]:
    """Each law fitted on the curve without its largest point, predicting that point (needs ≥ 4 points).

    `n_full` is the pool size N whose steps t_N the reported ``ntk_F`` was computed for; the NTK-fixed law here
    uses F(Θ, t_D) for the predicted run's own steps instead.
    """
    points = result.points
    if len(points) < 4:
        return []
    last, head = points[-1], points[:-1]
    per_step = (result.ntk_F / _steps(config, n_full)) if result.ntk_F else None
    ntk_f = per_step * _steps(config, last.examples) if per_step else None
    rows = []
    for fit in fit_laws(head, last.examples, ntk_f):
        rows.append({"model": result.model, "law": fit.law, "fitted_on": [p.examples for p in head],
                     "predicts_D": last.examples, "predicted": fit.predicted_loss, "uncertainty": fit.uncertainty,
                     "measured": last.loss, "error": fit.predicted_loss - last.loss})
    return rows


def _steps(config: FinetuneConfig, d: int) -> int:
    return config.epochs * math.ceil(d / config.batch_size)


def ntk_rows(selection: FinetuneSelection) -> list[dict]:
    """Computed NTK F(Θ, t_N) versus the fitted constant F, with D^β at the largest measured size."""
    rows = []
    for r in selection.results:
        lens = next((f for f in r.fits if f.law == "lensllm"), None)
        d_max = r.points[-1].examples
        d_beta = d_max ** lens.params["beta"] if lens else None
        rows.append({"model": r.model, "ntk_F": r.ntk_F, "fitted_F": r.fitted_F,
                     "ratio": (r.ntk_F / r.fitted_F) if r.ntk_F and r.fitted_F else None,
                     "beta": lens.params["beta"] if lens else None, "D_max": d_max, "D_max^beta": d_beta,
                     "steps_N": _steps(selection.config, selection.n_train)})
    return rows


# Rendering ----------------------------------------------------------------------------------------------------------


def _g(value, fmt: str = "{:.3g}") -> str:
    return "—" if value is None or (isinstance(value, float) and not math.isfinite(value)) else fmt.format(value)


def render(selection: FinetuneSelection, ntk: list[dict], back: list[dict], meta: dict) -> str:
    c = selection.config
    lines = [
        "# finetune-select on real models (CPU)\n",
        f"`python -m evals.bench_finetune` — data `{Path(selection.data).name}`: {selection.n_examples} examples "
        f"({selection.n_train} training pool N, {selection.n_heldout} held out); schedule start {c.start} × "
        f"{c.factor:g} up to {c.max_examples or selection.n_train}, tolerance {c.tolerance:g}; {c.epochs} epoch(s), "
        f"batch {c.batch_size}, lr {c.learning_rate:g}, max length {c.max_length} tokens, "
        f"{'LoRA' if c.lora else 'full fine-tuning'}, NTK probe batch {c.probe_size}, device {c.device}.\n",
        "## Selection (predicted held-out loss after fine-tuning on all N)\n",
        "| # | model | predicted L(N) ± sd | law | curve D: L(D) | stop | tokens spent / full | seconds spent / full |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in selection.results:
        curve = ", ".join(f"{p.examples}: {p.loss:.3f}" for p in r.points)
        lines.append(
            f"| {r.rank} | {r.model} | {r.predicted_loss:.3f} ± {_g(r.uncertainty, '{:.3f}')} | {r.law} | {curve} "
            f"| {r.stopped} | {r.compute_tokens:,} / {r.full_finetune_tokens_estimate:,} | "
            f"{r.compute_seconds:,.0f} / {_g(r.full_finetune_seconds_estimate, '{:,.0f}')} |")
    lines.append(f"\nCompute saved versus fully fine-tuning every candidate: **{selection.compute_saved:.0%}** of "
                 "training tokens (the curve points' tokens over N × epochs per candidate).\n")
    lines += ["## NTK term F(Θ, t) computed from the model vs the fitted constant F\n",
              "| model | F(Θ, t_N) from the NTK | fitted F | NTK / fitted | fitted β | D_max^β | t_N (steps) |",
              "|---|---:|---:|---:|---:|---:|---:|"]
    for n in ntk:
        lines.append(f"| {n['model']} | {_g(n['ntk_F'])} | {_g(n['fitted_F'])} | {_g(n['ratio'])} | "
                     f"{_g(n['beta'], '{:.3f}')} | {_g(n['D_max^beta'])} | {n['steps_N']} |")
    lines += ["\n## Back-test: refit without the largest D, predict it\n",
              "| model | law | fitted on D | predicts D | predicted ± sd | measured | error |",
              "|---|---|---|---:|---:|---:|---:|"]
    for b in back:
        lines.append(f"| {b['model']} | {b['law']} | {', '.join(map(str, b['fitted_on']))} | {b['predicts_D']} | "
                     f"{b['predicted']:.3f} ± {b['uncertainty']:.3f} | {b['measured']:.3f} | {b['error']:+.3f} |")
    lines.append(f"\nMachine: {meta['machine']}; load average {meta['load_before']} before, {meta['load_after']} "
                 f"after; {meta['seconds']:,.0f} s for this invocation (cached points cost nothing).\n")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", default=str(FIXTURE))
    p.add_argument("--models", nargs="+", default=list(MODELS))
    p.add_argument("--start", type=int, default=16)
    p.add_argument("--factor", type=float, default=2.0)
    p.add_argument("--max-examples", type=int, default=64)
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--max-length", type=int, default=64)
    p.add_argument("--lora", action="store_true")
    p.add_argument("--cache-dir", default=None)
    p.add_argument("--no-report", action="store_true", help="print only; do not write evals/reports/")
    p.add_argument("--note", default="", help="a line appended to the report (e.g. the load while the points trained)")
    args = p.parse_args(argv)
    config = FinetuneConfig(start=args.start, factor=args.factor, max_examples=args.max_examples,
                            batch_size=args.batch_size, max_length=args.max_length, lora=args.lora)
    load_before = " ".join(f"{x:.1f}" for x in os.getloadavg())
    t0 = time.perf_counter()
    selection = select(args.data, args.models, config=config, cache_dir=args.cache_dir,
                       progress=lambda line: print(line, file=sys.stderr, flush=True))
    ntk = ntk_rows(selection)
    back = [row for r in selection.results for row in backtest(r, selection.config, selection.n_train)]
    meta = {"machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
            "load_before": load_before, "load_after": " ".join(f"{x:.1f}" for x in os.getloadavg()),
            "seconds": time.perf_counter() - t0}
    text = render(selection, ntk, back, meta) + (f"\n{args.note}\n" if args.note else "")
    print(text)
    if not args.no_report:
        REPORTS.mkdir(parents=True, exist_ok=True)
        (REPORTS / "bench_finetune.md").write_text(text + "\n")
        (REPORTS / "bench_finetune.json").write_text(json.dumps(
            {"selection": selection.to_dict(), "ntk": ntk, "backtest": back, "meta": meta}, indent=1) + "\n")
        print(f"wrote {REPORTS / 'bench_finetune.md'} and .json", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
