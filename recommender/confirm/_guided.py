"""Reference-guided shared-question halving: the machinery of `PriorSequentialHalving`.

Three pieces, each usable alone:

* `next_length` — a doubling schedule sized by the budget: every round keeps a fixed fraction of the survivors and
  (at least) doubles the questions each has answered, so survivors fall like 1/n in the questions answered (as in
  Sequential Halving); the first round's length is the longest the budget can carry through to the end.
* `ReferenceGuide` — a few *reference* arms answer every question; their answers split the questions into strata
  (how many references got each right) and order the unasked ones most-disputed first (questions that strong arms
  split on separate strong arms; questions all of them get right or all get wrong mostly do not). Arms are then
  scored by a *post-stratified* estimate of their accuracy over the whole pool, so asking disputed questions first
  does not bias the comparison towards them. Only answers observed in this run are used.
* `guided_race` — the race: shared questions in the guide's order, doubling rounds, cuts by the guide's score, the
  leaders' tie group protected from random cuts up to a cap, and the rest of the budget on the last few arms.
"""

from __future__ import annotations

import math

import numpy as np

from recommender.confirm._sampling import PullLedger


# The schedule ------------------------------------------------------------------------------------------------------


def plan_cost(size: int, n_prev: int, n_next: int, n_questions: int, keep: float, growth: float,
              final_size: int) -> int:
    """Pulls needed from `size` survivors at `n_prev` answered questions if the next round goes to `n_next`, then
    every later round keeps ``⌈keep·|S|⌉`` arms (at least `final_size`) and multiplies the questions answered by
    `growth`, until every survivor has answered all `n_questions` or `final_size` arms remain (who then answer
    every question)."""
    cost = 0
    while True:
        cost += size * (n_next - n_prev)
        if n_next >= n_questions:
            return cost
        size = max(final_size, math.ceil(size * keep))
        n_prev, n_next = n_next, min(n_questions, max(n_next + 1, math.ceil(n_next * growth)))
        if size <= final_size:  # the final stage: one more doubling (or every question)
            return cost + size * (min(n_questions, max(n_prev + 1, math.ceil(n_prev * growth))) - n_prev)


def next_length(size: int, n_now: int, left: int, n_questions: int, keep: float, growth: float,
                final_size: int) -> int:
    """The longest next round (questions answered at its end, > `n_now`) whose `plan_cost` fits in `left` pulls;
    ``n_now + 1`` when even that does not fit (the ledger then cuts the round to the budget)."""
    lo, hi = n_now + 1, n_questions
    if plan_cost(size, n_now, lo, n_questions, keep, growth, final_size) > left:
        return lo
    while lo < hi:  # plan_cost grows with n_next: binary search for the last length that fits
        mid = (lo + hi + 1) // 2
        if plan_cost(size, n_now, mid, n_questions, keep, growth, final_size) <= left:
            lo = mid
        else:
            hi = mid - 1
    return lo


# The guide ---------------------------------------------------------------------------------------------------------


class ReferenceGuide:
    """Strata, question order and stratified scores from reference arms that answered every question.

    Args:
        ledger: the run's ledger (shared orders); the references must have answered every question.
        refs: the reference arms.
        n_done: questions every other arm may already have answered (the order's first `n_done` stay in place).
        rng: shuffles questions inside a stratum.
        shrink: pseudo-questions per stratum pulling an arm's stratum mean towards its prediction (the stratum's
            reference accuracy shifted by the arm's own offset from the references on the questions it answered).

    Attributes:
        order (`np.ndarray`): the new shared question order (a permutation of ``range(Q)``).
        level (`np.ndarray`): stratum per question: how many references answered it correctly.
        weight (`np.ndarray`): share of the pool's questions in each stratum.
    """

    def __init__(self, ledger: PullLedger, refs: np.ndarray, n_done: int, rng: np.random.Generator, *,
                 shrink: float = 1.0):
        q = ledger.n_questions
        answers = ledger.answers_of(refs)
        if (answers < 0).any():
            raise ValueError("every reference arm must have answered every question")
        self.ledger, self.shrink = ledger, float(shrink)
        m = len(refs)
        self.level = answers.sum(axis=0).astype(np.int64)
        self.level_acc = np.arange(m + 1) / m
        self.weight = np.bincount(self.level, minlength=m + 1) / q
        order = np.asarray(ledger.orders[0])
        tail = order[n_done:]
        dispute = np.abs(self.level_acc[self.level[tail]] - 0.5)  # 0 = an even split among the references
        tail = tail[np.lexsort((rng.random(tail.size), dispute))]
        self.order = np.concatenate([order[:n_done], tail]).astype(np.int32)

    def score(self, arms: np.ndarray) -> np.ndarray:
        """Post-stratified accuracy estimate per arm (exact for an arm that has answered every question).

        An arm has answered a prefix of `order`; its mean in each stratum is shrunk towards a prediction (the
        stratum's reference accuracy plus the arm's mean offset from the references on what it answered), and the
        stratum means are averaged with the strata's shares of the pool as weights.
        """
        led = self.ledger
        counts = led.counts[arms]
        out = led.sums[arms] / max(led.n_questions, 1)
        partial = np.flatnonzero(counts < led.n_questions)
        if partial.size == 0:
            return out
        rows = arms[partial]
        cols = self.order[: int(counts[partial].max())]
        answered = led.answers[np.ix_(rows, cols)]
        onehot = (self.level[cols][:, None] == np.arange(self.level_acc.size)[None, :]).astype(np.float32)
        right = (answered == 1).astype(np.float32) @ onehot  # (arms, strata) correct answers
        asked = (answered >= 0).astype(np.float32) @ onehot  # (arms, strata) questions answered
        total = asked.sum(axis=1)
        offset = (right.sum(axis=1) - asked @ self.level_acc) / np.maximum(total, 1)
        predicted = np.clip(self.level_acc[None, :] + offset[:, None], 0.0, 1.0)
        stratum_mean = (right + self.shrink * predicted) / (asked + self.shrink)
        out[partial] = stratum_mean @ self.weight
        return out


