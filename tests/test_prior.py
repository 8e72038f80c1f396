"""The catalog prior: leave-benchmark-out by construction, `exclude`, ranges, recovery, calibration, errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from index.errors import NotFittedError, UnknownBenchmarkError, UnknownTaskError
from index.vocabulary import BENCHMARKS
from recommender.predict import CatalogPrior

FAST = {"max_iter": 30, "n_folds": 2, "small_folds": 2}  # small fits: the tests check contracts, not accuracy


@pytest.fixture(scope="module")
def sample(shipped_catalog) -> pd.DataFrame:
    """1,500 catalog models with scores plus 300 without: enough for every v1 / v2 benchmark, fast to fit."""
    frame = shipped_catalog.frame
    has = frame[[f"score.{b}" for b in BENCHMARKS]].notna().any(axis=1)
    return pd.concat([
        frame[has].sample(1500, random_state=0), frame[~has].sample(300, random_state=0)
    ]).reset_index(drop=True)


@pytest.fixture(scope="module")
def split(sample) -> tuple[pd.DataFrame, pd.DataFrame]:
    return sample.iloc[:1400].copy(), sample.iloc[1400:].copy()


@pytest.fixture(scope="module")
def prior(split) -> CatalogPrior:
    return CatalogPrior(**FAST).fit(split[0], benchmarks=("gsm8k", "math_lvl5", "bbh"))


def synthetic(n: int, seed: int, noise: float = 1.0) -> pd.DataFrame:
    """A frame where gsm8k = 0.5·arc + 10 + noise and nothing else is known."""
    rng = np.random.default_rng(seed)
    a = rng.uniform(20, 80, n)
    frame = pd.DataFrame({"id": [f"m{seed}-{i}" for i in range(n)], "family": None, "params_b": np.nan,
                          "architecture": None, "instruct": pd.NA, "merged": pd.NA})
    for b in BENCHMARKS:
        frame[f"score.{b}"] = np.nan
    frame["score.arc"] = a
    frame["score.gsm8k"] = 0.5 * a + 10 + rng.normal(0, noise, n)
    return frame


def shuffled(frame: pd.DataFrame, column: str, seed: int = 1) -> pd.DataFrame:
    out = frame.copy()
    values = out[column].to_numpy(copy=True)
    np.random.default_rng(seed).shuffle(values)
    out[column] = values
    return out


class TestLeaveBenchmarkOut:
    def test_own_column_is_not_a_feature(self, prior):
        assert "gsm8k" not in prior.models_["gsm8k"].features
        assert "arc" in prior.models_["gsm8k"].features

    def test_prediction_ignores_the_rows_own_score(self, prior, split):
        test = split[1]
        before = prior.predict(test, "gsm8k")
        for perturbed in (shuffled(test, "score.gsm8k"), test.assign(**{"score.gsm8k": np.nan})):
            after = prior.predict(perturbed, "gsm8k")
            np.testing.assert_array_equal(before[0], after[0])
            np.testing.assert_array_equal(before[1], after[1])

    def test_excluded_benchmark_never_read_in_fit_or_predict(self, split):
        train, test = split
        a = CatalogPrior(exclude=("arc",), **FAST).fit(train, benchmarks=("gsm8k",))
        b = CatalogPrior(exclude=("arc",), **FAST).fit(shuffled(train, "score.arc"), benchmarks=("gsm8k",))
        assert "arc" not in a.models_["gsm8k"].features
        pa = a.predict(test, "gsm8k")
        pb = b.predict(shuffled(test, "score.arc", seed=2), "gsm8k")
        np.testing.assert_array_equal(pa[0], pb[0])
        np.testing.assert_array_equal(pa[1], pb[1])

    def test_excluded_benchmark_is_not_fitted_by_default(self, split):
        prior = CatalogPrior(exclude=("gsm8k",), **FAST).fit(split[0], benchmarks=None)
        assert "gsm8k" not in prior.models_ and "gsm8k" not in prior.skipped_
        assert all("gsm8k" not in m.features for m in prior.models_.values())

    def test_fitting_an_excluded_benchmark_is_refused(self, split):
        with pytest.raises(ValueError, match=r"Cannot fit benchmarks \['gsm8k'\].*exclude"):
            CatalogPrior(exclude=("gsm8k",)).fit(split[0], benchmarks=("gsm8k", "bbh"))

    def test_predicting_an_excluded_benchmark_is_refused(self, split):
        prior = CatalogPrior(exclude=("gsm8k",), **FAST).fit(split[0], benchmarks=("bbh",))
        with pytest.raises(ValueError, match="'gsm8k' is in exclude"):
            prior.predict(split[1], "gsm8k")

    def test_tree_holdout_usage(self, sample):
        """The Sequential Halving harness: fit t's model without the tree's rows, predict the tree."""
        in_tree = sample["family"].eq("mistral") & sample["score.gsm8k"].notna()
        prior = CatalogPrior(**FAST).fit(sample[~in_tree], benchmarks=("gsm8k",))
        mean, _ = prior.predict(sample[in_tree], "gsm8k")
        assert len(mean) == in_tree.sum() > 10
        assert np.corrcoef(mean, sample.loc[in_tree, "score.gsm8k"])[0, 1] > 0.5


class TestPredictions:
    def test_range_and_positive_std(self, prior, sample):
        for b in prior.models_:
            mean, std = prior.predict(sample, b)
            assert mean.shape == std.shape == (len(sample),)
            assert np.all((mean >= 0) & (mean <= 100)) and np.all(std > 0) and np.all(np.isfinite(std))

    def test_nan_heavy_rows(self, prior, split):
        test = split[1].copy()
        rng = np.random.default_rng(0)
        for c in [f"score.{b}" for b in BENCHMARKS] + ["params_b"]:
            test.loc[rng.random(len(test)) < 0.8, c] = np.nan
        mean, std = prior.predict(test, "bbh")
        assert np.all(np.isfinite(mean)) and np.all(std > 0)

    def test_no_evidence_gets_the_population(self, prior):
        blank = pd.DataFrame({"id": ["x", "y"]})  # every other column missing counts as unknown
        mean, std = prior.predict(blank, "gsm8k")
        assert mean == pytest.approx([prior.models_["gsm8k"].population[0]] * 2)
        assert std == pytest.approx([prior.models_["gsm8k"].population[1]] * 2)

    def test_less_evidence_wider_intervals(self, prior, split):
        test = split[1][split[1]["score.arc"].notna()]
        _, full = prior.predict(test, "gsm8k")
        _, meta = prior.predict(test.assign(**{f"score.{b}": np.nan for b in BENCHMARKS}), "gsm8k")
        assert meta.mean() > 1.5 * full.mean()

    def test_predict_task_averages_its_benchmarks(self, prior, split):
        test = split[1]
        mean, std = prior.predict_task(test, "math_reasoning")  # alias of math → gsm8k, math_lvl5
        m1, s1 = prior.predict(test, "gsm8k")
        m2, s2 = prior.predict(test, "math_lvl5")
        np.testing.assert_allclose(mean, (m1 + m2) / 2)
        np.testing.assert_allclose(std, (s1 + s2) / 2)

    def test_accepts_catalog_and_records(self, prior, shipped_catalog):
        records = [shipped_catalog.record(i) for i in range(5)]
        from_records = prior.predict(records, "bbh")[0]
        np.testing.assert_allclose(from_records, prior.predict(shipped_catalog.frame.head(5), "bbh")[0])
        assert len(prior.predict(shipped_catalog, "bbh")[0]) == len(shipped_catalog)

    def test_reproducible(self, split):
        a = CatalogPrior(random_state=3, **FAST).fit(split[0], benchmarks=("bbh",)).predict(split[1], "bbh")
        b = CatalogPrior(random_state=3, **FAST).fit(split[0], benchmarks=("bbh",)).predict(split[1], "bbh")
        np.testing.assert_array_equal(a[0], b[0])
        np.testing.assert_array_equal(a[1], b[1])


class TestSynthetic:
    def test_recovers_linear_relation_and_calibrates(self):
        prior = CatalogPrior(n_folds=4).fit(synthetic(600, seed=0), benchmarks=("gsm8k",))
        test = synthetic(400, seed=1)
        mean, std = prior.predict(test, "gsm8k")
        y = test["score.gsm8k"].to_numpy()
        assert np.mean(np.abs(mean - y)) < 1.5  # noise alone gives 0.8
        coverage = np.mean(np.abs(mean - y) <= prior.z_ * std)
        assert 0.7 <= coverage <= 0.9

    def test_small_level_borrows_the_next_level_not_the_widest(self):
        # 'same' has too few residuals for its own quantile: it takes its own pooled with 'cross', never the far
        # wider no-score level's residuals
        from recommender.predict.prior import _calibrate

        rng = np.random.default_rng(0)
        residual = np.concatenate([rng.uniform(0, 4, 10), rng.uniform(0, 5, 200), rng.uniform(0, 40, 200)])
        level = np.array(["same"] * 10 + ["cross"] * 200 + ["meta"] * 200)
        pred = rng.uniform(20, 80, residual.size)
        _, half, n_cal = _calibrate(pred, residual, level, 0.8)
        assert n_cal["same"] == 10
        assert half["same"].max() < 6 and half["meta"].min() > 20

    def test_small_benchmarks_get_more_folds(self):
        prior = CatalogPrior(max_iter=30, n_folds=2, small_folds=5).fit(synthetic(200, seed=0), benchmarks=("gsm8k",))
        # the calibration residuals come from every row, whatever the folds; the predicting regressor's seed
        # offset is the fold count used
        assert prior.models_["gsm8k"].regressor.random_state == prior.random_state + 5

    def test_no_feature_ever_known_gives_the_population(self):
        frame = synthetic(60, seed=0).assign(**{"score.arc": np.nan})
        prior = CatalogPrior(**FAST).fit(frame, benchmarks=("gsm8k",))
        mean, std = prior.predict(synthetic(5, seed=1), "gsm8k")
        assert prior.models_["gsm8k"].features == ()
        assert mean == pytest.approx([frame["score.gsm8k"].mean()] * 5) and np.all(std > 0)

    def test_empty_rows(self):
        prior = CatalogPrior(**FAST).fit(synthetic(60, seed=0), benchmarks=("gsm8k",))
        mean, std = prior.predict(synthetic(0, seed=1), "gsm8k")
        assert mean.shape == std.shape == (0,)

    def test_too_few_scores_are_skipped_with_reason(self):
        prior = CatalogPrior(**FAST).fit(synthetic(20, seed=0), benchmarks=("gsm8k",))
        assert prior.skipped_ == {"gsm8k": "20 known scores < min_scores=30"}
        with pytest.raises(NotFittedError, match="no model for 'gsm8k': 20 known scores"):
            prior.predict(synthetic(5, seed=1), "gsm8k")


class TestErrors:
    def test_not_fitted(self, split):
        with pytest.raises(NotFittedError, match="not fitted yet") as info:
            CatalogPrior().predict(split[1], "gsm8k")
        assert isinstance(info.value, ValueError) and isinstance(info.value, AttributeError)

    def test_benchmark_not_asked_for(self, prior, split):
        with pytest.raises(NotFittedError, match="'arc'.*not in the benchmarks passed to fit"):
            prior.predict(split[1], "arc")

    def test_unknown_names(self, prior, split):
        with pytest.raises(UnknownBenchmarkError, match="gsm9k"):
            prior.predict(split[1], "gsm9k")
        with pytest.raises(UnknownBenchmarkError, match="gsm9k"):
            CatalogPrior(exclude=("gsm9k",)).fit(split[0])
        with pytest.raises(UnknownTaskError):
            prior.predict_task(split[1], "astrology")

    def test_bad_parameters(self, split):
        with pytest.raises(ValueError, match="quantile=1.5"):
            CatalogPrior(quantile=1.5).fit(split[0], benchmarks=("bbh",))
        with pytest.raises(TypeError, match=r"exclude='gsm8k' must be a tuple.*\('gsm8k',\)"):
            CatalogPrior(exclude="gsm8k").fit(split[0])
        with pytest.raises(ValueError, match="n_folds=1"):
            CatalogPrior(n_folds=1).fit(split[0], benchmarks=("bbh",))

    def test_sklearn_params(self):
        prior = CatalogPrior(exclude=("arc",), quantile=0.9)
        assert prior.get_params()["exclude"] == ("arc",)
        assert clone(prior).get_params() == prior.get_params()
