"""Load stage: the cohort tables of a database, as raw tables with row numbers. (database)."""

from __future__ import annotations

import hashlib
from typing import Literal

import ibis
import ibis.expr.types as ir

from burnout.errors import Problem, redact_url
from burnout.ingest.loaded import _check_header, _Loaded, _problem
from burnout.ingest.raw import RawCohort, keep_type
from burnout.schema import REQUIRED_TABLES, cohort_tables, table_columns


def _read_database(url: str, *, con: ibis.BaseBackend, required: frozenset[str] = REQUIRED_TABLES) -> RawCohort:
    """Tables ``patients``, ``mbi_gs``, ``sessions`` (and every instrument's) of a database.

    ``required`` are the tables the plan needs (`burnout.schema.required_tables`: the
    primary instrument's, not the MBI-GS's when the primary is another).

    Each documented column is cast to text, as for files. A database table has no
    lines, so ``_line`` is the 1-based row number when the rows are sorted by all
    documented columns (patient_id first): deterministic, and with the patient id in
    every message enough to find the row. The fingerprint covers each table's name,
    schema and row count, not its contents.
    """
    existing = _table_names(con)
    tables: dict[str, ir.Table] = {}
    files: dict[str, str] = {}
    formats: dict[str, Literal["csv", "parquet", "table"]] = {}
    columns: dict[str, tuple[str, ...]] = {}
    problems: list[Problem] = []
    warnings: list[str] = []
    digests: list[str] = []
    for name in cohort_tables():
        if name not in existing:
            if name in required:
                problems.append(_problem(name, None, f"a required table {name!r} in the database {redact_url(url)}"))
            continue
        t = con.table(name)
        out = _Loaded()
        out.header = tuple(t.columns)
        keep = _check_header(list(t.columns), name, name, out, line=None)
        problems.extend(out.problems)
        warnings.extend(out.warnings)
        cols = {col: keep_type(t[col]) for col in keep.values()}
        order = [t[c] for c in table_columns(name) if c in cols]
        if cols:
            line = ibis.row_number().over(order_by=order) + 1
            tables[name] = t.select(_line=line.cast("int64"), **cols)
        else:
            tables[name] = t.select(_line=ibis.row_number().cast("int64") + 1)
        files[name] = name
        formats[name] = "table"
        columns[name] = out.header
        n = con.to_pyarrow(t.count()).as_py()
        digests.append(f"{name} {t.schema()!r} {n}\n")
    return RawCohort(
        con=con,
        tables=tables,
        files=files,
        problems=tuple(problems),
        warnings=tuple(warnings),
        source=redact_url(url),
        fingerprint=hashlib.sha256("".join(digests).encode()).hexdigest(),
        formats=formats,
        columns=columns,
    )


def _table_names(con: ibis.BaseBackend) -> set[str]:
    """The tables of the connection's database (a DuckDB store through SQL, see ``duckdb_table_names``)."""
    from burnout.engines import duckdb_table_names

    return duckdb_table_names(con) if con.name == "duckdb" else set(con.list_tables())
