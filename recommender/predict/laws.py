"""Fine-tuning scaling laws: test loss L as a function of the fine-tuning set size D.

Rectified Scaling Law (Lin, Huang, Ye et al., "Selecting Large Language Model to Fine-tune via Rectified Scaling
Law", ICML 2024, arXiv 2402.02314)::

    L(D) = B / (D_l + D^β) + E

with D_l the "pre-learned data size": while D^β ≪ D_l the curve is flat (the *pre-power phase*), once D^β ≫ D_l it is
the familiar power law B·D^-β + E (the *power phase*).

LensLLM (Zeng, Wang, Lin, Wu, Cody, Zhou, "LensLLM: Unveiling Fine-Tuning Dynamics for LLM Selection", ICML 2025,
arXiv 2505.03793) replaces D_l by an NTK-based term F(Θ, t) of the pre-trained parameters Θ and the number of
fine-tuning steps t::

    L(D) = B / (F(Θ, t) + D^β) + E

Names here: ``B`` = B, ``F`` = D_l or F(Θ, t), ``beta`` = β, ``E`` = E (the irreducible loss of the task's test set).

**The trap.** From curves alone F(Θ, t) cannot be computed (it needs the model's gradients); a per-model constant F
makes LensLLM *algebraically* the Rectified law (`LensLLMLaw` with ``ntk=None`` gives the same fit as `RectifiedLaw`,
a test checks it). What LensLLM adds here therefore comes from the fit, not from the formula:

1. *pooling* (`PooledLensLLM`): E is the loss floor of the task's test set, so one E is shared by all the models
   fine-tuned on the same data (profiled over a grid of E: an empirical-Bayes point estimate); β gets a
   hierarchical normal prior per model family (DerSimonian–Laird between-model variance from the per-model
   estimates and their Jacobian variances), under which every model is refitted; B and F stay per model.
2. *point selection*: the power phase is detected with Lin et al.'s Accept-then-Stop rule (`power_phase_start`);
   the law is fitted on the zero-shot point (D = 0 enters exactly, L(0) = B/F + E) and the power-phase points.
3. *four extrapolators, stacked*: the law's power-phase limit (a line in log-log space on the power-phase points,
   what AtS extrapolates, its slope shrunk toward the family's by the same normal-normal model) is a second
   extrapolator; a log-log quadratic on the same points, its curvature shrunk toward the family's (empirical
   Bayes: inverse-variance weights, DerSimonian–Laird τ²), is a third — it carries the steepening or flattening
   that the models of a family share into the extrapolation, which neither the line nor a law with one shared E
   expresses; Lin et al.'s own per-model AtS line (the same points, no shrinkage) is a fourth, so a model whose
   power phase departs from its family's keeps its own slope. The weights maximise the pooled log predictive
   density of the last one and last two sizes hidden and predicted (stacking of predictive distributions; Yao,
   Vehtari, Simpson, Gelman, Bayesian Analysis 2018), one weight vector per file and budget, found by EM.

Where the model itself is at hand (``finetune-select``), `ntk_term` computes F from it as the paper does, and
`LensLLMLaw(ntk=F)` holds F fixed.

Every fit is bounded least squares on log-loss (`scipy.optimize.least_squares`, trust-region reflective) from a
deterministic grid of starts over (β, log F), keeping the best; uncertainties come from the Jacobian covariance
(delta method on log L) plus the residual scale, and for the pooled estimator the spread between its four
extrapolators. The replication (`evals/bench_lensllm.py`, report `evals/reports/bench_lensllm.md`) gives the
figures.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

import numpy as np
from sklearn.exceptions import NotFittedError

from recommender.predict._fit import CurveFit, fit_curve, law, power_phase_start, random_effects

if TYPE_CHECKING:
    import torch

__all__ = ["RectifiedLaw", "LensLLMLaw", "PooledLensLLM", "ntk_term"]

def _check_curve(sizes, losses) -> tuple[np.ndarray, np.ndarray]:
    sizes = np.asarray(sizes, dtype=float).ravel()
    losses = np.asarray(losses, dtype=float).ravel()
    if sizes.shape != losses.shape:
        raise ValueError(f"sizes has {sizes.size} values but losses has {losses.size}; give one loss per size")
    if sizes.size < 3:
        raise ValueError(f"a law needs at least 3 points to fit, got {sizes.size}")
    if not (np.all(np.isfinite(sizes)) and np.all(sizes >= 0)):
        raise ValueError(f"sizes must be finite and >= 0, got {sizes.tolist()}")
    if not (np.all(np.isfinite(losses)) and np.all(losses > 0)):
        raise ValueError(f"losses must be finite and > 0, got {losses.tolist()}")
    order = np.argsort(sizes)
    return sizes[order], losses[order]


def _check_fitted(estimator, attr: str = "params_") -> None:
    if not hasattr(estimator, attr):
        raise NotFittedError(
            f"This {type(estimator).__name__} instance is not fitted yet. Call 'fit' with appropriate arguments first."
        )


class RectifiedLaw:
    """Lin et al.'s Rectified Scaling Law L(D) = B / (D_l + D^β) + E, fitted to one curve.

    Args:
        zero_weight: weight of the zero-shot point D = 0 in the log-loss least squares (0 drops it).
        e_max: upper bound on E (default: just below the smallest observed loss).

    Attributes:
        B_, D_l_, beta_, E_: fitted parameters (B, D_l, β, E of the paper).
        params_: the same as a dict.
        fit_: the numerical fit (parameters on the log scale, covariance, residual scale).

    Example:
        >>> law = RectifiedLaw().fit([0, 200, 400, 800, 1600], [3.0, 2.5, 2.4, 2.3, 2.2])
        >>> mean, std = law.predict([3200, 6400])
    """

    #: parameter index of F held fixed by subclasses (None: fitted).
    _fixed_log_f: float | None = None

    def __init__(self, *, zero_weight: float = 1.0, e_max: float | None = None):
        self.zero_weight = zero_weight
        self.e_max = e_max

    def _weights(self, sizes: np.ndarray, losses: np.ndarray) -> np.ndarray:
        return np.where(sizes == 0, self.zero_weight, 1.0)

    def _fixed(self) -> dict[int, float]:
        return {}

    def fit(self, sizes, losses) -> "RectifiedLaw":
        """Fit the law to one curve.

        Args:
            sizes: training-set sizes D (examples, ≥ 0; 0 is the zero-shot point).
            losses: fine-tuning test loss at each size (> 0).

        Returns:
            self.

        Raises:
            ValueError: mismatched lengths, fewer than 3 points, negative sizes or non-positive losses.
        """
        sizes, losses = _check_curve(sizes, losses)
        weights = self._weights(sizes, losses)
        self.fit_ = fit_curve(sizes, losses, weights, fixed=self._fixed(), e_max=self.e_max)
        log_b, log_f, beta, e = self.fit_.params
        self.B_, self.D_l_, self.beta_, self.E_ = float(np.exp(log_b)), float(np.exp(log_f)), float(beta), float(e)
        self.params_ = {"B": self.B_, "D_l": self.D_l_, "beta": self.beta_, "E": self.E_}
        return self

    def predict(self, sizes) -> tuple[np.ndarray, np.ndarray]:
        """Predicted loss and its standard deviation at `sizes`.

        Returns:
            (mean, std), arrays shaped like `sizes`; std > 0 (log-normal: std = mean × σ_log).

        Raises:
            NotFittedError: before `fit`.
        """
        _check_fitted(self)
        sizes = np.asarray(sizes, dtype=float)
        mean_log, std_log = self.fit_.log_predict(sizes.ravel())
        mean = np.exp(mean_log)
        return mean.reshape(sizes.shape), (mean * std_log).reshape(sizes.shape)


class LensLLMLaw(RectifiedLaw):
    """Zeng et al.'s LensLLM law L(D) = B / (F(Θ, t) + D^β) + E, with transition detection.

    Args:
        ntk: F(Θ, t) computed from the model (`ntk_term`); held fixed when given. ``None`` fits F as a per-model
            constant, which is algebraically the Rectified law (F plays D_l).
        pre_power_weight: weight of the non-zero sizes below the detected power-phase start (1 keeps them as they
            are; below 1 trusts the power phase more for extrapolation).
        zero_weight: weight of the zero-shot point D = 0.
        delta: Accept-then-Stop threshold of the transition rule (standardised residual; Lin et al. use 5).
        e_max: upper bound on E.

    Attributes:
        B_, F_, beta_, E_: fitted parameters (``D_l_`` aliases ``F_``).
        transition_: the detected smallest size of the power phase.

    Example:
        >>> law = LensLLMLaw().fit([0, 200, 400, 800, 1600], [3.0, 2.5, 2.4, 2.3, 2.2])
        >>> law.transition_ <= 1600
        True
    """

    def __init__(
        self,
        *,
        ntk: float | None = None,
        pre_power_weight: float = 1.0,
        zero_weight: float = 1.0,
        delta: float = 5.0,
        e_max: float | None = None,
    ):
        super().__init__(zero_weight=zero_weight, e_max=e_max)
        self.ntk = ntk
        self.pre_power_weight = pre_power_weight
        self.delta = delta

    def _fixed(self) -> dict[int, float]:
        if self.ntk is None:
            return {}
        if not (np.isfinite(self.ntk) and self.ntk > 0):
            raise ValueError(f"ntk must be a positive finite F(Θ, t), got {self.ntk!r}")
        return {1: float(np.log(self.ntk))}

    def _weights(self, sizes: np.ndarray, losses: np.ndarray) -> np.ndarray:
        # floor the AtS residual scale at 0.5% (the benchmark's run-to-run noise) so noise alone does not stop the walk
        self.transition_ = power_phase_start(sizes, losses, delta=self.delta, scale_floor=0.005)
        w = super()._weights(sizes, losses)
        return np.where((sizes > 0) & (sizes < self.transition_), self.pre_power_weight * w, w)

    def fit(self, sizes, losses) -> "LensLLMLaw":
        """Fit the law to one curve (see `RectifiedLaw.fit`); also sets `transition_`."""
        super().fit(sizes, losses)
        self.F_ = self.D_l_
        self.params_ = {"B": self.B_, "F": self.F_, "beta": self.beta_, "E": self.E_}
        return self


class PooledLensLLM:
    """LensLLM fitted to many curves at once: hierarchical (empirical-Bayes) pooling, four extrapolators, stacking.

    Each model m has L_m(D) = B_m / (F_m + D^β_m) + E. The fit, fixed once for every file:

    1. *Point selection*: Lin et al.'s Accept-then-Stop rule (`power_phase_start`) finds each model's power phase;
       the law is fitted on the zero-shot point and the power-phase points (the pre-power points between them get
       weight 0: the law's F would otherwise spend itself on the pre-power knee instead of the curvature that
       matters for extrapolation).
    2. *Shared E*: E is the loss floor of the task's test set, so one E serves the file, chosen from `e_grid` × the
       smallest observed loss by the least summed cost (a profile, i.e. an empirical-Bayes point estimate).
    3. *Pooled β*: per-model β estimates and their Jacobian variances give a normal prior β_m ~ N(μ_g, τ_g²) per
       family g (DerSimonian–Laird τ², `random_effects`); every model is refitted with that prior as an extra
       least-squares residual, so a model whose own points pin β poorly borrows from its family.
    4. *The power-phase line* (the law's D^β ≫ F, E → 0 limit, which AtS extrapolates): log L = a − β·log D on
       the power-phase points, its slope shrunk toward the family's by the same normal-normal model.
    5. *The power-phase quadratic*: log L = a + b·u + c·u² (u = centred log D) on the same points, the curvature c
       shrunk toward the family's by the normal-normal model (`_shrunk_quadratics`), a and b refitted under it.
    6. *The AtS line*: Lin et al.'s per-model log-log line on the same power-phase points, unshrunk (the mean of
       `AtS`, the bench's ``rectified`` method).
    7. *Stacking*: the four extrapolators are refitted with the last point hidden and with the last two hidden;
       the weights w (a simplex) maximise the pooled log predictive density of the hidden log losses under the
       mixture Σ_k w_k·p_k (stacking of predictive distributions, Yao et al. 2018), summed over models.

    The prediction is the weighted geometric mean of the four extrapolators; its std is that of the mixture on
    log L (each component's predictive variance — parameter covariance plus residual scale — and the spread
    between them), times the mean.

    Args:
        e_grid: fractions of the smallest observed loss tried for the shared E.
        zero_weight: weight of the zero-shot point.
        holdouts: how many of the largest sizes each predictive check hides (a check runs when at least 3
            non-zero sizes remain; with none, equal weights).
        delta: Accept-then-Stop threshold of the transition rule.

    Attributes:
        E_: the shared irreducible loss.
        laws_: per-model parameters (dict with B, F, beta, E).
        transitions_: detected power-phase start per model.
        beta_prior_: family → (μ, τ) of the law's β prior (τ = inf: one model, no pooling).
        weights_: stacking weights {"law", "power_phase", "quadratic", "ats"} (sum 1).
        weight_law_: the law's stacking weight (``weights_["law"]``).
        holdout_loglik_: {"law": ..., "power_phase": ..., "quadratic": ..., "ats": ...} summed log predictive
            densities of the hidden points.

    Example:
        >>> pooled = PooledLensLLM().fit_many(sizes, losses)  # doctest: +SKIP
        >>> mean, std = pooled.predict([1_638_400])  # shape (n_models, 1)
    """

    def __init__(
        self,
        *,
        e_grid: Sequence[float] = (0.0, 0.3, 0.6, 0.8, 0.9),
        zero_weight: float = 1.0,
        holdouts: Sequence[int] = (1, 2),
        delta: float = 5.0,
    ):
        self.e_grid = e_grid
        self.zero_weight = zero_weight
        self.holdouts = holdouts
        self.delta = delta

    def fit_many(self, sizes, losses, groups: Sequence[str] | None = None) -> "PooledLensLLM":
        """Fit all curves of one file.

        Args:
            sizes: training-set sizes shared by all curves, shape (n_sizes,).
            losses: losses, shape (n_models, n_sizes), finite and > 0.
            groups: model families (the pooling groups of β and of the line's slope); ``None`` pools the whole
                file as one group.

        Returns:
            self.
        """
        sizes = np.asarray(sizes, dtype=float).ravel()
        losses = np.atleast_2d(np.asarray(losses, dtype=float))
        if losses.shape[1] != sizes.size:
            raise ValueError(f"losses has {losses.shape[1]} columns but there are {sizes.size} sizes")
        for row in losses:
            _check_curve(sizes, row)
        if groups is not None and len(groups) != len(losses):
            raise ValueError(f"groups has {len(groups)} entries but there are {len(losses)} curves")
        order = np.argsort(sizes)
        sizes, losses = sizes[order], losses[:, order]
        self.groups_ = tuple(groups) if groups is not None else ("all",) * len(losses)
        # predictive checks: hide the largest sizes, refit the extrapolators, score the hidden log losses
        n_nonzero = int(np.sum(sizes > 0))
        ll = np.zeros((len(losses), len(COMPONENTS)))  # per model and component: summed log predictive density
        checks = [k for k in self.holdouts if n_nonzero - k >= 3]
        for k in checks:
            keep, hidden = slice(0, sizes.size - k), sizes[-k:]
            truth = np.log(losses[:, -k:])
            fits, lines, quads, ats, _, _ = self._fit(sizes[keep], losses[:, keep])
            for m, (fit, line, quad, raw) in enumerate(zip(fits, lines, quads, ats)):
                ll[m, 0] += _log_density(truth[m], *fit.log_predict(hidden))
                ll[m, 1] += _log_density(truth[m], *_shrunk_line_predict(line, hidden))
                ll[m, 2] += _log_density(truth[m], *_shrunk_quadratic_predict(quad, hidden))
                ll[m, 3] += _log_density(truth[m], *_shrunk_line_predict(raw, hidden))
        w = _stacking_weights(ll) if checks else np.full(len(COMPONENTS), 1.0 / len(COMPONENTS))
        self.weights_ = dict(zip(COMPONENTS, (float(v) for v in w)))
        self.weight_law_ = self.weights_["law"]
        self.holdout_loglik_ = dict(zip(COMPONENTS, (float(v) for v in ll.sum(axis=0))))
        self.fits_, self.lines_, self.quads_, self.ats_, self.E_, self.beta_prior_ = self._fit(sizes, losses)
        self.transitions_ = np.array([line[3] for line in self.lines_])
        self.laws_ = [
            {"B": float(np.exp(f.params[0])), "F": float(np.exp(f.params[1])), "beta": float(f.params[2]), "E": self.E_}
            for f in self.fits_
        ]
        return self

    def _fit(self, sizes: np.ndarray, losses: np.ndarray):
        """The four extrapolators on one set of points: (law fits, shrunk lines, shrunk quadratics, AtS lines,
        shared E, β prior per family)."""
        groups = np.array(self.groups_)
        starts = [power_phase_start(sizes, row, delta=self.delta) for row in losses]
        weights = [np.where(sizes == 0, self.zero_weight, np.where(sizes >= s, 1.0, 0.0)) for s in starts]
        floor = float(losses[:, sizes > 0].min())
        best = None
        for frac in self.e_grid:
            fits = [fit_curve(sizes, row, w, fixed={3: frac * floor}) for row, w in zip(losses, weights)]
            cost = sum(f.cost for f in fits)
            if best is None or cost < best[0]:
                best = (cost, fits, frac * floor)
        assert best is not None
        _, fits, e = best
        # empirical-Bayes prior on β per family, then refit every model under it
        beta = np.array([f.params[2] for f in fits])
        var = np.array([f.cov[f.free.index(2), f.free.index(2)] for f in fits])
        prior, pooled = {}, []
        for g in dict.fromkeys(groups):
            mu, tau2 = random_effects(beta[groups == g], var[groups == g])
            prior[g] = (mu, float(np.sqrt(max(tau2, BETA_TAU_FLOOR**2))))
        for fit, row, w, g in zip(fits, losses, weights, groups):
            mu, tau = prior[g]
            if not np.isfinite(tau):
                pooled.append(fit)
                continue
            # the prior as a residual on the scale of the data's residuals: cost = Σr²/2σ² + (β − μ)²/2τ²
            penalty = lambda p, mu=mu, tau=tau, sig=fit.residual_std: np.array([sig * (p[2] - mu) / tau])
            pooled.append(fit_curve(sizes, row, w, fixed={3: e}, penalty=penalty))
        lines = _shrunk_lines(sizes, losses, starts, groups)
        quads = _shrunk_quadratics(sizes, losses, starts, groups)
        ats = _ats_lines(sizes, losses, starts)
        return pooled, lines, quads, ats, float(e), prior

    def predict(self, sizes) -> tuple[np.ndarray, np.ndarray]:
        """Predicted loss and standard deviation for every model at `sizes`.

        Returns:
            (mean, std), each shaped (n_models, len(sizes)); std > 0. The std is that of the four-component mixture
            on log L (each component's predictive variance plus the spread between them), times the mean.

        Raises:
            NotFittedError: before `fit_many`.
        """
        _check_fitted(self, "fits_")
        sizes = np.atleast_1d(np.asarray(sizes, dtype=float))
        w = np.array([self.weights_[c] for c in COMPONENTS])
        means, stds = [], []
        for fit, line, quad, raw in zip(self.fits_, self.lines_, self.quads_, self.ats_):
            parts = [fit.log_predict(sizes), _shrunk_line_predict(line, sizes), _shrunk_quadratic_predict(quad, sizes),
                     _shrunk_line_predict(raw, sizes)]
            m = np.array([p[0] for p in parts])
            s = np.array([p[1] for p in parts])
            mu = w @ m
            # variance of the mixture: within-component variance plus the spread of the component means
            var = w @ (s**2 + (m - mu) ** 2)
            means.append(np.exp(mu))
            stds.append(np.exp(mu) * np.sqrt(var))
        return np.array(means), np.array(stds)


#: the stacked extrapolators, in the order of `PooledLensLLM.weights_`.
COMPONENTS = ("law", "power_phase", "quadratic", "ats")

#: floor on the between-model spread τ of the law's β: with τ² = 0 from the moment estimate the prior would fix
#: every model's β at the family mean exactly (the line's slope, a linear estimate, takes τ² = 0 as it comes).
BETA_TAU_FLOOR = 1e-3


def _shrunk_lines(sizes: np.ndarray, losses: np.ndarray, starts: Sequence[float], groups: np.ndarray) -> list:
    """Power-phase lines log L = c0 + c1·log D, the slope c1 shrunk toward the family's (normal-normal model).

    Returns one ``(coef, cov, x, start, s2)`` per model: coefficients, their covariance after shrinkage, the log
    sizes used, the power-phase start, and the residual variance (floored at 0.5%²).
    """
    raw = []
    for row, start in zip(losses, starts):
        m = sizes >= start
        x, y = np.log(sizes[m]), np.log(row[m])
        xm = float(x.mean())
        slope, level = np.polyfit(x - xm, y, 1)
        s2 = max(float(np.sum((y - level - slope * (x - xm)) ** 2)) / max(len(x) - 2, 1), 0.005**2)
        raw.append((xm, level, slope, s2 / float(np.sum((x - xm) ** 2)), s2, x, start))
    slopes, var = np.array([r[2] for r in raw]), np.array([r[3] for r in raw])
    prior = {g: random_effects(slopes[groups == g], var[groups == g]) for g in dict.fromkeys(groups)}
    lines = []
    for (xm, level, slope, v, s2, x, start), g in zip(raw, groups):
        mu, tau2 = prior[g]
        if np.isfinite(tau2):
            lam = tau2 / (tau2 + v)
            slope, v = lam * slope + (1 - lam) * mu, lam * v
        # centred level and slope are uncorrelated; back to (c0, c1) about log D = 0
        coef = np.array([level - slope * xm, slope])
        cov = np.array([[s2 / len(x) + xm**2 * v, -xm * v], [-xm * v, v]])
        lines.append((coef, cov, x, start, s2))
    return lines


def _ats_lines(sizes: np.ndarray, losses: np.ndarray, starts: Sequence[float]) -> list:
    """Per-model power-phase lines, unshrunk: Lin et al.'s AtS extrapolator (`AtS`'s mean), in the tuple layout of
    `_shrunk_lines` so `_shrunk_line_predict` serves both (predictive std: coefficient covariance plus the residual
    variance, floored at 0.5%²)."""
    lines = []
    for row, start in zip(losses, starts):
        m = sizes >= start
        x, y = np.log(sizes[m]), np.log(row[m])
        coef, cov = _polyfit_cov(x, y)
        s2 = max(float(np.sum((y - coef[0] - coef[1] * x) ** 2)) / max(len(x) - 2, 1), 0.005**2)
        lines.append((coef, cov, x, start, s2))
    return lines


def _shrunk_quadratics(sizes: np.ndarray, losses: np.ndarray, starts: Sequence[float], groups: np.ndarray) -> list:
    """Power-phase quadratics log L = a + b·u + c·u² (u = log D − its mean), the curvature c shrunk toward the
    family's by the normal-normal model (inverse-variance weights, DerSimonian–Laird τ²), then a and b refitted
    with c held at its shrunk value.

    The curvature is what the line cannot express (a power phase that is still steepening or already flattening
    toward E); one model's curvature from a handful of points is noisy, the family's is not. Fitted on the
    power-phase points, or on every non-zero size when the power phase has fewer than 4.

    Returns one ``(ab, cov_ab, c, var_c, xm, G, s2)`` per model: the refitted level and slope with their
    covariance, the shrunk curvature and its variance, the centring log size, the sensitivity of (a, b) to c, and
    the residual variance (floored at 0.5%²).
    """
    raw = []
    for row, start in zip(losses, starts):
        m = sizes >= start
        if m.sum() < 4:
            m = sizes > 0
        x, y = np.log(sizes[m]), np.log(row[m])
        xm = float(x.mean())
        u = x - xm
        X = np.column_stack([np.ones_like(u), u, u**2])
        coef, *_ = np.linalg.lstsq(X, y, rcond=None)
        s2 = max(float(np.sum((y - X @ coef) ** 2)) / max(len(x) - 3, 1), 0.005**2)
        cov = np.linalg.pinv(X.T @ X) * s2
        raw.append((coef, float(cov[2, 2]), X, y, xm, s2))
    curv, var = np.array([r[0][2] for r in raw]), np.array([r[1] for r in raw])
    prior = {g: random_effects(curv[groups == g], var[groups == g]) for g in dict.fromkeys(groups)}
    quads = []
    for (coef, v, X, y, xm, s2), g in zip(raw, groups):
        mu, tau2 = prior[g]
        c = coef[2]
        if np.isfinite(tau2):
            lam = tau2 / (tau2 + v)
            c, v = lam * c + (1 - lam) * mu, lam * v
        A = X[:, :2]
        pinv = np.linalg.pinv(A.T @ A)
        ab = pinv @ A.T @ (y - c * X[:, 2])
        quads.append((ab, pinv * s2, float(c), float(v), xm, pinv @ A.T @ X[:, 2], s2))
    return quads


def _shrunk_quadratic_predict(quad, sizes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and predictive std of log L on a shrunk quadratic: (a, b) covariance, the curvature's variance
    propagated through the refit of (a, b), and the residual variance."""
    ab, cov_ab, c, var_c, xm, G, s2 = quad
    u = np.log(np.maximum(sizes, 1.0)) - xm
    Q = np.column_stack([np.ones_like(u), u])
    dc = u**2 - Q @ G  # d(prediction)/dc once (a, b) follow c
    var = np.einsum("ij,jk,ik->i", Q, cov_ab, Q) + dc**2 * var_c
    return Q @ ab + c * u**2, np.sqrt(var + s2)


def _shrunk_line_predict(line, sizes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and predictive std of log L on a shrunk line (coefficient covariance plus the residual variance)."""
    coef, cov, _, _, s2 = line
    X = np.column_stack([np.ones(len(sizes)), np.log(np.maximum(sizes, 1.0))])
    var = np.einsum("ij,jk,ik->i", X, cov, X)
    return X @ coef, np.sqrt(var + s2)


def _log_density(truth: np.ndarray, mean: np.ndarray, std: np.ndarray) -> float:
    """Summed normal log density of `truth` under (mean, std)."""
    return float(np.sum(-0.5 * ((truth - mean) / std) ** 2 - np.log(std) - 0.5 * np.log(2 * np.pi)))


def _stacking_weights(ll: np.ndarray, *, iters: int = 500) -> np.ndarray:
    """Simplex weights w maximising Σ_m log Σ_k w_k·exp(ll[m, k]) (ll: per-model, per-component log densities).

    The objective is concave in w; the EM fixed point (w_k ← mean over models of component k's responsibility)
    climbs it monotonically from the uniform start.
    """
    ll = np.asarray(ll, dtype=float)
    w = np.full(ll.shape[1], 1.0 / ll.shape[1])
    for _ in range(iters):
        a = np.log(np.maximum(w, 1e-300)) + ll
        a -= a.max(axis=1, keepdims=True)
        r = np.exp(a)
        r /= r.sum(axis=1, keepdims=True)
        w_new = r.mean(axis=0)
        if np.max(np.abs(w_new - w)) < 1e-10:
            return w_new
        w = w_new
    return w


def _polyfit_cov(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Least-squares line y = c0 + c1·x with the coefficient covariance (residual variance floored at 0.5%²)."""
    X = np.column_stack([np.ones_like(x), x])
    coef, *_ = np.linalg.lstsq(X, y, rcond=None)
    dof = max(len(x) - 2, 1)
    s2 = max(float(np.sum((y - X @ coef) ** 2)) / dof, 0.005**2)
    return coef, np.linalg.pinv(X.T @ X) * s2


def _line_predict(line, sizes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    coef, cov, _, _ = line
    # D = 0 has no place on a log-log line; it is predicted as D = 1 (the line is only used far above it)
    X = np.column_stack([np.ones(len(sizes)), np.log(np.maximum(sizes, 1.0))])
    var = np.einsum("ij,jk,ik->i", X, cov, X)
    return X @ coef, np.sqrt(var + 0.005**2)


def ntk_term(model: "torch.nn.Module", probe_batch, steps: int, *, loss_fn=None) -> float:
    """F(Θ, t) of LensLLM from a real model: the empirical NTK of the loss at the current parameters, times t.

    Our reading of Zeng et al. (2025): the NTK Θ_ij = ⟨∇_θ ℓ_i, ∇_θ ℓ_j⟩ over the per-example losses ℓ_i of a probe
    batch, evaluated at initialisation (the pre-trained weights, before fine-tuning), measures how fast gradient
    descent moves the loss; over t steps of (linearised) gradient flow the pre-trained model has effectively
    "seen" ∝ t · tr(Θ)/n data, which is what F adds to D^β. So F = t · tr(Θ)/n — the mean squared per-example
    gradient norm times the number of steps. tr(J Jᵀ) = Σ_i ‖∇ℓ_i‖², so the n × n kernel is never formed.

    Args:
        model: a torch module; its parameters are used as they are (call before fine-tuning).
        probe_batch: ``(inputs, targets)`` tensors, or a mapping of tensors for a transformers model whose output
            has ``.loss`` (each example is then run alone, with its ``labels``).
        steps: t, the number of fine-tuning steps the run will take (≥ 1).
        loss_fn: per-example loss ``loss_fn(model, example) -> scalar tensor``; default: cross-entropy of
            ``model(inputs)`` against integer targets, or mean-squared error for float targets.

    Returns:
        F(Θ, t) > 0, finite.

    Raises:
        ValueError: `steps` < 1, an empty probe batch, or a non-finite gradient.

    Example:
        >>> import torch
        >>> mlp = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Linear(8, 3))
        >>> batch = (torch.randn(16, 4), torch.randint(0, 3, (16,)))
        >>> ntk_term(mlp, batch, steps=100) > 0
        True
    """
    import torch  # local: importing recommender must not load torch

    if steps < 1:
        raise ValueError(f"steps (t) must be >= 1, got {steps}")
    examples = _split_examples(probe_batch)
    if not examples:
        raise ValueError("the probe batch is empty; pass at least one example")
    loss_fn = loss_fn or _default_loss
    params = [p for p in model.parameters() if p.requires_grad]
    trace = 0.0
    was_training = model.training
    model.eval()  # dropout would make the kernel random
    try:
        for example in examples:
            loss = loss_fn(model, example)
            grads = torch.autograd.grad(loss, params, allow_unused=True)
            for g in grads:
                if g is not None:
                    # A dot product needs no squared copy of the gradient (for a 270M-parameter model that copy
                    # is 2 GB in float64); float32 accumulates well enough for a trace, bfloat16 does not.
                    v = g.detach().reshape(-1)
                    v = v if v.dtype in (torch.float32, torch.float64) else v.float()
                    trace += float(torch.dot(v, v))
    finally:
        model.train(was_training)
    if not np.isfinite(trace):
        raise ValueError("the per-example loss gradients are not finite; check the probe batch and the model")
    return float(steps) * trace / len(examples)


def _split_examples(batch) -> list:
    if isinstance(batch, dict):
        n = len(next(iter(batch.values())))
        return [{k: v[i : i + 1] for k, v in batch.items()} for i in range(n)]
    inputs, targets = batch
    return [(inputs[i : i + 1], targets[i : i + 1]) for i in range(len(inputs))]


def _default_loss(model, example):
    import torch.nn.functional as F

    if isinstance(example, dict):
        return model(**example).loss
    inputs, targets = example
    out = model(inputs)
    if targets.dtype.is_floating_point:
        return F.mse_loss(out, targets)
    return F.cross_entropy(out, targets)
