"""Multiple imputation of missing subscale scores by chained equations (FCS, Bayesian linear regression).

Method
------
Fully conditional specification (van Buuren & Groothuis-Oudshoorn 2011, the ``mice``
algorithm) with the Bayesian normal linear regression imputation of van Buuren,
*Flexible Imputation of Missing Data*, 2nd ed. (2018), Algorithm 3.1 (``mice``'s
``norm``). Each incomplete score column ``y`` is regressed on every other score column
(their current completed values) and the covariates; each visit

1. fits least squares on the rows where ``y`` is observed, with ``mice``'s small ridge
   ``kappa = 1e-5`` on the diagonal: ``V = (X'X + kappa diag(X'X))^{-1}``,
   ``beta_hat = V X'y``;
2. draws the residual variance from its posterior, ``sigma*^2 = RSS / g`` with
   ``g ~ chi^2(n_obs - q)``;
3. draws the coefficients from their posterior, ``beta* = beta_hat + sigma* L z``,
   ``L L' = V``, ``z ~ N(0, I)``;
4. imputes ``y_mis = X_mis beta* + sigma* e``, ``e ~ N(0, I)``.

So every imputation reflects the uncertainty of the regression parameters, not only
the residual noise ("proper" imputation, Rubin 1987). Missing values start as random
draws from the column's observed values; each of the ``m`` imputations is its own
chain of ``iterations`` sweeps over the incomplete columns, driven by its own child of
``np.random.default_rng(seed)`` (``Generator.spawn``), so the result depends only on the
data and the seed.

Imputed scores are continuous and are not rounded or clipped to 0-6 (rounding biases
means and variances; van Buuren 2018, sec. 6.1.2). A patient's response on a subscale is
the change from the first to the last assessment of at least ``min_change`` in the
good direction: decided on the exact integer scores when both were observed (these
decisions are made by the engine and passed in) and on the completed continuous
values otherwise.

Determinism: the rows are sorted by their own content before imputation, so the
result does not depend on the order in which the engine returned them (nor on patient
ids, which are never read); the cross-products are formed with ``np.einsum`` (not a
multithreaded BLAS call) so the floating-point summation order is fixed.

Validated in ``tests/stats/test_imputation.py``: the parameter draws against the analytic
posterior moments, recovery of a known response rate under MAR dropout where the
complete-case rate is biased, reproducibility from the seed, and that observed
decisions are never changed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["ImputationSummary", "draw_regression", "impute_responses"]

RIDGE = 1e-5
"""``mice``'s default ridge penalty in ``norm`` (``ridge = 1e-05``)."""


@dataclass(frozen=True, slots=True)
class ImputationSummary:
    """Responders in each of ``imputations`` completed data sets.

    Attributes
    ----------
    responders : dict
        Outcome (each subscale, and ``"at_least_1"``) to a tuple with the number of
        responders in each completed data set (all ``n`` patients).
    n : int
        Patients (the intention-to-treat denominator).
    imputations, iterations : int
        ``m`` and the number of FCS sweeps per imputation.
    imputed_scores : int
        Missing scores filled in (per completed data set).
    decided_on_observed : dict
        Per subscale, patients whose response came from their observed scores.
    seed : int
        The seed of ``np.random.default_rng``.
    """

    responders: dict[str, tuple[int, ...]]
    n: int
    imputations: int
    iterations: int
    imputed_scores: int
    decided_on_observed: dict[str, int]
    seed: int

    def rates(self, outcome: str) -> list[float]:
        """The completed-data response rates of one outcome."""
        return [c / self.n for c in self.responders[outcome]]

    def __repr__(self) -> str:
        return (
            f"<ImputationSummary: {self.imputations} imputations x {self.iterations} iterations of "
            f"{self.n:,} patients, {self.imputed_scores:,} scores imputed, seed {self.seed}>"
        )


def draw_regression(
    rng: np.random.Generator, x: np.ndarray, y: np.ndarray, *, ridge: float = RIDGE
) -> tuple[np.ndarray, float]:
    """One draw ``(beta*, sigma*)`` from the posterior of a normal linear regression.

    Algorithm 3.1 of van Buuren (2018) as in ``mice:::.norm.draw``: ``sigma*^2 = RSS / g``,
    ``g ~ chi^2(max(n - q, 1))``, ``beta* = beta_hat + sigma* L z`` with ``L L' = V`` and
    ``V = (X'X + ridge diag(X'X))^{-1}``. The random numbers are drawn in the order
    chi-square, then ``q`` standard normals.
    """
    return draw_from_cross_products(rng, x.T @ x, x.T @ y, float(y @ y), len(y), ridge=ridge)


