"""Retriever and Shortlister over a small real catalog embedded with the real MiniLM."""

from __future__ import annotations

import os

import numpy as np
import pytest

from index.catalog import Catalog
from index.errors import IndexCorruptError, NoCandidatesError
from index.record import ModelRecord, Score
from index.vectors import build_vector_store, open_vector_store
from recommender.shortlist import Shortlister, benchmark_percentiles
from search.query import parse_query
from search.retrieval import Retriever

V1 = "open_llm_leaderboard_v1"


def _rec(id, family, params, license, card, instruct=None, gsm8k=None, likes=0, **kw):
    scores = {"gsm8k": Score(gsm8k, V1, "2024-01-01")} if gsm8k is not None else {}
    return ModelRecord(id=id, author=id.split("/")[0], family=family, params_b=params, license=license,
                       license_source="card" if license else None, instruct=instruct, likes=likes,
                       card_text=card, scores=scores, **kw)


RECORDS = [
    _rec("Qwen/Qwen2.5-Math-7B-Instruct", "qwen2.5", 7.6, "apache-2.0",
         "A mathematics model that solves grade-school and competition math word problems step by step.", True, 85.0, 300),
    _rec("epfl-llm/meditron-7b", "llama-2", 7.0, "llama2",
         "A medical large language model adapted to clinical guidelines and PubMed for medical question answering.", False),
    _rec("mistralai/Mistral-7B-v0.1", "mistral", 7.2, "apache-2.0",
         "A 7 billion parameter general-purpose pretrained base model.", False, 37.8, 3000),
    _rec("teknium/OpenHermes-2.5-Mistral-7B", "mistral", 7.2, "apache-2.0",
         "Mistral 7B fine-tuned on GPT-4 generated chat and code data.", True, 52.0, 800),
    _rec("bigcode/starcoder2-3b", "starcoder2", 3.0, "bigcode-openrail-m",
         "A code model trained on The Stack v2 for Python and 600 programming languages.", False),
    _rec("meta-llama/Llama-2-70b-hf", "llama-2", 69.0, "llama2", "Llama 2 70B pretrained base model.", False, 54.0, 900),
    _rec("nobody/flagged-7b", "mistral", 7.2, "apache-2.0", "A math model that scores suspiciously well.", True, 99.0,
         flagged=True),
    _rec("nobody/unknown-license-7b", "mistral", 7.1, None, "A math word problem solver.", True, 90.0),
]


@pytest.fixture(scope="module")
def small(embedder, tmp_path_factory):
    catalog = Catalog.from_records(RECORDS)
    path = tmp_path_factory.mktemp("store") / "vectors.npz"
    store = build_vector_store(catalog, embedder=embedder, out=path, progress=False)
    return catalog, store, path


@pytest.fixture(scope="module")
def shortlister(small, embedder):
    catalog, store, _ = small
    return Shortlister(Retriever(catalog, store, embedder))


class TestRetriever:
    @pytest.mark.parametrize(
        ("text", "expected"),
        [("a model for medical question answering", "epfl-llm/meditron-7b"),
         ("python code generation", "bigcode/starcoder2-3b"),
         ("solve math word problems", "Qwen/Qwen2.5-Math-7B-Instruct")],
    )
    def test_topical_request_retrieves_the_topical_card(self, shortlister, text, expected):
        top = shortlister.retriever.retrieve(parse_query(text), k=3)
        assert top[0].id == expected
        assert 0 < top[0].retrieval_score <= 1 and top[0].reason

    def test_filters_are_hard(self, shortlister):
        got = shortlister.retriever.retrieve(parse_query("apache-2.0 model under 8B"), k=10)
        ids = {c.id for c in got}
        assert ids == {"Qwen/Qwen2.5-Math-7B-Instruct", "mistralai/Mistral-7B-v0.1", "teknium/OpenHermes-2.5-Mistral-7B"}

    def test_flagged_only_when_asked(self, shortlister):
        plain = {c.id for c in shortlister.retriever.retrieve(parse_query("math model"), k=10)}
        asked = {c.id for c in shortlister.retriever.retrieve(parse_query("math model, include flagged models"), k=10)}
        assert "nobody/flagged-7b" not in plain and "nobody/flagged-7b" in asked

    def test_reason_names_matched_terms(self, shortlister):
        top = shortlister.retriever.retrieve(parse_query("meditron"), k=1)[0]
        assert top.id == "epfl-llm/meditron-7b" and "'meditron'" in top.reason


