"""Shared machinery of the best-arm algorithms: question orders, the pull ledger, ranking, schedules, the base class.

Every algorithm in this package is a `BanditEstimator`: ``__init__`` stores keyword parameters, ``fit(oracle,
budget, prior=...)`` validates them, builds a `PullLedger` and runs the algorithm's ``_search``. The ledger is the
only object that talks to the oracle, so the package-wide guarantees live in one place:

* never more than B pulls (the ledger trims a request that would overspend);
* never the same question twice to one arm (each arm walks its own question order, one pointer per arm);
* reproducible under a seed (orders and tie-breaks come from ``np.random.default_rng(seed)``);
* one ``oracle.pull`` call per request, however many arms it covers.
"""

from __future__ import annotations

import inspect
import warnings
from typing import TYPE_CHECKING

import numpy as np

from index.errors import BudgetTooSmallWarning
from recommender.confirm.base import BanditResult, Prior, capped_budget

if TYPE_CHECKING:
    from recommender.confirm.oracle import Oracle


# Question orders ------------------------------------------------------------------------------------------------


def private_orders(rng: np.random.Generator, n_arms: int, n_questions: int) -> np.ndarray:
    """One independent random question order per arm: ``(K, Q)``, row i a permutation of ``range(Q)``."""
    return np.argsort(rng.random((n_arms, n_questions), dtype=np.float32), axis=1).astype(np.int32)


def shared_orders(rng: np.random.Generator, n_arms: int, n_questions: int) -> np.ndarray:
    """One random question order for all arms (a read-only ``(K, Q)`` view): arms that have answered the same
    number of questions have answered the same questions, so every round asks all survivors the same fresh ones."""
    return np.broadcast_to(rng.permutation(n_questions).astype(np.int32), (n_arms, n_questions))


# The ledger -----------------------------------------------------------------------------------------------------


class PullLedger:
    """Pulls through the oracle and keeps per-arm counts, reward sums and cost; the only caller of ``oracle.pull``.

    Args:
        oracle: the oracle.
        budget: B, already capped at K·Q.
        orders: ``(K, Q)`` question order per arm (`private_orders` or `shared_orders`).

    Attributes:
        counts (`np.ndarray`): questions answered per arm (also the arm's position in its order).
        sums (`np.ndarray`): rewards summed per arm.
        spent (`int`): pulls made so far.
        answers (`np.ndarray`): ``int8 (K, Q)``, each answer seen (1 right, 0 wrong, −1 not asked), for algorithms
            that choose questions from what this run has observed. An algorithm may replace ``orders`` for arms
            whose unanswered questions it reorders, keeping each arm's answered prefix in place.
    """

    def __init__(self, oracle: Oracle, budget: int, orders: np.ndarray):
        self.oracle = oracle
        self.budget = int(budget)
        self.orders = orders
        self.n_arms, self.n_questions = orders.shape
        self.counts = np.zeros(self.n_arms, dtype=np.int64)
        self.sums = np.zeros(self.n_arms)
        self.spent = 0
        self.cost = 0.0
        self.answers = np.full((self.n_arms, self.n_questions), -1, dtype=np.int8)  # 1/0, −1 = not asked

    @property
    def remaining(self) -> int:
        """Budget still available (B − spent)."""
        return self.budget - self.spent

    def room(self, arms: np.ndarray) -> np.ndarray:
        """Questions each arm has not answered yet."""
        return self.n_questions - self.counts[arms]

    def means(self) -> np.ndarray:
        """Empirical mean reward per arm (NaN where never pulled)."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(self.counts > 0, self.sums / np.maximum(self.counts, 1), np.nan)

    def pull(self, arms: np.ndarray, n: int | np.ndarray) -> int:
        """Ask each of ``arms`` its next ``n`` questions (scalar or one per arm) in one oracle call.

        Requests beyond an arm's unanswered questions are dropped; a request beyond the remaining budget is cut
        fairly (water-filling), leftover single pulls going to the arms listed first, so callers list arms
        best first. Returns the number of pulls made.
        """
        arms = np.asarray(arms, dtype=np.int64)
        n = np.minimum(np.broadcast_to(np.asarray(n, dtype=np.int64), arms.shape), self.room(arms)).clip(0)
        if n.sum() > self.remaining:
            n = _water_fill(n, self.remaining)
        total = int(n.sum())
        if total == 0:
            return 0
        who = np.repeat(arms, n)
        # position of each pull inside its arm's order: the arm's pointer + 0, 1, …, n_i − 1
        offsets = np.arange(total) - np.repeat(np.cumsum(n) - n, n)
        questions = self.orders[who, self.counts[who] + offsets]
        rewards, costs = self.oracle.pull(who, questions)
        self.answers[who, questions] = np.asarray(rewards) > 0.5
        self.sums += np.bincount(who, weights=rewards, minlength=self.n_arms)
        self.counts[arms] += n
        self.spent += total
        self.cost += float(np.sum(costs))
        return total

    def answers_of(self, arms: np.ndarray) -> np.ndarray:
        """The recorded answers of ``arms``: ``(len(arms), Q)`` int8, 1/0, −1 where not asked."""
        return self.answers[arms]

    def result(self, best_arm: int, survivors_per_round: tuple[int, ...] = ()) -> BanditResult:
        """The run's `BanditResult`."""
        return BanditResult(best_arm=int(best_arm), estimates=self.means(), pulls=self.counts.copy(),
                            budget=self.budget, spent=self.spent, cost=self.cost,
                            survivors_per_round=tuple(int(s) for s in survivors_per_round))


