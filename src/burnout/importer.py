"""`burnout import`: validate a cohort folder and load it into a PostgreSQL database or a DuckDB store.

``duckdb:///path/cohort.duckdb`` writes a validated store instead (:mod:`burnout.ingest.store`):
``burnout analyze duckdb:///path/cohort.duckdb`` then skips parsing and validation while
the store is unchanged.

The database then holds tables ``patients``, ``mbi_gs``, ``sessions`` (and ``phq9``)
with the column names of the data format (docs/spec/data-format.md), so that
``burnout analyze postgresql://...`` reads them as it reads the folder and gives the
same results.

The folder is validated by DuckDB exactly as ``burnout validate`` does. Each table is
then written with the validated values of the documented columns the file has (ids
and text as ``text``, with sex, route and pathway normalised as the analysis reads
them; items ``smallint``; other integers ``integer``; dates ``date``; flags
``boolean``; dose_mg ``double precision``; subscale scores ``numeric``) and a primary
key on (patient_id[, after_session | session]). Rows stream from DuckDB to
PostgreSQL's ``COPY`` in batches of 200,000, so memory does not grow with the cohort.
A subscale score is stored as the exact decimal of its validated value in units of
1/600,000 point, rounded to 10 places, which reads back to the same units.

>>> from burnout.importer import import_cohort                                  # doctest: +SKIP
>>> import_cohort("cohort/", "postgresql://me@db.example/clinic")               # doctest: +SKIP
<ImportSummary: 2,710 patients, 10,840 MBI-GS assessments, 16,260 sessions, no PHQ-9 into postgresql://me@db.example/clinic>
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from burnout.engines import sql_identifier
from burnout.errors import BurnoutError, ExistingTablesError, first_line, redact_url

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from burnout.ingest import Cohort
    from burnout.plan import Protocol

__all__ = ["ImportSummary", "import_cohort"]

# PostgreSQL column types. Values are stored as the analysis reads them: ids and
# text trimmed (sex and route lower case, blank = "unknown"; pathway lower case),
# integers, dates and booleans typed, subscale scores as exact NUMERIC.
_PG_TYPES: dict[str, str] = {
    "patient_id": "text",
    "age": "integer",
    "sex": "text",
    "route": "text",
    "pathway": "text",
    "after_session": "integer",
    "completed_on": "date",
    "session": "integer",
    "held_on": "date",
    "dose_mg": "double precision",
    "monitor_present": "boolean",
    "side_effects": "boolean",
    "serious_adverse_event": "boolean",
    "exhaustion": "numeric",
    "cynicism": "numeric",
    "professional_efficacy": "numeric",
}
_KEYS: dict[str, tuple[str, ...]] = {
    "patients": ("patient_id",),
    "mbi_gs": ("patient_id", "after_session"),
    "sessions": ("patient_id", "session"),
    "phq9": ("patient_id", "after_session"),
}
_BATCH_ROWS = 200_000


@dataclass(frozen=True)
class ImportSummary:
    """What was loaded: rows per table, into which database (password hidden).

    Attributes
    ----------
    url : str
        The database, without a password.
    rows : Mapping[str, int]
        Rows written per table (``patients``, ``mbi_gs``, ``sessions``, ``phq9``).
    warnings : tuple[str, ...]
        The validation warnings (unknown columns, dates out of order, ...).
    fingerprint : str
        SHA-256 of the validated content: results.json's ``data_fingerprint`` of an
        analysis of the folder, and of the database it was imported into.
    replaced : tuple[str, ...]
        Tables that existed before and were replaced.
    """

    url: str
    rows: Mapping[str, int]
    warnings: tuple[str, ...] = ()
    fingerprint: str = ""
    replaced: tuple[str, ...] = field(default=())

    def __repr__(self) -> str:
        r = self.rows
        phq = f"{r['phq9']:,} PHQ-9 assessments" if "phq9" in r else "no PHQ-9"
        return (
            f"<ImportSummary: {r.get('patients', 0):,} patients, {r.get('mbi_gs', 0):,} MBI-GS assessments, "
            f"{r.get('sessions', 0):,} sessions, {phq} into {self.url}>"
        )


def import_cohort(
    source: str | os.PathLike[str],
    url: str,
    *,
    replace: bool = False,
    protocol: Protocol | str | os.PathLike[str] | None = None,
    max_line_bytes: int | None = None,
) -> ImportSummary:
    """Validate a cohort folder and load it into a PostgreSQL database (one transaction) or
    a DuckDB store; returns an :class:`ImportSummary`.

    Parameters
    ----------
    source : str or os.PathLike
        A cohort folder (CSV or Parquet, docs/spec/data-format.md).
    url : str
        ``postgresql://user[:password]@host[:port]/database`` (tables in its default schema)
        or ``duckdb:///path/cohort.duckdb`` (a validated store that ``analyze`` trusts).
    replace : bool
        Replace the cohort tables if the database has them (all four are dropped,
        so a stale ``phq9`` never outlives an import without one). Default False:
        existing tables are an error and nothing is changed.
    protocol : Protocol, path or None
        The plan whose schedule the validation warnings refer to; default the
        reference study's plan.

    Raises
    ------
    DataError
        The folder breaks the data format (every problem, with file and line);
        nothing is written.
    BurnoutError
        The URL is not a PostgreSQL URL or the database cannot be reached.
    ExistingTablesError
        The database already holds cohort tables and ``replace`` is False.
    """
    from burnout.engines import is_duckdb_url
    from burnout.plan import Protocol, load_protocol
    from burnout.schema import TABLES

    plan = protocol if isinstance(protocol, Protocol) else load_protocol(protocol)
    if is_duckdb_url(url):
        return _import_store(source, url, plan, replace=replace, max_line_bytes=max_line_bytes)
    _check_url(url)
    conn = _connect(url)  # before validating: a wrong URL fails at once
    try:
        existing = _existing_tables(conn)
        if existing and not replace:
            raise ExistingTablesError(url, existing)
        cohort = _validated(source, plan, max_line_bytes=max_line_bytes)
        replaced = _write(conn, _plain_tables(cohort), url=url)
    finally:
        conn.close()
    return ImportSummary(
        url=redact_url(url),
        rows={name: cohort.rows[name] for name in TABLES if name in cohort.rows},
        warnings=cohort.warnings,
        fingerprint=cohort.fingerprint,
        replaced=replaced,
    )


def _import_store(
    source: str | os.PathLike[str], url: str, plan: Protocol, *, replace: bool, max_line_bytes: int | None
) -> ImportSummary:
    """Validate the folder and write a DuckDB store (:mod:`burnout.ingest.store`) at the URL's path."""
    from burnout.engines import duckdb_store_path
    from burnout.ingest.store import is_store_file, store_options, store_tables, write_store
    from burnout.schema import TABLES

    path = duckdb_store_path(url)
    _check_store_path(path)
    existed = os.path.exists(path)
    if existed and not is_store_file(path):  # never replace a file burnout did not write
        raise BurnoutError(
            f"{path} exists and is not a burnout store; choose a new file (burnout never replaces files it did not write)"
        )
    if existed and not replace:
        raise ExistingTablesError(url, store_tables(path))
    cohort = _validated(source, plan, max_line_bytes=max_line_bytes)
    options = store_options(plan.schedule.assessments, plan.schedule.sessions, plan.scoring.max_missing_items)
    write_store(cohort, _plain_tables(cohort), path, options=options)
    return ImportSummary(
        url=url,
        rows={name: cohort.rows[name] for name in TABLES if name in cohort.rows},
        warnings=cohort.warnings,
        fingerprint=cohort.fingerprint,
        replaced=tuple(name for name in TABLES if name in cohort.rows) if existed else (),
    )


