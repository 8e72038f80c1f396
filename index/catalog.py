"""Reading and writing the catalog (one parquet file of `ModelRecord` rows).

Scores are stored flat, three columns per benchmark (``score.<b>``, ``source.<b>``, ``date.<b>``), so filters and
rankings work on numpy columns without building records; `Catalog.record` builds a `ModelRecord` on demand.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import fields
from pathlib import Path

import numpy as np
import pandas as pd

from index import constants
from index.errors import CatalogNotFoundError, CatalogSchemaError
from index.record import ModelRecord, Score
from index.vocabulary import BENCHMARKS

#: catalog format version; bump when columns change (old files then fail with CatalogSchemaError).
CATALOG_FORMAT = 1

_SCALAR_FIELDS = [f.name for f in fields(ModelRecord) if f.name not in ("scores", "tags", "sources")]
_SCORE_COLUMNS = [f"{kind}.{b}" for b in BENCHMARKS for kind in ("score", "source", "date")]
COLUMNS = _SCALAR_FIELDS + ["tags", "sources"] + _SCORE_COLUMNS


def records_to_frame(records: Iterable[ModelRecord]) -> pd.DataFrame:
    """Flatten records into the catalog's columns (one row per record, input order kept)."""
    rows = []
    for r in records:
        row = {name: getattr(r, name) for name in _SCALAR_FIELDS}
        row["tags"] = list(r.tags)
        row["sources"] = list(r.sources)
        for b in BENCHMARKS:
            s = r.scores.get(b)
            row[f"score.{b}"] = None if s is None else float(s.value)
            row[f"source.{b}"] = None if s is None else s.source
            row[f"date.{b}"] = None if s is None else s.date
        rows.append(row)
    frame = pd.DataFrame(rows, columns=COLUMNS)
    # Nullable dtypes keep "unknown" as NA instead of turning ints into floats or bools into objects.
    for name in ("likes", "downloads", "context_window"):
        frame[name] = frame[name].astype("Int64")
    for name in ("instruct", "available", "flagged", "merged"):
        frame[name] = frame[name].astype("boolean")
    for b in BENCHMARKS:
        frame[f"score.{b}"] = frame[f"score.{b}"].astype("float64")
    return frame


def _none(value):
    """NA / NaN → None, numpy scalars → Python scalars."""
    if value is None or value is pd.NA:
        return None
    if isinstance(value, float) and np.isnan(value):
        return None
    if isinstance(value, np.generic):
        return value.item()
    return value


class Catalog:
    """The model catalog: a column frame plus on-demand `ModelRecord` access.

    Args:
        frame: a frame with the catalog's `COLUMNS` (as written by `write_catalog`).
        path: where it was read from, for messages.

    Example:
        >>> catalog = Catalog.load()
        >>> catalog.get("mistralai/Mistral-7B-v0.1").score("gsm8k")
    """

    def __init__(self, frame: pd.DataFrame, *, path: str | None = None):
        missing = [c for c in COLUMNS if c not in frame.columns]
        if missing:
            raise CatalogSchemaError(path or "<frame>", missing)
        self.frame = frame.reset_index(drop=True)
        self.path = path
        self._row_of = {k.lower(): i for i, k in enumerate(self.frame["id"])}

    # Loading -----------------------------------------------------------------------------------------------

    @classmethod
    def load(cls, path: str | Path | None = None) -> Catalog:
        """Read a catalog parquet file (default: the shipped one, or ``$GEMFINDER_DATA_DIR``)."""
        path = Path(path) if path is not None else constants.DATA_DIR / constants.CATALOG_FILENAME
        if not path.exists():
            raise CatalogNotFoundError(str(path))
        return cls(pd.read_parquet(path), path=str(path))

    @classmethod
    def from_records(cls, records: Iterable[ModelRecord]) -> Catalog:
        return cls(records_to_frame(records))

    # Access ------------------------------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self.frame)

    def __contains__(self, model_id: str) -> bool:
        return model_id.lower() in self._row_of

    def __iter__(self) -> Iterator[ModelRecord]:
        for i in range(len(self)):
            yield self.record(i)

    def row(self, model_id: str) -> int:
        """Row number of `model_id` (case-insensitive); `KeyError` naming the id when absent."""
        try:
            return self._row_of[model_id.lower()]
        except KeyError:
            raise KeyError(f"Model '{model_id}' is not in the catalog ({len(self):,} records).") from None

    def get(self, model_id: str) -> ModelRecord:
        """The record of `model_id` (case-insensitive)."""
        return self.record(self.row(model_id))

    def record(self, i: int) -> ModelRecord:
        """Build the `ModelRecord` of row `i`."""
        row = self.frame.iloc[i]
        kwargs = {name: _none(row[name]) for name in _SCALAR_FIELDS}
        kwargs["card_text"] = kwargs["card_text"] or ""
        kwargs["card_source"] = kwargs["card_source"] or "composed"
        kwargs["tags"] = tuple(row["tags"]) if row["tags"] is not None else ()
        kwargs["sources"] = tuple(row["sources"]) if row["sources"] is not None else ()
        scores = {}
        for b in BENCHMARKS:
            value = _none(row[f"score.{b}"])
            if value is not None:
                scores[b] = Score(float(value), row[f"source.{b}"], _none(row[f"date.{b}"]))
        kwargs["scores"] = scores
        return ModelRecord(**kwargs)

    def scores(self, benchmark: str) -> np.ndarray:
        """Column of `benchmark` scores in points (NaN where unknown), aligned with rows."""
        return self.frame[f"score.{benchmark}"].to_numpy(dtype=float, na_value=np.nan)

    def scores_as_of(self) -> str | None:
        """The latest score date in the catalog (ISO), for "scores as of …"."""
        dates = pd.concat([self.frame[f"date.{b}"] for b in BENCHMARKS]).dropna()
        return None if dates.empty else str(dates.max())

    def fingerprint(self) -> str:
        """A checksum of the ids and embedded texts: the vector index must have been built from the same."""
        h = hashlib.sha256()
        for model_id, text in zip(self.frame["id"], self.frame["card_text"]):
            h.update(model_id.encode())
            h.update(b"\0")
            h.update((text or "").encode())
            h.update(b"\1")
        return h.hexdigest()

    def stats(self) -> dict:
        """Summary used by ``gemfinder index stats``."""
        return {
            "records": len(self),
            "with_card_text": int((self.frame["card_source"] != "composed").sum()),
            "coverage": {b: int(self.frame[f"score.{b}"].notna().sum()) for b in BENCHMARKS},
            "scores_as_of": self.scores_as_of(),
        }


def write_catalog(records: Iterable[ModelRecord] | Catalog, path: str | Path) -> Path:
    """Write records (or a catalog) to parquet, with the format version in the file metadata."""
    frame = records.frame if isinstance(records, Catalog) else records_to_frame(records)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(frame, preserve_index=False)
    meta = dict(table.schema.metadata or {})
    meta[b"gemfinder"] = json.dumps({"catalog_format": CATALOG_FORMAT}).encode()
    pq.write_table(table.replace_schema_metadata(meta), path, compression="zstd")
    return path
