"""The one way every command connects to the engine that will read a cohort source.

``burnout validate``, ``burnout analyze`` and the library's ``load_cohort`` all call
:func:`connect_source`, so a ``postgresql://`` source gets the same Ibis fixes
(:mod:`burnout.engines.postgres`), the same error messages (password hidden) and the same
privilege check whichever command reads it.
"""

from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING

from burnout.errors import BurnoutError

if TYPE_CHECKING:
    import ibis

__all__ = [
    "connect_source",
    "duckdb_in_memory",
    "duckdb_store_path",
    "duckdb_table_names",
    "is_database_url",
    "is_duckdb_url",
    "is_postgres_url",
    "sql_text",
]


def duckdb_in_memory() -> ibis.BaseBackend:
    """A new in-memory DuckDB for burnout's own work, without DuckDB's progress bar.

    DuckDB turns its bar on by default in interactive Python (a REPL, a notebook,
    ``python -c``) and draws it on standard output for any query over two seconds (a large
    cohort's), amid burnout's own progress on standard error. The ``burnout`` command itself
    is not interactive; the library's callers often are. A connection the caller passes in
    is left as it is.
    """
    import ibis

    con = ibis.duckdb.connect()
    con.con.execute("SET enable_progress_bar = false")  # a session setting: DuckDB refuses it at connect
    return con


def is_database_url(source: str | os.PathLike[str]) -> bool:
    """``source`` is a URL (``scheme://...``), not a folder."""
    return isinstance(source, str) and re.match(r"^[a-z][a-z0-9+.-]*://", source, flags=re.IGNORECASE) is not None


def is_postgres_url(source: str | os.PathLike[str]) -> bool:
    """``source`` is a PostgreSQL URL (``postgresql://`` or ``postgres://``)."""
    return isinstance(source, str) and source.lower().startswith(("postgresql://", "postgres://"))


def is_duckdb_url(source: str | os.PathLike[str]) -> bool:
    """``source`` is a DuckDB store URL (``duckdb:///path/cohort.duckdb``, made by ``burnout import``)."""
    return isinstance(source, str) and source.lower().startswith("duckdb://")


def sql_text(text: str) -> str:
    """``text`` for inside a single-quoted SQL literal (quotes doubled), e.g. a file path in ATTACH."""
    return text.replace("'", "''")


def sql_identifier(name: str) -> str:
    """``name`` as a double-quoted SQL identifier (quotes doubled): a table or column name in SQL text."""
    return '"' + name.replace('"', '""') + '"'


def duckdb_store_path(url: str) -> str:
    """The file of a ``duckdb://`` URL: ``duckdb:///abs/c.duckdb`` is /abs/c.duckdb, ``duckdb://c.duckdb`` is relative."""
    path = url[len("duckdb://") :]
    if not path or path in ("/", ":memory:"):
        raise BurnoutError(f"{url!r} names no file: use duckdb:///path/to/cohort.duckdb")
    return path


def connect_source(
    source: str | os.PathLike[str], *, backend: str = "duckdb", spark_master: str | None = None
) -> ibis.BaseBackend:
    """The engine that reads ``source``: PostgreSQL itself for a ``postgresql://`` URL, else ``backend``.

    Raises
    ------
    BurnoutError
        The URL is not PostgreSQL; a PostgreSQL source with another backend; the
        server refuses the connection; the role may not read a cohort table (each
        message names the URL without its password and says what to do).
    """
    from burnout.errors import redact_url

    if is_postgres_url(source):
        if backend != "duckdb":
            raise BurnoutError(
                f"backend {backend!r} reads cohort folders; a postgresql:// source is analysed in PostgreSQL "
                "itself: leave out --backend"
            )
        from burnout.engines.postgres import check_cohort_privileges, postgres_connect

        con = postgres_connect(str(source))
        check_cohort_privileges(con, str(source))
        return con
    if is_duckdb_url(source):
        return _connect_store(str(source))
    if is_database_url(source):
        raise BurnoutError(
            f"cannot read {redact_url(str(source))}: a cohort is a folder of CSV or Parquet files, a "
            "postgresql:// URL or a duckdb:/// store made by burnout import (e.g. postgresql://user@localhost:5432/clinic)"
        )
    if backend == "duckdb":
        return duckdb_in_memory()
    if backend == "spark":
        from burnout.engines.spark import spark_connect

        return spark_connect(master=spark_master)
    raise BurnoutError(f"unknown backend {backend!r}: use 'duckdb' or 'spark'")


def _connect_store(url: str) -> ibis.BaseBackend:
    """An in-memory DuckDB with the store file attached read-only and its tables as views.

    Read-only, since an analysis never changes the store; in memory, since validation
    and the analysis create their working tables and views in the default catalog.
    """
    import duckdb

    path = duckdb_store_path(url)
    if not os.path.isfile(path):
        raise BurnoutError(
            f"no DuckDB store at {path}: make one with `burnout import COHORT_FOLDER {url}` (it validates the folder once)"
        )
    con = duckdb_in_memory()
    db = con.con
    try:
        db.execute(f"ATTACH '{sql_text(path)}' AS {STORE_ALIAS} (READ_ONLY)")
    except duckdb.Error as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise BurnoutError(
            f"cannot open {path} as a DuckDB database ({first}): a store is the file `burnout import` writes"
        ) from exc
    names = db.execute(
        "SELECT table_name FROM duckdb_tables() WHERE database_name = ? AND schema_name = 'main'", [STORE_ALIAS]
    ).fetchall()
    for (name,) in names:
        quoted = sql_identifier(name)
        db.execute(f"CREATE VIEW {quoted} AS SELECT * FROM {STORE_ALIAS}.main.{quoted}")
    return con


STORE_ALIAS = "burnout_store_file"


def duckdb_table_names(con: ibis.BaseBackend) -> set[str]:
    """Tables and views of a DuckDB connection's default schema (Ibis 12's ``list_tables``
    calls a method DuckDB 2 removed)."""
    db = con.con  # type: ignore[attr-defined]  # ibis's DuckDB backend: the duckdb connection
    rows = db.execute(
        "SELECT table_name FROM information_schema.tables "
        "WHERE table_catalog = current_database() AND table_schema = current_schema()"
    ).fetchall()
    return {r[0] for r in rows}
