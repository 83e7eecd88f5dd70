r"""Statistics from aggregates: pooling over multiple imputations by Rubin's rules. (pooling).

Rubin's rules
-------------
From m completed-data estimates ``Q_i`` and their variances ``U_i``:

.. math::

    \bar Q = \frac1m \sum Q_i,\quad W = \frac1m \sum U_i,\quad
    B = \frac1{m-1} \sum (Q_i - \bar Q)^2,\quad T = W + (1 + 1/m) B \\
    \lambda = (1 + 1/m) B / T,\quad
    \nu_{old} = (m - 1) / \lambda^2 \ \ (= (m-1)(1 + 1/r)^2,\ r = (1 + 1/m)B/W)

``nu_old`` is Rubin's (1987) classic df; given the complete-data df ``nu_com`` the
Barnard-Rubin (1999) small-sample df is ``1 / (1/nu_old + 1/nu_obs)`` with
``nu_obs = (nu_com + 1)/(nu_com + 3) nu_com (1 - lambda)``. The interval is
``Q_bar +/- t_{1-a/2, df} sqrt(T)``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from scipy import special

from burnout.stats._common import _as_count, _as_exact, _check_confidence, _sqrt, _t_quantile

__all__ = ["PooledEstimate", "PooledProportion", "pool_proportions", "rubin_pool"]


# --------------------------------------------------------------------------- multiple imputation
@dataclass(frozen=True, slots=True)
class PooledEstimate:
    """An estimate pooled over m imputations by Rubin's rules.

    ``variance`` is the total variance T = W + (1 + 1/m) B; ``df`` may be ``inf``
    (no between-imputation variance), and the CI then uses the normal quantile.
    """

    estimate: float
    variance: float
    within: float
    between: float
    df: float
    ci: tuple[float, float]
    m: int
    confidence: float


def rubin_pool(
    estimates: Sequence[float],
    variances: Sequence[float],
    *,
    df_complete: float | None = None,
    confidence: float = 0.95,
) -> PooledEstimate:
    r"""Pool m completed-data estimates and their variances by Rubin's rules.

    ``estimate = mean(Q_i)``, total variance ``T = W + (1 + 1/m) B``; ``df`` is Rubin's
    ``nu_old``, or with ``df_complete`` the Barnard-Rubin small-sample df; CI
    ``estimate +/- t_{1-a/2, df} sqrt(T)`` (formulas in the module docstring).

    Pool on a scale where the estimate is approximately normal: for a proportion, use
    :func:`pool_proportions` (logit scale), not the raw rates.

    Notes
    -----
    Validated against a hand application of the formulas (Rubin 1987; van Buuren,
    *Flexible Imputation of Missing Data*, 2nd ed., sec. 2.3-2.4) in exact fractions (1e-12).

    References
    ----------
    - Rubin DB (1987). Multiple Imputation for Nonresponse in Surveys. New York: Wiley (the pooling rules, nu_old).
    - Barnard J, Rubin DB (1999). Small-sample degrees of freedom with multiple imputation. Biometrika 86:948-955.

    Examples
    --------
    >>> r = rubin_pool([1.0, 2.0, 3.0], [1.0, 1.0, 1.0])
    >>> r.estimate, round(r.variance, 6), r.df
    (2.0, 2.333333, 6.125)
    """
    conf = _check_confidence(confidence)
    q, u = _exact_draws(estimates, variances)
    m = len(q)
    qbar = sum(q, Fraction(0)) / m
    w = sum(u, Fraction(0)) / m
    b = sum(((qi - qbar) ** 2 for qi in q), Fraction(0)) / (m - 1)
    t_var = w + (1 + Fraction(1, m)) * b
    lam = Fraction(0) if t_var == 0 else (1 + Fraction(1, m)) * b / t_var  # share of T due to missingness
    df = _pooled_df(m, lam, df_complete)
    est = float(qbar)
    se = _sqrt(t_var)
    tq = _t_quantile(conf, df)
    return PooledEstimate(
        estimate=est,
        variance=float(t_var),
        within=float(w),
        between=float(b),
        df=df,
        ci=(est - tq * se, est + tq * se),
        m=m,
        confidence=conf,
    )


def _exact_draws(estimates: Sequence[float], variances: Sequence[float]) -> tuple[list[Fraction], list[Fraction]]:
    """The m >= 2 estimates and their non-negative variances as exact rationals."""
    q = [_as_exact(f"estimates[{i}]", v) for i, v in enumerate(estimates)]
    u = [_as_exact(f"variances[{i}]", v) for i, v in enumerate(variances)]
    m = len(q)
    if m != len(u):
        raise ValueError(f"`estimates` ({m}) and `variances` ({len(u)}) must have the same length.")
    if m < 2:
        raise ValueError(f"Rubin's rules need m >= 2 imputations, got {m}.")
    if any(v < 0 for v in u):
        raise ValueError(f"variances must be >= 0, got {list(variances)!r}.")
    return q, u


def _pooled_df(m: int, lam: Fraction, df_complete: float | None) -> float:
    """Rubin's ``nu_old``, or the Barnard-Rubin df when the complete-data df is given (module docstring)."""
    nu_old = math.inf if lam == 0 else float((m - 1) / (lam * lam))
    if df_complete is None:
        return nu_old
    nu_com = float(_as_exact("df_complete", df_complete))
    if nu_com <= 0:
        raise ValueError(f"`df_complete` must be positive, got {df_complete!r}.")
    nu_obs = (nu_com + 1.0) / (nu_com + 3.0) * nu_com * (1.0 - float(lam))
    if nu_obs == 0:
        return nu_old
    return 1.0 / ((0.0 if math.isinf(nu_old) else 1.0 / nu_old) + 1.0 / nu_obs)


