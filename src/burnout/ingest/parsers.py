"""Validate stage: every data-contract rule as engine queries; typed tables out.

:func:`validate_cohort` checks a :class:`~burnout.ingest.RawCohort` against
docs/spec/data-format.md and returns a :class:`Cohort` of typed tables, or raises
one :class:`~burnout.errors.DataError` holding every problem found in every file.

How it stays fast on millions of rows (Python never loops over rows):

1. Per table, one cached (materialised) query parses every text cell once: its typed
   value (null when blank or invalid) and a boolean flag that is true when the cell
   is filled in but invalid. Cells a Parquet or database source already holds as
   integers, booleans or dates are stored as read: their rule is a range test,
   evaluated where it is used (see "typed sources" below).
2. One aggregate query per table counts the violations of every rule and the rows
   behind every warning; typed cells are screened by their column's min and max (a
   count runs only for a column outside its range). Rules that compare neighbouring
   rows (duplicates, the date-order screen) share one global sort in a second, narrow
   query: a window carries every column of its query through the sort.
3. Only for rules with violations, one more query fetches the first 100 offending
   rows per rule (ordered by line) and the cells as written; the rest of each rule
   is summarised as "... and N more like this".
4. Once every cell has passed, the typed tables of the :class:`Cohort` are plain casts
   of the stored cells, so later stages neither re-parse text nor repeat range tests.

Cell rules (cells are trimmed first; an empty cell is blank):

- integers: digits with an optional sign and an optional ``.0`` tail (``"3.0"``
  is 3, as written by tools that store integers as floats); ``"4.5"``, ``"4,5"``,
  ``"1e1"`` are not integers;
- decimals: digits with an optional fraction. Subscale scores become exact
  integers in units of ``1/SCALE``: the text is cast to ``DECIMAL(38, 10)``, never
  a float, multiplied by SCALE and rounded to the nearest unit (exact up to 5 places);
- dates: ``YYYY-MM-DD`` and a real date (``2024-02-30`` is an error);
- booleans: true/false, 1/0, yes/no in any case;
- sex and route: matched case-insensitively; blank = unknown;
- pathway (free text) and patients' ``patient_id``: no control characters (C0 but
  tab, and DEL), which would break the SVG figures' XML and the tables.
"""

from __future__ import annotations

from dataclasses import dataclass

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir

from burnout.instrument import SCALE, SUBSCALES
from burnout.schema import COLUMNS, INSTRUMENT_TABLES, MBI_ITEM_COLUMNS, table_columns

_INT_RE = r"^[+-]?[0-9]{1,15}(\.0*)?$"
_DEC_RE = r"^[+-]?([0-9]{1,12}(\.[0-9]*)?|\.[0-9]+)$"
_DATE_RE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
_TRUE = ("true", "1", "yes")
_FALSE = ("false", "0", "no")
_SEX = ("female", "male", "other", "unknown")
_ROUTE = ("sublingual", "subcutaneous", "unknown")
_AGREE_UNITS = SCALE // 100  # 0.01 point
# C0 controls but tab, and DEL: a NUL in a label made the SVG figures ill-formed XML;
# line breaks in a level name break tables. Escapes, not the characters, so the SQL
# text holds none of them (DuckDB, PostgreSQL and Spark regexes all read \xNN).
_CONTROL_RE = r"[\x00-\x08\x0a-\x1f\x7f]"
_CONTROL_RE_NO_NUL = r"[\x01-\x08\x0a-\x1f\x7f]"  # PostgreSQL: text cannot hold NUL, nor its regex name it
_NO_CONTROL = (
    "no control characters (tab is allowed; NUL, line breaks, other characters below U+0020 and DEL "
    "are not): remove them from the cell"
)
_NULL_INT = ibis.null("int64")

# The typed columns of docs/architecture.md, in order.
_TYPED: dict[str, tuple[str, ...]] = {
    "patients": ("patient_id", "age", "sex", "route", "pathway"),
    "mbi_gs": ("patient_id", "after_session", *MBI_ITEM_COLUMNS, *SUBSCALES),
    "sessions": ("patient_id", "session", "dose_mg", "monitor_present", "side_effects", "serious_adverse_event"),
    **{n: tuple(c for c in COLUMNS[n] if c != "completed_on") for n in INSTRUMENT_TABLES},
}


def _typed_column_names(name: str) -> tuple[str, ...]:
    """A table's typed columns: `_TYPED`, or a user instrument table's (its columns but completed_on)."""
    return _TYPED[name] if name in _TYPED else tuple(c for c in table_columns(name) if c != "completed_on")


