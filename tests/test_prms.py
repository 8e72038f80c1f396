"""PRMs: the exact arith step verifier, the small-LM PRM on the real SmolLM2, the HF PRM's refusal without weights."""

from __future__ import annotations

import pytest

from index.errors import PRMWeightsNotFoundError, UnknownNameError
from recommender.confirm.datasets import arith, load_dataset
from recommender.confirm.prms import PRMS, default_prm, load_prm
from recommender.confirm.prms._prefix_tree import PrefixTree, pack

QUESTION = ("Mia has 47 marbles. Then she finds 28 more marbles. Then she gives away 19 marbles. Then she ends up "
            "with 2 times as many marbles as before. How many marbles does Mia have now?")


class TestVerifier:
    prm = load_prm("verifier")

    def test_gold_solution_scores_all_ones(self):
        for q in arith.generate(25, steps=4, digits=2, seed=5):
            steps = q.meta["solution"].split("\n\n")
            assert self.prm.score(q.text, [steps]) == [[1.0] * len(steps)]

    @pytest.mark.parametrize(
        ("steps", "expected"),
        [
            (["47 + 28 = 75", "75 - 19 = 56", "56 * 2 = 112", "The answer is 112."], [1, 1, 1, 1]),
            (["28 + 47 = 75", "75 − 19 = 56", "56 × 2 = 112", "The answer is 112"], [1, 1, 1, 1]),  # commuted, unicode
            (["47 + 28 = 74", "74 - 19 = 55", "55 * 2 = 110", "The answer is 110."], [0, 0, 0, 0]),  # error propagates
            (["47 + 28 = 74", "47 + 28 = 75", "75 - 19 = 56"], [0, 1, 1]),  # a repaired step scores again
            (["Let's think.", "47 + 28 = 75"], [0, 1]),  # prose is not a step of the format
            (["47 + 28 = 75, so 75 - 19 = 56", "56 * 2 = 112. The answer is 112."], [1, 1]),
            (["47 + 28 = 75", "75 + 19 = 94"], [1, 0]),  # true arithmetic, wrong event
            (["19 - 75 = -56"], [0]),  # operands swapped for a subtraction
            (["The answer is 112."], [1]),
            (["The answer is 111."], [0]),
            ([], []),
        ],
    )
    def test_step_cases(self, steps, expected):
        assert self.prm.score(QUESTION, [steps]) == [[float(e) for e in expected]]

    def test_batched_over_questions(self):
        ds = load_dataset("arith", limit=3)
        items = [(q.text, [q.meta["solution"].split("\n\n"), ["1 + 1 = 3"]]) for q in ds.questions]
        out = self.prm.score_batch(items)
        assert [[max(c) if c else None for c in per_q] for per_q in out] == [[1.0, 0.0]] * 3

    def test_refuses_non_arith_question(self):
        with pytest.raises(ValueError, match="only arith problems.*small_lm"):
            self.prm.score("What is the capital of France?", [["Paris"]])


def test_registry():
    assert PRMS == ("verifier", "small_lm", "hf")
    assert default_prm("arith") == "verifier" and default_prm("gsm8k") == "small_lm"
    with pytest.raises(UnknownNameError, match="Unknown PRM 'oracle'.*verifier, small_lm, hf"):
        load_prm("oracle")


class TestHF:
    def test_weights_not_in_cache_is_a_clear_error(self, tmp_path, monkeypatch):
        monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))
        import huggingface_hub.constants as c

        monkeypatch.setattr(c, "HF_HUB_CACHE", str(tmp_path))
        with pytest.raises(PRMWeightsNotFoundError, match="RLHFlow/Llama3.1-8B-PRM-Deepseek-Data.*hf download"):
            load_prm("hf")

    def test_unknown_hf_prm(self):
        with pytest.raises(UnknownNameError, match="Unknown HF PRM"):
            load_prm("hf", model="someone/prm")


