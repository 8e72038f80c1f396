"""Baselines for predicting full fine-tuning loss: ZeroShot, ModelSize, and Lin et al.'s AtS.

From Lin, Huang, Ye et al., "Selecting Large Language Model to Fine-tune via Rectified Scaling Law" (ICML 2024,
arXiv 2402.02314), Table 1:

- **ZeroShot** ranks models by their loss before fine-tuning, L(0).
- **ModelSize** ranks by parameter count, larger first. Its "prediction" is the ranking key −log(params) (lower is
  better, like a loss). Lin et al. correlate log(params) itself with the loss, so their ModelSize PearCorr has the
  opposite sign of ours.
- **AtS** ("Accept then Stop"). Our reading of the paper (§5, Algorithm 1) and of its released code: fine-tuning
  on halving subsets D_max, D_max/2, ... is a walk down the curve from its largest size. The points are fitted by a
  line in log-log space (the power phase of the Rectified law, L ≈ B·D^-β once D^β ≫ D_l and E is negligible over
  the range). The walk *accepts* the next smaller point while its residual from the line fitted to the points
  accepted so far (at least k = 3) is within δ = 5 standard deviations of those points' residuals, and *stops* at
  the first point that is not (it lies in the pre-power phase). The line through the accepted points is
  extrapolated to the target size. The zero-shot point D = 0 is never used. One difference from the released code:
  when every point is accepted, we keep them all, where the code drops the smallest.
"""

from __future__ import annotations

import numpy as np

from recommender.predict._fit import power_phase_start
from recommender.predict.laws import _check_curve, _check_fitted, _line_predict, _polyfit_cov

__all__ = ["ZeroShot", "ModelSize", "AtS"]


class ZeroShot:
    """Predicts the fine-tuned loss as the zero-shot loss L(0) at every size.

    Attributes:
        zero_shot_loss_: L(0).

    Example:
        >>> ZeroShot().fit([0, 200, 400], [3.0, 2.5, 2.4]).predict([1_000_000])[0]
        array([3.])
    """

    def fit(self, sizes, losses) -> "ZeroShot":
        """Record L(0).

        Raises:
            ValueError: the curve has no D = 0 point.
        """
        sizes, losses = _check_curve(sizes, losses)
        if sizes[0] != 0:
            raise ValueError(f"ZeroShot needs the zero-shot point D = 0; the smallest size given is {sizes[0]:g}")
        self.zero_shot_loss_ = float(losses[0])
        return self

    def predict(self, sizes) -> tuple[np.ndarray, np.ndarray]:
        """(mean, std): L(0) everywhere; std is NaN (the baseline has no uncertainty model)."""
        _check_fitted(self, "zero_shot_loss_")
        shape = np.shape(sizes)
        return np.full(shape, self.zero_shot_loss_), np.full(shape, np.nan)


class ModelSize:
    """Ranks models by parameter count: the larger, the lower the predicted loss.

    Example:
        >>> ModelSize().score([1.2e8, 7e9])  # lower is better
        array([-18.60..., -22.66...])
    """

    def score(self, params) -> np.ndarray:
        """The ranking key −log(params), oriented like a loss (lower = predicted better).

        Raises:
            ValueError: a parameter count that is not a positive finite number.
        """
        params = np.asarray(params, dtype=float)
        if not (np.all(np.isfinite(params)) and np.all(params > 0)):
            raise ValueError("ModelSize needs a positive parameter count for every model (the 'size' column)")
        return -np.log(params)


class AtS:
    """Lin et al.'s Accept-then-Stop: a log-log line through the detected power phase, extrapolated.

    Args:
        k: the fewest points the line is first fitted on (Lin et al.: 3).
        delta: stop when the next point's residual exceeds `delta` standard deviations (Lin et al.: 5).

    Attributes:
        transition_: the smallest accepted size (start of the power phase).
        beta_: the fitted power-phase slope β (L ∝ D^-β).

    Example:
        >>> ats = AtS().fit([200, 400, 800, 1600, 3200], [2.5, 2.4, 2.3, 2.2, 2.1])
        >>> mean, std = ats.predict([1_638_400])
    """

    def __init__(self, *, k: int = 3, delta: float = 5.0):
        self.k = k
        self.delta = delta

    def fit(self, sizes, losses) -> "AtS":
        """Walk down from the largest size, accept the power phase, fit the line (D = 0 is ignored).

        Raises:
            ValueError: fewer than 2 non-zero sizes, or a bad curve.
        """
        sizes, losses = _check_curve(sizes, losses)
        if np.sum(sizes > 0) < 2:
            raise ValueError("AtS needs at least 2 non-zero training-set sizes")
        self.transition_ = power_phase_start(sizes, losses, min_points=self.k, delta=self.delta)
        m = sizes >= self.transition_
        coef, cov = _polyfit_cov(np.log(sizes[m]), np.log(losses[m]))
        self.line_ = (coef, cov, np.log(sizes[m]), self.transition_)
        self.beta_ = float(-coef[1])
        return self

    def predict(self, sizes) -> tuple[np.ndarray, np.ndarray]:
        """(mean, std) of the loss at `sizes`; std from the line's coefficient covariance (log-normal)."""
        _check_fitted(self, "line_")
        sizes = np.asarray(sizes, dtype=float)
        mu, s = _line_predict(self.line_, sizes.ravel())
        mean = np.exp(mu)
        return mean.reshape(sizes.shape), (mean * s).reshape(sizes.shape)