# --------------------------------------------------------------------------- parsing


def _trim(col: ir.Value, *, engine: str = "duckdb") -> ir.StringValue:
    """The trimmed cell as text, null when blank.

    - DuckDB: TRIM with a character set costs ~200 ns a cell, so it runs only when the
      first or last character could be whitespace (<= " " in byte order): 7x faster.
    - Spark: ``strip()`` compiles to ``TRIM('...\\v\\f' FROM x)``, which Spark reads as
      the letters v and f (so "female" became "emale"); a regex trims there instead.
    - Otherwise (PostgreSQL) plain ``strip()``: string order there follows the collation.
    """
    text = col.cast("string")
    if engine == "pyspark":
        text = text.re_replace(r"^\s+|\s+$", "")
    elif engine == "duckdb":
        edge = (text.substr(0, 1) <= " ") | (text.right(1) <= " ")
        text = ibis.cases((edge, text.strip()), else_=text)
    else:
        text = text.strip()
    return text.nullif("")


@dataclass(frozen=True)
class _Parsed:
    value: ir.Value  # typed, null when blank or invalid
    bad: ir.BooleanValue  # the cell is filled in and invalid (text parsers: never null; typed: null when blank)
    # typed cells: (expression, lo, hi) such that the cell is bad exactly when the
    # expression is outside lo..hi; a column's min and max then decide whether any is
    screen: tuple[ir.Value, int | None, int | None] | None = None
    # typed cells: the value of a cell known to be valid (after validation passed), which
    # saves every later query the range test
    valid: ir.Value | None = None


# Every cast runs only inside a CASE branch whose condition proves the text well
# formed: PostgreSQL has no TRY_CAST (Ibis compiles try_cast to a plain CAST there,
# which fails the whole query on the first bad cell).


def _int(text: ir.StringValue, raw: ir.StringValue, lo: int, hi: int | None = None, *, try_cast: bool) -> _Parsed:
    """An integer lo..hi; ``text`` is the trimmed cell, ``raw`` the cell as written.

    Most cells are written canonically ("3"). Where a failed cast is null, those are
    recognised by casting the raw cell and printing it back (about 2x faster than a set
    lookup, 3x faster than trim + regex); everything else goes through the regex.
    """
    fmt = text.re_search(_INT_RE)
    num = ibis.cases((fmt, text.re_replace(r"\.0*$", "").cast("int64")), else_=_NULL_INT)
    ok = num >= lo if hi is None else num.between(lo, hi)
    if try_cast:
        quick = raw.try_cast("int64")
        in_range = quick >= lo if hi is None else quick.between(lo, hi)
        fast = in_range & (quick.cast("string") == raw)
        value = ibis.cases((fast, quick), (ok, num), else_=_NULL_INT)
    else:
        fast = text.isin([str(i) for i in range(lo, (lo + 30 if hi is None else min(hi, lo + 30)) + 1)])
        value = ibis.cases((fast, text.cast("int64")), (ok, num), else_=_NULL_INT)
    return _Parsed(value, text.notnull() & value.isnull())


def _units(text: ir.StringValue, hi: int) -> _Parsed:
    """A decimal 0..hi as exact int64 units of 1/SCALE (through DECIMAL, never a float)."""
    dec = text.cast(dt.Decimal(38, 10))
    units = ibis.cases((text.re_search(_DEC_RE), (dec * SCALE).round().cast("int64")), else_=_NULL_INT)
    value = ibis.cases((units.between(0, hi * SCALE), units), else_=_NULL_INT)
    return _Parsed(value, text.notnull() & value.isnull())


def _positive(text: ir.StringValue) -> _Parsed:
    num = ibis.cases((text.re_search(_DEC_RE), text.cast("float64")), else_=ibis.null("float64"))
    value = ibis.cases((num > 0, num), else_=ibis.null("float64"))
    return _Parsed(value, text.notnull() & value.isnull())


