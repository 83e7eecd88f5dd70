"""Validate stage: every data-contract rule as engine queries; typed tables out.

:func:`validate_cohort` checks a :class:`~burnout.load.RawCohort` against
shared/spec/data-format.md and returns a :class:`Cohort` of typed tables, or raises
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

import os
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir

from burnout._schema import COLUMNS, MBI_ITEM_COLUMNS, PHQ9_ITEM_COLUMNS, TABLES
from burnout.errors import DataError, Problem
from burnout.instrument import MBI_ITEM_MAX, PHQ9_ITEM_MAX, SCALE, SUBSCALE_ITEMS, SUBSCALES
from burnout.load import MAX_PER_RULE, RawCohort, _as_text, _is_url, read_checked_files, read_cohort

__all__ = ["Cohort", "load_cohort", "validate_cohort"]

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
    "phq9": ("patient_id", "after_session", *PHQ9_ITEM_COLUMNS),
}


@dataclass(frozen=True, eq=False, repr=False)
class Cohort:
    """A validated cohort: typed tables in the engine, parsed once.

    Attributes
    ----------
    con : ibis.BaseBackend
        The engine holding the tables.
    patients : ibis.Table
        ``patient_id`` string, ``age`` int64 (null = blank), ``sex`` string
        (female|male|other|unknown), ``route`` string (sublingual|subcutaneous|unknown),
        ``pathway`` string (lower-cased, trimmed; blank = "unknown").
    mbi_gs : ibis.Table
        ``patient_id``, ``after_session`` int64, ``item_1`` .. ``item_16`` int64
        (null = blank or column absent), ``exhaustion``, ``cynicism``,
        ``professional_efficacy`` int64 in units of ``1/instrument.SCALE`` (null
        when blank or the column is absent). All rows, also at unscheduled timepoints.
    sessions : ibis.Table
        ``patient_id``, ``session`` int64, ``dose_mg`` float64, ``monitor_present``
        bool, ``side_effects`` bool (null = not asked), ``serious_adverse_event``
        bool (blank = false).
    phq9 : ibis.Table or None
        ``patient_id``, ``after_session`` int64, ``item_1`` .. ``item_9`` int64;
        None when the folder has no phq9 file.
    mbi_has_items : bool
        mbi_gs carries all 16 item columns (subscales are scored from items).
    mbi_has_subscales : bool
        mbi_gs carries the three subscale columns.
    warnings : tuple[str, ...]
        Things that do not make the data wrong (unknown columns, dates out of
        order, unscheduled timepoints, sessions beyond the schedule). They go into
        the results, so they name files, columns and lines, never a patient id.
    source : str
        Where the cohort was read from.
    files : Mapping[str, str]
        Table name to file name, e.g. ``{"mbi_gs": "mbi_gs.csv", ...}``.
    fingerprint : str
        SHA-256 of the validated content (see :func:`burnout.fingerprint.content_fingerprint`).
    rows : Mapping[str, int]
        Rows per table.
    file_columns : Mapping[str, ibis.Table]
        Per table, ``_line`` and every documented column present in its file, typed
        as above (dates as ``date``; ``patient_id`` trimmed): for consumers that need
        the columns the analysis tables leave out, e.g. a database import.

    Notes
    -----
    Each table is a column selection of one materialised engine table (which also
    holds the line numbers and validation flags), so using it never re-reads or
    re-parses the input files.
    """

    con: ibis.BaseBackend
    patients: ir.Table
    mbi_gs: ir.Table
    sessions: ir.Table
    phq9: ir.Table | None
    mbi_has_items: bool
    mbi_has_subscales: bool
    warnings: tuple[str, ...]
    source: str
    files: Mapping[str, str]
    fingerprint: str
    rows: Mapping[str, int] = field(default_factory=dict)
    file_columns: Mapping[str, ir.Table] = field(default_factory=dict)

    def __repr__(self) -> str:
        r = self.rows
        phq = f"{r.get('phq9', 0):,} PHQ-9 assessments" if self.phq9 is not None else "no PHQ-9"
        warn = f", {len(self.warnings)} warnings" if self.warnings else ""
        return (
            f"<Cohort: {r.get('patients', 0):,} patients, {r.get('mbi_gs', 0):,} assessments, "
            f"{r.get('sessions', 0):,} sessions, {phq}{warn} from {self.source}>"
        )


def load_cohort(
    source: str | os.PathLike[str],
    *,
    scheduled_assessments: Sequence[int] = (0, 2, 4, 6),
    scheduled_sessions: int = 6,
    max_missing_items: int = 1,
    con: ibis.BaseBackend | None = None,
    max_line_bytes: int | None = None,
) -> Cohort:
    """Read and validate a cohort folder: :func:`~burnout.load.read_cohort` then :func:`validate_cohort`.

    The raw text tables are dropped from the engine afterwards; only the typed
    tables of the returned :class:`Cohort` remain. ``max_line_bytes`` is the longest
    CSV line read (see :func:`~burnout.load.read_cohort`; None: 2,000,000); a longer
    one is a problem.

    Raises
    ------
    DataError
        With every problem in every file (and the warnings found so far).

    Notes
    -----
    A folder to be analysed on another engine (Spark, PostgreSQL) is validated by an
    in-memory DuckDB first, so every problem carries its true file line; the engine
    then reads the same files (Spark itself; others through Arrow) and types them with
    the same parsers, without running the rules again.
    """
    if con is not None and getattr(con, "name", None) != "duckdb" and not _is_url(source):
        first = read_cohort(source, max_line_bytes=max_line_bytes)
        try:
            checked = validate_cohort(
                first,
                scheduled_assessments=scheduled_assessments,
                scheduled_sessions=scheduled_sessions,
                max_missing_items=max_missing_items,
            )
        finally:
            first.close()
        raw = read_checked_files(first, con=con)
        try:
            return _retype(raw, checked)
        finally:
            raw.close()
    raw = read_cohort(source, con=con, max_line_bytes=max_line_bytes)
    try:
        return validate_cohort(
            raw,
            scheduled_assessments=scheduled_assessments,
            scheduled_sessions=scheduled_sessions,
            max_missing_items=max_missing_items,
        )
    finally:
        raw.close()


def validate_cohort(
    raw: RawCohort,
    *,
    scheduled_assessments: Sequence[int] = (0, 2, 4, 6),
    scheduled_sessions: int = 6,
    max_missing_items: int = 1,
) -> Cohort:
    """Check every rule of the data contract; return typed tables or raise with all problems.

    Parameters
    ----------
    raw : RawCohort
        From :func:`burnout.load.read_cohort`.
    scheduled_assessments : sequence of int
        ``after_session`` values of the protocol's assessments; rows at other values
        are kept but produce a warning (they are not analysed).
    scheduled_sessions : int
        Sessions in the protocol; sessions numbered higher produce a warning.
    max_missing_items : int
        Used only to decide when items and subscale columns must agree: the item
        score of a subscale exists when at most this many of its items are blank
        (the scoring rule); when it does not exist, agreement is not checked.

    Returns
    -------
    Cohort
        Typed tables in ``raw.con`` (see :class:`Cohort`).

    Raises
    ------
    DataError
        Listing every problem, sorted by file, line and column: file, line (row
        number for Parquet), patient_id, column, the value found and what is
        allowed. At most 100 problems per file, column and rule are listed, then one
        "... and N more like this" line. ``DataError.warnings`` holds the warnings.
    ValueError
        If an option is out of range.
    """
    sched = tuple(int(a) for a in scheduled_assessments)
    if not sched or any(a < 0 for a in sched):
        raise ValueError(f"scheduled_assessments must be non-negative integers, got {scheduled_assessments!r}")
    n_sessions = int(scheduled_sessions)
    if n_sessions < 1:
        raise ValueError(f"scheduled_sessions must be >= 1, got {scheduled_sessions!r}")
    if not 0 <= int(max_missing_items) <= 5:
        raise ValueError(f"max_missing_items must be 0-5, got {max_missing_items!r}")

    problems: list[Problem] = list(raw.problems)
    summaries: list[Problem] = []
    warnings: list[str] = list(raw.warnings)
    specs: dict[str, _TableSpec] = {}
    with _scratch(raw.con) as scratch:
        patient_ids: ir.Column | None = None
        for name in TABLES:
            if name not in raw.tables:
                continue
            spec = _spec(scratch, name, raw, patient_ids, int(max_missing_items))
            specs[name] = spec
            problems.extend(spec.column_problems)
            if name == "patients" and "patient_id" in spec.present:
                patient_ids = spec.t.filter(spec.t.patient_id.notnull()).patient_id

        rows: dict[str, int] = {}
        latest: dict[str, int | None] = {}  # the latest (scheduled) session, or assessment's session
        for name, spec in specs.items():
            found, summary, n_rows, counts = _run_checks(
                spec, _warning_flags(spec, sched, n_sessions), extra=_latest_metric(spec, sched)
            )
            latest[name] = counts.get("latest")
            if counts.get("order_suspect_rows"):
                key, date = ("session", "held_on") if name == "sessions" else ("after_session", "completed_on")
                counts.update(_date_order(spec, key, date))
            problems.extend(found)
            summaries.extend(summary)
            rows[name] = n_rows
            if n_rows == 0 and name in ("patients", "mbi_gs"):
                what = "one row per patient" if name == "patients" else "one row per patient and assessment"
                problems.append(_file_problem(spec.display, f"the file has a header but no rows: needs {what}"))
            warnings.extend(_warnings(spec, counts, sched, n_sessions))
        if not problems and not summaries:
            warnings.extend(_unrecorded_sessions(specs, latest, sched))

        if problems or summaries:
            ordered = sorted(problems, key=_sort_key) + sorted(summaries, key=_sort_key)
            ordered.sort(key=lambda p: p.file)  # stable: each file's summaries stay after its problems
            # problems with the files themselves first: they often cause the rest
            of_files = set(raw.problems)
            ordered.sort(key=lambda p: p not in of_files)
            raise DataError(ordered, warnings=tuple(warnings))

    from burnout.fingerprint import content_fingerprint

    typed = {name: spec.parsed.typed() for name, spec in specs.items()}
    file_columns = {name: spec.parsed.file_columns() for name, spec in specs.items()}
    mbi_cols = specs["mbi_gs"].present
    return Cohort(
        con=raw.con,
        patients=typed["patients"],
        mbi_gs=typed["mbi_gs"],
        sessions=typed["sessions"],
        phq9=typed.get("phq9"),
        mbi_has_items=set(MBI_ITEM_COLUMNS) <= mbi_cols,
        mbi_has_subscales=set(SUBSCALES) <= mbi_cols,
        warnings=tuple(warnings),
        source=raw.source,
        files=dict(raw.files),
        fingerprint=content_fingerprint(file_columns),  # the same content from any source or engine
        rows=rows,
        file_columns=file_columns,
    )


def _retype(raw: RawCohort, checked: Cohort) -> Cohort:
    """``checked`` (validated elsewhere) rebuilt in ``raw.con`` from ``raw``'s tables.

    The same parsers make the typed tables; no rule is checked again. One query counts
    the rows of every table and must find the rows the validation found, else the
    engine read the files differently.
    """
    con = raw.con
    typed: dict[str, ir.Table] = {}
    file_columns: dict[str, ir.Table] = {}
    with _scratch(con) as scratch:
        for name in TABLES:
            if name in raw.tables:
                parsed = _parsed_table(scratch, name, raw.tables[name])
                typed[name] = parsed.typed()
                file_columns[name] = parsed.file_columns()
        counts = ibis.union(
            *(t.aggregate(_table=ibis.literal(name), _n=t.count()) for name, t in typed.items()), distinct=False
        )
        rows = {r["_table"]: int(r["_n"]) for r in counts.to_pyarrow().to_pylist()}
        if rows != dict(checked.rows):
            raise DataError(
                [
                    _file_problem(
                        raw.files.get(name, name),
                        f"the rows the validation read ({checked.rows.get(name, 0):,}); the {con.name} engine "
                        f"read {rows.get(name, 0):,} from the same file: re-save it as plain CSV or Parquet",
                    )
                    for name in typed
                    if rows.get(name) != checked.rows.get(name)
                ],
                warnings=checked.warnings,
            )
    return Cohort(
        con=con,
        patients=typed["patients"],
        mbi_gs=typed["mbi_gs"],
        sessions=typed["sessions"],
        phq9=typed.get("phq9"),
        mbi_has_items=checked.mbi_has_items,
        mbi_has_subscales=checked.mbi_has_subscales,
        warnings=checked.warnings,
        source=checked.source,
        files=dict(checked.files),
        fingerprint=checked.fingerprint,
        rows=dict(checked.rows),
        file_columns=file_columns,
    )


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


_DATE_ALLOWED = "a date written YYYY-MM-DD that exists, e.g. 2024-03-31 (blank allowed)"
_REQUIRED_CELLS = frozenset({"after_session", "session"})


class _Rule(NamedTuple):
    """How one column is read and what it allows."""

    text: Callable[[ir.StringValue, ir.StringValue], _Parsed]  # parser of (trimmed text, text as written)
    allowed: str
    typed: Callable[[ir.Value], _Parsed | None] | None = None  # parser of a typed source cell (None: text only)


def _int_rule(lo: int, hi: int | None, allowed: str, *, try_cast: bool) -> _Rule:
    return _Rule(lambda s, r: _int(s, r, lo, hi, try_cast=try_cast), allowed, lambda c: _native_int(c, lo, hi))


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
            "dose_mg": _Rule(lambda s, r: _positive(s), "a decimal > 0, e.g. 2.5 (blank = not recorded)", _native_positive),
        }
        for col, blank in (
            ("monitor_present", "not recorded"),
            ("side_effects", "not asked"),
            ("serious_adverse_event", "none reported"),
        ):
            out[col] = _Rule(_bool, f"true or false (also 1/0, yes/no, any case; blank = {blank})", _native_bool)
        return out
    items, item_max = (MBI_ITEM_COLUMNS, MBI_ITEM_MAX) if name == "mbi_gs" else (PHQ9_ITEM_COLUMNS, PHQ9_ITEM_MAX)
    out = {
        "after_session": _int_rule(0, None, "an integer >= 0, required (0 = baseline, k = after session k)", try_cast=try_cast),
        "completed_on": date,
    }
    for col in items:
        out[col] = _int_rule(0, item_max, f"an integer 0-{item_max} (blank = not answered)", try_cast=try_cast)
    if name == "mbi_gs":
        for s in SUBSCALES:
            out[s] = _Rule(
                lambda x, r: _units(x, MBI_ITEM_MAX),
                f"a decimal 0-{MBI_ITEM_MAX}, e.g. 3.4 (blank = not scored)",
                lambda c: _native_units(c, MBI_ITEM_MAX),
            )
    return out


# --------------------------------------------------------------------------- rules


@dataclass(frozen=True)
class _Check:
    column: str | None
    bad: ir.BooleanValue
    allowed: str | Callable[[int | None, int | None], str]
    d1: ir.IntegerValue = _NULL_INT  # details for the message (e.g. first duplicate line)
    d2: ir.IntegerValue = _NULL_INT
    screen: tuple[ir.Value, int | None, int | None] | None = None  # see _Parsed.screen
    windowed: bool = False  # uses a window function (counted in a query of its own)


@dataclass
class _TableSpec:
    name: str
    display: str
    fmt: str
    parsed: _ParsedTable
    checks: list[_Check] = field(default_factory=list)
    column_problems: list[Problem] = field(default_factory=list)

    @property
    def t(self) -> ir.Table:
        return self.parsed.t

    @property
    def text(self) -> ir.Table:
        return self.parsed.text

    @property
    def present(self) -> frozenset[str]:
        return self.parsed.present

    @property
    def where(self) -> str:
        return "line" if self.fmt == "csv" else "row"


def _count(flag: ir.BooleanValue) -> ir.IntegerValue:
    """1 or 0 (PostgreSQL cannot cast a boolean to bigint)."""
    return ibis.cases((flag, 1), else_=0).cast("int64")


def _file_problem(display: str, allowed: str, *, column: str | None = None) -> Problem:
    return Problem(file=display, line=None, patient_id=None, column=column, value=None, allowed=allowed)


@dataclass
class _Scratch:
    """Engine objects made while validating: views to drop at the end, cached tables to
    release if validation fails (a valid cohort's typed tables select from them)."""

    con: ibis.BaseBackend
    token: str = field(default_factory=lambda: uuid.uuid4().hex[:10])
    views: list[str] = field(default_factory=list)
    tables: list[ir.Table] = field(default_factory=list)


@contextmanager
def _scratch(con: ibis.BaseBackend) -> Iterator[_Scratch]:
    scratch = _Scratch(con)
    try:
        yield scratch
    except BaseException:
        for table in scratch.tables:
            table.release()
        raise
    finally:
        for view in reversed(scratch.views):
            con.drop_view(view, force=True)


@dataclass(frozen=True)
class _ParsedTable:
    name: str
    present: frozenset[str]  # documented columns in the source
    t: ir.Table  # _line, typed columns, a <col>__b flag per column present
    text: ir.Table  # view: _line, each column as written, <col>__t trimmed text
    screens: dict[str, tuple[ir.Value, int | None, int | None]]  # see _Parsed.screen
    valid: ir.Table  # _line and the typed columns, for use once every cell has passed

    def typed(self) -> ir.Table:
        """The Cohort table: the typed columns of docs/architecture.md."""
        return self.valid.select(*_TYPED[self.name])

    def file_columns(self) -> ir.Table:
        """``_line`` and every documented column present in the source, typed."""
        return self.valid.select("_line", *(c for c in COLUMNS[self.name] if c in self.present))


def _parsed_table(scratch: _Scratch, name: str, t: ir.Table) -> _ParsedTable:
    """Materialise (``Table.cache``) the parse of one table.

    Every table returned is a selection of the one materialised table (which
    ``scratch.tables`` gets).

    The text view (trimmed cells as ``<col>__t``) is a view so that Ibis does not
    inline it into every parser, which would make the SQL grow with each use.
    """
    con = scratch.con
    present = [c for c in COLUMNS[name] if c in t.columns]
    parsers = _parsers(name, try_cast=con.name != "postgres")
    natives = {c: rule.typed for c, rule in parsers.items() if rule.typed is not None}
    direct = {c for c in present if c in natives and natives[c](t[c]) is not None}
    written = {c: (t[c] if t[c].type().is_string() else _as_text(t[c])) for c in present}
    text = t.select(
        _line=t._line.cast("int64"),
        **written,
        **{f"{c}__t": _trim(written[c], engine=con.name) for c in present if c not in direct},
        **{f"{c}__n": t[c] for c in direct},
    )
    scratch.views.append(f"burnout_text_{scratch.token}_{name}")
    text = con.create_view(scratch.views[-1], text)
    # What is stored: line, trimmed id, the value and flag of each text cell, and the
    # typed cell itself where the source had the type (its value and flag are cheap
    # range tests, recomputed on read instead of stored: ~40% less to materialise).
    stored: dict[str, ir.Value] = {"_line": text._line}
    if "patient_id" in present:
        stored["patient_id"] = text["patient_id__t"]
    for col, rule in parsers.items():
        if col in direct:
            stored[f"{col}__n"] = text[f"{col}__n"]
        elif col in present:
            parsed = rule.text(text[f"{col}__t"], text[col])
            stored[col] = parsed.value
            blank = text[f"{col}__t"].isnull()
            stored[f"{col}__b"] = (blank | parsed.bad) if col in _REQUIRED_CELLS else parsed.bad.fill_null(False)
    cached = text.select(**stored).cache()
    scratch.tables.append(cached)

    cols: dict[str, ir.Value] = {
        "_line": cached._line,
        "patient_id": cached.patient_id if "patient_id" in present else ibis.null("string"),
    }
    for col, rule in parsers.items():
        if col in direct:
            cell = cached[f"{col}__n"]
            parsed = natives[col](cell)
            value = parsed.value
            bad = (cell.isnull() | parsed.bad) if col in _REQUIRED_CELLS else parsed.bad.fill_null(False)
        elif col in present:
            value, bad = cached[col], cached[f"{col}__b"]
        else:
            value, bad = ibis.null(rule.text(ibis.null("string"), ibis.null("string")).value.type()), None
        cols[col] = value.fill_null(False) if col == "serious_adverse_event" else value
        if bad is not None:
            cols[f"{col}__b"] = bad
    out = cached.select(**cols, **{f"{c}__n": cached[f"{c}__n"] for c in direct})
    screens: dict[str, tuple[ir.Value, int | None, int | None]] = {}
    for col in direct - _REQUIRED_CELLS:
        screen = natives[col](out[f"{col}__n"]).screen
        if screen is not None:
            screens[col] = screen
    valid = cached.select(
        **{
            c: (natives[c](cached[f"{c}__n"]).valid if c in direct else v)
            for c, v in cols.items()
            if not c.endswith("__b")
        }
    )
    if "serious_adverse_event" in direct:
        valid = valid.mutate(serious_adverse_event=valid.serious_adverse_event.fill_null(False))
    return _ParsedTable(name=name, present=frozenset(present), t=out, text=text, screens=screens, valid=valid)


def _spec(scratch: _Scratch, name: str, raw: RawCohort, patient_ids: ir.Column | None, max_missing: int) -> _TableSpec:
    display = raw.files[name]
    parsed = _parsed_table(scratch, name, raw.tables[name])
    t, screens, present = parsed.t, parsed.screens, parsed.present
    spec = _TableSpec(name=name, display=display, fmt=raw.formats.get(name, "csv"), parsed=parsed)

    def require(cols: Sequence[str]) -> bool:
        missing = [c for c in cols if c not in present]
        for c in missing:
            spec.column_problems.append(
                _file_problem(display, f"a required column {c!r} in the header (documented: {', '.join(COLUMNS[name])})", column=c)
            )
        return not missing

    has_pid = require(["patient_id"])
    key = {"patients": None, "sessions": "session"}.get(name, "after_session")
    has_key = require([key]) if key else False
    if name == "phq9":
        require(PHQ9_ITEM_COLUMNS)
    if name == "mbi_gs":
        _mbi_columns(spec)

    if has_pid:
        _id_checks(spec, raw, patient_ids)
    for col, rule in _parsers(name).items():
        if col in present:
            spec.checks.append(_Check(col, t[f"{col}__b"], rule.allowed, screen=screens.get(col)))
    if has_pid and has_key and key is not None:
        _duplicates(spec, key)
    if name == "mbi_gs" and set(MBI_ITEM_COLUMNS) | set(SUBSCALES) <= present:
        _agreement(spec, max_missing)
    return spec


def _mbi_columns(spec: _TableSpec) -> None:
    present = spec.present
    has_items = [c for c in MBI_ITEM_COLUMNS if c in present]
    has_subs = [s for s in SUBSCALES if s in present]
    full_items, full_subs = len(has_items) == len(MBI_ITEM_COLUMNS), len(has_subs) == len(SUBSCALES)
    if not full_items and not full_subs:
        missing = [c for c in (*MBI_ITEM_COLUMNS, *SUBSCALES) if c not in present]
        spec.column_problems.append(
            _file_problem(
                spec.display,
                "all of item_1 ... item_16, or all of exhaustion, cynicism, professional_efficacy (or both); "
                f"missing: {', '.join(missing)}",
            )
        )
    elif has_items and not full_items:
        missing = [c for c in MBI_ITEM_COLUMNS if c not in present]
        spec.column_problems.append(
            _file_problem(spec.display, f"all 16 item columns or none; missing: {', '.join(missing)}", column=missing[0])
        )
    elif has_subs and not full_subs:
        missing = [s for s in SUBSCALES if s not in present]
        spec.column_problems.append(
            _file_problem(spec.display, f"all three subscale columns or none; missing: {', '.join(missing)}", column=missing[0])
        )


def _id_checks(spec: _TableSpec, raw: RawCohort, patient_ids: ir.Column | None) -> None:
    t = spec.t
    pid = t.patient_id
    spec.checks.append(_Check("patient_id", pid.isnull(), "a patient_id (a non-empty pseudonymous id); this cell is blank"))
    if spec.name == "patients":
        # the other files' ids must be among these, so checking them here covers all
        control = _CONTROL_RE_NO_NUL if raw.con.name == "postgres" else _CONTROL_RE
        spec.checks.append(_Check("patient_id", pid.re_search(control), f"a patient_id with {_NO_CONTROL}"))
        w = ibis.window(group_by=pid)
        n = t._line.count().over(w)
        first = t._line.min().over(w)
        where = spec.where

        def dup(d1: int | None, d2: int | None) -> str:
            return f"each patient_id once: this id is on {d1:,} {where}s, the first on {where} {d2}"

        # counted with neighbours in one global sort; the group size and first line of the
        # message are computed only for the rows reported
        by_id = ibis.window(order_by=[pid, t._line])
        twin = ((pid == pid.lag().over(by_id)) | (pid == pid.lead().over(by_id))).fill_null(False)
        spec.checks.append(_Check("patient_id", pid.notnull() & twin, dup, n, first, windowed=True))
    elif patient_ids is not None:
        known = raw.files.get("patients", "patients.csv")
        spec.checks.append(
            _Check("patient_id", pid.notnull() & ~pid.isin(patient_ids), f"a patient_id listed in {known}; this id is not there")
        )


def _duplicates(spec: _TableSpec, key: str) -> None:
    """(patient_id, key) twice: a neighbour in (patient_id, key, line) order has the same pair.

    The flag uses the global sort the date-order screen uses (:func:`_by_patient_order`),
    so the engine sorts once for both (a global sort with neighbour comparisons is about
    twice as fast as partitioning by patient); the group size and first line for the
    message are computed only for the rows reported.
    """
    t = spec.t
    k = t[key]
    w = _by_patient_order(t, key)
    pid = t.patient_id
    same_prev = (pid == pid.lag().over(w)) & (k == k.lag().over(w))
    same_next = (pid == pid.lead().over(w)) & (k == k.lead().over(w))
    twin = (same_prev | same_next).fill_null(False)
    group = ibis.window(group_by=[t.patient_id, k])
    n = t._line.count().over(group)
    first = t._line.min().over(group)
    where = spec.where

    def dup(d1: int | None, d2: int | None) -> str:
        return f"one row per (patient_id, {key}): {d1:,} rows have this pair, the first on {where} {d2}"

    spec.checks.append(_Check(key, t.patient_id.notnull() & k.notnull() & twin, dup, n, first, windowed=True))


def _by_patient_order(t: ir.Table, key: str) -> Any:
    """Every row in (patient_id, key, line) order: one sort serves the duplicate and date checks."""
    return ibis.window(order_by=[t.patient_id, t[key], t._line])


def _agreement(spec: _TableSpec, max_missing: int) -> None:
    """Both items and subscale scores: they must agree to 0.01 where the item score exists."""
    t = spec.t
    for s in SUBSCALES:
        cols = [f"item_{i}" for i in SUBSCALE_ITEMS[s]]
        k = len(cols)
        answered = sum((_count(t[c].notnull()) for c in cols), ibis.literal(0, "int64"))
        total = sum((t[c].fill_null(0) for c in cols), ibis.literal(0, "int64"))
        any_bad = ibis.literal(False)
        for c in cols:
            any_bad = any_bad | t[f"{c}__b"]
        # the mean in 1/SCALE units is exact: SCALE is divisible by 1..6
        mean_units = ibis.cases(*((answered == a, total * (SCALE // a)) for a in range(1, k + 1)), else_=_NULL_INT)
        comparable = ~any_bad & (answered >= max(1, k - max_missing)) & t[s].notnull()
        bad = comparable & ((t[s] - mean_units).abs() > _AGREE_UNITS)
        items_text = "+".join(str(i) for i in SUBSCALE_ITEMS[s])

        def agree(d1: int | None, d2: int | None, _items: str = items_text) -> str:
            mean = "?" if d1 is None else f"{d1 / SCALE:.4f}".rstrip("0").rstrip(".")
            return (
                f"within 0.01 of the mean of its answered items ({_items}), which is {mean}; "
                "fix the items or the subscale score"
            )

        spec.checks.append(_Check(s, bad.fill_null(False), agree, mean_units))


def _warning_flags(spec: _TableSpec, sched: tuple[int, ...], n_sessions: int) -> dict[str, ir.BooleanValue]:
    """Row flags behind the warnings; counted in the same scan as the rules."""
    t, present = spec.t, spec.present
    flags: dict[str, ir.BooleanValue] = {}
    key, date = {"sessions": ("session", "held_on")}.get(spec.name, ("after_session", "completed_on"))
    if spec.name == "patients" or key not in present:
        return flags
    k = t[key]
    if spec.name == "sessions":
        flags["beyond"] = k > n_sessions
    else:
        flags["unscheduled"] = k.notnull() & ~k.isin(sched)
    if date in present and "patient_id" in present:
        # A cheap screen in the shared sort: a row dated before the row just before it of
        # the same patient, or a blank date after a dated row (a blank hides what came
        # before it from the neighbour comparison). When no row is suspect, no row is out
        # of order; otherwise _date_order counts them exactly.
        d, pid = t[date], t.patient_id
        w = _by_patient_order(t, key)
        before = d.lag().over(w)
        flags["order_suspect"] = (pid == pid.lag().over(w)) & ((d < before) | (d.isnull() & before.notnull()))
    return {name: f.fill_null(False) for name, f in flags.items()}


_WINDOWED_WARNINGS = frozenset({"order_suspect"})


def _date_order(spec: _TableSpec, key: str, date: str) -> dict[str, Any]:
    """Rows dated before the latest date of an earlier assessment/session of the same patient:
    row count, patients and the first line (the exact count behind the date-order warning)."""
    t = spec.t
    k, d = t[key], t[date]
    w = ibis.window(group_by=t.patient_id, order_by=[k, t._line], rows=(None, -1))
    flagged = t.mutate(_f=(t.patient_id.notnull() & k.notnull() & (d < d.max().over(w))).fill_null(False))
    row: dict[str, Any] = flagged.aggregate(
        order_rows=_count(flagged._f).sum(),
        order_patients=flagged.patient_id.nunique(where=flagged._f),
        order_line=flagged._line.min(where=flagged._f),
    ).to_pyarrow().to_pylist()[0]
    return row


# --------------------------------------------------------------------------- running


def _run_checks(
    spec: _TableSpec, warn_flags: Mapping[str, ir.BooleanValue], *, extra: Mapping[str, ir.Scalar] | None = None
) -> tuple[list[Problem], list[Problem], int, dict[str, Any]]:
    """Count every rule and warning in two scans; fetch the first rows only of rules that fail.

    Rules and warnings that compare neighbouring rows (window functions) are counted in
    a query over just the columns they read: a window carries every column of its
    query through the sort. Typed cells are screened by their column's min and max.
    """
    t = spec.t
    counts: dict[str, Any] = {}
    for windowed in (False, True):
        checks = {i: c for i, c in enumerate(spec.checks) if c.windowed == windowed}
        warns = {k: f for k, f in warn_flags.items() if (k in _WINDOWED_WARNINGS) == windowed}
        if windowed and not checks and not warns:
            continue
        flags = t.mutate(
            **{f"_b{i}": c.bad.fill_null(False) for i, c in checks.items()},
            **{f"_w_{k}": f for k, f in warns.items()},
        )
        metrics: dict[str, ir.Scalar] = {} if windowed else {"_rows": flags.count(), **(extra or {})}
        for i, c in checks.items():
            if c.screen is None:
                metrics[f"_n{i}"] = _count(flags[f"_b{i}"]).sum()
            else:  # a min and a max cost a fraction of a count of bad cells
                metrics[f"_lo{i}"] = c.screen[0].min()
                metrics[f"_hi{i}"] = c.screen[0].max()
        for k in warns:
            f = flags[f"_w_{k}"]
            metrics[f"{k}_rows"] = _count(f).sum()
            metrics[f"{k}_patients"] = flags.patient_id.nunique(where=f)
            metrics[f"{k}_line"] = flags._line.min(where=f)
        counts |= flags.aggregate(**metrics).to_pyarrow().to_pylist()[0]
    n_rows = int(counts["_rows"] or 0)
    warn = {k: v for k, v in counts.items() if not k.startswith("_")}
    failing = {int(k[2:]): int(v) for k, v in counts.items() if k.startswith("_n") and v}
    outside = [i for i, c in enumerate(spec.checks) if c.screen is not None and _outside(counts, i, c.screen)]
    if outside:
        exact = t.aggregate(**{f"_n{i}": _count(spec.checks[i].bad.fill_null(False)).sum() for i in outside})
        failing |= {int(k[2:]): int(v) for k, v in exact.to_pyarrow().to_pylist()[0].items() if v}
    if not failing:
        return [], [], n_rows, warn

    branches = []
    for i in sorted(failing):
        c = spec.checks[i]
        m = t.mutate(_b=c.bad.fill_null(False), _d1=c.d1.cast("int64"), _d2=c.d2.cast("int64"))
        m = m.filter(m._b).order_by(m._line).limit(MAX_PER_RULE)
        branches.append(m.select(_i=ibis.literal(i, "int64"), _line=m._line, _pid=m.patient_id, _d1=m._d1, _d2=m._d2))
    fetched = ibis.union(*branches, distinct=False).to_pyarrow().to_pylist()
    # the cells as written, for the few lines reported
    lines = sorted({r["_line"] for r in fetched})
    wanted = sorted({c.column for c in spec.checks if c.column in spec.present})
    text = spec.text
    written = {
        r["_line"]: r for r in text.filter(text._line.isin(lines)).select("_line", *wanted).to_pyarrow().to_pylist()
    }

    found: list[Problem] = []
    for r in fetched:
        c = spec.checks[r["_i"]]
        allowed = c.allowed if isinstance(c.allowed, str) else c.allowed(r["_d1"], r["_d2"])
        value = written.get(r["_line"], {}).get(c.column) if c.column else None
        found.append(
            Problem(
                file=spec.display,
                line=r["_line"],
                patient_id=r["_pid"],
                column=c.column,
                value="" if value is None else value,
                allowed=allowed,
            )
        )
    summaries: list[Problem] = []
    for i, n in sorted(failing.items()):
        if n > MAX_PER_RULE:
            c = spec.checks[i]
            rule = c.allowed if isinstance(c.allowed, str) else "the same rule"
            summaries.append(
                _file_problem(
                    spec.display,
                    f"... and {n - MAX_PER_RULE:,} more {spec.where}s like this ({n:,} in all; allowed: {rule})",
                    column=c.column,
                )
            )
    return found, summaries, n_rows, warn


def _outside(counts: Mapping[str, Any], i: int, screen: tuple[ir.Value, int | None, int | None]) -> bool:
    """The column's min or max (``_lo<i>``, ``_hi<i>``) lies outside the screen's range."""
    _expr, lo, hi = screen
    low, high = counts[f"_lo{i}"], counts[f"_hi{i}"]
    return (lo is not None and low is not None and low < lo) or (hi is not None and high is not None and high > hi)


def _latest_metric(spec: _TableSpec, sched: tuple[int, ...]) -> dict[str, ir.Scalar]:
    """``latest``: the highest session number (sessions) or scheduled assessment (mbi_gs,
    phq9), counted in the table's one aggregate query."""
    t = spec.t
    if spec.name == "sessions" and "session" in spec.present:
        return {"latest": t.session.max()}
    if spec.name in ("mbi_gs", "phq9") and "after_session" in spec.present:
        return {"latest": t.after_session.max(where=t.after_session.isin(sched))}
    return {}


def _unrecorded_sessions(
    specs: Mapping[str, _TableSpec], latest: Mapping[str, int | None], sched: tuple[int, ...]
) -> list[str]:
    """Warnings for assessments after sessions that sessions has no row for (e.g. an empty or
    truncated export). Screened by the maxima; patients are counted only when it fires."""
    if "sessions" not in specs or "session" not in specs["sessions"].present:
        return []
    recorded = latest.get("sessions") or 0
    out: list[str] = []
    for name in ("mbi_gs", "phq9"):
        assessed = latest.get(name)
        if name not in specs or assessed is None or assessed <= recorded:
            continue
        t = specs[name].t
        after = [a for a in sched if a > recorded]
        n = t.filter(t.after_session.isin(after)).patient_id.nunique().to_pyarrow().as_py()
        what = "no session at all" if recorded == 0 else f"no session after session {recorded}"
        sessions = ", ".join(map(str, after[:-1])) + (" or " if len(after) > 1 else "") + str(after[-1])
        out.append(
            f"{specs[name].display}: {_plural(n, 'patient')} {'has' if n == 1 else 'have'} assessments after session "
            f"{sessions}, but {specs['sessions'].display} records {what}; "
            "check that it is complete (treatment exposure and completion are counted from it)"
        )
    return out


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def _warnings(spec: _TableSpec, m: Mapping[str, Any], sched: tuple[int, ...], n_sessions: int) -> list[str]:
    """Warning texts from the counts of :func:`_warning_flags` (one small query for unscheduled values)."""
    out: list[str] = []
    if m.get("unscheduled_rows"):
        after = spec.t.after_session
        values = (
            spec.t.filter(after.notnull() & ~after.isin(sched))
            .select(_a=after)
            .distinct()
            .order_by("_a")
            .limit(11)
            .to_pyarrow()
            .column(0)
            .to_pylist()
        )
        shown = ", ".join(map(str, values[:10])) + (", ..." if len(values) > 10 else "")
        out.append(
            f"{spec.display}: {_plural(m['unscheduled_rows'], 'row')} at after_session {shown}, not in the "
            f"schedule ({', '.join(map(str, sched))}); they are not analysed"
        )
    if m.get("beyond_rows"):
        n = m["beyond_rows"]
        out.append(
            f"{spec.display}: {_plural(n, 'row')} for {_plural(m['beyond_patients'], 'patient')} "
            f"{'has' if n == 1 else 'have'} session > {n_sessions} (beyond the {n_sessions} scheduled sessions)"
        )
    if m.get("order_rows"):
        date, key = ("held_on", "session") if spec.name == "sessions" else ("completed_on", "after_session")
        out.append(
            f"{spec.display}: {date} goes back in time as {key} increases for "
            f"{_plural(m['order_patients'], 'patient')} ({_plural(m['order_rows'], 'row')} dated before an earlier "
            f"{'session' if spec.name == 'sessions' else 'assessment'}; the first on {spec.where} "
            f"{m['order_line']}); check the dates"
        )
    return out


def _sort_key(p: Problem) -> tuple[Any, ...]:
    return (p.file, p.line is not None, p.line or 0, p.column or "", p.allowed)
