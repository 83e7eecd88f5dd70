"""PostgreSQL as the engine: ``burnout analyze postgresql://...``.

The cohort tables are read where they are (see ``load._read_database``) and every
stage runs the same Ibis expressions as on DuckDB. One compilation gap of Ibis 12
is closed here: PostgreSQL casts a boolean to ``integer`` but not to ``bigint`` or
``smallint``, while Ibis writes ``CAST(flag AS BIGINT)`` for ``flag.cast("int64")``
(used to count flags throughout). Such a cast is written ``CAST(CAST(flag AS INT)
AS BIGINT)`` instead, which gives 1/0/null as on every other engine.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from burnout.engines.connect import sql_identifier

if TYPE_CHECKING:
    import ibis

__all__ = ["check_cohort_privileges", "postgres_connect"]

_PATCHED = "_burnout_bool_to_int"


def _fix_boolean_casts() -> None:
    """Make Ibis's PostgreSQL compiler cast booleans to any integer type (idempotent)."""
    import sqlglot.expressions as sge
    from ibis.backends.sql.compilers.postgres import PostgresCompiler

    if getattr(PostgresCompiler.visit_Cast, _PATCHED, False):
        return
    original = PostgresCompiler.visit_Cast

    def visit_Cast(self, op, *, arg, to):
        if op.arg.dtype.is_boolean() and to.is_integer() and not to.is_int32():
            arg = sge.Cast(this=arg, to=sge.DataType.build("INT"))
        return original(self, op, arg=arg, to=to)

    setattr(visit_Cast, _PATCHED, True)
    PostgresCompiler.visit_Cast = visit_Cast
    PostgresCompiler.visit_TryCast = visit_Cast


def postgres_connect(url: str) -> ibis.BaseBackend:
    """An Ibis backend on the PostgreSQL database at ``url`` (``postgresql://...``).

    Raises
    ------
    BurnoutError
        The server cannot be reached or refuses the connection (password hidden).
    """
    import ibis

    from burnout.errors import connect_error

    _fix_boolean_casts()
    try:
        return ibis.connect(url)
    except Exception as exc:  # psycopg.OperationalError and friends
        raise connect_error(url, exc) from exc


def check_cohort_privileges(con: ibis.BaseBackend, url: str) -> None:
    """Raise when the connection's role may not read a cohort table the database has.

    PostgreSQL lists only the tables a role has some privilege on
    (``information_schema.tables``), so without this check a table the role may not
    read would be reported as missing. Tables are looked up in the connection's
    current schema, where the analysis reads them.

    Raises
    ------
    BurnoutError
        Naming the role, the tables and the ``GRANT`` that fixes it (URL without password).
    """
    from burnout.errors import BurnoutError, redact_url
    from burnout.schema import TABLES

    with con.con.cursor() as cur:  # type: ignore[attr-defined]  # ibis's backend exposes the psycopg connection untyped
        cur.execute(
            "SELECT c.relname, current_user, current_schema() FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = current_schema() AND c.relname = ANY(%s) "
            "AND NOT has_table_privilege(c.oid, 'SELECT')",
            (list(TABLES),),
        )
        denied = cur.fetchall()
    if denied:
        names = [name for name in TABLES if name in {row[0] for row in denied}]
        role, schema = denied[0][1], denied[0][2]
        s = "s" if len(names) > 1 else ""
        grant = ", ".join(f"{sql_identifier(schema)}.{sql_identifier(n)}" for n in names)
        raise BurnoutError(
            f"the role {role!r} may not read the cohort table{s} {', '.join(names)} in {redact_url(url)} "
            f"(schema {schema!r}): ask the database owner to run GRANT SELECT ON "
            f"{grant} TO {sql_identifier(role)}, or connect as a role that may"
        )
