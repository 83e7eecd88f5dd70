"""Exact numbers for the plan: decimals to Fractions, and the strict pydantic field types."""

from __future__ import annotations

import math
from decimal import Decimal
from fractions import Fraction
from typing import Annotated, Final

from pydantic import BeforeValidator, Strict
from pydantic_core import PydanticCustomError

_SCORE_MAX: Final[int] = 6  # MBI-GS items and subscale means are 0..6


# --------------------------------------------------------------------------- numbers


def _exact_number(value: object) -> float:
    """Accept an int, float or Decimal (never a bool or string) and return the float
    whose shortest repr is the same decimal; reject NaN, infinities and decimals a
    double cannot keep exactly."""
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        raise PydanticCustomError("wrong_type", "expected a number")
    if isinstance(value, Decimal) and not value.is_finite():
        raise PydanticCustomError("impossible_value", "{reason}", {"reason": "not a finite number"})
    if isinstance(value, float) and not math.isfinite(value):
        raise PydanticCustomError("impossible_value", "{reason}", {"reason": "not a finite number"})
    try:
        result = float(value)
    except OverflowError:
        result = math.inf
    if not math.isfinite(result):
        raise PydanticCustomError("impossible_value", "{reason}", {"reason": "too large to store"})
    if not isinstance(value, float) and Fraction(repr(result)) != Fraction(value):
        raise PydanticCustomError(
            "impossible_value",
            "{reason}",
            {"reason": "more significant digits than can be kept exactly; write at most 15"},
        )
    return result if result != 0 else 0.0  # -0.0 -> 0.0: one plan, one hash


def exact(value: float | int) -> Fraction:
    """The decimal a stored plan number stands for, exactly: 4.8 -> 24/5, not the binary float.

    The one decimal -> Fraction conversion: plan numbers are floats whose shortest repr
    is the decimal the user wrote (:func:`_exact_number` refuses any other), so that
    repr read as a Fraction is the decimal itself.

    >>> exact(4.8)
    Fraction(24, 5)
    >>> exact(3)
    Fraction(3, 1)
    """
    return Fraction(repr(value))


_Number = Annotated[float, BeforeValidator(_exact_number)]
_Int = Annotated[int, Strict()]
_Str = Annotated[str, Strict()]
