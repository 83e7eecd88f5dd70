"""Statistics from aggregates: the estimates stage.

The engine (``measures.py``) reduces the cohort to counts, sums, sums of squares
and cross-products; the functions here turn those aggregates into estimates,
intervals and tests. Nothing here sees a patient row.

Every function is pure, takes its options keyword-only and returns a frozen
dataclass (or a tuple of floats). Nothing is rounded: rounding is for display.

Exactness
---------
Scores are integers in units of ``1 / instrument.SCALE`` point, so the engine's
sums and sums of squares are exact integers (DuckDB sums BIGINT into HUGEINT).
Moment-based formulas such as ``SS - S**2 / n`` are evaluated here in exact
rational arithmetic (:class:`fractions.Fraction`), so there is no cancellation
at all when the inputs are integers: pass integer aggregates in units together
with ``scale=`` and let the function convert to points at the end. A float input
is converted to the exact rational it represents, so only its own rounding
(not the subtraction) limits the result; for float data prefer the engine's
centred sum of squares (``centered_ss=``).

Validation
----------
``tests/test_estimates.py`` checks each function against an independent reference
(statsmodels / scipy on raw simulated data, brute-force enumeration, or a hand
application of the textbook formula), with the tolerance written in each test.
"""

from __future__ import annotations

import math
import numbers
import operator
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any, Final, Literal

import numpy as np
from scipy import optimize, special, stats

__all__ = [
    "EFFECT_SIZE_BOUNDS",
    "EffectSizeLabel",
    "HypothesisTest",
    "LinearFit",
    "MeanSummary",
    "PairedChange",
    "PooledEstimate",
    "PooledProportion",
    "Proportion",
    "Reliability",
    "cochran_q",
    "cronbach_alpha",
    "effect_size_label",
    "heterogeneity",
    "holm",
    "mcnemar",
    "mean_summary",
    "ols_from_moments",
    "paired_change",
    "pool_proportions",
    "proportion",
    "rci_critical_change",
    "rci_se_diff",
    "reliable_change_index",
    "rubin_pool",
    "wilson_interval",
]

EffectSizeLabel = Literal["negligible", "small", "medium", "large"]

# R's fisher.test: tables whose probability is within a relative 1e-7 of the
# observed table's count as "no more probable" (guards against float ties).
_EXACT_RELATIVE_TOLERANCE = 1e-7
# The exact r x 2 test enumerates tables; beyond this many live nodes it switches to
# a Monte Carlo p-value with this many tables and this fixed seed (reproducible).
_EXACT_MAX_NODES = 5_000_000
_MONTE_CARLO_SAMPLES = 200_000
_MONTE_CARLO_SEED = 20_240_601


# --------------------------------------------------------------------------- helpers
def _check_confidence(confidence: Any) -> float:
    if (
        isinstance(confidence, bool)
        or not isinstance(confidence, numbers.Real)
        or not math.isfinite(float(confidence))
        or not 0.0 < float(confidence) < 1.0
    ):
        raise ValueError(
            f"`confidence` must be a number strictly between 0 and 1, got {confidence!r}; "
            "use e.g. confidence=0.95 for a 95% interval."
        )
    return float(confidence)


def _as_count(name: str, value: Any) -> int:
    """A non-negative integer count (int, numpy integer, or an integral float/Decimal)."""
    if isinstance(value, bool):
        raise ValueError(f"`{name}` must be a non-negative integer count, got the bool {value!r}.")
    try:
        out = operator.index(value)
    except TypeError:
        if (
            isinstance(value, (numbers.Real, Decimal))
            and math.isfinite(float(value))
            and float(value) == int(value)
            and Fraction(value) == int(value)
        ):
            out = int(value)
        else:
            raise ValueError(
                f"`{name}` must be a non-negative integer count, got {value!r}; "
                "pass the engine's integer count."
            ) from None
    if out < 0:
        raise ValueError(f"`{name}` must be a non-negative integer count, got {out}.")
    return int(out)


def _as_exact(name: str, value: Any) -> Fraction:
    """The exact rational value of a finite int, float, Decimal or Fraction."""
    if isinstance(value, bool) or value is None:
        raise ValueError(f"`{name}` must be a finite number, got {value!r}.")
    if isinstance(value, Fraction):
        return value
    if isinstance(value, numbers.Integral):
        return Fraction(int(value))
    if isinstance(value, (numbers.Real, Decimal)):
        if not math.isfinite(float(value)):
            raise ValueError(f"`{name}` must be a finite number, got {value!r}.")
        return Fraction(value) if isinstance(value, Decimal) else Fraction(float(value))
    raise ValueError(f"`{name}` must be a finite number, got {value!r} of type {type(value).__name__}.")


def _as_scale(name: str, value: Any) -> int:
    scale = _as_count(name, value)
    if scale < 1:
        raise ValueError(f"`{name}` must be a positive integer (units per point), got {scale}; use 1 for points.")
    return scale


def _sqrt(x: Fraction) -> float:
    """Square root of a non-negative rational, correctly rounded to within 1 ulp."""
    return math.sqrt(float(x))


def _t_quantile(confidence: float, df: float) -> float:
    """Two-sided critical value: the 1 - (1 - confidence)/2 quantile of t(df) (normal if df is inf)."""
    upper = 1.0 - (1.0 - confidence) / 2.0
    if math.isinf(df):
        return float(stats.norm.ppf(upper))
    return float(stats.t.ppf(upper, df))