def _check_store_path(path: str) -> None:
    """A store's path must be a file in an existing, writable folder: said before the folder is validated."""
    folder = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        raise BurnoutError(
            f"{path} is a folder: give the store a file name in it, e.g. duckdb:///{path.lstrip('/')}/cohort.duckdb"
        )
    if not os.path.isdir(folder):
        raise BurnoutError(f"there is no folder {folder} for the store {path}: create it first or choose another path")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise BurnoutError(f"the folder {folder} is not writable, so the store {path} cannot be written there")


def _validated(source: str | os.PathLike[str], plan: Protocol, *, max_line_bytes: int | None) -> Cohort:
    """The folder validated as ``burnout validate`` does, against the plan's schedule."""
    from burnout.ingest import load_cohort

    return load_cohort(
        source,
        scheduled_assessments=tuple(plan.schedule.assessments),
        scheduled_sessions=plan.schedule.sessions,
        max_missing_items=plan.scoring.max_missing_items,
        max_line_bytes=max_line_bytes,
        primary=plan.instruments.primary_table,  # the tables required follow the plan's instruments
        definitions=plan.instruments.user_definitions,
    )


def _check_url(url: object) -> None:
    if not isinstance(url, str) or not re.match(r"^postgres(ql)?://", url):
        raise BurnoutError(
            f"the database URL must start with postgresql://, got {url!r}; e.g. postgresql://user@localhost:5432/clinic, "
            "or duckdb:///path/cohort.duckdb for a validated store (a DuckDB file)"
        )


