"""gemfinder's catalog: one `ModelRecord` per model, the shipped snapshot, embeddings and the vector store."""

from __future__ import annotations

from index.catalog import Catalog, write_catalog
from index.record import ModelRecord, Score

__all__ = ["Catalog", "ModelRecord", "Score", "write_catalog"]
