"""Multiple imputation of missing subscale scores by chained equations with predictive mean matching.

Method
------
Fully conditional specification (van Buuren & Groothuis-Oudshoorn 2011, the ``mice``
algorithm). Each incomplete score column ``y`` is regressed on every other score column
(their current completed values) and the covariates; each visit

1. fits least squares on the rows where ``y`` is observed, with ``mice``'s small ridge
   ``kappa = 1e-5`` on the diagonal: ``V = (X'X + kappa diag(X'X))^{-1}``,
   ``beta_hat = V X'y``;
2. draws the residual variance from its posterior, ``sigma*^2 = RSS / g`` with
   ``g ~ chi^2(n_obs - q)``, and the coefficients, ``beta* = beta_hat + sigma* L z``,
   ``L L' = V`` (van Buuren, *Flexible Imputation of Missing Data*, 2nd ed., 2018,
   Algorithm 3.1);
3. imputes by predictive mean matching (Algorithm 3.3, ``mice``'s ``pmm``; Little 1988):
   the observed rows are predicted with ``beta_hat``, the missing rows with ``beta*``,
   and each missing value takes the observed value of one of its ``donors`` (default 5)
   nearest rows in predicted mean, chosen at random (:mod:`burnout.stats.pmm`).

So every imputation reflects the uncertainty of the regression parameters ("proper"
imputation, Rubin 1987), and every imputed score is a score some patient had: on the
instrument's grid and inside its range. Missing values start as random draws from the
column's observed values; each of the ``m`` imputations is its own chain of
``iterations`` sweeps (default 5, ``mice``'s ``maxit``) over the incomplete columns,
driven by its own child of ``np.random.default_rng(seed)`` (``Generator.spawn``).

Response is exact: scores are integer units of ``1/scale`` point, donors give their
integer units, and a patient's response on a subscale (the change from the first to the
last assessment of at least ``min_change`` units in the good direction) is an integer
comparison, whether the scores were observed or imputed. Decisions on two observed
scores are made by the engine and passed in. Patients in ``fixed`` are not imputed:
their decisions are given (e.g. patients who never started treatment, under the caller's
estimand) and are added to every completed data set.

MNAR sensitivity (delta adjustment; Carpenter & Kenward 2013, ch. 10; van Buuren 2018,
sec. 3.8): for each ``delta`` in ``deltas`` (units, >= 0), every imputed score at the
last assessment is moved ``delta`` in the bad direction (clipped to ``score_range``)
and responders are counted again in the same completed data sets, so the counts fall
(weakly) as delta grows.

Determinism: the rows are sorted by their own content before imputation, so the
result does not depend on the order in which the engine returned them (nor on patient
ids, which are never read).

Validated in ``tests/stats/test_imputation.py``: the parameter draws against the analytic
posterior moments, that every imputed score is an observed value (property test), exact
response at the threshold, recovery of a known response rate under MAR dropout where the
complete-case rate is biased, reproducibility from the seed, that observed decisions are
never changed, and monotone tipping counts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from burnout.stats._fcs import _Chains
from burnout.stats.pmm import DONORS

__all__ = ["ImputationSummary", "impute_responses"]

ITERATIONS = 5
"""FCS sweeps per imputation (``mice``'s ``maxit = 5``; the missingness here is mostly
monotone dropout, for which the chains settle within a few sweeps)."""


@dataclass(frozen=True, slots=True)
class ImputationSummary:
    """Responders in each of ``imputations`` completed data sets.

    Attributes
    ----------
    responders : dict
        Outcome (each subscale, and ``"at_least_1"``) to a tuple with the number of
        responders in each completed data set (all ``n`` patients).
    n : int
        Patients: the imputed rows plus the ``fixed`` ones (the denominator).
    imputations, iterations, donors : int
        ``m``, the FCS sweeps per imputation and the PMM donors per missing value.
    imputed_scores : int
        Missing scores filled in (per completed data set).
    decided_on_observed : dict
        Per subscale, imputed-model patients whose response came from their observed scores.
    fixed : int
        Patients whose decisions were given, not imputed (counted in every data set).
    deltas : tuple of int
        The MNAR shifts (units) of the tipping analysis, and ``shifted[i]`` the
        responders per outcome and data set with the imputed last scores moved
        ``deltas[i]`` in the bad direction.
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
    donors: int = DONORS
    fixed: int = 0
    deltas: tuple[int, ...] = ()
    shifted: tuple[dict[str, tuple[int, ...]], ...] = ()

    def rates(self, outcome: str, *, delta_index: int | None = None) -> list[float]:
        """The completed-data response rates of one outcome (at ``deltas[delta_index]`` when given)."""
        counts = self.responders if delta_index is None else self.shifted[delta_index]
        return [c / self.n for c in counts[outcome]]

    def __repr__(self) -> str:
        return (
            f"<ImputationSummary: {self.imputations} imputations x {self.iterations} iterations of "
            f"{self.n - self.fixed:,} patients (+{self.fixed:,} not imputed), {self.imputed_scores:,} scores "
            f"imputed by PMM ({self.donors} donors), seed {self.seed}>"
        )


