"""Tests of `index.families.infer_family`."""

from __future__ import annotations

import pytest

from index.families import family_root, infer_family


class TestInferFamily:
    @pytest.mark.parametrize(
        ("model_id", "architecture", "expected"),
        [
            ("meta-llama/Llama-2-7b-hf", "LlamaForCausalLM", "llama-2"),
            ("meta-llama/Meta-Llama-3-8B-Instruct", "LlamaForCausalLM", "llama-3"),
            ("meta-llama/Llama-3.1-8B-Instruct", "LlamaForCausalLM", "llama-3.1"),
            ("unsloth/Llama-3.2-1B-Instruct", None, "llama-3.2"),
            ("huggyllama/llama-30b", "LlamaForCausalLM", "llama"),  # 30b is a size, not Llama 3
            ("codellama/CodeLlama-7b-hf", "LlamaForCausalLM", "llama-2"),
            ("mistralai/Mistral-7B-v0.1", "MistralForCausalLM", "mistral"),
            ("HuggingFaceH4/zephyr-7b-beta", "MistralForCausalLM", "mistral"),
            ("mistralai/Mixtral-8x7B-v0.1", "MixtralForCausalLM", "mixtral"),
            ("Qwen/Qwen1.5-7B", "Qwen2ForCausalLM", "qwen1.5"),
            ("Qwen/Qwen2-7B", "Qwen2ForCausalLM", "qwen2"),
            ("Qwen/Qwen2.5-7B-Instruct", "Qwen2ForCausalLM", "qwen2.5"),
            ("someone/my-finetune", "Qwen2ForCausalLM", "qwen2"),
            ("Qwen/QwQ-32B", None, "qwen2.5"),
            ("google/gemma-2b", "GemmaForCausalLM", "gemma"),  # Gemma 1 at 2B, not Gemma 2
            ("google/gemma-2-9b-it", "Gemma2ForCausalLM", "gemma-2"),
            ("org/some-merge", "Gemma2ForCausalLM", "gemma-2"),
            ("google/gemma-3-4b-it", None, "gemma-3"),
            ("microsoft/phi-2", "PhiForCausalLM", "phi-2"),
            ("microsoft/Phi-3-mini-4k-instruct", "Phi3ForCausalLM", "phi-3"),
            ("microsoft/phi-4", "Phi3ForCausalLM", "phi-4"),
            ("cognitivecomputations/dolphin-2.6-mistral-7b", None, "mistral"),  # "dolphin" is not "phi"
            ("01-ai/Yi-34B", "LlamaForCausalLM", "yi"),
            ("upstage/SOLAR-10.7B-v1.0", "LlamaForCausalLM", "solar"),
            ("tiiuae/falcon-7b", "FalconForCausalLM", "falcon"),
            ("EleutherAI/pythia-1b", "GPTNeoXForCausalLM", "pythia"),
            ("EleutherAI/gpt-neox-20b", "GPTNeoXForCausalLM", "gpt-neox"),
            ("distilgpt2", None, "gpt2"),
            ("facebook/opt-1.3b", "OPTForCausalLM", "opt"),
            ("bigscience/bloomz-560m", None, "bloom"),
            ("deepseek-ai/DeepSeek-R1-Distill-Qwen-7B", "Qwen2ForCausalLM", "qwen2"),
            ("deepseek-ai/deepseek-llm-7b-base", "LlamaForCausalLM", "deepseek"),
        ],
    )
    def test_cases(self, model_id, architecture, expected):
        assert infer_family(model_id, architecture=architecture) == expected

    def test_llama_architecture_alone_is_unknown(self):
        # Llama-1, Llama-2, Yi and SOLAR share the class: no name, no lineage, no family.
        assert infer_family("someone/great-model-13b", architecture="LlamaForCausalLM") is None

    def test_base_model_decides_when_name_does_not(self):
        assert infer_family("org/chat-13b", architecture="LlamaForCausalLM", base_model="meta-llama/Llama-2-13b-hf") == "llama-2"

    def test_base_model_refines_architecture(self):
        assert infer_family("org/tuned", architecture="Qwen2ForCausalLM", base_model="Qwen/Qwen2.5-7B") == "qwen2.5"

    def test_name_of_other_lineage_does_not_override_architecture(self):
        assert infer_family("org/llama-2-style-merge", architecture="MistralForCausalLM") == "mistral"

    @pytest.mark.parametrize(("params_b", "expected"), [(2.78, "phi-2"), (1.42, "phi"), (None, None)])
    def test_phi_architecture_uses_size(self, params_b, expected):
        assert infer_family("org/tiny-tune", architecture="PhiForCausalLM", params_b=params_b) == expected

    def test_family_root(self):
        assert family_root("qwen2.5") == "qwen"
        assert family_root("llama-3.1") == "llama"
