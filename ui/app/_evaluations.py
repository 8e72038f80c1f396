"""Evaluations run on this machine, summarised from the live-evaluation result cache for the model page.

The cache (``$GEMFINDER_CACHE_DIR`` or ``~/.cache/gemfinder/evaluations``, written by the live oracle and
``gemfinder evaluate``) holds one JSONL line per answered question with DESIGN's key fields (model, revision,
dataset, strategy, n, seed) and the result (correct, tokens). The page groups them per (dataset, strategy, N). A
model evaluated under a local alias (``smollm2-135m-instruct``) is listed on the page of the Hub id its weights come
from. Lines that do not parse are skipped, as the cache's own reader does.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

__all__ = ["cached_evaluations"]

#: cache files larger than this are not scanned for the page (a page must open in well under a second).
MAX_FILE_BYTES = 50_000_000


def _names(model_id: str) -> set[str]:
    """Every name the cache may file `model_id` under: the id itself and local aliases of the same weights."""
    names = {model_id.lower()}
    try:
        from recommender.models import LOCAL_MODELS
    except ImportError:
        return names
    names |= {alias.lower() for alias, m in LOCAL_MODELS.items() if m.hub_id.lower() == model_id.lower()}
    return names


def cached_evaluations(model_id: str, cache_dir: str | Path | None = None) -> list[dict[str, Any]]:
    """One summary per (dataset, strategy, N) evaluated live for `model_id`; empty when none (or no cache).

    Args:
        model_id: the catalog id (case-insensitive).
        cache_dir: the cache folder (default `index.constants.EVALUATION_CACHE_DIR`).

    Returns:
        Dicts with ``dataset``, ``strategy`` (with ``@N``), ``n`` (questions answered), ``accuracy`` (points),
        ``tokens`` and ``when`` (the cache file's last write, UTC), most questions first.
    """
    if cache_dir is None:
        from index.constants import EVALUATION_CACHE_DIR

        cache_dir = EVALUATION_CACHE_DIR
    root = Path(cache_dir)
    if not root.is_dir():
        return []
    names = _names(model_id)
    groups: dict[tuple, dict[str, Any]] = {}
    for path in sorted(root.glob("*.jsonl")):
        try:
            if path.stat().st_size > MAX_FILE_BYTES:
                continue
            lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            continue
        when = time.strftime("%Y-%m-%d %H:%M", time.gmtime(path.stat().st_mtime))
        for line in lines:
            try:
                row = json.loads(line)
                if str(row["model"]).lower() not in names:
                    break  # one file holds one model revision: the first line decides
                key = (row["dataset"], row["strategy"], int(row["n"]), row["revision"], int(row["seed"]))
                correct, tokens, question = bool(row["correct"]), int(row.get("tokens", 0)), str(row["question"])
            except (ValueError, KeyError, TypeError):
                continue
            group = groups.setdefault(key, {"questions": set(), "correct": 0, "tokens": 0, "when": when})
            if question in group["questions"]:
                continue  # duplicates: the first line wins, as in the cache's reader
            group["questions"].add(question)
            group["correct"] += correct
            group["tokens"] += tokens
    out = [{"dataset": d, "strategy": f"{s}@{n}", "n": len(g["questions"]),
            "accuracy": 100.0 * g["correct"] / len(g["questions"]), "tokens": g["tokens"], "when": g["when"]}
           for (d, s, n, _rev, _seed), g in groups.items() if g["questions"]]
    return sorted(out, key=lambda r: -r["n"])