@dataclass(frozen=True, slots=True)
class PooledProportion:
    """A proportion pooled over imputations on the logit scale, back-transformed.

    ``logit`` holds the pooled logit estimate (its ``ci`` is on the logit scale).
    """

    rate: float
    ci: tuple[float, float]
    imputations: int
    logit: PooledEstimate

    def to_json(self) -> dict[str, Any]:
        """``{"rate", "ci": [low, high], "imputations"}`` (results.md ``itt.multiple_imputation``)."""
        return {"rate": self.rate, "ci": [self.ci[0], self.ci[1]], "imputations": self.imputations}


def pool_proportions(
    rates: Sequence[float],
    ns: Sequence[int],
    *,
    df_complete: float | None = None,
    confidence: float = 0.95,
) -> PooledProportion:
    r"""Pool a proportion over m imputations with Rubin's rules on the logit scale.

    Each completed data set gives ``p_i`` over ``n_i``; the estimate ``logit(p_i)`` has
    the delta-method variance ``1 / (n_i p_i (1 - p_i))``. These are pooled by
    :func:`rubin_pool` and the pooled estimate and CI bounds are back-transformed with
    the logistic function, so the interval stays inside (0, 1). A rate of exactly 0 or 1
    (logit infinite) is replaced by ``(x + 1/2) / (n + 1)`` with ``x = p n`` before
    pooling (the usual continuity adjustment).

    Notes
    -----
    Validated against :func:`rubin_pool` applied by hand to the logits (1e-12).

    References
    ----------
    - Rubin DB (1987). Multiple Imputation for Nonresponse in Surveys. New York: Wiley (the pooling rules).
    - Marshall A, Altman DG, Holder RL, Royston P (2009). Combining estimates of interest in prognostic modelling studies after multiple imputation. BMC Med Res Methodol 9:57 (pooling on a normalising scale).

    Examples
    --------
    >>> r = pool_proportions([0.50, 0.52, 0.48], [100, 100, 100])
    >>> round(r.rate, 4), r.imputations
    (0.5, 3)
    """
    conf = _check_confidence(confidence)
    rs = [float(_as_exact(f"rates[{i}]", v)) for i, v in enumerate(rates)]
    nn = [_as_count(f"ns[{i}]", v) for i, v in enumerate(ns)]
    if len(rs) != len(nn):
        raise ValueError(f"`rates` ({len(rs)}) and `ns` ({len(nn)}) must have the same length.")
    logits = []
    variances = []
    for i, (p, m) in enumerate(zip(rs, nn, strict=True)):
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"rates[{i}] must be in [0, 1], got {p!r}.")
        if m < 1:
            raise ValueError(f"ns[{i}] must be >= 1, got {m}.")
        if p in (0.0, 1.0):
            p = (p * m + 0.5) / (m + 1)
        logits.append(math.log(p) - math.log1p(-p))
        variances.append(1.0 / (m * p * (1.0 - p)))
    pooled = rubin_pool(logits, variances, df_complete=df_complete, confidence=conf)
    rate = float(special.expit(pooled.estimate))
    ci = (float(special.expit(pooled.ci[0])), float(special.expit(pooled.ci[1])))
    return PooledProportion(rate=rate, ci=ci, imputations=pooled.m, logit=pooled)
