"""The on-disk cache of finished curve points, so an interrupted ``finetune-select`` resumes where it stopped.

One small JSON file per entry, written atomically (temporary file, then rename) the moment the run behind it ends.
The file name is the SHA-256 of the entry's key: everything that changes the number (model fingerprint, dataset
hash, subset size, seed, every training hyperparameter, the cache format), so a changed setting never reads a
stale point and an unchanged one never trains twice.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

#: bump when the meaning of a cached number changes (e.g. a different loss definition).
CACHE_FORMAT = 1

#: where curve points live unless ``cache_dir`` is given.
DEFAULT_CACHE_DIR = Path.home() / ".cache" / "gemfinder" / "finetune"


def cache_key(fields: dict[str, Any]) -> str:
    """The file stem for an entry: SHA-256 of its key fields as canonical JSON (sorted keys, no spaces)."""
    canonical = json.dumps({"format": CACHE_FORMAT, **fields}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


class PointCache:
    """Reads and writes cache entries in one folder.

    Args:
        folder: the cache folder (created on first write).

    Example:
        >>> cache = PointCache(tmp_path)
        >>> cache.put({"model": "m", "examples": 200}, {"loss": 1.5})
        >>> cache.get({"model": "m", "examples": 200})["loss"]
        1.5
    """

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)

    def path(self, key: dict[str, Any]) -> Path:
        """The file that holds (or would hold) the entry for `key`."""
        return self.folder / f"{cache_key(key)}.json"

    def get(self, key: dict[str, Any]) -> dict[str, Any] | None:
        """The stored value for `key`, or None when absent or unreadable (a torn file is treated as missing)."""
        try:
            entry = json.loads(self.path(key).read_text())
        except (OSError, ValueError):
            return None
        return entry.get("value") if isinstance(entry, dict) and entry.get("key") == key else None

    def put(self, key: dict[str, Any], value: dict[str, Any]) -> None:
        """Store `value` under `key`; the key is kept in the file so entries can be read back by a person."""
        self.folder.mkdir(parents=True, exist_ok=True)
        target = self.path(key)
        fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=".tmp-", suffix=".json")
        with os.fdopen(fd, "w") as f:
            json.dump({"key": key, "value": value}, f, indent=1, sort_keys=True)
        os.replace(tmp, target)  # atomic: an interruption leaves the old state or the new, never half a file
