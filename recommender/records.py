"""The records a recommendation is made of: progress events, per-pick evidence, the answer itself.

Every record is a frozen dataclass with a `to_dict` giving its JSON form (``gemfinder recommend --json``, the chat
app's table). Scores, predictions and measured accuracies are points on the 0–100 scale (DESIGN "Units").
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Stage_T = Literal["parse", "retrieve", "predict", "confirm", "answer"]
StageStatus_T = Literal["started", "progress", "done", "skipped"]
Confirm_T = Literal["auto", "recorded", "live", "none", "exhaustive"]

#: the pipeline's stages, in order.
STAGES: tuple[str, ...] = ("parse", "retrieve", "predict", "confirm", "answer")


@dataclass(frozen=True)
class StageEvent:
    """One progress report of one pipeline stage (streamed to the chat while the request runs).

    Attributes:
        stage (`str`): a `Stage_T` name.
        status (`str`): ``started``, ``progress`` (counts moved), ``done`` or ``skipped`` (message says why).
        message (`str`): one human sentence.
        done (`int`, *optional*): units of work finished (candidates scored, queries spent); `None` when not counted.
        total (`int`, *optional*): units of work planned; `None` when not known.
        seconds (`float`): wall time since the request started.
    """

    stage: str
    status: str
    message: str
    done: int | None = None
    total: int | None = None
    seconds: float = 0.0

    @property
    def fraction(self) -> float | None:
        """``done / total`` in [0, 1], or `None` when either is unknown."""
        if self.done is None or not self.total:
            return None
        return min(1.0, self.done / self.total)

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "fraction": self.fraction}


@dataclass(frozen=True)
class KnownScore:
    """A benchmark score the catalog holds for a pick.

    Attributes:
        benchmark (`str`): the benchmark.
        value (`float`): points.
        source (`str`): where it comes from (a catalog source name).
        date (`str`, *optional*): ISO date of the evaluation or snapshot; `None` when the source gives none.
    """

    benchmark: str
    value: float
    source: str
    date: str | None = None


@dataclass(frozen=True)
class Prediction:
    """The predicted task score of a pick.

    Attributes:
        mean (`float`): points; the mean over the task's benchmarks of the known score where there is one and the
            catalog prior's prediction otherwise.
        std (`float`): its uncertainty in points (0 when every benchmark's score is known).
        interval (`tuple[float, float]`): the prior's 80% interval ``mean ± 1.2816·std``, clipped to 0–100.
        per_benchmark (`dict[str, tuple[float, float]]`): benchmark → (mean, std) used; std 0 where known.
        source (`str`): ``"known"`` (all known), ``"prior"`` (all predicted) or ``"known+prior"``.
    """

    mean: float
    std: float
    interval: tuple[float, float]
    per_benchmark: dict[str, tuple[float, float]]
    source: str


@dataclass(frozen=True)
class Measurement:
    """An accuracy measured in the confirm stage.

    Attributes:
        accuracy (`float`): points (correct / n × 100).
        n (`int`): questions asked.
        interval (`tuple[float, float]`): 95% Wilson score interval in points.
        source (`str`): ``"recorded:<benchmark>"`` (a replayed response matrix) or ``"live:<dataset>"``.
        tokens (`int`): tokens generated to answer them (0 for a recorded matrix).
        seconds (`float`): wall time spent (0 for a recorded matrix).
        strategy (`str`, *optional*): the test-time strategy and N, e.g. ``"majority@4"``; `None` when recorded.
    """

    accuracy: float
    n: int
    interval: tuple[float, float]
    source: str
    tokens: int = 0
    seconds: float = 0.0
    strategy: str | None = None


@dataclass(frozen=True)
class Pick:
    """One recommended model with the evidence behind it.

    Attributes:
        rank (`int`): 1-based position in the answer.
        id (`str`): Hugging Face id.
        params_b (`float`, *optional*): parameters in billions; `None` when unknown.
        license (`str`, *optional*): Hub licence id; `None` when unknown.
        family (`str`, *optional*): base family.
        popularity (`int`, *optional*): likes where known, else downloads; `None` when neither is known.
        popularity_kind (`str`, *optional*): ``"likes"`` or ``"downloads"``, matching `popularity`.
        price_per_1m_tokens (`float`, *optional*): hosted price in USD where known.
        why_retrieved (`str`): how retrieval found it and why it ranks where it does.
        known_scores (`tuple[KnownScore, ...]`): the catalog's scores on the task's benchmarks.
        prediction (`Prediction`, *optional*): predicted task score ± σ; `None` when no task or no prior.
        measured (`Measurement`, *optional*): confirm-stage accuracy; `None` when not evaluated.
        queries (`int`): evaluation queries spent on this model.
        tokens (`int`): tokens generated for it.
        gem (`bool`): a hidden gem of the eligible set (see `recommender.pipeline`).
        gem_reason (`str`): why it is (or is not) a gem, one sentence.
        best_strategy (`str`, *optional*): where evaluated live, the best (strategy, N) within the budget.
    """

    rank: int
    id: str
    params_b: float | None
    license: str | None
    family: str | None
    popularity: int | None
    popularity_kind: str | None
    price_per_1m_tokens: float | None
    why_retrieved: str
    known_scores: tuple[KnownScore, ...] = ()
    prediction: Prediction | None = None
    measured: Measurement | None = None
    queries: int = 0
    tokens: int = 0
    gem: bool = False
    gem_reason: str = ""
    best_strategy: str | None = None

    @property
    def score(self) -> float | None:
        """The best evidence of task performance: measured, else predicted (points); `None` when neither."""
        if self.measured is not None:
            return self.measured.accuracy
        return None if self.prediction is None else self.prediction.mean

    def comparable_prediction(self) -> tuple[str, float, float] | None:
        """The prediction to set beside `measured`: ``(benchmark, mean, std)`` on the benchmark it was measured on
        when the prediction covers it, else ``("task mean", mean, std)``; `None` without a prediction.

        The task mean averages all the task's benchmarks (gsm8k and math_lvl5 for math), so next to an accuracy on
        one of them it would read as a wildly wrong forecast.
        """
        if self.prediction is None:
            return None
        if self.measured is not None:
            benchmark = self.measured.source.partition(":")[2]
            if benchmark in self.prediction.per_benchmark:
                mean, std = self.prediction.per_benchmark[benchmark]
                return benchmark, mean, std
        return "task mean", self.prediction.mean, self.prediction.std

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["known_scores"] = [asdict(s) for s in self.known_scores]
        return out


@dataclass(frozen=True)
class DiscoveryBudget:
    """The evaluation budget of one request, in queries, and how it was derived.

    Attributes:
        queries (`int`): evaluation queries allowed (one question to one model = one query).
        stated (`str`): the budget as the user gave it (``"$20"``, ``"2 GPU-hours"``, ``"500 queries"``) or
            ``"default"``.
        assumptions (`tuple[str, ...]`): the conversion's stated assumptions (empty for a budget in queries).
    """

    queries: int
    stated: str
    assumptions: tuple[str, ...] = ()


@dataclass(frozen=True)
class Recommendation:
    """The answer to one request.

    Attributes:
        query (`str`): the request as cleaned.
        task (`str`, *optional*): the inferred task; `None` when the request names none.
        benchmarks (`tuple[str, ...]`): the task's benchmarks.
        constraints (`dict`): the hard filters (`search.query.Constraints.to_dict`), plus a price bound if any.
        eligible (`int`): catalog models that pass the filters.
        picks (`tuple[Pick, ...]`): best first.
        budget (`DiscoveryBudget`): the discovery budget.
        spent_queries (`int`): queries spent in the confirm stage.
        spent_tokens (`int`): tokens generated in the confirm stage.
        stages (`dict[str, str]`): stage → what happened (``"done: ..."``, ``"skipped: <why>"``).
        notes (`tuple[str, ...]`): advice for the user (fine-tuning, missing data, budget assumptions).
        seconds (`float`): wall time of the request.
    """

    query: str
    task: str | None
    benchmarks: tuple[str, ...]
    constraints: dict[str, Any]
    eligible: int
    picks: tuple[Pick, ...]
    budget: DiscoveryBudget
    spent_queries: int = 0
    spent_tokens: int = 0
    stages: dict[str, str] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    seconds: float = 0.0

    @property
    def gems(self) -> tuple[Pick, ...]:
        """The picks flagged as hidden gems."""
        return tuple(p for p in self.picks if p.gem)

    def to_dict(self) -> dict[str, Any]:
        return {
            "query": self.query, "task": self.task, "benchmarks": list(self.benchmarks),
            "constraints": self.constraints, "eligible": self.eligible,
            "picks": [p.to_dict() for p in self.picks],
            "budget": asdict(self.budget), "spent_queries": self.spent_queries, "spent_tokens": self.spent_tokens,
            "stages": dict(self.stages), "notes": list(self.notes), "seconds": round(self.seconds, 3),
        }


def wilson_interval(correct: float, n: int, *, z: float = 1.959964) -> tuple[float, float]:
    """95% Wilson score interval of a proportion, in points (0–100).

    Args:
        correct: number of correct answers.
        n: number of questions (0 gives the whole range).
        z: normal quantile (1.96 for 95%).

    Returns:
        ``(low, high)`` in points.

    Example:
        >>> wilson_interval(8, 10)
        (49.02, 94.33)
    """
    if n <= 0:
        return (0.0, 100.0)
    p = correct / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return (round(100 * max(0.0, centre - half), 2), round(100 * min(1.0, centre + half), 2))
