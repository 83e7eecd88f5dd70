"""Statistics from aggregates: does a response rate differ across subgroup levels? (contingency).

:func:`heterogeneity` tests an r x 2 table with rows ``(x_i, n_i - x_i)``: Pearson's
chi-square when every expected count is at least 5, otherwise the exact conditional test
(Fisher's for 2 x 2, Freeman-Halton's for r x 2), or a Monte Carlo estimate of it when
exact enumeration would be too large.

Exact enumeration
-----------------
Conditional on the margins, the row counts (x_1..x_r) are multivariate hypergeometric:
``P = prod_i C(n_i, x_i) / C(N, X)``. The p-value sums P over tables with
``P <= P_obs * (1 + 1e-7)`` (R's ``fisher.test`` tolerance for float ties).

Enumeration is a dynamic programme over rows, smallest row first: a node is
(rows done, responders used s, log past weight). Suffix DPs give, for every remaining
total t, the largest and smallest log weight any completion can reach; a node whose
every completion is at most as probable as observed is summed in closed form
(Vandermonde: its completions weigh C(N_rest, t) in total), a node whose every
completion is more probable is dropped, and only the rest is expanded (the network
algorithm of Mehta & Patel 1983). When two rows remain, the completions of a node are
a hypergeometric sequence, unimodal in x, so the tables no more probable than observed
are its two tails: they are found by binary search and summed with the hypergeometric
cdf / sf. Log weights are gammaln sums in float64; the 1e-7 tolerance absorbs their
rounding, as in R.

If enumeration would need more than ``_EXACT_MAX_NODES`` (5 million) live nodes (several
large levels plus a tiny one, in a big cohort), the p-value is instead estimated from
200,000 tables drawn with the observed margins under a fixed seed, as R's
``fisher.test(simulate.p.value = TRUE)`` does: ``p = (1 + hits) / (B + 1)``, Monte Carlo
SE at most 0.0012.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy import special, stats

from burnout.stats._common import _as_count
from burnout.stats.paired_tests import HypothesisTest

__all__ = ["heterogeneity"]

# R's fisher.test: tables whose probability is within a relative 1e-7 of the
# observed table's count as "no more probable" (guards against float ties).
_EXACT_RELATIVE_TOLERANCE = 1e-7
# The exact r x 2 test enumerates tables; beyond this many live nodes it switches to
# a Monte Carlo p-value with this many tables and this fixed seed (reproducible).
_EXACT_MAX_NODES = 5_000_000
_MONTE_CARLO_SAMPLES = 200_000
_MONTE_CARLO_SEED = 20_240_601


# --------------------------------------------------------------------------- heterogeneity
def _log_comb(n: int | np.ndarray, x: int | np.ndarray) -> Any:
    return (
        special.gammaln(np.asarray(n) + 1)
        - special.gammaln(np.asarray(x) + 1)
        - special.gammaln(np.asarray(n) - np.asarray(x) + 1)
    )


def _exact_rx2_pvalue(xs: Sequence[int], ns: Sequence[int]) -> float | None:
    """Exact conditional p of an r x 2 table (rows (x_i, n_i - x_i)), Fisher / Freeman-Halton.

    By a pruned dynamic programme over rows (module docstring, "Exact enumeration").
    Returns None when more than ``_EXACT_MAX_NODES`` nodes would be live.
    """
    order = sorted(range(len(ns)), key=lambda i: (ns[i], i))
    xs = [int(xs[i]) for i in order]
    ns = [int(ns[i]) for i in order]
    r = len(ns)
    big_n = sum(ns)
    big_x = sum(xs)
    log_norm = float(_log_comb(big_n, big_x))
    logc = [np.asarray(_log_comb(n, np.arange(n + 1)), dtype=float) for n in ns]
    log_obs = float(sum(logc[i][xs[i]] for i in range(r)))
    threshold = log_obs + math.log1p(_EXACT_RELATIVE_TOLERANCE)

    suffix_n = [sum(ns[j:]) for j in range(r + 1)]
    max_log, min_log = _completion_bounds(logc, ns, big_x)

    p = 0.0
    s = np.zeros(1, dtype=np.int64)  # responders used by the rows done
    past = np.zeros(1, dtype=float)  # log weight of the rows done (decides)
    mass = np.zeros(1, dtype=float)  # log of the summed weights of the paths merged into the node
    for j in range(r - 1):
        rem = big_x - s
        include = past + max_log[j][rem] <= threshold
        if include.any():
            p += float(np.sum(np.exp(mass[include] + _log_comb(suffix_n[j], rem[include]) - log_norm)))
        undecided = ~include & (past + min_log[j][rem] <= threshold)
        s, past, mass = s[undecided], past[undecided], mass[undecided]
        if s.size == 0:
            break
        if j == r - 2:
            p += _two_row_tails(big_x - s, past, mass, ns[j], ns[j + 1], logc[j], logc[j + 1], threshold, log_norm)
            break
        if s.size * (min(ns[j], big_x) + 1) > _EXACT_MAX_NODES:
            return None
        new_s, new_past, new_mass = [], [], []
        for x in range(min(ns[j], big_x) + 1):
            s2 = s + x
            rem2 = big_x - s2
            ok = (rem2 >= 0) & (rem2 <= suffix_n[j + 1])
            if ok.any():
                new_s.append(s2[ok])
                new_past.append(past[ok] + logc[j][x])
                new_mass.append(mass[ok] + logc[j][x])
        s, past, mass = _merge_nodes(np.concatenate(new_s), np.concatenate(new_past), np.concatenate(new_mass))
    return min(1.0, p)


def _completion_bounds(logc: list[np.ndarray], ns: list[int], big_x: int) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Per row j and remaining total t, the largest and smallest log weight of rows j.. summing to t.

    ``-inf`` / ``+inf`` where no completion reaches t; the suffix DP behind the pruning.
    """
    r = len(ns)
    size = big_x + 1
    max_log = [np.empty(0)] * (r + 1)
    min_log = [np.empty(0)] * (r + 1)
    max_log[r] = np.full(size, -np.inf)
    min_log[r] = np.full(size, np.inf)
    max_log[r][0] = 0.0
    min_log[r][0] = 0.0
    for j in range(r - 1, -1, -1):
        mx = np.full(size, -np.inf)
        mn = np.full(size, np.inf)
        for x in range(min(ns[j], big_x) + 1):
            np.maximum(mx[x:], logc[j][x] + max_log[j + 1][: size - x], out=mx[x:])
            np.minimum(mn[x:], logc[j][x] + min_log[j + 1][: size - x], out=mn[x:])
        max_log[j] = mx
        min_log[j] = mn
    return max_log, min_log


