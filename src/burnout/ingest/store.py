"""A validated store: a DuckDB file written by ``burnout import DIR duckdb:///path/cohort.duckdb``.

Re-running an analysis with another plan on the same data is the common case, and
reading and validating the files is most of its engine work. The store keeps, for
each cohort table:

- ``patients``, ``mbi_gs``, ``sessions`` (and ``phq9``): the documented columns of the
  file with their validated values, as the PostgreSQL import writes them (subscale
  scores as exact decimals). Validation reads these when it has to run again.
- ``burnout_typed_<name>``: the analysis tables of :class:`~burnout.ingest.Cohort`
  (scores in integer units), which an analysis reads without parsing anything.
- ``burnout_store``: one row: the store format, the validation options it was
  validated with, its warnings, rows, file names, the data fingerprint of the folder
  (results.json's ``meta.data_fingerprint``), ``typed_fingerprint``, the content
  fingerprint (:mod:`burnout.ingest.fingerprint`) of the ``burnout_typed_*`` tables, and
  ``table_sums``: per table, plain and typed, its columns with their types, its rows and
  the sum of its rows' DuckDB ``hash``, with the DuckDB version that took them and a
  SHA-256 of the record's other fields.

:func:`stored_cohort` returns the Cohort when the options are the same, the record is as
written and every table still has its sums (one scan of all of them, no parsing, no
rule); else None, and :func:`burnout.ingest.load_cohort` validates the plain tables as it
would a PostgreSQL database. So a store changed after the import (either kind of table,
the record, or a cohort table added) is validated again: an analysis never reads typed
tables that differ from what was validated, and never ignores an edit to a plain table.
DuckDB's ``hash`` is its own, and may change between versions: a store read by another
DuckDB version, or one of format 3 (before the sums), is checked by the two content
fingerprints instead (two MD5 scans of canonical text: loading a store of 1M patients
takes 4.6 s that way against 0.75 s by the sums). Like the fingerprint, the sums identify
data; they are not a defence against someone who crafts rows to collide.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

import ibis

from burnout.engines import sql_identifier, sql_text
from burnout.errors import BurnoutError
from burnout.schema import TABLES, instrument_tables

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from burnout.ingest.validate import Cohort

__all__ = [
    "STORE_FORMAT",
    "STORE_TABLE",
    "TYPED_PREFIX",
    "StoreReading",
    "is_store_file",
    "store_options",
    "store_tables",
    "stored_cohort",
    "table_sums",
    "typed_fingerprint",
    "write_store",
]

STORE_TABLE: Final = "burnout_store"
TYPED_PREFIX: Final = "burnout_typed_"
STORE_FORMAT: Final = 4
"""Bumped when the layout changes. 4: the record keeps each table's DuckDB hash sums; 3: it says
whether the data are simulated (still read, checked by the content fingerprints); 2: every
instrument table is kept (1 kept PHQ-9 only). A store of format 1 or 2 is validated again."""


def store_options(
    scheduled_assessments: Sequence[int], scheduled_sessions: int, max_missing_items: int
) -> dict[str, Any]:
    """The validation options a store was validated with (warnings and rules depend on them)."""
    return {
        "scheduled_assessments": [int(a) for a in scheduled_assessments],
        "scheduled_sessions": int(scheduled_sessions),
        "max_missing_items": int(max_missing_items),
    }


def typed_fingerprint(tables: dict[str, ir.Table]) -> str:
    """The content fingerprint of the analysis tables (``burnout_typed_*``)."""
    from burnout.ingest.fingerprint import content_fingerprint

    return content_fingerprint(tables)


@dataclass(frozen=True)
class StoreReading:
    """What :func:`stored_cohort` found: the cohort (None: validate the store's tables again) and,
    when the store cost more than a matching one, a note that says why and how to make it match."""

    cohort: Cohort | None
    note: str | None = None


def stored_cohort(con: ibis.BaseBackend, url: str, *, options: dict[str, Any]) -> StoreReading:
    """The validated Cohort of a store whose content and options match; none when it must be validated again.

    Raises
    ------
    BurnoutError
        The file is a DuckDB database but not a burnout store (no ``burnout_store``
        table and no cohort tables).
    """
    from burnout.engines import duckdb_table_names
    from burnout.schema import cohort_tables

    existing = duckdb_table_names(con)
    if STORE_TABLE not in existing:
        if not existing & set(TABLES):
            raise BurnoutError(
                f"{url} is a DuckDB database but not a burnout store (no {STORE_TABLE} table, no cohort tables): "
                f"make one with `burnout import COHORT_FOLDER {url}`"
            )
        return StoreReading(None)  # cohort tables without our record: validated as a database, as asked
    m = _record(con)
    if m is None:
        return _validate_again(url, f"its {STORE_TABLE} table is not a record this burnout wrote as it is now")
    if m["options"] != options:
        return _validate_again(url, _other_options(m["options"], options), plan=True)
    changed = "its tables or its record are not as `burnout import` recorded them"
    rows: dict[str, int] = m["rows"]
    if not rows:
        return _validate_again(url, changed)
    if any(TYPED_PREFIX + name not in existing or name not in existing for name in rows):
        return _validate_again(url, "a table it recorded is missing")
    added = sorted((existing & set(cohort_tables())) - set(rows))
    if added:  # validated with the rest, not ignored
        return _validate_again(url, f"a cohort table was added after the import: {', '.join(added)}")
    checked = _unchanged(con, url, m, rows)
    if checked is None:
        return _validate_again(url, changed)
    return StoreReading(_cohort(con, url, m, rows), checked or None)


def _cohort(con: ibis.BaseBackend, url: str, m: dict[str, Any], rows: dict[str, int]) -> Cohort:
    from burnout.ingest.validate import Cohort, _mbi_gs_or_empty

    typed = {name: con.table(TYPED_PREFIX + name) for name in rows}
    return Cohort(
        con=con,
        patients=typed["patients"],
        mbi_gs=_mbi_gs_or_empty(typed),
        sessions=typed["sessions"],
        phq9=typed.get("phq9"),
        instruments={n: typed[n] for n in instrument_tables() if n in typed},
        mbi_has_items=m["mbi_has_items"],
        mbi_has_subscales=m["mbi_has_subscales"],
        warnings=m["warnings"],
        source=url,
        files=m["files"],
        fingerprint=m["data_fingerprint"],
        rows=rows,
        file_columns={name: _file_columns(con.table(name)) for name in rows},
        synthetic=m["synthetic"],
    )


def _validate_again(url: str, why: str, *, plan: bool = False) -> StoreReading:
    """No cohort: the store's tables are validated as a database's, which every analysis repeats until a new import."""
    again = f"burnout import --replace{' --protocol PLAN' if plan else ''} COHORT_FOLDER {url}"
    until = "with this plan " if plan else ""
    return StoreReading(
        None,
        f"{url}: {why}, so its tables were validated again, as they will be on every analysis {until}until "
        f"`{again}` imports it again.",
    )


def _other_options(stored: Any, asked: dict[str, Any]) -> str:
    """The validation options that differ, as ``name: at the import, in this plan``."""
    old = stored if isinstance(stored, dict) else {}
    differ = [f"{k} {old.get(k)!r} at the import, {v!r} in this plan" for k, v in asked.items() if old.get(k) != v]
    return "it was imported with other validation options than this plan's (" + "; ".join(differ) + ")"


_RECORD_FIELDS: Final = (
    "format",
    "options",
    "warnings",
    "files",
    "rows",
    "mbi_has_items",
    "mbi_has_subscales",
    "data_fingerprint",
    "typed_fingerprint",
    "synthetic",
)
"""The record's columns before ``table_sums`` (format 3 has these alone)."""


def _record(con: ibis.BaseBackend) -> dict[str, Any] | None:
    """The store's record, parsed; None when it is not one row of format 3 or 4 that parses (changed by hand)."""
    found = con.table(STORE_TABLE).to_pyarrow().to_pylist()
    if len(found) != 1 or found[0].get("format") not in (3, STORE_FORMAT):
        return None
    raw = found[0]
    try:
        return {
            "digest": _record_digest(raw),
            "options": json.loads(raw["options"]),
            "rows": {str(name): int(n) for name, n in json.loads(raw["rows"]).items()},
            "warnings": tuple(str(w) for w in json.loads(raw["warnings"])),
            "files": {str(k): str(v) for k, v in json.loads(raw["files"]).items()},
            "mbi_has_items": bool(raw["mbi_has_items"]),
            "mbi_has_subscales": bool(raw["mbi_has_subscales"]),
            "data_fingerprint": str(raw["data_fingerprint"]),
            "typed_fingerprint": str(raw["typed_fingerprint"]),
            "synthetic": bool(raw["synthetic"]),
            "table_sums": json.loads(raw["table_sums"]) if raw["format"] == STORE_FORMAT else None,
        }
    except (TypeError, ValueError, KeyError, AttributeError):
        return None


def _record_digest(raw: dict[str, Any]) -> str:
    """SHA-256 of the record's fields but ``table_sums`` (which keeps it): a hand edit of any is seen."""
    import hashlib

    return hashlib.sha256(json.dumps({k: raw[k] for k in _RECORD_FIELDS}, sort_keys=True).encode()).hexdigest()


def _unchanged(con: ibis.BaseBackend, url: str, m: dict[str, Any], rows: dict[str, int]) -> str | None:
    """Every table (plain and typed) and the record as at the import: None when not; else a note
    when the check was the slow one (else the empty string).

    By the tables' DuckDB hash sums (one scan), else, for a store of format 3 or one read
    by another DuckDB version, by the two content fingerprints (MD5 of canonical text).
    """
    from burnout.ingest.fingerprint import content_fingerprint
    from burnout.instrument import SUBSCALES

    sums = m["table_sums"]
    if sums is not None:
        if not isinstance(sums, dict) or sums.get("record") != m["digest"]:
            return None
        if sums.get("duckdb") == _duckdb_version():
            db = con.con  # type: ignore[attr-defined]  # ibis's DuckDB backend: the duckdb connection
            same = table_sums(db, [*rows, *(TYPED_PREFIX + name for name in rows)]) == sums.get("tables")
            return "" if same else None
    plain = {name: con.table(name) for name in rows}
    if any(c in SUBSCALES and not t[c].type().is_numeric() for t in plain.values() for c in t.columns):
        return None  # a score column retyped by hand: its fingerprint cannot even be taken
    if typed_fingerprint({name: con.table(TYPED_PREFIX + name) for name in rows}) != m["typed_fingerprint"]:
        return None
    if content_fingerprint({name: _file_columns(t) for name, t in plain.items()}) != m["data_fingerprint"]:
        return None
    by = (
        "an earlier burnout (store format 3)"
        if sums is None
        else f"DuckDB {sums.get('duckdb')} (this is {_duckdb_version()})"
    )
    return (
        f"{url} was imported by {by}, so it was checked by its content fingerprints, which read every row of "
        "both its copies: slower than the check a store imported by this burnout and DuckDB gets. "
        f"`burnout import --replace COHORT_FOLDER {url}` again makes later analyses of it faster."
    )


def _file_columns(t: ir.Table) -> ir.Table:
    """A plain table as :attr:`Cohort.file_columns`: ``_line`` (the row number) and scores in units."""
    from burnout.instrument import SCALE, SUBSCALES

    cols: dict[str, ir.Value] = {}
    for c in t.columns:
        # stored as exact decimals (10 places) of units / SCALE: units are their nearest integer
        cols[c] = (t[c] * SCALE).round().cast("int64") if c in SUBSCALES else t[c]
    return t.select(_line=(ibis.row_number() + 1).cast("int64"), **cols)


def write_store(cohort: Cohort, plain: dict[str, ir.Table], path: str, *, options: dict[str, Any]) -> None:
    """Write a validated cohort into a new DuckDB file at ``path`` (replacing one only when it is a store).

    ``plain`` holds the documented columns per table as the PostgreSQL import makes them
    (subscale scores as decimal text, stored here as ``DECIMAL(18,10)``). The file is
    built beside ``path`` and renamed over it only when complete, so a failed import
    leaves the old store (or nothing) in place.
    """
    import os
    import uuid

    if getattr(cohort.con, "name", None) != "duckdb":
        raise BurnoutError("a DuckDB store is written from a cohort validated by DuckDB")
    tmp = f"{path}.tmp-{uuid.uuid4().hex[:12]}"
    db = cohort.con.con  # type: ignore[attr-defined]  # ibis's DuckDB backend: the duckdb connection
    alias = "burnout_store_out"
    db.execute(f"ATTACH '{sql_text(tmp)}' AS {alias}")
    try:
        for name, t in plain.items():
            cols = ", ".join(
                f'CAST("{c}" AS DECIMAL(18,10)) AS "{c}"' if _is_subscale(c) else f'"{c}"' for c in t.columns
            )
            db.execute(f'CREATE TABLE {alias}."{name}" AS SELECT {cols} FROM ({ibis.to_sql(t, dialect="duckdb")})')
        typed = _analysis_tables(cohort)
        for name, t in typed.items():
            db.execute(f'CREATE TABLE {alias}."{TYPED_PREFIX}{name}" AS {ibis.to_sql(t, dialect="duckdb")}')
        record = {
            "format": STORE_FORMAT,
            "options": json.dumps(options, sort_keys=True),
            "warnings": json.dumps(list(cohort.warnings)),
            "files": json.dumps(dict(cohort.files)),
            "rows": json.dumps({n: int(cohort.rows[n]) for n in typed}),
            "mbi_has_items": bool(cohort.mbi_has_items),
            "mbi_has_subscales": bool(cohort.mbi_has_subscales),
            "data_fingerprint": cohort.fingerprint,
            "typed_fingerprint": typed_fingerprint(typed),
            "synthetic": bool(cohort.synthetic),
        }
        record["table_sums"] = json.dumps(
            {
                "duckdb": _duckdb_version(),
                "tables": table_sums(db, [*typed, *(TYPED_PREFIX + name for name in typed)], database=alias),
                "record": _record_digest(record),
            }
        )
        db.execute(
            f"CREATE TABLE {alias}.{STORE_TABLE} (format INTEGER, options VARCHAR, warnings VARCHAR, files VARCHAR, "
            "rows VARCHAR, mbi_has_items BOOLEAN, mbi_has_subscales BOOLEAN, data_fingerprint VARCHAR, "
            "typed_fingerprint VARCHAR, synthetic BOOLEAN, table_sums VARCHAR)"
        )
        db.execute(f"INSERT INTO {alias}.{STORE_TABLE} VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", list(record.values()))
        db.execute(f"DETACH {alias}")
        os.replace(tmp, path)
    except BaseException:
        db.execute(f"DETACH DATABASE IF EXISTS {alias}")
        for leftover in (tmp, f"{tmp}.wal"):
            if os.path.exists(leftover):
                os.remove(leftover)
        raise


def table_sums(db: Any, tables: Sequence[str], *, database: str | None = None) -> dict[str, list[Any]]:
    """Per table: ``[columns and their types, rows, the sum of its rows' DuckDB hashes]``, in one query.

    The sum (as text: it passes 64 bits) does not depend on the order of the rows and
    changes with any cell, row or column (with about a 2**-64 chance of missing an edit);
    ``db`` is a duckdb connection, ``database`` the attached database holding the tables.
    """
    prefix = f"{database}." if database else ""
    shapes: dict[str, str] = {}
    selects = []
    for name in tables:
        table = prefix + sql_identifier(name)
        found = db.sql(f"SELECT * FROM {table}")  # bound, not run: its columns and their types
        shapes[name] = ", ".join(f"{c} {t}" for c, t in zip(found.columns, found.dtypes, strict=True))
        cells = ", ".join(sql_identifier(c) for c in found.columns)
        # the row's hash hashed again: DuckDB folds a row's last column into its hash by XOR
        # alone, so a TRUE moved between two rows of that column would often cancel out
        selects.append(
            f"SELECT '{sql_text(name)}' AS t, count(*) AS n, "
            f"CAST(sum(CAST(hash(hash({cells})) AS HUGEINT)) AS VARCHAR) AS s FROM {table}"
        )
    got = {t: (int(n), s or "0") for t, n, s in db.execute(" UNION ALL ".join(selects)).fetchall()}
    return {name: [shapes[name], *got[name]] for name in tables}


def _duckdb_version() -> str:
    import duckdb

    return str(duckdb.__version__)


def store_tables(path: str) -> tuple[str, ...]:
    """The cohort tables a store file holds (its plain ones), in the order of ``cohort_tables``."""
    import duckdb

    from burnout.schema import cohort_tables

    with duckdb.connect(path, read_only=True) as db:
        names = {r[0] for r in db.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    return tuple(name for name in cohort_tables() if name in names)


def is_store_file(path: str) -> bool:
    """``path`` is a DuckDB file holding a ``burnout_store`` table (a file ``write_store`` may replace)."""
    import duckdb

    try:
        with duckdb.connect(path, read_only=True) as db:
            found = db.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = ?", [STORE_TABLE]).fetchone()
    except duckdb.Error:
        return False
    return bool(found and found[0])


def _analysis_tables(cohort: Cohort) -> dict[str, ir.Table]:
    """The cohort's typed analysis tables by name: the core tables and every instrument's (no
    ``mbi_gs`` when the cohort has none: its primary instrument is another)."""
    mbi = {"mbi_gs": cohort.mbi_gs} if "mbi_gs" in cohort.rows else {}
    return {"patients": cohort.patients, **mbi, "sessions": cohort.sessions, **cohort.instruments}


def _is_subscale(column: str) -> bool:
    from burnout.instrument import SUBSCALES

    return column in SUBSCALES
