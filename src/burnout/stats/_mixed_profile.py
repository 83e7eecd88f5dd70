"""The profile likelihood of ``stats.mixed``'s random-intercept model and its minimiser (private).

Formulas and references are in :mod:`burnout.stats.mixed`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING, Literal

import numpy as np
from scipy import optimize

if TYPE_CHECKING:  # mixed imports this module at run time
    from burnout.stats.mixed import PatternStats

# log(theta) search range: theta = tau^2 / sigma^2 from 1e-8 to 1e8.
_LOG_THETA_BOUNDS = (-8.0 * math.log(10.0), 8.0 * math.log(10.0))
_GRID_POINTS = 65


@dataclass(frozen=True, slots=True)
class _CentredPatterns:
    """The pattern statistics in points, centred on a round value near the grand mean.

    Per pattern (rows, sorted by pattern): ``counts`` patients, ``sizes`` observed
    timepoints, ``ind`` the 0/1 indicators over the estimable timepoints, ``sums`` the
    centred sums there, ``q`` the centred sum of squares, ``r`` the centred sum of squared
    per-patient totals and ``totals`` the centred sum of totals.
    """

    estimable: tuple[int, ...]
    centre: float
    counts: np.ndarray
    sizes: np.ndarray
    ind: np.ndarray
    sums: np.ndarray
    q: np.ndarray
    r: np.ndarray
    totals: np.ndarray
    patients: int
    observations: int


def _centred_patterns(patterns: Sequence[PatternStats], scale: int) -> _CentredPatterns:
    """Centre exactly (in rationals), then go to floats in points.

    Centring first leaves the profile quantities with no cancellation worth mentioning.
    """
    seen = np.zeros(len(patterns[0].pattern), dtype=bool)
    for p in patterns:
        seen |= np.array(p.pattern)
    est_idx = tuple(int(i) for i in np.flatnonzero(seen))
    k = len(est_idx)
    n_obs = int(sum(p.patients * p.size for p in patterns))
    grand = Fraction(sum(sum(Fraction(s) for s in p.sums) for p in patterns), n_obs)
    centre = Fraction(round(grand))
    ind = np.array([[p.pattern[i] for i in est_idx] for p in patterns], dtype=float)  # (P, k)
    sums = np.empty((len(patterns), k))
    q = np.empty(len(patterns))
    r = np.empty(len(patterns))
    sc = Fraction(scale)
    for row, p in enumerate(patterns):
        total = sum((Fraction(s) for s in p.sums), Fraction(0))
        n_p = p.size
        for j, i in enumerate(est_idx):
            v = Fraction(p.sums[i]) - (centre * p.patients if p.pattern[i] else 0)
            sums[row, j] = float(v / sc)
        q[row] = float((Fraction(p.sum_sq) - 2 * centre * total + centre * centre * n_p * p.patients) / (sc * sc))
        r[row] = float(
            (Fraction(p.sum_sq_totals) - 2 * n_p * centre * total + n_p * n_p * centre * centre * p.patients)
            / (sc * sc)
        )
    return _CentredPatterns(
        estimable=est_idx,
        centre=float(centre / sc),
        counts=np.array([p.patients for p in patterns], dtype=float),
        sizes=np.array([p.size for p in patterns], dtype=float),
        ind=ind,
        sums=sums,
        q=q,
        r=r,
        totals=sums.sum(axis=1),  # per pattern, sum over patients of their centred totals
        patients=int(sum(p.patients for p in patterns)),
        observations=n_obs,
    )


def _gls_pieces(data: _CentredPatterns, theta: float) -> tuple[np.ndarray, np.ndarray, float, float]:
    """``A = sum X'H^-1 X``, ``sum X'H^-1 y``, ``sum y'H^-1 y`` and ``log|H|`` at ``theta`` (module docstring)."""
    counts, sizes, ind = data.counts, data.sizes, data.ind
    c = theta / (1.0 + sizes * theta)  # (P,)
    a = np.diag((counts[:, None] * ind).sum(axis=0)) - np.einsum("p,pi,pj->ij", counts * c, ind, ind)
    b = data.sums.sum(axis=0) - np.einsum("p,pi->i", c * data.totals, ind)
    yy = float(np.sum(data.q - c * data.r))
    logdet_h = float(np.sum(counts * np.log1p(sizes * theta)))
    return a, b, yy, logdet_h


def _neg2_profile_loglik(data: _CentredPatterns, theta: float, df_resid: int, method: Literal["reml", "ml"]) -> float:
    """``-2 l_R(theta)`` (or ``-2 l(theta)`` for ML) with ``beta`` and ``sigma^2`` profiled out."""
    a, b, yy, logdet_h = _gls_pieces(data, theta)
    beta = np.linalg.solve(a, b)
    rss = max(yy - float(b @ beta), 1e-300)
    s2 = rss / df_resid
    out = df_resid * (math.log(s2) + 1.0 + math.log(2.0 * math.pi)) + logdet_h
    if method == "reml":
        sign, logdet_a = np.linalg.slogdet(a)
        out += float(logdet_a)
    return out


def _minimise_theta(objective: Callable[[float], float]) -> tuple[float, float]:
    """``(theta, objective(theta))`` at the minimum over ``theta >= 0``.

    A fixed grid in ``log theta``, bounded Brent between the grid neighbours of the best
    point, and the boundary ``theta = 0``: deterministic, and a flat or boundary optimum
    is not missed.
    """
    lo, hi = _LOG_THETA_BOUNDS
    grid = np.linspace(lo, hi, _GRID_POINTS)
    values = [objective(math.exp(g)) for g in grid]
    best = int(np.argmin(values))
    left = grid[max(best - 1, 0)]
    right = grid[min(best + 1, len(grid) - 1)]
    res = optimize.minimize_scalar(
        lambda g: objective(math.exp(g)), bounds=(left, right), method="bounded", options={"xatol": 1e-10}
    )
    theta, value = math.exp(float(res.x)), float(res.fun)
    if values[best] < value:
        theta, value = math.exp(float(grid[best])), float(values[best])
    boundary = objective(0.0)
    if boundary <= value:
        theta, value = 0.0, boundary
    return theta, value
