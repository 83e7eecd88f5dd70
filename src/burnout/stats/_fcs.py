"""One FCS chain per imputation: the posterior regression draws and the PMM visits (private).

The algorithm, its references and its validation are in :mod:`burnout.stats.imputation`;
this module is the chain that :func:`burnout.stats.impute_responses` runs once per
imputation (in the helper process too: :class:`_Chains` is pickled with its design).

Speed without changing a bit (issue 15: results.json byte-identical): what is the same
in every chain and sweep is computed once per design (:class:`_VisitPlan`: the gram
entries of the columns that never change on a column's observed rows, the gather
indices), and each visit recomputes the rest with the same floating-point operations in
the same order (tests/stats/test_fcs.py checks the gram bit for bit).
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass

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


def _products(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a'b`` by einsum, each entry the sequential sum over the rows of ``a[i, j] * b[i, k]``.

    einsum, not a BLAS call: a multithreaded gemm is slower at this size on a busy machine
    and its summation order varies. With at least 2 columns in each operand einsum sums
    every entry in row order, whatever the other columns, so an entry of a product of
    some columns has the same bits as in the product of all (tests/stats/test_fcs.py);
    a 1-column operand takes another path, hence the callers' padding.
    """
    return np.einsum("ij,ik->jk", a, b)


def _flat(rows: np.ndarray, cols: np.ndarray, width: int) -> np.ndarray:
    """Flat indices of ``x[np.ix_(rows, cols)]`` in a C-ordered ``x`` of ``width`` columns: ``take`` is faster."""
    return (rows[:, None] * width + cols[None, :]).ravel()


@dataclass(frozen=True)
class _VisitPlan:
    """What one score column's visit needs that is the same in every chain and sweep.

    The observed rows of column j keep their values in the columns ``fixed`` (intercept,
    covariates, column j itself and every score column observed on all of them), so the
    gram entries between fixed columns are computed once; each visit recomputes only the
    entries of the ``changing`` columns, whose imputed values move, in one product of
    those columns with all (``wide``). The ``take_*`` and ``put_*`` arrays are flat indices
    that replace per-visit ``np.ix_`` gathers and scatters.
    """

    obs: np.ndarray
    mis: np.ndarray
    others: np.ndarray
    """The regression's predictors: every design column but column j's own."""
    n_changing: int
    gram: np.ndarray
    """The gram of ``design[obs]``: exact in the fixed x fixed entries, the rest set per visit."""
    wide: np.ndarray
    """``design[obs]`` as [fixed columns, changing columns]: the fixed part kept, the rest set per visit."""
    take_changing: np.ndarray
    """``design[obs][:, changing]``, an intercept column after a lone changing column (einsum's >= 2)."""
    put_cross: np.ndarray
    put_cross_t: np.ndarray
    put_changing: np.ndarray


def _visit_plan(template: np.ndarray, missing: np.ndarray, j: int) -> _VisitPlan:
    """The plan of score column j's visits; ``template`` is a design with any values in the missing cells."""
    n_y, width = missing.shape[1], template.shape[1]
    obs, mis = np.flatnonzero(~missing[:, j]), np.flatnonzero(missing[:, j])
    # the regression of score column j uses every column but its own (as mice's predictor matrix)
    others = np.array([0, *(1 + k for k in range(n_y) if k != j), *range(1 + n_y, width)])
    changing = np.array([1 + k for k in range(n_y) if k != j and missing[obs, k].any()], dtype=np.intp)
    fixed = np.setdiff1d(np.arange(width), changing)
    padded = np.concatenate([changing, [0] * (len(changing) == 1)]).astype(np.intp)
    rows = template[obs]
    return _VisitPlan(
        obs=obs,
        mis=mis,
        others=others,
        n_changing=len(changing),
        gram=_products(rows, rows),
        wide=np.ascontiguousarray(rows[:, np.concatenate([fixed, padded])]),
        take_changing=_flat(obs, padded, width),
        put_cross=_flat(changing, fixed, width),
        put_cross_t=_flat(fixed, changing, width),
        put_changing=_flat(changing, changing, width),
    )


@dataclass(frozen=True)
class _Predictors:
    """The gathers of one regression's predictor columns ``cols`` (design and gram)."""

    cols: np.ndarray
    take_obs: np.ndarray
    take_mis: np.ndarray
    xtx: tuple[np.ndarray, ...]


_UNPICKLED_PLANS: dict[str, tuple[dict[int, _VisitPlan], dict[tuple[int, bytes], _Predictors]]] = {}
"""The plans and predictor gathers of the last design unpickled in this process (the helper
gets the design with every chunk of chains), by the design's token: built once, not per chunk."""


