"""The subgroups table's "vs the rest" rows: each level's response difference from the rest of
the completers with Newcombe's interval, read from the published tree (issue 12)."""

from __future__ import annotations

from burnout.report.format import fmt_num, fmt_signed
from burnout.report.labels import NDASH
from burnout.report.tables.model import Record

__all__ = ["DIFFERENCE_LABEL", "difference_cell"]

DIFFERENCE_LABEL = "\u2003vs the rest, points (95% CI)"


def difference_cell(r: Record) -> str:
    """ "+3.1 (\u22125.0 to 11.2)" in percentage points, from the record's ``difference_*`` fields."""
    estimate, low, high = r.get("difference_from_rest"), r.get("difference_ci_low"), r.get("difference_ci_high")
    if estimate is None:
        return NDASH
    ci = "" if low is None or high is None else f" ({fmt_num(100 * low, 1)} to {fmt_num(100 * high, 1)})"
    return f"{fmt_signed(100 * estimate, 1)}{ci}"
