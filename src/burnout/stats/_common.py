"""Argument checks and small numeric helpers shared by the statistics modules."""

from __future__ import annotations

import math
import numbers
import operator
from decimal import Decimal
from fractions import Fraction
from typing import Any

from scipy import stats


# --------------------------------------------------------------------------- helpers
def _check_confidence(confidence: Any) -> float:
    if (
        isinstance(confidence, bool)
        or not isinstance(confidence, numbers.Real)
        or not math.isfinite(float(confidence))
        or not 0.0 < float(confidence) < 1.0
    ):
        raise ValueError(
            f"`confidence` must be a number strictly between 0 and 1, got {confidence!r}; "
            "use e.g. confidence=0.95 for a 95% interval."
        )
    return float(confidence)


def _as_count(name: str, value: Any) -> int:
    """A non-negative integer count (int, numpy integer, or an integral float/Decimal)."""
    if isinstance(value, bool):
        raise ValueError(f"`{name}` must be a non-negative integer count, got the bool {value!r}.")
    try:
        out = operator.index(value)
    except TypeError:
        if (
            isinstance(value, (numbers.Real, Decimal))
            and math.isfinite(float(value))
            and float(value) == int(value)
            and Fraction(value) == int(value)
        ):
            out = int(value)
        else:
            raise ValueError(
                f"`{name}` must be a non-negative integer count, got {value!r}; pass the engine's integer count."
            ) from None
    if out < 0:
        raise ValueError(f"`{name}` must be a non-negative integer count, got {out}.")
    return int(out)


def _as_exact(name: str, value: Any) -> Fraction:
    """The exact rational value of a finite int, float, Decimal or Fraction."""
    if isinstance(value, bool) or value is None:
        raise ValueError(f"`{name}` must be a finite number, got {value!r}.")
    if isinstance(value, Fraction):
        return value
    if isinstance(value, numbers.Integral):
        return Fraction(int(value))
    if isinstance(value, (numbers.Real, Decimal)):
        if not math.isfinite(float(value)):
            raise ValueError(f"`{name}` must be a finite number, got {value!r}.")
        return Fraction(value) if isinstance(value, Decimal) else Fraction(float(value))
    raise ValueError(f"`{name}` must be a finite number, got {value!r} of type {type(value).__name__}.")


def _as_scale(name: str, value: Any) -> int:
    scale = _as_count(name, value)
    if scale < 1:
        raise ValueError(f"`{name}` must be a positive integer (units per point), got {scale}; use 1 for points.")
    return scale


def _sqrt(x: Fraction) -> float:
    """Square root of a non-negative rational, correctly rounded to within 1 ulp."""
    return math.sqrt(float(x))


def _t_quantile(confidence: float, df: float) -> float:
    """Two-sided critical value: the 1 - (1 - confidence)/2 quantile of t(df) (normal if df is inf)."""
    upper = 1.0 - (1.0 - confidence) / 2.0
    if math.isinf(df):
        return float(stats.norm.ppf(upper))
    return float(stats.t.ppf(upper, df))
