"""Engine helpers shared by the aggregate stages (measures, beyond): exact sums, fetching."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Final

import ibis.expr.types as ir

__all__ = ["EXACT", "Moments", "as_int", "moment_aggs", "moments", "one_row", "rows"]

# Sums of squared score units can pass 2**63 on large cohorts; DECIMAL(38, 0) sums are
# exact on every backend and do not depend on the order a parallel engine adds them in.
EXACT: Final[str] = "decimal(38, 0)"


@dataclass(frozen=True, slots=True)
class Moments:
    """Exact sums of a variable: n, sum and sum of squares (integers, in score units)."""

    n: int
    total: int
    total_sq: int

    def centered_ss(self) -> float:
        """Sum of squared deviations from the mean, computed exactly then rounded once."""
        if self.n == 0:
            return 0.0
        return float(Fraction(self.total_sq) - Fraction(self.total * self.total, self.n))


def as_int(value: Any) -> int:
    """An engine's integer or DECIMAL result as a Python int (null = 0, an empty sum)."""
    if value is None:
        return 0
    return int(value)


def moment_aggs(prefix: str, expr: ir.IntegerValue, where: ir.BooleanValue | None = None) -> dict[str, ir.Value]:
    """Aggregates for n, sum and sum of squares of an integer expression, exact."""
    big = expr.cast(EXACT)
    return {
        f"{prefix}__n": expr.count(where=where),
        f"{prefix}__s": big.sum(where=where),
        f"{prefix}__ss": (big * big).sum(where=where),
    }


def moments(row: dict[str, Any], prefix: str) -> Moments:
    """The Moments that ``moment_aggs(prefix, ...)`` computed, read from a result row."""
    return Moments(
        n=as_int(row[f"{prefix}__n"]), total=as_int(row[f"{prefix}__s"]), total_sq=as_int(row[f"{prefix}__ss"])
    )


def one_row(expr: ir.Table) -> dict[str, Any]:
    """The single row of an aggregate query."""
    return expr.to_pyarrow().to_pylist()[0]


def rows(expr: ir.Table) -> list[dict[str, Any]]:
    """Every row of a (small, aggregated) query."""
    return expr.to_pyarrow().to_pylist()
