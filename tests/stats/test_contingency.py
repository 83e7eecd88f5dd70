"""stats.contingency (chi-square, Fisher, Freeman-Halton) against scipy, R's tea-tasting example and brute-force enumeration.

Every reference works on raw simulated data or a different algorithm; the tolerance of
each comparison is written in the test.
"""

from __future__ import annotations

import itertools
import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

import burnout.stats.contingency as contingency
from burnout.stats import (
    heterogeneity,
)


# --------------------------------------------------------------------------- heterogeneity
def test_heterogeneity_chi_square_against_scipy_chi2_contingency() -> None:
    rng = np.random.default_rng(8)
    for r in (2, 3, 5):
        for _ in range(5):
            ns = rng.integers(40, 200, size=r)
            xs = [int(rng.binomial(n, 0.5)) for n in ns]
            counts = [(x, int(n)) for x, n in zip(xs, ns, strict=True)]
            table = np.array([[x, n - x] for x, n in counts])
            chi2, p, dof, expected = stats.chi2_contingency(table, correction=False)
            assert expected.min() >= 5
            res = heterogeneity(counts)
            assert res.test == "chi-square" and res.df == dof == r - 1
            assert res.statistic == pytest.approx(chi2, rel=1e-12)
            assert res.p == pytest.approx(p, rel=1e-9)


def test_heterogeneity_fisher_against_scipy_fisher_exact() -> None:
    rng = np.random.default_rng(9)
    seen = 0
    while seen < 40:
        n1, n2 = (int(v) for v in rng.integers(1, 30, size=2))
        x1, x2 = int(rng.integers(0, n1 + 1)), int(rng.integers(0, n2 + 1))
        res = heterogeneity([(x1, n1), (x2, n2)])
        if res.test != "fisher-exact":
            continue
        seen += 1
        ref = stats.fisher_exact([[x1, n1 - x1], [x2, n2 - x2]]).pvalue
        assert res.p == pytest.approx(ref, rel=1e-9, abs=1e-15)
        assert res.statistic is None and res.df is None


def test_fisher_against_r_tea_tasting() -> None:
    # R: fisher.test(matrix(c(3, 1, 1, 3), nrow = 2))  ->  p-value = 0.4857  (= 34/70 exactly)
    res = heterogeneity([(3, 4), (1, 4)])
    assert res.test == "fisher-exact"
    assert res.p == pytest.approx(0.4857, abs=5e-5)
    assert res.p == pytest.approx(34 / 70, rel=1e-12)


def _brute_force_exact_p(counts: list[tuple[int, int]]) -> float:
    """Every r x 2 table with the observed margins, exact rational probabilities, R's 1e-7 rule."""
    ns = [n for _, n in counts if n > 0]
    xs = [x for x, n in counts if n > 0]
    total_x = sum(xs)
    w_obs = math.prod(math.comb(n, x) for x, n in zip(xs, ns, strict=True))
    everything = included = 0
    for table in itertools.product(*(range(n + 1) for n in ns)):
        if sum(table) != total_x:
            continue
        w = math.prod(math.comb(n, x) for x, n in zip(table, ns, strict=True))
        everything += w
        if Fraction(w) <= Fraction(w_obs) * (1 + Fraction(1, 10**7)):
            included += w
    return float(Fraction(included, everything))


def test_freeman_halton_against_brute_force_enumeration() -> None:
    rng = np.random.default_rng(10)
    checked = 0
    while checked < 25:
        r = int(rng.integers(3, 6))
        ns = [int(v) for v in rng.integers(1, 9, size=r)]
        xs = [int(rng.integers(0, n + 1)) for n in ns]
        counts = list(zip(xs, ns, strict=True))
        res = heterogeneity(counts)
        assert res.test == "freeman-halton-exact"
        assert res.p == pytest.approx(_brute_force_exact_p(counts), rel=1e-9, abs=1e-15)
        checked += 1


def test_freeman_halton_with_pruning_and_merging_against_brute_force() -> None:
    # equal row sizes (paths merge) and one tiny row (exact test), large enough to prune
    counts = [(1, 3), (9, 12), (3, 12), (6, 12), (10, 16)]
    res = heterogeneity(counts)
    assert res.test == "freeman-halton-exact"
    assert res.p == pytest.approx(_brute_force_exact_p(counts), rel=1e-9)


@settings(max_examples=40, deadline=None, derandomize=True)
@given(st.lists(st.tuples(st.integers(0, 7), st.integers(0, 7)), min_size=2, max_size=4))
def test_exact_test_property_against_brute_force(pairs: list[tuple[int, int]]) -> None:
    counts = [(min(a, b), max(a, b)) for a, b in pairs]
    res = heterogeneity(counts)
    if sum(1 for _, n in counts if n > 0) < 2:
        assert res.test == "not-testable" and res.p is None
    elif res.test != "chi-square":
        assert res.p == pytest.approx(_brute_force_exact_p(counts), rel=1e-9, abs=1e-15)


def test_heterogeneity_monte_carlo_fallback_agrees_with_exact(monkeypatch: pytest.MonkeyPatch) -> None:
    counts = [(1, 4), (40, 80), (30, 80), (45, 80), (35, 80)]
    exact = heterogeneity(counts)
    assert exact.test == "freeman-halton-exact"
    monkeypatch.setattr(contingency, "_EXACT_MAX_NODES", 10)
    mc = heterogeneity(counts)
    assert mc.test == "freeman-halton-monte-carlo"
    se = math.sqrt(exact.p * (1 - exact.p) / contingency._MONTE_CARLO_SAMPLES)
    assert abs(mc.p - exact.p) < 4 * se
    assert heterogeneity(counts) == mc  # fixed seed: reproducible


def test_heterogeneity_drops_empty_levels_and_reports_not_testable() -> None:
    assert heterogeneity([(3, 10), (0, 0)]).test == "not-testable"
    assert heterogeneity([]).to_json() == {"statistic": None, "df": None, "p": None, "test": "not-testable"}
    with_empty = heterogeneity([(60, 100), (0, 0), (40, 100)])
    assert with_empty == heterogeneity([(60, 100), (40, 100)])
    # nobody responded: one table has these margins
    assert heterogeneity([(0, 3), (0, 50)]).p == 1.0