def _water_fill(n: np.ndarray, total: int) -> np.ndarray:
    """Cut requests ``n`` to sum to ``total``: each arm gets ``min(n_i, L)`` for the largest level L that fits,
    and the few pulls left after that go one each to the first arms that still want more."""
    k = len(n)
    ordered = np.sort(n)
    below = np.concatenate(([0], np.cumsum(ordered)))  # below[i]: sum of the i smallest requests
    cost_at = below[:-1] + ordered * (k - np.arange(k))  # total pulls if the level were ordered[i]
    i = int(np.searchsorted(cost_at, total, side="right"))
    if i == k:
        return n.copy()
    cut = np.minimum(n, (total - below[i]) // (k - i))
    wants = np.flatnonzero(n > cut)[: total - int(cut.sum())]
    cut[wants] += 1
    return cut


# Ranking and schedules --------------------------------------------------------------------------------------------


def rank(scores: np.ndarray, rng: np.random.Generator, tiebreak: np.ndarray | None = None) -> np.ndarray:
    """Indices of ``scores`` best first (NaN last); ties broken by ``tiebreak`` (higher first), then at random."""
    scores = np.where(np.isnan(scores), -np.inf, scores)
    keys = [rng.random(scores.shape)]
    if tiebreak is not None:
        keys.append(-np.asarray(tiebreak, dtype=float))
    keys.append(-scores)
    return np.lexsort(keys)


def posterior_means(prior: Prior, arms: np.ndarray, sums: np.ndarray, counts: np.ndarray,
                    noise_var: float | np.ndarray) -> np.ndarray:
    """Posterior mean of each arm's accuracy under a Gaussian prior N(μ0, σ0²) and Gaussian rewards of variance
    ``noise_var`` (≈ p(1−p)): precision-weighted average of the prior mean and the observed sum."""
    prior_precision = 1.0 / prior.std[arms] ** 2
    data_precision = counts / noise_var
    return (prior.mean[arms] * prior_precision + sums / noise_var) / (prior_precision + data_precision)


# The base class ---------------------------------------------------------------------------------------------------


class BanditEstimator:
    """Base of every algorithm: scikit-learn style parameters and the common ``fit``.

    Subclasses define ``__init__`` (keyword-only parameters stored unchanged, ``seed`` among them), the class
    attribute ``shared_questions`` (whether all arms walk one question order) and ``_search(ledger, rng, prior)``
    returning ``(best_arm, survivors_per_round)``.
    """

    shared_questions: bool = False

    def get_params(self, deep: bool = True) -> dict:
        """The constructor's parameters and their current values (scikit-learn's contract)."""
        names = [p for p in inspect.signature(type(self).__init__).parameters if p != "self"]
        return {name: getattr(self, name) for name in names}

    def set_params(self, **params) -> BanditEstimator:
        """Set parameters by name; unknown names raise `ValueError` listing the known ones."""
        known = self.get_params()
        for name, value in params.items():
            if name not in known:
                raise ValueError(f"Unknown parameter {name!r} for {type(self).__name__}; expected one of {sorted(known)}.")
            setattr(self, name, value)
        return self

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"

    def fit(self, oracle: Oracle, budget: int, *, prior: Prior | None = None) -> BanditEstimator:
        """Spend at most ``budget`` pulls looking for the best arm.

        Args:
            oracle: answers pulls (`RecordedOracle` or a live one).
            budget: B in pulls (N·K for N queries per model); capped at K·Q, the rest reported unspent.
            prior: predicted accuracy ± std per arm; used by the prior-aware algorithms, see each class.

        Returns:
            self, with ``result_`` (`BanditResult`) and ``best_arm_`` set.

        Raises:
            ValueError: a prior whose length is not the number of arms, or a negative budget.
        """
        n_arms, n_questions = int(oracle.n_arms), int(oracle.n_questions)
        if prior is not None and prior.mean.shape != (n_arms,):
            raise ValueError(f"prior has {prior.mean.shape[0]} arms, the oracle {n_arms}.")
        rng = np.random.default_rng(self.seed)
        make_orders = shared_orders if self.shared_questions else private_orders
        ledger = PullLedger(oracle, capped_budget(budget, n_arms, n_questions), make_orders(rng, n_arms, n_questions))
        if ledger.budget < n_arms:
            warnings.warn(f"budget={budget!r} pulls cannot give each of the {n_arms} arms one question; "
                          f"{ledger.budget} arms are asked one question each and the best of them is returned.",
                          BudgetTooSmallWarning, stacklevel=2)
            best, survivors = _sample_few(ledger, rng, prior), (n_arms,)
        else:
            best, survivors = self._search(ledger, rng, prior)
        self.result_ = ledger.result(best, survivors)
        self.best_arm_ = self.result_.best_arm
        return self

    def _search(self, ledger: PullLedger, rng: np.random.Generator, prior: Prior | None) -> tuple[int, tuple]:
        raise NotImplementedError


def _sample_few(ledger: PullLedger, rng: np.random.Generator, prior: Prior | None) -> int:
    """B < K: one question to each of B arms (the B highest prior means, else B random arms); best of them."""
    n_arms = ledger.n_arms
    tiebreak = None if prior is None else prior.mean
    candidates = rank(np.zeros(n_arms), rng, tiebreak)[: ledger.budget]
    ledger.pull(candidates, 1)
    if ledger.spent == 0:
        return int(candidates[0]) if candidates.size else int(rank(np.zeros(n_arms), rng, tiebreak)[0])
    means = ledger.means()
    return int(candidates[rank(means[candidates], rng, None if prior is None else prior.mean[candidates])[0]])
