"""Validate stage: what each documented column allows and how its cells are parsed. (columns)."""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import ibis
import ibis.expr.types as ir

from burnout.ingest.parsers import (
    _CONTROL_RE,
    _CONTROL_RE_NO_NUL,
    _NO_CONTROL,
    _ROUTE,
    _SEX,
    _bool,
    _date,
    _free_text,
    _int,
    _native_bool,
    _native_date,
    _native_int,
    _native_positive,
    _native_units,
    _Parsed,
    _positive,
    _units,
    _vocab,
)
from burnout.instrument import MBI_ITEM_MAX, SUBSCALES
from burnout.schema import MBI_ITEM_COLUMNS, item_range, table_columns

_NULL_INT = ibis.null("int64")
_DATE_ALLOWED = "a date written YYYY-MM-DD that exists, e.g. 2024-03-31 (blank allowed)"


class _Rule(NamedTuple):
    """How one column is read and what it allows."""

    text: Callable[[ir.StringValue, ir.StringValue], _Parsed]  # parser of (trimmed text, text as written)
    allowed: str
    typed: Callable[[ir.Value], _Parsed | None] | None = None  # parser of a typed source cell (None: text only)


def _int_rule(lo: int, hi: int | None, allowed: str, *, try_cast: bool) -> _Rule:
    return _Rule(lambda s, r: _int(s, r, lo, hi, try_cast=try_cast), allowed, lambda c: _native_int(c, lo, hi))


def _on_step(parsed: _Parsed | None, lo: int, step: int) -> _Parsed | None:
    """``parsed`` with an answer between the steps (CBI's 0, 25, ..., 100: 30) invalid too.

    No min/max screen: a cell between steps lies inside the range, so only a count finds it.
    """
    if parsed is None:
        return None
    off = parsed.value.notnull() & ((parsed.value - lo) % step != 0)
    value = ibis.cases((off, _NULL_INT), else_=parsed.value)
    return _Parsed(value, parsed.bad.fill_null(False) | off.fill_null(False))


def _answer_rule(lo: int, hi: int, step: int, *, try_cast: bool) -> _Rule:
    """An item's answer: an integer lo..hi, on the definition's steps."""
    if step == 1:
        return _int_rule(lo, hi, f"an integer {lo}-{hi} (blank = not answered)", try_cast=try_cast)
    answers = ", ".join(str(a) for a in range(lo, hi + 1, step))
    return _Rule(
        lambda s, r: _on_step(_int(s, r, lo, hi, try_cast=try_cast), lo, step),  # type: ignore[arg-type, return-value]  # _int never returns None
        f"one of {answers} (blank = not answered)",
        lambda c: _on_step(_native_int(c, lo, hi), lo, step),
    )


def _parsers(name: str, *, try_cast: bool = True) -> dict[str, _Rule]:
    """Column -> its rule (text parser, what is allowed, typed parser) for one table.

    ``try_cast``: the engine returns null for a failed cast (DuckDB, Spark; not PostgreSQL).
    """
    date = _Rule(lambda s, r: _date(s, try_cast=try_cast), _DATE_ALLOWED, _native_date)

    if name == "patients":
        return {
            "age": _int_rule(18, 120, "an integer 18-120 (years at baseline; blank = unknown)", try_cast=try_cast),
            "sex": _Rule(lambda s, r: _vocab(s, _SEX), "female, male, other or unknown (any case; blank = unknown)"),
            "route": _Rule(lambda s, r: _vocab(s, _ROUTE), "sublingual or subcutaneous (any case; blank = unknown)"),
            "pathway": _Rule(
                lambda s, r: _free_text(s, r, control=_CONTROL_RE if try_cast else _CONTROL_RE_NO_NUL),
                f"free text with {_NO_CONTROL}",
            ),
        }
    if name == "sessions":
        out: dict[str, _Rule] = {
            "session": _int_rule(1, None, "an integer >= 1, required (the session number)", try_cast=try_cast),
            "held_on": date,
            "dose_mg": _Rule(
                lambda s, r: _positive(s), "a decimal > 0, e.g. 2.5 (blank = not recorded)", _native_positive
            ),
        }
        for col, blank in (
            ("monitor_present", "not recorded"),
            ("side_effects", "not asked"),
            ("serious_adverse_event", "none reported"),
        ):
            out[col] = _Rule(_bool, f"true or false (also 1/0, yes/no, any case; blank = {blank})", _native_bool)
        return out
    if name == "mbi_gs":
        items, item_min, item_max, step = MBI_ITEM_COLUMNS, 0, MBI_ITEM_MAX, 1
    else:  # any instrument's table: its definition's items and answer range
        items = tuple(c for c in table_columns(name) if c.startswith("item_"))
        item_min, item_max, step = item_range(name)
    out = {
        "after_session": _int_rule(
            0, None, "an integer >= 0, required (0 = baseline, k = after session k)", try_cast=try_cast
        ),
        "completed_on": date,
    }
    for col in items:
        out[col] = _answer_rule(item_min, item_max, step, try_cast=try_cast)
    if name == "mbi_gs":
        for s in SUBSCALES:
            out[s] = _Rule(
                lambda x, r: _units(x, MBI_ITEM_MAX),
                f"a decimal 0-{MBI_ITEM_MAX}, e.g. 3.4 (blank = not scored)",
                lambda c: _native_units(c, MBI_ITEM_MAX),
            )
    return out
