"""What reading one table file yields, and the pieces every reader shares.

:class:`_Loaded` is one table file as a reader (CSV: :mod:`burnout.ingest.csvload`,
Parquet: :mod:`burnout.ingest.parquetload`) left it in the engine; :func:`_check_header`
maps a header onto the documented columns, for files and database tables alike.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field

import duckdb

from burnout.engines import sql_text
from burnout.errors import Problem
from burnout.schema import table_columns

MAX_PER_RULE = 100  # problems reported per file and rule before a summary line


@dataclass
class _Loaded:
    table: str | None = None  # engine table/view name
    problems: list[Problem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    sha256: str = ""
    header: tuple[str, ...] = ()
    quoted: bool = False  # CSV: a quote character after the header line
    owned: list[tuple[str, str]] = field(default_factory=list)  # (kind, name), in creation order


def _run(db: duckdb.DuckDBPyConnection, sql: str) -> list[tuple]:
    """Run one statement to completion (DuckDB refuses new work while a result is unfetched)."""
    return db.execute(sql).fetchall()


def _sql_str(s: str | os.PathLike[str]) -> str:
    return f"'{sql_text(str(s))}'"


def _problem(
    display: str, line: int | None, allowed: str, *, column: str | None = None, value: str | None = None
) -> Problem:
    return Problem(file=display, line=line, patient_id=None, column=column, value=value, allowed=allowed)


def _check_header(names: list[str], display: str, name: str, out: _Loaded, *, line: int | None) -> dict[int, str]:
    """Map position -> documented column for the usable columns; report the rest."""
    known = table_columns(name)
    keep: dict[int, str] = {}
    seen: set[str] = set()
    unknown: list[str] = []
    for i, raw in enumerate(names):
        if raw in known:
            if raw in seen:
                out.problems.append(
                    _problem(
                        display,
                        line,
                        f"each column name once in the header: remove or rename the second {raw!r}",
                        column=raw,
                        value=raw,
                    )
                )
            else:
                seen.add(raw)
                keep[i] = raw
            continue
        norm = re.sub(r"[\s\-]+", "_", raw.strip().lower())
        norm = norm[1:] if norm.startswith("\ufeff") else norm
        numbered = re.fullmatch(r"(?:q|item)_?0*([1-9][0-9]?)", norm)  # Q1, ITEM1, item01: item_1
        norm = f"item_{numbered.group(1)}" if numbered else norm
        if norm in known and norm not in names:
            rule = "item columns are named by position" if numbered else "column names are lower case without spaces"
            out.problems.append(_problem(display, line, f"{rule}: rename {raw!r} to {norm!r}", column=raw, value=raw))
        elif not raw.strip():
            out.warnings.append(f"{display}: column {i + 1} has no name in the header; it is ignored")
        else:
            unknown.append(raw)
    if unknown:
        listed = ", ".join(repr(u) for u in unknown)
        out.warnings.append(
            f"{display}: unknown column{'s' if len(unknown) > 1 else ''} {listed} ignored "
            f"(documented columns: {', '.join(known)})"
        )
    return keep
