"""Retrieval: dense (FAISS over card embeddings) + lexical (TF-IDF over name and card), fused, then hard filters.

Fusion is reciprocal-rank fusion (Cormack et al., SIGIR 2009): each list contributes 1 / (c + rank) with c = 60,
which needs no calibration between cosine and TF-IDF scales. `Candidate.retrieval_score` is that sum divided by its
maximum (first in both lists), so it lies in [0, 1]. Hard filters are applied inside the searches (a FAISS ID
selector, a masked lexical ranking), so a narrow filter still returns k candidates when k models pass it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from index.catalog import Catalog
from index.embed import Embedder
from index.store import VectorStore
from index.vocabulary import TASK_KEYWORDS
from search.filters import filter_mask
from search.lexical import LexicalIndex, document_text
from search.query import ParsedQuery

RRF_C = 60


@dataclass(frozen=True)
class Candidate:
    """One retrieved model.

    Attributes:
        id (`str`): the model's Hub id.
        row (`int`): its row in the catalog.
        retrieval_score (`float`): fused score in [0, 1], higher is better.
        dense_score (`float`, *optional*): cosine similarity of query and card; `None` when outside the dense list.
        lexical_score (`float`, *optional*): TF-IDF cosine; `None` when no query token matched.
        reason (`str`): a short human explanation of why it was retrieved.
    """

    id: str
    row: int
    retrieval_score: float
    dense_score: float | None
    lexical_score: float | None
    reason: str


class Retriever:
    """Dense + lexical retrieval with hard filters over one catalog.

    Args:
        catalog: the catalog.
        store: its vector store (rows aligned with the catalog).
        embedder: the model that embeds queries (must be the store's model).
        dense_k: how many dense neighbours enter the fusion.
        lexical_k: how many lexical matches enter the fusion.

    Example:
        >>> retriever = Retriever(catalog, store, Embedder())
        >>> retriever.retrieve(parse_query("a 7B model for medical QA"), k=10)[0].id
    """

    def __init__(
        self, catalog: Catalog, store: VectorStore, embedder: Embedder, *, dense_k: int = 400, lexical_k: int = 400
    ):
        if len(store) != len(catalog):
            raise ValueError(f"The vector store has {len(store)} rows but the catalog has {len(catalog)}.")
        self.catalog = catalog
        self.store = store
        self.embedder = embedder
        self.dense_k = dense_k
        self.lexical_k = lexical_k
        ids, cards = catalog.frame["id"].tolist(), catalog.frame["card_text"].fillna("").tolist()
        self._documents = [document_text(i, c) for i, c in zip(ids, cards)]
        self.lexical = LexicalIndex().fit(self._documents)

    def mask(self, query: ParsedQuery) -> np.ndarray:
        """Rows that pass the query's hard filters."""
        return filter_mask(
            self.catalog.frame, query.constraints,
            include_flagged=query.include_flagged, include_unavailable=query.include_unavailable,
        )

    def retrieve(
        self, query: ParsedQuery, *, k: int = 50, mask: np.ndarray | None = None, include_rows: Iterable[int] = ()
    ) -> list[Candidate]:
        """The top-k candidates for `query` that pass its filters, best first.

        Args:
            query: the parsed request.
            k: how many fused candidates to return.
            mask: row filter; default `mask(query)`.
            include_rows: rows to score and return as well even if outside the fused top-k (the caller has
                another reason to consider them, e.g. a known task score); they are appended in fused order.

        Returns:
            Candidates sorted by `retrieval_score`, then the extra rows.
        """
        mask = self.mask(query) if mask is None else mask
        text = query.retrieval_text or query.text
        q = self.embedder.encode_query(text)
        dense_scores, dense_rows = self.store.search(q, self.dense_k, mask=mask)
        lexical_text = self._lexical_text(query)
        lexical = self.lexical.scores(lexical_text)
        lexical_masked = np.where(mask & (lexical > 0), lexical, -1.0)
        n_lex = int(min(self.lexical_k, (lexical_masked > 0).sum()))
        lexical_rows = np.argsort(-lexical_masked, kind="stable")[:n_lex]

        fused: dict[int, float] = {}
        for rank, row in enumerate(dense_rows):
            fused[int(row)] = fused.get(int(row), 0.0) + 1.0 / (RRF_C + rank + 1)
        for rank, row in enumerate(lexical_rows):
            fused[int(row)] = fused.get(int(row), 0.0) + 1.0 / (RRF_C + rank + 1)
        top = sorted(fused, key=lambda r: (-fused[r], r))[:k]
        extra = [int(r) for r in include_rows if mask[int(r)] and int(r) not in set(top)]
        extra.sort(key=lambda r: (-fused.get(r, 0.0), r))

        dense_of = {int(r): float(s) for r, s in zip(dense_rows, dense_scores)}
        best = 2.0 / (RRF_C + 1)
        out = []
        for row in top + extra:
            dense = dense_of.get(row)
            if dense is None:  # cheap to compute exactly for a row outside the dense list
                dense = float(self.store.vectors[row] @ q)
            lex = float(lexical[row]) if lexical[row] > 0 else None
            out.append(Candidate(
                id=str(self.catalog.frame.at[row, "id"]), row=row, retrieval_score=round(fused.get(row, 0.0) / best, 4),
                dense_score=round(dense, 4), lexical_score=None if lex is None else round(lex, 4),
                reason=self._reason(lexical_text, row, dense, lex, row in fused),
            ))
        return out

    @staticmethod
    def _lexical_text(query: ParsedQuery) -> str:
        """The request plus the words its task goes by in repo names ("code" → "coder", "medical" → "meditron")."""
        text = query.retrieval_text or query.text
        return f"{text} {' '.join(TASK_KEYWORDS[query.task])}" if query.task else text

    def _reason(self, lexical_text: str, row: int, dense: float, lexical: float | None, retrieved: bool) -> str:
        terms = self.lexical.matched_terms(lexical_text, self._documents[row]) if lexical is not None else []
        matched = f"; name/card mention {', '.join(repr(t) for t in terms)}" if terms else ""
        if not retrieved:
            return f"not a text match (card similarity {dense:.2f}){matched}"
        return f"card similarity {dense:.2f}{matched}"
