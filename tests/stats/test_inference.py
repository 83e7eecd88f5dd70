"""The honest-inference estimators (issue 16) against independent references.

Clopper-Pearson against scipy's ``binomtest(...).proportion_ci(method="exact")`` and
statsmodels' ``proportion_confint(method="beta")``; regression to the mean against a
bivariate-normal simulation and Barnett et al.'s (2005) closed form; TOST against
statsmodels' ``ttost_paired``; d_av against Lakens' (2013) worked example. The
tolerance of each comparison is written in the test.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats
from scipy.stats import binomtest
from statsmodels.stats.proportion import proportion_confint
from statsmodels.stats.weightstats import ttost_paired

from burnout.stats import (
    clopper_pearson_interval,
    cohen_d_av,
    expected_response_without_change,
    paired_tost,
    proportion,
    regression_to_mean,
    rule_of_three,
)


@pytest.mark.parametrize("confidence", [0.90, 0.95, 0.99])
def test_clopper_pearson_against_scipy_and_statsmodels(confidence: float) -> None:
    for n in (1, 2, 7, 11, 50, 395, 1748, 8270):
        for count in sorted({0, 1, 2, n // 3, n - 1, n} & set(range(n + 1))):
            low, high = clopper_pearson_interval(count, n, confidence=confidence)
            sp = binomtest(count, n).proportion_ci(confidence_level=confidence, method="exact")
            sm_low, sm_high = proportion_confint(count, n, alpha=1 - confidence, method="beta")
            assert low == pytest.approx(sp.low, abs=1e-12) and high == pytest.approx(sp.high, abs=1e-12)
            assert low == pytest.approx(sm_low, abs=1e-12) and high == pytest.approx(sm_high, abs=1e-12)
            assert 0.0 <= low <= count / n <= high <= 1.0


def test_clopper_pearson_at_zero_events_solved_by_hand() -> None:
    # the demo's 0 serious adverse events in 8,270 sessions
    exact = proportion(0, 8270, interval="clopper-pearson")
    assert exact.ci is not None and exact.ci[0] == 0.0
    # 1 - 0.025 ** (1 / n) is the exact upper bound at 0 events, solved by hand
    assert exact.ci[1] == pytest.approx(1 - 0.025 ** (1 / 8270), rel=1e-9)


def test_rule_of_three_is_close_to_the_one_sided_exact_bound() -> None:
    # Hanley & Lippman-Hand (1983): 3/n approximates the 95% one-sided upper bound 1 - 0.05**(1/n)
    for n in (30, 300, 8270):
        bound = rule_of_three(n)
        assert bound is not None
        assert bound == pytest.approx(1 - 0.05 ** (1 / n), rel=0.06)
    assert rule_of_three(0) is None


def test_proportion_rejects_an_unknown_interval() -> None:
    with pytest.raises(ValueError, match="clopper-pearson"):
        proportion(1, 2, interval="exact")  # type: ignore[arg-type]


# --------------------------------------------------------------------------- regression to the mean
def test_regression_to_the_mean_against_a_bivariate_normal_simulation() -> None:
    """No true change: a group selected for baseline >= c moves back by (1 - rho)(selected - mu)."""
    rng = np.random.default_rng(16)
    mu, sigma, rho, n = 4.5, 0.9, 0.65, 400_000
    cov = sigma**2 * np.array([[1.0, rho], [rho, 1.0]])
    before, after = rng.multivariate_normal([mu, mu], cov, size=n).T
    selected = before >= 4.8
    simulated = float((after[selected] - before[selected]).mean())
    r = regression_to_mean(
        reference_mean=float(before.mean()),
        selected_mean=float(before[selected].mean()),
        rho=rho,
        reference_sd=float(before.std(ddof=1)),
        observed_change=simulated,
    )
    # Monte Carlo SE of the simulated mean change is about 0.002 here
    assert r.expected_change == pytest.approx(simulated, abs=0.006)
    assert r.share_of_observed_change == pytest.approx(1.0, abs=0.02)
    # and Barnett et al.'s closed form for a cut-off: sigma (1 - rho) phi(z) / (1 - Phi(z))
    z = (4.8 - mu) / sigma
    closed = -sigma * (1 - rho) * stats.norm.pdf(z) / stats.norm.sf(z)
    assert r.expected_change == pytest.approx(closed, abs=0.006)


def test_regression_to_the_mean_share_is_none_against_the_direction() -> None:
    r = regression_to_mean(reference_mean=4.0, selected_mean=5.0, rho=0.6, observed_change=0.3)
    assert r.expected_change == pytest.approx(-0.4) and r.share_of_observed_change is None
    with pytest.raises(ValueError, match="rho"):
        regression_to_mean(reference_mean=4.0, selected_mean=5.0, rho=1.2)


# --------------------------------------------------------------------------- TOST
@pytest.mark.parametrize(("shift", "margin"), [(-0.05, 0.2), (-0.23, 0.2), (0.1, 0.3), (0.0, 0.05)])
def test_paired_tost_against_statsmodels_ttost_paired(shift: float, margin: float) -> None:
    rng = np.random.default_rng(7)
    before = rng.normal(4.0, 1.0, 395)
    after = before + rng.normal(shift, 0.8, 395)
    d = after - before
    got = paired_tost(float(d.mean()), float(d.std(ddof=1)), len(d), margin=margin)
    assert got is not None
    p, lower, upper = ttost_paired(after, before, -margin, margin)
    assert got.p == pytest.approx(p, abs=1e-12)
    assert got.t_lower == pytest.approx(lower[0], rel=1e-12) and got.t_upper == pytest.approx(upper[0], rel=1e-12)
    # equivalence <=> the 90% CI inside the margins (the same decision, computed another way)
    inside = -margin < got.ci[0] and got.ci[1] < margin
    assert got.equivalent == inside == (p < 0.05)


def test_paired_tost_is_none_without_spread() -> None:
    assert paired_tost(0.0, 0.0, 10, margin=0.2) is None
    assert paired_tost(0.0, 1.0, 1, margin=0.2) is None


# --------------------------------------------------------------------------- d_av
def test_d_av_against_lakens_2013_worked_example() -> None:
    """Lakens (2013, Front Psychol 4:863), Table 1 movie data: M 8.7 (SD 0.82) and 7.7 (SD 0.95),
    d_av = 1.13 as printed (the mean difference over the average SD)."""
    got = cohen_d_av(8.7 - 7.7, 0.82, 0.95)
    assert got == pytest.approx(1.13, abs=0.005)
    assert cohen_d_av(1.0, 0.0, 0.0) is None


def test_expected_response_without_change_against_simulation() -> None:
    """No true change: the share whose observed fall passes 1 point, among patients selected on
    their baseline, from a bivariate normal simulation (Monte Carlo SE about 0.001)."""
    rng = np.random.default_rng(61)
    mu, sigma, rho, n = 4.5, 0.9, 0.65, 400_000
    cov = sigma**2 * np.array([[1.0, rho], [rho, 1.0]])
    before, after = rng.multivariate_normal([mu, mu], cov, size=n).T
    before_r = np.round(before * 5) / 5  # baselines on a 0.2 grid, as the histogram the engine sends
    keep = before_r >= 4.8
    simulated_fall = float(((before[keep] - after[keep]) >= 1.0).mean())
    values, counts = np.unique(before_r[keep], return_counts=True)
    got = expected_response_without_change(
        dict(zip(values.tolist(), counts.tolist(), strict=True)),
        mean=mu,
        sd=sigma,
        rho=rho,
        min_change=1.0,
        direction=-1,
    )
    assert got == pytest.approx(simulated_fall, abs=0.01)  # the grid (+/-0.1) costs a little
    # and a rise for a subscale whose good direction is up, selected low
    low = before_r <= 4.0
    simulated_rise = float(((after[low] - before[low]) >= 1.0).mean())
    values, counts = np.unique(before_r[low], return_counts=True)
    got = expected_response_without_change(
        dict(zip(values.tolist(), counts.tolist(), strict=True)),
        mean=mu,
        sd=sigma,
        rho=rho,
        min_change=1.0,
        direction=1,
    )
    assert got == pytest.approx(simulated_rise, abs=0.01)
    assert expected_response_without_change({}, mean=mu, sd=sigma, rho=rho, min_change=1.0, direction=1) is None
