"""LocalAI model gallery: curated descriptions, licences and tags of current open LLMs.

Only ``llm``-tagged entries are read. An entry lists one or more Hub repos, often the original model and a GGUF
conversion of it; each repo becomes its own record with the entry's description, and a GGUF repo gets the original
as its base model where the entry (or a unique known id of the same name) makes that evident.
"""

from __future__ import annotations

import re
from pathlib import Path

from index.sources._base import SourceRecord, is_hf_id, license_id, read_jsonl
from index.sources._ids import IdIndex

FILES = ("catalog/localai_gallery/models.jsonl",)

_GGUF = re.compile(r"gguf", re.IGNORECASE)
# "-GGUF", "-Q4_K_M-GGUF", "-i1-GGUF", ".gguf": what conversions append to the original repo name.
_GGUF_SUFFIX = re.compile(r"([-_.](i1|imatrix|q\d\w*|iq\d\w*|f16|bf16))*[-_.]gguf$", re.IGNORECASE)
#: gallery tags that mark an instruction / chat model.
_INSTRUCT_TAGS = frozenset({"instruction-tuned", "chat", "instruct"})


def _base_of(repo: str, originals: list[str], known: IdIndex) -> str | None:
    """The original model a GGUF repo converts, or `None` when not evident."""
    if not _GGUF.search(repo):
        return None
    name = _GGUF_SUFFIX.sub("", repo.rsplit("/", 1)[-1])
    same_name = [o for o in originals if o.rsplit("/", 1)[-1].lower() == name.lower()]
    if len(originals) == 1 or len(same_name) == 1:
        return (same_name or originals)[0]
    return known.by_name(name) if name.lower() != repo.rsplit("/", 1)[-1].lower() else None


def _from_entry(entry: dict, repo: str, known: IdIndex) -> SourceRecord:
    """The record of one repo of one gallery entry."""
    repos = [r for r in entry["hf_repo_ids"] if is_hf_id(r)]
    originals = [r for r in repos if not _GGUF.search(r)]
    tags = tuple(t for t in entry.get("tags") or () if t != "llm")
    return SourceRecord(
        id=repo,
        source="localai_gallery",
        license=license_id(entry.get("license")),
        base_model=_base_of(repo, originals, known),
        instruct=True if _INSTRUCT_TAGS & set(tags) else None,
        tags=tags,
        pipeline_tag="text-generation",
        card_text=entry.get("description") or None,
        card_source="localai_gallery",
    )


def load(raw_dir: Path, *, known: IdIndex) -> list[SourceRecord]:
    """Read the gallery's LLM entries.

    Args:
        raw_dir: the raw-data folder.
        known: every Hub id the shipped data knows (to find a GGUF repo's original).

    Returns:
        One record per Hub repo (the first entry naming a repo wins), in gallery order.

    Raises:
        RawDataNotFoundError: the file is missing.
    """
    records: dict[str, SourceRecord] = {}
    for entry in read_jsonl(raw_dir, FILES[0]):
        if "llm" not in (entry.get("tags") or ()):
            continue
        for repo in entry.get("hf_repo_ids") or ():
            if is_hf_id(repo) and repo.lower() not in records:
                records[repo.lower()] = _from_entry(entry, repo, known)
    return list(records.values())
