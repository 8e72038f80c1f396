"""HELM lite (MedQA) and HELM MMLU (medical subjects), from every_eval_ever.

HELM names models ``<org>/<name>`` in lower case with its own organisation names (``meta/llama-3-8b``), mostly
hosted APIs. A HELM name is mapped to a Hub id only when exactly one known id fits it, first among the leaderboard
models, then among all known Hub ids; hosted variants (``-turbo``, API snapshots) do not map, because they are not
the Hub weights.
"""

from __future__ import annotations

from pathlib import Path

from index.record import Score
from index.sources._base import SourceRecord, iso_date, points, read_csv
from index.sources._ids import IdIndex

LITE_FILE = "leaderboards/every_eval_ever/helm_lite.csv"
MMLU_FILE = "leaderboards/every_eval_ever/helm_mmlu.csv"
FILES = (LITE_FILE, MMLU_FILE)

#: HELM organisation → Hub organisation, where they differ (case aside).
_ORGS = {"meta": "meta-llama"}
#: The five MMLU medical subjects (DESIGN "mmlu_medical"); HELM's table carries three of them.
MEDICAL_SUBJECTS = ("Anatomy", "Clinical Knowledge", "College Medicine", "Medical Genetics", "Professional Medicine")


def _candidates(helm_id: str) -> list[str]:
    """Hub spellings a HELM id may have: as is, Meta's ``Meta-`` prefix, the ``-hf`` and ``-v0.1`` suffixes."""
    org, _, name = helm_id.partition("/")
    org = _ORGS.get(org, org)
    return [f"{org}/{name}", f"{org}/meta-{name}", f"{org}/{name}-hf", f"{org}/{name}-v0.1"]


def map_helm_id(helm_id: str, scored: IdIndex, known: IdIndex) -> str | None:
    """The Hub id of a HELM model, or `None` when it cannot be told reliably.

    Args:
        helm_id: HELM's id (``"qwen/qwen1.5-72b"``).
        scored: ids of leaderboard models (preferred: they are the runs people compare).
        known: every Hub id the shipped data knows.

    Returns:
        The Hub id (``"Qwen/Qwen1.5-72B"``) or `None`.
    """
    if "turbo" in helm_id or "@" in helm_id:
        return None
    candidates = _candidates(helm_id)
    return scored.unique(candidates) or known.unique(candidates[:1]) or known.unique(candidates[1:])


def load(raw_dir: Path, *, scored: IdIndex, known: IdIndex) -> list[SourceRecord]:
    """Read HELM lite MedQA and HELM MMLU medical subjects for the models that map to Hub ids.

    Args:
        raw_dir: the raw-data folder.
        scored: ids of leaderboard models.
        known: every Hub id the shipped data knows.

    Returns:
        Records carrying ``medqa`` (source ``helm_lite``) or ``mmlu_medical`` (source ``helm_mmlu``).

    Raises:
        RawDataNotFoundError: a file of `FILES` is missing.
    """
    records: list[SourceRecord] = []
    lite = read_csv(raw_dir, LITE_FILE)
    for row in lite.to_dict("records"):
        hub_id = map_helm_id(str(row["model_id"]), scored, known)
        value = points(row["MedQA"], scale=100.0)
        if hub_id and value is not None:
            score = Score(value, "helm_lite", iso_date(row["retrieved_timestamp"]))
            records.append(SourceRecord(id=hub_id, source="helm_lite", scores={"medqa": score}))
    mmlu = read_csv(raw_dir, MMLU_FILE)
    subjects = [s for s in MEDICAL_SUBJECTS if s in mmlu.columns]
    for row in mmlu.to_dict("records"):
        hub_id = map_helm_id(str(row["model_id"]), scored, known)
        values = [v for s in subjects if (v := points(row[s], scale=100.0)) is not None]
        if hub_id and values:
            score = Score(round(sum(values) / len(values), 2), "helm_mmlu", iso_date(row["retrieved_timestamp"]))
            records.append(SourceRecord(id=hub_id, source="helm_mmlu", scores={"mmlu_medical": score}))
    return records
