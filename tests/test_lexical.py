"""LexicalIndex: tokens people type (versions, ids, benchmark names) match names and cards."""

from __future__ import annotations

import numpy as np
import pytest

from search.lexical import LexicalIndex, document_text

DOCS = [
    document_text("Qwen/Qwen2.5-Math-7B-Instruct", "A math model trained on competition problems."),
    document_text("meta-llama/Llama-2-7b-chat-hf", "Llama 2 chat model for dialogue."),
    document_text("epfl-llm/meditron-7b", "Medical language model adapted from Llama 2 on PubMed."),
    document_text("TheBloke/Mistral-7B-v0.1-GGUF", "GGUF quantisations of Mistral 7B v0.1."),
]


@pytest.fixture(scope="module")
def lexical():
    return LexicalIndex().fit(DOCS)


@pytest.mark.parametrize(
    ("query", "expected"),
    [("qwen2.5 math", 0), ("llama 2 chat", 1), ("meditron", 2), ("medical pubmed", 2), ("gguf mistral v0.1", 3)],
)
def test_best_match(lexical, query, expected):
    assert int(np.argmax(lexical.scores(query))) == expected


def test_no_shared_token_scores_zero(lexical):
    assert not lexical.scores("zzzz unknownword").any()


def test_matched_terms_are_query_tokens_in_document(lexical):
    assert lexical.matched_terms("medical model on pubmed", DOCS[2]) == ["medical", "pubmed"]  # "model" says nothing


def test_unfitted_index_says_what_to_do():
    with pytest.raises(ValueError, match="Call 'fit'"):
        LexicalIndex().scores("x")
