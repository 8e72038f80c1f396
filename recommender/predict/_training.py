"""The training and evaluation loops behind one curve point (PyTorch; imported lazily by `finetune`).

One run: a fresh copy of the candidate, AdamW with a linear decay to zero, `epochs` passes over the subset in a
seeded order, gradient norm clipped at 1. Evaluation: the mean token cross-entropy over the held-out targets
(summed over tokens, divided by their count, so long examples weigh by their length as in the LensLLM and
Rectified-law curves).
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch
    from transformers import PreTrainedModel

    from recommender.predict._ft_data import Encoded

#: LoRA settings used with ``lora=True``: rank, scaling alpha and the projection names it adapts when present.
LORA_RANK = 16
LORA_ALPHA = 32
LORA_TARGETS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")


@dataclass(frozen=True)
class RunStats:
    """What one fine-tuning run cost: optimiser steps, tokens processed (padding excluded) and wall seconds."""

    steps: int
    tokens: int
    seconds: float


def collate(batch: Sequence[Encoded], pad_id: int, device: str) -> dict[str, torch.Tensor]:
    """Right-pad a batch into ``input_ids``, ``attention_mask`` and ``labels`` (-100 where nothing is scored)."""
    import torch

    width = max(len(e.input_ids) for e in batch)
    ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(batch), width), dtype=torch.long)
    labels = torch.full((len(batch), width), -100, dtype=torch.long)
    for row, e in enumerate(batch):
        n = len(e.input_ids)
        ids[row, :n] = torch.tensor(e.input_ids)
        mask[row, :n] = 1
        labels[row, :n] = torch.where(torch.tensor(e.target), ids[row, :n], -100)
    return {"input_ids": ids.to(device), "attention_mask": mask.to(device), "labels": labels.to(device)}


def token_nll(model: PreTrainedModel, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, int]:
    """(summed next-token negative log-likelihood over the batch's targets, number of targets)."""
    import torch.nn.functional as F

    logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits[:, :-1]
    labels = batch["labels"][:, 1:]
    loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]).float(), labels.reshape(-1),
                           ignore_index=-100, reduction="sum")
    return loss, int((labels != -100).sum())


def evaluate(model: PreTrainedModel, data: Sequence[Encoded], *, pad_id: int, batch_size: int, device: str) -> float:
    """Mean token loss of `model` on `data` (nats per target token)."""
    import torch

    # Length-sorted batches pad least; the mean does not depend on the order.
    ordered = sorted(data, key=lambda e: len(e.input_ids))
    total, count = 0.0, 0
    model.eval()
    with torch.no_grad():
        for start in range(0, len(ordered), batch_size):
            loss, n = token_nll(model, collate(ordered[start:start + batch_size], pad_id, device))
            total, count = total + float(loss), count + n
    return total / max(count, 1)


def fresh_copy(base: PreTrainedModel, *, lora: bool, seed: int) -> PreTrainedModel:
    """A trainable copy of `base` (all weights, or LoRA adapters only), leaving `base` untouched."""
    import torch

    model = copy.deepcopy(base)
    if not lora:
        return model.train()
    from peft import LoraConfig, get_peft_model

    names = {name.rsplit(".", 1)[-1] for name, _ in model.named_modules()}
    config = LoraConfig(r=LORA_RANK, lora_alpha=LORA_ALPHA, lora_dropout=0.0, task_type="CAUSAL_LM",
                        target_modules=[t for t in LORA_TARGETS if t in names] or "all-linear")
    # peft initialises the adapters from torch's global generator: fork it so the seed stays local to this run.
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return get_peft_model(model, config).train()


def train(
    model: PreTrainedModel,
    data: Sequence[Encoded],
    *,
    epochs: int,
    batch_size: int,
    lr: float,
    seed: int,
    pad_id: int,
    device: str,
) -> RunStats:
    """Fine-tune `model` in place on `data`; return the steps, tokens and seconds it took."""
    import torch

    steps_total = epochs * math.ceil(len(data) / batch_size)
    params = [p for p in model.parameters() if p.requires_grad]
    optimiser = torch.optim.AdamW(params, lr=lr, weight_decay=0.0)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimiser, lambda step: 1.0 - step / steps_total)
    steps = tokens = 0
    started = time.perf_counter()
    model.train()
    for batch in _batches(data, epochs=epochs, batch_size=batch_size, seed=seed):
        loss_sum, n = token_nll(model, collate(batch, pad_id, device))
        (loss_sum / max(n, 1)).backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        optimiser.step()
        schedule.step()
        optimiser.zero_grad(set_to_none=True)
        steps, tokens = steps + 1, tokens + sum(len(e.input_ids) for e in batch)
    if device == "cuda":
        torch.cuda.synchronize()  # kernels run asynchronously: wait so the seconds are real
    return RunStats(steps, tokens, time.perf_counter() - started)


def _batches(data: Sequence[Encoded], *, epochs: int, batch_size: int, seed: int) -> Iterator[Sequence[Encoded]]:
    import numpy as np

    rng = np.random.default_rng(seed)
    for _ in range(epochs):
        order = rng.permutation(len(data))
        for start in range(0, len(data), batch_size):
            yield [data[i] for i in order[start:start + batch_size]]
