"""The raw cohort: tables as read into the engine, before any value is checked, and how
source columns are typed on them (:func:`keep_type`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir

from burnout.errors import Problem
from burnout.ingest.loaded import _run
from burnout.schema import cohort_tables

__all__ = ["RawCohort", "keep_type"]


@dataclass(frozen=True, eq=False)
class RawCohort:
    """A cohort folder as loaded into the engine, before any value is checked.

    Attributes
    ----------
    con : ibis.BaseBackend
        The engine holding the tables.
    tables : Mapping[str, ibis.Table]
        Table name (``"patients"``, ``"mbi_gs"``, ``"sessions"``, ``"phq9"``) to a
        table with the documented columns present in the file, plus ``_line``
        (int64): the file line for CSV, the 1-based row number for Parquet.
        CSV columns are text (blank cells null or empty). Parquet and database
        columns keep their type when it is an integer, float, boolean, date or
        text (see :func:`keep_type`); other types become the text a CSV export
        would hold. Undocumented columns are left out. A table whose file could
        not be read is absent.
    files : Mapping[str, str]
        Table name to the file name shown in messages, e.g. ``"mbi_gs.csv"``.
    problems : tuple[Problem, ...]
        Problems with the files themselves, found while reading.
    warnings : tuple[str, ...]
        Things that do not make the data wrong (e.g. unknown columns, ignored).
    source : str
        The folder, as given.
    fingerprint : str
        SHA-256 (hex) identifying the input bytes: the hash of the text lines
        ``"<file name> <sha256 of the file's bytes>\\n"`` for each file present, in
        the order patients, mbi_gs, sessions, phq9. Each file is hashed streaming.
    formats : Mapping[str, str]
        Table name to ``"csv"`` or ``"parquet"``.
    columns : Mapping[str, tuple[str, ...]]
        Table name to every column name in the file's header, as written.
    file_sha256 : Mapping[str, str]
        File name to the SHA-256 of its bytes, for each file present (what ``fingerprint``
        hashes); empty for a database.
    quoted : Mapping[str, bool]
        CSV table name to whether a quote character occurs after the header line
        (found by the scan that hashes the file), so an engine reading the file again
        knows whether a cell may span lines.
    """

    con: ibis.BaseBackend
    tables: Mapping[str, ir.Table]
    files: Mapping[str, str]
    problems: tuple[Problem, ...] = ()
    warnings: tuple[str, ...] = ()
    source: str = ""
    fingerprint: str = ""
    formats: Mapping[str, Literal["csv", "parquet", "table"]] = field(default_factory=dict)
    columns: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    owned: tuple[tuple[str, str], ...] = ()  # (kind, name) of engine objects the loader created
    quoted: Mapping[str, bool] = field(default_factory=dict)  # CSV tables with a quote after the header
    file_sha256: Mapping[str, str] = field(default_factory=dict)

    def __repr__(self) -> str:
        parts = ", ".join(f"{self.files[n]}" for n in cohort_tables() if n in self.tables)
        return f"<RawCohort: {parts or 'no tables'}; {len(self.problems)} problems; from {self.source}>"

    def close(self) -> None:
        """Drop the engine objects the loader created; ``tables`` is unusable afterwards.

        Tables of a database source belong to the database and are never dropped. A
        :class:`~burnout.ingest.Cohort` made from this RawCohort keeps working: its
        typed tables are separate. :func:`burnout.ingest.load_cohort` calls this.
        """
        for kind, name in reversed(self.owned):
            if _is_duckdb(self.con):
                _run(self.con.con, f'DROP {kind} IF EXISTS "{name}"')
            elif kind == "VIEW":
                self.con.drop_view(name, force=True)
            else:
                self.con.drop_table(name, force=True)


def keep_type(col: ir.Value) -> ir.Value:
    """A source column as validation receives it: as typed when :func:`_typed_for_validation`
    says so, else as the text a CSV export would hold."""
    return col if _typed_for_validation(col.type()) else _as_text(col)


def _typed_for_validation(typ: dt.DataType) -> bool:
    """Types validation reads as they are: text, booleans, dates, floats and integers that
    fit int64 (the rest become text first)."""
    return (
        typ.is_string()
        or typ.is_boolean()
        or typ.is_date()
        or typ.is_floating()
        or (typ.is_integer() and not (typ.is_unsigned_integer() and typ.nbytes == 8))
    )


def _as_text(col: ir.Value) -> ir.StringValue:
    """A database column as the text a CSV export would hold."""
    typ = col.type()
    if typ.is_boolean():
        return ibis.cases((col, "true"), (~col, "false"), else_=ibis.null("string"))
    if typ.is_timestamp():
        day = col.date()
        return ibis.cases((col == day.cast(typ), day.cast("string")), else_=col.cast("string"))
    return col.cast("string")


def _is_duckdb(con: ibis.BaseBackend) -> bool:
    return getattr(con, "name", None) == "duckdb"
