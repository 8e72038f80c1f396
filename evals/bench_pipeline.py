"""Latency of the `Recommender` pipeline: load, first answer (prior fitted vs. read from the disk cache), and warm
answers over varied requests. Each cold measurement runs in a fresh process. Writes
``evals/reports/bench_pipeline.{md,json}``; the load average is recorded because the machine's cores are shared.

Usage:
    python -m evals.bench_pipeline
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPORTS = Path(__file__).resolve().parent / "reports"
REQUESTS = (
    "best 7B model for grade-school math with an apache-2.0 license",
    "medical QA model under 3B",
    "small instruct model under 2B for python code",
    "llama-3 8B for knowledge questions, commercial use",
    "best reasoning model that fits a 24 GB GPU",
    "truthful chat model around 7B",
    "mistral 7B fine-tune for math, budget 300 queries",
    "science QA model under 14B with an MIT license",
    "best commonsense model at most 3B",
    "qwen2.5 model for instruction following",
)

_COLD = """
import time, json
t0 = time.perf_counter()
from recommender import Recommender
rec = Recommender.load()
t1 = time.perf_counter()
answer = rec.recommend({query!r}, k=10, budget=500)
t2 = time.perf_counter()
print(json.dumps({{"load": t1 - t0, "first_answer": t2 - t1, "fit": rec.predictor.fit_seconds,
                   "stages": answer.stages}}))
"""


def cold(query: str, cache_dir: str) -> dict:
    env = {**os.environ, "GEMFINDER_PRIOR_CACHE": cache_dir}
    out = subprocess.run([sys.executable, "-c", _COLD.format(query=query)], capture_output=True, text=True,
                         env=env, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def warm(requests) -> list[float]:
    from recommender import Recommender

    rec = Recommender.load()
    for q in requests:  # first pass fits / loads whatever each task needs
        rec.recommend(q, k=10, budget=500)
    times = []
    for q in requests:
        start = time.perf_counter()
        rec.recommend(q, k=10, budget=500)
        times.append(time.perf_counter() - start)
    return times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=REPORTS)
    args = parser.parse_args(argv)
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as cache:
        empty = cold(REQUESTS[0], cache)  # fits the math prior into the empty cache
        cached = cold(REQUESTS[0], cache)  # a new process reads it back
    times = warm(REQUESTS)
    report = {
        "load_s_cold_process": round(cached["load"], 2),
        "first_answer_s_prior_fitted": round(empty["first_answer"], 2),
        "prior_fit_s": round(empty["fit"], 2),
        "first_answer_s_prior_cached": round(cached["first_answer"], 2),
        "warm_answer_p50_s": round(float(np.median(times)), 3),
        "warm_answer_p95_s": round(float(np.quantile(times, 0.95)), 3),
        "requests": len(times),
        "load_average": [round(load_before, 2), round(os.getloadavg()[0], 2)],
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "bench_pipeline.json").write_text(json.dumps(report, indent=1))
    lines = ["# Recommender latency (budget 500 queries, k = 10; recorded confirm where the task has a matrix)",
             "", "| measure | value |", "|---|---:|"]
    lines += [f"| {k} | {v} |" for k, v in report.items()]
    markdown = "\n".join(lines) + "\n"
    (args.out / "bench_pipeline.md").write_text(markdown)
    print(markdown)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
