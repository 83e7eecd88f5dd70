"""Longitudinal measurement invariance (stats.invariance) against independent computations:
statsmodels' one-factor ML fit, exact population moments written out by hand, df by counting."""

from __future__ import annotations

import contextlib

import numpy as np
import pytest
from scipy import stats
from statsmodels.multivariate.factor import Factor

from burnout.stats import invariance
from burnout.stats.invariance import Level, fit_longitudinal_cfa, longitudinal_invariance

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


def _population_two_occasions() -> tuple[np.ndarray, np.ndarray]:
    """The exact means and covariance of the model ``_two_occasions`` samples from, by hand.

    Loadings LAM at both occasions, factor means (0, -0.5), variances 1 and 1.2,
    covariance 0.6; residual variance 0.36 + 0.09 per item and occasion, 0.36 of it shared
    by the same item across occasions; intercepts TAU. Every level fits these exactly.
    """
    big = np.zeros((2 * P, 2))
    big[:P, 0] = big[P:, 1] = LAM
    phi = np.array([[1.0, 0.6], [0.6, 1.2]])
    theta = np.diag(np.full(2 * P, 0.36 + 0.09))
    for i in range(P):
        theta[i, P + i] = theta[P + i, i] = 0.36
    return np.tile(TAU, 2) + big @ np.array([0.0, -0.5]), big @ phi @ big.T + theta


def test_single_occasion_fit_against_statsmodels_factor_ml() -> None:
    """One occasion, configural, is the one-factor ML model: statsmodels' Factor(method="ml") on
    the correlation matrix gives the standardized loadings, and chi2 = (n - 1) F_ML written out
    from its loadings and uniquenesses (F_ML is scale-free, so correlation or covariance alike).
    The two agree to about 1e-8; the tolerances leave the optimisers' own stopping room."""
    n = 800
    mean, cov = _two_occasions(n, seed=1)
    block = cov[:P, :P]
    sd = np.sqrt(np.diag(block))
    corr = block / np.outer(sd, sd)
    ref = Factor(corr=corr, n_factor=1, method="ml", nobs=n).fit()
    lam = np.asarray(ref.loadings)[:, 0]
    lam = lam * np.sign(lam.sum())
    implied = np.outer(lam, lam) + np.diag(ref.uniqueness)
    f_ml = np.linalg.slogdet(implied)[1] - np.linalg.slogdet(corr)[1] + np.trace(corr @ np.linalg.inv(implied)) - P
    ours = fit_longitudinal_cfa(mean[:P], block, n, p=P, level="configural")
    assert ours.df == P * (P - 3) // 2
    assert ours.chi2 == pytest.approx((n - 1) * f_ml, rel=1e-6)
    assert np.asarray(ours.loadings[0]) / sd == pytest.approx(lam, abs=1e-5)


@pytest.mark.parametrize("level", ["configural", "metric", "scalar"])
def test_exact_population_moments_against_the_generating_values(level: str) -> None:
    """Moments the model reproduces exactly: chi2 = 0 (to 1e-6), CFI 1, RMSEA 0, and the loadings
    are the generating ones (to 1e-5). Configural fixes both factor variances at 1, so its second
    occasion's loadings are LAM * sqrt(1.2)."""
    mean, cov = _population_two_occasions()
    fit = fit_longitudinal_cfa(mean, cov, 1000, p=P, level=level)
    assert fit.converged
    assert fit.chi2 == pytest.approx(0.0, abs=1e-6)
    assert fit.cfi == 1.0 and fit.rmsea == 0.0
    second = LAM * np.sqrt(1.2) if level == "configural" else LAM
    assert np.asarray(fit.loadings[0]) == pytest.approx(LAM, abs=1e-5)
    assert np.asarray(fit.loadings[1]) == pytest.approx(second, abs=1e-5)


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


