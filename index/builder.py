"""Build the catalog from the shipped raw inputs: one `ModelRecord` per Hugging Face id (case-insensitive).

Each module of `index.sources` turns one raw source into `SourceRecord`s in our names and units; this module
merges them by lower-cased id, decides per field which source wins, infers the family, inherits licences through
lineage, writes the card text, and keeps only records with a real signal (a score, popularity, a real description or
a price). The result is deterministic: records sorted by lower-cased id, ties broken by fixed source orders.

Example:
    >>> from index.builder import build_catalog
    >>> catalog = build_catalog(progress=False)  # writes index/data/catalog.parquet
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tqdm.auto import tqdm

from index import constants
from index.cards import clean_card, compose_card_text
from index.catalog import Catalog, write_catalog
from index.families import infer_family
from index.record import ModelRecord, Score
from index.sources import (
    docker_cards,
    evalplus,
    helm,
    hugginggpt,
    lineage,
    litellm,
    localai,
    mmlu_subjects,
    model_info_2023,
    obsscaling,
    open_llm_v1,
    open_llm_v2,
)
from index.sources._base import SourceRecord, name_declares_contamination, name_says_instruct, unpacked_params
from index.sources._ids import IdIndex

__all__ = ["build_catalog", "build_records"]

# Precedence ---------------------------------------------------------------------------------------------------

V1, V2, SCRAPE = "open_llm_leaderboard_v1", "open_llm_leaderboard_v2", "metabench_v1_scrape"
#: default order in which sources win a field: leaderboards (maintained metadata) first, then cards, then the rest.
_DEFAULT_ORDER = (
    V2, V1, SCRAPE, "docker_model_cards", "hugginggpt", "localai_gallery", "hf_model_info_2023", "evalplus",
    "obsscaling", "helm_lite", "helm_mmlu", "sloth_mmlu_subjects", "litellm", "model_atlas",
)
#: fields where another order is better, and why.
_FIELD_ORDER: dict[str, tuple[str, ...]] = {
    # v1's sizes are rounded to whole billions; v2 and the scrape give three decimals.
    "params_b": (V2, SCRAPE, V1, "evalplus", "obsscaling"),
    # the 2023 Hub dump has real repo creation dates; the leaderboards only submission dates.
    "created": ("hf_model_info_2023", V2, V1),
    # a person checked the Model Atlas annotations; card metadata comes next.
    "base_model": ("model_atlas", "hugginggpt", "localai_gallery"),
    # the curated cards are the most current; README bodies next; gallery blurbs last.
    "card_text": ("docker_model_cards", "hugginggpt", "localai_gallery"),
    "downloads": ("hugginggpt", "hf_model_info_2023"),
}
#: order in which sources win a benchmark (each source carries only its own benchmarks, except ObsScaling).
_SCORE_ORDER = (V1, V2, SCRAPE, "evalplus", "sloth_mmlu_subjects", "helm_mmlu", "helm_lite", "obsscaling")
_SCALAR_FIELDS = (
    "architecture", "params_b", "instruct", "license", "likes", "downloads", "created", "available", "flagged",
    "base_model", "pipeline_tag", "price_per_1m_tokens", "context_window",
)
#: real card texts are cut to this length so the composed metadata summary still fits in `cards.MAX_CARD_CHARS`.
_REAL_CARD_CHARS = 1600
#: a cleaned card shorter than this says nothing the composed one does not.
_MIN_CARD_CHARS = 40
#: how many lineage hops a licence or family is inherited across.
_MAX_HOPS = 5


# Loading ------------------------------------------------------------------------------------------------------


@dataclass
class _Loaded:
    """Source records loaded so far, with the id indexes later sources map names through."""

    records: list[SourceRecord]
    scored: IdIndex | None = None
    known: IdIndex | None = None


def _load_all(raw_dir: Path, progress: bool) -> list[SourceRecord]:
    """Run every source in dependency order (mapping sources need the ids of the direct ones)."""
    state = _Loaded(records=[])

    def direct(module) -> Callable[[], None]:
        return lambda: state.records.extend(module.load(raw_dir))

    def index_ids() -> None:
        board = [r.id for r in state.records if r.source in (V1, V2)]
        state.scored = IdIndex(board)
        state.known = IdIndex([*board, *(r.id for r in state.records), *litellm.hub_ids(raw_dir)])

    def gallery() -> None:
        found = localai.load(raw_dir, known=state.known)
        state.records.extend(found)
        state.known = IdIndex([*(r.id for r in state.records), *litellm.hub_ids(raw_dir)])

    steps: list[tuple[str, Callable[[], None]]] = [
        (name, direct(module))
        for name, module in (
            ("open_llm_v1", open_llm_v1), ("open_llm_v2", open_llm_v2), ("evalplus", evalplus),
            ("obsscaling", obsscaling), ("hugginggpt", hugginggpt), ("docker_cards", docker_cards),
            ("model_info_2023", model_info_2023),
        )
    ]
    steps += [
        ("id index", index_ids),
        ("localai", gallery),
        ("helm", lambda: state.records.extend(helm.load(raw_dir, scored=state.scored, known=state.known))),
        ("mmlu_subjects", lambda: state.records.extend(mmlu_subjects.load(raw_dir, scored=state.scored))),
        ("litellm", lambda: state.records.extend(litellm.load(raw_dir, known=state.known))),
        # Lineage last: its ids add no records, only base models of records other sources bring.
        ("lineage", direct(lineage)),
    ]
    bar = tqdm(steps, desc="catalog sources", unit="source", disable=not progress)
    for name, step in bar:
        bar.set_postfix_str(name)
        step()
    return state.records


# Merging one model --------------------------------------------------------------------------------------------


def _canonical_id(parts: list[SourceRecord]) -> str:
    """The most common spelling of an id across sources; ties go to the spelling with more capitals (Hub ids
    keep their owners' capitals, lossy sources lower-case them), then to the first in sort order."""
    counts = Counter(p.id for p in parts)
    return min(counts, key=lambda s: (-counts[s], -sum(c.isupper() for c in s), s))


def _ordered(parts: list[SourceRecord], field: str) -> list[SourceRecord]:
    """`parts` in the order in which their sources win `field`."""
    order = _FIELD_ORDER.get(field, _DEFAULT_ORDER)
    rank = {s: i for i, s in enumerate(order)}
    return sorted(parts, key=lambda p: rank.get(p.source, len(order)))


def _first(parts: list[SourceRecord], field: str):
    """The winning non-missing value of `field`, or `None`."""
    return next((v for p in _ordered(parts, field) if (v := getattr(p, field)) not in (None, "")), None)


def _scores(parts: list[SourceRecord]) -> dict[str, Score]:
    """One score per benchmark, by `_SCORE_ORDER`; ObsScaling's v1 benchmarks only for models v1 lacks."""
    has_v1 = any(p.source in (V1, SCRAPE) for p in parts)
    rank = {s: i for i, s in enumerate(_SCORE_ORDER)}
    out: dict[str, Score] = {}
    for part in sorted(parts, key=lambda p: rank.get(p.source, len(rank))):
        for bench, score in part.scores.items():
            if part.source == "obsscaling" and has_v1 and bench in obsscaling.V1_BENCHMARKS:
                continue
            out.setdefault(bench, score)
    return out


def _real_card(text: str) -> str:
    """The cleaned real card, or "" when cleaning leaves nothing a composed card would not say."""
    real = clean_card(text, max_chars=_REAL_CARD_CHARS)
    return real if len(real) >= _MIN_CARD_CHARS else ""


def _merge(parts: list[SourceRecord]) -> dict:
    """The merged fields of one model (before lineage, family and card)."""
    fields = {name: _first(parts, name) for name in _SCALAR_FIELDS}
    model_id = _canonical_id(parts)
    merged_votes = [p.merged for p in _ordered(parts, "merged") if p.merged is not None]
    # Any source that knows of a merge wins: the others merely did not record it.
    fields["merged"] = True if True in merged_votes else (merged_votes[0] if merged_votes else None)
    fields["params_b"] = unpacked_params(fields["params_b"], model_id)
    if name_declares_contamination(model_id):
        fields["flagged"] = True
    if fields["instruct"] is None and name_says_instruct(model_id):
        fields["instruct"] = True
    card = next((p for p in _ordered(parts, "card_text") if p.card_text), None)
    fields.update(
        id=model_id,
        tags=tuple(dict.fromkeys(t for p in _ordered(parts, "tags") for t in p.tags)),
        scores=_scores(parts),
        sources=tuple(sorted({p.source for p in parts})),
        real_card=_real_card(card.card_text) if card else "",
        card_source=card.card_source if card else "composed",
    )
    if fields["base_model"] and fields["base_model"].lower() == model_id.lower():
        fields["base_model"] = None
    return fields


def _has_signal(fields: dict) -> bool:
    """A record needs one real fact beyond its id: a score, popularity, a description or a price."""
    return bool(
        fields["scores"] or fields["likes"] is not None or fields["downloads"] is not None
        or fields["real_card"] or fields["price_per_1m_tokens"] is not None
    )


# Lineage, family, card ----------------------------------------------------------------------------------------


def _resolve_lineage(models: dict[str, dict]) -> None:
    """Point base models at catalog ids, inherit licences from bases, and fill families from lineage (in place)."""
    for fields in models.values():
        base = models.get((fields["base_model"] or "").lower())
        if base is not None:
            fields["base_model"] = base["id"]
        fields["license_source"] = "card" if fields["license"] else None
        fields["family"] = infer_family(
            fields["id"], architecture=fields["architecture"], base_model=fields["base_model"],
            params_b=fields["params_b"],
        )
    for _ in range(_MAX_HOPS):
        changed = False
        for key in sorted(models):
            fields = models[key]
            base = models.get((fields["base_model"] or "").lower())
            if base is None:
                continue
            if fields["license"] is None and base["license"] is not None:
                fields["license"], fields["license_source"] = base["license"], f"inherited from {base['id']}"
                changed = True
            if fields["family"] is None and base["family"] is not None:
                fields["family"] = base["family"]
                changed = True
        if not changed:
            break


def _card(fields: dict) -> tuple[str, str]:
    """(card text, card source): the cleaned real card followed by the composed summary, or the summary alone."""
    composed = compose_card_text(
        fields["id"], family=fields["family"], architecture=fields["architecture"], params_b=fields["params_b"],
        instruct=fields["instruct"], base_model=fields["base_model"], merged=fields["merged"],
        license=fields["license"], pipeline_tag=fields["pipeline_tag"], tags=fields["tags"],
        context_window=fields["context_window"],
    )
    if not fields["real_card"]:
        return composed, "composed"
    return f"{fields['real_card']}\n\n{composed}", fields["card_source"]


def _to_record(fields: dict) -> ModelRecord:
    """The final record of one model."""
    card_text, card_source = _card(fields)
    author = fields["id"].split("/", 1)[0] if "/" in fields["id"] else None
    names = ("architecture", "params_b", "instruct", "license", "license_source", "likes", "downloads", "created",
             "available", "flagged", "merged", "base_model", "family", "tags", "pipeline_tag",
             "price_per_1m_tokens", "context_window", "scores", "sources")
    return ModelRecord(
        id=fields["id"], author=author, card_text=card_text, card_source=card_source,
        **{name: fields[name] for name in names},
    )


# Public API ---------------------------------------------------------------------------------------------------


def build_records(raw_dir: Path = constants.RAW_DIR, *, progress: bool = True) -> list[ModelRecord]:
    """Build every catalog record from the raw inputs.

    Args:
        raw_dir: folder of shipped raw inputs (default ``index/data/raw``).
        progress: show a progress bar over the sources on stderr.

    Returns:
        Records sorted by lower-cased id, one per model, each with at least one real signal.

    Raises:
        RawDataNotFoundError: a raw input is missing from `raw_dir`.

    Example:
        >>> records = build_records(progress=False)
        >>> len(records) > 10_000
        True
    """
    parts: dict[str, list[SourceRecord]] = defaultdict(list)
    for record in _load_all(Path(raw_dir), progress):
        parts[record.key].append(record)
    models = {key: fields for key, group in parts.items() if _has_signal(fields := _merge(group))}
    _resolve_lineage(models)
    return [_to_record(models[key]) for key in sorted(models)]


def build_catalog(
    raw_dir: Path = constants.RAW_DIR,
    out: Path | None = constants.DATA_DIR / constants.CATALOG_FILENAME,
    *,
    progress: bool = True,
) -> Catalog:
    """Build the catalog and write it to parquet.

    Args:
        raw_dir: folder of shipped raw inputs (default ``index/data/raw``).
        out: where to write the parquet file (default ``<DATA_DIR>/catalog.parquet``); `None` writes nothing.
        progress: show a progress bar over the sources on stderr.

    Returns:
        The built `Catalog`.

    Raises:
        RawDataNotFoundError: a raw input is missing from `raw_dir`.
    """
    catalog = Catalog.from_records(build_records(raw_dir, progress=progress))
    if out is not None:
        write_catalog(catalog, out)
    return catalog
