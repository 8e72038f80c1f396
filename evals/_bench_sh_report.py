"""Rendering the Sequential Halving replication: markdown tables (the paper's Table 2 layout) and the regret plot."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from evals.bench_sh import Replication, ReplicationRow

_BASELINES = ("random", "best_popular", "exhaustive")


def _cell(row: ReplicationRow) -> str:
    return f"{row.mean_rank:.1f} · {row.regret:.2f} · {row.p_top1pct:.2f}"


def tree_sizes_markdown(replication: Replication, min_tree: int) -> str:
    """One line per pool: its trees of ≥ `min_tree` models, then how many models no tree took."""
    lines = ["| pool | models | trees searched (≥ %d models) | other trees | unplaced | not in catalog |" % min_tree,
             "|---|---:|---|---:|---:|---:|"]
    for t in replication.trees:
        big = ", ".join(f"{name} {n:,}" for name, n in t.sizes.items() if n >= min_tree) or "—"
        small = sum(n for n in t.sizes.values() if n < min_tree)
        lines.append(f"| {t.benchmark} | {t.n_models:,} | {big} | {small:,} in "
                     f"{sum(n < min_tree for n in t.sizes.values())} trees | {t.unplaced:,} | {t.not_in_catalog:,} |")
    return "\n".join(lines)


def tables_markdown(rows: Sequence[ReplicationRow]) -> str:
    """Per (pool, tree, truth): rows = algorithm, columns = N; cell = mean rank · regret (points) · P(top 1%)."""
    groups: dict[tuple[str, str, str], list[ReplicationRow]] = {}
    for r in rows:
        groups.setdefault((r.benchmark, r.tree, r.truth), []).append(r)
    out = []
    for (bench, tree, truth), rs in groups.items():
        budgets = sorted({r.queries_per_model for r in rs if r.algorithm not in _BASELINES})
        algos = list(dict.fromkeys(r.algorithm for r in rs))
        first = rs[0]
        out.append(f"#### {bench} · {tree} (K = {first.n_models:,}, Q = {first.n_questions}) · {truth} truth\n")
        out.append("cell: mean rank · mean regret (points) · P(pick in top ⌈1% K⌉); "
                   "baselines do not depend on N (same value in every column)\n")
        out.append("| algorithm | reps | " + " | ".join(f"N = {n}" for n in budgets) + " | gem rate |")
        out.append("|---|---:|" + "---:|" * len(budgets) + "---:|")
        for algo in algos:
            mine = {r.queries_per_model: r for r in rs if r.algorithm == algo}
            if algo in _BASELINES:
                r = next(iter(mine.values()))
                cells = [_cell(r)] * len(budgets)
                reps, gems = str(r.reps), _gem(r.gem_rate)
            else:
                cells = [_cell(mine[n]) if n in mine else "—" for n in budgets]
                reps = "/".join(sorted({str(r.reps) for r in mine.values()}, key=int))
                gems = " / ".join(_gem(mine[n].gem_rate) for n in budgets if n in mine)
            out.append(f"| {algo} | {reps} | " + " | ".join(cells) + f" | {gems} |")
        out.append("")
    return "\n".join(out)


def _gem(rate: float | None) -> str:
    return "—" if rate is None else f"{rate:.2f}"


def gems_markdown(replication: Replication) -> str:
    """Per tree and truth: does a hidden gem exist, which, and the popular models it must beat."""
    lines = ["| pool | tree | truth | K | top ⌈1%⌉ | popular models | hidden gem? |", "|---|---|---|---:|---:|---|---|"]
    for g in replication.gems:
        if not g.popularity_known:
            verdict, popular = "unknown (no popularity)", "—"
        else:
            verdict = ("yes: " + ", ".join(g.gems[:3]) + (" …" if len(g.gems) > 3 else "")) if g.exists else "no"
            popular = ", ".join(g.popular[:3]) + (" …" if len(g.popular) > 3 else "")
        lines.append(f"| {g.benchmark} | {g.tree} | {g.truth} | {g.n_models:,} | {g.top} | {popular} | {verdict} |")
    return "\n".join(lines)


def _n5_verdict(check) -> str:
    """PASS / MISS, or TIE where SH at N=5 already has zero regret (nothing can be strictly better)."""
    if check.passed_n5:
        return "PASS"
    return "TIE (0 regret, unbeatable)" if check.sh_n5 == 0 and check.fast_n5 == 0 else "MISS"


def checks_markdown(replication: Replication) -> str:
    """The issue's target, one line per (tree ≥ 300 models, truth)."""
    lines = ["| pool | tree | truth | best fast @N=10 | SH @N=50 (+0.25) | N=10 target | best fast @N=5 | SH @N=5 | "
             "N=5 target |", "|---|---|---|---:|---:|---|---:|---:|---|"]
    for c in replication.checks:
        lines.append(f"| {c.benchmark} | {c.tree} | {c.truth} | {c.fast_n10:.2f} | {c.sh_n50:.2f} | "
                     f"{'PASS' if c.passed_n10 else 'MISS'} | {c.fast_n5:.2f} | {c.sh_n5:.2f} | "
                     f"{_n5_verdict(c)} |")
    if not replication.checks:
        lines.append("| — | no tree of ≥ 300 models with accelerated_sh / prior_sh and sequential_halving rows | | | | | | | |")
    return "\n".join(lines)


