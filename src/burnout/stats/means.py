r"""Statistics from aggregates: means, SDs and the paired change with Cohen's dz. (means).

Exactness
---------
The centred sum of squares ``M2 = SS - S^2 / n`` is computed in exact rational
arithmetic from the inputs, so with integer aggregates (scores in integer units, the
engine's exact sums) there is no cancellation and the only rounding is the final square
root. That is the preferred route. When the data are not integers, pass ``centered_ss``
(the engine's ``sum((x - mean)^2)``, e.g. ``var_samp * (n - 1)``), which avoids the
cancellation of ``SS - S^2/n`` in floats; when given it is used instead of the sum of
squares.

Paired change
-------------
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
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, replace
from fractions import Fraction
from typing import Any, Final, Literal

from scipy import stats

from burnout.stats._common import _as_count, _as_exact, _as_scale, _check_confidence, _sqrt, _t_quantile
from burnout.stats._noncentral_t import _noncentrality_interval

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


@dataclass(frozen=True, slots=True)
class _Moments:
    """What a mean and a paired change share, in points; the spread fields are None for n < 2."""

    n: int
    confidence: float
    total: Fraction | None  # the sum, exact (None for n = 0)
    mean: float | None
    m2: Fraction | None = None
    sd: float | None = None
    se: float | None = None
    ci: tuple[float, float] | None = None


def _moments(
    n: Any, total: Any, sum_of_squares: Any, centered_ss: Any, scale: Any, confidence: Any, *, names: tuple[str, str]
) -> _Moments:
    """Check the arguments; the mean, the exact centred sum of squares, SD, SE and t interval.

    ``names`` are the caller's (total argument, function) for the error messages.
    """
    m = _as_count("n", n)
    conf = _check_confidence(confidence)
    sc = _as_scale("scale", scale)
    if m == 0:
        return _Moments(n=0, confidence=conf, total=None, mean=None)
    s = _as_exact(names[0], total) / sc
    mean = float(s / m)
    if m == 1:
        return _Moments(n=1, confidence=conf, total=s, mean=mean)
    m2 = _centered_ss(m, s * sc, sum_of_squares, centered_ss, what=names[1]) / (sc * sc)
    var = m2 / (m - 1)
    sd, se = _sqrt(var), _sqrt(var / m)
    tq = _t_quantile(conf, m - 1)
    return _Moments(n=m, confidence=conf, total=s, mean=mean, m2=m2, sd=sd, se=se, ci=(mean - tq * se, mean + tq * se))


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

    ``M2`` is exact for integer aggregates; for float data pass ``centered_ss`` (module
    docstring, "Exactness").

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
    mo = _moments(n, total, sum_of_squares, centered_ss, scale, confidence, names=("total", "mean_summary"))
    df = None if mo.sd is None else mo.n - 1
    return MeanSummary(n=mo.n, mean=mo.mean, sd=mo.sd, se=mo.se, ci=mo.ci, df=df, confidence=mo.confidence)


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

    With ``d`` = follow-up minus baseline per patient: ``mean = S / n``, ``s_d^2 =
    (SS - S^2/n) / (n - 1)``, ``t = mean / (s_d / sqrt(n))`` on n - 1 df and
    ``dz = mean / s_d``, its interval from the noncentral t (formulas in the module
    docstring). n < 2 and a zero SD return None in the undefined fields, without warning.

    Parameters
    ----------
    n : int
        Patients with both measurements.
    sum_d, sum_d2 : number
        Sum of the differences and of their squares (units ``1/scale``, ``1/scale**2``).
    centered_ss, scale, confidence : keyword-only
        As in :func:`mean_summary`, for the differences; t, p and dz are scale-free.

    Notes
    -----
    Validated against ``scipy.stats.ttest_rel`` (t, p, CI) on raw simulated pairs (1e-9),
    and the dz interval against a noncentral-t cdf integrated over the chi distribution
    and inverted by bisection (1e-7).

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
    mo = _moments(n, sum_d, sum_d2, centered_ss, scale, confidence, names=("sum_d", "paired_change"))
    change = _change_without_test(mo)
    df = change.df
    if df is None or mo.total is None or mo.m2 is None or mo.m2 == 0:
        return change  # n < 2 or no spread: no test and no effect size
    t, p = _paired_t(mo.total, mo.n, mo.m2)
    dz = t / math.sqrt(mo.n)
    delta_ci = _noncentrality_interval(t, df, mo.confidence)
    dz_ci = None if delta_ci is None else (delta_ci[0] / math.sqrt(mo.n), delta_ci[1] / math.sqrt(mo.n))
    return replace(change, t=t, p=p, dz=dz, dz_ci=dz_ci, dz_label=effect_size_label(dz))


def _change_without_test(mo: _Moments) -> PairedChange:
    """The mean change and its interval, with t, p and dz None (their values when n < 2 or sd = 0)."""
    return PairedChange(
        n=mo.n,
        mean=mo.mean,
        sd=mo.sd,
        se=mo.se,
        ci=mo.ci,
        t=None,
        df=None if mo.sd is None else mo.n - 1,
        p=None,
        dz=None,
        dz_ci=None,
        dz_label=None,
        confidence=mo.confidence,
    )


def _paired_t(s_points: Fraction, m: int, m2: Fraction) -> tuple[float, float]:
    """The paired t statistic and its two-sided p, from the sum of the differences and M2 in points."""
    # t^2 = n * mean^2 / var, exactly: S^2 (n - 1) / (n * M2)
    t2 = s_points * s_points * (m - 1) / (m * m2)
    t = math.copysign(_sqrt(t2), float(s_points)) if s_points != 0 else 0.0
    return t, float(min(1.0, 2.0 * stats.t.sf(abs(t), m - 1)))
