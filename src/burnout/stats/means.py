"""Statistics from aggregates: the estimates stage. (means)."""

from __future__ import annotations

import math
import numbers
import warnings
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Final, Literal

import numpy as np
from scipy import optimize, stats

from burnout.stats._common import _as_count, _as_exact, _as_scale, _check_confidence, _sqrt, _t_quantile

__all__ = [
    "EFFECT_SIZE_BOUNDS",
    "EffectSizeLabel",
    "MeanSummary",
    "PairedChange",
    "effect_size_label",
    "mean_summary",
    "paired_change",
]

EffectSizeLabel = Literal["negligible", "small", "medium", "large"]


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

    References
    ----------
    - Student (1908). The probable error of a mean. Biometrika 6:1-25 (the t interval).

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
    return MeanSummary(n=m, mean=mean, sd=sd, se=se, ci=(mean - tq * se, mean + tq * se), df=m - 1, confidence=conf)


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

    References
    ----------
    - Cohen J (1988). Statistical Power Analysis for the Behavioral Sciences, 2nd ed. Hillsdale, NJ: Erlbaum (the 0.2/0.5/0.8 bands).

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

    References
    ----------
    - Student (1908). The probable error of a mean. Biometrika 6:1-25 (paired t).
    - Cohen J (1988). Statistical Power Analysis for the Behavioral Sciences, 2nd ed., sec. 2.3.5 (dz).
    - Steiger JH, Fouladi RT (1997). Noncentrality interval estimation and the evaluation of statistical models. In: What If There Were No Significance Tests? Erlbaum (the dz interval).

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
            n=m,
            mean=mean,
            sd=sd,
            se=se,
            ci=ci,
            t=None,
            df=df,
            p=None,
            dz=None,
            dz_ci=None,
            dz_label=None,
            confidence=conf,
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
        n=m,
        mean=mean,
        sd=sd,
        se=se,
        ci=ci,
        t=t,
        df=df,
        p=p,
        dz=dz,
        dz_ci=dz_ci,
        dz_label=effect_size_label(dz),
        confidence=conf,
    )
