"""What every source module shares: the partial record it yields and the readers of shipped raw files.

A source never builds a `ModelRecord` itself: it yields `SourceRecord`s (facts about one id from one source, in our
field names) and the builder merges them. Raw files ship gzip-compressed under ``index/data/raw/`` in the folder
layout of ``../shared/data`` (``leaderboards/sloth_openllm/open-llm-leaderboard_old.csv.gz``); a reader accepts
either the compressed or the plain file.
"""

from __future__ import annotations

import gzip
import json
import math
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pandas as pd

from index.errors import RawDataNotFoundError
from index.record import Score

# Partial records --------------------------------------------------------------------------------------------------


@dataclass
class SourceRecord:
    """Facts about one model from one source, already in our names and units; `None` means "not said".

    Attributes:
        id (`str`): Hugging Face id as the source spells it.
        source (`str`): the `Source_T` name of the source.
        card_text (`str`, *optional*): the real description the source carries (raw, not yet scrubbed).
        card_source (`str`, *optional*): the `CardSource_T` name for `card_text`.
        scores (`dict[str, Score]`): benchmark → score, values in points.
        other attributes: as in `ModelRecord`.
    """

    id: str
    source: str
    architecture: str | None = None
    params_b: float | None = None
    instruct: bool | None = None
    license: str | None = None
    likes: int | None = None
    downloads: int | None = None
    created: str | None = None
    available: bool | None = None
    flagged: bool | None = None
    merged: bool | None = None
    base_model: str | None = None
    tags: tuple[str, ...] = ()
    pipeline_tag: str | None = None
    card_text: str | None = None
    card_source: str | None = None
    price_per_1m_tokens: float | None = None
    context_window: int | None = None
    scores: dict[str, Score] = field(default_factory=dict)

    @property
    def key(self) -> str:
        """The case-insensitive identity (lower-cased id)."""
        return self.id.lower()


# Raw files --------------------------------------------------------------------------------------------------------


def raw_file(raw_dir: Path, relpath: str) -> Path:
    """Locate a shipped raw input, compressed (``<relpath>.gz``) or plain.

    Args:
        raw_dir: the raw-data folder (``index/data/raw``).
        relpath: the path inside it, as in ``../shared/data`` (``leaderboards/obsscaling/base_llm_benchmark_eval.csv``).

    Returns:
        The path that exists.

    Raises:
        RawDataNotFoundError: neither form is there.
    """
    for candidate in (Path(raw_dir) / f"{relpath}.gz", Path(raw_dir) / relpath):
        if candidate.is_file():
            return candidate
    raise RawDataNotFoundError(str(Path(raw_dir) / f"{relpath}.gz"))


def read_text(raw_dir: Path, relpath: str) -> str:
    """The text of a raw file (gunzipped where compressed)."""
    path = raw_file(raw_dir, relpath)
    if path.suffix == ".gz":
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            return fh.read()
    return path.read_text(encoding="utf-8")


def read_csv(raw_dir: Path, relpath: str, **kwargs: Any) -> pd.DataFrame:
    """A raw CSV as a frame (pandas reads the gzip itself)."""
    return pd.read_csv(raw_file(raw_dir, relpath), **kwargs)


def read_jsonl(raw_dir: Path, relpath: str) -> list[dict]:
    """A raw JSON-lines file as a list of objects."""
    return [json.loads(line) for line in read_text(raw_dir, relpath).splitlines() if line.strip()]


def read_json(raw_dir: Path, relpath: str) -> Any:
    """A raw JSON file."""
    return json.loads(read_text(raw_dir, relpath))


# Value cleaning -----------------------------------------------------------------------------------------------------


def missing(value: Any) -> bool:
    """True for None, NaN and empty strings: the forms "not known" takes in the raw files."""
    if value is None or value is pd.NaT:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and not value.strip()


def as_float(value: Any) -> float | None:
    """A number, or `None` when missing or unparseable."""
    if missing(value):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def as_int(value: Any) -> int | None:
    """An integer count, or `None` when missing or unparseable."""
    number = as_float(value)
    return None if number is None else int(number)


def as_bool(value: Any) -> bool | None:
    """A boolean from True/False/"True"/"false", or `None`."""
    if missing(value):
        return None
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    return True if text == "true" else False if text == "false" else None


