"""HuggingGPT (microsoft/JARVIS) p0 models: real Hub README bodies with downloads, likes and pipeline tags.

Only language-model pipeline tags are kept; the rest of the file is vision, audio and classification models.
"""

from __future__ import annotations

from pathlib import Path

from index.sources._base import SourceRecord, as_int, license_id, read_jsonl

FILES = ("catalog/hugginggpt_models/p0_models.jsonl",)
#: Hub pipeline tags of text-generating language models.
LLM_PIPELINE_TAGS = ("text-generation", "text2text-generation", "conversational")


def _from_entry(entry: dict) -> SourceRecord:
    """One model's record; the YAML ``meta`` of the card gives licence, tags and base model."""
    meta = entry.get("meta") if isinstance(entry.get("meta"), dict) else {}
    tags = meta.get("tags") or ()
    base = meta.get("base_model")
    return SourceRecord(
        id=str(entry["id"]).strip(),
        source="hugginggpt",
        license=license_id(meta.get("license")) if isinstance(meta.get("license"), str) else None,
        likes=as_int(entry.get("likes")),
        downloads=as_int(entry.get("downloads")),
        base_model=base if isinstance(base, str) else None,
        tags=tuple(str(t) for t in tags) if isinstance(tags, list) else (),
        pipeline_tag=entry.get("pipeline_tag"),
        card_text=entry.get("description") or None,
        card_source="hugginggpt",
    )


def load(raw_dir: Path) -> list[SourceRecord]:
    """Read the p0 model list.

    Args:
        raw_dir: the raw-data folder.

    Returns:
        One record per language model.

    Raises:
        RawDataNotFoundError: the file is missing.
    """
    entries = read_jsonl(raw_dir, FILES[0])
    return [_from_entry(e) for e in entries if e.get("pipeline_tag") in LLM_PIPELINE_TAGS]
