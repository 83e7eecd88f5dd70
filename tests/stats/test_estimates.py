"""estimates.py against independent references (statsmodels, scipy, brute force, hand-applied formulas).

Every reference works on raw simulated data or a different algorithm; the tolerance of
each comparison is written in the test.
"""

from __future__ import annotations

import itertools
import math
import re
import statistics
import warnings
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate, stats
from statsmodels.stats.contingency_tables import cochrans_q as sm_cochrans_q
from statsmodels.stats.contingency_tables import mcnemar as sm_mcnemar
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import proportion_confint

import burnout.stats as est
import burnout.stats.contingency as contingency
from burnout.instrument import SCALE
from burnout.stats import (
    cochran_q,
    cronbach_alpha,
    effect_size_label,
    heterogeneity,
    holm,
    mcnemar,
    mean_summary,
    newcombe_difference,
    ols_from_moments,
    paired_change,
    pool_proportions,
    proportion,
    rci_critical_change,
    rci_se_diff,
    reliable_change_index,
    rubin_pool,
    wilson_interval,
)


def _moments(values: list[int]) -> tuple[int, int, int]:
    return len(values), sum(values), sum(v * v for v in values)


# --------------------------------------------------------------------------- Wilson
@pytest.mark.parametrize("confidence", [0.8, 0.9, 0.95, 0.99])
def test_wilson_against_statsmodels(confidence: float) -> None:
    for n in (1, 2, 3, 7, 10, 11, 50, 395, 1642):
        for count in sorted({0, 1, 2, n // 3, n // 2, n - 1, n} & set(range(n + 1))):
            low, high = wilson_interval(count, n, confidence=confidence)
            ref_low, ref_high = proportion_confint(count, n, alpha=1 - confidence, method="wilson")
            assert low == pytest.approx(ref_low, abs=1e-12)
            assert high == pytest.approx(ref_high, abs=1e-12)
            assert 0.0 <= low <= count / n <= high <= 1.0


# --------------------------------------------------------------------------- Newcombe
@pytest.mark.parametrize("confidence", [0.9, 0.95, 0.99])
def test_newcombe_difference_against_statsmodels(confidence: float) -> None:
    from statsmodels.stats.proportion import confint_proportions_2indep

    for x1, n1, x2, n2 in [(56, 70, 48, 80), (9, 10, 3, 10), (0, 10, 0, 20), (10, 10, 0, 20), (131, 224, 95, 171)]:
        d, (low, high) = newcombe_difference(x1, n1, x2, n2, confidence=confidence)
        ref = confint_proportions_2indep(x1, n1, x2, n2, method="newcomb", compare="diff", alpha=1 - confidence)
        assert d == pytest.approx(x1 / n1 - x2 / n2, abs=1e-12)
        assert (low, high) == pytest.approx(ref, abs=1e-10)
        assert low <= d <= high


def test_newcombe_difference_against_newcombe_1998_table_ii() -> None:
    """Newcombe (1998) Stat Med 17:873-890, Table II, method 10 (hybrid score), to the 4 decimals printed."""
    for (x1, n1, x2, n2), expected in {
        (56, 70, 48, 80): (0.0524, 0.3339),
        (9, 10, 3, 10): (0.1705, 0.8090),
        (6, 7, 2, 7): (0.0582, 0.8062),
        (5, 56, 0, 29): (-0.0381, 0.1926),
    }.items():
        _, ci = newcombe_difference(x1, n1, x2, n2)
        assert ci == pytest.approx(expected, abs=5e-5)


def test_wilson_bounds_are_exact_at_zero_and_n() -> None:
    assert wilson_interval(0, 12)[0] == 0.0
    assert wilson_interval(12, 12)[1] == 1.0


def test_proportion_shape_and_n_zero() -> None:
    p = proportion(219, 395)
    assert p.count == 219 and p.n == 395 and p.suppressed is False
    assert p.rate == 219 / 395
    ref = proportion_confint(219, 395, alpha=0.05, method="wilson")
    assert p.ci == pytest.approx(ref, abs=1e-12)
    assert p.to_json() == {"count": 219, "n": 395, "rate": 219 / 395, "ci": list(p.ci), "suppressed": False}
    empty = proportion(0, 0)
    assert (empty.rate, empty.ci) == (None, None)
    assert proportion(np.int64(3), np.int64(4)).count == 3  # engine integers are accepted


@pytest.mark.parametrize(
    ("call", "fragment"),
    [
        (lambda: proportion(5, 4), "cannot exceed"),
        (lambda: proportion(-1, 4), "non-negative"),
        (lambda: proportion(1.5, 4), "integer count"),
        (lambda: proportion(1, 4, confidence=1.5), "strictly between 0 and 1"),
        (lambda: wilson_interval(0, 0), "use proportion()"),
        (lambda: mean_summary(3, 6), "sum of squares"),
        (lambda: mean_summary(3, 6, 5), "not the moments"),
        (lambda: cochran_q({(True,): 3}), "k >= 2"),
        (lambda: cochran_q({(True, False): 3, (True,): 1}), "length 2"),
        (lambda: heterogeneity([(5, 4), (1, 2)]), "cannot exceed"),
        (lambda: holm([0.5, 1.5]), "in [0, 1]"),
        (lambda: rubin_pool([1.0], [1.0]), "m >= 2"),
        (lambda: mcnemar(0, 0, method="chi-square"), "b + c > 0"),
    ],
)
def test_invalid_input_messages_name_the_problem(call, fragment: str) -> None:
    with pytest.raises(ValueError, match=re.escape(fragment)):
        call()


# --------------------------------------------------------------------------- means
def test_mean_summary_against_numpy_and_scipy_ttest_1samp() -> None:
    rng = np.random.default_rng(1)
    for n in (2, 3, 17, 395):
        # subscale scores as exact integer units: means of 5 items scored 0..6
        items = rng.integers(0, 7, size=(n, 5))
        units = [int(u) for u in items.sum(axis=1) * (SCALE // 5)]
        points = np.array(units) / SCALE
        s = mean_summary(*_moments(units), scale=SCALE)
        ref = stats.ttest_1samp(points, 0.0)
        ci = ref.confidence_interval(confidence_level=0.95)
        assert s.n == n and s.df == n - 1
        assert s.mean == pytest.approx(points.mean(), rel=1e-9)
        assert s.sd == pytest.approx(points.std(ddof=1), rel=1e-9)
        assert s.se == pytest.approx(stats.sem(points), rel=1e-9)
        assert s.ci == pytest.approx((ci.low, ci.high), rel=1e-9, abs=1e-12)


def test_mean_summary_centered_ss_against_numpy_on_float_data() -> None:
    rng = np.random.default_rng(2)
    x = rng.normal(1000.0, 0.01, size=200)  # large mean, tiny spread: raw moments cancel badly in floats
    centred = float(np.sum((x - x.mean()) ** 2))
    s = mean_summary(200, float(x.sum()), centered_ss=centred, confidence=0.9)
    ci = stats.ttest_1samp(x, 0.0).confidence_interval(confidence_level=0.9)
    assert s.sd == pytest.approx(x.std(ddof=1), rel=1e-9)
    assert s.ci == pytest.approx((ci.low, ci.high), rel=1e-9)


def test_mean_summary_integer_moments_are_exact_against_statistics_module() -> None:
    # values near 1e12 differing by a few units: float64 raw moments would lose every digit
    rng = np.random.default_rng(3)
    values = [10**12 + int(v) for v in rng.integers(0, 10, size=50)]
    s = mean_summary(*_moments(values))
    assert s.sd == pytest.approx(math.sqrt(statistics.variance(values)), rel=1e-15)


def test_mean_summary_small_n() -> None:
    assert mean_summary(0, 0, 0) == est.MeanSummary(0, None, None, None, None, None, 0.95)
    one = mean_summary(1, 7, 49)
    assert one.mean == 7.0 and one.sd is None and one.ci is None


# --------------------------------------------------------------------------- paired change
def test_paired_change_against_scipy_ttest_rel() -> None:
    rng = np.random.default_rng(4)
    for n, shift in ((2, -0.5), (12, -1.0), (395, -1.48), (60, 0.02)):
        baseline = rng.integers(0, 7, size=(n, 5)).sum(axis=1) * (SCALE // 5)
        follow = np.clip(baseline + (rng.normal(shift, 1.2, size=n) * SCALE).astype(np.int64), 0, 6 * SCALE)
        d = [int(v) for v in follow - baseline]
        c = paired_change(*_moments(d), scale=SCALE)
        ref = stats.ttest_rel(follow / SCALE, baseline / SCALE)
        ci = ref.confidence_interval(confidence_level=0.95)
        assert c.df == ref.df == n - 1
        assert c.mean == pytest.approx(np.mean(d) / SCALE, rel=1e-9)
        assert c.sd == pytest.approx(np.std(np.array(d) / SCALE, ddof=1), rel=1e-9)
        assert c.t == pytest.approx(ref.statistic, rel=1e-9)
        assert c.p == pytest.approx(ref.pvalue, rel=1e-9, abs=1e-300)
        assert c.ci == pytest.approx((ci.low, ci.high), rel=1e-9, abs=1e-12)
        assert c.dz == pytest.approx(c.mean / c.sd, rel=1e-12)
        assert c.dz_label == effect_size_label(c.dz)


def _nct_cdf_by_integration(t: float, df: int, delta: float) -> float:
    """P(T <= t), T = (Z + delta) / sqrt(V / df), V ~ chi2(df): integrate Phi over the chi2 density."""

    def integrand(v: float) -> float:
        return stats.norm.cdf(t * math.sqrt(v / df) - delta) * stats.chi2.pdf(v, df)

    lo, hi = stats.chi2.ppf([1e-15, 1 - 1e-15], df)
    value, _ = integrate.quad(integrand, lo, hi, epsabs=1e-13, epsrel=1e-12, limit=400, points=[df])
    return value


@pytest.mark.parametrize(("n", "dz"), [(20, 0.5), (395, -1.2), (6, 2.0), (3, 0.3), (50, 0.0)])
def test_dz_ci_against_integrated_noncentral_t(n: int, dz: float) -> None:
    # Reference: the noncentral t cdf written as an integral over the chi-square density
    # (scipy.integrate.quad, no scipy.stats.nct). The cdf falls strictly as delta grows, so
    # the bounds are right iff the integrated cdf at sqrt(n) * bound is 0.975 (low) and
    # 0.025 (high).
    sd_units = 1000
    rng = np.random.default_rng(5)
    raw = rng.normal(0, 1, size=n)
    raw = (raw - raw.mean()) / raw.std(ddof=1)
    d = [int(round((dz + z) * sd_units)) for z in raw]
    c = paired_change(*_moments(d))
    assert c.dz_ci is not None
    low, high = (b * math.sqrt(n) for b in c.dz_ci)
    assert _nct_cdf_by_integration(c.t, n - 1, low) == pytest.approx(0.975, abs=1e-9)
    assert _nct_cdf_by_integration(c.t, n - 1, high) == pytest.approx(0.025, abs=1e-9)
    assert c.dz_ci[0] < c.dz < c.dz_ci[1]


def test_dz_ci_covers_symmetrically_at_zero() -> None:
    c = paired_change(30, 0, 30 * 4)
    assert c.dz == 0.0 and c.dz_label == "negligible"
    assert c.dz_ci[0] == pytest.approx(-c.dz_ci[1], abs=1e-10)


def test_paired_change_edge_cases_return_none_without_warnings() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        zero = paired_change(0, 0, 0)
        one = paired_change(1, 5, 25)
        flat = paired_change(4, -8, 16)  # every difference is -2: sd = 0
        huge = paired_change(395, -395 * 10**6, 395 * 10**12 + 394)  # sd tiny, t about 2e7
    assert zero.mean is None and zero.t is None and zero.dz_ci is None
    assert one.mean == 5.0 and one.sd is None and one.p is None
    assert flat.mean == -2.0 and flat.sd == 0.0 and flat.ci == (-2.0, -2.0)
    assert (flat.t, flat.p, flat.dz, flat.dz_ci, flat.dz_label) == (None, None, None, None, None)
    assert flat.effect_size_json() is None
    assert huge.dz_label == "large" and huge.p == 0.0 and huge.dz_ci is None  # nct cannot be evaluated


def test_effect_size_json_shape() -> None:
    c = paired_change(5, -10, 22)
    assert c.effect_size_json() == {"dz": c.dz, "ci": list(c.dz_ci), "label": "large"}


def test_effect_size_label_boundaries() -> None:
    cases = {
        0.0: "negligible",
        0.1999: "negligible",
        0.2: "small",
        -0.4999: "small",
        0.5: "medium",
        -0.7999: "medium",
        0.8: "large",
        -3.0: "large",
    }
    assert {d: effect_size_label(d) for d in cases} == cases


# --------------------------------------------------------------------------- Cochran, McNemar, Holm
def test_cochran_q_against_statsmodels_on_expanded_raw_data() -> None:
    rng = np.random.default_rng(6)
    for k in (2, 3, 4):
        patterns = list(itertools.product((False, True), repeat=k))
        for _ in range(5):
            counts = {p: int(c) for p, c in zip(patterns, rng.integers(0, 40, size=len(patterns)), strict=True)}
            raw = np.array([p for p, c in counts.items() for _ in range(c)], dtype=float)
            ref = sm_cochrans_q(raw)
            r = cochran_q(counts)
            assert r.test == "cochran-q" and r.df == k - 1 == ref.df and r.n == len(raw)
            assert r.statistic == pytest.approx(ref.statistic, rel=1e-9)
            assert r.p == pytest.approx(ref.pvalue, rel=1e-9, abs=1e-300)


def test_cochran_q_undefined_when_no_subject_varies() -> None:
    r = cochran_q({(True, True, True): 5, (False, False, False): 9})
    assert (r.statistic, r.p, r.df) == (None, None, 2)


def test_mcnemar_against_statsmodels() -> None:
    for b in range(0, 41):
        for c in range(0, 41):
            exact = b + c < 25
            r = mcnemar(b, c)
            ref = sm_mcnemar(np.array([[0, b], [c, 0]]), exact=exact, correction=True)
            assert r.test == ("mcnemar-exact" if exact else "mcnemar-chi-square")
            assert r.p == pytest.approx(ref.pvalue, abs=1e-12)
            if not exact:
                assert r.statistic == pytest.approx(ref.statistic, abs=1e-12)


def test_mcnemar_forced_methods() -> None:
    ref = sm_mcnemar(np.array([[0, 40], [60, 0]]), exact=True)
    assert mcnemar(40, 60, method="exact").p == pytest.approx(ref.pvalue, rel=1e-12)
    ref = sm_mcnemar(np.array([[0, 3], [9, 0]]), exact=False, correction=True)
    assert mcnemar(3, 9, method="chi-square").p == pytest.approx(ref.pvalue, abs=1e-12)


def test_holm_against_multipletests() -> None:
    rng = np.random.default_rng(7)
    for m in (1, 2, 3, 7, 20):
        p = rng.uniform(0, 0.2, size=m)
        p[rng.integers(0, m)] = p[0]  # a tie
        ref = multipletests(p, method="holm")[1]
        assert holm(list(p)) == pytest.approx(tuple(ref), abs=1e-12)


def test_holm_passes_none_through() -> None:
    out = holm([0.01, None, 0.04, 0.03])
    ref = multipletests([0.01, 0.04, 0.03], method="holm")[1]
    assert out[1] is None
    assert (out[0], out[2], out[3]) == pytest.approx(tuple(ref), abs=1e-12)


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


# --------------------------------------------------------------------------- OLS
def test_ols_against_statsmodels_on_raw_data() -> None:
    import statsmodels.api as sm

    rng = np.random.default_rng(11)
    for n in (3, 10, 395):
        phq_change = rng.integers(-15, 5, size=n)  # integer PHQ-9 total changes
        sub_change = (0.6 * phq_change + rng.normal(-0.8, 1.0, size=n)) * SCALE
        y_units = sub_change.astype(np.int64)
        x = [int(v) for v in phq_change]
        y = [int(v) for v in y_units]
        fit = ols_from_moments(
            n,
            sum(x),
            sum(y),
            sum(v * v for v in x),
            sum(v * v for v in y),
            sum(a * b for a, b in zip(x, y, strict=True)),
            y_scale=SCALE,
        )
        ref = sm.OLS(y_units / SCALE, sm.add_constant(phq_change.astype(float))).fit()
        ci = ref.conf_int(alpha=0.05)
        assert (fit.intercept, fit.slope) == pytest.approx(tuple(ref.params), rel=1e-9)
        assert (fit.intercept_se, fit.slope_se) == pytest.approx(tuple(ref.bse), rel=1e-9)
        assert fit.intercept_ci == pytest.approx(tuple(ci[0]), rel=1e-9)
        assert fit.slope_ci == pytest.approx(tuple(ci[1]), rel=1e-9)
        assert fit.residual_sd == pytest.approx(math.sqrt(ref.scale), rel=1e-9)
        assert fit.df == n - 2
        assert fit.to_json()["intercept_ci"] == list(fit.intercept_ci)


def test_ols_undefined_cases() -> None:
    assert ols_from_moments(1, 1, 1, 1, 1, 1).slope is None
    assert ols_from_moments(4, 8, 10, 16, 30, 20).slope is None  # x constant (all 2)
    two = ols_from_moments(2, 3, 5, 5, 13, 8)  # (1, 2), (2, 3)
    assert (two.intercept, two.slope, two.slope_se) == (1.0, 1.0, None)


# --------------------------------------------------------------------------- reliability
def test_cronbach_alpha_against_raw_item_matrix() -> None:
    rng = np.random.default_rng(12)
    for n, k in ((30, 5), (395, 6), (8, 2)):
        trait = rng.normal(size=(n, 1))
        items = np.clip(np.round(3 + 1.2 * trait + rng.normal(size=(n, k))), 0, 6)
        cov = np.cov(items, rowvar=False)
        direct = k / (k - 1) * (1 - np.trace(cov) / cov.sum())  # alpha from the covariance matrix
        r = cronbach_alpha(k, n, float(items.var(axis=0, ddof=1).sum()), float(items.sum(axis=1).var(ddof=1)))
        assert r.alpha == pytest.approx(direct, rel=1e-12)
        # Feldt: (1 - alpha) / (1 - alpha_hat) ~ F(n - 1, (n - 1)(k - 1))
        df1, df2 = n - 1, (n - 1) * (k - 1)
        assert r.ci == pytest.approx(
            (1 - (1 - direct) * stats.f.isf(0.025, df1, df2), 1 - (1 - direct) * stats.f.isf(0.975, df1, df2)),
            rel=1e-12,
        )
        assert r.ci[0] < r.alpha < r.ci[1]


def test_cronbach_alpha_undefined_without_variance() -> None:
    assert cronbach_alpha(5, 10, 0.0, 0.0).alpha is None
    assert cronbach_alpha(5, 1, 1.0, 2.0).alpha is None


def test_rci_helpers_against_hand_formula() -> None:
    # Jacobson & Truax (1991): SE_diff = sqrt(2 * SE_meas^2), SE_meas = SD * sqrt(1 - r)
    sd, alpha = 0.9, 0.86
    se_meas = sd * math.sqrt(1 - alpha)
    assert rci_se_diff(sd, alpha) == pytest.approx(math.sqrt(2 * se_meas**2), rel=1e-12)
    assert rci_critical_change(sd, alpha) == pytest.approx(1.96 * math.sqrt(2 * se_meas**2), rel=1e-12)
    assert reliable_change_index(-1.5, sd, alpha) == pytest.approx(-1.5 / math.sqrt(2 * se_meas**2), rel=1e-12)
    assert reliable_change_index(1.0, sd, 1.0) is None
    with pytest.raises(ValueError, match="cannot exceed 1"):
        rci_se_diff(1.0, 1.2)


# --------------------------------------------------------------------------- Rubin
def test_rubin_pool_against_hand_applied_rules() -> None:
    # Q = (1, 2, 3), U = (1, 1, 1), m = 3 (Rubin 1987 rules applied by hand in fractions):
    # Qbar = 2, W = 1, B = 1, T = W + (1 + 1/3) B = 7/3, r = (4/3) / 1,
    # nu = (m - 1)(1 + 1/r)^2 = 2 * (7/4)^2 = 49/8
    r = rubin_pool([1.0, 2.0, 3.0], [1.0, 1.0, 1.0])
    assert (r.estimate, r.within, r.between, r.m) == (2.0, 1.0, 1.0, 3)
    assert r.variance == pytest.approx(7 / 3, rel=1e-15)
    assert r.df == pytest.approx(49 / 8, rel=1e-12)
    half = stats.t.ppf(0.975, 49 / 8) * math.sqrt(7 / 3)
    assert r.ci == pytest.approx((2 - half, 2 + half), rel=1e-12)
    # Barnard & Rubin (1999) with nu_com = 10: lambda = (4/3) / (7/3) = 4/7,
    # nu_obs = (11/13) * 10 * (3/7) = 330/91, nu = 1 / (8/49 + 91/330)
    br = rubin_pool([1.0, 2.0, 3.0], [1.0, 1.0, 1.0], df_complete=10)
    expected_df = 1 / (Fraction(8, 49) + Fraction(91, 330))
    assert br.df == pytest.approx(float(expected_df), rel=1e-12)


def test_rubin_pool_without_between_variance_uses_normal() -> None:
    r = rubin_pool([0.5, 0.5], [0.04, 0.04])
    assert math.isinf(r.df)
    assert r.ci == pytest.approx((0.5 - stats.norm.ppf(0.975) * 0.2, 0.5 + stats.norm.ppf(0.975) * 0.2), rel=1e-12)


def test_pool_proportions_against_hand_logit_pooling() -> None:
    rates, ns = [0.40, 0.46, 0.43, 0.38, 0.45], [400] * 5
    logits = [math.log(p / (1 - p)) for p in rates]
    variances = [1 / (n * p * (1 - p)) for p, n in zip(rates, ns, strict=True)]
    m = 5
    qbar = sum(logits) / m
    w = sum(variances) / m
    b = sum((q - qbar) ** 2 for q in logits) / (m - 1)
    t_var = w + (1 + 1 / m) * b
    nu = (m - 1) * (1 + w / ((1 + 1 / m) * b)) ** 2
    half = stats.t.ppf(0.975, nu) * math.sqrt(t_var)

    def expit(v: float) -> float:
        return 1 / (1 + math.exp(-v))

    r = pool_proportions(rates, ns)
    assert r.rate == pytest.approx(expit(qbar), rel=1e-12)
    assert r.ci == pytest.approx((expit(qbar - half), expit(qbar + half)), rel=1e-12)
    assert r.logit.df == pytest.approx(nu, rel=1e-12)
    assert r.to_json() == {"rate": r.rate, "ci": list(r.ci), "imputations": 5}


def test_pool_proportions_handles_zero_rates() -> None:
    r = pool_proportions([0.0, 0.01, 0.0], [100, 100, 100])
    assert 0.0 < r.ci[0] < r.rate < r.ci[1] < 1.0
