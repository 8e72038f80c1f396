"""Numerical core shared by the laws: the law's formula, the bounded multi-start least squares on log-loss, the
delta-method uncertainty, and the pre-power → power transition rule.

Implementation-only; use `recommender.predict.RectifiedLaw`, `LensLLMLaw` or `PooledLensLLM`.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from scipy.optimize import least_squares

#: parameter vector of one curve: (log B, log F, beta, E); F is D_l (Lin et al.) or F(Θ, t) (Zeng et al.).
N_PARAMS = 4
#: deterministic restart grid over (beta, log F): the law is non-convex in both, and a bad start ends in a flat
#: plateau of the loss surface (F ≫ D^β makes beta unidentifiable).
BETA_STARTS = (0.15, 0.4)
LOG_F_STARTS = (1.0, 5.0)
#: box bounds on (log B, log F, beta); E is bounded per curve by [0, min loss).
LOWER = (-20.0, -10.0, 0.01)
UPPER = (60.0, 40.0, 2.0)
#: the zero-shot point D = 0 enters the law as D^β = 0 exactly; least squares needs a finite log D for nothing
#: else, so no epsilon is substituted (Lin et al.'s code uses 1e-10).


def law(sizes: np.ndarray, log_b, log_f, beta, e) -> np.ndarray:
    """L(D) = B / (F + D^β) + E, broadcasting over arrays of parameters."""
    return np.exp(log_b) / (np.exp(log_f) + np.power(sizes, beta)) + e


@dataclass
class CurveFit:
    """One fitted curve: parameters, their covariance, and the residual scale (all on log-loss)."""

    params: np.ndarray  # (log B, log F, beta, E)
    cov: np.ndarray  # covariance of the free parameters, in `free` order
    free: tuple[int, ...]  # indices of the parameters that were fitted
    residual_std: float  # root-mean-square log residual, floored
    cost: float  # half the weighted sum of squared log residuals

    def log_predict(self, sizes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Mean and standard deviation of log L at `sizes` (delta method plus the residual scale)."""
        mean = np.log(law(sizes, *self.params))
        grad = np.empty((len(sizes), len(self.free)))
        for k, j in enumerate(self.free):
            # forward differences: the law is smooth and the step is far above float noise at these magnitudes
            step = 1e-6 * max(1.0, abs(self.params[j]))
            p = self.params.copy()
            p[j] += step
            grad[:, k] = (np.log(law(sizes, *p)) - mean) / step
        var = np.einsum("ij,jk,ik->i", grad, self.cov, grad) if self.free else np.zeros(len(sizes))
        return mean, np.sqrt(np.clip(var, 0.0, None) + self.residual_std**2)


def fit_curve(
    sizes: np.ndarray,
    losses: np.ndarray,
    weights: np.ndarray,
    *,
    fixed: dict[int, float] | None = None,
    e_max: float | None = None,
    penalty=None,
) -> CurveFit:
    """Bounded least squares of the law on log-loss from a grid of starts; the best start wins.

    Args:
        sizes, losses, weights: the curve's points and each point's weight (on the log residual).
        fixed: parameter index → value for parameters held fixed (1 = log F for a known NTK term, 3 = E when pooled).
        e_max: upper bound on E (default: just below the smallest loss, since the law approaches E from above).
        penalty: optional callable params → extra residuals (a prior), used by pooled fits.
    """
    fixed = dict(fixed or {})
    free = tuple(j for j in range(N_PARAMS) if j not in fixed)
    e_hi = 0.999 * float(losses.min()) if e_max is None else e_max
    lo = np.array([*LOWER, 0.0])[list(free)]
    hi = np.array([*UPPER, e_hi])[list(free)]
    log_y = np.log(losses)

    def full(theta: np.ndarray) -> np.ndarray:
        p = np.empty(N_PARAMS)
        p[list(free)] = theta
        for j, v in fixed.items():
            p[j] = v
        return p

    def residuals(theta: np.ndarray) -> np.ndarray:
        p = full(theta)
        r = weights * (np.log(law(sizes, *p)) - log_y)
        return r if penalty is None else np.concatenate([r, penalty(p)])

    best = None
    first = int(np.argmin(sizes[sizes > 0])) if np.any(sizes > 0) else 0
    d0, l0 = sizes[sizes > 0][first], losses[sizes > 0][first]
    for beta0 in BETA_STARTS:
        for log_f0 in LOG_F_STARTS:
            e0 = fixed.get(3, 0.5 * float(losses.min()))
            log_f = fixed.get(1, log_f0)
            # start B so the law passes through the smallest non-zero size: the restarts then differ in shape only
            log_b0 = np.log(max(l0 - e0, 1e-3) * (np.exp(log_f) + d0**beta0))
            start = np.array([log_b0, log_f, beta0, e0])[list(free)]
            start = np.clip(start, lo + 1e-9, hi - 1e-9)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                res = least_squares(residuals, start, bounds=(lo, hi), method="trf")
            if best is None or res.cost < best.cost:
                best = res
    assert best is not None
    return _summarise(best, full(best.x), free, int(np.sum(weights > 0)))


