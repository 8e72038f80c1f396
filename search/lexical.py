"""Lexical retrieval over model names and card text (TF-IDF, scikit-learn).

Dense embeddings miss exact tokens people type ("gsm8k", "qwen2.5", "meditron", "gguf"); a sparse TF-IDF match
over the id and the card catches them. Ids are split on ``/ - _`` so "meta-llama/Llama-2-7b-chat-hf" matches
"llama 2 chat"; the token pattern keeps dotted versions ("qwen2.5", "v0.2") and single digits whole.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

_ID_SPLIT = re.compile(r"[/_\-]+")
_TOKEN_PATTERN = r"(?u)\b\w+(?:\.\w+)*\b"
#: words every request and every card contains: matching them says nothing about the model.
REQUEST_STOP_WORDS = frozenset({
    "model", "models", "llm", "llms", "best", "good", "great", "top", "recommend", "need", "want", "looking", "use",
    "using", "find", "language", "large", "small", "parameter", "parameters", "billion", "license", "licence",
    "licensed", "hf", "huggingface", "hugging", "face", "repo", "version", "based",
})


def document_text(model_id: str, card_text: str) -> str:
    """The text a model is matched on: its id (split into words, twice, for weight) and its card."""
    name = _ID_SPLIT.sub(" ", model_id)
    return f"{name} {name} {card_text or ''}"


class LexicalIndex:
    """TF-IDF (sublinear tf, l2-normalised) over catalog documents.

    Args:
        max_features: vocabulary cap (rare tokens beyond it are dropped).

    Example:
        >>> lex = LexicalIndex().fit(["mistral 7b instruct", "qwen2.5 math"])
        >>> lex.scores("qwen2.5")
        array([0., 1.])
    """

    def __init__(self, *, max_features: int | None = 200_000):
        self.max_features = max_features

    def fit(self, documents: Sequence[str]) -> LexicalIndex:
        """Learn the vocabulary and weights; returns self."""
        from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, TfidfVectorizer

        self.vectorizer_ = TfidfVectorizer(
            lowercase=True, token_pattern=_TOKEN_PATTERN, sublinear_tf=True, max_features=self.max_features,
            dtype=np.float32, stop_words=sorted(ENGLISH_STOP_WORDS | REQUEST_STOP_WORDS),
        )
        # CSC would be slower for the row-wise products below; CSR transposed once is what a query needs.
        self.matrix_t_ = self.vectorizer_.fit_transform(documents).T.tocsr()
        return self

    def scores(self, query: str) -> np.ndarray:
        """Cosine similarity of the query to every document (0 where no token is shared)."""
        if not hasattr(self, "matrix_t_"):
            raise ValueError("This LexicalIndex is not fitted yet. Call 'fit' with the catalog documents first.")
        q = self.vectorizer_.transform([_ID_SPLIT.sub(" ", query)])
        return np.asarray((q @ self.matrix_t_).todense()).ravel()

    def matched_terms(self, query: str, document: str, limit: int = 3) -> list[str]:
        """Query tokens that occur in the document (for the "reason" shown to the user)."""
        analyze = self.vectorizer_.build_analyzer()
        doc_tokens = set(analyze(document))
        seen: list[str] = []
        for token in analyze(_ID_SPLIT.sub(" ", query)):
            if token in doc_tokens and token not in seen:
                seen.append(token)
        return seen[:limit]
