"""Longitudinal measurement invariance (stats.invariance) against independent computations."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from burnout.stats.invariance import fit_longitudinal_cfa, longitudinal_invariance
from burnout.stats.omega import one_factor_omega

P = 5
LAM = np.array([1.0, 0.9, 0.8, 1.1, 0.7])
TAU = np.array([3.0, 2.5, 3.5, 2.8, 3.2])


def _two_occasions(n: int, *, seed: int, tau_shift: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Items at two occasions: the factor falls by 0.5 SD; item 1's intercept shifts by tau_shift."""
    rng = np.random.default_rng(seed)
    f = rng.multivariate_normal([0.0, -0.5], [[1.0, 0.6], [0.6, 1.2]], size=n)
    unique = rng.normal(size=(n, P)) * 0.6
    x1 = TAU + f[:, :1] * LAM + unique + rng.normal(size=(n, P)) * 0.3
    x2 = TAU + f[:, 1:] * LAM + unique + rng.normal(size=(n, P)) * 0.3  # shared unique part: residual covariance
    x2[:, 0] += tau_shift
    data = np.hstack([x1, x2])
    return data.mean(axis=0), np.cov(data, rowvar=False)


def test_single_occasion_fit_against_omega_ml_fit() -> None:
    """One occasion, configural: the same one-factor ML discrepancy as burnout.stats.omega (itself
    checked against statsmodels Factor(method='ml')), so the same chi-square and df."""
    mean, cov = _two_occasions(800, seed=1)
    block = cov[:P, :P]
    ours = fit_longitudinal_cfa(mean[:P], block, 800, p=P, level="configural")
    ref = one_factor_omega(block, 800)
    assert ours.df == ref.df == P * (P - 3) // 2
    assert ours.chi2 == pytest.approx(ref.chi2, rel=1e-4, abs=1e-4)
    # standardized loadings agree too
    std = np.asarray(ours.loadings[0]) / np.sqrt(np.diag(block))
    assert std == pytest.approx(np.asarray(ref.loadings), abs=1e-3)


def test_degrees_of_freedom_by_counting() -> None:
    """q = 10 variables: 65 moments. Free parameters, counted by hand: configural 10 loadings +
    10 intercepts + 10 residual variances + 5 residual covariances + 1 factor correlation = 36;
    metric shares loadings (-5) and frees the second factor variance (+1) = 32; scalar shares
    intercepts (-5) and frees the second factor mean (+1) = 28."""
    mean, cov = _two_occasions(500, seed=2)
    got = longitudinal_invariance(mean, cov, 500, p=P)
    assert got is not None
    assert (got.fits["configural"].df, got.fits["metric"].df, got.fits["scalar"].df) == (29, 33, 37)


def test_invariant_items_hold_scalar_and_a_shifted_intercept_does_not() -> None:
    mean, cov = _two_occasions(1500, seed=3)
    good = longitudinal_invariance(mean, cov, 1500, p=P)
    assert good is not None and good.holds == "scalar"
    assert good.fits["configural"].rmsea < 0.05 and good.fits["scalar"].cfi > 0.99
    mean, cov = _two_occasions(1500, seed=3, tau_shift=-1.0)
    bad = longitudinal_invariance(mean, cov, 1500, p=P)
    assert bad is not None and bad.holds == "metric"
    d = bad.differences["scalar_vs_metric"]
    # the difference test by hand: chi2 and df differences, p from the chi-square survival function
    assert d["chi2"] == pytest.approx(bad.fits["scalar"].chi2 - bad.fits["metric"].chi2, rel=1e-12)
    assert d["df"] == bad.fits["scalar"].df - bad.fits["metric"].df == 4
    assert d["p"] == pytest.approx(stats.chi2.sf(d["chi2"], 4), rel=1e-12) and d["p"] < 1e-6


def test_metric_loadings_are_shared_and_near_the_truth() -> None:
    mean, cov = _two_occasions(4000, seed=4)
    fit = fit_longitudinal_cfa(mean, cov, 4000, p=P, level="metric")
    assert fit.loadings[0] == fit.loadings[1]
    # the first occasion's factor variance is 1, as simulated: loadings on the item scale
    assert np.asarray(fit.loadings[0]) == pytest.approx(LAM, abs=0.06)


def test_too_few_patients_give_none() -> None:
    mean, cov = _two_occasions(500, seed=5)
    assert longitudinal_invariance(mean, cov, 10, p=P) is None
