"""Benchmark of the foundation: catalog size and coverage, cold start of `gemfinder ask`, query latency.

Prints one table (markdown) and, with ``--json``, writes the figures to ``evals/reports/bench_search.json``.

    python -m evals.bench_search [--queries 200] [--cold-runs 3]

Latency is measured in one process over varied requests (parse + embed + dense + lexical + filter + order),
after one warm-up query; cold start is a fresh ``gemfinder ask --json`` process, from exec to exit, with the
shipped vectors. Targets on a 2-core machine: p50 ≤ 60 ms, p95 ≤ 150 ms, cold start ≤ 15 s.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPORTS = Path(__file__).resolve().parent / "reports"

_TASK_PHRASES = [
    "grade-school math", "math word problems", "competition math", "python code", "coding", "medical QA",
    "clinical questions", "instruction following", "truthful answers", "science questions", "commonsense",
    "reasoning", "general knowledge", "chat assistant", "multilingual chat", "summarisation", "roleplay",
    "function calling", "German chat", "long documents",
]
_SIZES = ["", "7B", "8B", "13B", "under 3B", "at most 1B", "70B", "7-9B", "that fits a 24 GB GPU", "under 15B",
          "at least 30B", "2B", "that fits 16GB at 4-bit"]
_LICENSES = ["", "", "apache-2.0", "mit", "for commercial use", "with a permissive license", "llama3 license"]
_FAMILIES = ["", "", "", "llama-3", "mistral", "qwen2.5", "gemma-2", "phi-3", "llama-2", "yi", "qwen2"]
_KINDS = ["", "", "instruct", "base", "chat"]


def varied_queries(n: int, seed: int = 0) -> list[str]:
    """`n` realistic requests combining task, size, licence, family and instruct phrases."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        parts = ["best", rng.choice(_SIZES), rng.choice(_FAMILIES), rng.choice(_KINDS), "model for",
                 rng.choice(_TASK_PHRASES), rng.choice(_LICENSES)]
        out.append(" ".join(p for p in parts if p))
    return out


def cold_start(runs: int, query: str) -> list[float]:
    """Seconds from process start to answer for `gemfinder ask --json`."""
    exe = shutil.which("gemfinder") or str(Path(sys.executable).parent / "gemfinder")
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        proc = subprocess.run([exe, "ask", query, "--json"], capture_output=True, text=True,
                              env={**os.environ, "HF_HUB_OFFLINE": "1"})
        times.append(time.perf_counter() - t0)
        if proc.returncode != 0:
            raise RuntimeError(f"gemfinder ask failed: {proc.stderr.strip() or proc.stdout.strip()}")
        json.loads(proc.stdout)
    return times


def latencies(n: int) -> tuple[list[float], dict]:
    """Per-query seconds over `n` varied requests in one process, plus how many had no candidates."""
    from index.errors import QueryError
    from recommender.shortlist import Shortlister

    shortlister = Shortlister.load()
    shortlister.ask("warm-up: a small chat model", k=10)
    times, failures = [], {}
    for q in varied_queries(n):
        t0 = time.perf_counter()
        try:
            shortlister.ask(q, k=10)
        except QueryError as err:  # an over-narrow random combination is a valid answer too
            failures[err.kind] = failures.get(err.kind, 0) + 1
        times.append(time.perf_counter() - t0)
    return times, failures


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))]


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--cold-runs", type=int, default=3)
    parser.add_argument("--json", action="store_true", help="also write evals/reports/bench_search.json")
    args = parser.parse_args(argv)

    from index.catalog import Catalog

    stats = Catalog.load().stats()
    cold = cold_start(args.cold_runs, "best 7B model for grade-school math with an apache-2.0 license")
    lat, failures = latencies(args.queries)
    result = {
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
        "catalog": stats,
        "cold_start_s": {"median": statistics.median(cold), "max": max(cold), "runs": len(cold)},
        "latency_ms": {"p50": 1000 * percentile(lat, 50), "p95": 1000 * percentile(lat, 95),
                       "max": 1000 * max(lat), "queries": len(lat), "no_candidates": failures},
    }
    print_table(result)
    if args.json:
        REPORTS.mkdir(exist_ok=True)
        (REPORTS / "bench_search.json").write_text(json.dumps(result, indent=2) + "\n")
    return result


def print_table(r: dict) -> None:
    s, c, l = r["catalog"], r["cold_start_s"], r["latency_ms"]
    rows = [
        ("catalog records", f"{s['records']:,}", "≥ 10,000"),
        ("records with real card text", f"{s['with_card_text']:,}", ""),
        ("scores as of", s["scores_as_of"], ""),
        (f"cold start `gemfinder ask` (median of {c['runs']})", f"{c['median']:.2f} s", "≤ 15 s"),
        (f"query latency p50 ({l['queries']} queries)", f"{l['p50']:.1f} ms", "≤ 60 ms"),
        ("query latency p95", f"{l['p95']:.1f} ms", "≤ 150 ms"),
        ("query latency max", f"{l['max']:.1f} ms", ""),
    ]
    print(f"| measure ({r['machine']}) | value | target |\n|---|---:|---|")
    for name, value, target in rows:
        print(f"| {name} | {value} | {target} |")
    print("\n| benchmark | models with a score |\n|---|---:|")
    for bench, n in s["coverage"].items():
        print(f"| {bench} | {n:,} |")


if __name__ == "__main__":
    main()