def full_markdown(replication: Replication) -> str:
    """The whole report (``evals/reports/bench_sh.md``)."""
    cfg = replication.config
    parts = [
        "# Sequential Halving replication (Hidden Gems, Table 2 layout)\n",
        f"Budgets N = {', '.join(map(str, cfg.budgets))} queries per model (B = N·K); {cfg.reps} repetitions per "
        f"cell (fewer where the `reps` column says so: a per-cell cap of {cfg.algo_time_s:g} CPU-seconds per "
        f"algorithm); {cfg.workers} worker processes; runtime {replication.runtime_s:.0f} s wall-clock "
        f"(1-minute load average {_load():.1f} when the report was written: the cores are shared).\n",
        "Data: metabench response matrices (CC BY-NC-SA 4.0, non-commercial; see index/data/responses/NOTICE). "
        "This report derives from them and carries the same licence.\n",
        "Prior: the catalog prior (`recommender.predict.CatalogPrior`, target benchmark excluded from its features, "
        "fitted on catalog models outside every searched tree) is passed to "
        f"{', '.join(_prior_algorithms())}; `accelerated_sh` accepts it and ignores it by design (random tie-breaks: "
        "prior tie-breaks lose arms the prior under-rates, e.g. TruthfulQA's contaminated runs), `prior_sh` uses it "
        "to pre-screen (the best half by upper bound μ + σ) and to pick its reference arms (the prior's favourites "
        "answer every question; the others answer the questions the references split on first, scored by "
        "post-stratified accuracy), `bayes_elim` for posterior means. Hyper-parameters of `accelerated_sh` and "
        "`prior_sh` are their defaults, fixed once for every pool and N, chosen on repetition seeds other than "
        "this report's.\n",
        "## Trees\n", tree_sizes_markdown(replication, cfg.min_tree), "",
        "## Target check (regret, points)\n", checks_markdown(replication), "",
        "## Hidden gems\n", gems_markdown(replication), "",
    ]
    if replication.notes:
        parts += ["## Notes\n", "\n".join(f"- {n}" for n in replication.notes), ""]
    parts += ["## Tables\n", tables_markdown(replication.rows)]
    return "\n".join(parts)


def _load() -> float:
    try:
        return os.getloadavg()[0]
    except OSError:  # pragma: no cover - not every platform has it
        return float("nan")


def _prior_algorithms() -> tuple[str, ...]:
    from evals.bench_sh import PRIOR_ALGORITHMS

    return PRIOR_ALGORITHMS


def plot_regret(replication: Replication, path: str | Path) -> Path:
    """Regret vs N per tree (rows) and truth (columns), one line per algorithm, exhaustive as a dashed line."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    trees = list(dict.fromkeys((r.benchmark, r.tree) for r in replication.rows))
    truths = list(dict.fromkeys(r.truth for r in replication.rows)) or ["subset"]
    fig, axes = plt.subplots(max(1, len(trees)), len(truths), figsize=(5.5 * len(truths), 3.2 * max(1, len(trees))),
                             squeeze=False)
    algos = list(dict.fromkeys(r.algorithm for r in replication.rows if r.algorithm not in _BASELINES))
    for i, (bench, tree) in enumerate(trees):
        for j, truth in enumerate(truths):
            ax = axes[i][j]
            rs = [r for r in replication.rows if (r.benchmark, r.tree, r.truth) == (bench, tree, truth)]
            for algo in algos:
                pts = sorted((r.queries_per_model, r.regret) for r in rs if r.algorithm == algo)
                if pts:
                    ax.plot(*zip(*pts), marker="o", ms=3, label=algo)
            for r in rs:
                if r.algorithm == "exhaustive":
                    ax.axhline(r.regret, color="black", ls="--", lw=1, label="exhaustive")
            ax.set_xscale("log")
            ax.set_title(f"{bench} · {tree} (K={rs[0].n_models if rs else 0}) · {truth}", fontsize=9)
            ax.set_xlabel("N (queries per model)", fontsize=8)
            ax.set_ylabel("regret (points)", fontsize=8)
            ax.tick_params(labelsize=7)
            ax.grid(alpha=0.3)
            if i == 0 and j == 0:
                ax.legend(fontsize=6, ncol=2)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
