"""Validate stage: every data-contract rule of a table as an engine query. (rules).

A :class:`_TableSpec` holds a table's parse and its rules (:class:`_Check`): the
columns it must have, its ids, the parsed cells, duplicate keys and item/subscale
agreement; :mod:`burnout.ingest.checks` counts them all in one scan.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import ibis
import ibis.expr.types as ir

from burnout.errors import Problem
from burnout.ingest.columns import _parsers
from burnout.ingest.parsed import _parsed_table, _ParsedTable, _Scratch
from burnout.ingest.parsers import _AGREE_UNITS, _CONTROL_RE, _CONTROL_RE_NO_NUL, _NO_CONTROL, _NULL_INT
from burnout.ingest.raw import RawCohort
from burnout.instrument import SCALE, SUBSCALE_ITEMS, SUBSCALES
from burnout.schema import MBI_ITEM_COLUMNS, instrument_tables, table_columns


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
                    display,
                    f"a required column {c!r} in the header (documented: {', '.join(table_columns(name))})",
                    column=c,
                )
            )
        return not missing

    has_pid = require(["patient_id"])
    key = {"patients": None, "sessions": "session"}.get(name, "after_session")
    has_key = require([key]) if key else False
    if name in instrument_tables():
        require([c for c in table_columns(name) if c.startswith("item_")])
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