def draw_from_cross_products(
    rng: np.random.Generator, xtx: np.ndarray, xty: np.ndarray, yty: float, n: int, *, ridge: float = RIDGE
) -> tuple[np.ndarray, float]:
    """:func:`draw_regression` from ``X'X``, ``X'y``, ``y'y`` and n (the rows are not needed).

    RSS is ``y'y - 2 b'X'y + b'X'X b`` for the ridge estimate b (an identity for any b).
    """
    q = len(xty)
    v = np.linalg.inv(xtx + np.diag(ridge * np.diag(xtx)))
    v = (v + v.T) / 2.0
    coef = v @ xty
    rss = max(yty - 2.0 * float(coef @ xty) + float(coef @ xtx @ coef), 0.0)
    df = max(n - q, 1)
    sigma = math.sqrt(rss / float(rng.chisquare(df)))
    chol = np.linalg.cholesky(v)
    beta = coef + (chol @ rng.standard_normal(q)) * sigma
    return beta, sigma


def impute_responses(
    scores: np.ndarray,
    covariates: np.ndarray,
    observed_response: np.ndarray,
    *,
    subscales: Sequence[str],
    good_direction: Sequence[int],
    min_change: float,
    imputations: int = 20,
    iterations: int = 10,
    seed: int,
) -> ImputationSummary:
    """Impute the missing scores ``imputations`` times and count responders in each completed set.

    Parameters
    ----------
    scores : ndarray, shape (n, S, T)
        Subscale scores in points (NaN = missing) for S subscales at T timepoints
        (first = baseline, last = the final assessment).
    covariates : ndarray, shape (n, p)
        Complete covariates (no NaN); constant columns are dropped.
    observed_response : ndarray, shape (n, S)
        1/0 when the response was decided on observed scores (first and last both
        observed), -1 when it has to come from the imputed scores.
    subscales, good_direction
        Names and directions (+1: higher is better, -1: lower is better), length S.
    min_change : float
        The plan's minimum change in points.
    imputations, iterations : int
        m (>= 2) and FCS sweeps per imputation (>= 1).
    seed : int
        Seed of ``np.random.default_rng``.

    Every row given is imputed; a caller that caps the cost samples the rows first
    (``beyond`` draws at most ``MI_MAX_PATIENTS`` in the engine).

    Raises
    ------
    ValueError
        On inconsistent shapes, or a score column with fewer than 2 observed values
        (nothing to impute it from).

    References
    ----------
    - van Buuren S, Groothuis-Oudshoorn K (2011). mice: multivariate imputation by chained equations in R. J Stat Softw 45(3):1-67 (FCS).
    - van Buuren S (2018). Flexible Imputation of Missing Data, 2nd ed. CRC Press, Algorithm 3.1 (the Bayesian regression draws; see the module docstring).
    """
    y = np.asarray(scores, dtype=float)
    cov = np.asarray(covariates, dtype=float)
    dec = np.asarray(observed_response, dtype=np.int64)
    if y.ndim != 3:
        raise ValueError(f"`scores` must have shape (n, subscales, timepoints), got {y.shape}.")
    n, n_s, n_t = y.shape
    if cov.ndim != 2 or cov.shape[0] != n or np.isnan(cov).any():
        raise ValueError(f"`covariates` must be a complete (n={n}, p) array, got shape {cov.shape}.")
    if dec.shape != (n, n_s):
        raise ValueError(f"`observed_response` must have shape ({n}, {n_s}), got {dec.shape}.")
    if len(subscales) != n_s or len(good_direction) != n_s:
        raise ValueError(f"`subscales` and `good_direction` need {n_s} entries each.")
    if isinstance(imputations, bool) or not isinstance(imputations, int) or imputations < 2:
        raise ValueError(f"`imputations` must be an int >= 2 (Rubin's rules need m >= 2), got {imputations!r}.")
    if isinstance(iterations, bool) or not isinstance(iterations, int) or iterations < 1:
        raise ValueError(f"`iterations` must be an int >= 1, got {iterations!r}.")
    if n == 0:
        raise ValueError("impute_responses: no patients to impute.")

    flat = y.reshape(n, n_s * n_t)
    keys = np.concatenate([np.where(np.isnan(flat), -1e300, flat), cov, dec.astype(float)], axis=1)
    # Canonical row order from the content alone (NaN sorts as a sentinel below any score).
    order = np.lexsort(keys.T[::-1])
    flat, cov, dec = flat[order], cov[order], dec[order]

    missing = np.isnan(flat)
    observed_counts = (~missing).sum(axis=0)
    if (observed_counts < 2).any():
        bad = int(np.flatnonzero(observed_counts < 2)[0])
        s, t = divmod(bad, n_t)
        raise ValueError(
            f"impute_responses: {subscales[s]} at timepoint index {t} has {int(observed_counts[bad])} observed "
            "score(s); at least 2 are needed to impute it."
        )
    keep = cov.std(axis=0) > 0
    cov = cov[:, keep]
    incomplete = [j for j in range(flat.shape[1]) if missing[:, j].any()]
    children = np.random.default_rng(seed).spawn(imputations)

    direction = np.asarray(good_direction, dtype=float)
    counts: dict[str, list[int]] = {s: [] for s in subscales} | {"at_least_1": []}
    # One design matrix per imputation, [1, scores..., covariates], updated in place;
    # the regression of score column j uses every column but its own (as mice's
    # predictor matrix), on the rows where j is observed.
    n_y = flat.shape[1]
    others = {
        j: np.array([0, *(1 + k for k in range(n_y) if k != j), *range(1 + n_y, 1 + n_y + cov.shape[1])])
        for j in incomplete
    }
    obs_idx = {j: np.flatnonzero(~missing[:, j]) for j in incomplete}
    mis_idx = {j: np.flatnonzero(missing[:, j]) for j in incomplete}
    for rng in children:
        design = np.empty((n, 1 + n_y + cov.shape[1]))
        design[:, 0] = 1.0
        design[:, 1 : 1 + n_y] = flat
        design[:, 1 + n_y :] = cov
        data = design[:, 1 : 1 + n_y]  # a view: imputations land in the design matrix
        for j in incomplete:
            obs = data[obs_idx[j], j]
            data[mis_idx[j], j] = rng.choice(obs, size=len(mis_idx[j]), replace=True)
        for _ in range(iterations):
            for j in incomplete:
                # one row gather and one BLAS product give X'X, X'y and y'y of this regression
                rows = design[obs_idx[j]]
                gram = rows.T @ rows
                n_obs = len(obs_idx[j])
                # As mice's remove.lindep: a predictor (nearly) constant where y is observed
                # carries no information there and would only be extrapolated from the ridge.
                mean = gram[0, others[j]] / n_obs
                spread = np.diag(gram)[others[j]] / n_obs - mean**2
                varying = spread > 1e-12 * np.maximum(1.0, mean**2)
                varying[0] = True
                cols = others[j][varying]
                y_col = 1 + j
                beta, sigma = draw_from_cross_products(
                    rng, gram[np.ix_(cols, cols)], gram[cols, y_col], float(gram[y_col, y_col]), n_obs
                )
                full = np.zeros(design.shape[1])
                full[cols] = beta
                noise = rng.standard_normal(len(mis_idx[j]))
                data[mis_idx[j], j] = design[mis_idx[j]] @ full + sigma * noise
        completed = data.reshape(n, n_s, n_t)
        change = (completed[:, :, -1] - completed[:, :, 0]) * direction
        resp = np.where(dec >= 0, dec == 1, change >= min_change)
        for i, s in enumerate(subscales):
            counts[s].append(int(resp[:, i].sum()))
        counts["at_least_1"].append(int(resp.any(axis=1).sum()))
    return ImputationSummary(
        responders={k: tuple(v) for k, v in counts.items()},
        n=n,
        imputations=imputations,
        iterations=iterations,
        imputed_scores=int(missing.sum()),
        decided_on_observed={s: int((dec[:, i] >= 0).sum()) for i, s in enumerate(subscales)},
        seed=seed,
    )
