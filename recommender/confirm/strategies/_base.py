"""Shared types and helpers of the test-time strategies: the run config, the per-question result, voting, scoring.

Cost accounting is exact: every helper that calls ``engine.generate`` charges the returned completions, generated
tokens and seconds to the question they belong to (a `_Ledger`), and PRM time is charged in proportion to the
candidates scored; a `Solution` reports nothing it did not pay for.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, get_args

if TYPE_CHECKING:
    from recommender.confirm.datasets import Dataset, Question
    from recommender.confirm.engine import Completion, Engine, Generation
    from recommender.confirm.prms import PRM

StrategyName = Literal["greedy", "majority", "best_of_n", "weighted_best_of_n", "beam_search", "dvts"]
Aggregation = Literal["last", "min", "prod"]
#: strategies that need a PRM.
PRM_STRATEGIES = ("best_of_n", "weighted_best_of_n", "beam_search", "dvts")
#: strategies that search over steps (N must be a multiple of the width M).
TREE_STRATEGIES = ("beam_search", "dvts")
#: steps are paragraphs: completions are split, and tree searches stop generating, at a blank line.
STEP_SEPARATOR = "\n\n"


@dataclass(frozen=True)
class StrategyConfig:
    """How to answer one question with one model: the strategy and its budget.

    Attributes:
        name (`str`): one of ``greedy``, ``majority``, ``best_of_n``, ``weighted_best_of_n``, ``beam_search``,
            ``dvts``.
        n (`int`): the budget N: samples (majority, Best-of-N), beams (beam search: N in the paper), or leaves
            (DVTS: N/M subtrees of M). ``greedy`` takes only 1.
        width (`int`): M, the beam width / the candidates each DVTS subtree expands per step (tree searches only).
        temperature (`float`): sampling temperature (``greedy`` always decodes at 0).
        top_p (`float`): nucleus sampling mass.
        max_tokens (`int`): per engine call: a whole solution for greedy / majority / Best-of-N, one step for the
            tree searches (their last step may run to this length too).
        max_steps (`int`): tree searches stop expanding after this many steps.
        aggregation (`str`): how step scores make a solution score: ``last`` step, ``min`` over steps, or ``prod``.
        seed (`int`): the engine's sampling seed (each engine call of a run gets its own, derived from it).
    """

    name: str
    n: int = 1
    # Tree search ---------------------------------------------------------------------------------------------
    width: int = 4
    max_steps: int = 8
    aggregation: str = "last"
    # Sampling ------------------------------------------------------------------------------------------------
    temperature: float = 0.8
    top_p: float = 1.0
    max_tokens: int = 256
    seed: int = 0

    def __post_init__(self):
        from index.errors import UnknownNameError

        if self.name not in get_args(StrategyName):
            raise UnknownNameError("strategy", self.name, get_args(StrategyName))
        if self.aggregation not in get_args(Aggregation):
            raise UnknownNameError("aggregation", self.aggregation, get_args(Aggregation))
        if self.n < 1 or self.width < 1 or self.max_tokens < 1 or self.max_steps < 1:
            raise ValueError(f"n, width, max_tokens and max_steps must be >= 1; got n={self.n}, width={self.width}, "
                             f"max_tokens={self.max_tokens}, max_steps={self.max_steps}.")
        if self.name == "greedy" and self.n != 1:
            raise ValueError(f"greedy decodes once: n must be 1, got n={self.n}. Use majority for N samples.")
        if self.name in TREE_STRATEGIES and self.n % self.width:
            raise ValueError(f"{self.name} needs n to be a multiple of width (N/M subtrees or kept beams); got "
                             f"n={self.n}, width={self.width}.")
        if self.temperature < 0 or not 0 < self.top_p <= 1:
            raise ValueError(f"temperature must be >= 0 and top_p in (0, 1]; got temperature={self.temperature}, "
                             f"top_p={self.top_p}.")

    @property
    def label(self) -> str:
        """``name@N`` (``dvts@16/M4`` for tree searches): how tables and cache keys name the configuration."""
        return f"{self.name}@{self.n}" + (f"/M{self.width}" if self.name in TREE_STRATEGIES else "")


@dataclass(frozen=True)
class Candidate:
    """One finished (or cut-off) solution a strategy considered.

    Attributes:
        text (`str`): the solution text (steps joined by a blank line).
        answer (`str`, *optional*): its extracted final answer; None when it states none.
        score (`float`, *optional*): its aggregated PRM score in [0, 1]; None for strategies without a PRM.
        finished (`bool`): it ended by EOS, a final answer or the length limit (not cut at a step boundary).
        subtree (`int`, *optional*): the DVTS subtree or beam-search lineage it came from; None otherwise.
    """

    text: str
    answer: str | None
    score: float | None = None
    finished: bool = True
    subtree: int | None = None


@dataclass(frozen=True)
class Solution:
    """A strategy's answer to one question and what it cost.

    Attributes:
        question_id (`str`): `Question.id`.
        answer (`str`, *optional*): the chosen final answer; None when no candidate stated one.
        text (`str`): the chosen candidate's text (the best-scored one holding `answer`).
        generations (`int`): engine completions made for this question (exactly what was generated).
        tokens (`int`): generated tokens over those completions (prompt tokens excluded).
        seconds (`float`): this question's share of engine wall time plus its share of PRM time.
        candidates (`tuple[Candidate, ...]`): what the answer was chosen from.
    """

    question_id: str
    answer: str | None
    text: str
    generations: int
    tokens: int
    seconds: float
    candidates: tuple[Candidate, ...] = field(default=(), repr=False)


# Cost accounting ----------------------------------------------------------------------------------------------------


class _Ledger:
    """Per-question generations, tokens and seconds."""

    def __init__(self, n_questions: int):
        self.generations = [0] * n_questions
        self.tokens = [0] * n_questions
        self.seconds = [0.0] * n_questions

    def charge(self, question: int, generation: Generation) -> None:
        self.generations[question] += len(generation.completions)
        self.tokens[question] += generation.tokens
        self.seconds[question] += generation.seconds

    def charge_seconds(self, shares: Sequence[tuple[int, int]], seconds: float) -> None:
        """Spread `seconds` over questions by weight: `shares` = (question, weight) pairs."""
        total = sum(w for _, w in shares) or 1
        for q, w in shares:
            self.seconds[q] += seconds * w / total

    def solution(self, i: int, question: Question, answer: str | None, text: str,
                 candidates: Sequence[Candidate] = ()) -> Solution:
        return Solution(question.id, answer, text, self.generations[i], self.tokens[i], self.seconds[i],
                        tuple(candidates))


#: engine calls of one strategy run get seeds this far apart (engines seed prompt i of a call with seed + i).
_SEED_STRIDE = 100_003


def generate(engine: Engine, prompts: Sequence[str], config: StrategyConfig, dataset: Dataset, *, n: int,
             call: int, stop: Sequence[str] = (), greedy: bool = False) -> list[Generation]:
    """One batched engine call with the config's sampling settings and the dataset's stop strings (plus `stop`);
    ``call`` varies the seed per step."""
    stops = [*stop, *(s for s in dataset.stop if s not in stop)]
    return engine.generate(
        list(prompts), n=n, stop=stops or None,
        temperature=0.0 if greedy else config.temperature, top_p=1.0 if greedy else config.top_p,
        max_tokens=config.max_tokens, seed=config.seed + _SEED_STRIDE * call,
    )


def root_prompts(engine: Engine, dataset: Dataset, questions: Sequence[Question]) -> list[str]:
    """Each question's prompt, after the dataset's worked examples, under the model's chat template (or plain text
    for a base model)."""
    return [engine.format_chat(dataset.prompt(q), history=dataset.shots) for q in questions]


# Steps, scores, votes -------------------------------------------------------------------------------------------


def split_steps(text: str) -> list[str]:
    """A solution's steps: its paragraphs, stripped, empty ones dropped."""
    return [s.strip() for s in text.split(STEP_SEPARATOR) if s.strip()]


