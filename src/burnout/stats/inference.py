"""Statistics from aggregates: the honest-inference family (issue 16). (inference).

Regression to the mean expected from selection on baseline (Barnett, van der Pols &
Dobson 2005), equivalence by two one-sided tests (Schuirmann 1987; Lakens 2017), and
the d_av effect size beside d_z (Lakens 2013).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from scipy import stats

from burnout.stats._common import _check_confidence

__all__ = [
    "Equivalence",
    "RegressionToMean",
    "cohen_d_av",
    "expected_response_without_change",
    "paired_tost",
    "regression_to_mean",
]


@dataclass(frozen=True, slots=True)
class RegressionToMean:
    """The change expected from regression to the mean alone, in score points.

    ``expected_change = -(1 - rho) * (selected_mean - reference_mean)``: signed like an
    observed change (a group selected for high scores is expected to fall).
    ``share_of_observed_change`` is ``expected_change / observed_change`` (None when the
    observed change is 0 or unknown, or points the other way).
    """

    reference_mean: float
    reference_sd: float | None
    selected_mean: float
    rho: float
    expected_change: float
    observed_change: float | None
    share_of_observed_change: float | None

    def to_json(self) -> dict[str, Any]:
        return {
            "reference_mean": self.reference_mean,
            "reference_sd": self.reference_sd,
            "selected_mean": self.selected_mean,
            "rho": self.rho,
            "expected_change": self.expected_change,
            "observed_change": self.observed_change,
            "share_of_observed_change": self.share_of_observed_change,
        }


def regression_to_mean(
    *,
    reference_mean: float,
    selected_mean: float,
    rho: float,
    reference_sd: float | None = None,
    observed_change: float | None = None,
) -> RegressionToMean:
    r"""Expected regression to the mean of a group selected on its baseline.

    Under a bivariate normal model with the same mean and variance at both times and
    test-retest correlation :math:`\rho`, a group whose baseline mean is
    :math:`\bar x_s` in a population of mean :math:`\mu` is expected to move, with no
    true change, by

    .. math:: E[\text{change}] = -(1 - \rho)(\bar x_s - \mu)

    (Barnett, van der Pols & Dobson 2005, Int J Epidemiol 34:215, eq. 2 with the selected
    mean in place of :math:`\mu + \sigma\,\varphi(z)/(1 - \Phi(z))`).

    Raises
    ------
    ValueError
        For ``rho`` outside [0, 1].

    References
    ----------
    - Barnett AG, van der Pols JC, Dobson AJ (2005). Regression to the mean: what it is and how to deal with it. Int J Epidemiol 34:215-220.

    Examples
    --------
    >>> r = regression_to_mean(reference_mean=4.0, selected_mean=5.0, rho=0.6, observed_change=-1.0)
    >>> round(r.expected_change, 12), round(r.share_of_observed_change, 12)
    (-0.4, 0.4)
    """
    if not 0.0 <= rho <= 1.0:
        raise ValueError(f"`rho` must be a correlation from 0 to 1, got {rho!r}.")
    expected = -(1.0 - rho) * (selected_mean - reference_mean)
    share = None
    if observed_change is not None and observed_change != 0 and expected * observed_change >= 0:
        share = expected / observed_change
    return RegressionToMean(
        reference_mean=reference_mean,
        reference_sd=reference_sd,
        selected_mean=selected_mean,
        rho=rho,
        expected_change=expected,
        observed_change=observed_change,
        share_of_observed_change=share,
    )


def expected_response_without_change(
    baselines: Mapping[float, int], *, mean: float, sd: float, rho: float, min_change: float, direction: int
) -> float | None:
    r"""Share of patients expected to "respond" with no true change, from regression to the mean.

    Under the bivariate normal model of :func:`regression_to_mean` (mean ``mean``, SD
    ``sd`` at both times, correlation ``rho``), a patient with baseline :math:`x` has a
    follow-up :math:`Y \mid x \sim N(\mu + \rho (x - \mu),\ \sigma^2 (1 - \rho^2))`, so an
    improvement of at least :math:`c` (a fall, ``direction = -1``; a rise, ``+1``) has

    .. math:: P = \Phi\!\left(\frac{-\text{direction}\,(1 - \rho)(x - \mu) - c}{\sigma\sqrt{1 - \rho^2}}\right)

    averaged over the observed baselines (``{score: patients}``). Scores are treated as
    continuous (observed ones move in steps of 0.2 or 1/6). None without patients or spread.

    References
    ----------
    - Barnett AG, van der Pols JC, Dobson AJ (2005). Regression to the mean: what it is and how to deal with it. Int J Epidemiol 34:215-220 (the bivariate normal model).

    >>> round(expected_response_without_change({5.6: 1}, mean=4.6, sd=1.0, rho=0.6, min_change=1.0, direction=-1), 4)
    0.2266
    """
    total = sum(baselines.values())
    if total == 0 or not sd > 0 or not 0 <= rho < 1:
        return None
    scale = sd * math.sqrt(1 - rho * rho)
    return (
        sum(
            n * float(stats.norm.cdf((-direction * (1 - rho) * (x - mean) - min_change) / scale))
            for x, n in baselines.items()
        )
        / total
    )


@dataclass(frozen=True, slots=True)
class Equivalence:
    """Two one-sided tests of a paired mean difference against ``-margin`` and ``+margin``.

    ``p`` is the larger of the two one-sided p-values; ``equivalent`` is ``p < alpha``,
    which is the same as the ``1 - 2 alpha`` CI (``ci``) lying inside the margins.
    """

    mean: float
    margin: float
    t_lower: float
    t_upper: float
    df: int
    p: float
    ci: tuple[float, float]
    alpha: float
    equivalent: bool

    def to_json(self) -> dict[str, Any]:
        return {
            "margin": self.margin,
            "t_lower": self.t_lower,
            "t_upper": self.t_upper,
            "df": self.df,
            "p": self.p,
            "ci": [self.ci[0], self.ci[1]],
            "ci_level": 1 - 2 * self.alpha,
            "equivalent": self.equivalent,
        }


def paired_tost(mean: float, sd: float, n: int, *, margin: float, alpha: float = 0.05) -> Equivalence | None:
    r"""TOST for a paired mean difference from its summary statistics.

    .. math::

        t_L = \frac{\bar d + m}{s/\sqrt n}, \quad t_U = \frac{\bar d - m}{s/\sqrt n}, \quad
        p = \max\{P(T_{n-1} \ge t_L),\ P(T_{n-1} \le t_U)\}

    Returns None when it cannot be computed (n < 2 or sd = 0).

    Notes
    -----
    Validated against ``statsmodels.stats.weightstats.ttost_paired`` on raw data.

    References
    ----------
    - Schuirmann DJ (1987). A comparison of the two one-sided tests procedure and the power approach for assessing the equivalence of average bioavailability. J Pharmacokinet Biopharm 15:657-680 (TOST).
    - Lakens D (2017). Equivalence tests: a practical primer for t tests, correlations, and meta-analyses. Soc Psychol Personal Sci 8:355-362.

    Examples
    --------
    >>> e = paired_tost(-0.05, 0.5, 100, margin=0.2)
    >>> e.equivalent, round(e.p, 6)
    (True, 0.001708)
    """
    if n < 2 or not sd > 0:
        return None
    if not margin > 0:
        raise ValueError(f"`margin` must be positive, got {margin!r}.")
    a = 1.0 - _check_confidence(1.0 - alpha)  # alpha strictly between 0 and 1
    se = sd / math.sqrt(n)
    df = n - 1
    t_lower = (mean + margin) / se
    t_upper = (mean - margin) / se
    p = max(float(stats.t.sf(t_lower, df)), float(stats.t.cdf(t_upper, df)))
    q = float(stats.t.isf(a, df))
    ci = (mean - q * se, mean + q * se)
    return Equivalence(
        mean=mean, margin=margin, t_lower=t_lower, t_upper=t_upper, df=df, p=p, ci=ci, alpha=a, equivalent=p < a
    )


def cohen_d_av(mean_change: float, sd_before: float, sd_after: float) -> float | None:
    r"""Cohen's :math:`d_{av}` = mean change / ((SD_before + SD_after) / 2) (Lakens 2013, eq. 10).

    Unlike :math:`d_z` (mean change / SD of the changes) it does not grow with the
    correlation between the two measurements, so it compares with between-group d.
    None when the average SD is 0.

    References
    ----------
    - Lakens D (2013). Calculating and reporting effect sizes to facilitate cumulative science: a practical primer for t-tests and ANOVAs. Front Psychol 4:863.

    >>> cohen_d_av(-1.0, 0.5, 1.5)
    -1.0
    """
    average = (sd_before + sd_after) / 2
    return None if average == 0 else mean_change / average
