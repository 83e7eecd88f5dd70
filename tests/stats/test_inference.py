"""The honest-inference estimators (issue 16) against independent references.

Clopper-Pearson against scipy's ``binomtest(...).proportion_ci(method="exact")`` and
statsmodels' ``proportion_confint(method="beta")``; the tolerance of each comparison is
written in the test.
"""

from __future__ import annotations

import pytest
from scipy.stats import binomtest
from statsmodels.stats.proportion import proportion_confint

from burnout.stats import clopper_pearson_interval, proportion, rule_of_three


@pytest.mark.parametrize("confidence", [0.90, 0.95, 0.99])
def test_clopper_pearson_against_scipy_and_statsmodels(confidence: float) -> None:
    for n in (1, 2, 7, 11, 50, 395, 1748, 8270):
        for count in sorted({0, 1, 2, n // 3, n - 1, n} & set(range(n + 1))):
            low, high = clopper_pearson_interval(count, n, confidence=confidence)
            sp = binomtest(count, n).proportion_ci(confidence_level=confidence, method="exact")
            sm_low, sm_high = proportion_confint(count, n, alpha=1 - confidence, method="beta")
            assert low == pytest.approx(sp.low, abs=1e-12) and high == pytest.approx(sp.high, abs=1e-12)
            assert low == pytest.approx(sm_low, abs=1e-12) and high == pytest.approx(sm_high, abs=1e-12)
            assert 0.0 <= low <= count / n <= high <= 1.0


def test_clopper_pearson_at_zero_events_solved_by_hand() -> None:
    # the demo's 0 serious adverse events in 8,270 sessions
    exact = proportion(0, 8270, interval="clopper-pearson")
    assert exact.ci is not None and exact.ci[0] == 0.0
    # 1 - 0.025 ** (1 / n) is the exact upper bound at 0 events, solved by hand
    assert exact.ci[1] == pytest.approx(1 - 0.025 ** (1 / 8270), rel=1e-9)


def test_rule_of_three_is_close_to_the_one_sided_exact_bound() -> None:
    # Hanley & Lippman-Hand (1983): 3/n approximates the 95% one-sided upper bound 1 - 0.05**(1/n)
    for n in (30, 300, 8270):
        bound = rule_of_three(n)
        assert bound is not None
        assert bound == pytest.approx(1 - 0.05 ** (1 / n), rel=0.06)
    assert rule_of_three(0) is None


def test_proportion_rejects_an_unknown_interval() -> None:
    with pytest.raises(ValueError, match="clopper-pearson"):
        proportion(1, 2, interval="exact")  # type: ignore[arg-type]
