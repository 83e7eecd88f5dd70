"""Confidence limits for a noncentrality parameter by inverting scipy's noncentral t (private).

Used by :func:`burnout.stats.paired_change` for the interval of Cohen's dz; the method
(Steiger & Fouladi 1997) is described in :mod:`burnout.stats.means`.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
from scipy import optimize, stats


def _noncentrality_interval(t_obs: float, df: int, confidence: float) -> tuple[float, float] | None:
    """The noncentralities ``delta`` with ``nct.cdf(t_obs, df, delta)`` at ``1 - a/2`` and ``a/2``.

    ``a = 1 - confidence``; None when either bound cannot be found (see :func:`_ncp_bound`).
    """
    alpha = 1.0 - confidence
    lo = _ncp_bound(t_obs, df, 1.0 - alpha / 2.0)
    hi = _ncp_bound(t_obs, df, alpha / 2.0)
    return None if lo is None or hi is None else (lo, hi)


def _quiet(fn: Any, *args: float) -> float:
    """Evaluate a scipy distribution function; NaN instead of a value it warns is inaccurate."""
    with warnings.catch_warnings(record=True) as caught, np.errstate(all="ignore"):
        warnings.simplefilter("always", RuntimeWarning)
        value = float(fn(*args))
    failed = False
    for w in caught:
        if issubclass(w.category, RuntimeWarning):
            failed = True
        else:  # not ours to swallow
            warnings.warn(w.message, w.category, stacklevel=2)
    return math.nan if failed else value


def _ncp_bound(t_obs: float, df: int, target: float) -> float | None:
    """The noncentrality delta with ``nct.cdf(t_obs, df, delta) == target`` (cdf falls as delta grows).

    The bracket starts at ``t_obs`` and grows by doubling steps of the approximate SD of
    the noncentrality, ``sqrt(1 + t^2 / (2 df))``. None if the cdf cannot be evaluated
    (scipy's nct returns NaN for |t| beyond about 1e5) or no bracket is found.
    """

    def f(delta: float) -> float:
        value = _quiet(stats.nct.cdf, t_obs, df, delta)
        if math.isnan(value):  # scipy's nct fails in places; -T ~ nct(df, -delta) gives the same value
            value = _quiet(stats.nct.sf, -t_obs, df, -delta)
        return value - target

    scale = math.sqrt(1.0 + t_obs * t_obs / (2.0 * df))
    bounds = []
    for direction in (-1.0, 1.0):
        edge = t_obs
        step = scale
        for _ in range(60):
            value = f(edge)
            if math.isnan(value):
                return None
            if (value > 0.0) if direction < 0 else (value < 0.0):
                break
            edge += direction * step
            step *= 2.0
        else:
            return None
        bounds.append(edge)
    lo, hi = bounds
    try:
        return float(optimize.brentq(f, lo, hi, xtol=1e-13, rtol=1e-14, maxiter=500))
    except ValueError:  # NaN inside the bracket
        return None
