"""The subgroups table's "vs the rest" rows: each level's response difference from the rest of
the completers with Newcombe's interval, read from the published tree (issue 12)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from burnout.report.format import fmt_num, fmt_signed
from burnout.report.labels import NDASH

__all__ = ["DIFFERENCE_LABEL", "difference_row"]

DIFFERENCE_LABEL = "\u2003vs the rest, points (95% CI)"


def _cell(diff: Mapping[str, Any] | None) -> str:
    if not diff or diff.get("estimate") is None:
        return NDASH
    low, high = diff.get("ci") or [None, None]
    ci = "" if low is None or high is None else f" ({fmt_num(100 * low, 1)} to {fmt_num(100 * high, 1)})"
    return f"{fmt_signed(100 * diff['estimate'], 1)}{ci}"


def difference_row(variable_label: str, entry: Mapping[str, Any], outcomes: Sequence[str]) -> dict[str, str] | None:
    """The row under a level, or None when no difference of it was published."""
    diffs = entry.get("difference_from_rest") or {}
    if not any((diffs.get(o) or {}).get("estimate") is not None for o in outcomes):
        return None
    return {"variable": variable_label, "level": DIFFERENCE_LABEL, "n": ""} | {o: _cell(diffs.get(o)) for o in outcomes}
