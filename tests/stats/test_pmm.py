"""Predictive mean matching (stats/pmm.py) and the attainable, exact imputations it gives.

- donors against a brute-force k-nearest search (every distance computed, sorted);
- the same indices, bit for bit, as the earlier implementation kept here as the oracle
  (the speed-ups must not move a single donor: results.json is byte-identical);
- property: every imputed score is a score some patient was observed with in that column;
- response exactness: a change of exactly ``min_change`` units is a response, one unit less is not;
- the tipping counts fall (weakly) as delta grows, and delta 0 reproduces the primary counts;
- patients given as ``fixed`` are counted, never imputed.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from burnout.stats import impute_responses, match_donors
from burnout.stats._fcs import _Chains
from burnout.stats.pmm import _insertion_points, _stable_argsort

SUBSCALES = ("exhaustion", "cynicism", "professional_efficacy")
DIRECTION = (-1, -1, 1)


@given(
    obs=st.lists(st.floats(-5, 5, allow_nan=False), min_size=1, max_size=40),
    mis=st.lists(st.floats(-6, 6, allow_nan=False), min_size=1, max_size=20),
    k=st.integers(1, 7),
    seed=st.integers(0, 2**32 - 1),
)
@settings(max_examples=200, deadline=None)
def test_donors_are_among_the_k_nearest_against_brute_force(obs, mis, k, seed) -> None:
    pool, targets = np.array(obs), np.array(mis)
    chosen = match_donors(np.random.default_rng(seed), pool, targets, donors=k)
    kk = min(k, len(pool))
    for target, idx in zip(targets, chosen, strict=True):
        distances = np.sort(np.abs(pool - target))
        # the donor is no farther than the k-th nearest (ties may pick any equally near row)
        assert abs(pool[idx] - target) <= distances[kk - 1] + 1e-12


def _match_donors_oracle(
    rng: np.random.Generator, predicted_observed: np.ndarray, predicted_missing: np.ndarray, *, donors: int
) -> np.ndarray:
    """match_donors as it was before the speed-ups (two stable argsorts, a 2-d window gather)."""
    obs, mis = np.asarray(predicted_observed, dtype=float), np.asarray(predicted_missing, dtype=float)
    n_obs = obs.size
    k = min(donors, n_obs)
    order = np.argsort(obs, kind="stable")
    pool = obs[order]
    width = min(2 * k, n_obs)
    start = np.clip(np.searchsorted(pool, mis) - k, 0, n_obs - width)
    window = start[:, None] + np.arange(width)[None, :]
    distance = np.abs(pool[window] - mis[:, None])
    nearest = np.argsort(distance, axis=1, kind="stable")[:, :k]
    pick = rng.integers(0, k, size=mis.size)
    chosen = window[np.arange(mis.size), nearest[np.arange(mis.size), pick]]
    return order[chosen].astype(np.int64)


@pytest.mark.parametrize("seed", range(40))
def test_donors_equal_the_oracle_bit_for_bit_with_heavy_ties(seed) -> None:
    """Pools on coarse grids (many equal values, equal distances on both sides), -0.0 and 0.0,
    pools smaller than 2k, and more missing rows than the sorted-keys threshold."""
    rng = np.random.default_rng(seed)
    n_obs = int(rng.choice([1, 2, 3, 7, 50, 700, 3000]))
    n_mis = int(rng.choice([0, 1, 5, 300, 2500]))
    grid = float(rng.choice([1.0, 0.5, 0.2, 1 / 6, 1e-9]))
    pool = np.round(rng.normal(0, 3, n_obs) / grid) * grid
    targets = np.round(rng.normal(0, 3, n_mis) / (grid / 2)) * (grid / 2)
    if seed % 4 == 0:
        pool[: n_obs // 2] = -0.0
        targets[: n_mis // 3] = 0.0
    elif seed % 4 == 1:  # continuous, no ties
        pool, targets = rng.normal(size=n_obs), rng.normal(size=n_mis)
    for k in (1, 2, 5, 9):
        expected = _match_donors_oracle(np.random.default_rng(seed), pool, targets, donors=k)
        got = match_donors(np.random.default_rng(seed), pool, targets, donors=k)
        assert got.dtype == expected.dtype and np.array_equal(got, expected)


@given(values=st.lists(st.sampled_from([-1.0, -0.0, 0.0, 0.5, 2.0, np.inf, -np.inf, np.nan]), max_size=60))
@settings(max_examples=300, deadline=None)
def test_stable_argsort_and_insertion_points_equal_numpy(values) -> None:
    x = np.array(values, dtype=float)
    assert np.array_equal(_stable_argsort(x), np.argsort(x, kind="stable"))
    pool = np.sort(x[~np.isnan(x)])
    keys = np.tile(x, 40)  # above the sorted-keys threshold when long enough
    assert np.array_equal(_insertion_points(pool, keys), np.searchsorted(pool, keys))


def test_donors_spread_over_exactly_k_neighbours() -> None:
    pool = np.arange(100, dtype=float)
    chosen = match_donors(np.random.default_rng(0), pool, np.full(5000, 50.2), donors=5)
    assert set(chosen.tolist()) == {48, 49, 50, 51, 52}
    counts = np.bincount(chosen, minlength=100)[48:53]
    assert counts.min() > 900  # uniform over the 5: 1000 each, binomial SD 28


def _grid_data(seed: int, n: int, step: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Scores on a grid of ``step`` units (subscale means of 5 or 6 items), monotone dropout."""
    rng = np.random.default_rng(seed)
    level = rng.normal(3.5, 1.0, size=(n, 3, 1)) + np.array([0.0, -0.3, -0.6, -0.8])[None, None, :]
    units = np.clip(np.round(level * 30 / step) * step, 0, 180).astype(float)  # 30 units per point
    units += rng.normal(size=units.shape).round() * step
    units = np.clip(units, 0, 180)
    drop = rng.integers(1, 5, size=n)  # first missing follow-up index (4 = none)
    for i in range(n):
        units[i, :, drop[i] :] = np.nan
    both = ~np.isnan(units[:, :, 0]) & ~np.isnan(units[:, :, -1])
    change = (units[:, :, -1] - units[:, :, 0]) * np.array(DIRECTION)
    decided = np.where(both, change >= 30, -1).astype(int)
    return units, rng.normal(size=(n, 2)), decided


