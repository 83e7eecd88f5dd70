"""Scoring: MBI-GS subscales and PHQ-9 totals, exact.

Scores never pass through floating point before a decision is made on them. A
subscale score is the mean of its answered items; here it is held as an integer
number of units of ``1/SCALE`` point (``instrument.SCALE = 600000``), which is exact
because a mean of 1..6 integer items is a multiple of 1/60. A PHQ-9 total is held in
units of ``1/PHQ9_SCALE`` (504 = lcm(7, 8, 9)), exact for proration by 9/7 and 9/8.

The engine functions (``score_mbi``, ``score_phq9``) build Ibis expressions; the
``*_exact`` functions are the same rules on one patient's items in plain Python,
used by tests and by the simulator's documentation.

>>> subscale_score_exact([5, 5, 4, 5, None], max_missing_items=1)
Fraction(19, 4)
>>> subscale_score_exact([5, None, 4, 5, None], max_missing_items=1) is None
True
>>> phq9_total_exact([1, 2, 3, 0, 1, 2, None, 1, 1])
Fraction(99, 8)
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from fractions import Fraction
from typing import Final

import ibis
import ibis.expr.types as ir

from burnout.instrument import MBI_ITEMS, PHQ9_ITEMS, SCALE, SUBSCALES
from burnout.instruments import Instrument, keyed, load_instrument
from burnout.plan.eligibility import All, Compare, Not, Rule

__all__ = [
    "PHQ9_MAX_MISSING",
    "PHQ9_SCALE",
    "at_least",
    "at_most",
    "eligibility_expr",
    "phq9_total_exact",
    "scale_units_expr",
    "score_mbi",
    "score_phq9",
    "subscale_score_exact",
    "subscale_units_expr",
    "to_units_ceil",
    "to_units_floor",
    "units_to_float",
]

_MBI_GS = load_instrument("mbi_gs")
_MBI_COLUMNS: Final[dict[int, str]] = {p: f"item_{p}" for p in range(1, MBI_ITEMS + 1)}
_PHQ9 = load_instrument("phq9")
PHQ9_SCALE: Final[int] = _PHQ9.units_per_point  # 504 = lcm(7, 8, 9): prorated totals are exact multiples of 1/504
PHQ9_MAX_MISSING: Final[int] = _PHQ9.scales["total"].max_blank


def subscale_score_exact(items: Sequence[int | None], *, max_missing_items: int) -> Fraction | None:
    """Mean of the answered items as an exact fraction, or None when too many are blank.

    Parameters
    ----------
    items
        The subscale's item responses (0-6), None for a blank.
    max_missing_items
        The most blank items a scored subscale may have.
    """
    answered = [v for v in items if v is not None]
    if not answered or len(items) - len(answered) > max_missing_items:
        return None
    return Fraction(sum(answered), len(answered))


def phq9_total_exact(items: Sequence[int | None]) -> Fraction | None:
    """PHQ-9 total: the item sum; with 1-2 blanks prorated as sum * 9 / answered (not rounded)."""
    answered = [v for v in items if v is not None]
    if len(items) - len(answered) > PHQ9_MAX_MISSING:
        return None
    return Fraction(sum(answered) * PHQ9_ITEMS, len(answered))


def to_units_ceil(value: Fraction | float | int | str, *, scale: int = SCALE) -> int:
    """Smallest integer unit count u with u / scale >= value.

    ``score >= value`` holds exactly when ``units >= to_units_ceil(value)``. Floats
    are taken at their exact binary value; pass a str or Fraction for a decimal cut-off.
    """
    return math.ceil(_exact(value) * scale)


def to_units_floor(value: Fraction | float | int | str, *, scale: int = SCALE) -> int:
    """Largest integer unit count u with u / scale <= value (``score <= value`` exactly)."""
    return math.floor(_exact(value) * scale)


def _exact(value: Fraction | float | int | str) -> Fraction:
    if isinstance(value, bool):
        raise TypeError(f"a cut-off must be a number, got {value!r}")
    if isinstance(value, str | int | Fraction):
        return Fraction(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"a cut-off must be finite, got {value!r}")
        return Fraction(value)
    raise TypeError(f"a cut-off must be a number, got {type(value).__name__}")


def units_to_float(units: ir.IntegerValue, *, scale: int = SCALE) -> ir.FloatingValue:
    """The score as a float, for statistics only (never for a decision)."""
    return units.cast("float64") / scale


def at_least(units: ir.IntegerValue, cutoff: Fraction | float | str, *, scale: int = SCALE) -> ir.BooleanValue:
    """``score >= cutoff``, decided on integers."""
    return units >= to_units_ceil(cutoff, scale=scale)


def at_most(units: ir.IntegerValue, cutoff: Fraction | float | str, *, scale: int = SCALE) -> ir.BooleanValue:
    """``score <= cutoff``, decided on integers."""
    return units <= to_units_floor(cutoff, scale=scale)


def subscale_units_expr(t: ir.Table, subscale: str, *, max_missing_items: int) -> ir.IntegerValue:
    """Integer units (of ``1/SCALE``) of one MBI-GS subscale from item columns; null when not scored."""
    return scale_units_expr(t, _MBI_GS, subscale, columns=_MBI_COLUMNS, max_blank=max_missing_items)


def score_mbi(mbi_gs: ir.Table, *, max_missing_items: int, has_items: bool = True) -> ir.Table:
    """One row per (patient_id, after_session) with each subscale in integer units.

    Scores come from the items when the file has them (validation checked that any
    subscale columns agree), otherwise from the subscale columns, already in units.
    A subscale is null when more than ``max_missing_items`` of its items are blank.
    """
    if has_items:
        scores = {s: subscale_units_expr(mbi_gs, s, max_missing_items=max_missing_items).name(s) for s in SUBSCALES}
    else:
        scores = {s: mbi_gs[s].cast("int64").name(s) for s in SUBSCALES}
    return mbi_gs.select("patient_id", "after_session", **scores)


def score_phq9(phq9: ir.Table) -> ir.Table:
    """One row per (patient_id, after_session) with ``phq9`` in units of 1/PHQ9_SCALE (null if unscored)."""
    columns = {p: f"item_{p}" for p in range(1, PHQ9_ITEMS + 1)}
    return phq9.select("patient_id", "after_session", phq9=scale_units_expr(phq9, _PHQ9, "total", columns=columns))


def scale_units_expr(
    t: ir.Table, inst: Instrument, scale: str, *, columns: Mapping[int, str], max_blank: int | None = None
) -> ir.IntegerValue:
    """One scale of any instrument in integer units of ``1 / inst.units_per_point``; null when not scored.

    The engine's one scoring expression (MBI-GS subscales, PHQ-9 totals and every other
    definition). ``columns`` maps item positions to the table's integer columns (answers
    already checked to be in the response range). Reverse-keyed items enter keyed
    (`burnout.instruments.keyed`); a mean is ``sum * U // answered``, a prorated sum
    ``sum * k * U // answered``: exact, because ``U`` is a multiple of every denominator
    (`Instrument.units_needed`). ``max_blank`` overrides the definition's rule (the plan's
    ``max_missing_items`` does for the MBI-GS).
    """
    rule = inst.scales[scale]
    # narrow integer columns must not overflow
    answers = [keyed(inst, p, t[columns[p]].cast("int64")) for p in rule.items]
    total = sum((v.fill_null(0) for v in answers[1:]), answers[0].fill_null(0)).cast("int64")
    answered = sum((v.notnull().cast("int64") for v in answers[1:]), answers[0].notnull().cast("int64"))
    k = len(rule.items)
    most = rule.max_blank if max_blank is None else max_blank
    scored = (answered >= 1) & ((k - answered) <= most)
    per_point = inst.units_per_point * (1 if rule.scoring == "mean" else k)
    return ibis.ifelse(scored, total * per_point // answered.nullif(0), ibis.null("int64"))


def _compare_units(units: ir.IntegerValue, cmp: Compare, scale: int) -> ir.BooleanValue:
    v = cmp.value
    if cmp.op == ">=":
        return units >= to_units_ceil(v, scale=scale)
    if cmp.op == ">":
        return units > to_units_floor(v, scale=scale)
    if cmp.op == "<=":
        return units <= to_units_floor(v, scale=scale)
    if cmp.op == "<":
        return units < to_units_ceil(v, scale=scale)
    exact = v * scale  # == and != : a cut between two units is never equal to a score
    same = units == int(exact) if exact.denominator == 1 else ibis.ifelse(units.isnull(), ibis.null("boolean"), False)
    return same if cmp.op == "==" else ~same


def eligibility_expr(rule: Rule, units: Mapping[str, ir.IntegerValue], *, scale: int) -> ir.BooleanValue:
    """An eligibility rule (`burnout.plan.eligibility`) on integer units of ``1/scale`` point.

    Each comparison is decided on integers (``score >= c`` as ``units >= ceil(c * scale)``);
    nulls follow SQL's three-valued logic, as `burnout.plan.eligibility.evaluate_exact`.
    """
    if isinstance(rule, Compare):
        return _compare_units(units[rule.name], rule, scale)
    if isinstance(rule, Not):
        return ~eligibility_expr(rule.part, units, scale=scale)
    parts = [eligibility_expr(p, units, scale=scale) for p in rule.parts]
    return ibis.and_(*parts) if isinstance(rule, All) else ibis.or_(*parts)
