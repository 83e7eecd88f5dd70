"""stats.means (mean summaries, paired change, Cohen's dz and its noncentral-t interval) against numpy, scipy and numerical integration.

Every reference works on raw simulated data or a different algorithm; the tolerance of
each comparison is written in the test.
"""

from __future__ import annotations

import math
import statistics
import warnings

import numpy as np
import pytest
from scipy import integrate, stats

import burnout.stats as est
from burnout.instrument import SCALE
from burnout.stats import (
    effect_size_label,
    mean_summary,
    paired_change,
)


def _moments(values: list[int]) -> tuple[int, int, int]:
    return len(values), sum(values), sum(v * v for v in values)


# --------------------------------------------------------------------------- means
def test_mean_summary_against_numpy_and_scipy_ttest_1samp() -> None:
    rng = np.random.default_rng(1)
    for n in (2, 3, 17, 395):
        # subscale scores as exact integer units: means of 5 items scored 0..6
        items = rng.integers(0, 7, size=(n, 5))
        units = [int(u) for u in items.sum(axis=1) * (SCALE // 5)]
        points = np.array(units) / SCALE
        s = mean_summary(*_moments(units), scale=SCALE)
        ref = stats.ttest_1samp(points, 0.0)
        ci = ref.confidence_interval(confidence_level=0.95)
        assert s.n == n and s.df == n - 1
        assert s.mean == pytest.approx(points.mean(), rel=1e-9)
        assert s.sd == pytest.approx(points.std(ddof=1), rel=1e-9)
        assert s.se == pytest.approx(stats.sem(points), rel=1e-9)
        assert s.ci == pytest.approx((ci.low, ci.high), rel=1e-9, abs=1e-12)


def test_mean_summary_centered_ss_against_numpy_on_float_data() -> None:
    rng = np.random.default_rng(2)
    x = rng.normal(1000.0, 0.01, size=200)  # large mean, tiny spread: raw moments cancel badly in floats
    centred = float(np.sum((x - x.mean()) ** 2))
    s = mean_summary(200, float(x.sum()), centered_ss=centred, confidence=0.9)
    ci = stats.ttest_1samp(x, 0.0).confidence_interval(confidence_level=0.9)
    assert s.sd == pytest.approx(x.std(ddof=1), rel=1e-9)
    assert s.ci == pytest.approx((ci.low, ci.high), rel=1e-9)


def test_mean_summary_integer_moments_are_exact_against_statistics_module() -> None:
    # values near 1e12 differing by a few units: float64 raw moments would lose every digit
    rng = np.random.default_rng(3)
    values = [10**12 + int(v) for v in rng.integers(0, 10, size=50)]
    s = mean_summary(*_moments(values))
    assert s.sd == pytest.approx(math.sqrt(statistics.variance(values)), rel=1e-15)


def test_mean_summary_small_n() -> None:
    assert mean_summary(0, 0, 0) == est.MeanSummary(0, None, None, None, None, None, 0.95)
    one = mean_summary(1, 7, 49)
    assert one.mean == 7.0 and one.sd is None and one.ci is None


# --------------------------------------------------------------------------- paired change
def test_paired_change_against_scipy_ttest_rel() -> None:
    rng = np.random.default_rng(4)
    for n, shift in ((2, -0.5), (12, -1.0), (395, -1.48), (60, 0.02)):
        baseline = rng.integers(0, 7, size=(n, 5)).sum(axis=1) * (SCALE // 5)
        follow = np.clip(baseline + (rng.normal(shift, 1.2, size=n) * SCALE).astype(np.int64), 0, 6 * SCALE)
        d = [int(v) for v in follow - baseline]
        c = paired_change(*_moments(d), scale=SCALE)
        ref = stats.ttest_rel(follow / SCALE, baseline / SCALE)
        ci = ref.confidence_interval(confidence_level=0.95)
        assert c.df == ref.df == n - 1
        assert c.mean == pytest.approx(np.mean(d) / SCALE, rel=1e-9)
        assert c.sd == pytest.approx(np.std(np.array(d) / SCALE, ddof=1), rel=1e-9)
        assert c.t == pytest.approx(ref.statistic, rel=1e-9)
        assert c.p == pytest.approx(ref.pvalue, rel=1e-9, abs=1e-300)
        assert c.ci == pytest.approx((ci.low, ci.high), rel=1e-9, abs=1e-12)
        assert c.dz == pytest.approx(c.mean / c.sd, rel=1e-12)
        assert c.dz_label == effect_size_label(c.dz)


def _nct_cdf_by_integration(t: float, df: int, delta: float) -> float:
    """P(T <= t), T = (Z + delta) / sqrt(V / df), V ~ chi2(df): integrate Phi over the chi2 density."""

    def integrand(v: float) -> float:
        return stats.norm.cdf(t * math.sqrt(v / df) - delta) * stats.chi2.pdf(v, df)

    lo, hi = stats.chi2.ppf([1e-15, 1 - 1e-15], df)
    value, _ = integrate.quad(integrand, lo, hi, epsabs=1e-13, epsrel=1e-12, limit=400, points=[df])
    return value


@pytest.mark.parametrize(("n", "dz"), [(20, 0.5), (395, -1.2), (6, 2.0), (3, 0.3), (50, 0.0)])
def test_dz_ci_against_integrated_noncentral_t(n: int, dz: float) -> None:
    # Reference: the noncentral t cdf written as an integral over the chi-square density
    # (scipy.integrate.quad, no scipy.stats.nct). The cdf falls strictly as delta grows, so
    # the bounds are right iff the integrated cdf at sqrt(n) * bound is 0.975 (low) and
    # 0.025 (high).
    sd_units = 1000
    rng = np.random.default_rng(5)
    raw = rng.normal(0, 1, size=n)
    raw = (raw - raw.mean()) / raw.std(ddof=1)
    d = [int(round((dz + z) * sd_units)) for z in raw]
    c = paired_change(*_moments(d))
    assert c.dz_ci is not None
    low, high = (b * math.sqrt(n) for b in c.dz_ci)
    assert _nct_cdf_by_integration(c.t, n - 1, low) == pytest.approx(0.975, abs=1e-9)
    assert _nct_cdf_by_integration(c.t, n - 1, high) == pytest.approx(0.025, abs=1e-9)
    assert c.dz_ci[0] < c.dz < c.dz_ci[1]


def test_dz_ci_covers_symmetrically_at_zero() -> None:
    c = paired_change(30, 0, 30 * 4)
    assert c.dz == 0.0 and c.dz_label == "negligible"
    assert c.dz_ci[0] == pytest.approx(-c.dz_ci[1], abs=1e-10)


def test_paired_change_edge_cases_return_none_without_warnings() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        zero = paired_change(0, 0, 0)
        one = paired_change(1, 5, 25)
        flat = paired_change(4, -8, 16)  # every difference is -2: sd = 0
        huge = paired_change(395, -395 * 10**6, 395 * 10**12 + 394)  # sd tiny, t about 2e7
    assert zero.mean is None and zero.t is None and zero.dz_ci is None
    assert one.mean == 5.0 and one.sd is None and one.p is None
    assert flat.mean == -2.0 and flat.sd == 0.0 and flat.ci == (-2.0, -2.0)
    assert (flat.t, flat.p, flat.dz, flat.dz_ci, flat.dz_label) == (None, None, None, None, None)
    assert flat.effect_size_json() is None
    assert huge.dz_label == "large" and huge.p == 0.0 and huge.dz_ci is None  # nct cannot be evaluated


def test_effect_size_json_shape() -> None:
    c = paired_change(5, -10, 22)
    assert c.effect_size_json() == {"dz": c.dz, "ci": list(c.dz_ci), "label": "large"}


def test_effect_size_label_boundaries() -> None:
    cases = {
        0.0: "negligible",
        0.1999: "negligible",
        0.2: "small",
        -0.4999: "small",
        0.5: "medium",
        -0.7999: "medium",
        0.8: "large",
        -3.0: "large",
    }
    assert {d: effect_size_label(d) for d in cases} == cases
