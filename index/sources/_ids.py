"""Resolving foreign model names (HELM's ``meta/llama-3-8b``, sloth's ``yi-1.5-34b``, litellm keys) to Hub ids.

A name is mapped only when exactly one known Hub id fits it; an ambiguous or unknown name stays unmapped, because a
score on the wrong model is worse than no score.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable


class IdIndex:
    """A case-insensitive set of known Hub ids, searchable by full id or by the name part.

    Args:
        ids: Hub ids (``owner/name``); duplicates and case variants are fine.

    Example:
        >>> index = IdIndex(["01-ai/Yi-1.5-34B", "Qwen/Qwen1.5-7B"])
        >>> index.unique(["01-ai/yi-1.5-34b", "01-ai/yi-1.5-34b-hf"])
        '01-ai/Yi-1.5-34B'
        >>> index.by_name("qwen1.5-7b")
        'Qwen/Qwen1.5-7B'
    """

    def __init__(self, ids: Iterable[str]):
        self._ids: dict[str, str] = {}
        self._names: dict[str, set[str]] = defaultdict(set)
        for model_id in ids:
            key = model_id.lower()
            self._ids.setdefault(key, model_id)
            self._names[key.rsplit("/", 1)[-1]].add(key)

    def __contains__(self, model_id: str) -> bool:
        return model_id.lower() in self._ids

    def __len__(self) -> int:
        return len(self._ids)

    def unique(self, candidates: Iterable[str]) -> str | None:
        """The one known id among `candidates` (case-insensitive), or `None` when none or several are known."""
        found = {c.lower() for c in candidates if c.lower() in self._ids}
        return self._ids[found.pop()] if len(found) == 1 else None

    def by_name(self, name: str) -> str | None:
        """The one known id whose name part is `name` (case-insensitive), or `None` when none or several."""
        keys = self._names.get(name.lower(), set())
        return self._ids[next(iter(keys))] if len(keys) == 1 else None
