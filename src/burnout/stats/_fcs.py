"""One FCS chain per imputation: the posterior regression draws and the PMM visits (private).

The algorithm, its references and its validation are in :mod:`burnout.stats.imputation`;
this module is the chain that :func:`burnout.stats.impute_responses` runs once per
imputation (in the helper process too: :class:`_Chains` is pickled with its design).
"""

from __future__ import annotations

import math

import numpy as np

from burnout.stats.pmm import match_donors

RIDGE = 1e-5
"""``mice``'s default ridge penalty in ``norm`` (``ridge = 1e-05``)."""


def _posterior_draw(
    rng: np.random.Generator, xtx: np.ndarray, xty: np.ndarray, yty: float, n: int
) -> tuple[np.ndarray, np.ndarray, float]:
    """``(beta_hat, beta*, sigma*)``: the ridge estimate and one draw from the posterior of a normal regression.

    Algorithm 3.1 of van Buuren (2018) as in ``mice:::.norm.draw``, from ``X'X``, ``X'y``,
    ``y'y`` and n (the rows are not needed): ``sigma*^2 = RSS / g``, ``g ~ chi^2(max(n - q, 1))``,
    ``beta* = beta_hat + sigma* L z`` with ``L L' = V`` and ``V = (X'X + ridge diag(X'X))^{-1}``;
    RSS is ``y'y - 2 b'X'y + b'X'X b`` for the ridge estimate b (an identity for any b). The
    random numbers are drawn in the order chi-square, then ``q`` standard normals.
    """
    q = len(xty)
    v = np.linalg.inv(xtx + np.diag(RIDGE * np.diag(xtx)))
    v = (v + v.T) / 2.0
    coef = v @ xty
    rss = max(yty - 2.0 * float(coef @ xty) + float(coef @ xtx @ coef), 0.0)
    df = max(n - q, 1)
    sigma = math.sqrt(rss / float(rng.chisquare(df)))
    chol = np.linalg.cholesky(v)
    beta = coef + (chol @ rng.standard_normal(q)) * sigma
    return coef, beta, sigma


class _Chains:
    """One FCS chain per imputation over a fixed design: ``run(rng, sweeps)`` returns the completed units."""

    def __init__(self, flat: np.ndarray, cov: np.ndarray, missing: np.ndarray, *, scale: int, donors: int) -> None:
        n, n_y = flat.shape
        cov = cov[:, cov.std(axis=0) > 0]
        self.n_y, self.scale, self.donors = n_y, float(scale), donors
        self.units = np.where(missing, 0.0, flat)
        self.cov = cov
        self.incomplete = [j for j in range(n_y) if missing[:, j].any()]
        # the regression of score column j uses every column but its own (as mice's predictor matrix)
        self.others = {
            j: np.array([0, *(1 + k for k in range(n_y) if k != j), *range(1 + n_y, 1 + n_y + cov.shape[1])])
            for j in self.incomplete
        }
        self.obs_idx = {j: np.flatnonzero(~missing[:, j]) for j in self.incomplete}
        self.mis_idx = {j: np.flatnonzero(missing[:, j]) for j in self.incomplete}

    def run(self, rng: np.random.Generator, sweeps: int) -> np.ndarray:
        units = self.units.copy()  # integer-valued floats: exact below 2**53
        design = np.empty((units.shape[0], 1 + self.n_y + self.cov.shape[1]))
        design[:, 0] = 1.0
        design[:, 1 : 1 + self.n_y] = units / self.scale
        design[:, 1 + self.n_y :] = self.cov
        for j in self.incomplete:
            obs, mis = self.obs_idx[j], self.mis_idx[j]
            units[mis, j] = units[obs, j][rng.integers(0, len(obs), size=len(mis))]
            design[mis, 1 + j] = units[mis, j] / self.scale
        for _ in range(sweeps):
            for j in self.incomplete:
                self._visit(rng, design, units, j)
        return units.astype(np.int64)

    def _visit(self, rng: np.random.Generator, design: np.ndarray, units: np.ndarray, j: int) -> None:
        obs, mis = self.obs_idx[j], self.mis_idx[j]
        rows = design[obs]
        # X'X, X'y and y'y of this regression in one product; einsum, not a BLAS call: a
        # multithreaded gemm is slower at this size on a busy machine and its summation order varies
        gram = np.einsum("ij,ik->jk", rows, rows)
        others = self.others[j]
        # As mice's remove.lindep: a predictor (nearly) constant where y is observed
        # carries no information there and would only be extrapolated from the ridge.
        mean = gram[0, others] / len(obs)
        spread = np.diag(gram)[others] / len(obs) - mean**2
        varying = spread > 1e-12 * np.maximum(1.0, mean**2)
        varying[0] = True
        cols = others[varying]
        y_col = 1 + j
        coef, beta, _ = _posterior_draw(
            rng, gram[np.ix_(cols, cols)], gram[cols, y_col], float(gram[y_col, y_col]), len(obs)
        )
        donor = match_donors(rng, rows[:, cols] @ coef, design[np.ix_(mis, cols)] @ beta, donors=self.donors)
        units[mis, j] = units[obs[donor], j]
        design[mis, y_col] = units[mis, j] / self.scale