def _plain_tables(cohort: Cohort) -> dict[str, ir.Table]:
    """Per table, the documented columns of the file with their validated values."""
    import math

    from burnout.instrument import SCALE, SUBSCALES

    # a subscale's units as a decimal with 10 places: q = round(units * 10**10 / SCALE)
    g = math.gcd(10**10, SCALE)
    a, b = 10**10 // g, SCALE // g
    out: dict[str, ir.Table] = {}
    for name, t in cohort.file_columns.items():
        cols: dict[str, ir.Value] = {}
        for c in (c for c in t.columns if c != "_line"):
            if c in SUBSCALES:
                q = (t[c] * (2 * a) + b) // (2 * b)  # units >= 0: round half up
                # written as decimal text (PostgreSQL parses it into NUMERIC exactly)
                cols[c] = (q // 10**10).cast("string") + "." + (q % 10**10).cast("string").lpad(10, "0")
            else:
                cols[c] = t[c]
        out[name] = t.select(**cols)
    return out


def _ddl(name: str, t: ir.Table) -> str:
    cols = ",\n  ".join(f"{sql_identifier(c)} {_PG_TYPES.get(c, 'smallint')}" for c in t.columns)
    keys = _KEYS.get(name, ("patient_id", "after_session"))  # any instrument's table
    key = ", ".join(sql_identifier(k) for k in keys)
    return f"CREATE TABLE {sql_identifier(name)} (\n  {cols},\n  PRIMARY KEY ({key})\n)"


def _batches(t: ir.Table) -> Iterator[bytes]:
    """The table as CSV text (no header) in batches: null = empty, text quoted."""
    import io

    import ibis
    import pyarrow.csv as pacsv

    # straight from DuckDB's cursor: Ibis 12's to_pyarrow_batches calls a method DuckDB 2 removed
    db = t._find_backend().con  # the connection itself: the parsed tables are its temp tables
    reader = db.sql(ibis.to_sql(t, dialect="duckdb")).to_arrow_reader(_BATCH_ROWS)
    for batch in reader:
        buf = io.BytesIO()
        pacsv.write_csv(batch, buf, write_options=pacsv.WriteOptions(include_header=False))
        yield buf.getvalue()


def _connect(url: str) -> Any:
    import psycopg

    from burnout.errors import connect_error

    try:
        return psycopg.connect(url)
    except psycopg.Error as exc:
        raise connect_error(url, exc) from exc


def _existing_tables(conn: Any) -> tuple[str, ...]:
    """The cohort tables already in the connection's schema, in canonical order."""
    from burnout.schema import TABLES

    with conn.transaction():
        found = conn.execute(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = current_schema() AND c.relname = ANY(%s)",
            (list(TABLES),),
        ).fetchall()
    return tuple(name for name in TABLES if (name,) in found)


def _write(conn: Any, tables: Mapping[str, ir.Table], *, url: str) -> tuple[str, ...]:
    """Drop any cohort tables, then create and fill ``tables``, in one transaction; return those dropped."""
    import psycopg

    try:
        with conn.transaction():
            existing = _existing_tables(conn)
            for name in existing:
                conn.execute(f"DROP TABLE {sql_identifier(name)} CASCADE")
            for name, t in tables.items():
                conn.execute(_ddl(name, t))
                columns = ", ".join(sql_identifier(c) for c in t.columns)
                with conn.cursor().copy(f"COPY {sql_identifier(name)} ({columns}) FROM STDIN (FORMAT csv)") as copy:
                    for chunk in _batches(t):
                        copy.write(chunk)
            for name in tables:
                conn.execute(f"ANALYZE {sql_identifier(name)}")
    except psycopg.Error as exc:
        raise BurnoutError(
            f"writing the cohort to {redact_url(url)} failed, nothing was changed: {first_line(exc)}"
        ) from exc
    return existing
