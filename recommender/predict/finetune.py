"""Which candidate will be best after fine-tuning on the user's data? Predicted from a few cheap small runs.

For each candidate model, ``select`` fine-tunes a fresh copy on growing nested subsets of the training pool
(progressive sampling: D = start, start·factor, start·factor², … ≤ min(max_examples, pool size)), records the
mean token loss on a fixed held-out set after each run (the curve point (D, L(D))), plus the zero-shot point L(0),
and fits two scaling laws to the curve:

* LensLLM (Zeng et al., "LensLLM: Unveiling Fine-Tuning Dynamics for LLM Selection", ICML 2025, arXiv 2505.03793):
  L(D) = B / (F(Θ, t) + D^β) + E, with F(Θ, t) the NTK-based term. Here the model is at hand, so F is also computed
  as the paper does — from the empirical NTK of the loss at initialisation on a probe batch of training examples,
  with t the optimiser steps of a run — and reported beside the constant F the fit settles on.
* Rectified (Lin et al., "Selecting Large Language Model to Fine-tune via Rectified Scaling Law", ICML 2024):
  L(D) = B / (D_l + D^β) + E.

Three fits predict L at the full pool size N, each with an uncertainty: ``lensllm`` (F a fitted per-model
constant, reported as ``fitted_F``; algebraically the Rectified form, fitted with LensLLM's transition detection),
``lensllm-ntk`` (F held at the computed F(Θ, t_N), t_N the steps of the full-data run; reported as ``ntk_F``) and
``rectified``. Candidates are ranked by ``lensllm`` (then ``rectified``, then ``lensllm-ntk`` if the others fail).
The NTK-fixed fit does not rank because on real models the computed F is orders of magnitude above the fitted
constant and above D^β at any affordable D (GSM8K fixture, 64-token examples, t_N = 34 steps: SmolLM2-135M
8.6·10³ vs 10, gemma-3-270m 9.8·10⁵ vs 3.3; ``python -m evals.bench_finetune``), so the law can only bend by driving
β to its bound, and in a back-test (refit without D = 64, predict it) it misses by 0.20–0.54 nats where the fitted
constant misses by 0.01: F(Θ, t) as the paper defines it is not on the scale of D^β. Sampling stops for a candidate once the ranking prediction is stable — its relative change between
the last two fits is at most `tolerance` — or when the schedule reaches the cap (`max_examples` or the pool).

Schedule rule: every run trains for `epochs` passes over its subset with batch size `batch_size`, so a run on D
examples takes t = epochs · ⌈D / batch_size⌉ AdamW steps (linear decay to zero, gradient norm clipped at 1), and
the full fine-tune the prediction stands for is the same recipe at D = N. Full fine-tuning by default; LoRA
(peft, rank 16 on the attention and MLP projections) with ``lora=True`` for models too large to train whole.

Every finished point is written to a JSON cache at once (see ``_ft_cache``); a rerun with the same model,
data, seed and hyperparameters reads it instead of training, so an interrupted selection resumes.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import asdict, dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

from index.errors import UsageError
from recommender.predict._ft_cache import DEFAULT_CACHE_DIR, PointCache
from recommender.predict._ft_data import Dataset, read_dataset
from recommender.models import LOCAL_MODELS, ResolvedModel, installed, resolve_model

__all__ = ["select", "FinetuneConfig", "FinetuneSelection", "CandidateResult", "CurvePoint", "LawFit",
           "LOCAL_MODELS", "installed", "resolve_model", "subset_sizes"]

Device = Literal["auto", "cpu", "cuda"]
LawName = Literal["lensllm", "lensllm-ntk", "rectified", "measured"]
StopReason = Literal["stable", "budget", "data"]

#: curve points (the zero-shot one included) needed before a law is fitted.
MIN_FIT_POINTS = 3


@dataclass(frozen=True)
class FinetuneConfig:
    """Settings of one ``finetune-select`` run (everything that changes a curve point is in the cache key).

    Attributes:
        start: smallest training subset, in examples (``--start``).
        factor: ratio between successive subset sizes (``--factor``), > 1.
        max_examples: largest subset allowed (``--max-examples``); None means the whole training pool.
        tolerance: stop sampling once the predicted full-data loss changes by less than this fraction between the
            last two fits.
        epochs: passes over each subset (``--epochs``).
        batch_size: examples per optimiser step.
        lr: AdamW learning rate; None means 5e-5 for full fine-tuning, 2e-4 with LoRA.
        max_length: tokens per example after truncation.
        lora: train LoRA adapters (peft) instead of all weights.
        probe_size: training examples in the probe batch of the NTK term F(Θ, t).
        seed: seeds the split, subset order, batch order and LoRA initialisation.
        device: ``cpu``, ``cuda``, or ``auto`` (the default: ``cuda`` when torch sees a GPU, else ``cpu``).
    """

    # progressive sampling
    start: int = 200
    factor: float = 2.0
    max_examples: int | None = None
    tolerance: float = 0.02
    # training recipe (one per subset size, see the module docstring)
    epochs: int = 1
    batch_size: int = 8
    lr: float | None = None
    max_length: int = 256
    lora: bool = False
    # NTK term and reproducibility
    probe_size: int = 8
    seed: int = 0
    device: Device = "auto"

    def __post_init__(self) -> None:
        if self.start < 1 or self.epochs < 1 or self.batch_size < 1 or self.probe_size < 1:
            raise UsageError("start, epochs, batch_size and probe_size must be at least 1")
        if not self.factor > 1:
            raise UsageError(f"factor must be greater than 1 (got {self.factor}) so that subsets grow")
        if self.max_examples is not None and self.max_examples < self.start:
            raise UsageError(
                f"max_examples ({self.max_examples}) is smaller than start ({self.start}): no subset fits. "
                "Raise --max-examples or lower --start."
            )
        if self.max_length < 8:
            raise UsageError(f"max_length must be at least 8 tokens (got {self.max_length})")
        if not 0 < self.tolerance < 1:
            raise UsageError(f"tolerance must lie in (0, 1) (got {self.tolerance})")
        if self.device not in ("auto", "cpu", "cuda"):
            raise UsageError(f"Unknown device '{self.device}'. Expected one of: auto, cpu, cuda.")

    @property
    def learning_rate(self) -> float:
        """The AdamW learning rate in use."""
        return self.lr if self.lr is not None else (2e-4 if self.lora else 5e-5)

    def recipe(self) -> dict[str, Any]:
        """The training hyperparameters that enter a curve point's cache key."""
        return {"epochs": self.epochs, "batch_size": self.batch_size, "lr": self.learning_rate,
                "max_length": self.max_length, "lora": self.lora, "seed": self.seed}


