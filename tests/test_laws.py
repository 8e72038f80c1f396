"""The laws: parameter recovery on noisy synthetic curves, the LensLLM ≡ Rectified algebra, uncertainties,
the pooled estimator, the baselines, and the NTK term on a tiny real torch model."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError

from recommender.predict import AtS, LensLLMLaw, ModelSize, PooledLensLLM, RectifiedLaw, ZeroShot, ntk_term

SIZES = np.array([0, 200, 400, 800, 1600, 3200, 6400, 12800, 25600, 51200, 102400, 204800, 409600, 819200, 1638400.0])


def rectified(d, B, D_l, beta, E):
    return B / (D_l + d**beta) + E


def noisy_curve(B=120.0, D_l=30.0, beta=0.4, E=1.2, noise=0.003, seed=0):
    rng = np.random.default_rng(seed)
    return rectified(SIZES, B, D_l, beta, E) * np.exp(rng.normal(0, noise, SIZES.size))


class TestRectifiedLaw:
    @pytest.mark.parametrize("seed", [0, 1, 2])
    def test_recovers_known_parameters_from_noisy_curve(self, seed):
        law = RectifiedLaw().fit(SIZES, noisy_curve(seed=seed))
        assert law.beta_ == pytest.approx(0.4, abs=0.04)
        assert law.E_ == pytest.approx(1.2, abs=0.1)
        assert law.B_ == pytest.approx(120.0, rel=0.35)
        assert law.D_l_ == pytest.approx(30.0, rel=0.35)

    def test_predictions_have_positive_std_and_track_truth(self):
        law = RectifiedLaw().fit(SIZES[:10], noisy_curve()[:10])
        mean, std = law.predict(SIZES[10:])
        assert np.all(std > 0) and np.all(np.isfinite(std))
        truth = rectified(SIZES[10:], 120.0, 30.0, 0.4, 1.2)
        assert np.allclose(mean, truth, rtol=0.1)

    def test_not_fitted(self):
        with pytest.raises(NotFittedError, match="not fitted"):
            RectifiedLaw().predict([100])

    def test_bad_input(self):
        with pytest.raises(ValueError, match="at least 3 points"):
            RectifiedLaw().fit([0, 200], [3.0, 2.0])
        with pytest.raises(ValueError, match="> 0"):
            RectifiedLaw().fit([0, 200, 400], [3.0, -2.0, 1.0])

    def test_init_only_stores_params(self):
        law = RectifiedLaw(zero_weight=0.5)
        assert vars(law) == {"zero_weight": 0.5, "e_max": None}


class TestLensLLMLaw:
    def test_constant_F_is_the_rectified_law(self):
        # the trap: with F fitted as a per-model constant, LensLLM is the Rectified law with D_l = F
        y = noisy_curve(seed=3)
        rect = RectifiedLaw().fit(SIZES, y)
        lens = LensLLMLaw().fit(SIZES, y)
        assert lens.F_ == pytest.approx(rect.D_l_, rel=1e-6)
        assert lens.beta_ == pytest.approx(rect.beta_, rel=1e-6)
        assert np.allclose(lens.predict(SIZES)[0], rect.predict(SIZES)[0], rtol=1e-6)

    def test_known_F_is_held_fixed(self):
        lens = LensLLMLaw(ntk=30.0).fit(SIZES, noisy_curve())
        assert lens.F_ == pytest.approx(30.0)
        assert lens.beta_ == pytest.approx(0.4, abs=0.03)

    def test_transition_detected_between_phases(self):
        # a power law from 3200 up, a nearly flat (pre-power) stretch below it, 0.3% noise
        base = np.where(SIZES >= 3200, 10 * np.maximum(SIZES, 1) ** -0.2,
                        10 * 3200**-0.2 * (np.maximum(SIZES, 1) / 3200) ** -0.01)
        for seed in range(4):
            y = base * np.exp(np.random.default_rng(seed).normal(0, 0.003, SIZES.size))
            assert LensLLMLaw().fit(SIZES, y).transition_ == 3200

    def test_bad_ntk(self):
        with pytest.raises(ValueError, match="positive finite"):
            LensLLMLaw(ntk=-1.0).fit(SIZES, noisy_curve())


class TestPooledLensLLM:
    def test_shared_E_recovered_and_predictions_shaped(self):
        rng = np.random.default_rng(0)
        curves = [rectified(SIZES, b, dl, beta, 1.0) * np.exp(rng.normal(0, 0.002, SIZES.size))
                  for b, dl, beta in [(100, 20, 0.35), (60, 10, 0.3), (200, 50, 0.45), (80, 5, 0.25)]]
        budget = SIZES <= 51200
        pooled = PooledLensLLM(e_grid=(0.0, 0.5, 0.7, 0.9)).fit_many(SIZES[budget], np.array(curves)[:, budget])
        assert 0.0 < pooled.E_ <= np.min(curves)
        assert 0 <= pooled.weight_law_ <= 1
        mean, std = pooled.predict(SIZES[~budget])
        assert mean.shape == (4, int((~budget).sum())) and np.all(std > 0)
        truth = np.array(curves)[:, ~budget]
        assert np.mean(np.abs(np.log(mean / truth))) < 0.1


    def test_family_prior_on_beta_and_groups_checked(self):
        rng = np.random.default_rng(1)
        params = [(100, 20, 0.35), (90, 15, 0.36), (120, 25, 0.34), (60, 10, 0.2), (70, 12, 0.21)]
        curves = np.array([rectified(SIZES, b, dl, beta, 1.0) * np.exp(rng.normal(0, 0.002, SIZES.size))
                           for b, dl, beta in params])
        groups = ("a", "a", "a", "b", "b")
        pooled = PooledLensLLM().fit_many(SIZES, curves, groups)
        assert set(pooled.beta_prior_) == {"a", "b"}
        # each family's prior mean sits near its own β, not the file's
        assert pooled.beta_prior_["a"][0] > pooled.beta_prior_["b"][0]
        assert set(pooled.holdout_loglik_) == {"law", "power_phase"}
        with pytest.raises(ValueError, match="groups has 2 entries"):
            PooledLensLLM().fit_many(SIZES, curves, ("a", "b"))

    def test_random_effects(self):
        from recommender.predict._fit import random_effects

        mu, tau2 = random_effects([0.3, 0.3, 0.3], [1e-4, 1e-4, 1e-4])
        assert mu == pytest.approx(0.3) and tau2 == 0.0
        mu, tau2 = random_effects([0.1, 0.5, 0.3], [1e-4, 1e-4, 1e-4])
        assert mu == pytest.approx(0.3) and tau2 == pytest.approx(0.04 - 1e-4, rel=1e-6)
        assert random_effects([0.3], [1e-4])[1] == float("inf")

class TestBaselines:
    def test_zero_shot(self):
        mean, std = ZeroShot().fit([0, 200, 400], [3.0, 2.5, 2.4]).predict([10, 100])
        assert mean.tolist() == [3.0, 3.0] and np.all(np.isnan(std))
        with pytest.raises(ValueError, match="zero-shot point"):
            ZeroShot().fit([200, 400, 800], [3.0, 2.5, 2.4])

    def test_model_size_ranks_larger_first(self):
        assert np.argmin(ModelSize().score([1e8, 7e9, 1e9])) == 1
        with pytest.raises(ValueError, match="positive parameter count"):
            ModelSize().score([1e8, np.nan])

    def test_ats_stops_at_pre_power_phase(self):
        # a pure power law above 3200, a flat (pre-power) stretch below it
        sizes = SIZES[1:12]
        losses = np.where(sizes >= 3200, 10 * sizes**-0.2, 10 * 3200**-0.2 * (sizes / 3200) ** -0.01)
        ats = AtS().fit(sizes, losses)
        assert ats.transition_ == 3200
        assert ats.beta_ == pytest.approx(0.2, abs=1e-6)
        mean, std = ats.predict([1_638_400])
        assert mean[0] == pytest.approx(10 * 1_638_400**-0.2, rel=1e-6) and std[0] > 0


class TestNTKTerm:
    def test_tiny_mlp_positive_finite_and_grows_with_steps(self):
        torch = pytest.importorskip("torch")
        torch.manual_seed(0)
        mlp = torch.nn.Sequential(torch.nn.Linear(6, 16), torch.nn.Tanh(), torch.nn.Linear(16, 4))
        batch = (torch.randn(12, 6), torch.randint(0, 4, (12,)))
        f10, f100 = ntk_term(mlp, batch, steps=10), ntk_term(mlp, batch, steps=100)
        assert np.isfinite(f10) and f10 > 0
        assert f100 == pytest.approx(10 * f10, rel=1e-9)
        with pytest.raises(ValueError, match="steps"):
            ntk_term(mlp, batch, steps=0)

    def test_tiny_transformers_model(self):
        pytest.importorskip("torch")
        transformers = pytest.importorskip("transformers")
        import torch

        torch.manual_seed(0)
        config = transformers.GPT2Config(n_embd=16, n_layer=1, n_head=2, vocab_size=50, n_positions=16)
        model = transformers.GPT2LMHeadModel(config)  # random init, built locally: no download
        ids = torch.randint(0, 50, (3, 8))
        value = ntk_term(model, {"input_ids": ids, "labels": ids}, steps=5)
        assert np.isfinite(value) and value > 0
        assert LensLLMLaw(ntk=value).fit(SIZES, noisy_curve()).F_ == pytest.approx(value)
