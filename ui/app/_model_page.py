"""The model page: what the catalog knows of one model, as Markdown (no gradio here).

Card text is shown as plain text in a read-only box, never rendered as Markdown or HTML: it is data written by
strangers, and rendering it would let a card load images from anywhere (an outbound call) or style the page.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from index.vocabulary import BENCHMARKS

if TYPE_CHECKING:
    from index.record import ModelRecord
    from ui.app._service import AppService

__all__ = ["ModelPage", "model_page"]

#: characters of card text shown (the longest real cards run to ~100 kB).
CARD_CHARS = 8_000
#: how many base-model hops the lineage follows.
LINEAGE_HOPS = 5


@dataclass(frozen=True)
class ModelPage:
    """One model's page.

    Attributes:
        found (`bool`): the id is in the catalog.
        summary (`str`): Markdown: facts, lineage, scores with source and date, tree standing, evaluations run.
        card_text (`str`): the card as plain text (cut to `CARD_CHARS`), empty when not found.
    """

    found: bool
    summary: str
    card_text: str = ""


def model_page(service: AppService, model_id: str | None) -> ModelPage:
    """The page of `model_id` (case-insensitive), or a sentence saying it is unknown.

    Args:
        service: the app back end (catalog, gem index, evaluation cache).
        model_id: a Hugging Face id as typed or clicked.

    Returns:
        A `ModelPage`; never raises for an unknown or malformed id.
    """
    text = (model_id or "").strip()
    if not text:
        return ModelPage(False, "Type a model id (org/name), or click a row in the chat's or the Gems tab's table.")
    catalog = service.catalog
    if len(text) > 200 or text not in catalog:
        shown = text if len(text) <= 80 else text[:80] + "…"
        return ModelPage(False, f"Model `{_code(shown)}` is not in the catalog ({len(catalog):,} records). "
                                "Check the spelling (org/name, case does not matter).")
    record = catalog.get(text)
    sections = [_facts(record), _lineage(service, record), _scores(service, record), _evaluations(service, record)]
    card = record.card_text[:CARD_CHARS] + ("\n…(cut)" if len(record.card_text) > CARD_CHARS else "")
    return ModelPage(True, "\n\n".join(s for s in sections if s), card)


def _code(text: str) -> str:
    return text.replace("`", "'")


def _facts(r: ModelRecord) -> str:
    def known(value, fmt="{}"):
        return "—" if value is None else fmt.format(value)

    licence = "—" if r.license is None else f"{r.license} ({r.license_source})"
    rows = [
        ("family", known(r.family)), ("architecture", known(r.architecture)),
        ("parameters", known(r.params_b, "{:.2f} B")), ("licence", licence),
        ("instruct", {True: "instruction-tuned", False: "base model", None: "—"}[r.instruct]),
        ("likes", known(r.likes, "{:,}")), ("downloads", known(r.downloads, "{:,}")),
        ("created", known(r.created)), ("still available", {True: "yes", False: "no", None: "—"}[r.available]),
        ("merge", {True: "yes", False: "no", None: "—"}[r.merged]),
        ("price per 1M tokens", known(r.price_per_1m_tokens, "${:.2f}")),
        ("context window", known(r.context_window, "{:,} tokens")),
        ("card from", r.card_source), ("sources", ", ".join(r.sources) or "—"),
    ]
    table = "\n".join(f"| {k} | {v} |" for k, v in rows)
    return f"## {r.id}\n\n| fact | value |\n|---|---|\n{table}"


def _lineage(service: AppService, r: ModelRecord) -> str:
    catalog = service.catalog
    chain, seen, current = [], {r.key}, r
    for _ in range(LINEAGE_HOPS):
        base = current.base_model
        if not base or base.lower() in seen:
            break
        seen.add(base.lower())
        if base in catalog:
            current = catalog.get(base)
            chain.append(f"`{current.id}`")
        else:
            chain.append(f"`{base}` (not in the catalog)")
            break
    children = service.children(r.id)
    tree = service.gem_index.tree_of(r.id)
    placed = f"- model tree: **{tree}**" if tree else "- model tree: not placed (family or size unknown)"
    lines = ["### Lineage", placed]
    lines.append("- base model: " + (" → ".join(chain) if chain else "none known (a base model, or lineage unknown)"))
    if children:
        shown = ", ".join(f"`{c}`" for c in children[:10])
        more = f" and {len(children) - 10:,} more" if len(children) > 10 else ""
        lines.append(f"- fine-tunes / merges in the catalog that name it as base: {len(children):,} ({shown}{more})")
    return "\n".join(lines)


def _scores(service: AppService, r: ModelRecord) -> str:
    if not r.scores:
        return "### Scores\n\nNo benchmark score is known for this model."
    tree = service.gem_index.tree_of(r.id)
    lines = ["### Scores (points, 0–100)", "", "| benchmark | score | source | date | in its tree |",
             "|---|---:|---|---|---|"]
    for b in BENCHMARKS:
        s = r.scores.get(b)
        if s is None:
            continue
        lines.append(f"| {b} | {s.value:.1f} | {s.source} | {s.date or '—'} | {_standing(service, tree, b, r.id)} |")
    return "\n".join(lines)


def _standing(service: AppService, tree: str | None, benchmark: str, model_id: str) -> str:
    if tree is None:
        return "—"
    try:
        t = service.gem_index.tree(tree, benchmark=benchmark)
    except KeyError:
        return "—"
    row = t.models[t.models["id"].str.lower() == model_id.lower()]
    if row.empty:
        return "—"
    rank = int(row["rank"].iloc[0])
    flag = " · ★ hidden gem" if bool(row["gem"].iloc[0]) else (" · popular" if bool(row["popular"].iloc[0]) else "")
    return f"rank {rank:,} of {t.n_models:,}{flag}"


def _evaluations(service: AppService, r: ModelRecord) -> str:
    runs = service.evaluations(r.id)
    if not runs:
        return "### Evaluations run here\n\nNone yet: this model has not been evaluated live on this machine."
    lines = ["### Evaluations run here (live result cache)", "",
             "| dataset | strategy @ N | questions | accuracy | tokens | last written (UTC) |",
             "|---|---|---:|---:|---:|---|"]
    for run in runs:
        lines.append(f"| {run['dataset']} | {run['strategy']} | {run['n']:,} | {run['accuracy']:.1f} | "
                     f"{run['tokens']:,} | {run['when']} |")
    return "\n".join(lines)
