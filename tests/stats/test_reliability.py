"""stats.reliability (Cronbach's alpha, Jacobson-Truax reliable change) against the raw item matrix and hand formulas.

Every reference works on raw simulated data or a different algorithm; the tolerance of
each comparison is written in the test.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from burnout.stats import (
    cronbach_alpha,
    rci_critical_change,
    rci_se_diff,
    reliable_change_index,
)


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
