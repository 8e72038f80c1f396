"""`TransformersEngine`: the `Engine` protocol over a Hugging Face causal LM (CPU or CUDA).

Prompts are batched with left padding (so every row's next token sits in the last column) and decoded with the
model's KV cache by ``model.generate``; ``n`` samples per prompt are ``num_return_sequences`` rows of one batch.
Micro-batches hold prompts of similar length (sorted), so little compute is spent on padding.

Shared prompt prefixes are prefilled once. The prompts of one question set share their instructions and worked
examples (arith: ~300 of ~350 tokens), and the n samples of a prompt share all of it. When a micro-batch's rows
share at least `min_shared_prefix` leading tokens, that prefix runs once through the model, its KV cache is
repeated over the rows, and each row is laid out as ``prefix · padding · own suffix``: the attention mask hides the
padding and position ids follow the mask, so every row sees exactly the positions and keys of its unpadded prompt.

Token counts are exact: one `_Tracker` object sits in ``generate`` both as a logits processor (it sees each step's
raw logits, before temperature / top-p) and as a stopping criterion (called after every appended token). It
records, per row, the step at which the row ended (EOS or a stop string) and the log-probability of every token
the row generated, so neither the padding ``generate`` appends to finished rows nor a pad id equal to the EOS id
can be mistaken for generated tokens.

torch and transformers are imported inside the functions that use them: importing `recommender` stays cheap.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import TYPE_CHECKING

from recommender.confirm.engine import Completion
from recommender.confirm.engines._common import LOAD_ERRORS, TokenizedEngine, as_list, load_failure, truncate_at_stop

if TYPE_CHECKING:
    import torch
    from transformers import PreTrainedModel, PreTrainedTokenizerBase


class TransformersEngine(TokenizedEngine):
    """Batched generation with a transformers model.

    Args:
        model: a causal LM in eval mode, on its device.
        tokenizer: its tokenizer.
        model_id: the name results are reported under (alias, path or Hub id).
        revision: identifies the exact weights (Hub commit, file SHA-256, folder digest); part of cache keys.
        batch_size: sequences (prompts × samples) per forward batch; lower it when memory is short.
        min_shared_prefix: prefill a micro-batch's common leading tokens once when there are at least this many
            (0 turns prefix sharing off).

    Attributes:
        model_id (`str`), revision (`str`), has_chat_template (`bool`): as the `Engine` protocol defines them.
        device (`str`): where the model runs.

    Example:
        >>> engine = TransformersEngine.load("smollm2-135m-instruct")
        >>> engine.generate([engine.format_chat("What is 2 + 3?")], max_tokens=16)[0].completions[0].text
        '2 + 3 = 5'
    """

    def __init__(
        self,
        model: PreTrainedModel,
        tokenizer: PreTrainedTokenizerBase,
        *,
        model_id: str,
        revision: str,
        batch_size: int = 64,
        min_shared_prefix: int = 32,
    ):
        if batch_size < 1:
            raise ValueError(f"batch_size={batch_size!r} must be at least 1.")
        self.min_shared_prefix = min_shared_prefix
        self.model = model
        self.tokenizer = tokenizer
        self.model_id = model_id
        self.revision = revision
        self.batch_size = batch_size
        self.device = str(model.device)
        self.has_chat_template = bool(getattr(tokenizer, "chat_template", None))
        config = model.generation_config
        self._eos = as_list(config.eos_token_id) or as_list(tokenizer.eos_token_id)
        self._pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else self._eos[0]

    @classmethod
    def load(
        cls,
        spec: str,
        *,
        device: str | None = None,
        trust_remote_code: Collection[str] = (),
        batch_size: int = 64,
    ) -> TransformersEngine:
        """Resolve `spec` (alias, folder, ``.gguf`` file or cached Hub id) and load it.

        Args:
            spec: the model as the user names it.
            device: ``cpu`` or ``cuda``; default CUDA when available.
            trust_remote_code: the specs whose own modelling code may run.
            batch_size: see the class.

        Raises:
            UnknownModelError, LocalModelNotInstalledError, ModelNotFoundError, RemoteCodeRefusedError: from
                `recommender.models.resolve_model`.
            ModelLoadError: the weights, config or tokenizer cannot be loaded.
        """
        from recommender.models import load_model, resolve_model

        resolved = resolve_model(spec, trust_remote_code=trust_remote_code)
        try:
            model, tokenizer = load_model(resolved, device=device or _default_device())
        except LOAD_ERRORS as err:
            raise load_failure(spec, err) from err
        return cls(model, tokenizer, model_id=spec, revision=resolved.fingerprint, batch_size=batch_size)

    def _complete(self, encoded: list[list[int]], *, samples: int, stop: tuple[str, ...], temperature: float,
                  top_p: float, max_tokens: int, seed: int | None) -> list[list[Completion]]:
        import torch

        per_batch = max(1, self.batch_size // samples)
        order = sorted(range(len(encoded)), key=lambda i: len(encoded[i]))
        results: list[list[Completion]] = [[] for _ in encoded]
        devices = [self.model.device] if self.model.device.type == "cuda" else []
        # A forked RNG seeds this call only: the caller's global torch state is left as it was.
        with torch.random.fork_rng(devices=devices), torch.inference_mode():
            if seed is not None:
                torch.manual_seed(seed)
            for lo in range(0, len(order), per_batch):
                chunk = order[lo : lo + per_batch]
                rows = self._generate_batch([encoded[i] for i in chunk], samples, stop, temperature, top_p,
                                            max_tokens)
                for j, i in enumerate(chunk):
                    results[i] = rows[j * samples : (j + 1) * samples]
        return results

    def _generate_batch(
        self,
        encoded: list[list[int]],
        samples: int,
        stop: Sequence[str],
        temperature: float,
        top_p: float,
        max_tokens: int,
    ) -> list[Completion]:
        """One left-padded ``generate`` call; completions row by row (prompt-major, ``samples`` per prompt)."""
        import torch

        shared = _common_prefix(encoded) if self.min_shared_prefix else 0
        if shared < self.min_shared_prefix:
            shared = 0
        tails = [e[shared:] for e in encoded]
        width = shared + max(len(t) for t in tails)
        ids = torch.full((len(encoded), width), self._pad, dtype=torch.long)
        mask = torch.zeros((len(encoded), width), dtype=torch.long)
        ids[:, :shared] = torch.tensor(encoded[0][:shared], dtype=torch.long)
        mask[:, :shared] = 1
        for r, t in enumerate(tails):
            ids[r, width - len(t) :] = torch.tensor(t)
            mask[r, width - len(t) :] = 1
        cache = {}
        if shared:
            prefix = ids[:1, :shared].to(self.model.device)
            past = self.model(input_ids=prefix, attention_mask=torch.ones_like(prefix), use_cache=True).past_key_values
            past.batch_repeat_interleave(len(encoded) * samples)
            cache = {"past_key_values": past}
        tracker = _Tracker(self.tokenizer, self._eos, stop, width)
        logits_processor, stopping_criteria = _hooks(tracker)
        sampling = {"do_sample": True, "temperature": temperature, "top_p": top_p, "top_k": 0} if temperature > 0 \
            else {"do_sample": False, "temperature": None, "top_p": None, "top_k": None}
        out = self.model.generate(
            input_ids=ids.to(self.model.device),
            attention_mask=mask.to(self.model.device),
            max_new_tokens=max_tokens,
            num_return_sequences=samples,
            pad_token_id=self._pad,
            eos_token_id=self._eos,
            logits_processor=logits_processor,
            stopping_criteria=stopping_criteria,
            **cache,
            **sampling,
        )
        generated = out[:, width:].tolist()
        return [tracker.completion(r, toks) for r, toks in enumerate(generated)]

    def close(self) -> None:
        import gc

        import torch

        self.model = None  # type: ignore[assignment]
        gc.collect()
        if torch.cuda.is_available():
            torch.cuda.empty_cache()


def _common_prefix(encoded: list[list[int]]) -> int:
    """Leading tokens every row shares, leaving each row at least one token of its own (generate needs one)."""
    first, shortest = encoded[0], min(len(e) for e in encoded)
    n = 0
    while n < shortest - 1 and all(e[n] == first[n] for e in encoded):
        n += 1
    return n


class _Tracker:
    """Per-row end step and token log-probabilities during one ``generate`` call (see the module docstring).

    As a logits processor it keeps the current step's raw log-softmax; as a stopping criterion, called once the
    step's token is appended, it reads that token's log-probability and decides whether the row has ended.
    """

    def __init__(self, tokenizer: PreTrainedTokenizerBase, eos: list[int], stop: Sequence[str], prompt_width: int):
        self.tokenizer = tokenizer
        self.eos = set(eos)
        self.stop = tuple(stop)
        # A stop string of c characters ends within its last token and starts at most c tokens earlier.
        self.window = max((len(s) for s in self.stop), default=0) + 2
        self.prompt_width = prompt_width
        self._logsoftmax: torch.Tensor | None = None
        self.logprobs: list[torch.Tensor] = []
        self.ended_at: list[int] | None = None  # generated-token count at which each row ended; -1 = still open
        self.stop_hit: list[str | None] = []

    def on_logits(self, scores: torch.Tensor) -> None:
        """Logits-processor hook: keep the raw log-softmax of the step about to be sampled."""
        self._logsoftmax = scores.float().log_softmax(-1)

    def on_token(self, input_ids: torch.Tensor) -> torch.Tensor:
        """Stopping-criterion hook, after a token was appended: record it, return which rows have ended."""
        import torch

        rows = input_ids.shape[0]
        if self.ended_at is None:
            self.ended_at = [-1] * rows
            self.stop_hit = [None] * rows
        last = input_ids[:, -1]
        if self._logsoftmax is not None:
            self.logprobs.append(self._logsoftmax.gather(1, last[:, None])[:, 0].cpu())
        step = input_ids.shape[1] - self.prompt_width
        tokens = last.tolist()
        for r in range(rows):
            if self.ended_at[r] >= 0:
                continue
            if tokens[r] in self.eos:
                self.ended_at[r] = step
            elif self.stop:
                tail = self.tokenizer.decode(input_ids[r, -min(self.window, step) :].tolist())
                hit = next((s for s in self.stop if s in tail), None)
                if hit is not None:
                    self.ended_at[r], self.stop_hit[r] = step, hit
        return torch.tensor([e >= 0 for e in self.ended_at], device=input_ids.device)

    def completion(self, row: int, generated: list[int]) -> Completion:
        """The row's completion: its tokens up to where it ended, its text before the stop string."""
        ended = self.ended_at[row] if self.ended_at is not None else -1
        count = ended if ended >= 0 else len(generated)
        text = self.tokenizer.decode(generated[:count], skip_special_tokens=True)
        stop_reason = None
        if ended >= 0 and self.stop_hit[row] is not None:
            text, stop_reason = truncate_at_stop(text, self.stop)
        logprob = float(sum(float(step[row]) for step in self.logprobs[:count])) if self.logprobs else None
        return Completion(text=text, tokens=count, finish_reason="stop" if ended >= 0 else "length",
                          stop_reason=stop_reason, logprob=logprob)


def _hooks(tracker: _Tracker):
    """The tracker as the logits processor and the stopping criterion ``generate`` accepts."""
    from transformers import LogitsProcessor, LogitsProcessorList, StoppingCriteria, StoppingCriteriaList

    class _Logits(LogitsProcessor):
        def __call__(self, input_ids, scores):
            tracker.on_logits(scores)
            return scores

    class _Stop(StoppingCriteria):
        def __call__(self, input_ids, scores, **kwargs):
            return tracker.on_token(input_ids)

    return LogitsProcessorList([_Logits()]), StoppingCriteriaList([_Stop()])


def _default_device() -> str:
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"
