"""Statistics from aggregates: the estimates stage. (proportions)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

from scipy import stats

from burnout.stats._common import _as_count, _check_confidence

__all__ = [
    "Interval",
    "Proportion",
    "clopper_pearson_interval",
    "newcombe_difference",
    "proportion",
    "rule_of_three",
    "wilson_interval",
]

Interval = Literal["wilson", "clopper-pearson"]


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


def _interval_args(count: int, n: int, confidence: float) -> tuple[int, int, float]:
    """A binomial interval's checked arguments: a count in 0..n, n >= 1, a confidence level."""
    x = _as_count("count", count)
    m = _as_count("n", n)
    conf = _check_confidence(confidence)
    if m == 0:
        raise ValueError("`n` is 0: a proportion of nothing has no interval; use proportion(), which returns ci=None.")
    if x > m:
        raise ValueError(f"`count` ({x}) cannot exceed `n` ({m}).")
    return x, m, conf


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

    References
    ----------
    - Wilson EB (1927). Probable inference, the law of succession, and statistical inference. J Am Stat Assoc 22:209-212.

    Examples
    --------
    >>> low, high = wilson_interval(219, 395)
    >>> round(low, 4), round(high, 4)
    (0.5051, 0.6027)
    """
    x, m, conf = _interval_args(count, n, confidence)
    z = float(stats.norm.isf((1.0 - conf) / 2.0))
    z2 = z * z
    denom = m + z2
    center = (x + z2 / 2.0) / denom
    half = z * math.sqrt(x * (m - x) / m + z2 / 4.0) / denom
    low = 0.0 if x == 0 else max(0.0, center - half)
    high = 1.0 if x == m else min(1.0, center + half)
    return (low, high)


def clopper_pearson_interval(count: int, n: int, *, confidence: float = 0.95) -> tuple[float, float]:
    r"""Exact (Clopper-Pearson) interval for a binomial proportion.

    .. math::

        \left[B\!\left(\tfrac{a}{2};\, x,\, n - x + 1\right),\;
        B\!\left(1 - \tfrac{a}{2};\, x + 1,\, n - x\right)\right], \qquad a = 1 - \text{confidence}

    with ``B(q; a, b)`` the beta quantile; the lower bound is 0 when ``count == 0`` and
    the upper bound 1 when ``count == n``. It inverts two one-sided exact binomial
    tests, so its coverage is at least the nominal level: the interval for rare
    events (serious adverse events), where Wilson's can under-cover.

    Raises
    ------
    ValueError
        For ``n == 0`` or a count outside 0..n.

    Notes
    -----
    Validated against ``scipy.stats.binomtest(x, n).proportion_ci(method="exact")``
    and ``statsmodels.stats.proportion.proportion_confint(method="beta")`` to 1e-12.

    References
    ----------
    - Clopper CJ, Pearson ES (1934). The use of confidence or fiducial limits illustrated in the case of the binomial. Biometrika 26:404-413.

    Examples
    --------
    >>> low, high = clopper_pearson_interval(0, 8270)
    >>> low, round(high, 6)
    (0.0, 0.000446)
    """
    x, m, conf = _interval_args(count, n, confidence)
    tail = (1.0 - conf) / 2.0
    low = 0.0 if x == 0 else float(stats.beta.ppf(tail, x, m - x + 1))
    high = 1.0 if x == m else float(stats.beta.isf(tail, x + 1, m - x))
    return (low, high)


def rule_of_three(n: int) -> float | None:
    """``3 / n``: the approximate 95% upper bound for a rate when 0 of ``n`` had the event
    (Hanley & Lippman-Hand 1983, JAMA 249:1743); None for ``n == 0``.

    >>> rule_of_three(300)
    0.01
    """
    m = _as_count("n", n)
    return None if m == 0 else 3 / m


def proportion(count: int, n: int, *, confidence: float = 0.95, interval: Interval = "wilson") -> Proportion:
    """A :class:`Proportion` with its rate ``count / n`` and Wilson (Wilson 1927) or, with
    ``interval="clopper-pearson"``, exact (Clopper & Pearson 1934) interval.

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
    if interval not in ("wilson", "clopper-pearson"):
        raise ValueError(f'`interval` must be "wilson" or "clopper-pearson", got {interval!r}.')
    bounds = _INTERVALS[interval](x, m, confidence=conf)
    return Proportion(count=x, n=m, rate=x / m, ci=bounds, suppressed=False)


_INTERVALS = {"wilson": wilson_interval, "clopper-pearson": clopper_pearson_interval}


def newcombe_difference(
    count1: int, n1: int, count2: int, n2: int, *, confidence: float = 0.95
) -> tuple[float, tuple[float, float]]:
    r"""Difference of two independent proportions ``count1/n1 - count2/n2`` with Newcombe's
    hybrid score interval (Newcombe 1998, *Stat Med* 17:873-890, method 10).

    With Wilson intervals :math:`(l_i, u_i)` of each proportion and :math:`d = p_1 - p_2`:

    .. math::

        \left(d - \sqrt{(p_1 - l_1)^2 + (u_2 - p_2)^2},\;
               d + \sqrt{(u_1 - p_1)^2 + (p_2 - l_2)^2}\right)

    Returns ``(difference, (low, high))``. Validated against
    ``statsmodels.stats.proportion.confint_proportions_2indep(method="newcomb")`` and
    Newcombe's worked examples (tests/stats/test_proportions.py).

    References
    ----------
    - Newcombe RG (1998). Interval estimation for the difference between independent proportions: comparison of eleven methods. Stat Med 17:873-890.

    Examples
    --------
    >>> d, (low, high) = newcombe_difference(56, 70, 48, 80)
    >>> round(d, 4), round(low, 4), round(high, 4)
    (0.2, 0.0524, 0.3339)
    """
    x1, m1, x2, m2 = (_as_count(k, v) for k, v in (("count1", count1), ("n1", n1), ("count2", count2), ("n2", n2)))
    if m1 == 0 or m2 == 0 or x1 > m1 or x2 > m2:
        raise ValueError(f"need 0 <= count <= n and n >= 1 for both groups, got {x1}/{m1} and {x2}/{m2}.")
    p1, p2 = x1 / m1, x2 / m2
    l1, u1 = wilson_interval(x1, m1, confidence=confidence)
    l2, u2 = wilson_interval(x2, m2, confidence=confidence)
    d = p1 - p2
    return d, (d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2), d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2))