def _summarise(res, params: np.ndarray, free: tuple[int, ...], n_points: int) -> CurveFit:
    dof = max(n_points - len(free), 1)
    # floor: a law that interpolates 4 points exactly is not certain; 0.5% of the loss is the noise level of the
    # benchmark's repeated runs
    s2 = max(2.0 * res.cost / dof, 0.005**2)
    jac = res.jac[:n_points] if res.jac.shape[0] > n_points else res.jac
    cov = np.linalg.pinv(jac.T @ jac) * s2
    return CurveFit(params=params, cov=cov, free=free, residual_std=float(np.sqrt(s2)), cost=float(res.cost))


#: residual scale (log-loss units) below which accepted points count as exactly on one line.
COLLINEAR_TOL = 1e-12


def power_phase_start(
    sizes: np.ndarray, losses: np.ndarray, *, min_points: int = 3, delta: float = 5.0, scale_floor: float = 0.0
) -> float:
    """The smallest size of the power phase, by Lin et al.'s Accept-then-Stop rule.

    Walking from the largest size down, the points accepted so far are fitted by a line in log-log space; the next
    smaller point is accepted while its residual is at most `delta` times the standard deviation of the accepted
    points' residuals, and the walk stops at the first point that is not (that point is in the pre-power phase,
    where the local log-log slope has not yet stabilised). The zero-shot point D = 0 is never part of the power
    phase. With fewer than `min_points` + 1 non-zero sizes, every non-zero size is accepted.

    `scale_floor` bounds the residual scale from below (log-loss units): three points give a scale with one degree
    of freedom that is often near zero by chance, which stops the walk at measurement noise. 0 is Lin et al.'s rule.

    Returns:
        The smallest accepted size (the transition point; sizes below it are pre-power).
    """
    nz = sizes > 0
    x, y = np.log(sizes[nz]), np.log(losses[nz])
    n = len(x)
    accepted = n
    for k in range(min_points, n):
        slope, intercept = np.polyfit(x[-k:], y[-k:], 1)
        resid = y[-k:] - (slope * x[-k:] + intercept)
        scale = max(resid.std(), scale_floor)
        test = abs(y[-k - 1] - (slope * x[-k - 1] + intercept))
        # A collinear tail (residual scale at rounding level, ~1e-16, whose size depends on the BLAS in use) accepts
        # only points on the same line, to a tolerance well above rounding.
        if test > delta * scale if scale > COLLINEAR_TOL else test > 1e3 * COLLINEAR_TOL:
            accepted = k
            break
    return float(sizes[nz][n - accepted])


def random_effects(estimates: np.ndarray, variances: np.ndarray) -> tuple[float, float]:
    """Empirical-Bayes normal prior of a parameter from its per-model estimates: (mean, between-model variance τ²).

    The normal-normal hierarchical model θ_m ~ N(μ, τ²), θ̂_m ~ N(θ_m, v_m) with τ² by DerSimonian–Laird's method
    of moments (clipped at 0) and μ the inverse-variance mean under it. With one model τ² is infinite (no pooling).
    """
    estimates, variances = np.asarray(estimates, float), np.maximum(np.asarray(variances, float), 1e-12)
    w = 1.0 / variances
    if estimates.size < 2:
        return float(estimates.mean()), float("inf")
    mu = float(np.sum(w * estimates) / w.sum())
    q = float(np.sum(w * (estimates - mu) ** 2))
    tau2 = max(0.0, (q - (estimates.size - 1)) / (w.sum() - np.sum(w**2) / w.sum()))
    wr = 1.0 / (variances + tau2)
    return float(np.sum(wr * estimates) / wr.sum()), tau2
