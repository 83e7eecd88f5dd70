"""Reading a staff survey: map item positions to columns, check every cell, load typed answers.

Every problem is collected (file, line, column, value, what is allowed) and raised
together as one `DataError` before anything is written. Cells are read as text and
checked against the instrument's answers exactly, as the cohort format's integers are
(``"4"`` and ``"4.0"`` are 4; ``"4.5"``, ``"four"`` and ``" 9"`` are not answers on a 0-6
scale); blanks are empty cells and the ``--na`` markers.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import duckdb
import ibis.expr.types as ir

from burnout.engines import duckdb_in_memory, sql_identifier, sql_text
from burnout.errors import BurnoutError, DataError, Problem
from burnout.ingest import MAX_PER_RULE
from burnout.ingest.csvcheck import record_lines, scan_file
from burnout.instruments import Instrument

__all__ = ["ColumnsError", "SurveyData", "column_map", "read_survey"]

_PATTERN = re.compile(r"\{n\}")
_INTEGER_TYPES = frozenset({"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT"})


class ColumnsError(ValueError, BurnoutError):
    """``--columns`` is neither a pattern with ``{n}`` nor a valid map file."""


@dataclass(frozen=True)
class SurveyData:
    """The answers in the engine: ``item_<p>`` int16 columns (null = blank), one row per respondent."""

    table: ir.Table
    columns: dict[int, str]
    rows: int
    file: str


def _used_positions(inst: Instrument) -> list[int]:
    used = {p for s in inst.scales.values() for p in s.items} | {f.item for f in inst.flags}
    return sorted(used)


def column_map(spec: str | None, inst: Instrument) -> dict[int, str]:
    """Item position -> column name: default ``item_<n>``, a pattern such as ``ITEM{n}``, or a
    TOML file whose ``[columns]`` table maps positions as strings to names (``"1" = "ex01"``)."""
    positions = _used_positions(inst)
    if spec is None:
        return {p: f"item_{p}" for p in positions}
    if spec.endswith(".toml"):
        return _map_file(Path(spec), positions)
    if not _PATTERN.search(spec):
        raise ColumnsError(
            f'--columns {spec!r} is neither a pattern with {{n}} (e.g. "ITEM{{n}}") nor a .toml file with a [columns] table'
        )
    return {p: _PATTERN.sub(str(p), spec) for p in positions}


def _map_file(path: Path, positions: list[int]) -> dict[int, str]:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ColumnsError(f"{path}: cannot read the column map: {exc.strerror or exc}; check the path") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ColumnsError(f"{path}: not valid TOML: {exc}; fix the syntax") from None
    table = raw.get("columns")
    problems = []
    if not isinstance(table, dict):
        raise ColumnsError(f'{path}: missing table [columns]; e.g. [columns] "1" = "ex01"')
    problems += [f"unknown key {k} at the top level: only [columns] is allowed" for k in raw if k != "columns"]
    wanted = {str(p) for p in positions}
    for key, value in table.items():
        if key not in wanted:
            problems.append(
                f"key columns.{key!r}: not an item position the instrument scores ({', '.join(sorted(wanted, key=int))})"
            )
        elif not isinstance(value, str) or not value:
            problems.append(f"key columns.{key}: got {value!r}, expected a column name (a non-empty string)")
    missing = [p for p in positions if str(p) not in table]
    if missing:
        problems.append(f"missing positions {missing} in [columns]: every scored item needs a column")
    if problems:
        raise ColumnsError(f"invalid column map {path}:\n" + "\n".join(f"  {m}" for m in problems))
    return {p: table[str(p)] for p in positions}


def _source_sql(path: Path) -> str:
    lit = f"'{sql_text(str(path))}'"
    if path.suffix.lower() == ".parquet":
        return f"read_parquet({lit})"
    return f"read_csv({lit}, all_varchar = true, header = true)"


_ABOUT = "the survey file"  # DataError's headline: a survey is not a cohort


def read_survey(
    path: str | os.PathLike[str], inst: Instrument, columns: dict[int, str], *, na: tuple[str, ...] = ()
) -> SurveyData:
    """Check every mapped cell of ``path`` (CSV or Parquet) and load the answers; `DataError` lists all problems."""
    file = Path(path)
    shown = file.name
    if not file.is_file():
        raise DataError(
            [Problem(shown, None, None, None, str(file), "a CSV or Parquet file of answers; check the path")],
            about=_ABOUT,
        )
    is_csv = file.suffix.lower() != ".parquet"
    if is_csv:
        scan = scan_file(file)
        if scan.bad_utf8_lines:
            bad = [
                Problem(shown, line, None, None, None, "UTF-8 text; save the file as UTF-8")
                for line in scan.bad_utf8_lines
            ]
            raise DataError(bad, about=_ABOUT)
    con = duckdb_in_memory()
    db: duckdb.DuckDBPyConnection = con.con
    try:
        db.execute(f"CREATE VIEW raw AS SELECT * FROM {_source_sql(file)}")
        described = db.execute("DESCRIBE raw").fetchall()
        header = [r[0] for r in described]
        integer = {r[0] for r in described if r[1] in _INTEGER_TYPES}
    except duckdb.Error as exc:
        raise DataError(
            [Problem(shown, None, None, None, None, f"a readable CSV or Parquet file ({str(exc).splitlines()[0]})")],
            about=_ABOUT,
        ) from None
    missing = [(p, c) for p, c in columns.items() if c not in header]
    if missing:
        raise DataError(
            [
                Problem(
                    shown, 1 if is_csv else None, None, c, None, f"a column with item {p}'s answers (see --columns)"
                )
                for p, c in missing
            ],
            about=_ABOUT,
        )
    data, n_bad = _load(con, inst, columns, na, shown, integer)
    if n_bad:  # the slow path, on bad files only: find each bad cell's line
        line_of = _line_mapper(file) if is_csv else None
        raise DataError(_cell_problems(db, inst, columns, na, shown, line_of=line_of, integer=integer), about=_ABOUT)
    return data


def _line_mapper(file: Path):
    starts = record_lines(file).start_line  # record 0 is the header, so row r (1-based) starts at starts[r]
    return lambda row: int(starts[row]) if row < len(starts) else row + 1


class _CellTest(NamedTuple):
    """SQL for one answer column: the answer as an integer (valid only where ``good``), the
    test of an allowed answer and the test of a blank."""

    answer: str
    good: str
    blank: str

    @property
    def bad(self) -> str:
        """Neither an allowed answer nor a blank."""
        return f"(NOT ({self.good}) AND NOT {self.blank})"


def _cell_test(col: str, inst: Instrument, na: tuple[str, ...], integer: bool = False) -> _CellTest:
    q = sql_identifier(col)
    if integer:  # a Parquet integer column: a range test, no text
        r = inst.response
        step = f" AND ({q} - {r.min}) % {r.step} = 0" if r.step > 1 else ""
        return _CellTest(q, f"{q} BETWEEN {r.min} AND {r.max}{step}", f"({q} IS NULL)")
    # "3.0" is 3, as tools that store integers as floats write it: listed, not parsed (a plain IN is fast)
    answers = ", ".join(f"'{v}', '{v}.0'" for v in inst.response.values)
    blanks = ", ".join(f"'{sql_text(v)}'" for v in ("", *na))
    text = f"trim(CAST({q} AS VARCHAR))"
    return _CellTest(
        f"CAST({text} AS DECIMAL(18, 1))", f"{text} IN ({answers})", f"({q} IS NULL OR {text} IN ({blanks}))"
    )


def _cell_problems(db, inst, columns, na, shown, *, line_of, integer: set[str]) -> list[Problem]:
    allowed = (
        f"an answer {inst.response.min} to {inst.response.max}"
        + (f" in steps of {inst.response.step}" if inst.response.step > 1 else "")
        + (f", or blank ({', '.join(repr(v) for v in na)} or empty)" if na else ", or empty")
    )
    problems: list[Problem] = []
    tests = {pos: _cell_test(col, inst, na, col in integer).bad for pos, col in columns.items()}
    # one pass counts the bad cells of every column; only columns with some are searched row by row
    counts = db.execute("SELECT " + ", ".join(f"count_if({bad})" for bad in tests.values()) + " FROM raw").fetchall()[0]
    for (pos, col), n_bad in zip(columns.items(), counts):
        if not n_bad:
            continue
        bad = tests[pos]
        rows = db.execute(
            f"SELECT _row, CAST({sql_identifier(col)} AS VARCHAR) FROM (SELECT row_number() OVER () AS _row, * FROM raw) "
            f"WHERE {bad} ORDER BY _row LIMIT {MAX_PER_RULE}"
        ).fetchall()
        for row, value in rows:
            line = line_of(row) if line_of else int(row)
            problems.append(Problem(shown, line, None, col, value, f"{allowed} (item {pos})"))
        if n_bad > MAX_PER_RULE:
            more = f"... and {n_bad - MAX_PER_RULE:,} more cells like these"
            problems.append(Problem(shown, None, None, col, None, more))
    return problems


def _load(
    con, inst: Instrument, columns: dict[int, str], na: tuple[str, ...], shown: str, integer: set[str]
) -> tuple[SurveyData, int]:
    """The typed answers in one pass over the file, with the count of rows holding a bad cell."""
    db = con.con
    typed, bad = [], []
    for pos, col in columns.items():
        test = _cell_test(col, inst, na, col in integer)
        typed.append(f"CASE WHEN {test.good} THEN CAST({test.answer} AS SMALLINT) END AS item_{pos}")
        bad.append(test.bad)
    db.execute(f"CREATE TABLE answers AS SELECT {', '.join(typed)}, ({' OR '.join(bad)}) AS _bad FROM raw")
    rows, n_bad = db.execute("SELECT count(*), count_if(_bad) FROM answers").fetchall()[0]
    data = SurveyData(table=con.table("answers"), columns={p: f"item_{p}" for p in columns}, rows=int(rows), file=shown)
    return data, int(n_bad)
