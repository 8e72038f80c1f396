"""Contract suite over every registered best-arm algorithm (scikit-learn ``parametrize_with_checks`` spirit)."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

from index.errors import BudgetTooSmallWarning
from recommender import confirm
from recommender.confirm import ALGORITHMS, Prior, RecordedOracle, ResponseMatrix

NAMES = sorted(ALGORITHMS)


def synthetic(n_arms: int = 64, n_questions: int = 400, seed: int = 0, best: float = 0.8, rest: float = 0.55):
    """Arm 0 answers correctly with probability ``best``, the others with at most ``rest`` (a gap of 0.25 that
    even uniform allocation resolves at N = 50 with ≥ 90% probability; 0.6 leaves it at ~87%)."""
    rng = np.random.default_rng(seed)
    p = np.concatenate(([best], rng.uniform(0.3, rest, n_arms - 1)))
    values = (rng.random((n_arms, n_questions)) < p[:, None]).astype(np.uint8)
    return ResponseMatrix("synthetic", tuple(f"m{i}" for i in range(n_arms)),
                          tuple(f"q{j}" for j in range(n_questions)), values)


@pytest.fixture(scope="module")
def matrix() -> ResponseMatrix:
    return synthetic()


@pytest.fixture(scope="module")
def prior(matrix) -> Prior:
    return Prior(mean=matrix.values.mean(axis=1) * 0.9 + 0.05, std=np.full(matrix.n_models, 0.1))


def fit(name, matrix, budget, *, seed=0, prior=None, **params):
    oracle = RecordedOracle(matrix)  # raises RepeatedPullError on a repeated (arm, question) pair
    algo = ALGORITHMS[name](seed=seed, **params).fit(oracle, budget, prior=prior)
    return algo, oracle


class TestRegistry:
    def test_names(self):
        assert set(ALGORITHMS) == {"uniform", "ucb_e", "successive_rejects", "sequential_halving", "bayes_elim",
                                   "accelerated_sh", "prior_sh"}

    def test_all_exports_exist(self):
        for name in confirm.__all__:
            assert hasattr(confirm, name), name
        for cls in ALGORITHMS.values():
            assert cls.__name__ in confirm.__all__


@pytest.mark.parametrize("name", NAMES)
class TestContract:
    @pytest.mark.parametrize("n", [1, 3, 10, 50])
    def test_budget_never_exceeded(self, name, matrix, n):
        budget = n * matrix.n_models
        algo, oracle = fit(name, matrix, budget)
        assert oracle.n_pulls <= budget
        assert algo.result_.spent == oracle.n_pulls == int(oracle.asked.sum())
        assert algo.result_.budget == budget
        assert 0 <= algo.best_arm_ < matrix.n_models and algo.best_arm_ == algo.result_.best_arm

    @pytest.mark.parametrize("n", [3, 50])
    def test_no_repeated_question(self, name, matrix, n):
        algo, oracle = fit(name, matrix, n * matrix.n_models)  # RecordedOracle would have raised
        np.testing.assert_array_equal(algo.result_.pulls, oracle.asked.sum(axis=1))
        assert (algo.result_.pulls <= matrix.n_questions).all()

    def test_seed_reproducible(self, name, matrix):
        a, oracle_a = fit(name, matrix, 20 * matrix.n_models, seed=7)
        b, oracle_b = fit(name, matrix, 20 * matrix.n_models, seed=7)
        assert a.best_arm_ == b.best_arm_
        np.testing.assert_array_equal(oracle_a.asked, oracle_b.asked)
        _c, oracle_c = fit(name, matrix, 20 * matrix.n_models, seed=8)
        assert not np.array_equal(oracle_a.asked, oracle_c.asked)  # different question orders

    def test_finds_clear_best(self, name, matrix):
        hits = sum(fit(name, matrix, 50 * matrix.n_models, seed=s)[0].best_arm_ == 0 for s in range(30))
        assert hits >= 27, f"{name} found the best arm in {hits}/30 runs"

    def test_budget_capped_at_all_questions(self, name):
        small = synthetic(n_arms=8, n_questions=20)
        algo, oracle = fit(name, small, 10_000)
        assert algo.result_.budget == 8 * 20
        assert oracle.n_pulls == algo.result_.spent <= 160
        assert algo.result_.unspent == 160 - algo.result_.spent

    def test_small_budget_warns(self, name, matrix):
        with pytest.warns(BudgetTooSmallWarning, match="cannot give each"):
            algo, oracle = fit(name, matrix, matrix.n_models // 2)
        assert oracle.n_pulls <= matrix.n_models // 2
        assert 0 <= algo.best_arm_ < matrix.n_models

    def test_zero_budget(self, name, matrix):
        with pytest.warns(BudgetTooSmallWarning):
            algo, oracle = fit(name, matrix, 0)
        assert oracle.n_pulls == algo.result_.spent == 0

    def test_prior_accepted(self, name, matrix, prior):
        _algo, oracle = fit(name, matrix, 10 * matrix.n_models, prior=prior)
        assert oracle.n_pulls <= 10 * matrix.n_models

    def test_prior_of_wrong_length(self, name, matrix):
        bad = Prior(mean=np.zeros(3), std=np.ones(3))
        with pytest.raises(ValueError, match="prior has 3 arms"):
            fit(name, matrix, 100, prior=bad)

    def test_init_stores_params_unchanged(self, name):
        cls = ALGORITHMS[name]
        signature = inspect.signature(cls.__init__)
        defaults = {k: p.default for k, p in signature.parameters.items() if k != "self"}
        assert all(p.kind is p.KEYWORD_ONLY for k, p in signature.parameters.items() if k != "self")
        assert "seed" in defaults
        for value in defaults.values():  # no mutable defaults (sklearn check_parameters_default_constructible)
            assert value is None or isinstance(value, (int, float, bool, str, tuple))
        algo = cls(seed=3)
        assert algo.get_params() == {**defaults, "seed": 3}
        assert not any(k.endswith("_") for k in vars(algo))  # nothing learned before fit
        assert repr(algo).startswith(cls.__name__)

    def test_set_params_unknown(self, name):
        with pytest.raises(ValueError, match="Unknown parameter 'nope'"):
            ALGORITHMS[name]().set_params(nope=1)

    def test_single_arm(self, name):
        one = synthetic(n_arms=1, n_questions=10)
        algo, oracle = fit(name, one, 5)
        assert algo.best_arm_ == 0 and oracle.n_pulls <= 5


class TestSharedQuestions:
    @pytest.mark.parametrize("name", ["accelerated_sh", "prior_sh"])
    def test_survivors_answer_the_same_questions(self, name, matrix):
        algo, oracle = fit(name, matrix, 10 * matrix.n_models)
        asked = oracle.asked[algo.result_.pulls > 0]
        counts = asked.sum(axis=1)
        # arms with the same number of answers answered the same questions (nested prefixes of one order)
        for c in np.unique(counts):
            rows = asked[counts == c]
            assert (rows == rows[0]).all()


class TestPriorScreen:
    def test_prescreen_keeps_the_upper_half(self, matrix):
        mean = np.full(matrix.n_models, 0.2)
        mean[:10] = 0.7  # ten plausible arms; the pre-screen keeps the best half by upper bound, no more
        prior = Prior(mean=mean, std=np.full(matrix.n_models, 0.05))
        algo, oracle = fit("prior_sh", matrix, 10 * matrix.n_models, prior=prior)
        never_asked = oracle.asked.sum(axis=1) == 0
        assert never_asked.sum() == matrix.n_models // 2
        assert not never_asked[:10].any()
        assert algo.best_arm_ == 0

    def test_prescreen_ranks_by_upper_bound(self, matrix):
        """An arm the prior is unsure of keeps its chance: same mean, wide std → kept; narrow std → dropped."""
        mean = np.linspace(0.8, 0.2, matrix.n_models)
        std = np.full(matrix.n_models, 0.01)
        std[-1] = 1.0  # the lowest mean, but μ + σ is the highest upper bound
        algo, oracle = fit("prior_sh", matrix, 10 * matrix.n_models, prior=Prior(mean=mean, std=std))
        assert oracle.asked[-1].sum() > 0
        assert oracle.asked[-2].sum() == 0

    def test_prescreen_off(self, matrix):
        prior = Prior(mean=np.full(matrix.n_models, 0.2), std=np.full(matrix.n_models, 0.05))
        algo, oracle = fit("prior_sh", matrix, 10 * matrix.n_models, prior=prior, keep_prior=1.0)
        assert (oracle.asked.sum(axis=1) > 0).all()

    @pytest.mark.parametrize("seed", range(5))
    def test_underpredicted_best_arm_is_found(self, seed):
        """A hidden gem: the best arm (p = 0.8) is predicted at the pool's 65th percentile with a confident prior
        (about 0.3 below its truth; in the real trees the best arm sits at prior rank ≤ 30%), and the prior's
        favourites are the references. Ties are not broken by the prior, so the race must still find it."""
        m = synthetic(n_arms=200, n_questions=400, seed=seed)
        p_hat = m.values.mean(axis=1)
        mean = p_hat.copy()
        mean[0] = np.quantile(p_hat, 0.65)
        prior = Prior(mean=mean, std=np.full(m.n_models, 0.03))
        algo, oracle = fit("prior_sh", m, 10 * m.n_models, seed=seed, prior=prior)
        assert oracle.asked[0].sum() > 0
        assert algo.best_arm_ == 0

    def test_references_answer_everything(self, matrix, prior):
        """With ⌊ref_share·B/Q⌋ ≥ 2 references affordable, the prior's two favourites answer every question."""
        algo, oracle = fit("prior_sh", matrix, 20 * matrix.n_models, prior=prior, ref_share=0.7)
        favourites = np.argsort(-prior.mean)[:2]
        assert (oracle.asked[favourites].sum(axis=1) == matrix.n_questions).all()
        assert oracle.n_pulls <= 20 * matrix.n_models


