"""Validate stage: every data-contract rule as engine queries; typed tables out. (rules)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import ibis
import ibis.expr.types as ir

from burnout.errors import Problem
from burnout.ingest.parsers import (
    _AGREE_UNITS,
    _CONTROL_RE,
    _CONTROL_RE_NO_NUL,
    _NO_CONTROL,
    _NULL_INT,
    _ROUTE,
    _SEX,
    _TYPED,
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
    _trim,
    _units,
    _vocab,
)
from burnout.ingest.raw import RawCohort, _as_text
from burnout.instrument import MBI_ITEM_MAX, PHQ9_ITEM_MAX, SCALE, SUBSCALE_ITEMS, SUBSCALES
from burnout.schema import COLUMNS, MBI_ITEM_COLUMNS, PHQ9_ITEM_COLUMNS

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
    items, item_max = (MBI_ITEM_COLUMNS, MBI_ITEM_MAX) if name == "mbi_gs" else (PHQ9_ITEM_COLUMNS, PHQ9_ITEM_MAX)
    out = {
        "after_session": _int_rule(
            0, None, "an integer >= 0, required (0 = baseline, k = after session k)", try_cast=try_cast
        ),
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
                _file_problem(
                    display, f"a required column {c!r} in the header (documented: {', '.join(COLUMNS[name])})", column=c
                )
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
            _file_problem(
                spec.display, f"all 16 item columns or none; missing: {', '.join(missing)}", column=missing[0]
            )
        )
    elif has_subs and not full_subs:
        missing = [s for s in SUBSCALES if s not in present]
        spec.column_problems.append(
            _file_problem(
                spec.display, f"all three subscale columns or none; missing: {', '.join(missing)}", column=missing[0]
            )
        )


def _id_checks(spec: _TableSpec, raw: RawCohort, patient_ids: ir.Column | None) -> None:
    t = spec.t
    pid = t.patient_id
    spec.checks.append(
        _Check("patient_id", pid.isnull(), "a patient_id (a non-empty pseudonymous id); this cell is blank")
    )
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
            _Check(
                "patient_id",
                pid.notnull() & ~pid.isin(patient_ids),
                f"a patient_id listed in {known}; this id is not there",
            )
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


def _date_order(spec: _TableSpec, key: str, date: str) -> dict[str, Any]:
    """Rows dated before the latest date of an earlier assessment/session of the same patient:
    row count, patients and the first line (the exact count behind the date-order warning)."""
    t = spec.t
    k, d = t[key], t[date]
    w = ibis.window(group_by=t.patient_id, order_by=[k, t._line], rows=(None, -1))
    flagged = t.mutate(_f=(t.patient_id.notnull() & k.notnull() & (d < d.max().over(w))).fill_null(False))
    row: dict[str, Any] = (
        flagged.aggregate(
            order_rows=_count(flagged._f).sum(),
            order_patients=flagged.patient_id.nunique(where=flagged._f),
            order_line=flagged._line.min(where=flagged._f),
        )
        .to_pyarrow()
        .to_pylist()[0]
    )
    return row


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"