def _implied_element_by_element(spec: invariance._Spec, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The implied moments of one parameter vector filled cell by cell in Python loops (the
    module's first implementation): the reference the stacked index arrays must match bit for bit."""
    p, t = spec.p, spec.t
    v, at = {}, 0
    for name, size in spec.sizes.items():
        v[name], at = x[at : at + size], at + size
    lam = np.tile(v["lam"], t) if v["lam"].size == p else v["lam"]
    tau = np.tile(v["tau"], t) if v["tau"].size == p else v["tau"]
    big = np.zeros((p * t, t))
    for o in range(t):
        big[o * p : (o + 1) * p, o] = lam[o * p : (o + 1) * p]
    sd = np.ones(t)
    if v["fvar"].size:
        sd[1:] = np.sqrt(v["fvar"])
    phi = np.eye(t)
    pairs = [(a, b) for a in range(t) for b in range(a + 1, t)]
    for (a, b), r in zip(pairs, v["fcorr"], strict=True):
        phi[a, b] = phi[b, a] = r
    phi = phi * np.outer(sd, sd)
    theta = np.diag(v["theta"])
    for j, (a, b) in enumerate(pairs):
        for i in range(p):
            theta[a * p + i, b * p + i] = theta[b * p + i, a * p + i] = v["rescov"][j * p + i]
    kappa = np.zeros(t)
    if v["fmean"].size:
        kappa[1:] = v["fmean"]
    return tau + big @ kappa, big @ phi @ big.T + theta


def _discrepancy_of_one(mean: np.ndarray, cov: np.ndarray, logdet_s: float, mu: np.ndarray, sigma: np.ndarray) -> float:
    """The ML discrepancy of one implied (mu, sigma), as the module first computed it."""
    try:
        chol = np.linalg.cholesky(sigma)
    except np.linalg.LinAlgError:
        return 1e10
    logdet = 2.0 * float(np.sum(np.log(np.diag(chol))))
    inv = np.linalg.inv(sigma)
    d = mean - mu
    return float(logdet + np.trace(cov @ inv) - logdet_s - cov.shape[0] + d @ inv @ d)


def _reference_objective(self: invariance._Objective, x: np.ndarray) -> float:
    mu, sigma = _implied_element_by_element(self.spec, x)
    return _discrepancy_of_one(self.mean, self.cov, self.logdet_s, mu, sigma)


def _random_parameters(spec: invariance._Spec, rng: np.random.Generator, m: int) -> np.ndarray:
    xs = rng.normal(size=(m, spec.k))
    lower = np.array([-np.inf if lo is None else lo for lo, _ in spec.bounds()])
    return np.maximum(xs, lower + np.abs(rng.normal(size=(m, spec.k))))  # variances positive, as the bounds keep them


@pytest.mark.parametrize("level", ["configural", "metric", "scalar"])
@pytest.mark.parametrize(("p", "t"), [(5, 2), (6, 2), (4, 3), (3, 1), (2, 4)])
def test_stacked_moments_and_discrepancies_bitwise_against_one_by_one(level: Level, p: int, t: int) -> None:
    """A stack of 60 random parameter vectors gives, row by row, the same bytes as the loop-built
    reference one vector at a time: implied means, covariances and the ML discrepancy, 1e10 for
    the rows whose covariance is not positive definite (random residual covariances make some).
    Tolerance: none, issue 15 keeps results.json identical."""
    spec = invariance._Spec(level, p, t)
    rng = np.random.default_rng(p * 10 + t)
    mean, cov = rng.normal(size=p * t), np.eye(p * t) + 0.3
    logdet_s = float(np.linalg.slogdet(cov)[1])
    xs = _random_parameters(spec, rng, 60)
    mu, sigma = spec.implied(xs)
    values = invariance._discrepancies(mean, cov, logdet_s, mu, sigma)
    refs = [_implied_element_by_element(spec, x) for x in xs]
    assert mu.tobytes() == np.array([r[0] for r in refs]).tobytes()
    assert sigma.tobytes() == np.array([r[1] for r in refs]).tobytes()
    expected = np.array([_discrepancy_of_one(mean, cov, logdet_s, *r) for r in refs])
    assert values.tobytes() == expected.tobytes()
    assert values.max() == 1e10 or t == 1  # the fallback was exercised (one occasion: no residual covariances)
    assert invariance._Objective(spec, mean, cov, logdet_s)(xs[0]) == expected[0]


@pytest.mark.parametrize("level", ["configural", "metric", "scalar"])
def test_fit_identical_to_the_one_by_one_loop_built_objective(level: Level, monkeypatch: pytest.MonkeyPatch) -> None:
    """The whole fit (chi2, CFI, RMSEA, loadings, convergence) is equal, not close, when scipy
    evaluates the loop-built reference objective point by point, as before the stacked finite
    differences: the same numbers, the same optimiser path."""
    mean, cov = _two_occasions(600, seed=6)
    ours = fit_longitudinal_cfa(mean, cov, 600, p=P, level=level)
    monkeypatch.setattr(invariance._Objective, "__call__", _reference_objective)
    monkeypatch.setattr(invariance, "_SCIPY_MAPS_DIFFERENCES", False)
    assert fit_longitudinal_cfa(mean, cov, 600, p=P, level=level) == ours


def test_one_blas_thread_inside_the_fit_and_restored_after() -> None:
    """Every loaded OpenBLAS runs one thread inside the block, nested blocks included, and its
    own count again after the outermost ends."""
    setters = invariance._openblas_thread_setters()
    if not setters:
        pytest.skip("no OpenBLAS thread functions found in this process (not Linux, or another BLAS)")
    original = [get() for get, _ in setters]
    try:
        for _, set_ in setters:  # two threads first: with one already, a missing restore would pass
            set_(2)
        before = [get() for get, _ in setters]
        if before != [2] * len(setters):
            pytest.skip("OpenBLAS caps its threads at one on this machine: nothing to restore")
        with invariance._one_blas_thread():
            with invariance._one_blas_thread():
                assert [get() for get, _ in setters] == [1] * len(setters)
            assert [get() for get, _ in setters] == [1] * len(setters)
        assert [get() for get, _ in setters] == before
    finally:
        for (_, set_), count in zip(setters, original, strict=True):
            set_(count)


def test_fit_identical_with_blas_on_its_own_thread_count(monkeypatch: pytest.MonkeyPatch) -> None:
    """The fit is equal, not close, when OpenBLAS keeps its own thread count: one thread only
    saves the thread pool's wake-ups, it changes no arithmetic."""
    mean, cov = _two_occasions(600, seed=7)
    ours = fit_longitudinal_cfa(mean, cov, 600, p=P, level="configural")
    monkeypatch.setattr(invariance, "_one_blas_thread", contextlib.nullcontext)
    assert fit_longitudinal_cfa(mean, cov, 600, p=P, level="configural") == ours
