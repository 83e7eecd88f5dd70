"""stats/mmrm.py (unstructured MMRM from pattern statistics) against references written another way.

- A REML fit on long data (one row per observation) over explicit per-patient blocks,
  with Sigma parametrised by a matrix exponential and scipy's BFGS on numerical
  gradients: nothing shared with the module (which works from per-pattern aggregates,
  a Cholesky parametrisation and analytic gradients).
- Complete data: the change equals the paired mean difference, its SE the paired-t SE
  and its KR df n - 1 (the paired t-test, scipy).
- Unbalanced data: the KR df against a Satterthwaite df from numerical differentiation
  of the contrast variance and the expected information from dense N x N matrices, and
  KR's adjusted covariance from the same dense matrices.
- The delta adjustment against explicit per-patient completion by conditional expectations.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import linalg, optimize, stats

from burnout.stats import MMRM, PatternStats
from burnout.stats.mixed import pattern_stats_from_long

SCALE = 5
_MU = np.array([4.4, 3.9, 3.6, 3.3])
_COV = np.array([[0.16, 0.1, 0.08, 0.07], [0.1, 0.9, 0.6, 0.55], [0.08, 0.6, 2.1, 1.5], [0.07, 0.55, 1.5, 2.5]])


def _long(seed: int, *, n: int, complete: bool = False) -> pd.DataFrame:
    """Scores in integer units of 1/5 point; dropout depends on the last observed score (MAR)."""
    rng = np.random.default_rng(seed)
    y = np.round(rng.multivariate_normal(_MU, _COV, size=n) * SCALE).astype(int)
    rows = []
    for i in range(n):
        for t in range(4):
            if not complete and t > 0 and rng.random() < (0.15 + 0.05 * (y[i, t - 1] > 4 * SCALE)):
                break  # dropped out
            if not complete and t in (1, 2) and rng.random() < 0.08:
                continue  # intermittent gap
            rows.append((i, t, int(y[i, t])))
    return pd.DataFrame(rows, columns=["patient", "visit", "y"])


def _fit(df: pd.DataFrame) -> MMRM:
    stats_ = pattern_stats_from_long(df.patient.to_numpy(), df.visit.to_numpy(), df.y.to_numpy(), n_timepoints=4)
    return MMRM().fit(stats_, scale=SCALE)


def _blocks(df: pd.DataFrame) -> list[tuple[np.ndarray, np.ndarray]]:
    return [(g.visit.to_numpy(), g.y.to_numpy() / SCALE) for _, g in df.groupby("patient")]


def _neg2_reml(df: pd.DataFrame):
    """-2 REML log-likelihood of Sigma over explicit per-patient blocks (and the GLS means)."""
    blocks = _blocks(df)
    n_obs = sum(len(v) for v, _ in blocks)

    def gls(sig: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
        xtvx, xtvy, logdet = np.zeros((4, 4)), np.zeros(4), 0.0
        for v, y in blocks:
            x = np.eye(4)[v]
            vi = np.linalg.inv(sig[np.ix_(v, v)])
            xtvx += x.T @ vi @ x
            xtvy += x.T @ vi @ y
            logdet += np.linalg.slogdet(sig[np.ix_(v, v)])[1]
        return np.linalg.solve(xtvx, xtvy), xtvx, logdet

    def neg2(sig: np.ndarray) -> float:
        beta, xtvx, logdet = gls(sig)
        quad = sum(float((y - beta[v]) @ np.linalg.solve(sig[np.ix_(v, v)], y - beta[v])) for v, y in blocks)
        return logdet + quad + np.linalg.slogdet(xtvx)[1] + (n_obs - 4) * math.log(2 * math.pi)

    return neg2, gls


def _reference_reml(df: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, float]:
    """The REML fit with Sigma = expm(A), A symmetric, maximised by scipy BFGS on numerical gradients."""
    neg2, gls = _neg2_reml(df)
    iu = np.triu_indices(4)

    def sigma_of(x: np.ndarray) -> np.ndarray:
        a = np.zeros((4, 4))
        a[iu] = x
        a = a + a.T - np.diag(np.diag(a))
        return linalg.expm(a)

    start = linalg.logm(np.diag(df.groupby("visit").y.var().to_numpy() / SCALE**2)).real[iu]
    res = optimize.minimize(lambda x: neg2(sigma_of(x)), start, method="BFGS", options={"gtol": 1e-7})
    sig = sigma_of(res.x)
    return gls(sig)[0], sig, float(res.fun)


def test_mmrm_against_independent_reml_on_long_data() -> None:
    df = _long(11, n=160)
    assert df.groupby("patient").size().nunique() > 1  # really unbalanced
    model = _fit(df)
    mu, sig, neg2 = _reference_reml(df)
    np.testing.assert_allclose(model.means_, mu, atol=1e-5, rtol=0)
    np.testing.assert_allclose(model.sigma_, sig, atol=1e-5, rtol=0)
    assert model.neg2loglik_ == pytest.approx(neg2, abs=1e-6)
    assert model.neg2loglik_ <= neg2 + 1e-9  # the module's optimum is at least as good
    assert model.converged_


def test_complete_data_change_equals_paired_t() -> None:
    df = _long(3, n=40, complete=True)
    wide = df.pivot(index="patient", columns="visit", values="y").to_numpy() / SCALE
    model = _fit(df)
    for t in (1, 2, 3):
        c = model.change(t)
        d = wide[:, t] - wide[:, 0]
        ref = stats.ttest_rel(wide[:, t], wide[:, 0])
        ci = ref.confidence_interval(0.95)
        assert c.estimate == pytest.approx(d.mean(), abs=1e-10)
        assert c.se == pytest.approx(d.std(ddof=1) / math.sqrt(len(d)), rel=1e-7)
        assert c.se == pytest.approx(c.se_unadjusted, rel=1e-9)  # balanced: KR adds nothing
        assert c.df == pytest.approx(len(d) - 1, rel=1e-7)
        assert c.ci == pytest.approx((ci.low, ci.high), rel=1e-7)


def _dense(df: pd.DataFrame, sigma: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Design X (N x 4) and block-diagonal V (N x N) of the long data."""
    blocks = _blocks(df)
    x = np.vstack([np.eye(4)[v] for v, _ in blocks])
    v = linalg.block_diag(*[sigma[np.ix_(vv, vv)] for vv, _ in blocks])
    return x, v


