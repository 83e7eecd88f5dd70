"""McDonald's omega from a one-factor ML fit, against statsmodels and a closed form."""

from __future__ import annotations

import numpy as np
import pytest
from statsmodels.multivariate.factor import Factor

from burnout.stats.omega import one_factor_omega


def _one_factor_data(n: int, loadings: np.ndarray, scales: np.ndarray, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    f = rng.normal(size=n)
    x = f[:, None] * loadings + rng.normal(size=(n, len(loadings))) * np.sqrt(1 - loadings**2)
    return x * scales


def test_one_factor_fit_against_statsmodels_ml():
    lam = np.array([0.8, 0.7, 0.6, 0.5, 0.75, 0.65])
    x = _one_factor_data(2000, lam, np.array([1, 2, 1.5, 1, 0.5, 3]), seed=1)
    fit = one_factor_omega(np.cov(x, rowvar=False), 2000)
    ref = Factor(corr=np.corrcoef(x, rowvar=False), n_factor=1, method="ml", nobs=2000).fit()
    ref_lam = np.abs(ref.loadings.ravel())
    assert np.allclose(fit.loadings, ref_lam, atol=1e-4)
    assert np.allclose(fit.uniquenesses, ref.uniqueness, atol=1e-4)
    # omega of the raw sum from statsmodels' loadings rescaled by the item SDs
    sd = x.std(axis=0, ddof=1)
    common = (ref_lam * sd).sum() ** 2
    assert fit.omega == pytest.approx(common / (common + (ref.uniqueness * sd**2).sum()), abs=1e-4)
    assert fit.fits and fit.df == 9 and fit.rmsea < 0.03


def test_three_items_closed_form():
    # saturated: lambda_1^2 = r12 r13 / r23 exactly
    r = np.array([[1.0, 0.42, 0.35], [0.42, 1.0, 0.30], [0.35, 0.30, 1.0]])
    fit = one_factor_omega(r, 500)
    assert fit.loadings[0] ** 2 == pytest.approx(0.42 * 0.35 / 0.30, abs=1e-8)
    assert fit.loadings[1] ** 2 == pytest.approx(0.42 * 0.30 / 0.35, abs=1e-8)
    assert fit.df == 0 and fit.rmsea is None and fit.fits
    lam = np.array(fit.loadings)
    assert fit.omega == pytest.approx(lam.sum() ** 2 / (lam.sum() ** 2 + (1 - lam**2).sum()), abs=1e-8)


def test_two_factor_data_do_not_fit_one_factor():
    rng = np.random.default_rng(5)
    f = rng.normal(size=(3000, 2))
    x = np.hstack([f[:, :1] * 0.8, f[:, :1] * 0.8, f[:, :1] * 0.8, f[:, 1:] * 0.8, f[:, 1:] * 0.8, f[:, 1:] * 0.8])
    x = x + rng.normal(size=x.shape) * 0.6
    fit = one_factor_omega(np.cov(x, rowvar=False), 3000)
    assert not fit.fits and fit.rmsea > 0.08


def test_undefined_cases_return_none():
    assert one_factor_omega(np.eye(2), 100) is None
    assert one_factor_omega(np.diag([1.0, 0.0, 1.0]), 100) is None
    assert one_factor_omega(np.eye(4), 3) is None
