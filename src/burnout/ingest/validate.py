"""Validate stage: every data-contract rule as engine queries; typed tables out. (validate)."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import ibis
import ibis.expr.types as ir

from burnout.engines import connect_source, is_database_url, is_duckdb_url
from burnout.errors import DataError, Problem
from burnout.ingest.checks import _latest_metric, _run_checks, _unrecorded_sessions, _warnings
from burnout.ingest.cohort import Cohort
from burnout.ingest.parsed import _parsed_table, _Scratch, _scratch
from burnout.ingest.parsers import _TYPED
from burnout.ingest.raw import RawCohort
from burnout.ingest.read import read_cohort
from burnout.ingest.reread import read_checked_files
from burnout.ingest.rules import _date_order, _file_problem, _spec, _TableSpec, _warning_flags
from burnout.instrument import SUBSCALES
from burnout.instruments import Instrument
from burnout.schema import MBI_ITEM_COLUMNS, cohort_tables, instrument_tables, required_tables, user_instrument_tables

if TYPE_CHECKING:
    from burnout.ingest.storeread import StoreReading

__all__ = ["Cohort", "load_cohort", "validate_cohort"]


def load_cohort(
    source: str | os.PathLike[str],
    *,
    scheduled_assessments: Sequence[int] = (0, 2, 4, 6),
    scheduled_sessions: int = 6,
    max_missing_items: int = 1,
    con: ibis.BaseBackend | None = None,
    max_line_bytes: int | None = None,
    primary: str = "mbi_gs",
    definitions: Sequence[Instrument] = (),
) -> Cohort:
    """Read and validate a cohort folder: :func:`~burnout.ingest.read_cohort` then :func:`validate_cohort`.

    The raw text tables are dropped from the engine afterwards; only the typed
    tables of the returned :class:`Cohort` remain. ``max_line_bytes`` is the longest
    CSV line read (see :func:`~burnout.ingest.read_cohort`; None: 2,000,000); a longer
    one is a problem. ``primary`` is the plan's primary instrument: its table is
    required, and ``mbi_gs`` is optional when it is another one (absent, the cohort's
    ``mbi_gs`` is an empty table). ``definitions`` are the user's own instrument
    definitions the plan names: each one's table (``<name>.csv`` or ``.parquet``) is read
    and validated like a shipped instrument's, by its items and answer range.

    Raises
    ------
    DataError
        With every problem in every file (and the warnings found so far).
    """
    with user_instrument_tables(definitions):
        return _read_and_validate(
            source,
            con=con,
            max_line_bytes=max_line_bytes,
            primary=primary,
            scheduled_assessments=scheduled_assessments,
            scheduled_sessions=scheduled_sessions,
            max_missing_items=max_missing_items,
        )


def _read_and_validate(
    source: str | os.PathLike[str],
    *,
    con: ibis.BaseBackend | None,
    max_line_bytes: int | None,
    primary: str,
    scheduled_assessments: Sequence[int],
    scheduled_sessions: int,
    max_missing_items: int,
) -> Cohort:
    """`load_cohort`'s work, by source.

    A folder for another engine (Spark, PostgreSQL) is validated by an in-memory DuckDB
    first, so every problem carries its true file line; that engine then reads the files.

    A ``duckdb:///path`` store written by ``burnout import`` is not validated again
    when its analysis tables still have the fingerprint and the options they were
    validated with (:mod:`burnout.ingest.storeread`); otherwise its tables are validated
    as a database's, and the cohort's ``notes`` say why and how to make the store match.
    """
    stored = None
    if is_duckdb_url(source):
        con = connect_source(source) if con is None else con
        stored = _from_store(source, con, scheduled_assessments, scheduled_sessions, max_missing_items)
        if stored.cohort is not None:  # validated by `burnout import` and unchanged since: no parsing, no rule
            return _noted(stored.cohort, stored)
    elif con is not None and getattr(con, "name", None) != "duckdb" and not is_database_url(source):
        return _validated_then_read(
            source,
            con=con,
            max_line_bytes=max_line_bytes,
            primary=primary,
            scheduled_assessments=scheduled_assessments,
            scheduled_sessions=scheduled_sessions,
            max_missing_items=max_missing_items,
        )
    raw = read_cohort(source, con=con, max_line_bytes=max_line_bytes, required=required_tables(primary))
    try:
        checked = validate_cohort(
            raw,
            scheduled_assessments=scheduled_assessments,
            scheduled_sessions=scheduled_sessions,
            max_missing_items=max_missing_items,
        )
    finally:
        raw.close()
    return checked if stored is None else _noted(checked, stored)


def _from_store(
    source: str | os.PathLike[str],
    con: ibis.BaseBackend,
    scheduled_assessments: Sequence[int],
    scheduled_sessions: int,
    max_missing_items: int,
) -> StoreReading:
    """The cohort of a ``duckdb:///`` store whose fingerprint and options still match (else none), and its note."""
    from burnout.ingest.store import store_options
    from burnout.ingest.storeread import stored_cohort

    options = store_options(scheduled_assessments, scheduled_sessions, max_missing_items)
    return stored_cohort(con, str(source), options=options)