@pytest.mark.parametrize("information", ["observed", "expected"])
def test_kr_against_dense_numerical_satterthwaite(information: str) -> None:
    df = _long(5, n=60)
    model = MMRM(information=information).fit(  # type: ignore[arg-type]
        pattern_stats_from_long(df.patient.to_numpy(), df.visit.to_numpy(), df.y.to_numpy(), n_timepoints=4),
        scale=SCALE,
    )
    sig = model.sigma_
    iu = np.triu_indices(4)
    h = 1e-6

    def with_param(i: int, eps: float, base: np.ndarray = sig) -> np.ndarray:
        s = base.copy()
        s[iu[0][i], iu[1][i]] += eps
        s[iu[1][i], iu[0][i]] = s[iu[0][i], iu[1][i]]
        return s

    x, v = _dense(df, sig)
    vi = np.linalg.inv(v)
    phi = np.linalg.inv(x.T @ vi @ x)
    dv = [(_dense(df, with_param(i, h))[1] - _dense(df, with_param(i, -h))[1]) / (2 * h) for i in range(10)]
    if information == "expected":  # 1/2 tr(P dV_i P dV_j), P the REML projection, on dense N x N matrices
        proj = vi - vi @ x @ phi @ x.T @ vi
        info = np.array([[0.5 * np.trace(proj @ a @ proj @ b) for b in dv] for a in dv])
    else:  # half the Hessian of -2 l_R: second differences of the independent per-patient likelihood
        neg2 = _neg2_reml(df)[0]
        hh = 1e-4
        info = np.empty((10, 10))
        for i in range(10):
            for j in range(10):
                pp, pm = with_param(j, hh, with_param(i, hh)), with_param(j, -hh, with_param(i, hh))
                mp, mm = with_param(j, hh, with_param(i, -hh)), with_param(j, -hh, with_param(i, -hh))
                info[i, j] = (neg2(pp) - neg2(pm) - neg2(mp) + neg2(mm)) / (4 * hh * hh) / 2
    w = np.linalg.inv(info)
    p = [-x.T @ vi @ a @ vi @ x for a in dv]
    q = [[x.T @ vi @ a @ vi @ b @ vi @ x for b in dv] for a in dv]
    lam = phi @ sum(w[i, j] * (q[i][j] - p[i] @ phi @ p[j]) for i in range(10) for j in range(10)) @ phi
    phi_a = phi + 2 * lam

    def phi_at(s: np.ndarray) -> np.ndarray:
        xx, vv = _dense(df, s)
        return np.linalg.inv(xx.T @ np.linalg.solve(vv, xx))

    dphi = [(phi_at(with_param(i, h)) - phi_at(with_param(i, -h))) / (2 * h) for i in range(10)]
    # second differences carry ~1e-6 relative error: the observed case gets a looser tolerance
    tol = 1e-5 if information == "expected" else 1e-4
    for t in (1, 2, 3):
        ell = np.zeros(4)
        ell[t], ell[0] = 1.0, -1.0
        g = np.array([ell @ d @ ell for d in dphi])
        satterthwaite = 2 * float(ell @ phi @ ell) ** 2 / float(g @ w @ g)
        c = model.change(t)
        assert c.df == pytest.approx(satterthwaite, rel=tol)
        assert c.se == pytest.approx(math.sqrt(ell @ phi_a @ ell), rel=tol)
        assert c.se > c.se_unadjusted  # KR inflates with missing data
        assert c.df < 59


