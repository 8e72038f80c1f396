"""Open LLM Leaderboard v2: scores from every_eval_ever, metadata from the sloth v2 snapshot.

every_eval_ever holds the raw accuracies (0–1) of every run, one row per precision; they become points × 100. The
leaderboard's *normalised* scores (rescaled above the random baseline) are never used. The sloth table adds likes,
licence, type and dates for 729 of the models; its scores are the normalised ones, so only its metadata is read.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from index.record import Score
from index.sources._base import (
    SourceRecord,
    architecture_or_none,
    as_bool,
    as_int,
    instruct_from_type,
    iso_date,
    kind_from_type,
    license_id,
    name_says_instruct,
    params_or_none,
    points,
    rank_runs,
    read_csv,
)

SCORES_FILE = "leaderboards/every_eval_ever/hfopenllm_v2.csv"
META_FILE = "leaderboards/sloth_openllm/open-llm-leaderboard_new.csv"
FILES = (SCORES_FILE, META_FILE)

#: every_eval_ever column → benchmark (raw accuracies 0–1).
_SCORES = {
    "IFEval": "ifeval", "BBH": "bbh", "MATH Level 5": "math_lvl5", "GPQA": "gpqa", "MUSR": "musr", "MMLU-PRO": "mmlu_pro",
}


def _metadata(meta: pd.DataFrame) -> dict[str, dict[str, Any]]:
    """Lower-cased id → the sloth v2 facts (one row per model there), in our names."""
    out: dict[str, dict[str, Any]] = {}
    for row in meta.to_dict("records"):
        kind = kind_from_type(row["Type"])
        out[str(row["Model"]).strip().lower()] = {
            "kind": kind,
            "license": license_id(row["Hub License"]),
            "likes": as_int(row["Hub ❤️"]),
            "available": as_bool(row["Available on the hub"]),
            # "Not_Merged" is the v2 spelling; the type says "merges" as well.
            "merged": True if kind == "merge" or as_bool(row["Not_Merged"]) is False else False,
            "submitted": iso_date(row["Submission Date"]),
            "uploaded": iso_date(row["Upload To Hub Date"]),
            "precision": str(row["Precision"]),
        }
    return out


def _from_row(row: dict, meta: dict[str, Any] | None) -> SourceRecord:
    """One model's record from its picked every_eval_ever run and its sloth metadata (if any)."""
    model_id = str(row["model_id"]).strip()
    meta = meta or {}
    # The run's own date is the sloth submission date when that run is the one sloth lists; else the snapshot's.
    same_run = meta.get("precision") == str(row["meta_precision"])
    date = (meta.get("submitted") if same_run else None) or iso_date(row["retrieved_timestamp"])
    scores = {
        bench: Score(value, "open_llm_leaderboard_v2", date)
        for col, bench in _SCORES.items()
        if (value := points(row[col], scale=100.0)) is not None
    }
    kind = meta.get("kind")
    return SourceRecord(
        id=model_id,
        source="open_llm_leaderboard_v2",
        architecture=architecture_or_none(row["meta_architecture"]),
        params_b=params_or_none(row["meta_params_billions"]),
        instruct=instruct_from_type(kind, model_id) if meta else (True if name_says_instruct(model_id) else None),
        license=meta.get("license"),
        likes=meta.get("likes"),
        created=meta.get("uploaded") or meta.get("submitted"),
        available=meta.get("available"),
        merged=meta.get("merged"),
        scores=scores,
    )


def load(raw_dir: Path) -> list[SourceRecord]:
    """Read the v2 leaderboard.

    Args:
        raw_dir: the raw-data folder.

    Returns:
        One record per model (case-insensitive), the full-precision run's raw scores × 100.

    Raises:
        RawDataNotFoundError: a file of `FILES` is missing.
    """
    runs = read_csv(raw_dir, SCORES_FILE)
    meta = _metadata(read_csv(raw_dir, META_FILE))
    ranked = rank_runs(runs, key=runs["model_id"].str.strip().str.lower(), precision="meta_precision", date=None)
    return [_from_row(row, meta.get(row["_key"])) for row in ranked.drop_duplicates("_key").to_dict("records")]