def _merge_nodes(s: np.ndarray, past: np.ndarray, mass: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Merge nodes with the same s and a log past weight equal to within 1e-9 (same fate).

    Rows of equal size give many paths with identical weights (permutations); merging
    them keeps the enumeration polynomial in those cases. A 1e-9 difference in log weight
    is far inside the 1e-7 tie tolerance.
    """
    if s.size < 2:
        return s, past, mass
    key = np.floor(past * 1e9 + 0.5).astype(np.int64)
    order = np.lexsort((key, s))
    s, past, mass, key = s[order], past[order], mass[order], key[order]
    start = np.flatnonzero(np.concatenate(([True], (s[1:] != s[:-1]) | (key[1:] != key[:-1]))))
    return s[start], past[start], np.logaddexp.reduceat(mass, start)


def _two_row_tails(
    t: np.ndarray,
    past: np.ndarray,
    mass: np.ndarray,
    n_a: int,
    n_b: int,
    logc_a: np.ndarray,
    logc_b: np.ndarray,
    threshold: float,
    log_norm: float,
) -> float:
    """Sum over nodes of the completions (x, t - x) of the last two rows no more probable than observed."""
    lo = np.maximum(0, t - n_b)
    hi = np.minimum(n_a, t)
    mode = np.clip((t + 1) * (n_a + 1) // (n_a + n_b + 2), lo, hi)
    limit = threshold - past

    def g(x: np.ndarray, where: np.ndarray) -> np.ndarray:
        return logc_a[x[where]] + logc_b[t[where] - x[where]]

    # left of the mode g rises: included x form a prefix [lo, x1]
    low, high = lo - 1, mode + 1  # invariant: g(low) <= limit (or low < lo), g(high) > limit (or high > mode)
    while np.any(high - low > 1):
        mid = (low + high) // 2
        active = high - low > 1
        ok = np.zeros(mid.shape, dtype=bool)
        ok[active] = g(mid, active) <= limit[active]
        low = np.where(active & ok, mid, low)
        high = np.where(active & ~ok, mid, high)
    x1 = low
    # right of the mode g falls: included x form a suffix [x2, hi]
    low, high = mode, hi + 1  # invariant: g(low) > limit (or low = mode), g(high) <= limit (or high > hi)
    while np.any(high - low > 1):
        mid = (low + high) // 2
        active = high - low > 1
        ok = np.zeros(mid.shape, dtype=bool)
        ok[active] = g(mid, active) <= limit[active]
        high = np.where(active & ok, mid, high)
        low = np.where(active & ~ok, mid, low)
    x2 = high
    tails = np.where(x1 >= lo, stats.hypergeom.cdf(x1, n_a + n_b, n_a, t), 0.0)
    tails = tails + np.where(x2 <= hi, stats.hypergeom.sf(x2 - 1, n_a + n_b, n_a, t), 0.0)
    weight = np.exp(mass + _log_comb(n_a + n_b, t) - log_norm)
    return float(np.sum(weight * tails))


def _monte_carlo_rx2_pvalue(xs: Sequence[int], ns: Sequence[int]) -> float:
    """Monte Carlo conditional p of an r x 2 table, as R's ``fisher.test(simulate.p.value=TRUE)``.

    Draws ``_MONTE_CARLO_SAMPLES`` tables with the observed margins from the multivariate
    hypergeometric distribution (fixed seed, so the result is reproducible) and returns
    ``(1 + #{P(table) <= P_obs (1 + 1e-7)}) / (B + 1)``.
    """
    rng = np.random.default_rng(_MONTE_CARLO_SEED)
    draws = rng.multivariate_hypergeometric(np.asarray(ns, dtype=np.int64), int(sum(xs)), size=_MONTE_CARLO_SAMPLES)
    logc = [np.asarray(_log_comb(n, np.arange(n + 1)), dtype=float) for n in ns]
    log_obs = float(sum(logc[i][x] for i, x in enumerate(xs)))
    weights = np.zeros(_MONTE_CARLO_SAMPLES)
    for i in range(len(ns)):
        weights += logc[i][draws[:, i]]
    hits = int(np.sum(weights <= log_obs + math.log1p(_EXACT_RELATIVE_TOLERANCE)))
    return (1 + hits) / (_MONTE_CARLO_SAMPLES + 1)


def heterogeneity(counts: Sequence[tuple[int, int]]) -> HypothesisTest:
    r"""Test whether a response rate differs across the levels of a subgroup variable.

    ``counts`` holds ``(responders, n)`` per level: an r x 2 table with rows
    ``(x_i, n_i - x_i)``. Levels with ``n_i = 0`` are dropped; with fewer than two
    levels left the result is ``test="not-testable"`` (statistic, df, p None).

    - If every expected count ``n_i C_j / N`` is at least 5 (decided exactly in integers):
      Pearson's chi-square test of independence, no continuity correction,
      ``X^2 = sum (O - E)^2 / E`` on ``r - 1`` df (``test="chi-square"``).
    - Otherwise an exact conditional test (``statistic`` and ``df`` None): Fisher's for
      2 x 2 (``"fisher-exact"``), Freeman-Halton for r x 2 (``"freeman-halton-exact"``):
      the sum of the probabilities of all tables with the observed margins no more
      probable than the observed one (module docstring).
    - When exact enumeration is too large, its Monte Carlo estimate from 200,000 tables
      under a fixed seed (``"freeman-halton-monte-carlo"``).

    Notes
    -----
    Validated against ``scipy.stats.chi2_contingency(correction=False)`` (1e-12),
    ``scipy.stats.fisher_exact`` (1e-9), R's ``fisher.test`` on the tea-tasting table,
    and a brute-force enumeration of every table with the observed margins in exact
    rational arithmetic (1e-9).

    References
    ----------
    - Pearson K (1900). On the criterion that a given system of deviations from the probable ... has arisen from random sampling. Philos Mag (5) 50:157-175 (the chi-square test).
    - Fisher RA (1935). The logic of inductive inference. J R Stat Soc 98:39-82 (exact test, 2 x 2).
    - Freeman GH, Halton JH (1951). Note on an exact treatment of contingency, goodness of fit and other problems of significance. Biometrika 38:141-149 (r x c).

    Examples
    --------
    >>> heterogeneity([(3, 4), (1, 4)]).test
    'fisher-exact'
    >>> heterogeneity([(5, 10)]).test
    'not-testable'
    """
    rows = _nonempty_rows(counts)
    big_n = sum(m for _, m in rows)
    if len(rows) < 2:
        return HypothesisTest(test="not-testable", statistic=None, df=None, p=None, n=big_n)
    xs = [x for x, _ in rows]
    ns = [m for _, m in rows]
    big_x = sum(xs)
    col = (big_x, big_n - big_x)
    r = len(rows)
    # every expected count n_i * C_j / N >= 5, decided in integers
    if all(m * cj >= 5 * big_n for m in ns for cj in col):
        statistic = _pearson_statistic(rows, col, big_n)
        return HypothesisTest(
            test="chi-square", statistic=statistic, df=r - 1, p=float(stats.chi2.sf(statistic, r - 1)), n=big_n
        )
    p = _exact_rx2_pvalue(xs, ns)
    if p is None:
        return HypothesisTest(
            test="freeman-halton-monte-carlo", statistic=None, df=None, p=_monte_carlo_rx2_pvalue(xs, ns), n=big_n
        )
    test = "fisher-exact" if r == 2 else "freeman-halton-exact"
    return HypothesisTest(test=test, statistic=None, df=None, p=p, n=big_n)


def _nonempty_rows(counts: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """The checked ``(responders, n)`` pairs, levels with n = 0 dropped."""
    rows: list[tuple[int, int]] = []
    for i, item in enumerate(counts):
        try:
            x_raw, n_raw = item
        except (TypeError, ValueError):
            raise ValueError(f"counts[{i}] must be a (responders, n) pair, got {item!r}.") from None
        x = _as_count(f"counts[{i}] responders", x_raw)
        m = _as_count(f"counts[{i}] n", n_raw)
        if x > m:
            raise ValueError(f"counts[{i}]: responders ({x}) cannot exceed n ({m}).")
        if m > 0:
            rows.append((x, m))
    return rows


def _pearson_statistic(rows: list[tuple[int, int]], col: tuple[int, int], big_n: int) -> float:
    """``X^2 = sum (O - E)^2 / E`` over the r x 2 cells, ``E = n_i C_j / N``."""
    statistic = 0.0
    for x, m in rows:
        for observed, cj in ((x, col[0]), (m - x, col[1])):
            expected = m * cj / big_n
            statistic += (observed - expected) ** 2 / expected
    return statistic
