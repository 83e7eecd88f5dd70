"""Mixed model for repeated measures (MMRM) with an unstructured covariance, from pattern statistics.

Model (one subscale at a time; Mallinckrodt et al. 2008)
--------------------------------------------------------
.. math::

    y_i = X_i \\mu + e_i,\\qquad e_i \\sim N(0, \\Sigma_{o_i o_i})

``mu`` holds one mean per scheduled timepoint (visit as a categorical fixed effect, the
cell-means coding), ``Sigma`` is an unrestricted (unstructured) T x T covariance, and a
patient with observed timepoints ``o_i`` contributes the rows and columns ``o_i`` of it
(Jennrich & Schluchter 1986: unstructured covariance with incomplete data). Missing
scores are assumed missing at random (MAR).

Why pattern statistics suffice
------------------------------
Every patient sharing a missingness pattern ``P`` (observed set ``o``) has the same
``Sigma_oo``; with ``G_P`` the T x T matrix holding ``Sigma_oo^{-1}`` at ``o`` (zero
elsewhere), ``X'V^{-1}X = sum_P n_P G_P``, ``X'V^{-1}y = sum_P G_P s_P`` and the
residual quadratic form is ``sum_P tr(Sigma_oo^{-1} C_P(mu))`` with
``C_P(mu) = XX_P - s_P mu' - mu s_P' + n_P mu mu'``. So the count ``n_P``, the sum
vector ``s_P`` and the cross-product matrix ``XX_P`` of each pattern (computed in the
engine) are all the model needs.

Estimation
----------
``mu`` is profiled out by generalised least squares; the restricted log-likelihood

.. math::

    -2\\ell_R(\\Sigma) = \\sum_P [n_P \\log|\\Sigma_{oo}| + tr(\\Sigma_{oo}^{-1} C_P(\\hat\\mu))]
        + \\log|X'V^{-1}X| + (N - T)\\log 2\\pi

is minimised by BFGS over the Cholesky factor ``Sigma = LL'`` (log diagonal, so every
iterate is positive definite) with the analytic gradient
``d(-2l_R) = tr(M dSigma)``, ``M = sum_P [n_P G_P - G_P C_P G_P - n_P G_P Phi G_P]``,
``Phi = (X'V^{-1}X)^{-1}``.

Small-sample inference (Kenward & Roger 1997)
---------------------------------------------
With ``theta`` the linear parametrisation of ``Sigma`` (its T(T+1)/2 distinct
elements, as SAS's ``ddfm=kr`` for ``type=un``; second derivatives vanish),
``P_i = -sum_P n_P G_P E_i G_P``, ``Q_ij = sum_P n_P G_P E_i G_P E_j G_P`` and ``W`` the
inverse REML information of ``theta``: by default the *observed* information (half the
Hessian of ``-2 l_R``, by central differences of its analytic gradient), as SAS and R's
``mmrm``, because with data missing at random the expected information misstates the
precision (Kenward & Molenberghs 1998); ``information="expected"`` uses
``I_ij = 1/2 [sum_P n_P tr(G_P E_i G_P E_j) - 2 tr(Phi Q_ij) + tr(Phi P_i Phi P_j)]``
instead. The adjusted covariance is ``Phi_A = Phi + 2 Phi [sum_ij W_ij (Q_ij - P_i Phi P_j)] Phi``.
For one contrast ``l`` (q = 1) KR's scale factor is 1 and its denominator df reduce to
``m = 2 (l'Phi l)^2 / sum_ij W_ij (l'Phi P_i Phi l)(l'Phi P_j Phi l)`` (the Satterthwaite
df); intervals are ``estimate +/- t_{m, 1-a/2} sqrt(l'Phi_A l)``.

Validated in ``tests/stats/test_mmrm.py``: against a REML fit written independently on
long data (per-patient blocks, scipy) to 1e-5; with complete data the change equals the
paired mean difference with the paired-t SE and n - 1 df; the KR df against a
Satterthwaite df by numerical differentiation of the contrast variance (with the observed
information from a numerical Hessian of the independent REML, and with the expected one
from dense N x N matrices).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Self

import numpy as np
from scipy import stats

from burnout.stats._mmrm_reml import _centred, _gls, _kenward_roger, _observed_information, _optimise, _start
from burnout.stats.mixed import PatternStats

__all__ = ["MMRM", "Contrast"]

Information = Literal["observed", "expected"]


@dataclass(frozen=True, slots=True)
class Contrast:
    """A linear contrast of the visit means with Kenward-Roger inference."""

    estimate: float
    se: float
    df: float
    ci: tuple[float, float]
    se_unadjusted: float

    def shifted(self, shift: float) -> Contrast:
        """The same contrast moved by a fixed amount (delta adjustment: SE and df unchanged)."""
        lo, hi = self.ci
        return Contrast(self.estimate + shift, self.se, self.df, (lo + shift, hi + shift), self.se_unadjusted)


class MMRM:
    """MMRM: categorical visit, unstructured covariance, REML, Kenward-Roger inference.

    Parameters
    ----------
    confidence : float
        Coverage of the t intervals.

    Attributes (after ``fit``)
    --------------------------
    means_, cov_ : ndarray
        Visit means (NaN where nobody was scored) and ``Phi``, the GLS covariance of the
        estimable means (order of ``estimable_``); ``cov_adjusted_`` is KR's ``Phi_A``.
    sigma_ : ndarray
        REML unstructured covariance over the estimable timepoints.
    neg2loglik_ : float
        -2 restricted log-likelihood at the estimate.
    patients_, observations_, dropouts_ : int, int, tuple of int
        What the model was fitted on; ``dropouts_[t]`` counts patients missing at ``t`` and
        at every later timepoint after at least one earlier score (post-dropout).

    References
    ----------
    - Jennrich RI, Schluchter MD (1986). Unbalanced repeated-measures models with structured covariance matrices. Biometrics 42:805-820 (unstructured covariance, incomplete data).
    - Kenward MG, Roger JH (1997). Small sample inference for fixed effects from restricted maximum likelihood. Biometrics 53:983-997.
    - Mallinckrodt CH, Lane PW, Schnell D, Peng Y, Mancuso JP (2008). Recommendations for the primary analysis of continuous endpoints in longitudinal clinical trials. Drug Inf J 42:303-319 (MMRM).

    Examples
    --------
    >>> from burnout.stats.mixed import pattern_stats_from_long
    >>> stats = pattern_stats_from_long(
    ...     list("aabbccdde"), [0, 1, 0, 1, 0, 1, 0, 1, 0], [5, 3, 6, 5, 4, 3, 7, 4, 6], n_timepoints=2
    ... )
    >>> m = MMRM().fit(stats)
    >>> c = m.change(1)
    >>> round(c.estimate, 4), round(c.df, 2)
    (-1.8, 3.74)
    >>> m
    <MMRM (REML, unstructured): fitted on 9 assessments of 5 patients, 2 timepoints>
    """

    def __init__(self, *, confidence: float = 0.95, information: Information = "observed") -> None:
        if not (isinstance(confidence, float | int) and 0.5 < float(confidence) < 1.0):
            raise ValueError(f"`confidence` must be a number in (0.5, 1), got {confidence!r}.")
        if information not in ("observed", "expected"):
            raise ValueError(f"`information` must be 'observed' or 'expected', got {information!r}.")
        self.confidence = float(confidence)
        self.information: Information = information

    def __repr__(self) -> str:
        if not hasattr(self, "means_"):
            return "<MMRM (REML, unstructured): not fitted>"
        return (
            f"<MMRM (REML, unstructured): fitted on {self.observations_:,} assessments of "
            f"{self.patients_:,} patients, {len(self.estimable_)} timepoints>"
        )

    def fit(self, patterns: Sequence[PatternStats], *, scale: int = 1) -> Self:
        """Fit by REML to per-pattern statistics (``PatternStats`` with ``cross``); estimates in points.

        Raises
        ------
        ValueError
            No patterns, patterns of different lengths, a pair of timepoints never observed
            together (its covariance is not identified), or too few observations.
        """
        if not patterns:
            raise ValueError("MMRM.fit: no patients with a score (`patterns` is empty).")
        n_t = len(patterns[0].pattern)
        if any(len(p.pattern) != n_t for p in patterns):
            raise ValueError("MMRM.fit: every PatternStats must have the same number of timepoints.")
        if isinstance(scale, bool) or not isinstance(scale, int) or scale < 1:
            raise ValueError(f"`scale` must be a positive int (units per point), got {scale!r}.")
        patterns = sorted(patterns, key=lambda p: p.pattern)
        keep = tuple(t for t in range(n_t) if any(p.pattern[t] for p in patterns))
        k = len(keep)
        together = np.zeros((k, k))
        for p in patterns:
            ind = np.array([p.pattern[t] for t in keep], dtype=float)
            together += p.patients * np.outer(ind, ind)
        if (together == 0).any():
            raise ValueError(
                "MMRM.fit: some pair of timepoints was never observed in the same patient, so their "
                "covariance is not identified; the unstructured model needs overlapping assessments."
            )
        n_obs = int(sum(p.patients * p.size for p in patterns))
        needed = k + k * (k + 1) // 2  # the means and the unstructured covariance's parameters
        if n_obs < needed:
            # the count is not in the message: it reaches results.json beside a withheld observation count
            raise ValueError(
                f"MMRM.fit: too few scores for {k} means and an unstructured covariance (at least {needed} are needed)."
            )
        data = _centred(patterns, keep, scale)
        self._data, self._k = data, k
        sigma, value, converged = _optimise(data, k, _start(data, k), n_obs - k)
        phi, mu = _gls(data, sigma, k)[:2]
        self.sigma_, self.neg2loglik_, self.converged_ = sigma, value, converged
        self.cov_ = phi
        info = _observed_information(data, sigma, k) if self.information == "observed" else None
        self.cov_adjusted_, self._w, self._p = _kenward_roger(data, sigma, phi, k, info)
        means = np.full(n_t, np.nan)
        means[list(keep)] = mu + data.centre
        self.means_, self.estimable_ = means, keep
        self.patients_, self.observations_ = int(data.n.sum()), n_obs
        self.dropouts_ = tuple(sum(p.patients for p in patterns if _dropped_before(p.pattern, t)) for t in range(n_t))
        return self

    def contrast(self, weights: Sequence[float] | np.ndarray) -> Contrast:
        """Estimate ``sum_t w_t mu_t`` with the KR-adjusted SE, KR df and a t interval (weights over all T)."""
        w = np.asarray(weights, dtype=float)
        if w.shape != self.means_.shape:
            raise ValueError(f"`weights` must have {self.means_.size} entries, got {w.shape}.")
        if any(w[t] != 0 for t in range(w.size) if t not in self.estimable_):
            raise ValueError("The contrast puts weight on a timepoint nobody was scored at.")
        lv = w[list(self.estimable_)]
        est = float(lv @ self.means_[list(self.estimable_)])
        var = float(lv @ self.cov_ @ lv)
        grad = np.array([float(lv @ self.cov_ @ pi @ self.cov_ @ lv) for pi in self._p])
        df = 2.0 * var * var / float(grad @ self._w @ grad)
        se = math.sqrt(max(float(lv @ self.cov_adjusted_ @ lv), 0.0))
        t = float(stats.t.ppf(1.0 - (1.0 - self.confidence) / 2.0, df))
        return Contrast(est, se, df, (est - t * se, est + t * se), math.sqrt(max(var, 0.0)))

    def change(self, t: int, ref: int = 0) -> Contrast:
        """Change from timepoint ``ref`` (baseline) to ``t``."""
        w = np.zeros(self.means_.size)
        w[t], w[ref] = 1.0, -1.0
        return self.contrast(w)

    def mean(self, t: int) -> Contrast:
        """Model mean at timepoint ``t``."""
        w = np.zeros(self.means_.size)
        w[t] = 1.0
        return self.contrast(w)

    def delta_adjusted_change(self, t: int, delta: float, ref: int = 0) -> Contrast:
        """Change ``ref -> t`` when every post-dropout score is ``delta`` points off its MAR prediction.

        Under an unstructured MMRM with saturated visit means the GLS means equal the average,
        over patients, of observed scores and their conditional (MAR) expectations; shifting the
        unobserved post-dropout expectations by ``delta`` moves ``mu_t`` by ``delta * d_t / N``
        (``d_t`` = ``dropouts_[t]``): a pattern-mixture delta adjustment (Ratitch, O'Kelly &
        Tosiello 2013), applied once per visit (not carried forward through later visits),
        with the dropout shares taken as fixed.
        """
        return self.change(t, ref).shifted(delta * self.dropout_share(t, ref))

    def dropout_share(self, t: int, ref: int = 0) -> float:
        """Share of the model's patients who dropped out between ``ref`` and ``t``: how far the
        change ``ref -> t`` moves per point of delta in :meth:`delta_adjusted_change` (the
        tipping point is the MAR margin divided by it)."""
        return float((self.dropouts_[t] - self.dropouts_[ref]) / self.patients_)


def _dropped_before(pattern: tuple[bool, ...], t: int) -> bool:
    """Missing at ``t`` and at every later timepoint, with a score before ``t``."""
    return any(pattern[:t]) and not any(pattern[t:])