def _noted(cohort: Cohort, stored: StoreReading) -> Cohort:
    """The cohort read from or validated for a store, with the store's note and its label of simulated data."""
    notes = cohort.notes if stored.note is None else (*cohort.notes, stored.note)
    return dataclasses.replace(cohort, notes=notes, synthetic=cohort.synthetic or stored.synthetic)


def _validated_then_read(
    source: str | os.PathLike[str],
    *,
    con: ibis.BaseBackend,
    max_line_bytes: int | None,
    primary: str,
    scheduled_assessments: Sequence[int],
    scheduled_sessions: int,
    max_missing_items: int,
) -> Cohort:
    """Files for another engine: validated by an in-memory DuckDB first (true file lines),
    then read by that engine and typed by the same parsers, without the rules again."""
    first = read_cohort(source, max_line_bytes=max_line_bytes, required=required_tables(primary))
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
        From :func:`burnout.ingest.read_cohort`.
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
    sched, n_sessions, max_missing = _options(scheduled_assessments, scheduled_sessions, max_missing_items)
    with _scratch(raw.con) as scratch:
        specs = _table_specs(scratch, raw, max_missing)
        problems: list[Problem] = list(raw.problems)
        for spec in specs.values():
            problems.extend(spec.column_problems)
        summaries: list[Problem] = []
        warnings: list[str] = list(raw.warnings)
        rows = _check_tables(specs, sched, n_sessions, problems, summaries, warnings)
        if problems or summaries:
            ordered = sorted(problems, key=_sort_key) + sorted(summaries, key=_sort_key)
            ordered.sort(key=lambda p: p.file)  # stable: each file's summaries stay after its problems
            # problems with the files themselves first: they often cause the rest
            of_files = set(raw.problems)
            ordered.sort(key=lambda p: p not in of_files)
            raise DataError(ordered, warnings=tuple(warnings))
    return _cohort(raw, specs, rows, tuple(warnings))


def _options(
    scheduled_assessments: Sequence[int], scheduled_sessions: int, max_missing_items: int
) -> tuple[tuple[int, ...], int, int]:
    """The validation options as integers, or ValueError naming the one out of range."""
    sched = tuple(int(a) for a in scheduled_assessments)
    if not sched or any(a < 0 for a in sched):
        raise ValueError(f"scheduled_assessments must be non-negative integers, got {scheduled_assessments!r}")
    n_sessions = int(scheduled_sessions)
    if n_sessions < 1:
        raise ValueError(f"scheduled_sessions must be >= 1, got {scheduled_sessions!r}")
    if not 0 <= int(max_missing_items) <= 5:
        raise ValueError(f"max_missing_items must be 0-5, got {max_missing_items!r}")
    return sched, n_sessions, int(max_missing_items)


