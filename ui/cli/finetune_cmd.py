"""``gemfinder finetune-select``: which candidate will be best after fine-tuning on your data?

Fine-tunes each candidate on growing subsets of the data (200, 400, 800, … examples), measures the held-out loss
after each run, fits the LensLLM and Rectified scaling laws, and ranks the candidates by their predicted loss at
the full data size, with the compute spent versus fine-tuning every candidate fully. Finished runs are cached, so
an interrupted selection resumes where it stopped.

Examples:
    gemfinder finetune-select --data notes.jsonl --models smollm2-135m-instruct gemma-3-270m --max-examples 800
    gemfinder finetune-select --data notes.jsonl --models ./my-model org/cached-model --lora --device cuda --json
    gemfinder finetune-select --data notes.jsonl --models org/custom-arch --trust-remote-code org/custom-arch
"""

from __future__ import annotations

import argparse
import math

from ui.cli._options import positive_int
from ui.cli._output import console, emit_json, fmt_number, info


def register(sub) -> None:
    p = sub.add_parser(
        "finetune-select", help="rank models by predicted loss after fine-tuning on your data",
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--data", required=True, metavar="FILE.jsonl",
                   help='JSONL: {"text": ...} or {"prompt": ..., "completion": ...} per line')
    p.add_argument("--models", required=True, nargs="+", metavar="ID",
                   help="aliases (smollm2-135m-instruct, gemma-3-270m), folders, .gguf files or cached Hub ids")
    group = p.add_argument_group("progressive sampling")
    group.add_argument("--max-examples", type=positive_int, metavar="N", help="largest subset (default: all)")
    group.add_argument("--start", type=positive_int, default=200, metavar="N", help="smallest subset (default 200)")
    group.add_argument("--factor", type=float, default=2.0, help="growth between subsets (default 2)")
    group.add_argument("--tolerance", type=float, default=0.02,
                       help="stop when the prediction moves less than this fraction (default 0.02)")
    group = p.add_argument_group("training")
    group.add_argument("--epochs", type=positive_int, default=1, help="epochs per subset (default 1)")
    group.add_argument("--batch-size", type=positive_int, default=8, help="examples per step (default 8)")
    group.add_argument("--lr", type=float, help="AdamW learning rate (default 5e-5; 2e-4 with --lora)")
    group.add_argument("--max-length", type=positive_int, default=256, help="tokens per example (default 256)")
    group.add_argument("--lora", action="store_true", help="train LoRA adapters (peft) instead of all weights")
    group.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto",
                       help="auto (default): cuda when available, else cpu")
    group.add_argument("--seed", type=int, default=0, help="split, order and initialisation seed (default 0)")
    group.add_argument("--probe-size", type=positive_int, default=8, metavar="N",
                       help="examples in the probe batch of the NTK term F(Θ, t) (default 8)")
    p.add_argument("--cache-dir", metavar="DIR", help="curve-point cache (default ~/.cache/gemfinder/finetune)")
    p.add_argument("--trust-remote-code", action="append", default=[], metavar="MODEL",
                   help="allow MODEL (as named in --models) to run its own code; repeat per model")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from recommender.predict.finetune import FinetuneConfig, select

    # The config checks its own fields (e.g. --max-examples below --start) before anything loads.
    config = FinetuneConfig(
        start=args.start, factor=args.factor, max_examples=args.max_examples, tolerance=args.tolerance,
        epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, max_length=args.max_length, lora=args.lora,
        probe_size=args.probe_size, seed=args.seed, device=args.device,
    )
    selection = select(args.data, args.models, config=config, cache_dir=args.cache_dir,
                       trust_remote_code=args.trust_remote_code, progress=info)
    if args.json:
        emit_json(to_json(selection))
    else:
        render(selection)
    return 0


def to_json(selection) -> dict:
    """The ``--json`` object: the documented keys, non-finite numbers as null."""
    results = [
        {"model": r.model, "rank": r.rank, "predicted_loss": _finite(r.predicted_loss),
         "uncertainty": _finite(r.uncertainty), "law": r.law, "stopped": r.stopped,
         "points": [{"examples": p.examples, "loss": p.loss, "seconds": round(p.seconds, 3), "tokens": p.tokens,
                     "steps": p.steps, "cached": p.cached} for p in r.points],
         "fits": [{"law": f.law, "predicted_loss": _finite(f.predicted_loss), "uncertainty": _finite(f.uncertainty),
                   "params": {k: _finite(v) for k, v in f.params.items()}} for f in r.fits],
         "ntk_F": _finite(r.ntk_F), "fitted_F": _finite(r.fitted_F), "compute_tokens": r.compute_tokens,
         "compute_seconds": round(r.compute_seconds, 3),
         "full_finetune_tokens_estimate": r.full_finetune_tokens_estimate,
         "full_finetune_seconds_estimate": _finite(r.full_finetune_seconds_estimate)}
        for r in selection.results
    ]
    return {"data": selection.data, "n_examples": selection.n_examples, "n_train": selection.n_train,
            "n_heldout": selection.n_heldout, "results": results, "compute_saved": selection.compute_saved,
            "seconds": round(selection.seconds, 3)}


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def render(selection) -> None:
    from rich.table import Table

    title = (f"{selection.data}: {selection.n_examples:,} examples ({selection.n_train:,} train, "
             f"{selection.n_heldout:,} held out) · predicted held-out loss after fine-tuning on all {selection.n_train:,}")
    table = Table(title=title, title_justify="left")
    for name in ("#", "model", "predicted loss", "law", "F (NTK)", "F (fitted)", "curve D: L(D)", "stop",
                 "tokens spent / full", "seconds spent / full"):
        table.add_column(name, justify="left" if name in ("model", "law", "curve D: L(D)", "stop") else "right")
    for r in selection.results:
        curve = "  ".join(f"{p.examples}: {p.loss:.3f}{'*' if p.cached else ''}" for p in r.points)
        table.add_row(
            str(r.rank), r.model, f"{r.predicted_loss:.3f} ± {fmt_number(_finite(r.uncertainty), 3)}", r.law,
            _sci(r.ntk_F), _sci(r.fitted_F), curve, r.stopped,
            f"{r.compute_tokens:,} / {r.full_finetune_tokens_estimate:,}",
            f"{r.compute_seconds:,.0f} / {fmt_number(_finite(r.full_finetune_seconds_estimate), 0)}",
        )
    table.caption = (f"compute saved versus fully fine-tuning every candidate: {selection.compute_saved:.0%} of "
                     f"training tokens · * = curve point read from the cache · {selection.seconds:,.0f} s in all")
    console().print(table)


def _sci(value: float | None) -> str:
    return "—" if value is None or not math.isfinite(value) else f"{value:.3g}"
