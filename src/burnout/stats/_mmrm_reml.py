"""The REML likelihood, its optimiser and the Kenward-Roger pieces behind ``stats.mmrm`` (private).

Formulas and references are in :mod:`burnout.stats.mmrm`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
from scipy import optimize

from burnout.stats.mixed import PatternStats


@dataclass(frozen=True, slots=True)
class _Data:
    """Centred pattern statistics in points: per pattern its observed index, count, sums, cross-products."""

    obs: tuple[np.ndarray, ...]
    n: np.ndarray
    sums: tuple[np.ndarray, ...]
    cross: tuple[np.ndarray, ...]
    centre: np.ndarray
    # the same embedded in k x k (zeros where unobserved) and the patterns grouped by size,
    # so the likelihood runs as a few batched LAPACK calls instead of a loop over patterns
    s_emb: np.ndarray
    xx_emb: np.ndarray
    groups: tuple[tuple[np.ndarray, np.ndarray], ...]


def _centred(patterns: Sequence[PatternStats], keep: tuple[int, ...], scale: int) -> _Data:
    """Centre each timepoint exactly (rationals) on a round value near its mean, then go to floats."""
    sc = Fraction(scale)
    cen = []
    for t in keep:
        n_t = sum(p.patients for p in patterns if p.pattern[t])
        cen.append(Fraction(round(Fraction(sum(Fraction(p.sums[t]) for p in patterns), n_t))))
    obs, n, sums, cross = [], [], [], []
    for p in patterns:
        if p.cross is None:
            raise ValueError("MMRM.fit: PatternStats.cross (the cross-product matrix per pattern) is required.")
        idx = [j for j, t in enumerate(keep) if p.pattern[t]]
        ts = [keep[j] for j in idx]
        s = [Fraction(p.sums[t]) - p.patients * cen[j] for j, t in zip(idx, ts, strict=True)]
        xx = np.empty((len(idx), len(idx)))
        for a, (ja, ta) in enumerate(zip(idx, ts, strict=True)):
            for b, (jb, tb) in enumerate(zip(idx, ts, strict=True)):
                v = Fraction(p.cross[ta][tb]) - cen[ja] * p.sums[tb] - cen[jb] * p.sums[ta]
                xx[a, b] = float((v + p.patients * cen[ja] * cen[jb]) / (sc * sc))
        obs.append(np.array(idx, dtype=int))
        n.append(p.patients)
        sums.append(np.array([float(v / sc) for v in s]))
        cross.append(xx)
    k = len(keep)
    s_emb, xx_emb = np.zeros((len(obs), k)), np.zeros((len(obs), k, k))
    for i, (o, sm, xx) in enumerate(zip(obs, sums, cross, strict=True)):
        s_emb[i, o] = sm
        xx_emb[i][np.ix_(o, o)] = xx
    sizes = np.array([o.size for o in obs])
    groups = tuple(
        (np.flatnonzero(sizes == m), np.array([obs[i] for i in np.flatnonzero(sizes == m)])) for m in np.unique(sizes)
    )
    cen_f = np.array([float(c / sc) for c in cen])
    return _Data(tuple(obs), np.array(n, dtype=float), tuple(sums), tuple(cross), cen_f, s_emb, xx_emb, groups)


def _gls(data: _Data, sigma: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Phi, mu, the embedded inverses G_P (P, k, k) and sum_P n_P log|Sigma_oo| for a given Sigma."""
    gs = np.zeros((data.n.size, k, k))
    logdet = 0.0
    for idx, obs in data.groups:
        so = sigma[obs[:, :, None], obs[:, None, :]]  # (g, m, m): Sigma_oo of each pattern of this size
        gs[idx[:, None, None], obs[:, :, None], obs[:, None, :]] = np.linalg.inv(so)
        logdet += float(data.n[idx] @ np.linalg.slogdet(so)[1])
    phi = np.linalg.inv(np.einsum("p,ptu->tu", data.n, gs))
    return phi, phi @ np.einsum("ptu,pu->t", gs, data.s_emb), gs, logdet


def _objective(data: _Data, sigma: np.ndarray, k: int, df_resid: int) -> tuple[float, np.ndarray]:
    """-2 l_R and its gradient ``M`` with respect to Sigma (``d = tr(M dSigma)``).

    ``C_P`` is formed over all k x k positions; those outside a pattern's observed block meet
    zeros of ``G_P`` in every product, so they never count.
    """
    phi, mu, gs, logdet = _gls(data, sigma, k)
    value = logdet + float(-np.linalg.slogdet(phi)[1]) + df_resid * math.log(2.0 * math.pi)
    sm = np.einsum("pt,u->ptu", data.s_emb, mu)
    c = data.xx_emb - sm - sm.transpose(0, 2, 1) + np.einsum("p,t,u->ptu", data.n, mu, mu)
    value += float(np.sum(gs * c))
    m = np.einsum("p,ptu->tu", data.n, gs - gs @ phi @ gs) - (gs @ c @ gs).sum(axis=0)
    return value, m


def _to_sigma(x: np.ndarray, k: int) -> np.ndarray:
    low = np.zeros((k, k))
    low[np.tril_indices(k)] = x
    low[np.diag_indices(k)] = np.exp(np.diag(low))
    return low @ low.T