def _centered_ss(n: int, total: Fraction, sum_of_squares: Any, centered_ss: Any, *, what: str) -> Fraction:
    """Sum of squared deviations from the mean, exactly from the inputs given."""
    if centered_ss is not None:
        m2 = _as_exact("centered_ss", centered_ss)
        if m2 < 0:
            raise ValueError(
                f"`centered_ss` is a sum of squared deviations and cannot be negative, got {centered_ss!r}."
            )
        return m2
    if sum_of_squares is None:
        raise ValueError(f"{what}: give the sum of squares or `centered_ss=`; both were None.")
    ss = _as_exact("sum_of_squares", sum_of_squares)
    m2 = ss - total * total / n
    if m2 < 0:
        # Impossible for exact moments of real data; a float input may land a hair below 0.
        if -m2 > Fraction(1, 10**9) * abs(ss):
            raise ValueError(
                f"{what}: sum of squares {sum_of_squares!r} is smaller than sum**2 / n = "
                f"{float(total * total / n)!r}, so these are not the moments of {n} real values; "
                "check that the engine summed the same rows for all three aggregates."
            )
        m2 = Fraction(0)
    return m2


# --------------------------------------------------------------------------- proportions
@dataclass(frozen=True, slots=True)
class Proportion:
    """A count out of a denominator, its rate and 95% Wilson interval.

    ``count``, ``rate`` and ``ci`` are None when privacy suppression hides the cell
    (``suppressed`` is True); ``rate`` and ``ci`` are None when ``n`` is 0.
    ``to_json()`` gives the results.md shape.
    """

    count: int | None
    n: int
    rate: float | None
    ci: tuple[float, float] | None
    suppressed: bool

    def __post_init__(self) -> None:
        if isinstance(self.n, bool) or not isinstance(self.n, int) or self.n < 0:
            raise ValueError(f"Proportion.n must be a non-negative int, got {self.n!r}.")
        if self.count is not None and (
            isinstance(self.count, bool) or not isinstance(self.count, int) or not 0 <= self.count <= self.n
        ):
            raise ValueError(f"Proportion.count must be an int in 0..n = 0..{self.n} or None, got {self.count!r}.")

    def to_json(self) -> dict[str, Any]:
        """``{"count", "n", "rate", "ci": [low, high] | None, "suppressed"}`` (results.md)."""
        return {
            "count": self.count,
            "n": self.n,
            "rate": self.rate,
            "ci": None if self.ci is None else [self.ci[0], self.ci[1]],
            "suppressed": self.suppressed,
        }


def wilson_interval(count: int, n: int, *, confidence: float = 0.95) -> tuple[float, float]:
    r"""Wilson score interval for a binomial proportion.

    .. math::

        \frac{x + z^2/2}{n + z^2} \pm \frac{z}{n + z^2}\sqrt{\frac{x (n - x)}{n} + \frac{z^2}{4}},
        \qquad z = \Phi^{-1}\!\left(1 - \tfrac{1 - \text{confidence}}{2}\right)

    The bounds are exactly 0 when ``count == 0`` and exactly 1 when ``count == n``
    (the formula gives those values; they are set so rounding cannot leave [0, 1]).

    Parameters
    ----------
    count, n : int
        Successes and trials, ``0 <= count <= n`` and ``n >= 1``.
    confidence : float, keyword-only
        Coverage, default 0.95.

    Returns
    -------
    (low, high) : tuple of float

    Raises
    ------
    ValueError
        For ``n == 0`` (no interval exists; :func:`proportion` returns ``ci=None``) or a bad count.

    Notes
    -----
    Validated against ``statsmodels.stats.proportion.proportion_confint(method="wilson")``
    to 1e-12.

    Examples
    --------
    >>> low, high = wilson_interval(219, 395)
    >>> round(low, 4), round(high, 4)
    (0.5051, 0.6027)
    """
    x = _as_count("count", count)
    m = _as_count("n", n)
    conf = _check_confidence(confidence)
    if m == 0:
        raise ValueError("`n` is 0: a proportion of nothing has no interval; use proportion(), which returns ci=None.")
    if x > m:
        raise ValueError(f"`count` ({x}) cannot exceed `n` ({m}).")
    z = float(stats.norm.isf((1.0 - conf) / 2.0))
    z2 = z * z
    denom = m + z2
    center = (x + z2 / 2.0) / denom
    half = z * math.sqrt(x * (m - x) / m + z2 / 4.0) / denom
    low = 0.0 if x == 0 else max(0.0, center - half)
    high = 1.0 if x == m else min(1.0, center + half)
    return (low, high)


def proportion(count: int, n: int, *, confidence: float = 0.95) -> Proportion:
    """A :class:`Proportion` with its rate ``count / n`` and Wilson interval.

    ``n == 0`` gives ``rate=None`` and ``ci=None`` (nothing to estimate). The result
    is never suppressed here; apply :func:`burnout.privacy.suppress_proportion`.

    Validated through :func:`wilson_interval` (statsmodels, 1e-12).

    Examples
    --------
    >>> p = proportion(104, 395)
    >>> p.count, p.n, round(p.rate, 3), p.suppressed
    (104, 395, 0.263, False)
    >>> proportion(0, 0).to_json()
    {'count': 0, 'n': 0, 'rate': None, 'ci': None, 'suppressed': False}
    """
    x = _as_count("count", count)
    m = _as_count("n", n)
    conf = _check_confidence(confidence)
    if x > m:
        raise ValueError(f"`count` ({x}) cannot exceed `n` ({m}).")
    if m == 0:
        return Proportion(count=0, n=0, rate=None, ci=None, suppressed=False)
    return Proportion(count=x, n=m, rate=x / m, ci=wilson_interval(x, m, confidence=conf), suppressed=False)


