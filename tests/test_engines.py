"""TransformersEngine on the real PyPI-shipped SmolLM2-135M-Instruct: batching, exact token counts, stops, samples.

The reference for "exact" is the model itself run one prompt at a time with no padding and no stopping criteria
of ours: a batched, left-padded call must produce the same greedy text and the same generated-token count.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from index.errors import ModelLoadError, RemoteCodeRefusedError, UnknownModelError
from recommender.confirm.engine import Engine

PROMPTS = [
    "What is 7 + 5? Answer with the number.",
    "Name a colour of the sky.",
    "Write one sentence about cats.",
    "List two fruits, separated by a comma.",
    "What is the capital of France? One word.",
    "Count from 1 to 5.",
]


@pytest.fixture(scope="module")
def engine(smollm2_engine):
    return smollm2_engine


@pytest.fixture(scope="module")
def chats(engine):
    return [engine.format_chat(p) for p in PROMPTS]


def _reference(engine, prompt: str, max_tokens: int) -> tuple[str, int]:
    """Greedy text and generated-token count of one prompt alone, by plain ``model.generate``."""
    import torch

    ids = torch.tensor([engine.tokenizer(prompt)["input_ids"]])
    with torch.inference_mode():
        out = engine.model.generate(input_ids=ids, attention_mask=torch.ones_like(ids), max_new_tokens=max_tokens,
                                    do_sample=False, temperature=None, top_p=None, top_k=None,
                                    pad_token_id=engine.tokenizer.pad_token_id)
    generated = out[0, ids.shape[1]:].tolist()
    return engine.tokenizer.decode(generated, skip_special_tokens=True), len(generated)


class TestTransformersEngine:
    def test_implements_the_protocol(self, engine):
        assert isinstance(engine, Engine)
        assert engine.has_chat_template
        assert len(engine.revision) == 64  # the GGUF file's SHA-256

    def test_chat_template_applied(self, engine):
        prompt = engine.format_chat("Hi", system="Be brief.")
        assert prompt.startswith("<|im_start|>system\nBe brief.<|im_end|>")
        assert prompt.endswith("<|im_start|>assistant\n")

    def test_history_turns_come_before_the_question(self, engine):
        prompt = engine.format_chat("2 + 2?", history=[("1 + 1?", "2")])
        assert prompt.index("1 + 1?") < prompt.index("<|im_start|>assistant\n2<|im_end|>") < prompt.index("2 + 2?")
        assert prompt.endswith("<|im_start|>assistant\n")

    def test_batched_greedy_matches_one_at_a_time(self, engine, chats):
        generations = engine.generate(chats, max_tokens=16)
        assert len(generations) == len(chats)
        agree = 0
        for prompt, generation in zip(chats, generations):
            (completion,) = generation.completions
            text, tokens = _reference(engine, prompt, 16)
            if completion.text == text:
                agree += 1
                assert completion.tokens == tokens, (prompt, completion)
            assert completion.finish_reason == ("length" if completion.tokens == 16 else "stop")
            assert generation.prompt_tokens == len(engine.tokenizer(prompt)["input_ids"])
        # float32 left-padded batches can flip a near-tie argmax; nearly all must agree exactly.
        assert agree >= len(chats) - 1
        assert sum(g.seconds for g in generations) > 0

    def test_stop_strings_cut_text_and_tokens(self, engine, chats):
        free = engine.generate(chats, max_tokens=24)
        stopped = engine.generate(chats, max_tokens=24, stop=[" ", "\n"])
        for a, b in zip(free, stopped):
            full, cut = a.completions[0], b.completions[0]
            if " " not in full.text:
                continue
            assert cut.stop_reason in (" ", "\n")
            assert cut.finish_reason == "stop"
            assert " " not in cut.text and full.text.startswith(cut.text)
            assert 0 < cut.tokens < full.tokens

    def test_n_samples_seeded(self, engine, chats):
        first = engine.generate(chats[:2], n=4, temperature=1.0, max_tokens=8, seed=3)
        again = engine.generate(chats[:2], n=4, temperature=1.0, max_tokens=8, seed=3)
        other = engine.generate(chats[:2], n=4, temperature=1.0, max_tokens=8, seed=4)
        assert [len(g.completions) for g in first] == [4, 4]
        assert first == [g.__class__(g.completions, g.prompt_tokens, f.seconds) for g, f in zip(again, first)]
        assert [g.completions for g in first] != [g.completions for g in other]
        assert len({c.text for c in first[0].completions}) >= 2
        for g in first:
            assert g.tokens == sum(c.tokens for c in g.completions) and all(0 < c.tokens <= 8 for c in g.completions)
            assert all(c.logprob is not None and c.logprob <= 0 for c in g.completions)

    def test_greedy_n_repeats(self, engine, chats):
        (generation,) = engine.generate(chats[:1], n=3, max_tokens=8)
        assert len(generation.completions) == 3 and len(set(generation.completions)) == 1

    def test_small_batch_size_same_answers(self, engine, chats):
        from recommender.confirm.engines import TransformersEngine

        small = TransformersEngine(engine.model, engine.tokenizer, model_id="x", revision="y", batch_size=2)
        a = [g.completions[0].text for g in small.generate(chats, max_tokens=8)]
        b = [g.completions[0].text for g in engine.generate(chats, max_tokens=8)]
        assert sum(x == y for x, y in zip(a, b)) >= len(chats) - 1

    @pytest.mark.parametrize(
        ("kwargs", "match"),
        [({"n": 0}, "n=0"), ({"temperature": -1.0}, "temperature"), ({"top_p": 0.0}, "top_p"),
         ({"max_tokens": 0}, "max_tokens")],
    )
    def test_bad_arguments(self, engine, kwargs, match):
        with pytest.raises(ValueError, match=match):
            engine.generate(["hi"], **kwargs)

    def test_one_string_is_refused(self, engine):
        with pytest.raises(ValueError, match="not one string"):
            engine.generate("hi")


class TestLoadEngine:
    def test_remote_code_refused_then_allowed_by_name(self, tmp_path):
        from recommender.confirm.engines import load_engine

        folder = tmp_path / "custom-model"
        folder.mkdir()
        (folder / "config.json").write_text(json.dumps({"model_type": "custom", "auto_map": {"AutoModel": "x.Y"}}))
        with pytest.raises(RemoteCodeRefusedError, match="--trust-remote-code"):
            load_engine(str(folder))
        # Named by the user it is no longer refused; it then fails to load (no weights), with a one-line reason.
        with pytest.raises(ModelLoadError, match="custom-model"):
            load_engine(str(folder), trust_remote_code=(str(folder),))

    def test_unknown_model_and_backend(self):
        from recommender.confirm.engines import load_engine

        with pytest.raises(UnknownModelError, match="smollm2-135m-instruct"):
            load_engine("no-such-model")
        with pytest.raises(ValueError, match="transformers, vllm"):
            load_engine("smollm2-135m-instruct", backend="onnx")  # type: ignore[arg-type]


def test_import_is_lazy():
    code = (
        "import sys, recommender, recommender.confirm, recommender.confirm.engines, recommender.confirm.live\n"
        "print([m for m in ('torch', 'transformers', 'vllm') if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
