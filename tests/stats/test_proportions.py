"""stats.proportions (Wilson, Newcombe) against statsmodels and Newcombe (1998) Table II; the input checks of every stats family.

Every reference works on raw simulated data or a different algorithm; the tolerance of
each comparison is written in the test.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from statsmodels.stats.proportion import proportion_confint

from burnout.stats import (
    cochran_q,
    heterogeneity,
    holm,
    mcnemar,
    mean_summary,
    newcombe_difference,
    proportion,
    rubin_pool,
    wilson_interval,
)


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
