"""Oracles answer batches of pulls: one pull = one question asked to one model (DESIGN "Contracts").

Bandits see only an oracle, so the same Sequential Halving code replays recorded matrices and runs live models.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np

from recommender.confirm.matrix import ResponseMatrix


@runtime_checkable
class Oracle(Protocol):
    """What a best-arm algorithm may ask.

    Attributes:
        n_arms (`int`): number of arms (models), indexed 0 … n_arms-1.
        n_questions (`int`): size of the question pool, indexed 0 … n_questions-1.
    """

    n_arms: int
    n_questions: int

    def pull(self, arms: np.ndarray, questions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Ask question ``questions[i]`` to arm ``arms[i]`` for every i.

        Args:
            arms: int array of arm indices.
            questions: int array of question indices, same length.

        Returns:
            ``(rewards, costs)``: float arrays of the same length; rewards are 0/1 correctness.
        """
        ...


class RepeatedPullError(RuntimeError):
    """An algorithm asked an arm a question it had already answered (a bug in the algorithm)."""


class RecordedOracle:
    """Replays a `ResponseMatrix`; counts pulls and refuses a repeated (arm, question) pair.

    Args:
        matrix: the recorded correctness.

    Attributes:
        n_pulls (`int`): pulls answered so far.
        total_cost (`float`): sum of the answered pulls' costs (pulls when the matrix has no costs).
        asked (`np.ndarray`): bool ``(n_arms, n_questions)``, which pairs were answered.

    Example:
        >>> oracle = RecordedOracle(ResponseMatrix.from_csv("gsm8k_responses_train.csv.gz"))
        >>> rewards, costs = oracle.pull(np.array([0, 1]), np.array([5, 5]))
    """

    def __init__(self, matrix: ResponseMatrix):
        self.matrix = matrix
        self.n_arms = matrix.n_models
        self.n_questions = matrix.n_questions
        self.reset()

    def reset(self) -> None:
        """Forget what was asked (a new run on the same matrix)."""
        self.n_pulls = 0
        self.total_cost = 0.0
        self.asked = np.zeros((self.n_arms, self.n_questions), dtype=bool)

    def pull(self, arms: np.ndarray, questions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        arms = np.asarray(arms, dtype=np.int64)
        questions = np.asarray(questions, dtype=np.int64)
        if arms.shape != questions.shape:
            raise ValueError(f"arms {arms.shape} and questions {questions.shape} must have the same shape.")
        if arms.size == 0:
            return np.empty(0), np.empty(0)
        flat = arms * self.n_questions + questions
        asked = self.asked.ravel()
        if asked[flat].any():
            raise RepeatedPullError("an (arm, question) pair was asked twice")
        asked[flat] = True
        # A pair repeated inside this batch sets fewer new cells than pulls; counting is ~8× cheaper than np.unique.
        if int(np.count_nonzero(asked)) != self.n_pulls + flat.size:
            raise RepeatedPullError("an (arm, question) pair was asked twice")
        rewards = self.matrix.values[arms, questions].astype(np.float64)
        costs = np.ones(arms.size) if self.matrix.costs is None else self.matrix.costs[questions].astype(np.float64)
        self.n_pulls += int(arms.size)
        self.total_cost += float(costs.sum())
        return rewards, costs
