"""Model Atlas lineage (Horwitz et al.): child → base-model edges and hand-annotated relations.

Lineage alone is no signal, so these records only add ``base_model`` (and ``merged`` for annotated merges) to
models that other sources bring into the catalog.
"""

from __future__ import annotations

from pathlib import Path

from index.sources._base import SourceRecord, is_hf_id, missing, read_csv

EDGES_FILE = "catalog/model_atlas_lineage/09_01_25_model_cards_extracted_parent_model_clean.csv"
ANNOTATED_FILE = "catalog/model_atlas_lineage/manually_annotated_v6.csv"
FILES = (EDGES_FILE, ANNOTATED_FILE)


def _parents(value: object) -> list[str]:
    """The Hub ids of a ``base_model`` cell (merges list several, comma-separated)."""
    if missing(value):
        return []
    return [p.strip() for p in str(value).split(",") if is_hf_id(p.strip())]


def load(raw_dir: Path) -> list[SourceRecord]:
    """Read both lineage tables.

    Args:
        raw_dir: the raw-data folder.

    Returns:
        Records with ``base_model`` (the first parent) and, for annotated merges, ``merged=True``; annotated rows
        first, since a person checked them.

    Raises:
        RawDataNotFoundError: a file of `FILES` is missing.
    """
    records: list[SourceRecord] = []
    annotated = read_csv(raw_dir, ANNOTATED_FILE)
    for child, base, relation in zip(annotated["current_model"], annotated["base_model"], annotated["base_model_relation"]):
        parents = _parents(base)
        if is_hf_id(str(child)) and parents:
            merged = True if relation == "merge" or len(parents) > 1 else None
            records.append(SourceRecord(id=str(child), source="model_atlas", base_model=parents[0], merged=merged))
    edges = read_csv(raw_dir, EDGES_FILE)
    for child, base in zip(edges["id"], edges["base_model"]):
        parents = _parents(base)
        if is_hf_id(str(child)) and parents and parents[0].lower() != str(child).lower():
            records.append(SourceRecord(id=str(child), source="model_atlas", base_model=parents[0]))
    return records
