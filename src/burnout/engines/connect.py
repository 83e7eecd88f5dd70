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

__all__ = ["connect_source", "is_database_url", "is_postgres_url"]


def is_database_url(source: str | os.PathLike[str]) -> bool:
    """``source`` is a URL (``scheme://...``), not a folder."""
    return isinstance(source, str) and re.match(r"^[a-z][a-z0-9+.-]*://", source, flags=re.IGNORECASE) is not None


def is_postgres_url(source: str | os.PathLike[str]) -> bool:
    """``source`` is a PostgreSQL URL (``postgresql://`` or ``postgres://``)."""
    return isinstance(source, str) and source.lower().startswith(("postgresql://", "postgres://"))


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
    if is_database_url(source):
        raise BurnoutError(
            f"cannot read {redact_url(str(source))}: a cohort is a folder of CSV or Parquet files or a "
            "postgresql:// URL (e.g. postgresql://user@localhost:5432/clinic)"
        )
    if backend == "duckdb":
        import ibis

        return ibis.duckdb.connect()
    if backend == "spark":
        from burnout.engines.spark import spark_connect

        return spark_connect(master=spark_master)
    raise BurnoutError(f"unknown backend {backend!r}: use 'duckdb' or 'spark'")