# --------------------------------------------------------------------------- means
@dataclass(frozen=True, slots=True)
class MeanSummary:
    """Mean, sample SD (n - 1), standard error and t interval of the mean.

    Fields are None when undefined: everything but ``n`` for n = 0; ``sd``, ``se``,
    ``ci`` and ``df`` for n = 1.
    """

    n: int
    mean: float | None
    sd: float | None
    se: float | None
    ci: tuple[float, float] | None
    df: int | None
    confidence: float


def mean_summary(
    n: int,
    total: Any,
    sum_of_squares: Any = None,
    *,
    centered_ss: Any = None,
    scale: int = 1,
    confidence: float = 0.95,
) -> MeanSummary:
    r"""Mean, SD and t confidence interval from (n, sum, sum of squares).

    .. math::

        \bar x = S / n, \quad
        s^2 = \frac{M_2}{n - 1}, \quad M_2 = SS - S^2 / n, \quad
        \bar x \pm t_{1-\alpha/2,\,n-1}\, s / \sqrt n

    Method: ``M2`` is computed in exact rational arithmetic from the inputs, so with
    integer aggregates (scores in integer units, the engine's exact sums) there is no
    cancellation and the only rounding is the final square root. That is the preferred
    route. When the data are not integers, pass ``centered_ss`` (the engine's
    ``sum((x - mean)^2)``, e.g. ``var_samp * (n - 1)``), which avoids the cancellation of
    ``SS - S^2/n`` in floats; when given it is used instead of ``sum_of_squares``.

    Parameters
    ----------
    n : int
        Number of values (missing values are excluded by the engine before summing).
    total : number
        Sum of the values, in units of ``1/scale``.
    sum_of_squares : number, optional
        Sum of squared values, in units of ``1/scale**2``. Required unless ``centered_ss``.
    centered_ss : number, keyword-only, optional
        Sum of squared deviations from the mean, in units of ``1/scale**2``.
    scale : int, keyword-only
        Units per point (``instrument.SCALE`` for scores held in units); results are in points.
    confidence : float, keyword-only
        Coverage of ``ci``, default 0.95.

    Notes
    -----
    Validated against ``numpy.mean``/``std(ddof=1)`` and
    ``scipy.stats.ttest_1samp(...).confidence_interval()`` on raw simulated data (1e-9).

    Examples
    --------
    >>> s = mean_summary(4, 10, 30)   # values 1, 2, 3, 4
    >>> s.mean, round(s.sd, 6), s.df
    (2.5, 1.290994, 3)
    """
    m = _as_count("n", n)
    conf = _check_confidence(confidence)
    sc = _as_scale("scale", scale)
    if m == 0:
        return MeanSummary(n=0, mean=None, sd=None, se=None, ci=None, df=None, confidence=conf)
    s = _as_exact("total", total)
    mean = float(s / (m * sc))
    if m == 1:
        return MeanSummary(n=1, mean=mean, sd=None, se=None, ci=None, df=None, confidence=conf)
    m2 = _centered_ss(m, s, sum_of_squares, centered_ss, what="mean_summary") / (sc * sc)
    var = m2 / (m - 1)
    sd = _sqrt(var)
    se = _sqrt(var / m)
    tq = _t_quantile(conf, m - 1)
    return MeanSummary(
        n=m, mean=mean, sd=sd, se=se, ci=(mean - tq * se, mean + tq * se), df=m - 1, confidence=conf
    )


# --------------------------------------------------------------------------- paired change
@dataclass(frozen=True, slots=True)
class PairedChange:
    """Mean within-patient change with its t interval, paired t test and Cohen's dz.

    ``dz = mean / sd`` (mean change over the SD of change); ``dz_ci`` comes from the
    noncentral t distribution; ``dz_label`` by |dz| (0.2 / 0.5 / 0.8). Undefined
    fields are None: n < 2 leaves only ``n`` (and ``mean`` for n = 1); sd = 0 leaves
    ``t``, ``p``, ``dz``, ``dz_ci`` and ``dz_label`` None.
    """

    n: int
    mean: float | None
    sd: float | None
    se: float | None
    ci: tuple[float, float] | None
    t: float | None
    df: int | None
    p: float | None
    dz: float | None
    dz_ci: tuple[float, float] | None
    dz_label: EffectSizeLabel | None
    confidence: float

    def effect_size_json(self) -> dict[str, Any] | None:
        """``{"dz", "ci": [low, high], "label"}`` (results.md ``effect_size``), None if dz is undefined."""
        if self.dz is None:
            return None
        return {
            "dz": self.dz,
            "ci": None if self.dz_ci is None else [self.dz_ci[0], self.dz_ci[1]],
            "label": self.dz_label,
        }


def effect_size_label(dz: float) -> EffectSizeLabel:
    """Cohen's label by |dz|: negligible < 0.2 <= small < 0.5 <= medium < 0.8 <= large.

    Examples
    --------
    >>> [effect_size_label(d) for d in (0.19, -0.2, 0.5, -0.81)]
    ['negligible', 'small', 'medium', 'large']
    """
    if not isinstance(dz, numbers.Real) or isinstance(dz, bool) or math.isnan(float(dz)):
        raise ValueError(f"`dz` must be a real number, got {dz!r}.")
    a = abs(float(dz))
    return next(label for label, (_lo, hi) in EFFECT_SIZE_BOUNDS.items() if a < hi)


# Cohen's bands of |dz|: label -> [low, high)
EFFECT_SIZE_BOUNDS: Final[dict[EffectSizeLabel, tuple[float, float]]] = {
    "negligible": (0.0, 0.2),
    "small": (0.2, 0.5),
    "medium": (0.5, 0.8),
    "large": (0.8, math.inf),
}


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


