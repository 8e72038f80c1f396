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
        assert set(pooled.holdout_loglik_) == {"law", "power_phase", "quadratic", "ats"}
        assert set(pooled.weights_) == {"law", "power_phase", "quadratic", "ats"}
        assert abs(sum(pooled.weights_.values()) - 1) < 1e-9 and pooled.weight_law_ == pooled.weights_["law"]
        with pytest.raises(ValueError, match="groups has 2 entries"):
            PooledLensLLM().fit_many(SIZES, curves, ("a", "b"))

    def test_curvature_shrinkage_recovers_the_family_value(self):
        # log-log quadratics sharing one curvature c = -0.02 per family; each curve is noisy enough that its own
        # curvature estimate is poor, the family's inverse-variance pooled value is not
        from recommender.predict.laws import _shrunk_quadratic_predict, _shrunk_quadratics

        rng = np.random.default_rng(3)
        sizes = np.array([0.0, *(200.0 * 2 ** np.arange(10))])
        x = np.log(sizes[1:])
        u = x - x.mean()
        c_true = -0.02
        curves = np.array([np.exp(np.r_[a + 0.2, a + b * u + c_true * u**2 + rng.normal(0, 0.01, u.size)])
                           for a, b in zip(rng.uniform(0.5, 1.0, 12), rng.uniform(-0.12, -0.05, 12))])
        groups = np.array(["g"] * 12)
        starts = [sizes[1]] * 12
        quads = _shrunk_quadratics(sizes, curves, starts, groups)
        raw = [np.polyfit(u, np.log(c[1:]), 2)[0] for c in curves]
        shrunk = [q[2] for q in quads]
        assert abs(np.mean(shrunk) - c_true) < 0.003
        assert np.std(shrunk) < 0.5 * np.std(raw)  # pulled toward the pooled value
        assert np.mean(np.abs(np.array(shrunk) - c_true)) < np.mean(np.abs(np.array(raw) - c_true))
        mean, std = _shrunk_quadratic_predict(quads[0], sizes[-2:])
        assert mean.shape == (2,) and np.all(std > 0)

    def test_ats_component_is_lin_et_al_ats(self):
        # the fourth stacked extrapolator is the per-model AtS line: with all the weight on it, the pooled
        # prediction is AtS's, model by model
        rng = np.random.default_rng(4)
        params = [(100, 20, 0.35), (90, 15, 0.36), (60, 10, 0.2), (70, 12, 0.21)]
        curves = np.array([rectified(SIZES, b, dl, beta, 1.0) * np.exp(rng.normal(0, 0.003, SIZES.size))
                           for b, dl, beta in params])
        budget = SIZES <= 102400
        pooled = PooledLensLLM().fit_many(SIZES[budget], curves[:, budget], ("a", "a", "b", "b"))
        assert pooled.weights_["ats"] >= 0
        pooled.weights_ = {"law": 0.0, "power_phase": 0.0, "quadratic": 0.0, "ats": 1.0}
        mean, std = pooled.predict(SIZES[~budget])
        for m, row in enumerate(curves[:, budget]):
            expected = AtS().fit(SIZES[budget], row).predict(SIZES[~budget])[0]
            np.testing.assert_allclose(mean[m], expected, rtol=1e-10)
        assert np.all(std > 0)

    def test_stacking_weights_pick_the_better_component(self):
        from recommender.predict.laws import _stacking_weights

        ll = np.array([[0.0, -5.0, -5.0]] * 8 + [[-5.0, 0.0, -5.0]] * 2)
        w = _stacking_weights(ll)
        assert abs(w.sum() - 1) < 1e-9 and w[0] > 0.7 and w[2] < 0.05

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