class _Chains:
    """One FCS chain per imputation over a fixed design: ``run(rng, sweeps)`` returns the completed units."""

    def __init__(self, flat: np.ndarray, cov: np.ndarray, missing: np.ndarray, *, scale: int, donors: int) -> None:
        n, n_y = flat.shape
        cov = cov[:, cov.std(axis=0) > 0]
        self.n_y, self.scale, self.donors = n_y, float(scale), donors
        self.units = np.where(missing, 0.0, flat)
        self.cov = cov
        self.missing = missing
        self.incomplete = [j for j in range(n_y) if missing[:, j].any()]
        self._plans: dict[int, _VisitPlan] | None = None
        self._predictors: dict[tuple[int, bytes], _Predictors] = {}
        self._token = uuid.uuid4().hex  # names this design in the helper process's cache
        self._unpickled = False

    def __getstate__(self) -> dict[str, object]:
        # the plans hold the observed rows of every column (MBs at 10,000 rows): not
        # pickled with every chunk of chains; the helper process builds them once
        return {**self.__dict__, "_plans": None, "_predictors": {}, "_unpickled": True}

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__dict__.update(state)
        cached = _UNPICKLED_PLANS.get(self._token)
        if cached is not None:
            self._plans, self._predictors = cached

    def _visit_plans(self) -> dict[int, _VisitPlan]:
        if self._plans is None:
            template = self._design(self.units)
            self._plans = {j: _visit_plan(template, self.missing, j) for j in self.incomplete}
            if self._unpickled:
                _UNPICKLED_PLANS.clear()  # one design at a time: the last one's chunks
                _UNPICKLED_PLANS[self._token] = (self._plans, self._predictors)
        return self._plans

    def _predictors_of(self, j: int, plan: _VisitPlan, varying: np.ndarray) -> _Predictors:
        """The gathers of the predictors ``varying`` of column j, made once per pattern (one or two per column)."""
        key = (j, varying.tobytes())
        if key not in self._predictors:
            cols = plan.others[varying]
            width = 1 + self.n_y + self.cov.shape[1]
            self._predictors[key] = _Predictors(
                cols=cols,
                take_obs=_flat(plan.obs, cols, width),
                take_mis=_flat(plan.mis, cols, width),
                xtx=np.ix_(cols, cols),
            )
        return self._predictors[key]

    def _design(self, units: np.ndarray) -> np.ndarray:
        design = np.empty((units.shape[0], 1 + self.n_y + self.cov.shape[1]))
        design[:, 0] = 1.0
        design[:, 1 : 1 + self.n_y] = units / self.scale
        design[:, 1 + self.n_y :] = self.cov
        return design

    def run(self, rng: np.random.Generator, sweeps: int) -> np.ndarray:
        plans = self._visit_plans()
        units = self.units.copy()  # integer-valued floats: exact below 2**53
        design = self._design(units)
        wide = {j: plan.wide.copy() for j, plan in plans.items()}  # this chain's own scratch
        for j in self.incomplete:
            obs, mis = plans[j].obs, plans[j].mis
            units[mis, j] = units[obs, j][rng.integers(0, len(obs), size=len(mis))]
            design[mis, 1 + j] = units[mis, j] / self.scale
        for _ in range(sweeps):
            for j in self.incomplete:
                self._visit(rng, design, units, j, plans[j], wide[j])
        return units.astype(np.int64)

    @staticmethod
    def _gram(design: np.ndarray, plan: _VisitPlan, wide: np.ndarray) -> np.ndarray:
        """``design[obs]' design[obs]`` with the same bits as the einsum of all its columns."""
        gram = plan.gram.copy()
        n = plan.n_changing
        if n:
            now = design.take(plan.take_changing).reshape(len(plan.obs), -1)
            n_fixed = wide.shape[1] - now.shape[1]
            wide[:, n_fixed:] = now
            block = _products(now, wide)[:n]
            gram.put(plan.put_cross, block[:, :n_fixed])
            gram.put(plan.put_cross_t, block[:, :n_fixed].T)
            gram.put(plan.put_changing, block[:, n_fixed : n_fixed + n])
        return gram

    def _visit(
        self,
        rng: np.random.Generator,
        design: np.ndarray,
        units: np.ndarray,
        j: int,
        plan: _VisitPlan,
        wide: np.ndarray,
    ) -> None:
        obs, mis, others = plan.obs, plan.mis, plan.others
        # X'X, X'y and y'y of this regression in one product
        gram = self._gram(design, plan, wide)
        # As mice's remove.lindep: a predictor (nearly) constant where y is observed
        # carries no information there and would only be extrapolated from the ridge.
        mean = gram[0, others] / len(obs)
        spread = np.diag(gram)[others] / len(obs) - mean**2
        varying = spread > 1e-12 * np.maximum(1.0, mean**2)
        varying[0] = True
        predictors = self._predictors_of(j, plan, varying)
        cols, y_col = predictors.cols, 1 + j
        coef, beta, _ = _posterior_draw(
            rng, gram[predictors.xtx], gram[cols, y_col], float(gram[y_col, y_col]), len(obs)
        )
        rows_obs = design.take(predictors.take_obs).reshape(len(obs), -1)
        rows_mis = design.take(predictors.take_mis).reshape(len(mis), -1)
        donor = match_donors(rng, rows_obs @ coef, rows_mis @ beta, donors=self.donors)
        donated = units[obs[donor], j]
        units[mis, j] = donated
        design[mis, y_col] = donated / self.scale