class TestPrefixTree:
    def test_shared_prefixes_are_stored_once(self):
        tree = PrefixTree()
        assert [tree.add(s) for s in ([1, 2, 3], [1, 2, 4, 5], [1, 2, 3], [7])] == [0, 1, 2, 3]
        assert tree.tokens == [1, 2, 3, 4, 5, 7]
        assert tree.parents == [-1, 0, 1, 1, 3, -1]
        assert tree.depths == [0, 1, 2, 2, 3, 0]
        assert tree.ends == [2, 4, 2, 5]
        assert tree.new_nodes([1, 2, 4, 6, 6]) == 2
        with pytest.raises(ValueError, match="empty"):
            tree.add([])

    def test_pack_respects_the_node_budget(self):
        packed = pack([[1, 2, 3], [1, 2, 4], [9, 9, 9, 9], [1, 5]], max_nodes=4)
        assert [(len(t), idx) for t, idx in packed] == [(4, [0, 1]), (4, [2]), (2, [3])]


@pytest.fixture(scope="module")
def small_prm():
    return load_prm("small_lm")


class TestSmallLM:
    def test_scores_every_step_in_unit_interval(self, small_prm):
        out = small_prm.score_batch([(QUESTION, [["47 + 28 = 75", "75 - 19 = 56"], ["47 + 28 = 13"]]),
                                     ("What is 2 + 3?", [["2 + 3 = 5", "The answer is 5."]])])
        assert [[len(c) for c in per_q] for per_q in out] == [[2, 1], [2]]
        assert all(0.0 <= s <= 1.0 for per_q in out for c in per_q for s in c)

    def test_prefix_scores_are_cached_and_consistent(self, small_prm):
        first = small_prm.score(QUESTION, [["47 + 28 = 75", "75 - 19 = 56"]])[0]
        cached = len(small_prm._cache)
        longer = small_prm.score(QUESTION, [["47 + 28 = 75", "75 - 19 = 56", "56 * 2 = 112"]])[0]
        assert len(small_prm._cache) == cached + 1  # only the new step was scored
        assert longer[:2] == first

    def test_packed_prompts_score_as_if_alone(self, small_prm):
        import torch

        prompts = [small_prm._judge_prompt(QUESTION, steps) for steps in
                   (["47 + 28 = 75"], ["47 + 28 = 75", "75 - 19 = 56"], ["47 + 28 = 13"], ["The answer is 9."])]
        alone = []
        for p in prompts:
            ids = small_prm.tokenizer(p, return_tensors="pt", add_special_tokens=False)["input_ids"]
            with torch.inference_mode():
                pair = small_prm.model(input_ids=ids).logits[0, -1, [small_prm._yes, small_prm._no]].softmax(-1)
            alone.append(float(pair[0]))
        assert small_prm._yes_prob(prompts) == pytest.approx(alone, abs=1e-4)
        # a trie too small for two prompts: each gets its own row, batched with padding
        small_prm.max_tree_tokens, small_prm.batch_tokens = 8, 10_000
        try:
            assert small_prm._yes_prob(prompts) == pytest.approx(alone, abs=1e-4)
        finally:
            small_prm.max_tree_tokens, small_prm.batch_tokens = 1024, 4096

    def test_logprob_method(self):
        prm = load_prm("small_lm", method="logprob")
        (scores,) = prm.score(QUESTION, [["47 + 28 = 75", "75 - 19 = 56"]])
        assert len(scores) == 2 and all(0.0 < s <= 1.0 for s in scores)
        # the same steps as a prefix of a longer solution get the same scores (causal model, same context)
        (longer,) = prm.score(QUESTION, [["47 + 28 = 75", "75 - 19 = 56", "56 * 2 = 112"]])
        assert longer[:2] == pytest.approx(scores, abs=1e-4)

    def test_unknown_method(self):
        with pytest.raises(UnknownNameError, match="yes_prob, logprob"):
            load_prm("small_lm", method="vibes")
