"""The threshold and profile shares expected with no true change (stats.no_change)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from burnout.stats.inference import expected_response_without_change
from burnout.stats.no_change import expected_below_threshold, expected_leaving_burnout, no_change_model

MEAN = (3.2, 2.4, 4.1)
SD = np.array([1.1, 1.3, 1.0])
CORR = np.array([[1.0, 0.5, -0.3], [0.5, 1.0, -0.35], [-0.3, -0.35, 1.0]])
COV = CORR * np.outer(SD, SD)
RHO = (0.65, 0.60, 0.67)
THRESHOLD = {"exhaustion_min": 3.6, "cynicism_min": 2.8, "efficacy_max": 3.8}


def _classical_simulation(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """X = T + E1, Y = T + E2 drawn directly (no conditional formula): the independent reference."""
    rng = np.random.default_rng(seed)
    error_var = (1 - np.asarray(RHO)) * SD**2
    true = rng.multivariate_normal(MEAN, COV - np.diag(error_var), size=n)
    x = true + rng.normal(size=(n, 3)) * np.sqrt(error_var)
    y = true + rng.normal(size=(n, 3)) * np.sqrt(error_var)
    return x, y


def _meets(z: np.ndarray) -> np.ndarray:
    t = THRESHOLD
    return (z[:, 0] >= t["exhaustion_min"]) & ((z[:, 1] >= t["cynicism_min"]) | (z[:, 2] <= t["efficacy_max"]))


def test_expected_below_threshold_against_monte_carlo_of_the_classical_model() -> None:
    x, y = _classical_simulation(60_000, seed=1)
    selected = _meets(x)
    xs, ys = x[selected][:3000], y[selected][:3000]
    got = expected_below_threshold({tuple(row): 1 for row in xs}, no_change_model(MEAN, COV, RHO), **THRESHOLD)
    observed = float(np.mean(~_meets(ys)))
    # Bernoulli SE over 3,000 follow-ups is <= 0.0092; 3.5 SE
    assert got == pytest.approx(observed, abs=0.032)
    assert 0.2 < observed < 0.8  # regression to the mean moves a sizeable share out


def test_expected_leaving_burnout_against_monte_carlo_of_the_classical_model() -> None:
    x, y = _classical_simulation(60_000, seed=2)
    cut_e, cut_c = 4.0, 3.0
    burnout = (x[:, 0] >= cut_e) & (x[:, 1] >= cut_c)
    xs, ys = x[burnout][:3000], y[burnout][:3000]
    got = expected_leaving_burnout(
        {tuple(row): 1 for row in xs}, no_change_model(MEAN, COV, RHO), exhaustion_cut=cut_e, cynicism_cut=cut_c
    )
    observed = float(np.mean(~((ys[:, 0] >= cut_e) & (ys[:, 1] >= cut_c))))
    assert got == pytest.approx(observed, abs=0.032)  # as above: 3.5 Bernoulli SE
    assert observed > 0.2


def test_one_subscale_reduces_to_the_bivariate_response_formula() -> None:
    """With uncorrelated subscales, leaving E >= cut equals expected_response_without_change's
    P(fall >= x - cut) at each baseline: the same bivariate normal written another way."""
    cov = np.diag(SD**2)
    model = no_change_model(MEAN, cov, RHO)
    x = (5.0, 9.0, 4.0)  # cynicism far above its cut: only exhaustion can leave
    got = expected_leaving_burnout({x: 1}, model, exhaustion_cut=4.0, cynicism_cut=-50.0)
    # leaving means Y_E < 4.0, i.e. a fall of more than 1.0 from 5.0
    ref = expected_response_without_change({5.0: 1}, mean=MEAN[0], sd=SD[0], rho=RHO[0], min_change=1.0, direction=-1)
    assert got == pytest.approx(ref, abs=1e-9)


def test_rho_one_leaves_nobody_and_rho_zero_is_the_reference_distribution() -> None:
    model = no_change_model(MEAN, COV, (0.999999, 0.999999, 0.999999))
    assert expected_leaving_burnout({(5.0, 4.0, 3.0): 1}, model, exhaustion_cut=4.0, cynicism_cut=3.0) < 1e-6
    # rho = 0 (only possible for uncorrelated subscales): the follow-up forgets the baseline,
    # P(not met) = 1 - P(E >= e) (1 - P(C < c) P(PE > p)) by independence, entered by hand
    model = no_change_model(MEAN, np.diag(SD**2), (0.0, 0.0, 0.0))
    got = expected_below_threshold({(6.0, 6.0, 0.0): 1}, model, **THRESHOLD)
    t, norm = THRESHOLD, stats.norm
    p_e = norm.sf(t["exhaustion_min"], MEAN[0], SD[0])
    neither = norm.cdf(t["cynicism_min"], MEAN[1], SD[1]) * norm.sf(t["efficacy_max"], MEAN[2], SD[2])
    assert got == pytest.approx(1 - p_e * (1 - neither), abs=1e-5)


def test_reliabilities_too_low_for_the_correlations_fail_with_a_fix() -> None:
    cov = np.array([[1.0, 0.9, 0.0], [0.9, 1.0, 0.0], [0.0, 0.0, 1.0]])
    with pytest.raises(ValueError, match="set larger ones"):
        no_change_model((0, 0, 0), cov, (0.5, 0.5, 0.5))
    with pytest.raises(ValueError, match="rho"):
        no_change_model((0, 0, 0), cov, (1.0, 0.5, 0.5))
    assert expected_leaving_burnout({}, no_change_model(MEAN, COV, RHO), exhaustion_cut=0, cynicism_cut=0) is None