def paired_change(
    n: int,
    sum_d: Any,
    sum_d2: Any = None,
    *,
    centered_ss: Any = None,
    scale: int = 1,
    confidence: float = 0.95,
) -> PairedChange:
    r"""Mean change, paired t test and Cohen's dz from the sums of the differences.

    With ``d`` = follow-up minus baseline per patient:

    .. math::

        \bar d = S/n,\quad s_d^2 = \frac{SS - S^2/n}{n - 1},\quad
        t = \frac{\bar d}{s_d/\sqrt n},\ \text{df} = n - 1,\quad
        p = 2\,P(T_{n-1} > |t|),\quad d_z = \bar d / s_d = t / \sqrt n

    The CI of the mean is ``mean +/- t_{1-a/2, n-1} * s_d / sqrt(n)``. The dz interval
    inverts the noncentral t: the bounds are the noncentralities ``delta`` with
    ``nct.cdf(t, n-1, delta) = 1 - a/2`` (low) and ``= a/2`` (high), found with
    ``scipy.optimize.brentq`` on a bracket grown by doubling; dz CI = delta CI / sqrt(n)
    (Steiger & Fouladi 1997; the method of MBESS ``ci.sm``). ``dz_ci`` is None in the
    degenerate case where scipy cannot evaluate the noncentral t (|t| above about 1e5).

    The variance is computed exactly as in :func:`mean_summary` (integer aggregates
    preferred; ``centered_ss`` for float data). n < 2 and a zero SD return None in the
    undefined fields without raising or warning.

    Parameters
    ----------
    n : int
        Patients with both measurements.
    sum_d, sum_d2 : number
        Sum of the differences and of their squares (units ``1/scale``, ``1/scale**2``).
    centered_ss : number, keyword-only, optional
        ``sum((d - mean_d)^2)``; used instead of ``sum_d2`` when given.
    scale : int, keyword-only
        Units per point; means, SDs and CIs are returned in points (t, p, dz are scale-free).
    confidence : float, keyword-only
        Coverage of ``ci`` and ``dz_ci``, default 0.95.

    Notes
    -----
    Validated against ``scipy.stats.ttest_rel`` (t, p, CI) on raw simulated pairs
    (1e-9), and the dz interval against an independent noncentral-t cdf computed by
    numerical integration over the chi distribution and inverted by bisection (1e-7).

    Examples
    --------
    >>> c = paired_change(5, -10, 22)   # differences -1, -2, -2, -2, -3
    >>> c.mean, round(c.sd, 4), round(c.dz, 4), c.dz_label
    (-2.0, 0.7071, -2.8284, 'large')
    """
    m = _as_count("n", n)
    conf = _check_confidence(confidence)
    sc = _as_scale("scale", scale)
    none = dict(sd=None, se=None, ci=None, t=None, df=None, p=None, dz=None, dz_ci=None, dz_label=None)
    if m == 0:
        return PairedChange(n=0, mean=None, confidence=conf, **none)
    s = _as_exact("sum_d", sum_d)
    mean = float(s / (m * sc))
    if m == 1:
        return PairedChange(n=1, mean=mean, confidence=conf, **none)
    m2 = _centered_ss(m, s, sum_d2, centered_ss, what="paired_change") / (sc * sc)
    var = m2 / (m - 1)
    sd = _sqrt(var)
    se = _sqrt(var / m)
    df = m - 1
    tq = _t_quantile(conf, df)
    ci = (mean - tq * se, mean + tq * se)
    if m2 == 0:
        return PairedChange(
            n=m, mean=mean, sd=sd, se=se, ci=ci, t=None, df=df, p=None, dz=None, dz_ci=None,
            dz_label=None, confidence=conf,
        )
    s_points = s / sc
    # t^2 = n * mean^2 / var, exactly: S^2 (n - 1) / (n * M2)
    t2 = s_points * s_points * (m - 1) / (m * m2)
    t = math.copysign(_sqrt(t2), float(s_points)) if s_points != 0 else 0.0
    p = float(min(1.0, 2.0 * stats.t.sf(abs(t), df)))
    dz = t / math.sqrt(m)
    alpha = 1.0 - conf
    lo = _ncp_bound(t, df, 1.0 - alpha / 2.0)
    hi = _ncp_bound(t, df, alpha / 2.0)
    dz_ci = None if lo is None or hi is None else (lo / math.sqrt(m), hi / math.sqrt(m))
    return PairedChange(
        n=m, mean=mean, sd=sd, se=se, ci=ci, t=t, df=df, p=p, dz=dz, dz_ci=dz_ci,
        dz_label=effect_size_label(dz), confidence=conf,
    )


# --------------------------------------------------------------------------- tests
@dataclass(frozen=True, slots=True)
class HypothesisTest:
    """A significance test: its name, statistic, degrees of freedom, p-value and n.

    ``statistic`` is the chi-square (or Q) statistic and is None for exact tests;
    ``df`` is None for exact tests; ``statistic`` and ``p`` are None when the test is
    undefined (e.g. ``test == "not-testable"``). ``n`` is the number of subjects
    entering the test (for McNemar: the discordant pairs b + c).
    """

    test: str
    statistic: float | None
    df: int | None
    p: float | None
    n: int

    def to_json(self) -> dict[str, Any]:
        """``{"statistic", "df", "p", "test"}`` (results.md ``heterogeneity``)."""
        return {"statistic": self.statistic, "df": self.df, "p": self.p, "test": self.test}