class TestShortlister:
    def test_known_task_scores_order_the_list(self, shortlister):
        answer = shortlister.ask("best 7B model for grade-school math with an apache-2.0 license", k=5)
        ids = [e.record.id for e in answer.entries]
        # 85 > 52 > 37.8 on gsm8k; the unknown-licence 90 and the flagged 99 are filtered out.
        assert ids == ["Qwen/Qwen2.5-Math-7B-Instruct", "teknium/OpenHermes-2.5-Mistral-7B", "mistralai/Mistral-7B-v0.1"]
        assert answer.entries[0].reason.startswith("known math scores: gsm8k 85.0 (top ")
        assert answer.eligible == 3

    def test_json_shape(self, shortlister):
        d = shortlister.ask("best 7B model for math, apache-2.0", k=2).to_dict()
        assert set(d) == {"query", "task", "constraints", "results"}
        assert d["task"] == "math" and d["constraints"]["license"] == ["apache-2.0"]
        assert set(d["results"][0]) == {"id", "params_b", "license", "likes", "downloads", "scores",
                                        "retrieval_score", "reason"}
        assert d["results"][0]["scores"] == {"gsm8k": 85.0}

    def test_nothing_passes_the_filters(self, shortlister):
        with pytest.raises(NoCandidatesError, match="Loosen a constraint"):
            shortlister.ask("a 400B model for math under the mit license")

    def test_percentiles_are_within_benchmark(self, shortlister):
        pct = benchmark_percentiles(shortlister.catalog)["gsm8k"]
        assert np.nanargmax(pct) == 6 and np.isnan(pct[1])  # flagged 99 is the top gsm8k; meditron has none


class TestOpenVectorStore:
    def test_stale_store_is_reported_then_rebuilt_on_request(self, small, embedder, tmp_path):
        catalog, store, _ = small
        changed = Catalog.from_records(RECORDS[:-1])
        path = tmp_path / "v.npz"
        store.save(path)
        with pytest.raises(IndexCorruptError, match="different catalog"):
            open_vector_store(changed, path=path, embedder=embedder)
        rebuilt = open_vector_store(changed, path=path, embedder=embedder, on_stale="rebuild")
        assert len(rebuilt) == len(changed)
        assert len(open_vector_store(changed, path=path, embedder=embedder)) == len(changed)


def test_rebuild_reuses_unchanged_vectors_and_embeds_changed_cards(small, embedder, capsys):
    catalog, store, path = small
    from dataclasses import replace

    from index.vectors import load_previous

    changed = Catalog.from_records([replace(RECORDS[0], card_text="A chemistry tutor."), *RECORDS[1:]])
    rebuilt = build_vector_store(changed, embedder=embedder, progress=False, previous=load_previous(path))
    assert f"reusing {len(RECORDS) - 1} unchanged vectors, embedding 1" in capsys.readouterr().err
    assert np.allclose(rebuilt.vectors[1:], store.vectors[1:])  # reused rows are identical
    fresh = build_vector_store(changed, embedder=embedder, progress=False)
    assert np.allclose(rebuilt.vectors, fresh.vectors, atol=2e-3)  # and equal to a from-scratch build


def test_embedder_leaves_the_hub_mode_of_the_process_alone(monkeypatch):
    """Loading the embedding model must not switch later Hub calls of the same process (sync, push) to offline."""
    from index.embed import Embedder

    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    Embedder().encode(["a 7B model for math"])
    assert "HF_HUB_OFFLINE" not in os.environ