def test_delta_adjustment_against_explicit_completion() -> None:
    df = _long(7, n=200)
    model = _fit(df)
    mu, sig = model.means_, model.sigma_
    delta = 0.4
    completed = []
    for v, y in _blocks(df):
        m = np.setdiff1d(np.arange(4), v)
        row = np.empty(4)
        row[v] = y
        if m.size:
            cond = mu[m] + sig[np.ix_(m, v)] @ np.linalg.solve(sig[np.ix_(v, v)], y - mu[v])
            row[m] = cond + delta * (m > v.max())  # post-dropout visits only
        completed.append(row)
    comp = np.array(completed)
    np.testing.assert_allclose(comp.mean(axis=0) - mu, delta * np.array(model.dropouts_) / model.patients_, atol=1e-9)
    for t in (1, 2, 3):
        adj = model.delta_adjusted_change(t, delta)
        assert adj.estimate == pytest.approx(comp[:, t].mean() - comp[:, 0].mean(), abs=1e-9)
        assert adj.se == model.change(t).se
    assert model.dropouts_[0] == 0 and model.dropouts_[3] > model.dropouts_[1] > 0


def test_errors_say_what_is_wrong() -> None:
    never_together = [
        PatternStats((True, False), 3, (9, 0), 30, 30, ((30, 0), (0, 0))),
        PatternStats((False, True), 3, (0, 6), 14, 14, ((0, 0), (0, 14))),
    ]
    with pytest.raises(ValueError, match="never observed in the same patient"):
        MMRM().fit(never_together)
    no_cross = [PatternStats((True, True), 5, (9, 6), 30, 60)]
    with pytest.raises(ValueError, match="cross-product"):
        MMRM().fit(no_cross)
    with pytest.raises(ValueError, match="confidence"):
        MMRM(confidence=1.5)
    # 2 patients x 2 scores = 4 < 2 means + 3 covariances: the message (published in results.json
    # beside a withheld observation count) states the need, not the 4 scores found
    too_few = [PatternStats((True, True), 2, (9, 6), 35, 0, ((41, 27), (27, 18)))]
    with pytest.raises(ValueError, match="too few scores") as err:
        MMRM().fit(too_few)
    assert "4" not in str(err.value) and "at least 5" in str(err.value)
    assert "not fitted" in repr(MMRM())
