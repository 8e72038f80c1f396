"""``small_lm``: a process reward from a small causal LM that runs on a CPU (default SmolLM2-135M-Instruct).

No small PRM ships on PyPI, so this one asks a small instruct model. Two scorings:

- ``yes_prob`` (default): for each step, the model reads the question and the solution up to that step and is asked
  "Is the last step correct? Answer Yes or No."; the score is P(Yes) / (P(Yes) + P(No)) at its first answer token.
  The prompts of all step prefixes share their chat template, question and earlier steps, so they are packed into
  token tries (`_prefix_tree`) and scored together, each shared token computed once; prefixes already scored are
  cached, so a tree search pays only for its new steps.
- ``logprob``: the step's mean token probability under the model given the question and the previous steps,
  ``exp(mean log p)``: how unsurprising the step is. One forward pass per candidate scores all its steps.

Neither is a trained verifier: a 135M model judges arithmetic weakly. `evals/bench_strategies.py` reports how well
each separates correct from wrong ``arith`` steps (AUROC against the exact verifier), and the strategy table shows
what that is worth.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from recommender.confirm.prms._prefix_tree import last_hidden_states, pack, token_logits
from recommender.confirm.prms.base import PRM

Method = Literal["yes_prob", "logprob"]
_ASK = "Is the last step correct? Answer Yes or No."


class SmallLMPRM(PRM):
    """A PRM from a small local causal LM.

    Args:
        model: an alias (``smollm2-135m-instruct``), folder, ``.gguf`` file or cached Hub id.
        method: ``yes_prob`` or ``logprob`` (see the module docstring).
        device: ``cpu`` or ``cuda``.
        batch_tokens: tokens (rows × packed length) per forward pass.
        max_tree_tokens: the most tokens packed into one prompt trie (attention over a trie grows with its square).

    Example:
        >>> prm = SmallLMPRM()
        >>> prm.score("What is 2 + 3?", [["2 + 3 = 5", "The answer is 5."]])
        [[0.6..., 0.7...]]
    """

    name = "small_lm"

    def __init__(self, model: str = "smollm2-135m-instruct", *, method: Method = "yes_prob", device: str = "cpu",
                 batch_tokens: int = 4096, max_tree_tokens: int = 1024):
        if method not in ("yes_prob", "logprob"):
            from index.errors import UnknownNameError

            raise UnknownNameError("small_lm PRM method", method, ("yes_prob", "logprob"))
        from recommender import models

        self.model_id = model
        self.method = method
        # the name keys cached live results: another scoring (or scorer model) must not reuse them
        self.name = "small_lm" if (method, model) == ("yes_prob", "smollm2-135m-instruct") else \
            f"small_lm:{method}:{model}"
        self.batch_tokens, self.max_tree_tokens = batch_tokens, max_tree_tokens
        self.model, self.tokenizer = models.load_model(models.resolve_model(model), device=device)
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
        todo = sorted(k for k in keys if k not in self._cache)  # sorted: prompts sharing a prefix sit together
        if todo:
            self._cache.update(zip(todo, self._yes_prob([self._judge_prompt(q, s) for q, s in todo])))
        return [[[self._cache[(q, tuple(c[: k + 1]))] for k in range(len(c))] for c in cands] for q, cands in items]

    def _yes_prob(self, prompts: list[str]) -> list[float]:
        seqs = self.tokenizer(prompts, add_special_tokens=False)["input_ids"]
        packed = pack(seqs, self.max_tree_tokens)
        hidden = last_hidden_states(self.model, [tree for tree, _ in packed], pad_id=self.tokenizer.pad_token_id,
                                    batch_tokens=self.batch_tokens)
        probs = [0.0] * len(prompts)
        for (_, indices), h in zip(packed, hidden):
            pair = token_logits(self.model, h, (self._yes, self._no)).softmax(-1)
            for i, p in zip(indices, pair[:, 0].tolist()):
                probs[i] = p
        return probs

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
