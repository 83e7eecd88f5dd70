"""Predictive mean matching: the donor step of multiple imputation (van Buuren 2018, sec. 3.4).

Each patient with a missing score gets the observed score of a *donor*: one of the
``k`` patients with an observed score whose predicted mean is nearest to the
missing patient's predicted mean, chosen at random (Little 1988; ``mice``'s ``pmm``
with ``donors = 5``). The imputed value is therefore always a value some patient
really had, on the instrument's own grid (a subscale mean moves in steps of 1/5 or
1/6 of a point), never 3.137 or 6.4.

Matching is "type 1" (van Buuren 2018, sec. 3.4.2, ``mice``'s default): the
observed rows are predicted with the least-squares coefficients, the missing rows
with the coefficients drawn from their posterior, so the between-imputation
variance reflects the uncertainty of the regression.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import as_strided

__all__ = ["DONORS", "match_donors"]

DONORS = 5
"""Donors per missing value: ``mice``'s default (van Buuren 2018, sec. 3.4.3 finds
k = 5 a good compromise between bias (large k) and too little variation (k = 1))."""


def match_donors(
    rng: np.random.Generator, predicted_observed: np.ndarray, predicted_missing: np.ndarray, *, donors: int = DONORS
) -> np.ndarray:
    """For each missing row, the index (into the observed rows) of its randomly chosen donor.

    Parameters
    ----------
    rng
        The imputation's generator; one ``integers`` call of ``len(predicted_missing)`` draws.
    predicted_observed : ndarray, shape (n_obs,)
        Predicted means of the rows whose value is observed (the donor pool), n_obs >= 1.
    predicted_missing : ndarray, shape (n_mis,)
        Predicted means of the rows to impute.
    donors : int
        k; fewer when the pool is smaller.

    Returns
    -------
    ndarray of int64, shape (n_mis,)
        Indices into ``predicted_observed``: each is one of the k rows nearest in
        predicted mean (ties broken by position in the sorted pool, so the result
        depends only on the inputs and ``rng``).

    Notes
    -----
    The k nearest values of a sorted array to a point lie in the 2k positions around
    its insertion point, so each row looks at a window of 2k candidates (shifted inward
    at the ends): O(n log n) for the sort and O(n_mis k) for the rest, all vectorised.

    References
    ----------
    - Little RJA (1988). Missing-data adjustments in large surveys. J Bus Econ Stat 6:287-296 (predictive mean matching).
    - van Buuren S (2018). Flexible Imputation of Missing Data, 2nd ed. CRC Press, sec. 3.4 (type-1 matching, k donors).
    """
    obs = np.asarray(predicted_observed, dtype=float)
    mis = np.asarray(predicted_missing, dtype=float)
    if isinstance(donors, bool) or not isinstance(donors, int) or donors < 1:
        raise ValueError(f"`donors` must be an int >= 1, got {donors!r}.")
    if obs.ndim != 1 or obs.size == 0:
        raise ValueError(f"`predicted_observed` must be a non-empty 1-d array, got shape {obs.shape}.")
    n_obs = obs.size
    k = min(donors, n_obs)
    order = _stable_argsort(obs)
    pool = obs[order]
    width = min(2 * k, n_obs)
    start = _insertion_points(pool, mis) - k
    np.minimum(np.maximum(start, 0, out=start), n_obs - width, out=start)  # np.clip, less overhead
    windows = as_strided(pool, shape=(n_obs - width + 1, width), strides=(pool.strides[0],) * 2, writeable=False)
    distance = np.abs(windows[start] - mis[:, None])
    pick = rng.integers(0, k, size=mis.size)
    # the pick-th of the window's stable order by distance: among the k nearest, ties by position
    nearest = np.argsort(distance, axis=1, kind="stable")
    return order[start + nearest.ravel()[np.arange(0, nearest.size, width) + pick]].astype(np.int64)


def _stable_argsort(values: np.ndarray) -> np.ndarray:
    """``np.argsort(values, kind="stable")``, faster: the default sort, then equal values in index order.

    The stable order is the order by (value, index); the unstable sort gets the values
    right, so only runs of equal values need their indices sorted (one integer sort of
    run * n + index, whose keys are distinct). NaN, never a predicted mean, falls back.
    """
    order = np.argsort(values)
    ordered = values[order]
    tied = ordered[1:] == ordered[:-1]
    if ordered.size and np.isnan(ordered[-1]):
        return np.argsort(values, kind="stable")
    if not tied.any():
        return order
    run = np.concatenate([[0], np.cumsum(~tied)])
    n = values.size
    return np.sort(run * n + order) % n


_SORT_KEYS_FROM = 1024
"""From this many keys, ``searchsorted`` is faster on sorted keys (its binary searches stop mispredicting)."""


def _insertion_points(pool: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """``np.searchsorted(pool, keys)``: the result of each key does not depend on the others' order."""
    if keys.size < _SORT_KEYS_FROM:
        return np.searchsorted(pool, keys)
    by_key = np.argsort(keys)
    points = np.empty(keys.size, dtype=np.intp)
    points[by_key] = np.searchsorted(pool, keys[by_key])
    return points
