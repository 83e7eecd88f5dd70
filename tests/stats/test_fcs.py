"""The FCS chain's gram by constant blocks (stats/_fcs.py) against the einsum of all columns, bit for bit.

Each visit recomputes only the gram entries of the score columns imputed somewhere on
the observed rows; the entries must be the very floats of the einsum over every column
(results.json is byte-identical), with monotone and intermittent missingness, one
changing column (padded to two: einsum sums a 1-column operand another way) and none.
"""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from burnout.stats._fcs import _Chains, _flat, _visit_plan


def _design(rng: np.random.Generator, n: int, n_y: int, n_cov: int) -> np.ndarray:
    design = np.empty((n, 1 + n_y + n_cov))
    design[:, 0] = 1.0
    design[:, 1 : 1 + n_y] = rng.integers(0, 37, size=(n, n_y)) / 6.0
    design[:, 1 + n_y :] = rng.normal(size=(n, n_cov)) * rng.choice([1e-3, 1.0, 1e3], size=n_cov)
    return design


def _missing(rng: np.random.Generator, n: int, n_y: int, pattern: str) -> np.ndarray:
    if pattern == "monotone":  # dropout: a column missing implies every later column missing
        dropout = rng.integers(1, n_y + 1, size=n)
        return np.arange(n_y)[None, :] >= dropout[:, None]
    if pattern == "intermittent":
        return rng.random((n, n_y)) < 0.3
    missing = np.zeros((n, n_y), dtype=bool)
    if pattern == "one changing":  # column 0 is imputed on rows where column 1 is observed
        missing[: n // 3, 0] = True
        missing[n // 2 :, 1] = True
    else:  # "none": column 0 alone is incomplete, every other column observed
        missing[: n // 4, 0] = True
    return missing


@pytest.mark.parametrize("pattern", ["monotone", "intermittent", "one changing", "none"])
@pytest.mark.parametrize("seed", range(6))
def test_block_gram_equals_the_full_einsum_bit_for_bit(pattern, seed) -> None:
    rng = np.random.default_rng(seed)
    n, n_y, n_cov = int(rng.integers(40, 2500)), int(rng.integers(2, 9)), int(rng.integers(1, 8))
    design, missing = _design(rng, n, n_y, n_cov), _missing(rng, n, n_y, pattern)
    template = design.copy()
    incomplete = [j for j in range(n_y) if missing[:, j].any() and (~missing[:, j]).any()]
    plans = {j: _visit_plan(template, missing, j) for j in incomplete}
    if pattern == "one changing":
        assert plans[1].n_changing == 1
    if pattern == "none":
        assert plans[0].n_changing == 0
    wide = {j: plan.wide.copy() for j, plan in plans.items()}
    for _ in range(3):  # the chain moves the imputed cells; the plan's fixed blocks must stay right
        design[:, 1 : 1 + n_y] = np.where(missing, rng.integers(0, 37, size=(n, n_y)) / 6.0, design[:, 1 : 1 + n_y])
        for j, plan in plans.items():
            rows = design[plan.obs]
            assert np.array_equal(_Chains._gram(design, plan, wide[j]), np.einsum("ij,ik->jk", rows, rows))


@pytest.mark.parametrize("seed", range(4))
def test_flat_gathers_equal_the_ix_gathers(seed) -> None:
    """The predictors' rows by flat indices: the same C-ordered matrix as np.ix_ (so the same gemv sums)."""
    rng = np.random.default_rng(seed)
    design = rng.normal(size=(300, 20))
    rows, cols = np.sort(rng.choice(300, 120, replace=False)), np.sort(rng.choice(20, 13, replace=False))
    taken = design.take(_flat(rows, cols, 20)).reshape(len(rows), -1)
    assert taken.flags.c_contiguous and np.array_equal(taken, design[np.ix_(rows, cols)])


def test_unpickled_chains_give_the_same_bits_and_build_the_plans_once() -> None:
    """The helper process gets the design with every chunk of chains: same completed units, plans built once."""
    rng = np.random.default_rng(7)
    n, n_y = 400, 4
    flat = rng.integers(0, 30, size=(n, n_y)).astype(float)
    missing = _missing(rng, n, n_y, "monotone")
    missing[:, 0] = False
    missing[:5, 0] = True
    chains = _Chains(np.where(missing, np.nan, flat), rng.normal(size=(n, 3)), missing, scale=6, donors=5)
    blob = pickle.dumps(chains)
    expected = chains.run(np.random.default_rng(1), 3)
    first = pickle.loads(blob)  # the helper unpickles each chunk just before running it
    assert np.array_equal(first.run(np.random.default_rng(1), 3), expected)
    second = pickle.loads(blob)
    assert np.array_equal(second.run(np.random.default_rng(1), 3), expected)
    assert second._plans is first._plans and chains._plans is not first._plans