def _start(data: _Data, k: int) -> np.ndarray:
    """Cholesky start from the available-case covariance (its diagonal when that is not positive definite)."""
    n, s, xx = np.zeros((k, k)), np.zeros((k, k)), np.zeros((k, k))
    for o, cnt, sm, cr in zip(data.obs, data.n, data.sums, data.cross, strict=True):
        ix = np.ix_(o, o)
        n[ix] += cnt
        s[ix] += sm[:, None]  # row sums of the first index over co-observed patients
        xx[ix] += cr
    with np.errstate(divide="ignore", invalid="ignore"):
        cov = (xx - s * s.T / n) / np.maximum(n - 1, 1)
    if not np.all(np.linalg.eigvalsh(cov) > 1e-8 * max(float(np.max(np.diag(cov))), 1e-12)):
        cov = np.diag(np.maximum(np.diag(cov), 1e-6))
    low = np.linalg.cholesky(cov)
    low[np.diag_indices(k)] = np.log(np.diag(low))
    return low[np.tril_indices(k)]


def _optimise(data: _Data, k: int, x0: np.ndarray, df_resid: int) -> tuple[np.ndarray, float, bool]:
    rows, cols = np.tril_indices(k)
    diag = rows == cols

    def fun(x: np.ndarray) -> tuple[float, np.ndarray]:
        sigma = _to_sigma(x, k)
        value, m = _objective(data, sigma, k, df_resid)
        low = np.linalg.cholesky(sigma)
        grad = (2.0 * m @ low)[rows, cols]
        grad[diag] *= low[rows[diag], cols[diag]]
        return value, grad

    res = optimize.minimize(fun, x0, jac=True, method="BFGS", options={"gtol": 1e-6, "maxiter": 1000})
    return _polish(data, _to_sigma(res.x, k), k, df_resid)


def _pieces(data: _Data, sigma: np.ndarray, phi: np.ndarray, k: int) -> tuple[np.ndarray, ...]:
    """Expected REML information in the linear parametrisation, the ``P_i``, ``Q_ij`` and ``Phi P_i``."""
    gs = _gls(data, sigma, k)[2]  # (P, k, k)
    rows, cols = np.triu_indices(k)
    e = np.zeros((rows.size, k, k))
    e[np.arange(rows.size), rows, cols] = 1.0
    e[np.arange(rows.size), cols, rows] = 1.0
    ge = np.einsum("ptu,iuv->pitv", gs, e)  # G_P E_i
    geg = np.einsum("pitu,puv->pitv", ge, gs)  # G_P E_i G_P
    p = -np.einsum("p,pitv->itv", data.n, geg)
    q = np.einsum("p,pitu,pjuv->ijtv", data.n, ge, geg)
    tr_v = np.einsum("p,pitu,pjut->ij", data.n, ge, ge)
    tr_q = np.einsum("tu,ijut->ij", phi, q)
    phi_p = np.einsum("tu,iuv->itv", phi, p)
    tr_pp = np.einsum("itu,jut->ij", phi_p, phi_p)
    info = 0.5 * (tr_v - 2.0 * tr_q + tr_pp)
    return info, p, q, phi_p


def _polish(data: _Data, sigma: np.ndarray, k: int, df_resid: int) -> tuple[np.ndarray, float, bool]:
    """Fisher scoring in the linear parametrisation from the BFGS optimum (quadratic convergence)."""
    rows, cols = np.triu_indices(k)
    value, m = _objective(data, sigma, k, df_resid)
    for _ in range(8):
        phi = _gls(data, sigma, k)[0]
        info = _pieces(data, sigma, phi, k)[0]
        grad = np.where(rows == cols, 1.0, 2.0) * m[rows, cols]  # d(-2 l_R) / d sigma_st
        step = -0.5 * np.linalg.solve(info, grad)
        trial = sigma.copy()
        trial[rows, cols] += step
        trial[cols, rows] = trial[rows, cols]
        if np.linalg.eigvalsh(trial)[0] <= 0:
            break
        new_value, new_m = _objective(data, trial, k, df_resid)
        if new_value > value + 1e-9 * abs(value):
            break
        sigma, value, m = trial, new_value, new_m
        if np.max(np.abs(step)) < 1e-12 * max(1.0, float(np.max(np.abs(sigma)))):
            break
    return sigma, value, bool(np.max(np.abs(m)) < 1e-6 * max(1.0, float(data.n.sum())))


def _gradient(data: _Data, sigma: np.ndarray, k: int) -> np.ndarray:
    """d(-2 l_R) / d sigma_st over the distinct elements (s <= t)."""
    rows, cols = np.triu_indices(k)
    m = _objective(data, sigma, k, 0)[1]
    return np.where(rows == cols, 1.0, 2.0) * m[rows, cols]


def _observed_information(data: _Data, sigma: np.ndarray, k: int) -> np.ndarray:
    """Half the Hessian of -2 l_R in the linear parametrisation, by central differences of the gradient."""
    rows, cols = np.triu_indices(k)
    h = 1e-5 * float(np.max(np.diag(sigma)))
    hess = np.empty((rows.size, rows.size))
    for i, (r, c) in enumerate(zip(rows, cols, strict=True)):
        step = np.zeros((k, k))
        step[r, c] = step[c, r] = h
        hess[:, i] = (_gradient(data, sigma + step, k) - _gradient(data, sigma - step, k)) / (2.0 * h)
    return 0.25 * (hess + hess.T)


def _kenward_roger(
    data: _Data, sigma: np.ndarray, phi: np.ndarray, k: int, observed: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """KR's adjusted covariance ``Phi_A``, ``W`` (inverse REML information) and the ``P_i``."""
    expected, p, q, phi_p = _pieces(data, sigma, phi, k)
    w = np.linalg.inv(expected if observed is None else observed)
    inner = np.einsum("ij,ijtv->tv", w, q) - np.einsum("ij,itu,juv->tv", w, p, phi_p)
    return phi + 2.0 * phi @ inner @ phi, w, p
