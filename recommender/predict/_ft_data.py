"""The user's fine-tuning data: reading and checking the JSONL file, the held-out split, tokenisation.

Two line shapes are accepted: ``{"text": ...}`` (every token is a training target) and ``{"prompt": ...,
"completion": ...}`` (only completion tokens are targets, as in ordinary supervised fine-tuning; the model's chat
template wraps the pair when it has one).
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from index.errors import DatasetFormatError, DatasetNotFoundError

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerBase

#: held-out share of the data, and its floor and ceiling in examples (the ceiling keeps evaluation after every
#: curve point cheap: 256 examples give a mean token loss whose standard error is far below the gaps between points).
HELDOUT_FRACTION = 0.1
MIN_HELDOUT = 16
MAX_HELDOUT = 256


@dataclass(frozen=True)
class Example:
    """One training example. `prompt` is "" for ``{"text": ...}`` lines, whose whole `completion` is the target."""

    prompt: str
    completion: str


@dataclass(frozen=True)
class Dataset:
    """A checked data file split into a training pool and a fixed held-out set.

    Attributes:
        path: the file read.
        sha256: hash of the file's bytes (part of every cache key).
        train: the training pool in seeded order; a subset of size D is its first D examples, so subsets are nested.
        heldout: the held-out examples, the same for every candidate and subset size.
    """

    path: str
    sha256: str
    train: tuple[Example, ...]
    heldout: tuple[Example, ...]

    @property
    def n_examples(self) -> int:
        """Examples in the file."""
        return len(self.train) + len(self.heldout)


def read_dataset(path: str | Path, *, seed: int = 0) -> Dataset:
    """Read and check a JSONL file, then split it with `seed` into training pool and held-out set.

    Args:
        path: JSONL file, one example object per line (blank lines are skipped).
        seed: seeds the shuffle behind both the split and the order of the training pool.

    Returns:
        The `Dataset`.

    Raises:
        DatasetNotFoundError: no such file.
        DatasetFormatError: the file is empty, a line is not a usable example (the message names it), or there are
            too few examples for a held-out set of `MIN_HELDOUT` plus one to train on.
    """
    file = Path(path)
    if not file.is_file():
        raise DatasetNotFoundError(str(path))
    raw = file.read_bytes()
    examples = [_parse_line(str(path), i, line) for i, line in enumerate(raw.splitlines(), 1) if line.strip()]
    if not examples:
        raise DatasetFormatError(str(path), "the file has no examples")
    n_heldout = min(MAX_HELDOUT, max(MIN_HELDOUT, math.ceil(HELDOUT_FRACTION * len(examples))))
    if len(examples) <= n_heldout:
        raise DatasetFormatError(
            str(path), f"{len(examples)} examples are too few: {n_heldout} are held out, so at least "
            f"{n_heldout + 1} are needed"
        )
    order = np.random.default_rng(seed).permutation(len(examples))
    shuffled = tuple(examples[i] for i in order)
    return Dataset(str(path), hashlib.sha256(raw).hexdigest(), shuffled[n_heldout:], shuffled[:n_heldout])


def _parse_line(path: str, number: int, line: bytes) -> Example:
    try:
        obj = json.loads(line)
    except ValueError as err:
        raise DatasetFormatError(path, f"not valid JSON ({err.__class__.__name__}: {err})", number) from None
    if not isinstance(obj, dict):
        raise DatasetFormatError(path, f"expected an object, got {type(obj).__name__}", number)
    if "text" in obj:
        text = obj["text"]
        if not isinstance(text, str) or not text.strip():
            raise DatasetFormatError(path, "'text' must be a non-empty string", number)
        return Example("", text)
    prompt, completion = obj.get("prompt"), obj.get("completion")
    if not isinstance(prompt, str) or not isinstance(completion, str) or not completion.strip():
        raise DatasetFormatError(
            path, f"needs 'text', or string 'prompt' and non-empty 'completion' (keys: {sorted(obj)})", number
        )
    return Example(prompt, completion)


@dataclass(frozen=True)
class Encoded:
    """A tokenised example: input ids and the mask of target positions (tokens whose loss counts)."""

    input_ids: tuple[int, ...]
    target: tuple[bool, ...]

    @property
    def n_targets(self) -> int:
        """Tokens scored (the first token is never a target: nothing predicts it)."""
        return sum(self.target[1:])


def encode(example: Example, tokenizer: PreTrainedTokenizerBase, max_length: int) -> Encoded:
    """Tokenise one example for a model, applying its chat template to prompt/completion pairs when it has one.

    A long prompt is cut from the left so that the completion keeps at least half of `max_length`: a
    completion cut to nothing would give the example no targets.
    """
    prompt_ids, completion_ids = _split_ids(example, tokenizer)
    keep_completion = min(len(completion_ids), max(max_length - len(prompt_ids), max_length // 2))
    prompt_ids = prompt_ids[max(0, len(prompt_ids) - (max_length - keep_completion)):]
    completion_ids = completion_ids[:keep_completion]
    ids = tuple(prompt_ids) + tuple(completion_ids)
    return Encoded(ids, (False,) * len(prompt_ids) + (True,) * len(completion_ids))


def _split_ids(example: Example, tokenizer: PreTrainedTokenizerBase) -> tuple[list[int], list[int]]:
    eos = tokenizer.eos_token or ""
    if not example.prompt:
        ids = tokenizer(example.completion + eos)["input_ids"]
        return ids[:1], ids[1:]  # the first token (BOS or the first word) only conditions
    if getattr(tokenizer, "chat_template", None):
        prompt_msgs = [{"role": "user", "content": example.prompt}]
        full_msgs = prompt_msgs + [{"role": "assistant", "content": example.completion}]
        prompt_text = tokenizer.apply_chat_template(prompt_msgs, tokenize=False, add_generation_prompt=True)
        full_text = tokenizer.apply_chat_template(full_msgs, tokenize=False)
        # Templates render their special tokens as text, so tokenise without adding them again.
        if full_text.startswith(prompt_text):
            return (tokenizer(prompt_text, add_special_tokens=False)["input_ids"],
                    tokenizer(full_text[len(prompt_text):], add_special_tokens=False)["input_ids"])
    prompt_ids = tokenizer(example.prompt.rstrip() + "\n")["input_ids"]
    return prompt_ids, tokenizer(example.completion + eos, add_special_tokens=False)["input_ids"]
