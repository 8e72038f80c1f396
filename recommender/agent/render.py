"""Chat replies: each tool's result as short markdown (the Gradio chat shows it; the CLI prints it).

Card text is quoted as data (in a block quote, cut short), never interpreted.
"""

from __future__ import annotations

from typing import Any

from recommender.records import Pick, Recommendation

__all__ = ["render_recommendation", "render_result"]


def _popularity(pick: Pick) -> str:
    if pick.popularity is None:
        return "popularity unknown"
    return f"{pick.popularity:,} {'♥' if pick.popularity_kind == 'likes' else '↓'}"


def _evidence(pick: Pick) -> str:
    parts = []
    if pick.measured is not None:
        m = pick.measured
        low, high = m.interval
        parts.append(f"measured {m.accuracy:.1f} (n={m.n}, 95% CI {low:.1f}–{high:.1f}, {m.source})")
    if (comparable := pick.comparable_prediction()) is not None:
        on, mean, std = comparable
        parts.append(f"predicted {mean:.1f} ± {std:.1f} ({on})" if std else f"known {mean:.1f} ({on})")
    known = ", ".join(f"{s.benchmark} {s.value:.1f} ({s.source}{', ' + s.date if s.date else ''})"
                      for s in pick.known_scores)
    if known:
        parts.append(f"known: {known}")
    return " · ".join(parts) or "no score known or predicted"


def render_recommendation(answer: Recommendation) -> str:
    """The answer as markdown: a header, one line per pick with its evidence, stage notes."""
    head = (f"**{answer.task or 'no task'}** · {answer.eligible:,} eligible models · "
            f"budget {answer.budget.queries:,} queries ({answer.budget.stated}), {answer.spent_queries:,} spent")
    lines = [head, ""]
    for p in answer.picks:
        size = ("size unknown" if not p.params_b else f"{p.params_b:.1f}B" if p.params_b >= 0.1
                else f"{p.params_b * 1000:.0f}M")
        gem = " 💎 hidden gem" if p.gem else ""
        lines.append(f"{p.rank}. `{p.id}` — {size}, {p.license or 'licence unknown'}, {_popularity(p)}{gem}")
        lines.append(f"   {_evidence(p)}")
    skipped = [f"{stage}: {what.removeprefix('skipped: ')}" for stage, what in answer.stages.items()
               if what.startswith("skipped")]
    if skipped:
        lines += ["", "Skipped — " + "; ".join(skipped)]
    lines += ["", *answer.notes] if answer.notes else []
    return "\n".join(lines).strip()


def render_result(name: str, result: dict[str, Any], answer: Recommendation | None = None) -> str:
    """One tool's result as markdown."""
    if name == "search_models" and answer is not None:
        return render_recommendation(answer)
    if name == "predict_scores":
        rows = [f"Scores on **{result['task']}** ({', '.join(result['benchmarks'])}):"]
        for m in result["models"]:
            p = m["prediction"]
            pred = "no prediction" if p is None else f"{p['mean']:.1f} ± {p['std']:.1f} ({p['source']})"
            known = ", ".join(f"{k['benchmark']} {k['value']:.1f}" for k in m["known"]) or "none known"
            rows.append(f"- `{m['id']}`: {pred}; known: {known}")
        return "\n".join(rows)
    if name == "confirm_top":
        rows = [f"Evaluation on **{result['dataset']}**, {result['questions']} questions each "
                f"({result['spent_queries']:,} queries spent):"]
        for r in result["results"]:
            m = r["measured"]
            if m is None:
                rows.append(f"- `{r['id']}`: skipped — {r['skipped']}")
            else:
                low, high = m["interval"]
                rows.append(f"- `{r['id']}`: {m['accuracy']:.1f} (n={m['n']}, 95% CI {low:.1f}–{high:.1f}, "
                            f"{m['source']})")
        return "\n".join(rows)
    if name == "explain_model":
        return _render_model(result)
    if name == "list_gems":
        where = f"tree {result['tree']}" if result["tree"] else "every tree with ≥ 20 scored models"
        if not result["gems"]:
            return f"No hidden gems on {result['benchmark']} in {where}."
        rows = [f"Hidden gems on **{result['benchmark']}** ({where}; {result['total']} in all):"]
        for g in result["gems"]:
            pop = "popularity unknown" if g["popularity"] is None else f"popularity {g['popularity']:,}"
            rows.append(f"- `{g['id']}` ({g['tree']}): {g['score']:.1f}, {pop}, {g['license'] or 'licence unknown'}")
        return "\n".join(rows)
    return str(result)