def impute_responses(
    scores: np.ndarray,
    covariates: np.ndarray,
    observed_response: np.ndarray,
    *,
    subscales: Sequence[str],
    good_direction: Sequence[int],
    min_change: int,
    scale: int = 1,
    score_range: tuple[int, int] | None = None,
    fixed: np.ndarray | None = None,
    deltas: Sequence[int] = (),
    imputations: int = 100,
    iterations: int = ITERATIONS,
    donors: int = DONORS,
    seed: int,
) -> ImputationSummary:
    """Impute the missing scores ``imputations`` times and count responders in each completed set.

    Parameters
    ----------
    scores : ndarray, shape (n, S, T)
        Subscale scores in integer units of ``1/scale`` point (NaN = missing) for S
        subscales at T timepoints (first = baseline, last = the final assessment).
    covariates : ndarray, shape (n, p)
        Complete covariates (no NaN); constant columns are dropped.
    observed_response : ndarray, shape (n, S)
        1/0 when the response was decided on observed scores (first and last both
        observed), -1 when it has to come from the imputed scores.
    subscales, good_direction, min_change, scale
        Names and directions (+1: higher is better, -1: lower is better) of the S subscales;
        response is a change >= ``min_change`` units; the regressions run in points.
    score_range, fixed, deltas
        The lowest and highest score in units (the MNAR shift is clipped to it); 1/0
        decisions (n_fixed, S) of patients counted but not imputed; MNAR shifts in units (>= 0).
    imputations, iterations, donors, seed
        m (>= 2), FCS sweeps per imputation (>= 1), PMM donors (>= 1), ``np.random.default_rng`` seed.

    Every row given is imputed (a caller that caps the cost samples the rows first).
    ValueError on inconsistent shapes, non-integer scores, or a score column with fewer
    than 2 observed values (nothing to impute it from).

    References
    ----------
    - Rubin DB (1987). Multiple Imputation for Nonresponse in Surveys. New York: Wiley ("proper" imputation).
    - Little RJA (1988). Missing-data adjustments in large surveys. J Bus Econ Stat 6:287-296 (predictive mean matching).
    - van Buuren S, Groothuis-Oudshoorn K (2011). mice: multivariate imputation by chained equations in R. J Stat Softw 45(3):1-67 (FCS).
    - van Buuren S (2018). Flexible Imputation of Missing Data, 2nd ed. CRC Press, sec. 3.4 (predictive mean matching; see the module docstring).
    - Carpenter JR, Kenward MG (2013). Multiple Imputation and its Application. Chichester: Wiley, ch. 10 (delta adjustment).
    """
    flat, cov, dec, fixed_rows = _checked(
        scores, covariates, observed_response, subscales, good_direction, fixed, imputations, iterations
    )
    rule = _response_rule(subscales, good_direction, min_change, score_range, deltas)
    missing = np.isnan(flat)
    chains = _Chains(flat, cov, missing, scale=scale, donors=donors)
    return _impute_and_count(
        chains, missing, dec, fixed_rows, rule, imputations=imputations, iterations=iterations, seed=seed, donors=donors
    )


@dataclass(frozen=True)
class _ResponseRule:
    """A response is a change of at least ``min_change`` units in each subscale's good ``direction``.

    ``deltas`` are the MNAR shifts (units) of the tipping analysis: each moves the imputed
    last scores in the bad direction, clipped to ``score_range``.
    """

    subscales: tuple[str, ...]
    direction: np.ndarray
    min_change: int
    score_range: tuple[int, int]
    deltas: tuple[int, ...]


def _response_rule(
    subscales: Sequence[str],
    good_direction: Sequence[int],
    min_change: int,
    score_range: tuple[int, int] | None,
    deltas: Sequence[int],
) -> _ResponseRule:
    """The checked response rule (``deltas`` integers >= 0; no ``score_range`` means no clipping)."""
    if any(isinstance(d, bool) or not isinstance(d, int | np.integer) or d < 0 for d in deltas):
        raise ValueError(f"`deltas` must be integers >= 0 (units), got {list(deltas)!r}.")
    return _ResponseRule(
        subscales=tuple(subscales),
        direction=np.asarray(good_direction, dtype=np.int64),
        min_change=min_change,
        score_range=score_range if score_range is not None else (-(2**62), 2**62),
        deltas=tuple(int(d) for d in deltas),
    )