# The race -----------------------------------------------------------------------------------------------------------


def guided_race(ledger: PullLedger, rng: np.random.Generator, survivors: np.ndarray, guide: ReferenceGuide | None,
                *, keep: float = 0.5, growth: float = 2.0, final_size: int = 4, protect_cap: float = 0.75,
                first_keep: int | None = None, tiebreak: np.ndarray | None = None,
                final_tiebreak: np.ndarray | None = None, sizes: list[int] | None = None) -> np.ndarray:
    """Shared-question halving on the doubling schedule, scored by `guide` (raw means without one).

    Each round every survivor that has not answered everything answers the same next questions of the shared
    order, up to the length `next_length` gives; then the best ``⌈keep·|S|⌉`` by score stay (ties: `tiebreak`,
    then more questions answered, then at random), widened to the whole group tied with the leader while that group
    is at most ``protect_cap·|S|`` (a few shared 0/1 answers tie many arms, and a random cut through the leaders'
    group is how a perfect arm gets lost). ``first_keep``, if set, caps the first cut at that many arms (the
    Hidden Gems paper's aggressive first round). Once `final_size` arms remain, they get what is left of the
    budget, best first, up to every question; the pick is the best score, ties between arms with as many answers
    broken by ``final_tiebreak`` (e.g. prior means: where the pool cannot tell two arms apart, the prior may).

    Returns:
        the survivors, best first (the first is the pick).
    """
    q = ledger.n_questions

    def scores(arms: np.ndarray) -> np.ndarray:
        return ledger.means()[arms] if guide is None else guide.score(arms)

    def order(arms: np.ndarray, tiebreak: np.ndarray | None = tiebreak) -> tuple[np.ndarray, np.ndarray]:
        score = scores(arms)  # returns (arms best first, their scores)
        keys = [rng.random(arms.size)]
        if tiebreak is not None:
            keys.append(-tiebreak[arms])
        keys += [-ledger.counts[arms], -score]
        best_first = np.lexsort(keys)
        return arms[best_first], score[best_first]

    def answered(arms: np.ndarray) -> int:  # questions answered by the survivors still racing
        counts = ledger.counts[arms]
        racing = counts[counts < q]
        return int(racing.max()) if racing.size else q

    first = True
    while survivors.size > final_size:
        n_now, left = answered(survivors), ledger.remaining
        if left < 1 or n_now >= q:
            break
        if sizes is not None:
            sizes.append(int(survivors.size))
        n_next = next_length(survivors.size, n_now, left, q, keep, growth, final_size)
        if first:  # later rounds start from the last cut's order, best first already
            (survivors, _), first = order(survivors), False
        ledger.pull(survivors, n_next - ledger.counts[survivors])
        survivors, score = order(survivors)
        kept = max(final_size, math.ceil(survivors.size * keep))
        if protect_cap > keep:
            leaders = int(np.count_nonzero(score >= score[0] - 1e-12))
            kept = max(kept, min(leaders, math.ceil(survivors.size * protect_cap)))
        if first_keep is not None:
            kept, first_keep = min(kept, max(1, int(first_keep))), None
        survivors = survivors[:kept]
    survivors, _ = order(survivors)
    left = ledger.remaining
    if left > 0:
        if sizes is not None:
            sizes.append(int(survivors.size))
        ledger.pull(survivors, np.minimum(q - ledger.counts[survivors], left))
    return order(survivors, final_tiebreak if final_tiebreak is not None else tiebreak)[0]