@given(seed=st.integers(0, 10_000), step=st.sampled_from([5, 6]))
@settings(max_examples=15, deadline=None)
def test_every_imputed_score_is_an_observed_score_of_its_column(seed, step) -> None:
    units, cov, _ = _grid_data(seed, 80, step)
    flat = units.reshape(len(units), -1)
    missing = np.isnan(flat)
    chains = _Chains(flat, cov, missing, scale=30, donors=5)
    completed = chains.run(np.random.default_rng(seed), 3)
    for j in range(flat.shape[1]):
        seen = set(flat[~missing[:, j], j].astype(np.int64).tolist())
        assert set(completed[missing[:, j], j].tolist()) <= seen
        assert np.array_equal(completed[~missing[:, j], j], flat[~missing[:, j], j].astype(np.int64))
        assert (completed[:, j] % step == 0).all()


def test_response_is_exact_at_the_minimum_change() -> None:
    """Baseline 120 units; half the observed last scores are exactly 30 units lower, half 29:
    every imputed patient's donor comes from one of the two, and a response is exactly a
    change of >= 30 units (a float comparison of 4.0 - 3.0 against 1.0 points can go either way)."""
    n_obs, n_mis = 200, 100
    units = np.full((n_obs + n_mis, 3, 2), 120.0)
    last = np.where(np.arange(n_obs) % 2 == 0, 90.0, 91.0)
    units[:n_obs, :, 1] = last[:, None] * np.array([1, 1, 1])[None, :]
    units[:n_obs, 2, 1] = 240 - last  # efficacy rises by 30 or 29
    units[n_obs:, :, 1] = np.nan
    decided = np.full((n_obs + n_mis, 3), -1)
    decided[:n_obs] = (np.arange(n_obs) % 2 == 0)[:, None]
    cov = np.zeros((n_obs + n_mis, 1))
    s = impute_responses(
        units,
        cov,
        decided,
        subscales=SUBSCALES,
        good_direction=DIRECTION,
        min_change=30,
        scale=30,
        imputations=30,
        iterations=1,
        seed=3,
    )
    for name in SUBSCALES:
        counts = np.array(s.responders[name])
        assert ((counts >= 100) & (counts <= 200)).all()
        # imputed: 100 draws of a fair coin per data set; mean 50 added
        assert abs(counts.mean() - 150) < 5


def test_tipping_counts_fall_with_delta_and_start_at_the_primary() -> None:
    units, cov, decided = _grid_data(1, 400, 6)
    deltas = (0, 6, 12, 30, 60, 180)
    s = impute_responses(
        units,
        cov,
        decided,
        subscales=SUBSCALES,
        good_direction=DIRECTION,
        min_change=30,
        scale=30,
        score_range=(0, 180),
        deltas=deltas,
        imputations=5,
        iterations=2,
        seed=8,
    )
    assert s.deltas == deltas
    assert s.shifted[0] == s.responders
    for outcome in (*SUBSCALES, "at_least_1"):
        series = np.array([d[outcome] for d in s.shifted])  # (deltas, m)
        assert (np.diff(series, axis=0) <= 0).all()
        # a shift of the whole range leaves only the responders decided on observed scores
        observed = int((decided == 1).any(axis=1).sum()) if outcome == "at_least_1" else None
        if observed is not None:
            assert set(series[-1].tolist()) == {observed}


def test_fixed_patients_are_counted_not_imputed() -> None:
    units, cov, decided = _grid_data(2, 150, 6)
    kw = dict(subscales=SUBSCALES, good_direction=DIRECTION, min_change=30, scale=30, imputations=3, iterations=2)
    base = impute_responses(units, cov, decided, seed=4, **kw)
    fixed = np.array([[1, 0, 0]] * 7 + [[0, 0, 0]] * 13)
    more = impute_responses(units, cov, decided, fixed=fixed, seed=4, **kw)
    assert more.n == base.n + 20 and more.fixed == 20 and more.imputed_scores == base.imputed_scores
    assert more.responders["exhaustion"] == tuple(c + 7 for c in base.responders["exhaustion"])
    assert more.responders["cynicism"] == base.responders["cynicism"]
    assert more.responders["at_least_1"] == tuple(c + 7 for c in base.responders["at_least_1"])
    with pytest.raises(ValueError, match="fixed"):
        impute_responses(units, cov, decided, fixed=np.array([[2, 0, 0]]), seed=4, **kw)
    with pytest.raises(ValueError, match="integer units"):
        impute_responses(units + 0.5, cov, decided, seed=4, **kw)
