"""Building and opening the catalog's vector store (embeddings of every card).

The embedded text of a record is its id followed by its card text; `Catalog.fingerprint` hashes exactly these, so
the store knows which catalog it belongs to.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Literal

from index import constants
from index.catalog import Catalog
from index.embed import Embedder
from index.errors import IndexCorruptError
from index.store import VectorStore

OnStale_T = Literal["error", "rebuild"]


def embedding_text(model_id: str, card_text: str) -> str:
    """The text embedded for one record."""
    return f"{model_id}. {card_text or ''}".strip()


def build_vector_store(
    catalog: Catalog,
    *,
    embedder: Embedder | None = None,
    kind: str = "flat",
    out: str | Path | None = None,
    progress: bool = True,
    batch_size: int = 64,
) -> VectorStore:
    """Embed every card of `catalog` and index the vectors.

    Args:
        catalog: the catalog to embed.
        embedder: the embedding model (default: the shipped MiniLM).
        kind: FAISS index kind, ``"flat"`` (exact), ``"hnsw"`` or ``"ivf"``.
        out: where to save the store (not saved when `None`).
        progress: show a progress bar on stderr.
        batch_size: texts per forward pass.

    Returns:
        The built store.
    """
    embedder = embedder or Embedder()
    texts = [embedding_text(i, t) for i, t in zip(catalog.frame["id"], catalog.frame["card_text"])]
    # Sorting by length keeps each batch's padding small: about 2× faster on CPU for cards of mixed length.
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    vectors_sorted = embedder.encode([texts[i] for i in order], batch_size=batch_size, progress=progress)
    vectors = vectors_sorted.copy()
    vectors[order] = vectors_sorted
    store = VectorStore.build(vectors, model=embedder.model, catalog_fingerprint=catalog.fingerprint(), kind=kind)
    if out is not None:
        store.save(out)
    return store


def open_vector_store(
    catalog: Catalog,
    *,
    path: str | Path | None = None,
    embedder: Embedder | None = None,
    on_stale: OnStale_T = "error",
) -> VectorStore:
    """Open the store beside the catalog, verifying it belongs to this catalog and embedding model.

    Args:
        catalog: the catalog the store must match.
        path: the vector file (default ``$GEMFINDER_DATA_DIR/vectors.npz``).
        embedder: the model queries will be embedded with.
        on_stale: ``"error"`` raises `IndexCorruptError`; ``"rebuild"`` re-embeds, saves and says so on stderr.

    Raises:
        IndexCorruptError: the file is missing, damaged or stale and `on_stale` is ``"error"``.
    """
    path = Path(path) if path is not None else constants.DATA_DIR / constants.VECTORS_FILENAME
    model = (embedder or Embedder()).model
    try:
        return VectorStore.load(path, catalog_fingerprint=catalog.fingerprint(), model=model)
    except IndexCorruptError as err:
        if on_stale != "rebuild":
            raise
        print(f"gemfinder: {err.reason}; rebuilding {path} …", file=sys.stderr)
        return build_vector_store(catalog, embedder=embedder, out=path)