def cochran_q(pattern_counts: Mapping[tuple[bool, ...], int]) -> HypothesisTest:
    r"""Cochran's Q test that k related binary outcomes share one success rate.

    From the number of subjects with each response pattern (e.g. ``(True, False, True)``:
    responded on the first and third subscale), with column totals ``C_j``, row totals
    ``R_i`` and ``N = sum C_j``:

    .. math::

        Q = (k - 1)\,\frac{k \sum_j C_j^2 - N^2}{k N - \sum_i R_i^2},
        \qquad Q \sim \chi^2_{k-1}

    Computed in exact integer arithmetic. If every subject has an all-same pattern the
    denominator is 0 and ``statistic``/``p`` are None.

    Parameters
    ----------
    pattern_counts : mapping of tuple of bool to int
        Count of subjects per pattern; all patterns have the same length k >= 2.
        Absent patterns count 0.

    Returns
    -------
    HypothesisTest
        ``test="cochran-q"``, ``df=k-1``, ``n`` = number of subjects.

    Notes
    -----
    Validated against ``statsmodels.stats.contingency_tables.cochrans_q`` on the
    expanded raw 0/1 matrix (1e-9).

    Examples
    --------
    >>> r = cochran_q({(True, True, False): 10, (True, False, False): 5, (False, False, False): 3})
    >>> r.df, round(r.statistic, 4)
    (2, 23.3333)
    """
    if not isinstance(pattern_counts, Mapping) or not pattern_counts:
        raise ValueError(
            "`pattern_counts` must be a non-empty mapping {(bool, ...): count}, "
            f"got {pattern_counts!r}."
        )
    k: int | None = None
    col = []
    n_subjects = 0
    big_n = 0
    sum_r2 = 0
    for pattern, count in pattern_counts.items():
        if not isinstance(pattern, tuple) or not all(
            isinstance(v, (bool, np.bool_)) or (isinstance(v, numbers.Integral) and int(v) in (0, 1))
            for v in pattern
        ):
            raise ValueError(f"each pattern must be a tuple of bools, got {pattern!r}.")
        if k is None:
            k = len(pattern)
            if k < 2:
                raise ValueError(f"Cochran's Q needs k >= 2 outcomes per subject, got patterns of length {k}.")
            col = [0] * k
        elif len(pattern) != k:
            raise ValueError(f"every pattern must have length {k}, got {pattern!r} of length {len(pattern)}.")
        c = _as_count(f"pattern_counts[{pattern!r}]", count)
        r = sum(bool(v) for v in pattern)
        for j, v in enumerate(pattern):
            if v:
                col[j] += c
        n_subjects += c
        big_n += c * r
        sum_r2 += c * r * r
    k = len(col)
    denom = k * big_n - sum_r2
    if denom == 0:
        return HypothesisTest(test="cochran-q", statistic=None, df=k - 1, p=None, n=n_subjects)
    q = Fraction((k - 1) * (k * sum(cj * cj for cj in col) - big_n * big_n), denom)
    statistic = float(q)
    return HypothesisTest(
        test="cochran-q", statistic=statistic, df=k - 1, p=float(stats.chi2.sf(statistic, k - 1)), n=n_subjects
    )


def mcnemar(b: int, c: int, *, method: Literal["auto", "exact", "chi-square"] = "auto") -> HypothesisTest:
    r"""McNemar's test for two paired binary outcomes from the discordant counts.

    ``b`` = subjects positive on the first outcome only, ``c`` = on the second only.

    - exact (``method="auto"`` when ``b + c < 25``): two-sided binomial test,
      ``p = min(1, 2 P(X <= min(b, c)))`` with ``X ~ Binomial(b + c, 1/2)``, summed in
      exact integer arithmetic; ``statistic`` and ``df`` are None.
    - chi-square (``b + c >= 25``): with continuity correction,
      ``(|b - c| - 1)^2 / (b + c)`` on 1 df, the formula of R's ``mcnemar.test`` and of
      statsmodels (no truncation at 0 when ``b == c``).

    ``b + c == 0`` gives the exact p = 1.

    Notes
    -----
    Validated against ``statsmodels.stats.contingency_tables.mcnemar(table,
    exact=(b + c < 25), correction=True)`` (1e-12).

    Examples
    --------
    >>> mcnemar(3, 12).test, round(mcnemar(3, 12).p, 6)
    ('mcnemar-exact', 0.035156)
    """
    bb = _as_count("b", b)
    cc = _as_count("c", c)
    if method not in ("auto", "exact", "chi-square"):
        raise ValueError(f"`method` must be one of 'auto', 'exact', 'chi-square', got {method!r}.")
    total = bb + cc
    exact = total < 25 if method == "auto" else method == "exact"
    if exact:
        tail = sum(math.comb(total, i) for i in range(min(bb, cc) + 1))
        p = min(Fraction(1), Fraction(2 * tail, 2**total))
        return HypothesisTest(test="mcnemar-exact", statistic=None, df=None, p=float(p), n=total)
    if total == 0:
        raise ValueError("the chi-square McNemar test needs b + c > 0; use method='exact' (p = 1).")
    statistic = float(Fraction((abs(bb - cc) - 1) ** 2, total))
    return HypothesisTest(
        test="mcnemar-chi-square", statistic=statistic, df=1, p=float(stats.chi2.sf(statistic, 1)), n=total
    )


def holm(pvalues: Sequence[float | None]) -> tuple[float | None, ...]:
    r"""Holm's step-down adjustment of p-values for multiple comparisons.

    With the m p-values sorted ascending, ``p_(1) <= ... <= p_(m)``:

    .. math:: \tilde p_{(i)} = \max_{j \le i} \min\{1, (m - j + 1)\, p_{(j)}\}

    returned in the input order. None entries (an undefined test) are passed through as
    None and do not count in m. Ties keep their input order (stable sort).

    Notes
    -----
    Validated against ``statsmodels.stats.multitest.multipletests(method="holm")``
    (1e-12).

    Examples
    --------
    >>> holm([0.01, 0.04, 0.03])
    (0.03, 0.06, 0.06)
    """
    values: list[float | None] = []
    for i, p in enumerate(pvalues):
        if p is None:
            values.append(None)
            continue
        if isinstance(p, bool) or not isinstance(p, numbers.Real) or not 0.0 <= float(p) <= 1.0:
            raise ValueError(f"p-value {i} must be a number in [0, 1] or None, got {p!r}.")
        values.append(float(p))
    present = sorted((p, i) for i, p in enumerate(values) if p is not None)  # ties: input order
    m = len(present)
    out: list[float | None] = [None] * len(values)
    running = 0.0
    for rank, (p, i) in enumerate(present):
        running = max(running, min(1.0, (m - rank) * p))
        out[i] = running
    return tuple(out)