def _date(text: ir.StringValue, *, try_cast: bool = True) -> _Parsed:
    """YYYY-MM-DD naming a real day.

    With ``try_cast`` (DuckDB, Spark: a failed cast is null) the engine's date parser
    decides; otherwise (PostgreSQL) the day is checked arithmetically, about 7x slower.
    """
    fmt = text.re_search(_DATE_RE)
    if try_cast:
        # year 0 exists for DuckDB but not for Python, PostgreSQL or the contract
        d = ibis.cases((fmt & ~text.startswith("0000"), text.try_cast("date")), else_=ibis.null("date"))
        return _Parsed(d, text.notnull() & d.isnull())
    y = ibis.cases((fmt, text.substr(0, 4).cast("int64")), else_=_NULL_INT)
    m = ibis.cases((fmt, text.substr(5, 2).cast("int64")), else_=_NULL_INT)
    d = ibis.cases((fmt, text.substr(8, 2).cast("int64")), else_=_NULL_INT)
    leap = ((y % 4 == 0) & (y % 100 != 0)) | (y % 400 == 0)
    month_days = ibis.cases(
        (m == 2, ibis.cases((leap, 29), else_=28)),
        (m.isin([4, 6, 9, 11]), 30),
        else_=31,
    )
    real = fmt & (y >= 1) & m.between(1, 12) & d.between(1, month_days)
    value = ibis.cases((real, text.cast("date")), else_=ibis.null("date"))
    return _Parsed(value, text.notnull() & value.isnull())


_TRUE_FAST = ("true", "TRUE", "True", "1", "yes", "YES", "Yes")
_FALSE_FAST = ("false", "FALSE", "False", "0", "no", "NO", "No")


def _bool(text: ir.StringValue, raw: ir.StringValue) -> _Parsed:
    low = text.lower()  # only for unusual spellings (" tRUE"): trim + lower() is the slow part
    value = ibis.cases(
        (raw.isin(_TRUE_FAST), True),
        (raw.isin(_FALSE_FAST), False),
        (low.isin(_TRUE), True),
        (low.isin(_FALSE), False),
        else_=ibis.null("boolean"),
    )
    return _Parsed(value, text.notnull() & value.isnull())


def _vocab(text: ir.StringValue, words: tuple[str, ...]) -> _Parsed:
    low = text.lower()
    value = ibis.cases((text.isnull(), "unknown"), (low.isin(words), low), else_=ibis.null("string"))
    return _Parsed(value, value.isnull())


def _free_text(text: ir.StringValue, raw: ir.StringValue, *, control: str = _CONTROL_RE) -> _Parsed:
    return _Parsed(text.lower().fill_null("unknown"), raw.re_search(control))


# --------------------------------------------------------------------------- typed sources
# A Parquet or database column that already holds integers, booleans or dates is
# checked as it is: the same decision the text parser makes on the text a CSV export
# of it would hold, without printing and re-parsing every cell. Columns of any other
# type go through the text parsers. Here ``bad`` is null for a blank cell (callers
# fill it with false): a bare range test is what the counting query evaluates, ~3x
# cheaper than testing the parsed value.


def _native_int(col: ir.Value, lo: int, hi: int | None) -> _Parsed | None:
    if not col.type().is_integer():
        return None
    ok = col >= lo if hi is None else col.between(lo, hi)
    value = ibis.cases((ok, col.cast("int64")), else_=_NULL_INT)
    return _Parsed(value, ~ok, (col, lo, hi), col.cast("int64"))


def _native_units(col: ir.Value, hi: int) -> _Parsed | None:
    if not col.type().is_integer():
        return None  # a float is printed and parsed as a decimal, exactly as in CSV
    ok = col.between(0, hi)
    value = ibis.cases((ok, col.cast("int64") * SCALE), else_=_NULL_INT)
    return _Parsed(value, ~ok, (col, 0, hi), col.cast("int64") * SCALE)


def _native_positive(col: ir.Value) -> _Parsed | None:
    # Floats go through text: DuckDB 2.0 answers isnan() from the Parquet column
    # statistics, which leave NaN out, so a NaN dose would pass any numeric test.
    if not col.type().is_integer():
        return None
    value = ibis.cases((col > 0, col.cast("float64")), else_=ibis.null("float64"))
    return _Parsed(value, col <= 0, (col, 1, None), col.cast("float64"))


def _native_date(col: ir.Value) -> _Parsed | None:
    if not col.type().is_date():
        return None
    year = col.year()
    ok = year.between(1, 9999)
    value = ibis.cases((ok, col), else_=ibis.null("date"))
    return _Parsed(value, ~ok, (year, 1, 9999), col)


def _native_bool(col: ir.Value) -> _Parsed | None:
    typ = col.type()
    if typ.is_boolean():
        return _Parsed(col, ibis.literal(False), None, col)
    if typ.is_integer():
        value = ibis.cases((col == 1, True), (col == 0, False), else_=ibis.null("boolean"))
        return _Parsed(value, ~col.isin([0, 1]), (col, 0, 1), col == 1)
    return None
