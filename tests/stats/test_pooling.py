"""stats.pooling (Rubin's rules, logit pooling of proportions) against the rules applied by hand.

Every reference works on raw simulated data or a different algorithm; the tolerance of
each comparison is written in the test.
"""

from __future__ import annotations

import math
from fractions import Fraction

import pytest
from scipy import stats

from burnout.stats import (
    pool_proportions,
    rubin_pool,
)


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
