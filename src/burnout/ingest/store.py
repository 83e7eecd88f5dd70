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

Reading it back, and telling the user when a store costs more than it has to, is
:mod:`burnout.ingest.storeread`. Like the fingerprint, the sums identify data; they are not
a defence against someone who crafts rows to collide.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Final

import ibis

from burnout.engines import sql_identifier, sql_text
from burnout.errors import BurnoutError

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from burnout.ingest.validate import Cohort

__all__ = [
    "STORE_FORMAT",
    "STORE_TABLE",
    "TYPED_PREFIX",
    "is_store_file",
    "store_options",
    "store_tables",
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


def _record_digest(raw: dict[str, Any]) -> str:
    """SHA-256 of the record's fields but ``table_sums`` (which keeps it): a hand edit of any is seen."""
    import hashlib

    return hashlib.sha256(json.dumps({k: raw[k] for k in _RECORD_FIELDS}, sort_keys=True).encode()).hexdigest()


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
    _attach(db, tmp, alias, shown=path)
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


def _attach(db: Any, file: str, alias: str, *, shown: str) -> None:
    """Attach a new DuckDB file to write; a failure (a full disk, a folder gone since the import began) is said."""
    import duckdb

    try:
        db.execute(f"ATTACH '{sql_text(file)}' AS {alias}")
    except duckdb.Error as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise BurnoutError(f"cannot write the store {shown}: {first}") from exc


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
