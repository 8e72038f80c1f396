"""``small_lm``: a process reward from a small causal LM that runs on a CPU (default SmolLM2-135M-Instruct).

No small PRM ships on PyPI, so this one asks a small instruct model. Two scorings:

- ``yes_prob`` (default): for each step, the model reads the question and the solution up to that step and is asked
  "Is the last step correct? Answer Yes or No."; the score is P(Yes) / (P(Yes) + P(No)) at its first answer token.
  One forward pass per (question, step prefix); prefixes already scored are cached, so a tree search pays only for
  its new steps.
- ``logprob``: the step's mean token probability under the model given the question and the previous steps,
  ``exp(mean log p)``: how unsurprising the step is. One forward pass per candidate scores all its steps.

Neither is a trained verifier: a 135M model judges arithmetic weakly. `evals/bench_strategies.py` reports how well
each separates correct from wrong ``arith`` steps (AUROC against the exact verifier), and the strategy table shows
what that is worth.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal

from recommender.confirm.prms.base import PRM

if TYPE_CHECKING:
    import torch

Method = Literal["yes_prob", "logprob"]
_ASK = "Is the last step correct? Answer Yes or No."


class SmallLMPRM(PRM):
    """A PRM from a small local causal LM.

    Args:
        model: an alias (``smollm2-135m-instruct``), folder, ``.gguf`` file or cached Hub id.
        method: ``yes_prob`` or ``logprob`` (see the module docstring).
        device: ``cpu`` or ``cuda``.
        batch_size: sequences per forward pass.

    Example:
        >>> prm = SmallLMPRM()
        >>> prm.score("What is 2 + 3?", [["2 + 3 = 5", "The answer is 5."]])
        [[0.6..., 0.7...]]
    """

    name = "small_lm"

    def __init__(self, model: str = "smollm2-135m-instruct", *, method: Method = "yes_prob", device: str = "cpu",
                 batch_size: int = 16):
        if method not in ("yes_prob", "logprob"):
            from index.errors import UnknownNameError

            raise UnknownNameError("small_lm PRM method", method, ("yes_prob", "logprob"))
        from recommender import models

        self.model_id = model
        self.method = method
        # the name keys cached live results: another scoring (or scorer model) must not reuse them
        self.name = "small_lm" if (method, model) == ("yes_prob", "smollm2-135m-instruct") else \
            f"small_lm:{method}:{model}"
        self.batch_size = batch_size
        self.model, self.tokenizer = models.load_model(models.resolve_model(model), device=device)
        self.tokenizer.padding_side = "left"
        self._yes = self.tokenizer.encode("Yes", add_special_tokens=False)[0]
        self._no = self.tokenizer.encode("No", add_special_tokens=False)[0]
        self._cache: dict[tuple[str, tuple[str, ...]], float] = {}
        self._lp_cache: dict[tuple[str, tuple[str, ...]], list[float]] = {}

    # Prompts --------------------------------------------------------------------------------------------------

    def _chat(self, user: str, assistant: str | None = None) -> str:
        messages = [{"role": "user", "content": user}]
        if getattr(self.tokenizer, "chat_template", None):
            text = self.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        else:
            text = f"{user}\n\n"
        return text + (assistant or "")

    def _judge_prompt(self, question: str, steps: Sequence[str]) -> str:
        solution = "\n\n".join(steps)
        return self._chat(f"Question: {question}\n\nSolution so far:\n{solution}\n\n{_ASK}")

    # Scoring --------------------------------------------------------------------------------------------------

    def score(self, question: str, steps: Sequence[Sequence[str]]) -> list[list[float]]:
        return self.score_batch([(question, steps)])[0]

    def score_batch(self, items: Sequence[tuple[str, Sequence[Sequence[str]]]]) -> list[list[list[float]]]:
        if self.method == "logprob":
            return [[self._logprob_steps(q, list(c)) for c in cands] for q, cands in items]
        keys = {(q, tuple(c[: k + 1])) for q, cands in items for c in cands for k in range(len(c))}
        todo = sorted(k for k in keys if k not in self._cache)
        for lo in range(0, len(todo), self.batch_size):
            chunk = todo[lo : lo + self.batch_size]
            probs = self._yes_prob([self._judge_prompt(q, s) for q, s in chunk])
            self._cache.update(zip(chunk, probs))
        return [[[self._cache[(q, tuple(c[: k + 1]))] for k in range(len(c))] for c in cands] for q, cands in items]

    def _forward(self, texts: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
        import torch

        batch = self.tokenizer(texts, return_tensors="pt", padding=True, add_special_tokens=False)
        batch = {k: v.to(self.model.device) for k, v in batch.items()}
        with torch.inference_mode():
            logits = self.model(**batch).logits.float()
        return logits, batch["input_ids"]

    def _yes_prob(self, prompts: list[str]) -> list[float]:
        logits, _ = self._forward(prompts)
        pair = logits[:, -1, [self._yes, self._no]].softmax(-1)
        return [float(p) for p in pair[:, 0]]

    def _logprob_steps(self, question: str, steps: list[str]) -> list[float]:
        """exp(mean token log-prob) of each step, from one teacher-forced pass over the whole solution."""
        import torch

        if not steps:
            return []
        key = (question, tuple(steps))
        if key in self._lp_cache:
            return self._lp_cache[key]
        prefix = self._chat(f"Question: {question}")
        spans, text = [], prefix
        for k, step in enumerate(steps):
            start = len(text)
            text += step
            spans.append((start, len(text)))
            if k < len(steps) - 1:
                text += "\n\n"
        enc = self.tokenizer(text, return_offsets_mapping=True, add_special_tokens=False)
        ids = torch.tensor([enc["input_ids"]], device=self.model.device)
        with torch.inference_mode():
            logp = self.model(input_ids=ids).logits.float().log_softmax(-1)[0]
        token_logp = logp[:-1].gather(1, ids[0, 1:, None])[:, 0].cpu()  # log p(token t | tokens < t), t >= 1
        scores = []
        for start, end in spans:
            picked = [token_logp[t - 1] for t, (a, b) in enumerate(enc["offset_mapping"]) if t > 0 and a < end and b > start]
            scores.append(float(torch.stack(picked).mean().exp()) if picked else 0.0)
        self._lp_cache[key] = scores
        return scores

    def close(self) -> None:
        self.model = None  # type: ignore[assignment]
        self._cache.clear()
        self._lp_cache.clear()
