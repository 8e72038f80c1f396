"""The on-disk cache of live results: one append-only JSONL file per model revision.

A result is keyed by DESIGN's (model, revision, dataset, question, strategy, N, seed). Each line is written and
flushed as soon as its question is answered, so an evaluation killed midway keeps every answer it paid for; a
line cut short by the kill is skipped when the file is read back. Reads tolerate duplicates (two processes
answering the same question): the first line wins.

Where: ``$GEMFINDER_CACHE_DIR`` or ``~/.cache/gemfinder/evaluations`` (`index.constants.EVALUATION_CACHE_DIR`).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class ResultKey:
    """What identifies one live result, apart from the question (DESIGN "Contracts").

    Attributes:
        model (`str`): the model as named (alias, path or Hub id).
        revision (`str`): the exact weights (commit hash, file SHA-256, folder digest).
        dataset (`str`): the dataset name with the parameters that produced its questions (``arith{steps=3}``).
        strategy (`str`): the strategy label with every setting that changes its result (sampling, steps, PRM).
        n (`int`): the budget N.
        seed (`int`): the sampling seed.
    """

    model: str
    revision: str
    dataset: str
    strategy: str
    n: int
    seed: int


@dataclass(frozen=True)
class CachedResult:
    """One question's answer under a `ResultKey`.

    Attributes:
        question (`str`): `Question.id`.
        answer (`str`, *optional*): the extracted final answer; None when the completion stated none.
        correct (`bool`): graded against the gold answer.
        tokens (`int`): generated tokens the strategy spent on the question.
        seconds (`float`): engine (and PRM) wall time charged to it.
        generations (`int`): completions generated for it.
        engine (`str`): the back end that produced it (``transformers`` / ``vllm``); not part of the key.
    """

    question: str
    answer: str | None
    correct: bool
    tokens: int
    seconds: float
    generations: int
    engine: str = ""


class ResultCache:
    """Append-only JSONL files under `root`, one per (model, revision).

    Args:
        root: the cache folder (created on the first write).

    Example:
        >>> cache = ResultCache(tmp_path)
        >>> cache.put(key, CachedResult("q1", "5", True, 12, 0.3, 1))
        >>> cache.get(key)["q1"].correct
        True
    """

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)
        self._loaded: dict[Path, dict[tuple, dict[str, CachedResult]]] = {}

    def path(self, key: ResultKey) -> Path:
        """The file holding every result of `key`'s model revision."""
        slug = re.sub(r"[^A-Za-z0-9._-]+", "_", key.model).strip("_")[-60:] or "model"
        digest = hashlib.sha256(f"{key.model}\0{key.revision}".encode()).hexdigest()[:16]
        return self.root / f"{slug}-{digest}.jsonl"

    def get(self, key: ResultKey) -> dict[str, CachedResult]:
        """Question id → result for `key` (empty when nothing is cached)."""
        return dict(self._file(self.path(key)).get(_tuple(key), {}))

    def put(self, key: ResultKey, result: CachedResult) -> None:
        """Append one result and flush it to disk before returning."""
        path = self.path(key)
        entries = self._file(path).setdefault(_tuple(key), {})
        if result.question in entries:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        line = json.dumps({**asdict(key), **asdict(result)}, ensure_ascii=False)
        with path.open("a", encoding="utf-8") as f:
            f.write(line + "\n")
            f.flush()
            os.fsync(f.fileno())
        entries[result.question] = result

    def _file(self, path: Path) -> dict[tuple, dict[str, CachedResult]]:
        if path not in self._loaded:
            self._loaded[path] = _read(path)
        return self._loaded[path]


def _tuple(key: ResultKey) -> tuple:
    return (key.model, key.revision, key.dataset, key.strategy, key.n, key.seed)


def _read(path: Path) -> dict[tuple, dict[str, CachedResult]]:
    """Parse a cache file; lines that do not parse (a write cut by a kill) are skipped."""
    out: dict[tuple, dict[str, CachedResult]] = {}
    if not path.is_file():
        return out
    key_fields = ResultKey.__dataclass_fields__
    result_fields = CachedResult.__dataclass_fields__
    with path.open(encoding="utf-8", errors="replace") as f:
        for line in f:
            try:
                row: dict[str, Any] = json.loads(line)
                key = ResultKey(**{k: row[k] for k in key_fields})
                result = CachedResult(**{k: row[k] for k in result_fields if k in row})
            except (ValueError, KeyError, TypeError):
                continue
            out.setdefault(_tuple(key), {}).setdefault(result.question, result)
    return out
