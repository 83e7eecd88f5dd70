"""Cross-moments of the extended analyses, collected in the engine."""

from __future__ import annotations

from dataclasses import dataclass

import ibis.expr.types as ir

__all__ = ["CrossMoments"]


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