def resolve_device(device: Device) -> Literal["cpu", "cuda"]:
    """``auto`` becomes ``cuda`` when torch sees a GPU, else ``cpu``; the others stay."""
    if device != "auto":
        return device
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def subset_sizes(config: FinetuneConfig, n_train: int) -> tuple[int, ...]:
    """The progressive-sampling schedule: start, start·factor, … up to the cap (rounded to whole examples).

    Raises:
        UsageError: fewer than two sizes fit under the cap, so no curve can be fitted.

    Example:
        >>> subset_sizes(FinetuneConfig(start=200, max_examples=1000), 5000)
        (200, 400, 800)
    """
    cap = min(n_train, config.max_examples or n_train)
    sizes: list[int] = []
    d = float(config.start)
    while round(d) <= cap:
        if not sizes or round(d) > sizes[-1]:
            sizes.append(round(d))
        d *= config.factor
    if len(sizes) < 2:
        raise UsageError(
            f"Only {len(sizes)} subset size fits under the cap of {cap} training examples "
            f"(start {config.start}, factor {config.factor}); a curve needs two. Lower --start or add data."
        )
    return tuple(sizes)


# Records ----------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CurvePoint:
    """One measured point of a candidate's fine-tuning curve.

    Attributes:
        examples: training-set size D (0 for the zero-shot point).
        loss: held-out mean token loss L(D), nats per target token.
        seconds: wall seconds of training (0 for the zero-shot point).
        tokens: training tokens processed, padding excluded, all epochs (0 for the zero-shot point).
        steps: optimiser steps t of the run.
        eval_seconds: wall seconds of the held-out evaluation.
        cached: read from the cache in this run rather than trained now.
    """

    examples: int
    loss: float
    seconds: float
    tokens: int
    steps: int = 0
    eval_seconds: float = 0.0
    cached: bool = False

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (all fields)."""
        return asdict(self)


@dataclass(frozen=True)
class LawFit:
    """One law's prediction of the full-data loss from a candidate's curve.

    Attributes:
        law: ``lensllm`` or ``rectified``.
        predicted_loss: L(N) at the full training-pool size N.
        uncertainty: its standard deviation (the law's own estimate).
        params: the fitted parameters by paper symbol (``B``, ``E``, ``beta``, ``F`` or ``D_l``).
    """

    law: str
    predicted_loss: float
    uncertainty: float
    params: dict[str, float]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return asdict(self)


@dataclass(frozen=True)
class CandidateResult:
    """A candidate's curve, predictions and costs.

    Attributes:
        model: the name it was given as.
        rank: 1 = lowest predicted full-data loss.
        predicted_loss: the ranking prediction of L(N) (the law in `law`).
        uncertainty: its standard deviation.
        law: which law `predicted_loss` comes from.
        points: the curve, zero-shot point first.
        fits: every law fitted on the whole curve.
        ntk_F: F(Θ, t) computed from the model's NTK at initialisation for the full-data run's t (None when it
            could not be computed).
        fitted_F: the constant F the LensLLM fit settled on (None when that law was not fitted).
        stopped: why sampling ended: ``stable`` prediction, sampling ``budget`` (the cap) reached, or all ``data``.
        compute_tokens: training tokens spent on this candidate's curve.
        compute_seconds: wall seconds spent on it (training and evaluation, from the points).
        full_finetune_tokens_estimate: tokens of one full fine-tune at size N (measured token counts × epochs).
        full_finetune_seconds_estimate: that, over the measured training throughput.
    """

    model: str
    rank: int
    predicted_loss: float
    uncertainty: float
    law: LawName
    points: tuple[CurvePoint, ...]
    fits: tuple[LawFit, ...]
    ntk_F: float | None
    fitted_F: float | None
    stopped: StopReason
    compute_tokens: int
    compute_seconds: float
    full_finetune_tokens_estimate: int
    full_finetune_seconds_estimate: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (the CLI's ``results[]`` entries)."""
        out = asdict(self)
        out["points"] = [p.to_dict() for p in self.points]
        out["fits"] = [f.to_dict() for f in self.fits]
        return out


@dataclass(frozen=True)
class FinetuneSelection:
    """The answer of `select`: candidates ranked by predicted full-data loss.

    Attributes:
        data: the data file.
        n_examples: examples in it.
        n_train: size N of the training pool (the "full data size" predicted for).
        n_heldout: size of the held-out set.
        results: candidates, best first.
        compute_saved: 1 − (tokens spent on all curves) / (tokens of fully fine-tuning every candidate).
        seconds: wall seconds of the whole selection, loading included.
        config: the settings used.
    """

    data: str
    n_examples: int
    n_train: int
    n_heldout: int
    results: tuple[CandidateResult, ...]
    compute_saved: float
    seconds: float
    config: FinetuneConfig = field(default_factory=FinetuneConfig)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict in the ``finetune-select --json`` shape (plus the config)."""
        return {"data": self.data, "n_examples": self.n_examples, "n_train": self.n_train,
                "n_heldout": self.n_heldout, "results": [r.to_dict() for r in self.results],
                "compute_saved": self.compute_saved, "seconds": self.seconds, "config": asdict(self.config)}


# Selection --------------------------------------------------------------------------------------------------------


def select(
    data: str | Path,
    models: Sequence[str],
    *,
    config: FinetuneConfig | None = None,
    cache_dir: str | Path | None = None,
    trust_remote_code: Collection[str] = (),
    progress: Callable[[str], None] | None = None,
) -> FinetuneSelection:
    """Rank candidate models by their predicted loss after fine-tuning on `data`.

    Args:
        data: JSONL file of ``{"text"}`` or ``{"prompt", "completion"}`` lines.
        models: candidates: aliases (``smollm2-135m-instruct``, ``gemma-3-270m``), folders, ``.gguf`` files, or
            Hub ids in the local cache.
        config: sampling and training settings (defaults: `FinetuneConfig()`).
        cache_dir: where curve points are kept (default ``~/.cache/gemfinder/finetune``).
        trust_remote_code: models allowed to run their own code.
        progress: called with one line per step (the CLI prints them on stderr).

    Returns:
        The `FinetuneSelection`.

    Raises:
        UsageError: bad settings, or too little data for two subset sizes.
        DatasetNotFoundError, DatasetFormatError: the data file is missing or malformed.
        UnknownModelError, LocalModelNotInstalledError, ModelNotFoundError, RemoteCodeRefusedError: a candidate
            cannot be used. All of these are raised before any training starts.

    Example:
        >>> sel = select("notes.jsonl", ["smollm2-135m-instruct", "gemma-3-270m"],
        ...              config=FinetuneConfig(start=200, max_examples=800))
        >>> [(r.model, round(r.predicted_loss, 3)) for r in sel.results]
    """
    started = time.perf_counter()
    config = config or FinetuneConfig()
    if not models:
        raise UsageError("No candidate models given; name at least one (e.g. smollm2-135m-instruct).")
    # Check everything cheap first: a typo in the last model name must not cost an hour of training.
    dataset = read_dataset(data, seed=config.seed)
    sizes = subset_sizes(config, len(dataset.train))
    resolved = [resolve_model(m, trust_remote_code=trust_remote_code) for m in dict.fromkeys(models)]
    cache = PointCache(cache_dir or DEFAULT_CACHE_DIR)
    config = replace(config, device=resolve_device(config.device))  # after the checks: this imports torch
    say = progress or (lambda _line: None)
    unranked = [_Candidate(r, dataset, config, cache, say).run(sizes) for r in resolved]
    ranked = sorted(unranked, key=lambda r: (r.predicted_loss, r.model))
    results = tuple(_with_rank(r, i) for i, r in enumerate(ranked, 1))
    full = sum(r.full_finetune_tokens_estimate for r in results)
    saved = 1.0 - sum(r.compute_tokens for r in results) / full if full else 0.0
    return FinetuneSelection(str(data), dataset.n_examples, len(dataset.train), len(dataset.heldout), results,
                             saved, time.perf_counter() - started, config)


def _with_rank(result: CandidateResult, rank: int) -> CandidateResult:
    return replace(result, rank=rank)


class _Candidate:
    """One candidate's progressive sampling; the model and tokenizer load only if a point is not cached."""

    def __init__(self, model: ResolvedModel, dataset: Dataset, config: FinetuneConfig, cache: PointCache,
                 say: Callable[[str], None]):
        self.model, self.dataset, self.config, self.cache, self.say = model, dataset, config, cache, say

    # Loading (lazy) ---------------------------------------------------------------------------------------------

    @cached_property
    def _loaded(self):
        from recommender.models import load_model

        self.say(f"{self.model.name}: loading ({self.model.source})")
        return load_model(self.model, device=self.config.device)

    @cached_property
    def _encoded(self):
        from recommender.predict._ft_data import encode

        tokenizer = self._loaded[1]
        n = self.config.max_length
        return ([encode(e, tokenizer, n) for e in self.dataset.train],
                [encode(e, tokenizer, n) for e in self.dataset.heldout])

    def _key(self, kind: str, **extra: Any) -> dict[str, Any]:
        return {"kind": kind, "model": self.model.name, "fingerprint": self.model.fingerprint,
                "data": self.dataset.sha256, "recipe": self.config.recipe(), **extra}

    # The loop ---------------------------------------------------------------------------------------------------

    def run(self, sizes: Sequence[int]) -> CandidateResult:
        """Sample the curve size by size until the prediction is stable or the schedule ends."""
        facts = self._facts()
        points = [self._zero_shot()]
        fits: tuple[LawFit, ...] = ()
        history: list[float] = []
        stopped: StopReason = "data" if sizes[-1] == len(self.dataset.train) else "budget"
        for d in sizes:
            points.append(self._point(d))
            if len(points) < MIN_FIT_POINTS:
                continue
            from recommender.predict._ft_laws import fit_laws, primary

            fits = fit_laws(points, len(self.dataset.train), self._ntk_F(facts))
            history.append(primary(fits).predicted_loss if fits else math.nan)
            self.say(f"{self.model.name}: D={d} → predicted L(N={len(self.dataset.train)}) = {history[-1]:.4f}")
            if len(history) >= 2 and abs(history[-1] - history[-2]) <= self.config.tolerance * abs(history[-2]):
                stopped = "stable"
                break
        return self._result(points, fits, facts, stopped)

    def _facts(self) -> dict[str, Any]:
        """Per-model facts that need the model once: full-pool token count and the NTK term (cached together)."""
        key = self._key("facts", probe_size=self.config.probe_size)
        cached = self.cache.get(key)
        if cached is not None:
            return cached
        train, _ = self._encoded
        facts = {"train_tokens": sum(len(e.input_ids) for e in train), "ntk_per_step": self._ntk_per_step()}
        self.cache.put(key, facts)
        return facts

    def _ntk_per_step(self) -> float | None:
        """F(Θ, 1) at initialisation, over the parameters the recipe trains (all, or the LoRA adapters)."""
        from recommender.predict._ft_laws import ntk_per_step
        from recommender.predict._training import fresh_copy

        train, _ = self._encoded
        self.say(f"{self.model.name}: NTK term F(Θ, t) on a probe batch of {self.config.probe_size}")
        # ntk_term only reads gradients (autograd.grad), so the base serves for full fine-tuning as it is.
        base = self._loaded[0]
        model = fresh_copy(base, lora=True, seed=self.config.seed) if self.config.lora else base
        return ntk_per_step(model, train[: self.config.probe_size], pad_id=self._loaded[1].pad_token_id,
                            device=self.config.device)

    def _ntk_F(self, facts: dict[str, Any]) -> float | None:
        """F(Θ, t_N): the NTK term for the full-data run the prediction stands for (t_N of its steps)."""
        per_step = facts.get("ntk_per_step")
        return per_step * self._steps(len(self.dataset.train)) if per_step else None

    def _steps(self, d: int) -> int:
        """t: optimiser steps of a run on `d` examples under the recipe."""
        return self.config.epochs * math.ceil(d / self.config.batch_size)

    def _zero_shot(self) -> CurvePoint:
        key = self._key("point", examples=0)
        key["recipe"] = {"max_length": self.config.max_length, "seed": self.config.seed}  # no training: no recipe
        return self._cached_or(key, lambda: self._measure(0))

    def _point(self, d: int) -> CurvePoint:
        return self._cached_or(self._key("point", examples=d), lambda: self._measure(d))

    def _cached_or(self, key: dict[str, Any], measure: Callable[[], CurvePoint]) -> CurvePoint:
        stored = self.cache.get(key)
        if stored is not None:
            point = CurvePoint(**{**stored, "cached": True})
            self.say(f"{self.model.name}: D={point.examples} L={point.loss:.4f} (cached)")
            return point
        point = measure()
        self.cache.put(key, {**point.to_dict(), "cached": False})
        return point

    def _measure(self, d: int) -> CurvePoint:
        """Train a fresh copy on the first `d` pool examples (none for d = 0) and evaluate it on the held-out set."""
        from recommender.predict import _training as T

        base, tokenizer = self._loaded
        train, heldout = self._encoded
        c = self.config
        model, stats = base, T.RunStats(0, 0, 0.0)
        if d:
            self.say(f"{self.model.name}: training on {d} examples ({c.epochs} epoch(s))")
            model = T.fresh_copy(base, lora=c.lora, seed=c.seed)
            stats = T.train(model, train[:d], epochs=c.epochs, batch_size=c.batch_size, lr=c.learning_rate,
                            seed=c.seed, pad_id=tokenizer.pad_token_id, device=c.device)
        t0 = time.perf_counter()
        loss = T.evaluate(model, heldout, pad_id=tokenizer.pad_token_id, batch_size=c.batch_size, device=c.device)
        point = CurvePoint(d, loss, stats.seconds, stats.tokens, stats.steps, time.perf_counter() - t0)
        self.say(f"{self.model.name}: D={d} L={loss:.4f} ({stats.seconds:.1f} s train, {stats.tokens:,} tokens)")
        return point

    def _result(self, points: list[CurvePoint], fits: tuple[LawFit, ...], facts: dict[str, Any],
                stopped: StopReason) -> CandidateResult:
        c = self.config
        n = len(self.dataset.train)
        spent_tokens = sum(p.tokens for p in points)
        train_seconds = sum(p.seconds for p in points)
        full_tokens = facts["train_tokens"] * c.epochs
        throughput = spent_tokens / train_seconds if train_seconds > 0 else math.nan
        measured = next((p for p in points if p.examples == n), None)
        from recommender.predict._ft_laws import primary

        best = primary(fits) if fits else None
        lens = next((f for f in fits if f.law == "lensllm"), None)
        if measured is not None:  # the whole pool was trained on: the measurement beats any prediction
            loss, std, law = measured.loss, 0.0, "measured"
        elif best is not None:
            loss, std, law = best.predicted_loss, best.uncertainty, best.law
        else:
            loss, std, law = points[-1].loss, abs(points[-1].loss - points[-2].loss), "measured"
        return CandidateResult(
            self.model.name, 0, loss, std, law, tuple(points), fits,
            self._ntk_F(facts),
            lens.params.get("F") if lens else None, stopped, spent_tokens,
            sum(p.seconds + p.eval_seconds for p in points), full_tokens,
            full_tokens / throughput if throughput == throughput and throughput > 0 else math.nan,
        )
