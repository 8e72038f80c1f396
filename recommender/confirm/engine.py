"""The evaluation engine contract (DESIGN "Contracts"): one interface, several back ends.

An engine turns prompts into completions and reports what they cost. `TransformersEngine` and `VLLMEngine` are two
implementations of this protocol, not two code paths: strategies (greedy, majority, Best-of-N, beam search, DVTS)
and the live oracle only ever call `Engine.generate`.

Cost is honest: ``tokens`` counts only generated tokens (prompt tokens are free to the strategies' budget
accounting but are reported in ``prompt_tokens``), ``seconds`` is wall time of the call that produced it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable


@dataclass(frozen=True)
class Completion:
    """One generated continuation of one prompt.

    Attributes:
        text (`str`): the generated text only (never the prompt); a matched stop string is not included.
        tokens (`int`): generated tokens, counting the stop token / EOS if one was produced.
        finish_reason (`str`): ``"stop"`` (EOS or a stop string) or ``"length"`` (hit ``max_tokens``).
        stop_reason (`str`, *optional*): the stop string that ended it; `None` for EOS or length.
        logprob (`float`, *optional*): sum of the generated tokens' log-probabilities when the engine reports
            them; `None` otherwise.
    """

    text: str
    tokens: int
    finish_reason: str
    stop_reason: str | None = None
    logprob: float | None = None


@dataclass(frozen=True)
class Generation:
    """The completions for one prompt and what producing them cost.

    Attributes:
        completions (`tuple[Completion, ...]`): exactly ``n`` completions, in sample order.
        prompt_tokens (`int`): tokens in the prompt (after chat templating).
        seconds (`float`): this prompt's share of the call's wall time (call time × its share of generated tokens).
    """

    completions: tuple[Completion, ...]
    prompt_tokens: int
    seconds: float

    @property
    def tokens(self) -> int:
        """Generated tokens over all completions."""
        return sum(c.tokens for c in self.completions)


@runtime_checkable
class Engine(Protocol):
    """What strategies and the live oracle may ask of a loaded model.

    Attributes:
        model_id (`str`): what the user named (alias, path or Hub id); results are reported under it.
        revision (`str`): identifies the exact weights (commit hash or file digest); part of the cache key.
        has_chat_template (`bool`): whether `format_chat` applies the model's own template.
    """

    model_id: str
    revision: str
    has_chat_template: bool

    def format_chat(self, user: str, *, system: str | None = None,
                    history: Sequence[tuple[str, str]] = ()) -> str:
        """The prompt string for one user turn, after the earlier ``(user, assistant)`` turns of `history`: the
        model's chat template when it has one, else the turns as plain text, one paragraph each."""
        ...

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
        """Complete every prompt ``n`` times (batched); one `Generation` per prompt, in order.

        ``temperature=0`` is greedy decoding (then ``n > 1`` repeats the same completion). ``seed`` makes sampling
        reproducible for a given engine and batch.
        """
        ...

    def close(self) -> None:
        """Release the model (memory, worker processes)."""
        ...
