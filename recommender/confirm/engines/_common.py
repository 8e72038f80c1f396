"""What both engines share: argument checks, prompt formatting and tokenisation, and assembling `Generation`s.

Both engines tokenise prompts here, with the same rule, so the same prompt string costs the same prompt tokens and
reaches the model as the same ids whichever back end runs it.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from recommender.confirm.engine import Completion, Generation

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerBase


class TokenizedEngine:
    """The `Engine` protocol's shared half: chat formatting, argument checks, tokenisation, cost assembly.

    A subclass sets ``tokenizer``, ``model_id``, ``revision`` and ``has_chat_template`` and implements
    `_complete`: the completions of already-tokenised prompts (one sample when decoding is greedy).
    """

    tokenizer: PreTrainedTokenizerBase
    model_id: str
    revision: str
    has_chat_template: bool

    def format_chat(self, user: str, *, system: str | None = None,
                    history: Sequence[tuple[str, str]] = ()) -> str:
        return format_chat(self.tokenizer, user, system, history)

    def generate(
        self,
        prompts: Sequence[str],
        *,
        n: int = 1,
        stop: Sequence[str] | None = None,
        temperature: float = 0.0,
        top_p: float = 1.0,
        max_tokens: int = 256,
        seed: int | None = None,
    ) -> list[Generation]:
        check_generate_args(prompts, n, temperature, top_p, max_tokens)
        if not prompts:
            return []
        start = time.perf_counter()
        encoded = [encode_prompt(self.tokenizer, p) for p in prompts]
        samples = n if temperature > 0 else 1
        completions = self._complete(encoded, samples=samples, stop=tuple(stop or ()), temperature=temperature,
                                     top_p=top_p, max_tokens=max_tokens, seed=seed)
        return assemble(completions, [len(e) for e in encoded], time.perf_counter() - start, n)

    def _complete(self, encoded: list[list[int]], *, samples: int, stop: tuple[str, ...], temperature: float,
                  top_p: float, max_tokens: int, seed: int | None) -> list[list[Completion]]:
        """`samples` completions per tokenised prompt, in prompt order."""
        raise NotImplementedError


def check_generate_args(prompts: Sequence[str], n: int, temperature: float, top_p: float, max_tokens: int) -> None:
    """Refuse a request no engine can honour, before any work.

    Raises:
        ValueError: naming the argument and the allowed range.
    """
    if isinstance(prompts, str):
        raise ValueError("prompts must be a sequence of strings, not one string; wrap it: generate([prompt]).")
    if not all(isinstance(p, str) for p in prompts):
        raise ValueError("prompts must all be strings (format chat turns with engine.format_chat first).")
    if n < 1:
        raise ValueError(f"n={n!r} must be at least 1 (completions per prompt).")
    if temperature < 0:
        raise ValueError(f"temperature={temperature!r} must be ≥ 0 (0 is greedy decoding).")
    if not 0 < top_p <= 1:
        raise ValueError(f"top_p={top_p!r} must be in (0, 1].")
    if max_tokens < 1:
        raise ValueError(f"max_tokens={max_tokens!r} must be at least 1.")


def format_chat(tokenizer: PreTrainedTokenizerBase, user: str, system: str | None,
                history: Sequence[tuple[str, str]] = ()) -> str:
    """One user turn, after the `history` turns, through the tokenizer's chat template; without a template, the
    turns as plain text (each reply directly after its user message, turns a paragraph apart)."""
    if not getattr(tokenizer, "chat_template", None):
        turns = [f"{u}{a}" for u, a in history] + [user]
        return "\n\n".join(([system] if system is not None else []) + turns)
    messages = [{"role": "system", "content": system}] if system is not None else []
    for u, a in history:
        messages += [{"role": "user", "content": u}, {"role": "assistant", "content": a}]
    messages.append({"role": "user", "content": user})
    return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)


def encode_prompt(tokenizer: PreTrainedTokenizerBase, prompt: str) -> list[int]:
    """The prompt's token ids; a BOS the chat template already wrote is not added a second time."""
    bos = tokenizer.bos_token
    add_special = not (bos and prompt.startswith(bos))
    ids = tokenizer(prompt, add_special_tokens=add_special)["input_ids"]
    if not ids:
        raise ValueError("a prompt is empty after tokenisation; every prompt needs at least one token.")
    return list(ids)


def truncate_at_stop(text: str, stop: Sequence[str]) -> tuple[str, str | None]:
    """``(text before the earliest stop string, that string)``; ``(text, None)`` when none occurs."""
    best: tuple[int, str] | None = None
    for s in stop:
        at = text.find(s)
        if at >= 0 and (best is None or at < best[0]):
            best = (at, s)
    return (text, None) if best is None else (text[: best[0]], best[1])


def assemble(
    completions: Sequence[Sequence[Completion]], prompt_tokens: Sequence[int], seconds: float, n: int
) -> list[Generation]:
    """One `Generation` per prompt with exactly `n` completions and its share of the call's wall time.

    A greedy call generates each prompt once (the samples would be identical); the one completion is repeated to
    the ``n`` the caller asked for, as the protocol promises.
    """
    rows = [tuple(c) * (n // len(c)) if len(c) != n else tuple(c) for c in completions]
    total = sum(c.tokens for row in rows for c in row) or 1
    return [
        Generation(completions=row, prompt_tokens=p, seconds=seconds * sum(c.tokens for c in row) / total)
        for row, p in zip(rows, prompt_tokens)
    ]


#: what loaders raise for weights, configs or tokenizers they cannot use (our own errors pass through unchanged).
LOAD_ERRORS = (OSError, ValueError, RuntimeError, KeyError, TypeError, AttributeError)


def load_failure(model_id: str, err: BaseException) -> Exception:
    """`err` from a loader as a `ModelLoadError` with a one-line reason; gemfinder's own errors stay as they are."""
    from index.errors import GemfinderError, ModelLoadError

    if isinstance(err, GemfinderError):
        return err
    first = str(err).strip().splitlines()[0] if str(err).strip() else ""
    return ModelLoadError(model_id, f"{type(err).__name__}: {first}".rstrip(": "))


def as_list(value: Any) -> list[int]:
    """An id or a list of ids (generation configs hold either) as a list."""
    if value is None:
        return []
    return [int(v) for v in value] if isinstance(value, (list, tuple)) else [int(value)]