# --------------------------------------------------------------------------- heterogeneity
def _log_comb(n: int | np.ndarray, x: int | np.ndarray) -> Any:
    return special.gammaln(np.asarray(n) + 1) - special.gammaln(np.asarray(x) + 1) - special.gammaln(
        np.asarray(n) - np.asarray(x) + 1
    )


def _exact_rx2_pvalue(xs: Sequence[int], ns: Sequence[int]) -> float | None:
    """Exact conditional p of an r x 2 table (rows (x_i, n_i - x_i)), Fisher / Freeman-Halton.

    Conditional on the margins, the row counts (x_1..x_r) are multivariate hypergeometric:
    ``P = prod_i C(n_i, x_i) / C(N, X)``. The p-value sums P over tables with
    ``P <= P_obs * (1 + 1e-7)``.

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
    rounding, as in R. Returns None when more than ``_EXACT_MAX_NODES`` nodes would be live.
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
      2 x 2 (``"fisher-exact"``), Freeman-Halton for r x 2 (``"freeman-halton-exact"``).
      The p-value sums the multivariate hypergeometric probabilities of all tables with
      the observed margins that are no more probable than the observed one, with R's
      relative tolerance of 1e-7; tables are enumerated by a dynamic programme over rows
      with bound pruning (see ``_exact_rx2_pvalue``).

    If exact enumeration would need more than 5 million live nodes (several large levels
    plus a tiny one, in a big cohort), the p-value is instead estimated from 200,000
    tables drawn with the observed margins under a fixed seed, as R's
    ``fisher.test(simulate.p.value = TRUE)`` does: ``test="freeman-halton-monte-carlo"``,
    ``p = (1 + hits) / (B + 1)``, Monte Carlo SE at most 0.0012.

    Notes
    -----
    Validated against ``scipy.stats.chi2_contingency(correction=False)`` (1e-12),
    ``scipy.stats.fisher_exact`` (1e-9), R's ``fisher.test`` on the tea-tasting table,
    and a brute-force enumeration of every table with the observed margins in exact
    rational arithmetic (1e-9).

    Examples
    --------
    >>> heterogeneity([(3, 4), (1, 4)]).test
    'fisher-exact'
    >>> heterogeneity([(5, 10)]).test
    'not-testable'
    """
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
        statistic = 0.0
        for x, m in rows:
            for observed, cj in ((x, col[0]), (m - x, col[1])):
                expected = m * cj / big_n
                statistic += (observed - expected) ** 2 / expected
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


# --------------------------------------------------------------------------- regression
@dataclass(frozen=True, slots=True)
class LinearFit:
    """Simple linear regression y = intercept + slope * x by least squares.

    Fields are None when undefined: n < 2 or no spread in x (slope and intercept);
    n < 3 (standard errors and CIs, df = n - 2 = 0).
    """

    n: int
    intercept: float | None
    slope: float | None
    intercept_se: float | None
    slope_se: float | None
    intercept_ci: tuple[float, float] | None
    slope_ci: tuple[float, float] | None
    df: int | None
    residual_sd: float | None
    confidence: float

    def to_json(self) -> dict[str, Any]:
        """``{"intercept", "intercept_ci", "slope", "slope_ci", "n"}`` (results.md ``phq9.adjusted``)."""
        return {
            "intercept": self.intercept,
            "intercept_ci": None if self.intercept_ci is None else list(self.intercept_ci),
            "slope": self.slope,
            "slope_ci": None if self.slope_ci is None else list(self.slope_ci),
            "n": self.n,
        }


