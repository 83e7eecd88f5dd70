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
inverse expected REML information
``I_ij = 1/2 [sum_P n_P tr(G_P E_i G_P E_j) - 2 tr(Phi Q_ij) + tr(Phi P_i Phi P_j)]``:
the adjusted covariance is ``Phi_A = Phi + 2 Phi [sum_ij W_ij (Q_ij - P_i Phi P_j)] Phi``.
For one contrast ``l`` (q = 1) KR's scale factor is 1 and its denominator df reduce to
``m = 2 (l'Phi l)^2 / sum_ij W_ij (l'Phi P_i Phi l)(l'Phi P_j Phi l)`` (the Satterthwaite
df); intervals are ``estimate +/- t_{m, 1-a/2} sqrt(l'Phi_A l)``.

Validated in ``tests/stats/test_mmrm.py``: against a REML fit written independently on
long data (per-patient blocks, scipy) to 1e-5; with complete data the change equals the
paired mean difference with the paired-t SE and n - 1 df; the KR df against a
Satterthwaite df by numerical differentiation of the contrast variance.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Self

import numpy as np
from scipy import optimize, stats

from burnout.stats.mixed import PatternStats

__all__ = ["MMRM", "Contrast"]


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


@dataclass(frozen=True, slots=True)
class _Data:
    """Centred pattern statistics in points: per pattern its observed index, count, sums, cross-products."""

    obs: tuple[np.ndarray, ...]
    n: np.ndarray
    sums: tuple[np.ndarray, ...]
    cross: tuple[np.ndarray, ...]
    centre: np.ndarray


def _centred(patterns: Sequence[PatternStats], keep: tuple[int, ...], scale: int) -> _Data:
    """Centre each timepoint exactly (rationals) on a round value near its mean, then go to floats."""
    sc = Fraction(scale)
    cen = []
    for t in keep:
        n_t = sum(p.patients for p in patterns if p.pattern[t])
        cen.append(Fraction(round(Fraction(sum(Fraction(p.sums[t]) for p in patterns), n_t))))
    obs, n, sums, cross = [], [], [], []
    for p in patterns:
        if p.cross is None:
            raise ValueError("MMRM.fit: PatternStats.cross (the cross-product matrix per pattern) is required.")
        idx = [j for j, t in enumerate(keep) if p.pattern[t]]
        ts = [keep[j] for j in idx]
        s = [Fraction(p.sums[t]) - p.patients * cen[j] for j, t in zip(idx, ts, strict=True)]
        xx = np.empty((len(idx), len(idx)))
        for a, (ja, ta) in enumerate(zip(idx, ts, strict=True)):
            for b, (jb, tb) in enumerate(zip(idx, ts, strict=True)):
                v = Fraction(p.cross[ta][tb]) - cen[ja] * p.sums[tb] - cen[jb] * p.sums[ta]
                xx[a, b] = float((v + p.patients * cen[ja] * cen[jb]) / (sc * sc))
        obs.append(np.array(idx, dtype=int))
        n.append(p.patients)
        sums.append(np.array([float(v / sc) for v in s]))
        cross.append(xx)
    return _Data(
        tuple(obs), np.array(n, dtype=float), tuple(sums), tuple(cross), np.array([float(c / sc) for c in cen])
    )


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

    Examples
    --------
    >>> from burnout.stats.mixed import pattern_stats_from_long
    >>> stats = pattern_stats_from_long(
    ...     list("aabbccdde"), [0, 1, 0, 1, 0, 1, 0, 1, 0], [5, 3, 6, 5, 4, 3, 7, 4, 6], n_timepoints=2
    ... )
    >>> m = MMRM().fit(stats)
    >>> c = m.change(1)
    >>> round(c.estimate, 4), round(c.df, 2)
    (-1.8, 3.41)
    >>> m
    <MMRM (REML, unstructured): fitted on 9 assessments of 5 patients, 2 timepoints>
    """

    def __init__(self, *, confidence: float = 0.95) -> None:
        if not (isinstance(confidence, float | int) and 0.5 < float(confidence) < 1.0):
            raise ValueError(f"`confidence` must be a number in (0.5, 1), got {confidence!r}.")
        self.confidence = float(confidence)

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
        if n_obs - k < k * (k + 1) // 2:
            raise ValueError(f"MMRM.fit: {n_obs} scores are too few for {k} means and an unstructured covariance.")
        data = _centred(patterns, keep, scale)
        self._data, self._k = data, k
        sigma, value, converged = _optimise(data, k, _start(data, k), n_obs - k)
        phi, mu = _gls(data, sigma, k)[:2]
        self.sigma_, self.neg2loglik_, self.converged_ = sigma, value, converged
        self.cov_ = phi
        self.cov_adjusted_, self._w, self._p = _kenward_roger(data, sigma, phi, k)
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
        c = self.change(t, ref)
        share = (self.dropouts_[t] - self.dropouts_[ref]) / self.patients_
        return c.shifted(delta * share)


def _dropped_before(pattern: tuple[bool, ...], t: int) -> bool:
    """Missing at ``t`` and at every later timepoint, with a score before ``t``."""
    return any(pattern[:t]) and not any(pattern[t:])


def _gls(data: _Data, sigma: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray, list[np.ndarray], float]:
    """Phi, mu, the embedded inverses G_P and sum_P n_P log|Sigma_oo| for a given Sigma."""
    a = np.zeros((k, k))
    b = np.zeros(k)
    gs, logdet = [], 0.0
    for o, n, s in zip(data.obs, data.n, data.sums, strict=True):
        so = sigma[np.ix_(o, o)]
        sinv = np.linalg.inv(so)
        g = np.zeros((k, k))
        g[np.ix_(o, o)] = sinv
        gs.append(g)
        a += n * g
        b[o] += sinv @ s
        logdet += n * float(np.linalg.slogdet(so)[1])
    phi = np.linalg.inv(a)
    return phi, phi @ b, gs, logdet


def _objective(data: _Data, sigma: np.ndarray, k: int, df_resid: int) -> tuple[float, np.ndarray]:
    """-2 l_R and its gradient ``M`` with respect to Sigma (``d = tr(M dSigma)``)."""
    phi, mu, gs, logdet = _gls(data, sigma, k)
    value = logdet + float(-np.linalg.slogdet(phi)[1]) + df_resid * math.log(2.0 * math.pi)
    m = np.zeros((k, k))
    for o, n, s, xx, g in zip(data.obs, data.n, data.sums, data.cross, gs, strict=True):
        mo = mu[o]
        c = np.zeros((k, k))
        c[np.ix_(o, o)] = xx - np.outer(s, mo) - np.outer(mo, s) + n * np.outer(mo, mo)
        value += float(np.sum(g * c))
        m += n * g - g @ c @ g - n * (g @ phi @ g)
    return value, m


def _to_sigma(x: np.ndarray, k: int) -> np.ndarray:
    low = np.zeros((k, k))
    low[np.tril_indices(k)] = x
    low[np.diag_indices(k)] = np.exp(np.diag(low))
    return low @ low.T


def _start(data: _Data, k: int) -> np.ndarray:
    """Cholesky start from the available-case covariance (its diagonal when that is not positive definite)."""
    n, s, xx = np.zeros((k, k)), np.zeros((k, k)), np.zeros((k, k))
    for o, cnt, sm, cr in zip(data.obs, data.n, data.sums, data.cross, strict=True):
        ix = np.ix_(o, o)
        n[ix] += cnt
        s[ix] += sm[:, None]  # row sums of the first index over co-observed patients
        xx[ix] += cr
    with np.errstate(divide="ignore", invalid="ignore"):
        cov = (xx - s * s.T / n) / np.maximum(n - 1, 1)
    if not np.all(np.linalg.eigvalsh(cov) > 1e-8 * max(float(np.max(np.diag(cov))), 1e-12)):
        cov = np.diag(np.maximum(np.diag(cov), 1e-6))
    low = np.linalg.cholesky(cov)
    low[np.diag_indices(k)] = np.log(np.diag(low))
    return low[np.tril_indices(k)]


def _optimise(data: _Data, k: int, x0: np.ndarray, df_resid: int) -> tuple[np.ndarray, float, bool]:
    rows, cols = np.tril_indices(k)
    diag = rows == cols

    def fun(x: np.ndarray) -> tuple[float, np.ndarray]:
        sigma = _to_sigma(x, k)
        value, m = _objective(data, sigma, k, df_resid)
        low = np.linalg.cholesky(sigma)
        grad = (2.0 * m @ low)[rows, cols]
        grad[diag] *= low[rows[diag], cols[diag]]
        return value, grad

    res = optimize.minimize(fun, x0, jac=True, method="BFGS", options={"gtol": 1e-6, "maxiter": 1000})
    return _polish(data, _to_sigma(res.x, k), k, df_resid)


def _pieces(data: _Data, sigma: np.ndarray, phi: np.ndarray, k: int) -> tuple[np.ndarray, ...]:
    """Expected REML information in the linear parametrisation, the ``P_i``, ``Q_ij`` and ``Phi P_i``."""
    gs = np.array(_gls(data, sigma, k)[2])  # (P, k, k)
    rows, cols = np.triu_indices(k)
    e = np.zeros((rows.size, k, k))
    e[np.arange(rows.size), rows, cols] = 1.0
    e[np.arange(rows.size), cols, rows] = 1.0
    ge = np.einsum("ptu,iuv->pitv", gs, e)  # G_P E_i
    geg = np.einsum("pitu,puv->pitv", ge, gs)  # G_P E_i G_P
    p = -np.einsum("p,pitv->itv", data.n, geg)
    q = np.einsum("p,pitu,pjuv->ijtv", data.n, ge, geg)
    tr_v = np.einsum("p,pitu,pjut->ij", data.n, ge, ge)
    tr_q = np.einsum("tu,ijut->ij", phi, q)
    phi_p = np.einsum("tu,iuv->itv", phi, p)
    tr_pp = np.einsum("itu,jut->ij", phi_p, phi_p)
    info = 0.5 * (tr_v - 2.0 * tr_q + tr_pp)
    return info, p, q, phi_p


def _polish(data: _Data, sigma: np.ndarray, k: int, df_resid: int) -> tuple[np.ndarray, float, bool]:
    """Fisher scoring in the linear parametrisation from the BFGS optimum (quadratic convergence)."""
    rows, cols = np.triu_indices(k)
    value, m = _objective(data, sigma, k, df_resid)
    for _ in range(8):
        phi = _gls(data, sigma, k)[0]
        info = _pieces(data, sigma, phi, k)[0]
        grad = np.where(rows == cols, 1.0, 2.0) * m[rows, cols]  # d(-2 l_R) / d sigma_st
        step = -0.5 * np.linalg.solve(info, grad)
        trial = sigma.copy()
        trial[rows, cols] += step
        trial[cols, rows] = trial[rows, cols]
        if np.linalg.eigvalsh(trial)[0] <= 0:
            break
        new_value, new_m = _objective(data, trial, k, df_resid)
        if new_value > value + 1e-9 * abs(value):
            break
        sigma, value, m = trial, new_value, new_m
        if np.max(np.abs(step)) < 1e-12 * max(1.0, float(np.max(np.abs(sigma)))):
            break
    return sigma, value, bool(np.max(np.abs(m)) < 1e-6 * max(1.0, float(data.n.sum())))


def _kenward_roger(
    data: _Data, sigma: np.ndarray, phi: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """KR's adjusted covariance ``Phi_A``, ``W`` (inverse expected REML information) and the ``P_i``."""
    info, p, q, phi_p = _pieces(data, sigma, phi, k)
    w = np.linalg.inv(info)
    inner = np.einsum("ij,ijtv->tv", w, q) - np.einsum("ij,itu,juv->tv", w, p, phi_p)
    return phi + 2.0 * phi @ inner @ phi, w, p
