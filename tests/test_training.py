"""The training loop behind a curve point: full fine-tuning and LoRA (peft) on a tiny real transformers model.

The model is a 2-layer Llama built from a config (random weights, no download): it exercises the same code path as
the shipped GGUF models at a fraction of the cost.
"""

from __future__ import annotations

import pytest

from recommender.predict._ft_data import Encoded
from recommender.predict._training import evaluate, fresh_copy, train

torch = pytest.importorskip("torch")


@pytest.fixture(scope="module")
def tiny_lm():
    from transformers import LlamaConfig, LlamaForCausalLM

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny matrices: threads only add overhead, and the test machines are shared
    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=64, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=4, max_position_embeddings=64)
    yield LlamaForCausalLM(config).eval()
    torch.set_num_threads(threads)


def _data(n: int) -> list[Encoded]:
    # a learnable pattern: the sequence counts up, only the second half is scored
    return [Encoded(tuple((i + j) % 60 + 2 for j in range(12)), (False,) * 6 + (True,) * 6) for i in range(n)]


def _snapshot(model) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


class TestTrain:
    def test_full_finetune_lowers_loss_and_leaves_the_base_alone(self, tiny_lm):
        data, before = _data(16), _snapshot(tiny_lm)
        base_loss = evaluate(tiny_lm, data, pad_id=0, batch_size=8, device="cpu")
        model = fresh_copy(tiny_lm, lora=False, seed=0)
        stats = train(model, data, epochs=3, batch_size=8, lr=3e-3, seed=0, pad_id=0, device="cpu")
        assert stats.steps == 6 and stats.tokens == 3 * 16 * 12 and stats.seconds > 0
        assert evaluate(model, data, pad_id=0, batch_size=8, device="cpu") < base_loss - 0.1
        assert all(torch.equal(v, tiny_lm.state_dict()[k]) for k, v in before.items())

    def test_lora_trains_only_the_adapters(self, tiny_lm):
        pytest.importorskip("peft")
        data = _data(16)
        base_loss = evaluate(tiny_lm, data, pad_id=0, batch_size=8, device="cpu")
        model = fresh_copy(tiny_lm, lora=True, seed=0)
        trainable = {n for n, p in model.named_parameters() if p.requires_grad}
        assert trainable and all("lora_" in n for n in trainable)
        frozen = {n: p.detach().clone() for n, p in model.named_parameters() if not p.requires_grad}
        train(model, data, epochs=3, batch_size=8, lr=1e-2, seed=0, pad_id=0, device="cpu")
        assert all(torch.equal(p, frozen[n]) for n, p in model.named_parameters() if n in frozen)
        assert evaluate(model, data, pad_id=0, batch_size=8, device="cpu") < base_loss

    def test_lora_initialisation_is_seeded(self, tiny_lm):
        pytest.importorskip("peft")
        a, b, c = (fresh_copy(tiny_lm, lora=True, seed=s) for s in (1, 1, 2))
        pick = lambda m: next(p for n, p in m.named_parameters() if "lora_A" in n)  # noqa: E731
        assert torch.equal(pick(a), pick(b)) and not torch.equal(pick(a), pick(c))

    def test_same_seed_same_run(self, tiny_lm):
        data = _data(16)
        losses = []
        for _ in range(2):
            model = fresh_copy(tiny_lm, lora=False, seed=0)
            train(model, data, epochs=1, batch_size=4, lr=1e-3, seed=0, pad_id=0, device="cpu")
            losses.append(evaluate(model, data, pad_id=0, batch_size=4, device="cpu"))
        assert losses[0] == pytest.approx(losses[1], rel=1e-6)