def ols_from_moments(
    n: int,
    sx: Any,
    sy: Any,
    sxx: Any,
    syy: Any,
    sxy: Any,
    *,
    x_scale: int = 1,
    y_scale: int = 1,
    confidence: float = 0.95,
) -> LinearFit:
    r"""Least-squares line from the raw moments (n, sum x, sum y, sum x^2, sum y^2, sum xy).

    .. math::

        S_{xx} = \textstyle\sum x^2 - (\sum x)^2/n,\ S_{xy} = \sum xy - \sum x \sum y / n,\
        S_{yy} = \sum y^2 - (\sum y)^2/n \\
        b = S_{xy}/S_{xx},\ a = \bar y - b \bar x,\
        \hat\sigma^2 = \frac{S_{yy} - b S_{xy}}{n - 2} \\
        \mathrm{SE}(b) = \sqrt{\hat\sigma^2 / S_{xx}},\
        \mathrm{SE}(a) = \sqrt{\hat\sigma^2 (1/n + \bar x^2 / S_{xx})},\
        \text{CI} = \text{est} \pm t_{1-\alpha/2,\,n-2}\,\mathrm{SE}

    The centred moments are formed in exact rational arithmetic (no cancellation for
    integer aggregates). ``x_scale``/``y_scale`` are units per point of x and y (e.g.
    ``instrument.SCALE`` for a subscale change in units, 1 for a PHQ-9 total); results
    are in points. Used for regressing the subscale change on the PHQ-9 change: the
    intercept is the subscale change expected with no change in depression.

    Notes
    -----
    Validated against ``statsmodels.api.OLS`` on raw simulated data (params, bse,
    conf_int; 1e-9).

    Examples
    --------
    >>> f = ols_from_moments(3, 6, 12, 14, 56, 28)   # (1, 2), (2, 4), (3, 6)
    >>> f.intercept, f.slope, f.slope_se
    (0.0, 2.0, 0.0)
    """
    m = _as_count("n", n)
    conf = _check_confidence(confidence)
    xs_ = _as_scale("x_scale", x_scale)
    ys_ = _as_scale("y_scale", y_scale)
    empty = LinearFit(
        n=m, intercept=None, slope=None, intercept_se=None, slope_se=None, intercept_ci=None, slope_ci=None,
        df=None, residual_sd=None, confidence=conf,
    )
    if m < 2:
        return empty
    fx = _as_exact("sx", sx) / xs_
    fy = _as_exact("sy", sy) / ys_
    fxx = _as_exact("sxx", sxx) / (xs_ * xs_)
    fyy = _as_exact("syy", syy) / (ys_ * ys_)
    fxy = _as_exact("sxy", sxy) / (xs_ * ys_)
    cxx = fxx - fx * fx / m
    cyy = fyy - fy * fy / m
    cxy = fxy - fx * fy / m
    if cxx < 0 or cyy < 0:
        tiny = Fraction(1, 10**9)
        if -cxx > tiny * abs(fxx) or -cyy > tiny * abs(fyy):
            raise ValueError(
                "ols_from_moments: a sum of squares is smaller than sum**2 / n, so these are not the "
                "moments of real data; check that the engine summed the same rows for every aggregate."
            )
        cxx, cyy = max(cxx, Fraction(0)), max(cyy, Fraction(0))
    if cxx == 0:
        return empty
    slope_q = cxy / cxx
    intercept_q = fy / m - slope_q * fx / m
    slope = float(slope_q)
    intercept = float(intercept_q)
    if m == 2:
        return LinearFit(
            n=m, intercept=intercept, slope=slope, intercept_se=None, slope_se=None, intercept_ci=None,
            slope_ci=None, df=0, residual_sd=None, confidence=conf,
        )
    rss = max(cyy - slope_q * cxy, Fraction(0))
    sigma2 = rss / (m - 2)
    slope_se = _sqrt(sigma2 / cxx)
    xbar = fx / m
    intercept_se = _sqrt(sigma2 * (Fraction(1, m) + xbar * xbar / cxx))
    tq = _t_quantile(conf, m - 2)
    return LinearFit(
        n=m,
        intercept=intercept,
        slope=slope,
        intercept_se=intercept_se,
        slope_se=slope_se,
        intercept_ci=(intercept - tq * intercept_se, intercept + tq * intercept_se),
        slope_ci=(slope - tq * slope_se, slope + tq * slope_se),
        df=m - 2,
        residual_sd=_sqrt(sigma2),
        confidence=conf,
    )


# --------------------------------------------------------------------------- reliability
@dataclass(frozen=True, slots=True)
class Reliability:
    """Cronbach's alpha of a k-item scale over n respondents with its Feldt interval."""

    k: int
    n: int
    alpha: float | None
    ci: tuple[float, float] | None
    confidence: float


def cronbach_alpha(
    k: int, n: int, item_variance_sum: Any, total_variance: Any, *, confidence: float = 0.95
) -> Reliability:
    r"""Cronbach's alpha from the item variances and the variance of the total score.

    .. math::

        \alpha = \frac{k}{k - 1}\left(1 - \frac{\sum_i s_i^2}{s_T^2}\right)

    with ``s_i^2`` the variance of item i and ``s_T^2`` the variance of the sum of the k
    items, over the same n respondents (complete cases; use one ddof throughout).

    Feldt's interval (Feldt, Woodruff & Salih 1987): ``(1 - alpha) / (1 - alpha_hat)``
    follows F with ``df1 = n - 1``, ``df2 = (n - 1)(k - 1)``, so

    .. math::

        [\,1 - (1 - \hat\alpha) F_{1-\gamma/2}(df_1, df_2),\ 1 - (1 - \hat\alpha) F_{\gamma/2}(df_1, df_2)\,]

    with ``gamma = 1 - confidence``. ``alpha`` (and ``ci``) are None when n < 2 or the
    total variance is 0.

    Notes
    -----
    Validated against alpha computed directly on a raw simulated item matrix (1e-12)
    and the Feldt bounds against the formula with ``scipy.stats.f.ppf`` (1e-12).

    Examples
    --------
    >>> round(cronbach_alpha(5, 100, 10.0, 30.0).alpha, 4)
    0.8333
    """
    kk = _as_count("k", k)
    m = _as_count("n", n)
    conf = _check_confidence(confidence)
    if kk < 2:
        raise ValueError(f"Cronbach's alpha needs k >= 2 items, got k = {kk}.")
    items = _as_exact("item_variance_sum", item_variance_sum)
    tot = _as_exact("total_variance", total_variance)
    if items < 0 or tot < 0:
        raise ValueError(
            f"variances cannot be negative, got item_variance_sum={item_variance_sum!r}, "
            f"total_variance={total_variance!r}."
        )
    if m < 2 or tot == 0:
        return Reliability(k=kk, n=m, alpha=None, ci=None, confidence=conf)
    alpha_q = Fraction(kk, kk - 1) * (1 - items / tot)
    alpha = float(alpha_q)
    gamma = 1.0 - conf
    df1 = m - 1
    df2 = (m - 1) * (kk - 1)
    low = 1.0 - (1.0 - alpha) * float(stats.f.ppf(1.0 - gamma / 2.0, df1, df2))
    high = 1.0 - (1.0 - alpha) * float(stats.f.ppf(gamma / 2.0, df1, df2))
    return Reliability(k=kk, n=m, alpha=alpha, ci=(low, high), confidence=conf)


