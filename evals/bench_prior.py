"""Held-out accuracy and calibration of the catalog prior, one benchmark at a time (leave-benchmark-out).

For each benchmark *b*, the models that have *b* are split into K folds (5). For each fold, a `CatalogPrior` is
fitted on the catalog without the fold's models (``benchmarks=(b,)``: *b*'s model never takes *b* as a feature) and
predicts the fold. Reported per benchmark: how many models have it, Spearman ρ and mean absolute error (points) of
the prediction, coverage and mean width of its 80% intervals (target 75–85%), and the same ρ / MAE for a baseline
that knows no scores — the mean of *b* over the training folds' models of the same family and size bucket (falling
back on the family, then on everyone).

Three evidence scenarios, predicted for the same test models with the same fitted prior:

- ``full``: the test model's other scores as the catalog has them (a v1 model predicting gsm8k sees its arc, mmlu…);
- ``cross``: its scores from *b*'s own leaderboard hidden — only other leaderboards (v2 → gsm8k), size, family and
  flags speak; measured on the test models that have such scores (the ~400 models on both leaderboards);
- ``meta``: no score at all, only size / family / architecture / flags — the case of half the catalog.

The issue's target (Spearman ≥ 0.8 on at least half the benchmarks, 80% intervals covering 75–85%) is checked on
``full``. Near-duplicate models (merges and re-uploads of one checkpoint) land in different folds, which flatters
every method, the baseline included.

    python -m evals.bench_prior [--folds 5] [--seed 0] [--benchmarks gsm8k,bbh]

Writes ``evals/reports/bench_prior.md`` and ``.json``; prints the markdown.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

from index.catalog import Catalog
from index.vocabulary import BENCHMARKS
from recommender.predict.prior import BENCHMARK_GROUPS, CatalogPrior

REPORTS = Path(__file__).resolve().parent / "reports"
SCENARIOS = ("full", "cross", "meta")
_GROUP_OF = {b: g for g, bs in BENCHMARK_GROUPS.items() for b in bs}
_SIZE_EDGES = np.array([1.0, 3.0, 9.0, 20.0, 40.0])  # billions: <1, 1–3, 3–9, 9–20, 20–40, ≥40


def size_bucket(params_b: pd.Series) -> np.ndarray:
    """Size bucket per model (-1 where the size is unknown)."""
    p = pd.to_numeric(params_b, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    return np.where(np.isfinite(p), np.searchsorted(_SIZE_EDGES, np.nan_to_num(p), side="right"), -1)


def baseline(train: pd.DataFrame, test: pd.DataFrame, b: str) -> np.ndarray:
    """Family × size-bucket mean of `b` over `train`; family mean, then the global mean where that cell is empty."""
    y = train[f"score.{b}"].to_numpy(dtype=float)
    tr = pd.DataFrame({"family": train["family"].astype(object).fillna("?"), "size": size_bucket(train["params_b"]),
                       "y": y})
    te = pd.DataFrame({"family": test["family"].astype(object).fillna("?"), "size": size_bucket(test["params_b"])})
    cell = tr.groupby(["family", "size"])["y"].mean()
    fam = tr.groupby("family")["y"].mean()
    pred = te.join(cell.rename("cell"), on=["family", "size"]).join(fam.rename("fam"), on="family")
    return pred["cell"].fillna(pred["fam"]).fillna(float(np.mean(y))).to_numpy()


def hide(frame: pd.DataFrame, scenario: str, b: str) -> tuple[pd.DataFrame, np.ndarray]:
    """The test rows as `scenario` sees them, and which rows the scenario applies to."""
    out = frame.copy()
    others = [c for c in BENCHMARKS if c != b]
    same = [c for c in others if _GROUP_OF[c] == _GROUP_OF[b]]
    if scenario == "full":
        return out, np.ones(len(out), dtype=bool)
    if scenario == "cross":
        out[[f"score.{c}" for c in same]] = np.nan
        rest = [f"score.{c}" for c in others if c not in same]
        return out, out[rest].notna().any(axis=1).to_numpy()
    out[[f"score.{c}" for c in others]] = np.nan
    meta = out[["params_b", "family", "architecture", "instruct", "merged"]].notna().any(axis=1).to_numpy()
    return out, meta


def _metrics(y: np.ndarray, mean: np.ndarray, std: np.ndarray | None, z: float) -> dict:
    ok = len(y) >= 3 and np.ptp(y) > 0 and np.ptp(mean) > 0
    out = {
        "n": len(y),
        "spearman": float(spearmanr(y, mean).statistic) if ok else None,
        "mae": float(np.mean(np.abs(y - mean))) if len(y) else None,
    }
    if std is not None:
        out["coverage80"] = float(np.mean(np.abs(y - mean) <= z * std)) if len(y) else None
        out["width80"] = float(np.mean(2 * z * std)) if len(y) else None
    return out


def evaluate_benchmark(
    frame: pd.DataFrame, b: str, *, folds: int, seed: int, min_scores: int, prior_params: dict | None = None
) -> dict:
    """K-fold leave-benchmark-out evaluation of `b`; one metrics dict per scenario plus the baseline."""
    rows = np.flatnonzero(frame[f"score.{b}"].notna().to_numpy())
    result: dict = {"benchmark": b, "n_models": len(rows)}
    if len(rows) < max(min_scores, folds):
        result["skipped"] = f"{len(rows)} models have it < min_scores={min_scores}"
        return result
    rng = np.random.default_rng(seed)
    fold_of = rng.permutation(len(rows)) % folds
    preds = {s: (np.full(len(rows), np.nan), np.full(len(rows), np.nan)) for s in SCENARIOS}
    applies = {s: np.zeros(len(rows), dtype=bool) for s in SCENARIOS}
    base = np.full(len(rows), np.nan)
    fit_s, z = 0.0, None
    for k in range(folds):
        test_idx = rows[fold_of == k]
        train = frame.drop(index=frame.index[test_idx])
        test = frame.iloc[test_idx]
        t0 = time.perf_counter()
        prior = CatalogPrior(random_state=seed, min_scores=min_scores, **(prior_params or {}))
        prior.fit(train, benchmarks=(b,))
        fit_s += time.perf_counter() - t0
        z = prior.z_
        for s in SCENARIOS:
            seen, mask = hide(test, s, b)
            m, sd = prior.predict(seen, b)
            preds[s][0][fold_of == k], preds[s][1][fold_of == k] = m, sd
            applies[s][fold_of == k] = mask
        base[fold_of == k] = baseline(train[train[f"score.{b}"].notna()], test, b)
    y = frame[f"score.{b}"].to_numpy(dtype=float)[rows]
    for s in SCENARIOS:
        at = applies[s]
        result[s] = _metrics(y[at], preds[s][0][at], preds[s][1][at], z)
    result["baseline"] = _metrics(y, base, None, z)
    result["fit_seconds_per_fold"] = fit_s / folds
    return result


def timings(catalog: Catalog, seed: int) -> dict:
    """Seconds to fit every benchmark on the whole catalog, and to predict 2,000 rows (wall and CPU)."""
    load = os.getloadavg()[0]
    t0, c0 = time.perf_counter(), time.process_time()
    prior = CatalogPrior(random_state=seed).fit(catalog)
    fit_s, fit_cpu = time.perf_counter() - t0, time.process_time() - c0
    rows = catalog.frame.sample(2000, random_state=seed)
    prior.predict(rows, "gsm8k")  # warm-up
    wall, cpu = [], []
    for b in prior.models_:
        t0, c0 = time.perf_counter(), time.process_time()
        prior.predict(rows, b)
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    t0 = time.perf_counter()
    prior.predict_task(rows, "reasoning")
    return {"load_average": load, "fit_all_seconds": fit_s, "fit_all_cpu_seconds": fit_cpu,
            "predict_2000_ms_median": 1000 * float(np.median(wall)), "predict_2000_ms_max": 1000 * float(np.max(wall)),
            "predict_2000_cpu_ms_median": 1000 * float(np.median(cpu)),
            "predict_task_reasoning_2000_ms": 1000 * (time.perf_counter() - t0),
            "skipped": prior.skipped_}


def _f(x, fmt="{:.3f}") -> str:
    return "–" if x is None else fmt.format(x)


def render(results: list[dict], summary: dict) -> str:
    """The markdown report."""
    lines = [
        "# Catalog prior — leave-benchmark-out held-out accuracy",
        "",
        (
            f"{summary['folds']}-fold over the models that have each benchmark; the prior never sees the held-out "
            "benchmark (neither as a feature nor, for the test fold, as a target). ρ = Spearman, MAE in points, "
            "cov = coverage of the 80% interval (target 75–85%), width = its mean width in points. "
            "Baseline: family × size-bucket mean of the benchmark on the training folds."
        ),
        "",
        (
            "| benchmark | models | ρ full | MAE full | cov full | width | ρ base | MAE base "
            "| ρ cross (n) | MAE cross | cov cross | ρ meta | MAE meta | cov meta |"
        ),
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        if "skipped" in r:
            lines.append(f"| {r['benchmark']} | {r['n_models']} | skipped: {r['skipped']} |" + " |" * 11)
            continue
        f, c, m, base = r["full"], r["cross"], r["meta"], r["baseline"]
        lines.append(
            f"| {r['benchmark']} | {r['n_models']} | {_f(f['spearman'])} | {_f(f['mae'], '{:.2f}')} "
            f"| {_f(f['coverage80'], '{:.0%}')} | {_f(f['width80'], '{:.1f}')} | {_f(base['spearman'])} "
            f"| {_f(base['mae'], '{:.2f}')} | {_f(c['spearman'])} ({c['n']}) | {_f(c['mae'], '{:.2f}')} "
            f"| {_f(c['coverage80'], '{:.0%}')} | {_f(m['spearman'])} | {_f(m['mae'], '{:.2f}')} "
            f"| {_f(m['coverage80'], '{:.0%}')} |"
        )
    t = summary["target"]
    target = (
        f"**Target** (ρ ≥ 0.8 on at least half the benchmarks; 80% coverage in 75–85%): ρ ≥ 0.8 on "
        f"{t['n_spearman_ok']}/{t['n_benchmarks']} benchmarks ({'met' if t['spearman_met'] else 'NOT met'}); "
        f"coverage in 75–85% on {t['n_coverage_ok']}/{t['n_evaluated']} evaluated "
        f"({'met' if t['coverage_met'] else 'NOT met'}). Benchmarks not evaluated count as failing ρ. A coverage "
        "measured on n models has a sampling error of about √(0.16/n): ±3 points at 150 models, ±5 at 64."
    )
    lines += ["", target]
    if "timings" in summary:
        tm = summary["timings"]
        timing = (
            f"**Timings** ({summary['machine']}, load average {tm['load_average']:.1f} at the start): fit on the "
            f"whole catalog, every benchmark: {tm['fit_all_seconds']:.1f} s wall, {tm['fit_all_cpu_seconds']:.1f} s "
            f"CPU; predict 2,000 rows, one benchmark: median {tm['predict_2000_ms_median']:.1f} ms wall "
            f"({tm['predict_2000_cpu_ms_median']:.1f} ms CPU), max {tm['predict_2000_ms_max']:.1f} ms; a "
            f"3-benchmark task: {tm['predict_task_reasoning_2000_ms']:.1f} ms wall."
        )
        lines += ["", timing]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="python -m evals.bench_prior", description=__doc__.split("\n")[0])
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--min-scores", type=int, default=30)
    parser.add_argument("--benchmarks", default=",".join(BENCHMARKS), help="comma-separated (default: all)")
    parser.add_argument("--no-timings", action="store_true", help="skip the whole-catalog fit timing")
    parser.add_argument("--no-write", action="store_true", help="print only; do not write evals/reports/")
    args = parser.parse_args(argv)

    catalog = Catalog.load()
    frame = catalog.frame
    results = []
    for b in args.benchmarks.split(","):
        t0 = time.perf_counter()
        results.append(evaluate_benchmark(frame, b, folds=args.folds, seed=args.seed, min_scores=args.min_scores))
        print(f"{b}: {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    evaluated = [r for r in results if "skipped" not in r]
    n_rho = sum(1 for r in evaluated if (r["full"]["spearman"] or 0) >= 0.8)
    n_cov = sum(1 for r in evaluated if 0.75 <= r["full"]["coverage80"] <= 0.85)
    summary = {
        "folds": args.folds,
        "seed": args.seed,
        "machine": f"{platform.machine()}, {platform.python_version()}, shared 2-core box",
        "target": {
            "n_benchmarks": len(results), "n_evaluated": len(evaluated),
            "n_spearman_ok": n_rho, "spearman_met": n_rho >= len(results) / 2,
            "n_coverage_ok": n_cov, "coverage_met": n_cov == len(evaluated),
        },
    }
    if not args.no_timings:
        summary["timings"] = timings(catalog, args.seed)
    report = render(results, summary)
    print(report)
    out = {"summary": summary, "benchmarks": results}
    if not args.no_write:
        REPORTS.mkdir(exist_ok=True)
        (REPORTS / "bench_prior.md").write_text(report)
        (REPORTS / "bench_prior.json").write_text(json.dumps(out, indent=2) + "\n")
    return out


if __name__ == "__main__":
    main()
