"""stats.regression (OLS from moments) against statsmodels on raw data.

Every reference works on raw simulated data or a different algorithm; the tolerance of
each comparison is written in the test.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from burnout.instrument import SCALE
from burnout.stats import (
    ols_from_moments,
)


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