def params_or_none(value: Any) -> float | None:
    """Parameter count in billions; 0 and missing mean "not known"."""
    number = as_float(value)
    return number if number is not None and number > 0 else None


#: a size written in a repo name: "1.3b", "6.7B", "410m" (not "8x7b" mixtures, not "v0.2", not "3.5-turbo").
_NAME_SIZE = re.compile(r"(?<![\dx.])(\d+(?:[._]\d+)?)\s*([bm])(?![a-z])", re.IGNORECASE)


def size_from_name(model_id: str) -> float | None:
    """The parameter count (billions) the repo name states, when it states exactly one; else `None`."""
    found = {
        float(num.replace("_", ".")) / (1000.0 if unit.lower() == "m" else 1.0)
        for num, unit in _NAME_SIZE.findall(model_id.rsplit("/", 1)[-1])
    }
    return found.pop() if len(found) == 1 else None


def refine_rounded_params(params_b: float | None, model_id: str) -> float | None:
    """v1 rounds sizes to whole billions (1.3B → 1): take the name's size when it rounds to the same number."""
    if params_b is None or params_b != int(params_b):
        return params_b
    named = size_from_name(model_id)
    if named is not None and int(params_b) in (int(named), round(named)) and named != params_b:
        return named
    return params_b


#: a repo name that declares its model contaminated ("Contamination/contaminated_proof_7b_v1.0", a demonstration
#: trained on the v1 test sets that tops the v1 leaderboard at 7 B): no source's flag records it.
_CONTAMINATED_NAME = re.compile(r"contaminat", re.IGNORECASE)


def name_declares_contamination(model_id: str) -> bool:
    """Whether the repo name says the model is contaminated (such a model is flagged, like a leaderboard flag)."""
    return bool(_CONTAMINATED_NAME.search(model_id))


#: a repo name that says its weights are stored quantized: GPTQ / AWQ / EXL2 / bitsandbytes / "4bit", "int8", ...
_QUANTIZED_NAME = re.compile(r"gptq|awq|exl2|bnb|(?<![a-z0-9])(?:int)?[48]-?bits?(?![a-z0-9])|(?<![a-z0-9])int[48](?![0-9])",
                             re.IGNORECASE)


def unpacked_params(params_b: float | None, model_id: str) -> float | None:
    """The parameter count of a quantized repo, taken from its name when the recorded count is far below it.

    Counts read off safetensors tensors (the Hub's and the leaderboards') see a quantized checkpoint's packed integers:
    4-bit weights stored eight to an int32 count about 1/8 of the linear layers (TheBloke's Llama-2-70B GPTQ repos
    read 9.1 B). Where the name says the model is quantized and states one size over 1.5x the count, the name wins.
    """
    if params_b is None or not _QUANTIZED_NAME.search(model_id.rsplit("/", 1)[-1]):
        return params_b
    named = size_from_name(model_id)
    return named if named is not None and named > 1.5 * params_b else params_b


def points(value: Any, *, scale: float = 1.0) -> float | None:
    """A score in points on the 0–100 scale (`scale` = 100 for 0–1 accuracies), rounded to 2 decimals."""
    number = as_float(value)
    if number is None:
        return None
    number = round(number * scale, 2)
    return number if 0.0 <= number <= 100.0 else None


def iso_date(value: Any) -> str | None:
    """``YYYY-MM-DD`` from an ISO timestamp, a date, a pandas Timestamp or epoch seconds; `None` otherwise."""
    if missing(value):
        return None
    if isinstance(value, (int, float)):
        return datetime.fromtimestamp(float(value), tz=timezone.utc).strftime("%Y-%m-%d")
    if isinstance(value, (pd.Timestamp, datetime)):
        return value.strftime("%Y-%m-%d")
    match = re.match(r"(\d{4}-\d{2}-\d{2})", str(value).strip())
    return match.group(1) if match else None


def architecture_or_none(value: Any) -> str | None:
    """A transformers class name; the leaderboards' placeholders ("?", "Unknown", "error") mean unknown."""
    if missing(value):
        return None
    text = str(value).strip()
    return None if text in ("?", "Unknown", "unknown", "error", "offline") else text


