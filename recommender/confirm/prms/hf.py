"""``hf``: the 7–8B process reward models of search-and-learn, for GPU users.

Written against each model's documented scoring (model cards; search-and-learn ``models/reward_models.py``):

- ``RLHFlow/Llama3.1-8B-PRM-Deepseek-Data`` (default): a Llama-3.1 chat where every step is a user turn (the first
  one prefixed by the question) answered by an assistant turn ``+``; a step's score is the softmax probability of
  ``+`` against ``-`` at the position that predicts that assistant token. One forward pass per candidate scores all
  its steps.
- ``Qwen/Qwen2.5-Math-PRM-7B``: system / user (question) / assistant turn holding the steps joined and ended by
  ``<extra_0>``; the model (custom code: ``Qwen2ForProcessRewardModel``) outputs two logits per token and a step's
  score is the positive-class probability at its ``<extra_0>``. Needs ``trust_remote_code`` naming the model.

Weights are never downloaded: they must already be in the local Hugging Face cache (``hf download MODEL``), else
`PRMWeightsNotFoundError`. Not run here (no GPU, no weights on the project machines): unverified.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from recommender.confirm.prms.base import PRM

RLHFLOW = "RLHFlow/Llama3.1-8B-PRM-Deepseek-Data"
QWEN_PRM = "Qwen/Qwen2.5-Math-PRM-7B"
#: the HF PRMs with a documented scoring here.
HF_PRMS: tuple[str, ...] = (RLHFLOW, QWEN_PRM)
_QWEN_SYSTEM = "Please reason step by step, and put your final answer within \\boxed{}."


def cached_snapshot(model: str) -> str:
    """The local snapshot folder of `model` in the Hugging Face cache.

    Raises:
        PRMWeightsNotFoundError: the model's config is not cached (gemfinder never downloads weights).
    """
    from huggingface_hub import try_to_load_from_cache

    from index.errors import PRMWeightsNotFoundError

    config = try_to_load_from_cache(model, "config.json")
    if not isinstance(config, str):
        raise PRMWeightsNotFoundError(model)
    from pathlib import Path

    return str(Path(config).parent)


class HFPRM(PRM):
    """A 7–8B PRM from the local Hugging Face cache (bfloat16 on CUDA).

    Args:
        model: ``RLHFlow/Llama3.1-8B-PRM-Deepseek-Data`` or ``Qwen/Qwen2.5-Math-PRM-7B``.
        device: ``cuda`` (default) or ``cpu`` (works, but an 8B model on a CPU is very slow).
        trust_remote_code: model ids whose own code may run (the Qwen PRM needs it).

    Raises:
        UnknownNameError: a model without a documented scoring here.
        PRMWeightsNotFoundError: its weights are not in the local cache.
        RemoteCodeRefusedError: the Qwen PRM without ``trust_remote_code=[model]``.
    """

    name = "hf"

    def __init__(self, model: str = RLHFLOW, *, device: str = "cuda", trust_remote_code: Collection[str] = ()):
        from index.errors import RemoteCodeRefusedError, UnknownNameError

        if model not in HF_PRMS:
            raise UnknownNameError("HF PRM", model, HF_PRMS)
        path = cached_snapshot(model)
        trusted = model in trust_remote_code
        if model == QWEN_PRM and not trusted:
            raise RemoteCodeRefusedError(model)
        import torch
        from transformers import AutoModel, AutoModelForCausalLM, AutoTokenizer

        dtype = torch.bfloat16 if device == "cuda" else torch.float32
        self.model_id = model
        self.name = f"hf:{model}"
        self.tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True, trust_remote_code=trusted)
        loader = AutoModel if model == QWEN_PRM else AutoModelForCausalLM
        self.model = loader.from_pretrained(path, dtype=dtype, local_files_only=True,
                                            trust_remote_code=trusted).to(device).eval()
        if model == RLHFLOW:
            self._plus = self.tokenizer.encode("+", add_special_tokens=False)[-1]
            self._minus = self.tokenizer.encode("-", add_special_tokens=False)[-1]
            self._eot = self.tokenizer.convert_tokens_to_ids("<|eot_id|>")
        else:
            self._sep = self.tokenizer.encode("<extra_0>", add_special_tokens=False)[0]

    def score(self, question: str, steps: Sequence[Sequence[str]]) -> list[list[float]]:
        scorer = self._score_rlhflow if self.model_id == RLHFLOW else self._score_qwen
        return [scorer(question, list(c)) if c else [] for c in steps]

    def _score_rlhflow(self, question: str, steps: list[str]) -> list[float]:
        import torch

        conversation = []
        for k, step in enumerate(steps):
            conversation.append({"role": "user", "content": f"{question} {step}" if k == 0 else step})
            conversation.append({"role": "assistant", "content": "+"})
        ids = self.tokenizer.apply_chat_template(conversation, return_tensors="pt", return_dict=False)
        ids = ids.to(self.model.device)
        with torch.inference_mode():
            logits = self.model(ids).logits[0, :, [self._plus, self._minus]].float()
        # each assistant turn is "+<|eot_id|>"; the logits one position before its "+" predict it (the card reads
        # position -3 for the last step). A "+" inside a step's text is never directly followed by <|eot_id|>.
        row = ids[0].tolist()
        plus_at = [p for p in range(1, len(row) - 1) if row[p] == self._plus and row[p + 1] == self._eot]
        return [float(logits[p - 1].softmax(-1)[0]) for p in plus_at]

    def _score_qwen(self, question: str, steps: list[str]) -> list[float]:
        import torch

        messages = [
            {"role": "system", "content": _QWEN_SYSTEM},
            {"role": "user", "content": question},
            {"role": "assistant", "content": "<extra_0>".join(steps) + "<extra_0>"},
        ]
        text = self.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=False)
        ids = self.tokenizer.encode(text, return_tensors="pt").to(self.model.device)
        with torch.inference_mode():
            logits = self.model(input_ids=ids)[0][0].float()
        at = (ids[0] == self._sep).nonzero()[:, 0]
        return [float(p) for p in logits[at].softmax(-1)[:, 1]]

    def close(self) -> None:
        self.model = None  # type: ignore[assignment]