def aggregate(scores: Sequence[float], how: str) -> float:
    """A solution's score from its step scores: the ``last`` one, the ``min``, or the ``prod``; 0 for no steps.

    Example:
        >>> aggregate([0.9, 0.5, 0.8], "min")
        0.5
    """
    if not scores:
        return 0.0
    if how == "last":
        return float(scores[-1])
    if how == "min":
        return float(min(scores))
    if how == "prod":
        return float(math.prod(scores))
    raise ValueError(f"Unknown aggregation '{how}'. Expected one of: last, min, prod.")


def vote_key(answer: str) -> str:
    """Answers that spell the same value vote together (``"1/2"``, ``"\\frac{1}{2}"`` stay apart only if sympy
    would be needed; the cheap normalisation is enough for the numbers and letters voting sees)."""
    from recommender.confirm.datasets import normalize_math

    return normalize_math(answer)


def weighted_vote(candidates: Sequence[Candidate], *, weighted: bool = True) -> Candidate | None:
    """The candidate whose answer has the largest total weight (its score, or 1 each when not `weighted`).

    Candidates without an answer do not vote; ties go to the answer seen first. Returns the best-scored candidate
    holding the winning answer, or None when no candidate states an answer.
    """
    totals: dict[str, float] = {}
    best: dict[str, Candidate] = {}
    for c in candidates:
        if c.answer is None:
            continue
        key = vote_key(c.answer)
        totals[key] = totals.get(key, 0.0) + ((c.score or 0.0) if weighted else 1.0)
        if key not in best or (c.score or 0.0) > (best[key].score or 0.0):
            best[key] = c
    if not totals:
        return None
    winner = max(totals, key=lambda k: (totals[k], -list(totals).index(k)))
    return best[winner]


def score_candidates(prm: PRM, questions: Sequence[Question], steps: Sequence[Sequence[Sequence[str]]],
                     ledger: _Ledger, question_index: Sequence[int]) -> list[list[list[float]]]:
    """PRM step scores for each question's candidates (one batched PRM call), its time charged per candidate."""
    start = time.perf_counter()
    scores = prm.score_batch([(q.text, s) for q, s in zip(questions, steps)])
    ledger.charge_seconds([(qi, max(1, len(s))) for qi, s in zip(question_index, steps)], time.perf_counter() - start)
    return scores


def finished(completion: Completion, dataset: Dataset, step: str) -> bool:
    """Whether a generated step ends its solution: EOS or a dataset stop string, the length limit, an empty step or
    a stated final answer."""
    ended = completion.finish_reason == "stop" and (completion.stop_reason is None
                                                    or completion.stop_reason in dataset.stop)
    return ended or completion.finish_reason == "length" or not step.strip() or dataset.is_final(step)


def check_prm(config: StrategyConfig, prm: PRM | None) -> None:
    """Refuse a PRM strategy without a PRM before any generation."""
    if config.name in PRM_STRATEGIES and prm is None:
        raise ValueError(f"Strategy '{config.name}' needs a PRM (prm=load_prm('verifier' | 'small_lm' | 'hf')).")
