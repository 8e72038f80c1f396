"""Docker model cards (docker/model-cards): curated descriptions of current open LLMs.

A card describes a model family (``qwen2.5.md``) and names Hub repos only in some of its links; a card is mapped
to exactly the model repos it links (``huggingface.co/<org>/<name>``), never guessed from its title. Embedding and
reranker cards are skipped: they describe no language model.
"""

from __future__ import annotations

import re
from pathlib import Path

from index.sources._base import SourceRecord, license_id, raw_file, read_text

FOLDER = "catalog/docker_model_cards"
# Links to Hub model repos; spaces, collections, blog posts and datasets are other Hub pages.
_LINK = re.compile(r"huggingface\.co/(?!spaces/|collections/|blog/|datasets/|docs/)([\w.\-]+/[\w.\-]+)")
_LICENSE_ROW = re.compile(r"\|\s*\*\*License\*\*\s*\|\s*\[?([^|\]]+)", re.IGNORECASE)
_NOT_LLM = re.compile(r"embed|rerank", re.IGNORECASE)


def card_files(raw_dir: Path) -> list[str]:
    """Relative paths (as under ``../shared/data``) of the shipped cards, sorted.

    Raises:
        RawDataNotFoundError: the folder holds no card.
    """
    folder = Path(raw_dir) / FOLDER
    names = sorted({p.name.removesuffix(".gz") for p in folder.glob("*.md*")}) if folder.is_dir() else []
    if not names:
        raw_file(raw_dir, f"{FOLDER}/README.md")  # raises RawDataNotFoundError naming the folder
    return [f"{FOLDER}/{name}" for name in names]


def _from_card(text: str, repo: str) -> SourceRecord:
    """The record of one repo a card links."""
    license_match = _LICENSE_ROW.search(text)
    return SourceRecord(
        id=repo,
        source="docker_model_cards",
        license=license_id(license_match.group(1)) if license_match else None,
        card_text=text,
        card_source="docker_model_cards",
    )


def load(raw_dir: Path) -> list[SourceRecord]:
    """Read every shipped card and map it to the repos it links.

    Args:
        raw_dir: the raw-data folder.

    Returns:
        One record per linked repo (the first card, in file-name order, wins a repo linked twice).

    Raises:
        RawDataNotFoundError: no card is shipped.
    """
    records: dict[str, SourceRecord] = {}
    for relpath in card_files(raw_dir):
        if _NOT_LLM.search(Path(relpath).name):
            continue
        text = read_text(raw_dir, relpath)
        for repo in dict.fromkeys(m.rstrip(".") for m in _LINK.findall(text)):
            if repo.lower() not in records and not _NOT_LLM.search(repo):
                records[repo.lower()] = _from_card(text, repo)
    return list(records.values())