class TestGuided:
    def test_plan_fits_the_budget(self):
        from recommender.confirm._guided import next_length, plan_cost

        for size, left, q in [(1700, 17_000, 249), (850, 8_000, 100), (64, 3_200, 400), (10, 50, 20)]:
            n = next_length(size, 0, left, q, 0.5, 2.0, 4)
            assert 1 <= n <= q
            assert n == 1 or plan_cost(size, 0, n, q, 0.5, 2.0, 4) <= left
            assert n == q or plan_cost(size, 0, n + 1, q, 0.5, 2.0, 4) > left  # the longest that fits

    def test_guide_orders_disputed_first_and_scores_without_bias(self):
        """References split 2–2 on questions 0–9 and agree on 10–99: the disputed questions come first; an arm's
        stratified estimate after only the disputed ones stays near its whole-pool accuracy, unlike its raw mean."""
        from recommender.confirm._guided import ReferenceGuide
        from recommender.confirm._sampling import PullLedger, shared_orders

        q = 100
        values = np.zeros((6, q), dtype=np.uint8)
        values[:4, 10:60] = 1  # all four references right on 10–59, wrong on 60–99
        values[:2, :10] = 1  # two of four right on the disputed 0–9
        values[4, :] = 1  # arm 4: right everywhere (accuracy 1.0)
        values[5, 10:60] = 1  # arm 5: like the references, wrong on every disputed question (accuracy 0.5)
        m = ResponseMatrix("t", tuple(f"m{i}" for i in range(6)), tuple(f"q{j}" for j in range(q)), values)
        rng = np.random.default_rng(0)
        ledger = PullLedger(RecordedOracle(m), 6 * q, np.ascontiguousarray(shared_orders(rng, 6, q)))
        refs = np.arange(4)
        ledger.pull(refs, q)
        guide = ReferenceGuide(ledger, refs, 0, rng)
        assert set(guide.order[:10].tolist()) == set(range(10))
        assert sorted(guide.order.tolist()) == list(range(q))
        ledger.orders = np.broadcast_to(guide.order, (6, q))
        ledger.pull(np.array([4, 5]), 10)  # the disputed questions only
        est = guide.score(np.array([0, 4, 5]))
        assert est[0] == pytest.approx(0.6)  # a reference (right on 0–59): its exact mean
        assert est[1] > est[2]
        assert ledger.means()[5] == 0.0 and 0.2 < est[2] <= 0.5  # raw mean 0; stratified much nearer its 0.5

    def test_leaders_tie_group_survives(self):
        """Ninety of 100 arms tie at 1/1; the cut keeps ⌈0.75·100⌉ of them at most, the leader among them."""
        from recommender.confirm._guided import guided_race
        from recommender.confirm._sampling import PullLedger

        values = np.zeros((100, 50), dtype=np.uint8)
        values[:60, 0] = 1  # 60 arms tie at 1/1 on the first question
        values[0] = 1
        m = ResponseMatrix("t", tuple(f"m{i}" for i in range(100)), tuple(f"q{j}" for j in range(50)), values)
        ledger = PullLedger(RecordedOracle(m), 100, np.broadcast_to(np.arange(50, dtype=np.int32), (100, 50)))
        sizes: list[int] = []
        guided_race(ledger, np.random.default_rng(0), np.arange(100), None, final_size=4, sizes=sizes)
        assert ledger.counts[:60].min() >= 1 and ledger.spent <= 100
        ledger = PullLedger(RecordedOracle(m), 400, np.broadcast_to(np.arange(50, dtype=np.int32), (100, 50)))
        sizes = []
        best = guided_race(ledger, np.random.default_rng(0), np.arange(100), None, final_size=4, sizes=sizes)
        assert sizes[1] == 60  # the whole tie group (≤ 75%) survived the first cut, not a random half of it
        assert best[0] == 0 and ledger.spent <= 400

    def test_aggressive_first_round(self, matrix):
        """The paper's first round, as an option: the first cut keeps at most ``first_round_keep`` arms."""
        algo, oracle = fit("accelerated_sh", matrix, 10 * matrix.n_models, first_round_keep=5)
        assert algo.result_.survivors_per_round[:2] == (64, 5)
        assert oracle.n_pulls <= 10 * matrix.n_models

    def test_ledger_records_answers(self, matrix):
        from recommender.confirm._sampling import PullLedger, private_orders

        ledger = PullLedger(RecordedOracle(matrix), 100, private_orders(np.random.default_rng(0), 64, 400))
        ledger.pull(np.array([3, 5]), 7)
        rec = ledger.answers_of(np.array([3, 5]))
        assert ((rec >= 0).sum(axis=1) == 7).all()
        asked = rec >= 0
        np.testing.assert_array_equal(rec[asked], matrix.values[[3, 5]][asked])


def test_sampling_helpers():
    from recommender.confirm._sampling import _water_fill

    cut = _water_fill(np.array([5, 1, 5, 5]), 10)
    assert cut.sum() == 10 and cut[1] == 1 and cut.max() - cut[[0, 2, 3]].min() <= 1
