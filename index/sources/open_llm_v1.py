"""Open LLM Leaderboard v1 (sloth snapshot), cross-checked with the metabench scrape.

The sloth table has one row per (model, precision) run with scores already in points. Its ``Flagged`` column is
true on almost every row and its ``Merged`` column on most, so neither is trusted: merges come from ``Type``
("merges and moerges") and the flag from the metabench scrape, which recorded the leaderboard's own flags.
Models the sloth table lacks but the scrape has are kept with the scrape's scores (source ``metabench_v1_scrape``).
A GSM8K run that failed (under 1 point beside an MMLU of 50 or more) is dropped, so the model's GSM8K is predicted.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, NamedTuple

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
    first_valid,
    license_id,
    params_or_none,
    refine_rounded_params,
    points,
    rank_runs,
    read_csv,
)

SLOTH_FILE = "leaderboards/sloth_openllm/open-llm-leaderboard_old.csv"
SCRAPE_FILE = "leaderboards/open-llm-leaderboard_v1_scraped.csv"
FILES = (SLOTH_FILE, SCRAPE_FILE)

#: sloth column → benchmark (scores are already points).
_SLOTH_SCORES = {
    "ARC": "arc", "HellaSwag": "hellaswag", "MMLU": "mmlu", "TruthfulQA": "truthfulqa",
    "Winogrande": "winogrande", "GSM8K": "gsm8k",
}
_SCRAPE_SCORES = {b: b for b in _SLOTH_SCORES.values()}


class _ScrapeFacts(NamedTuple):
    """What the metabench scrape recorded of one model."""

    flagged: bool | None
    merged: bool | None
    size_b: float | None


def _scrape_facts(scrape: pd.DataFrame) -> dict[str, _ScrapeFacts]:
    """Lower-cased id → the scrape's flag, merge mark and size in billions."""
    return {
        str(name).lower(): _ScrapeFacts(as_bool(flagged), as_bool(merged), params_or_none(size))
        for name, flagged, merged, size in zip(scrape["name"], scrape["flagged"], scrape["merged"], scrape["size"])
    }


#: a GSM8K score under this many points beside an MMLU of at least `_CAPABLE_MMLU` is a failed run, not a result.
_FAILED_GSM8K = 1.0
_CAPABLE_MMLU = 50.0


def _without_failed_runs(scores: dict[str, Score]) -> dict[str, Score]:
    """`scores` without a GSM8K run that failed. v1's 5-shot GSM8K scores 0 when a model's answers never stop or
    never match the harness's format (Yi-1.5-34B-32K: 0.00 beside MMLU 78.2); among models with MMLU ≥ 50 the
    scores spike at 0–1 and then thin out (119 under 0.5, 20 in 0.5–1, 39 in 1–2). Kept, such a 0 ranks the model
    last for math and teaches the prior that capable models fail GSM8K; dropped, the model is predicted."""
    gsm8k, mmlu = scores.get("gsm8k"), scores.get("mmlu")
    if gsm8k is not None and mmlu is not None and gsm8k.value < _FAILED_GSM8K and mmlu.value >= _CAPABLE_MMLU:
        return {b: s for b, s in scores.items() if b != "gsm8k"}
    return scores


def _params(v1_params: float | None, scrape_size: float | None, model_id: str) -> float | None:
    """v1 floors sizes to whole billions (phi-2's 2.78 B reads 2, which an "under 2B" filter would pass): the
    scrape's two-decimal size where it floors to the same number, else v1's, refined by the name."""
    if v1_params is not None and scrape_size is not None and math.floor(scrape_size) == v1_params:
        return scrape_size
    return refine_rounded_params(v1_params, model_id)


def _from_sloth(row: dict, facts: dict[str, Any], scrape: _ScrapeFacts | None) -> SourceRecord:
    """One model's record from its picked run `row`; `facts` fill what that run leaves blank (type, licence)."""
    model_id = str(row["Model"]).strip()
    kind = kind_from_type(facts["type"])
    date = iso_date(row["date"])
    scores = _without_failed_runs({
        bench: Score(value, "open_llm_leaderboard_v1", date)
        for col, bench in _SLOTH_SCORES.items()
        if (value := points(row[col])) is not None
    })
    flagged = scrape.flagged if scrape else None
    if flagged is None and as_bool(row["Flagged"]) is False:
        flagged = False  # the column is unreliable only in the True direction (set on 7,060 of 7,169 rows)
    merged = True if kind == "merge" or (scrape and scrape.merged) else None if kind is None else False
    return SourceRecord(
        id=model_id,
        source="open_llm_leaderboard_v1",
        architecture=architecture_or_none(row["Architecture"]),
        params_b=_params(params_or_none(row["#Params (B)"]), scrape.size_b if scrape else None, model_id),
        instruct=instruct_from_type(kind, model_id),
        license=license_id(facts["license"]),
        likes=as_int(row["Hub ❤️"]),
        created=facts["created"],
        available=as_bool(row["Available on the hub"]),
        flagged=flagged,
        merged=merged,
        scores=scores,
    )


def _from_scrape(row: dict) -> SourceRecord:
    """A model only the metabench scrape has: its scores (no dates in the scrape) and size."""
    scores = _without_failed_runs({
        bench: Score(value, "metabench_v1_scrape")
        for col, bench in _SCRAPE_SCORES.items()
        if (value := points(row[col])) is not None
    })
    return SourceRecord(
        id=str(row["name"]).strip(),
        source="metabench_v1_scrape",
        architecture=architecture_or_none(row["arch"]),
        params_b=params_or_none(row["size"]),
        flagged=as_bool(row["flagged"]),
        scores=scores,
    )


def load(raw_dir: Path) -> list[SourceRecord]:
    """Read the v1 leaderboard and the metabench scrape.

    Args:
        raw_dir: the raw-data folder.

    Returns:
        One record per model (case-insensitive), sloth models first, then scrape-only models with scores.

    Raises:
        RawDataNotFoundError: a file of `FILES` is missing.
    """
    sloth = read_csv(raw_dir, SLOTH_FILE)
    scrape = read_csv(raw_dir, SCRAPE_FILE)
    scraped = _scrape_facts(scrape)
    ranked = rank_runs(sloth, key=sloth["Model"].str.strip().str.lower(), precision="Precision", date="date")
    types, licenses = first_valid(ranked, "Type"), first_valid(ranked, "Hub License")
    # "created" is the first submission: the earliest run date of the model.
    created = ranked.assign(_d=ranked["date"].map(iso_date)).dropna(subset=["_d"]).groupby("_key")["_d"].min()
    records = []
    for row in ranked.drop_duplicates("_key").to_dict("records"):
        key = row["_key"]
        facts = {"type": types.get(key), "license": licenses.get(key), "created": created.get(key)}
        records.append(_from_sloth(row, facts, scraped.get(key)))
    known = {r.key for r in records}
    extra = scrape[~scrape["name"].str.strip().str.lower().isin(known)]
    extra = rank_runs(extra, key=extra["name"].str.strip().str.lower(), precision="precision", date=None)
    for row in extra.drop_duplicates("_key").to_dict("records"):
        record = _from_scrape(row)
        if record.scores:
            records.append(record)
    return records
