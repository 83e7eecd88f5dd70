"""Validate stage: every rule of the data contract as engine queries; typed tables out.

:func:`validate_cohort` checks a :class:`~burnout.load.RawCohort` against
shared/spec/data-format.md and returns a :class:`Cohort` of typed tables, or raises
one :class:`~burnout.errors.DataError` holding every problem found in every file.

How it stays fast on millions of rows: each rule is a boolean Ibis expression over
the raw text table. One aggregate query per table counts the violations of every
rule at once (a single scan); only for rules that have violations does a second
query fetch the first 100 offending rows per rule (ordered by line), and the rest
are summarised as "... and N more like this". Python never loops over rows.

Cell rules (values are trimmed first; an empty cell is blank):

- integers are digits with an optional sign, and an optional ``.0`` tail (``"3.0"``
  is 3, as exported by tools that store integers as floats); ``"4.5"``, ``"4,5"`` and
  ``"1e1"`` are not integers;
- decimals are digits with an optional fraction; subscale scores become exact
  integers in units of ``1/SCALE`` (the text is cast to a 10-place decimal, never
  a float, then rounded to the nearest unit, which is exact up to 5 places);
- dates are ``YYYY-MM-DD`` and must exist (``2024-02-30`` is an error);
- booleans are true/false, 1/0, yes/no in any case;
- sex and route are matched case-insensitively.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir

from burnout._schema import COLUMNS, MBI_ITEM_COLUMNS, PHQ9_ITEM_COLUMNS, TABLES
from burnout.errors import DataError, Problem
from burnout.instrument import MBI_ITEM_MAX, PHQ9_ITEM_MAX, SCALE, SUBSCALE_ITEMS, SUBSCALES
from burnout.load import MAX_PER_RULE, RawCohort, read_cohort

__all__ = ["Cohort", "load_cohort", "validate_cohort"]

_INT_RE = r"^[+-]?[0-9]{1,15}(\.0*)?$"
_DEC_RE = r"^[+-]?([0-9]{1,12}(\.[0-9]*)?|\.[0-9]+)$"
_DATE_RE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
_TRUE = ("true", "1", "yes")
_FALSE = ("false", "0", "no")
_SEX = ("female", "male", "other", "unknown")
_ROUTE = ("sublingual", "subcutaneous", "unknown")
_AGREE_UNITS = SCALE // 100  # 0.01 point
_NULL_INT = ibis.null("int64")


@dataclass(frozen=True, eq=False, repr=False)
class Cohort:
    """A validated cohort: typed tables in the engine, materialised once.

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
        order, unscheduled timepoints, sessions beyond the schedule).
    source : str
        Where the cohort was read from.
    files : Mapping[str, str]
        Table name to file name, e.g. ``{"mbi_gs": "mbi_gs.csv", ...}``.
    fingerprint : str
        SHA-256 of the input files (see :class:`burnout.load.RawCohort`).
    rows : Mapping[str, int]
        Rows per table.
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
) -> Cohort:
    """Read and validate a cohort folder: :func:`~burnout.load.read_cohort` then :func:`validate_cohort`.

    The raw text tables are dropped from the engine afterwards; only the typed
    tables of the returned :class:`Cohort` remain.

    Raises
    ------
    DataError
        With every problem in every file (and the warnings found so far).
    """
    raw = read_cohort(source, con=con)
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
        Typed tables, materialised in ``raw.con`` (see :class:`Cohort`).

    Raises
    ------
    DataError
        Listing every problem, sorted by file, line and column: file, line (row
        number for Parquet), patient_id, column, the value found and what is
        allowed. At most 100 problems per file, column and rule are listed; then one
        "... and N more like this" line. ``DataError.warnings`` holds the warnings.
    ValueError
        If an option is out of range.
    """
    sched = tuple(int(a) for a in scheduled_assessments)
    if not sched or any(a < 0 for a in sched):
        raise ValueError(f"scheduled_assessments must be non-negative integers, got {scheduled_assessments!r}")
    if int(scheduled_sessions) < 1:
        raise ValueError(f"scheduled_sessions must be >= 1, got {scheduled_sessions!r}")
    if not 0 <= int(max_missing_items) <= 5:
        raise ValueError(f"max_missing_items must be 0-5, got {max_missing_items!r}")

    problems: list[Problem] = list(raw.problems)
    summaries: list[Problem] = []
    warnings: list[str] = list(raw.warnings)
    specs: dict[str, _TableSpec] = {}
    patient_ids = _patient_ids(raw)
    for name in TABLES:
        if name not in raw.tables:
            continue
        spec = _spec(name, raw, patient_ids, max_missing_items)
        specs[name] = spec
        problems.extend(spec.column_problems)

    rows: dict[str, int] = {}
    for name, spec in specs.items():
        found, summary, n_rows = _run_checks(spec)
        problems.extend(found)
        summaries.extend(summary)
        rows[name] = n_rows
        if n_rows == 0 and name in ("patients", "mbi_gs"):
            what = "one row per patient" if name == "patients" else "one row per patient and assessment"
            problems.append(_file_problem(spec.display, f"the file has a header but no rows: needs {what}"))

    for name, spec in specs.items():
        warnings.extend(_warnings(spec, sched, int(scheduled_sessions)))

    if problems or summaries:
        ordered = sorted(problems, key=_sort_key) + sorted(summaries, key=_sort_key)
        ordered.sort(key=lambda p: p.file)  # stable: each file's summaries stay after its problems
        raise DataError(ordered, warnings=tuple(warnings))

    token = uuid.uuid4().hex[:10]
    con = raw.con
    typed = {name: con.create_table(f"burnout_{token}_{name}", spec.typed(), temp=True) for name, spec in specs.items()}
    mbi_cols = set(raw.tables["mbi_gs"].columns)
    return Cohort(
        con=con,
        patients=typed["patients"],
        mbi_gs=typed["mbi_gs"],
        sessions=typed["sessions"],
        phq9=typed.get("phq9"),
        mbi_has_items=set(MBI_ITEM_COLUMNS) <= mbi_cols,
        mbi_has_subscales=set(SUBSCALES) <= mbi_cols,
        warnings=tuple(warnings),
        source=raw.source,
        files=dict(raw.files),
        fingerprint=raw.fingerprint,
        rows=rows,
    )


# --------------------------------------------------------------------------- parsing


def _text(t: ir.Table, col: str) -> ir.StringValue:
    """The trimmed cell, null when blank or the column is absent."""
    if col not in t.columns:
        return ibis.null("string")
    return t[col].cast("string").strip().nullif("")


@dataclass(frozen=True)
class _Parsed:
    value: ir.Value  # typed, null when blank or invalid
    bad: ir.BooleanValue  # never null: the cell is filled in and invalid


def _int(text: ir.StringValue, lo: int, hi: int | None = None) -> _Parsed:
    num = text.re_replace(r"\.0*$", "").try_cast("int64")
    in_range = num >= lo if hi is None else num.between(lo, hi)
    ok = text.re_search(_INT_RE) & in_range
    if hi is not None and hi - lo <= 20:
        # most cells are one of a few exact spellings: a set lookup, the regex only for the rest
        fast = text.isin([str(i) for i in range(lo, hi + 1)])
        value = ibis.cases((fast, text.cast("int64")), (ok, num), else_=_NULL_INT)
        bad = ibis.cases((text.isnull(), False), (fast, False), else_=~ok.fill_null(False))
    else:
        value = ibis.cases((ok, num), else_=_NULL_INT)
        bad = ibis.cases((text.isnull(), False), else_=~ok.fill_null(False))
    return _Parsed(value, bad)


def _units(text: ir.StringValue, hi: int) -> _Parsed:
    """A decimal 0..hi as exact int64 units of 1/SCALE (never through a float)."""
    fmt = text.re_search(_DEC_RE)
    dec = text.try_cast(dt.Decimal(38, 10))
    units = ibis.cases((fmt, (dec * SCALE).round().cast("int64")), else_=_NULL_INT)
    ok = units.between(0, hi * SCALE)
    value = ibis.cases((ok, units), else_=_NULL_INT)
    bad = ibis.cases((text.isnull(), False), else_=~ok.fill_null(False))
    return _Parsed(value, bad)


def _positive(text: ir.StringValue) -> _Parsed:
    num = text.try_cast("float64")
    ok = text.re_search(_DEC_RE) & (num > 0)
    value = ibis.cases((ok, num), else_=ibis.null("float64"))
    bad = ibis.cases((text.isnull(), False), else_=~ok.fill_null(False))
    return _Parsed(value, bad)


def _date(text: ir.StringValue) -> _Parsed:
    d = text.try_cast("date")
    ok = text.re_search(_DATE_RE) & d.notnull()
    value = ibis.cases((ok, d), else_=ibis.null("date"))
    bad = ibis.cases((text.isnull(), False), else_=~ok.fill_null(False))
    return _Parsed(value, bad)


def _bool(text: ir.StringValue) -> _Parsed:
    low = text.lower()
    value = ibis.cases((low.isin(_TRUE), True), (low.isin(_FALSE), False), else_=ibis.null("boolean"))
    bad = text.notnull() & value.isnull()
    return _Parsed(value, bad.fill_null(False))


def _vocab(text: ir.StringValue, words: tuple[str, ...]) -> _Parsed:
    low = text.lower()
    ok = low.isin(words)
    value = ibis.cases((text.isnull(), "unknown"), (ok, low), else_=ibis.null("string"))
    bad = text.notnull() & ~ok
    return _Parsed(value, bad.fill_null(False))


# --------------------------------------------------------------------------- rules


@dataclass(frozen=True)
class _Check:
    column: str | None
    bad: ir.BooleanValue
    allowed: str | Callable[[int | None, int | None, str | None], str]
    value: ir.StringValue  # what the cell holds, as written
    d1: ir.IntegerValue = _NULL_INT  # details for the message (e.g. first duplicate line)
    d2: ir.IntegerValue = _NULL_INT


@dataclass
class _TableSpec:
    name: str
    display: str
    fmt: str
    t: ir.Table
    pid: ir.StringValue
    checks: list[_Check] = field(default_factory=list)
    column_problems: list[Problem] = field(default_factory=list)
    parsed: dict[str, _Parsed] = field(default_factory=dict)
    typed: Callable[[], ir.Table] = lambda: None  # type: ignore[assignment, return-value]

    @property
    def where(self) -> str:
        return "line" if self.fmt == "csv" else "row"


def _file_problem(display: str, allowed: str, *, column: str | None = None) -> Problem:
    return Problem(file=display, line=None, patient_id=None, column=column, value=None, allowed=allowed)


def _patient_ids(raw: RawCohort) -> ir.Column | None:
    """Non-blank trimmed ids of patients, as a column for ``isin`` (None if unusable)."""
    t = raw.tables.get("patients")
    if t is None or "patient_id" not in t.columns:
        return None
    ids = t.select(pid=_text(t, "patient_id"))
    return ids.filter(ids.pid.notnull()).pid


def _spec(name: str, raw: RawCohort, patient_ids: ir.Column | None, max_missing: int) -> _TableSpec:
    t = raw.tables[name]
    display = raw.files[name]
    spec = _TableSpec(name=name, display=display, fmt=raw.formats.get(name, "csv"), t=t, pid=_text(t, "patient_id"))
    present = set(t.columns)

    def require(cols: Sequence[str]) -> bool:
        missing = [c for c in cols if c not in present]
        for c in missing:
            spec.column_problems.append(
                _file_problem(display, f"a required column {c!r} in the header (documented: {', '.join(COLUMNS[name])})", column=c)
            )
        return not missing

    has_pid = require(["patient_id"])
    if has_pid:
        _id_checks(spec, raw, patient_ids)

    if name == "patients":
        _patients(spec)
    elif name == "mbi_gs":
        has_key = require(["after_session"])
        _assessments(spec, MBI_ITEM_COLUMNS, MBI_ITEM_MAX, has_key and has_pid)
        _mbi_scores(spec, present, max_missing)
    elif name == "sessions":
        has_key = require(["session"])
        _sessions(spec, has_key and has_pid)
    else:
        has_key = require(["after_session"])
        require(PHQ9_ITEM_COLUMNS)
        _assessments(spec, PHQ9_ITEM_COLUMNS, PHQ9_ITEM_MAX, has_key and has_pid)
    return spec


def _add(spec: _TableSpec, col: str, parsed: _Parsed, allowed: str) -> None:
    spec.parsed[col] = parsed
    if col in spec.t.columns:
        spec.checks.append(_Check(col, parsed.bad, allowed, spec.t[col]))


def _id_checks(spec: _TableSpec, raw: RawCohort, patient_ids: ir.Column | None) -> None:
    t, pid = spec.t, spec.pid
    spec.checks.append(
        _Check("patient_id", pid.isnull(), "a patient_id (a non-empty pseudonymous id); this cell is blank", t.patient_id)
    )
    if spec.name == "patients":
        w = ibis.window(group_by=pid)
        n = t._line.count().over(w)
        first = t._line.min().over(w)
        where = spec.where

        def dup(d1: int | None, d2: int | None, _pid: str | None) -> str:
            return f"each patient_id once: this id is on {d1:,} {where}s, the first on {where} {d2}"

        spec.checks.append(_Check("patient_id", pid.notnull() & (n > 1), dup, t.patient_id, n, first))
    elif patient_ids is not None:
        known = raw.files.get("patients", "patients.csv")
        spec.checks.append(
            _Check(
                "patient_id",
                pid.notnull() & ~pid.isin(patient_ids),
                f"a patient_id listed in {known}; this id is not there",
                t.patient_id,
            )
        )


def _patients(spec: _TableSpec) -> None:
    t = spec.t
    _add(spec, "age", _int(_text(t, "age"), 18, 120), "an integer 18-120 (years at baseline; blank = unknown)")
    _add(spec, "sex", _vocab(_text(t, "sex"), _SEX), "female, male, other or unknown (any case; blank = unknown)")
    _add(spec, "route", _vocab(_text(t, "route"), _ROUTE), "sublingual or subcutaneous (any case; blank = unknown)")
    pathway = _text(t, "pathway").lower()
    spec.parsed["pathway"] = _Parsed(pathway.fill_null("unknown"), ibis.literal(False))

    def typed() -> ir.Table:
        p = spec.parsed
        return t.select(
            patient_id=spec.pid,
            age=p["age"].value,
            sex=p["sex"].value,
            route=p["route"].value,
            pathway=p["pathway"].value,
        )

    spec.typed = typed


def _duplicates(spec: _TableSpec, key: str, key_value: ir.IntegerValue) -> None:
    t = spec.t
    valid = spec.pid.notnull() & key_value.notnull()
    w = ibis.window(group_by=[spec.pid, key_value])
    n = t._line.count().over(w)
    first = t._line.min().over(w)
    where = spec.where

    def dup(d1: int | None, d2: int | None, pid: str | None) -> str:
        return f"one row per (patient_id, {key}): {d1:,} rows have this pair, the first on {where} {d2}"

    spec.checks.append(_Check(key, valid & (n > 1), dup, t[key], n, first))


def _assessments(spec: _TableSpec, items: Sequence[str], item_max: int, has_key: bool) -> None:
    t = spec.t
    after = _int(_text(t, "after_session"), 0)
    spec.parsed["after_session"] = after
    if "after_session" in t.columns:
        spec.checks.append(
            _Check(
                "after_session",
                ibis.cases((_text(t, "after_session").isnull(), True), else_=after.bad),
                "an integer >= 0, required (0 = baseline, k = after session k)",
                t.after_session,
            )
        )
    _add(spec, "completed_on", _date(_text(t, "completed_on")), "a date written YYYY-MM-DD that exists, e.g. 2024-03-31 (blank allowed)")
    for col in items:
        _add(spec, col, _int(_text(t, col), 0, item_max), f"an integer 0-{item_max} (blank = not answered)")
    if has_key:
        _duplicates(spec, "after_session", after.value)

    def typed() -> ir.Table:
        p = spec.parsed
        cols: dict[str, ir.Value] = {"patient_id": spec.pid, "after_session": after.value}
        cols.update({c: p[c].value for c in items})
        if spec.name == "mbi_gs":
            cols.update({s: p[s].value for s in SUBSCALES})
        return t.select(**cols)

    spec.typed = typed


def _mbi_scores(spec: _TableSpec, present: set[str], max_missing: int) -> None:
    t = spec.t
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
    for s in SUBSCALES:
        _add(spec, s, _units(_text(t, s), MBI_ITEM_MAX), f"a decimal 0-{MBI_ITEM_MAX}, e.g. 3.4 (blank = not scored)")
    if not (full_items and full_subs):
        return
    p = spec.parsed
    for s in SUBSCALES:
        cols = [f"item_{i}" for i in SUBSCALE_ITEMS[s]]
        k = len(cols)
        answered = sum((p[c].value.notnull().cast("int64") for c in cols), ibis.literal(0, "int64"))
        total = sum((p[c].value.fill_null(0) for c in cols), ibis.literal(0, "int64"))
        any_bad = ibis.literal(False)
        for c in cols:
            any_bad = any_bad | p[c].bad
        mean_units = ibis.cases(*((answered == a, total * (SCALE // a)) for a in range(1, k + 1)), else_=_NULL_INT)
        sub = p[s].value
        comparable = ~any_bad & (answered >= max(1, k - max_missing)) & sub.notnull()
        bad = comparable & ((sub - mean_units).abs() > _AGREE_UNITS)
        items_text = "+".join(str(i) for i in SUBSCALE_ITEMS[s])

        def agree(d1: int | None, d2: int | None, pid: str | None, _items: str = items_text) -> str:
            mean = "?" if d1 is None else f"{d1 / SCALE:.4f}".rstrip("0").rstrip(".")
            return (
                f"within 0.01 of the mean of its answered items ({_items}), which is {mean}; "
                "fix the items or the subscale score"
            )

        spec.checks.append(_Check(s, bad.fill_null(False), agree, t[s], mean_units))


def _sessions(spec: _TableSpec, has_key: bool) -> None:
    t = spec.t
    session = _int(_text(t, "session"), 1)
    spec.parsed["session"] = session
    if "session" in t.columns:
        spec.checks.append(
            _Check(
                "session",
                ibis.cases((_text(t, "session").isnull(), True), else_=session.bad),
                "an integer >= 1, required (the session number)",
                t.session,
            )
        )
    _add(spec, "held_on", _date(_text(t, "held_on")), "a date written YYYY-MM-DD that exists, e.g. 2024-03-31 (blank allowed)")
    _add(spec, "dose_mg", _positive(_text(t, "dose_mg")), "a decimal > 0, e.g. 2.5 (blank = not recorded)")
    for col, blank in (
        ("monitor_present", "not recorded"),
        ("side_effects", "not asked"),
        ("serious_adverse_event", "none reported"),
    ):
        _add(spec, col, _bool(_text(t, col)), f"true or false (also 1/0, yes/no, any case; blank = {blank})")
    if has_key:
        _duplicates(spec, "session", session.value)

    def typed() -> ir.Table:
        p = spec.parsed
        return t.select(
            patient_id=spec.pid,
            session=session.value,
            dose_mg=p["dose_mg"].value,
            monitor_present=p["monitor_present"].value,
            side_effects=p["side_effects"].value,
            serious_adverse_event=p["serious_adverse_event"].value.fill_null(False),
        )

    spec.typed = typed


# --------------------------------------------------------------------------- running


def _run_checks(spec: _TableSpec) -> tuple[list[Problem], list[Problem], int]:
    """Count every rule in one scan; fetch the first rows only of rules that fail."""
    t = spec.t
    flags = t.mutate(**{f"_b{i}": c.bad.fill_null(False) for i, c in enumerate(spec.checks)})
    counts = flags.aggregate(
        _rows=flags.count(),
        **{f"_n{i}": flags[f"_b{i}"].cast("int64").sum() for i in range(len(spec.checks))},
    ).to_pyarrow().to_pylist()[0]
    n_rows = int(counts.pop("_rows") or 0)
    failing = {int(k[2:]): int(v) for k, v in counts.items() if v}
    if not failing:
        return [], [], n_rows

    branches = []
    for i in sorted(failing):
        c = spec.checks[i]
        m = t.mutate(_b=c.bad.fill_null(False), _v=c.value.cast("string"), _d1=c.d1.cast("int64"), _d2=c.d2.cast("int64"), _pid=spec.pid)
        m = m.filter(m._b).order_by(m._line).limit(MAX_PER_RULE)
        branches.append(m.select(_i=ibis.literal(i, "int64"), _line=m._line.cast("int64"), _pid=m._pid, _v=m._v, _d1=m._d1, _d2=m._d2))
    fetched = ibis.union(*branches, distinct=False).to_pyarrow().to_pylist()

    found: list[Problem] = []
    for r in fetched:
        c = spec.checks[r["_i"]]
        allowed = c.allowed if isinstance(c.allowed, str) else c.allowed(r["_d1"], r["_d2"], r["_pid"])
        found.append(
            Problem(
                file=spec.display,
                line=r["_line"],
                patient_id=r["_pid"],
                column=c.column,
                value="" if r["_v"] is None else r["_v"],
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
    return found, summaries, n_rows


def _warnings(spec: _TableSpec, sched: tuple[int, ...], n_sessions: int) -> list[str]:
    out: list[str] = []
    t, p, where = spec.t, spec.parsed, spec.where
    if spec.name in ("mbi_gs", "phq9") and "after_session" in p:
        after = p["after_session"].value
        off = (
            t.mutate(_a=after)
            .filter(lambda r: r._a.notnull() & ~r._a.isin(sched))
            .group_by("_a")
            .aggregate(_n=lambda r: r.count())
            .order_by("_a")
            .to_pyarrow()
            .to_pylist()
        )
        if off:
            n = sum(r["_n"] for r in off)
            vals = ", ".join(str(r["_a"]) for r in off[:10]) + (", ..." if len(off) > 10 else "")
            out.append(
                f"{spec.display}: {n:,} row{'s' if n != 1 else ''} at after_session {vals}, not in the "
                f"schedule ({', '.join(map(str, sched))}); they are not analysed"
            )
        out.extend(_order_warning(spec, "completed_on", "after_session", after))
    if spec.name == "sessions" and "session" in p:
        session = p["session"].value
        beyond = (
            t.mutate(_s=session)
            .filter(lambda r: r._s > n_sessions)
            .aggregate(_n=lambda r: r.count(), _p=lambda r: r.patient_id.nunique())
            .to_pyarrow()
            .to_pylist()[0]
        )
        if beyond["_n"]:
            n, np_ = beyond["_n"], beyond["_p"]
            out.append(
                f"{spec.display}: {n:,} row{'s' if n != 1 else ''} for {np_:,} patient{'s' if np_ != 1 else ''} "
                f"{'have' if n != 1 else 'has'} session > {n_sessions} (beyond the {n_sessions} scheduled sessions)"
            )
        out.extend(_order_warning(spec, "held_on", "session", session))
    return out


def _order_warning(spec: _TableSpec, date_col: str, key: str, key_value: ir.IntegerValue) -> list[str]:
    if date_col not in spec.t.columns or "patient_id" not in spec.t.columns:
        return []
    d = spec.parsed[date_col].value
    base = spec.t.mutate(_pid=spec.pid, _k=key_value, _d=d).filter(lambda r: r._pid.notnull() & r._k.notnull() & r._d.notnull())
    lagged = base.mutate(_prev=base._d.lag().over(ibis.window(group_by=base._pid, order_by=[base._k, base._line])))
    back = lagged.filter(lagged._d < lagged._prev)
    res = back.aggregate(_n=back.count(), _p=back._pid.nunique(), _first=back._line.min()).to_pyarrow().to_pylist()[0]
    if not res["_n"]:
        return []
    ex = back.filter(back._line == res["_first"]).select("_pid").limit(1).to_pyarrow().to_pylist()[0]["_pid"]
    return [
        f"{spec.display}: {date_col} goes back in time as {key} increases for {res['_p']:,} patient"
        f"{'s' if res['_p'] != 1 else ''} ({res['_n']:,} rows; the first on {spec.where} {res['_first']}, "
        f"patient {ex!r}); check the dates"
    ]


def _sort_key(p: Problem) -> tuple[Any, ...]:
    return (p.file, p.line is not None, p.line or 0, p.column or "", p.allowed)