def _impute_and_count(
    chains: _Chains,
    missing: np.ndarray,
    dec: np.ndarray,
    fixed_rows: np.ndarray,
    rule: _ResponseRule,
    *,
    imputations: int,
    iterations: int,
    seed: int,
    donors: int,
) -> ImputationSummary:
    """Run one chain per imputation; count responders per outcome in each completed set and at each MNAR shift."""
    n, n_s = dec.shape
    n_t = missing.shape[1] // n_s
    subscales, direction, min_change = rule.subscales, rule.direction, rule.min_change
    lo, hi = rule.score_range
    imputed_last = missing.reshape(n, n_s, n_t)[:, :, -1]
    outcomes = [*subscales, "at_least_1"]
    counts: dict[str, list[int]] = {o: [] for o in outcomes}
    shifted: list[dict[str, list[int]]] = [{o: [] for o in outcomes} for _ in rule.deltas]
    for units in _completed(chains, np.random.default_rng(seed).spawn(imputations), iterations):
        units = units.reshape(n, n_s, n_t)
        first, last = units[:, :, 0], units[:, :, -1]
        _tally(counts, dec, fixed_rows, (last - first) * direction >= min_change, subscales)
        for i, delta in enumerate(rule.deltas):
            moved = np.clip(last - direction * int(delta), lo, hi)
            last_d = np.where(imputed_last, moved, last)
            _tally(shifted[i], dec, fixed_rows, (last_d - first) * direction >= min_change, subscales)
    return ImputationSummary(
        responders={k: tuple(v) for k, v in counts.items()},
        n=n + len(fixed_rows),
        imputations=imputations,
        iterations=iterations,
        imputed_scores=int(missing.sum()),
        decided_on_observed={s: int((dec[:, i] >= 0).sum()) for i, s in enumerate(subscales)},
        seed=seed,
        donors=donors,
        fixed=len(fixed_rows),
        deltas=rule.deltas,
        shifted=tuple({k: tuple(v) for k, v in d.items()} for d in shifted),
    )


_CHUNK = 4
"""Chains per task handed to the helper process: small enough to balance the two CPUs,
large enough that pickling the design (a few hundred KB) stays a small share."""


def _completed(chains: _Chains, rngs: Sequence[np.random.Generator], iterations: int) -> list[np.ndarray]:
    """The completed units of every chain, in ``rngs`` order.

    Each chain depends only on the design and its own generator, so the chunks can run
    in the helper process (:func:`burnout._warm.shared_map`) with the same bytes out.
    """
    from burnout._warm import shared_map

    chunks = [(chains, tuple(rngs[i : i + _CHUNK]), iterations) for i in range(0, len(rngs), _CHUNK)]
    return [units for done in shared_map(_run_chunk, chunks) for units in done]


def _run_chunk(task: tuple[_Chains, tuple[np.random.Generator, ...], int]) -> list[np.ndarray]:
    chains, rngs, iterations = task
    return [chains.run(rng, iterations) for rng in rngs]


def _tally(
    counts: dict[str, list[int]], dec: np.ndarray, fixed: np.ndarray, change_ok: np.ndarray, subscales: Sequence[str]
) -> None:
    """Append one completed data set's responders: observed decisions win, then the completed scores."""
    resp = np.concatenate([np.where(dec >= 0, dec == 1, change_ok), fixed == 1])
    for i, s in enumerate(subscales):
        counts[s].append(int(resp[:, i].sum()))
    counts["at_least_1"].append(int(resp.any(axis=1).sum()))


def _checked(
    scores: np.ndarray,
    covariates: np.ndarray,
    observed_response: np.ndarray,
    subscales: Sequence[str],
    good_direction: Sequence[int],
    fixed: np.ndarray | None,
    imputations: int,
    iterations: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Validate the inputs; return (scores (n, S*T), covariates, decisions, fixed) in content order."""
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
    fixed_rows = np.zeros((0, n_s), dtype=np.int64) if fixed is None else np.asarray(fixed, dtype=np.int64)
    if fixed_rows.ndim != 2 or fixed_rows.shape[1] != n_s or not np.isin(fixed_rows, (0, 1)).all():
        raise ValueError(f"`fixed` must be a (n_fixed, {n_s}) array of 0/1 decisions, got shape {fixed_rows.shape}.")
    if isinstance(imputations, bool) or not isinstance(imputations, int) or imputations < 2:
        raise ValueError(f"`imputations` must be an int >= 2 (Rubin's rules need m >= 2), got {imputations!r}.")
    if isinstance(iterations, bool) or not isinstance(iterations, int) or iterations < 1:
        raise ValueError(f"`iterations` must be an int >= 1, got {iterations!r}.")
    if n == 0:
        raise ValueError("impute_responses: no patients to impute.")
    flat = y.reshape(n, n_s * n_t)
    if not np.array_equal(flat[~np.isnan(flat)], np.round(flat[~np.isnan(flat)])):
        raise ValueError("`scores` must be integer units of 1/scale point (NaN = missing); got fractional values.")
    observed_counts = (~np.isnan(flat)).sum(axis=0)
    if (observed_counts < 2).any():
        bad = int(np.flatnonzero(observed_counts < 2)[0])
        s, t = divmod(bad, n_t)
        # no count in the message: it reaches results.json, where a count of 1 patient is a small cell
        raise ValueError(
            f"impute_responses: {subscales[s]} at timepoint index {t} has fewer than 2 observed scores; "
            "at least 2 are needed to impute it."
        )
    keys = np.concatenate([np.where(np.isnan(flat), -1e300, flat), cov, dec.astype(float)], axis=1)
    # Canonical row order from the content alone (NaN sorts as a sentinel below any score).
    order = np.lexsort(keys.T[::-1])
    return flat[order], cov[order], dec[order], fixed_rows