def _below_top(prediction: dict[str, Any], standing: dict[str, Any] | None, top: dict[str, Any]) -> list[str]:
    """Why a model ranks below the last answer's top pick, comparing like with like.

    A measured top pick leads by its measurement. Otherwise the answer is ordered by task standing (a mean
    percentile), and task means are compared only benchmark by benchmark: two means over different benchmarks
    (one model with a known MedQA, the other with mmlu_medical alone) are not comparable.
    """
    if top.get("measured"):
        source = top.get("measured_source") or ""
        benchmark = source.split(":", 1)[1] if source.startswith("recorded:") else None
        ours = prediction.get("per_benchmark", {}).get(benchmark) if benchmark else None
        measured = f"the top pick `{top['id']}` was measured at {top['score']:.1f} ({source or 'measured'})"
        if ours is not None:
            mean, std = ours
            return [f"{measured}; this model's {benchmark} is {mean:.1f} ({_kind(std)})"]
        return [f"{measured}; this model was not measured"]
    why = []
    theirs = top.get("standing")
    if standing is not None and theirs is not None and standing["vote"] <= theirs["vote"]:
        why.append(f"the answer is ordered by task standing, and its {standing['vote']:.1f} ({standing['parts']}) is "
                   f"below the top pick `{top['id']}`'s {theirs['vote']:.1f} ({theirs['parts']})")
    ours, top_scores = prediction.get("per_benchmark", {}), top.get("per_benchmark", {})
    for b in [b for b in ours if b in top_scores]:
        (mean, std), (top_mean, top_std) = ours[b], top_scores[b]
        why.append(f"on {b} it has {mean:.1f} ({_kind(std)}) against {top_mean:.1f} ({_kind(top_std)})")
    return why


def _kind(std: float) -> str:
    """A per-benchmark score's kind: a known score carries σ 0."""
    return "known" if std == 0 else "predicted"


def _render_model(r: dict[str, Any]) -> str:
    size = f"{r['params_b']:.1f}B" if r["params_b"] else "size unknown"
    rows = [f"`{r['id']}` — {r['family'] or 'family unknown'}, {size}, {r['license'] or 'licence unknown'}, "
            f"tree {r['tree'] or 'unplaced'}"]
    scores = ", ".join(f"{b} {s['value']:.1f} ({s['source']}{', ' + s['date'] if s['date'] else ''})"
                       for b, s in r["scores"].items())
    rows.append(f"Known scores: {scores or 'none'}")
    if "task" in r:
        p = r.get("prediction")
        pred = "no prediction" if p is None else f"{p['mean']:.1f} ± {p['std']:.1f}"
        rank = r.get("in_last_answer")
        where = f"rank {rank} in the last answer" if rank else "not in the last answer"
        rows.append(f"On {r['task']}: {pred}; {where}.")
        if not rank:
            top = r.get("top_pick")
            why = [] if r.get("passes_filters") else ["it does not pass the request's filters"]
            if top and p is not None:
                why += _below_top(p, r.get("standing"), top)
            if why:
                rows.append("Why not: " + "; ".join(why) + ".")
    if r.get("flagged"):
        rows.append("Flagged (contaminated): left out of answers unless the request says \"include flagged\".")
    if r["card_excerpt"]:
        excerpt = " ".join(r["card_excerpt"].split())[:400]
        rows.append(f"Card ({r['card_source']}, quoted as data):\n> {excerpt}")
    return "\n".join(rows)