# Hub licence ids for the spellings the sources use where they differ ("Apache 2.0", "MIT License").
_LICENSE_ALIASES = {
    "apache 2.0": "apache-2.0", "apache2": "apache-2.0", "apache-2": "apache-2.0", "apache license 2.0": "apache-2.0",
    "mit license": "mit", "llama 2": "llama2", "llama 3": "llama3", "llama 3.1": "llama3.1", "llama 3.2": "llama3.2",
    "llama 3.3": "llama3.3", "gemma terms of use": "gemma", "cc-by-nc 4.0": "cc-by-nc-4.0", "cc by-nc 4.0": "cc-by-nc-4.0",
    "cc-by 4.0": "cc-by-4.0",
}
_NO_LICENSE = {"unknown", "none", "n/a", "na", "null", "?", "-"}


def license_id(value: Any) -> str | None:
    """A lower-case Hub licence id, or `None` when the source does not know it.

    Args:
        value: the source's licence string (``"Apache 2.0"``, ``"apache-2.0"``, ``"MIT"`` …).

    Returns:
        The Hub id (``"apache-2.0"``); unrecognised strings are kept lower-cased with spaces as dashes.
    """
    if missing(value):
        return None
    # Cards write "Apache‑2.0" with non-breaking hyphens now and then.
    text = re.sub(r"[\u2010-\u2015\u2212]", "-", str(value))
    text = re.sub(r"\s+", " ", text.strip().lower())
    if text in _NO_LICENSE:
        return None
    return _LICENSE_ALIASES.get(text, text.replace(" ", "-"))


_INSTRUCT_NAME = re.compile(r"(?<![a-z])(instruct|chat|it)(?![a-z])")


def name_says_instruct(model_id: str) -> bool:
    """True when the repo name marks an instruction / chat model (``-Instruct``, ``-chat``, ``-it``)."""
    return bool(_INSTRUCT_NAME.search(model_id.rsplit("/", 1)[-1].lower()))


def is_hf_id(text: str) -> bool:
    """True for an ``owner/name`` Hub repo id (one slash, no spaces or URL parts)."""
    return bool(re.fullmatch(r"[A-Za-z0-9][\w.\-]*/[\w.\-]+", text))


def kind_from_type(model_type: Any) -> str | None:
    """The Open LLM Leaderboard ``Type`` column as one word: chat, pretrained, finetuned, merge or `None`."""
    if missing(model_type):
        return None
    text = str(model_type).lower()
    for needle, kind in (("merge", "merge"), ("chat", "chat"), ("pretrained", "pretrained"), ("fine-tuned", "finetuned")):
        if needle in text:
            return kind
    return None


def instruct_from_type(kind: str | None, model_id: str) -> bool | None:
    """Instruction-tuned or not, from the leaderboard type (see `kind_from_type`) and the name.

    Chat models are instruction-tuned and (continuously) pretrained ones are base models; fine-tunes and merges
    are either, so only a name that says ``instruct`` / ``chat`` / ``it`` decides for them.
    """
    if kind == "chat":
        return True
    if kind == "pretrained":
        return False
    return True if name_says_instruct(model_id) else None


def rank_runs(frame: pd.DataFrame, *, key: pd.Series, precision: str, date: str | None) -> pd.DataFrame:
    """Sort per-precision runs so that each model's preferred run comes first (DESIGN: one value per benchmark).

    Full precision (bfloat16 / float16) beats quantised runs, then the latest date wins; bfloat16 before float16
    and then the file order break the remaining ties so that the choice is deterministic.

    Args:
        frame: one row per (model, precision) run.
        key: the case-insensitive model key of each row.
        precision: the name of the precision column.
        date: the name of the run-date column, or `None` when the source has none.

    Returns:
        `frame` with a ``_key`` column, sorted by key then preference; ``drop_duplicates("_key")`` keeps the picks.
    """
    prec = frame[precision].astype(str)
    ranked = frame.assign(
        _key=key.to_numpy(),
        _quantised=~prec.isin(["bfloat16", "float16"]),
        _date=frame[date].fillna("").astype(str) if date else "",
        _not_bf16=prec != "bfloat16",
        _pos=range(len(frame)),
    )
    return ranked.sort_values(
        ["_key", "_quantised", "_date", "_not_bf16", "_pos"], ascending=[True, True, False, True, True], kind="stable"
    )


def first_valid(ranked: pd.DataFrame, column: str) -> dict[str, Any]:
    """Per model key, the first non-missing value of `column` in preference order (fills gaps of the picked run)."""
    valid = ranked[ranked[column].notna()]
    return valid.drop_duplicates("_key").set_index("_key")[column].to_dict()