def _check_rci_inputs(sd_baseline: Any, alpha: Any) -> tuple[float, float]:
    sd = float(_as_exact("sd_baseline", sd_baseline))
    a = float(_as_exact("alpha", alpha))
    if sd < 0:
        raise ValueError(f"`sd_baseline` must be >= 0, got {sd_baseline!r}.")
    if a > 1:
        raise ValueError(f"`alpha` (a reliability) cannot exceed 1, got {alpha!r}.")
    return sd, a


def rci_se_diff(sd_baseline: float, alpha: float) -> float:
    r"""Standard error of a difference for the Jacobson-Truax reliable change index.

    .. math:: SE_{diff} = \sqrt 2 \cdot SE_{meas} = SD_{baseline} \sqrt 2 \sqrt{1 - \alpha}

    Validated against the hand-applied formula (Jacobson & Truax 1991).

    Examples
    --------
    >>> round(rci_se_diff(1.0, 0.5), 6)
    1.0
    """
    sd, a = _check_rci_inputs(sd_baseline, alpha)
    return sd * math.sqrt(2.0) * math.sqrt(1.0 - a)


def rci_critical_change(sd_baseline: float, alpha: float, *, z: float = 1.96) -> float:
    """Smallest change that is reliable: ``z * SE_diff`` (z = 1.96 by Jacobson & Truax).

    A patient's change passes when ``|change| >= z * SE_diff`` in the good direction.

    Examples
    --------
    >>> round(rci_critical_change(1.0, 0.5), 6)
    1.96
    """
    zz = float(_as_exact("z", z))
    if zz <= 0:
        raise ValueError(f"`z` must be positive, got {z!r}.")
    return zz * rci_se_diff(sd_baseline, alpha)


def reliable_change_index(change: float, sd_baseline: float, alpha: float) -> float | None:
    """Jacobson-Truax RCI = change / SE_diff; None when SE_diff is 0 (alpha = 1 or SD = 0).

    Examples
    --------
    >>> round(reliable_change_index(-2.0, 1.0, 0.5), 12)
    -2.0
    """
    se = rci_se_diff(sd_baseline, alpha)
    if se == 0:
        return None
    return float(_as_exact("change", change)) / se


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

    .. math::

        \bar Q = \frac1m \sum Q_i,\quad W = \frac1m \sum U_i,\quad
        B = \frac1{m-1} \sum (Q_i - \bar Q)^2,\quad T = W + (1 + 1/m) B \\
        \lambda = (1 + 1/m) B / T,\quad
        \nu_{old} = (m - 1) / \lambda^2 \ \ (= (m-1)(1 + 1/r)^2,\ r = (1 + 1/m)B/W)

    ``df`` is Rubin's classic ``nu_old``; with ``df_complete`` (the complete-data df) it
    is the Barnard-Rubin (1999) small-sample df
    ``1 / (1/nu_old + 1/nu_obs)``, ``nu_obs = (nu_com + 1)/(nu_com + 3) nu_com (1 - lambda)``.
    CI: ``Q_bar +/- t_{1-a/2, df} sqrt(T)``.

    Pool on a scale where the estimate is approximately normal: for a proportion, use
    :func:`pool_proportions` (logit scale), not the raw rates.

    Notes
    -----
    Validated against a hand application of the formulas (Rubin 1987; van Buuren,
    *Flexible Imputation of Missing Data*, 2nd ed., sec. 2.3-2.4) in exact fractions (1e-12).

    Examples
    --------
    >>> r = rubin_pool([1.0, 2.0, 3.0], [1.0, 1.0, 1.0])
    >>> r.estimate, round(r.variance, 6), r.df
    (2.0, 2.333333, 6.125)
    """
    conf = _check_confidence(confidence)
    q = [_as_exact(f"estimates[{i}]", v) for i, v in enumerate(estimates)]
    u = [_as_exact(f"variances[{i}]", v) for i, v in enumerate(variances)]
    m = len(q)
    if m != len(u):
        raise ValueError(f"`estimates` ({m}) and `variances` ({len(u)}) must have the same length.")
    if m < 2:
        raise ValueError(f"Rubin's rules need m >= 2 imputations, got {m}.")
    if any(v < 0 for v in u):
        raise ValueError(f"variances must be >= 0, got {list(variances)!r}.")
    qbar = sum(q, Fraction(0)) / m
    w = sum(u, Fraction(0)) / m
    b = sum(((qi - qbar) ** 2 for qi in q), Fraction(0)) / (m - 1)
    t_var = w + (1 + Fraction(1, m)) * b
    if t_var == 0:
        lam = Fraction(0)
    else:
        lam = (1 + Fraction(1, m)) * b / t_var
    nu_old = math.inf if lam == 0 else float((m - 1) / (lam * lam))
    if df_complete is None:
        df = nu_old
    else:
        nu_com = float(_as_exact("df_complete", df_complete))
        if nu_com <= 0:
            raise ValueError(f"`df_complete` must be positive, got {df_complete!r}.")
        nu_obs = (nu_com + 1.0) / (nu_com + 3.0) * nu_com * (1.0 - float(lam))
        if nu_obs == 0:
            df = nu_old
        else:
            df = 1.0 / ((0.0 if math.isinf(nu_old) else 1.0 / nu_old) + 1.0 / nu_obs)
    est = float(qbar)
    se = _sqrt(t_var)
    tq = _t_quantile(conf, df)
    return PooledEstimate(
        estimate=est, variance=float(t_var), within=float(w), between=float(b), df=df,
        ci=(est - tq * se, est + tq * se), m=m, confidence=conf,
    )


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
