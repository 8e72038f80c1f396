"""Model trees on real shipped ids: family + canonical size, tree names, unplaced models, the size report."""

from __future__ import annotations

import pytest

from recommender.confirm.recorded import load_responses
from recommender.confirm.trees import ALL_TREE, build_trees, canonical_size, place_models, tree_report


@pytest.fixture(scope="module")
def gsm8k_ids():
    return load_responses("gsm8k").model_ids


@pytest.mark.parametrize(("model_id", "tree"), [
    ("mistralai/Mistral-7B-v0.1", "mistral-7b"),
    ("HuggingFaceH4/zephyr-7b-beta", "mistral-7b"),
    ("meta-llama/Llama-2-13b-hf", "llama-2-13b"),
    ("meta-llama/Llama-2-7b-hf", "llama-2-7b"),
    ("meta-llama/Meta-Llama-3-8B", "llama-3-8b"),
    ("Qwen/Qwen1.5-7B", "qwen1.5-7b"),
    ("mistralai/Mixtral-8x7B-v0.1", "mixtral-8x7b"),
    ("upstage/SOLAR-10.7B-v1.0", "solar-10.7b"),
    ("01-ai/Yi-34B", "yi-34b"),
    ("Gryphe/MythoMax-L2-13b", "llama-2-13b"),  # "-L2-": a name habit the catalog's family does not read
])
def test_real_models_land_in_their_tree(shipped_catalog, model_id, tree):
    assert place_models([model_id], shipped_catalog)[model_id] == tree


def test_unknown_models_are_unplaced(shipped_catalog):
    assert place_models(["nobody/never-heard-of-it"], shipped_catalog) == {"nobody/never-heard-of-it": None}


@pytest.mark.parametrize(("family", "params", "label"), [
    ("llama-2", 6.0, "7b"), ("llama-2", 6.74, "7b"), ("llama-2", 12.0, "13b"), ("mistral", 7.24, "7b"),
    ("mistral", 10.7, "10.7b"), ("mixtral", 46.7, "8x7b"), ("gemma", 8.54, "7b"), ("pythia", 0.16, "0.16b"),
    ("falcon", 21.0, "21b"), ("mistral", 10.0, "10b"),
])
def test_canonical_size(family, params, label):
    assert canonical_size(family, params) == label


def test_gsm8k_trees_and_report(shipped_catalog, gsm8k_ids):
    trees = build_trees(gsm8k_ids, shipped_catalog, mode="auto")
    sizes = [len(m) for m in trees.values()]
    assert sizes == sorted(sizes, reverse=True)  # largest first
    assert 1500 < len(trees["mistral-7b"]) < 1800
    assert {"llama-2-13b", "llama-3-8b", "llama-2-7b"} <= {t for t, m in trees.items() if len(m) >= 100}
    assert "mistralai/Mistral-7B-v0.1" in trees["mistral-7b"]
    report = tree_report("gsm8k", gsm8k_ids, shipped_catalog)
    assert report.sizes == {t: len(m) for t, m in trees.items()}
    # every model is in exactly one tree, unplaced, or unknown to the catalog
    assert sum(report.sizes.values()) + report.unplaced + report.not_in_catalog == report.n_models == len(gsm8k_ids)
    assert 500 < report.unplaced < 2000  # mostly LlamaForCausalLM fine-tunes without a generation in name or lineage
    assert report.trees_at_least(1000) == {"mistral-7b": len(trees["mistral-7b"])}


def test_mode_none_is_one_tree(gsm8k_ids):
    trees = build_trees(gsm8k_ids[:10], None, mode="none")
    assert trees == {ALL_TREE: tuple(gsm8k_ids[:10])}
    assert tree_report("x", gsm8k_ids[:10], None, mode="none").sizes == {ALL_TREE: 10}


def test_bad_mode(shipped_catalog):
    with pytest.raises(ValueError, match="Unknown tree mode 'family'"):
        build_trees(["a/b"], shipped_catalog, mode="family")
    with pytest.raises(ValueError, match="needs the catalog"):
        build_trees(["a/b"], None, mode="auto")
