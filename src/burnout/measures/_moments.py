"""Cross-moments of the extended analyses, collected in the engine."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import ibis.expr.types as ir

from burnout.measures._aggregates import as_int

__all__ = ["CrossMoments", "covariance_from_sums", "cross_moment_aggs", "cross_moments"]


# --------------------------------------------------------------------------- aggregates
@dataclass(frozen=True, slots=True)
class CrossMoments:
    """Exact sums for a regression of y on x: n, sum x, sum y, sum x^2, sum y^2, sum xy."""

    n: int
    sx: int
    sy: int
    sxx: int
    syy: int
    sxy: int


# --------------------------------------------------------------------------- engine helpers
def _flag(expr: ir.BooleanValue) -> ir.IntegerValue:
    return expr.fill_null(False).cast("int64").sum()


def cross_moment_aggs(prefix: str, x: ir.NumericValue, y: ir.NumericValue) -> dict[str, ir.Value]:
    """Aggregates for the CrossMoments of (x, y) over the rows where both are present (exact
    when both are cast to DECIMAL)."""
    ok = x.notnull() & y.notnull()
    return {
        f"{prefix}_n": ok.cast("int64").sum(),
        f"{prefix}_sx": x.sum(where=ok),
        f"{prefix}_sy": y.sum(where=ok),
        f"{prefix}_sxx": (x * x).sum(where=ok),
        f"{prefix}_syy": (y * y).sum(where=ok),
        f"{prefix}_sxy": (x * y).sum(where=ok),
    }


def cross_moments(row: dict[str, Any], prefix: str) -> CrossMoments:
    """The CrossMoments that ``cross_moment_aggs(prefix, ...)`` computed, read from a result row."""
    return CrossMoments(*(as_int(row[f"{prefix}_{k}"]) for k in ("n", "sx", "sy", "sxx", "syy", "sxy")))


def covariance_from_sums(sum_xy: int, sum_x: int, sum_y: int, n: int, *, scale: int = 1) -> float:
    """The sample covariance (n - 1 divisor) of x / scale and y / scale from exact integer sums:
    ``(sum xy - sum x sum y / n) / (n - 1) / scale**2``, in fractions, rounded once to float."""
    centered = Fraction(sum_xy) - Fraction(sum_x * sum_y, n)
    return float(centered / (n - 1) / (scale * scale))
