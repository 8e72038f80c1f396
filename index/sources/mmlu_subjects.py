"""MMLU medical subjects from the sloth family tables (``data_v1.csv``, ``data_v2.csv``) → ``mmlu_medical``.

The tables name models without their organisation (``yi-1.5-34b``). A name is mapped to the one leaderboard (v1 or
v2) id with that name part, case-insensitively; a name that several organisations use stays unmapped.
"""

from __future__ import annotations

from pathlib import Path

from index.record import Score
from index.sources._base import SourceRecord, iso_date, points, read_csv
from index.sources._ids import IdIndex

FILES = ("leaderboards/sloth_openllm/data_v1.csv", "leaderboards/sloth_openllm/data_v2.csv")

#: sloth subject columns of DESIGN's ``mmlu_medical`` (accuracies 0–1).
MEDICAL_COLUMNS = tuple(
    f"hendrycksTest-{s}"
    for s in ("anatomy", "clinical_knowledge", "college_medicine", "medical_genetics", "professional_medicine")
)


def _from_row(row: dict, hub_id: str) -> SourceRecord | None:
    """The ``mmlu_medical`` record of one table row: the mean of the medical subjects it has."""
    values = [v for c in MEDICAL_COLUMNS if c in row and (v := points(row[c], scale=100.0)) is not None]
    if not values:
        return None
    score = Score(round(sum(values) / len(values), 2), "sloth_mmlu_subjects", iso_date(row.get("date")))
    return SourceRecord(id=hub_id, source="sloth_mmlu_subjects", scores={"mmlu_medical": score})


def load(raw_dir: Path, *, scored: IdIndex) -> list[SourceRecord]:
    """Read both sloth family tables (the first one wins for a model in both).

    Args:
        raw_dir: the raw-data folder.
        scored: ids of leaderboard (v1 / v2) models, searched by name part.

    Returns:
        Records carrying ``mmlu_medical`` for the unambiguously mapped models.

    Raises:
        RawDataNotFoundError: a file of `FILES` is missing.
    """
    records: dict[str, SourceRecord] = {}
    for relpath in FILES:
        for row in read_csv(raw_dir, relpath).to_dict("records"):
            hub_id = scored.by_name(str(row["Model"]).strip())
            if hub_id is None or hub_id.lower() in records:
                continue
            record = _from_row(row, hub_id)
            if record is not None:
                records[hub_id.lower()] = record
    return list(records.values())