def _table_specs(scratch: _Scratch, raw: RawCohort, max_missing: int) -> dict[str, _TableSpec]:
    """Each table's parse and rules, in the order of TABLES (patients first: the others' ids are checked against it)."""
    specs: dict[str, _TableSpec] = {}
    patient_ids: ir.Column | None = None
    for name in cohort_tables():
        if name not in raw.tables:
            continue
        spec = _spec(scratch, name, raw, patient_ids, max_missing)
        specs[name] = spec
        if name == "patients" and "patient_id" in spec.present:
            patient_ids = spec.t.filter(spec.t.patient_id.notnull()).patient_id
    return specs


def _check_tables(
    specs: Mapping[str, _TableSpec],
    sched: tuple[int, ...],
    n_sessions: int,
    problems: list[Problem],
    summaries: list[Problem],
    warnings: list[str],
) -> dict[str, int]:
    """Run every table's rules and warnings, adding to ``problems``, ``summaries`` and ``warnings``; rows per table."""
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
    return rows


def _cohort(raw: RawCohort, specs: Mapping[str, _TableSpec], rows: dict[str, int], warnings: tuple[str, ...]) -> Cohort:
    """The validated Cohort: each table's typed columns, and its content fingerprint."""
    from burnout.ingest.fingerprint import content_fingerprint

    typed = {name: spec.parsed.typed() for name, spec in specs.items()}
    file_columns = {name: spec.parsed.file_columns() for name, spec in specs.items()}
    mbi_cols = specs["mbi_gs"].present if "mbi_gs" in specs else frozenset(MBI_ITEM_COLUMNS)
    return _from_typed(
        raw.con,
        typed,
        mbi_has_items=set(MBI_ITEM_COLUMNS) <= mbi_cols,
        mbi_has_subscales=set(SUBSCALES) <= mbi_cols,
        warnings=warnings,
        source=raw.source,
        files=dict(raw.files),
        fingerprint=content_fingerprint(file_columns),  # the same content from any source or engine
        rows=rows,
        file_columns=file_columns,
        synthetic=_simulated(raw),
    )


def _simulated(raw: RawCohort) -> bool:
    """Every file read is one ``burnout simulate`` wrote, unchanged (the hashes taken while
    reading against its manifest's): real data put into a simulated folder is not labelled."""
    from burnout.outdir import simulated_sha256

    written = simulated_sha256(raw.source) if raw.file_sha256 else {}
    return bool(written) and all(written.get(name) == digest for name, digest in raw.file_sha256.items())


def _from_typed(con: ibis.BaseBackend, typed: Mapping[str, ir.Table], **fields: Any) -> Cohort:
    """A Cohort of the typed tables by name (every instrument's kept; ``mbi_gs`` empty when absent)."""
    return Cohort(
        con=con,
        patients=typed["patients"],
        mbi_gs=_mbi_gs_or_empty(typed),
        sessions=typed["sessions"],
        phq9=typed.get("phq9"),
        instruments={n: typed[n] for n in instrument_tables() if n in typed},
        **fields,
    )


def _mbi_gs_or_empty(typed: Mapping[str, ir.Table]) -> ir.Table:
    """The cohort's typed ``mbi_gs`` table, or one with no rows when it has none (its primary
    instrument is another one).

    The empty stand-in is an expression on the cohort's own ``patients`` table, so that it
    lives in the cohort's engine (an in-memory table is not uploaded to Spark, whose query
    then fails).
    """
    if "mbi_gs" in typed:
        return typed["mbi_gs"]
    none = ibis.null("int64")
    empty = typed["patients"].filter(ibis.literal(False))
    return empty.select("patient_id", **{c: none for c in _TYPED["mbi_gs"] if c != "patient_id"})


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
        for name in cohort_tables():
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
    return _from_typed(
        con,
        typed,
        mbi_has_items=checked.mbi_has_items,
        mbi_has_subscales=checked.mbi_has_subscales,
        warnings=checked.warnings,
        source=checked.source,
        files=dict(checked.files),
        fingerprint=checked.fingerprint,
        rows=dict(checked.rows),
        file_columns=file_columns,
        synthetic=checked.synthetic,
    )


def _sort_key(p: Problem) -> tuple[Any, ...]:
    return (p.file, p.line is not None, p.line or 0, p.column or "", p.allowed)
