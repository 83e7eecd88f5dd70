"""Load stage: read a cohort folder into the engine as raw text tables with line numbers.

A cohort is a folder holding ``patients``, ``mbi_gs`` and ``sessions`` (required)
and ``phq9`` (optional), each as ``NAME.csv`` or ``NAME.parquet``
(docs/spec/data-format.md). :func:`read_cohort` puts each table into the engine
with every documented column (CSV: as text, blank = null; Parquet and database
tables: as typed in the source when validation can check that type directly, else
as text) plus ``_line``, the place of the row in its file, so the validation stage
can say exactly where a bad cell is:

- CSV: ``_line`` is the true 1-based line of the file on which the row starts
  (the header is line 1, the first data row is line 2), also when quoted cells
  hold line breaks or the file has blank lines.
- Parquet: ``_line`` is the 1-based **row number** in the file (lines mean nothing
  in Parquet), so a :class:`~burnout.errors.Problem` from a ``.parquet`` file has
  the row number in its ``line`` field.

Nothing here judges cell values; that is :mod:`burnout.ingest.validate`. What the loader
reports are problems with the files themselves: a missing required file, a table
present as both CSV and Parquet, a name that is not a regular file (a named pipe,
which is never opened; a dangling link; a folder), a file that cannot be read, an
empty file, bytes that are not UTF-8 (with the line), a line longer than
``max_line_bytes`` (with the line), a file separated by semicolons or tabs, rows with
the wrong number of fields, an unclosed quote (the table is then left out, so that
what it caused elsewhere does not bury it), a Parquet column whose type cannot hold
the column's values, an unreadable Parquet file. Every CSV record is either a row
or a problem: the rows read are counted against the records found.
"""

from __future__ import annotations

import hashlib
import os
import stat
import uuid
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from burnout.engines import connect_source, duckdb_in_memory, is_database_url
from burnout.errors import Problem
from burnout.ingest import csvcheck as _csvcheck
from burnout.ingest.csvload import _load_csv
from burnout.ingest.database import _read_database
from burnout.ingest.loaded import _Loaded, _problem
from burnout.ingest.parquetload import _load_parquet
from burnout.ingest.raw import RawCohort, _is_duckdb, _typed_for_validation, keep_type
from burnout.schema import REQUIRED_TABLES, cohort_tables

__all__ = ["DEFAULT_MAX_LINE_BYTES", "read_cohort"]
DEFAULT_MAX_LINE_BYTES = 2_000_000  # DuckDB's own default; the CSV reader gets the same limit


def read_cohort(
    source: str | os.PathLike[str],
    *,
    con: ibis.BaseBackend | None = None,
    max_line_bytes: int | None = None,
    required: Collection[str] | None = None,
) -> RawCohort:
    """Read a cohort folder into the engine as raw text tables with line numbers.

    Parameters
    ----------
    source : str or os.PathLike
        Folder holding ``patients``, ``mbi_gs``, ``sessions`` and optionally ``phq9``,
        each as ``.csv`` (UTF-8 with or without a byte-order mark, comma-separated,
        header row, LF or CRLF line ends) or ``.parquet``.
    con : ibis.BaseBackend, optional
        Engine to load into; default a new in-memory DuckDB. Files are parsed by
        DuckDB; for another backend the parsed tables are copied into ``con``.
    max_line_bytes : int, optional
        Longest CSV line (and quoted record) read, in bytes without the line end;
        None: :data:`DEFAULT_MAX_LINE_BYTES` (2,000,000). A longer one is a problem
        naming its line (never skipped in silence); the CLI option ``--max-line-size``
        sets this.
    required : collection of str, optional
        The tables that must be present (a missing one is a problem); None: patients,
        mbi_gs and sessions (`burnout.schema.required_tables` for another primary
        instrument); a database's too.

    Returns
    -------
    RawCohort
        The tables (documented columns, plus ``_line``) and every problem
        found with the files. Never raises for bad data: :func:`burnout.ingest.validate_cohort`
        raises one :class:`~burnout.errors.DataError` with these and all value problems.

    Notes
    -----
    CSV is read with every column as text (DuckDB ``read_csv``, ``all_varchar``
    semantics, header, comma, ``"`` quoting). Line numbers: when the file has no
    quote character and no blank line, row *k* (0-based, in file order) is on line
    *k* + 2; otherwise the start line of each record is found by a vectorised byte
    scan (a line feed ends a record unless an odd number of quotes precede it).
    Non-UTF-8 bytes are found by decoding the file in 16 MiB pieces that end at a
    line feed, so each bad byte is reported on its true line.
    """
    max_line_bytes = DEFAULT_MAX_LINE_BYTES if max_line_bytes is None else int(max_line_bytes)
    if max_line_bytes < 1:
        raise ValueError(f"max_line_bytes must be a positive number of bytes, got {max_line_bytes!r}")
    needed = REQUIRED_TABLES if required is None else frozenset(required)
    if is_database_url(source):
        return _read_database(str(source), con=connect_source(source) if con is None else con, required=needed)
    folder = Path(source)
    con = duckdb_in_memory() if con is None else con
    listing, why = _list_folder(folder, needed)
    if why is not None:
        return RawCohort(con=con, tables={}, files={}, problems=(_problem(str(source), None, why),), source=str(source))
    return _read_folder(folder, listing, con, max_line_bytes=max_line_bytes, required=needed).raw(
        con, source=str(source)
    )


@dataclass
class _Folder:
    """What :func:`read_cohort` gathers from a folder, table by table in the order of TABLES."""

    tables: dict[str, ir.Table] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)
    formats: dict[str, Literal["csv", "parquet", "table"]] = field(default_factory=dict)
    columns: dict[str, tuple[str, ...]] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    sha256: dict[str, str] = field(default_factory=dict)  # file name -> SHA-256 of its bytes, in TABLES order
    owned: list[tuple[str, str]] = field(default_factory=list)
    quoted: dict[str, bool] = field(default_factory=dict)

    def raw(self, con: ibis.BaseBackend, *, source: str) -> RawCohort:
        return RawCohort(
            con=con,
            tables=self.tables,
            files=self.files,
            problems=tuple(self.problems),
            warnings=tuple(self.warnings),
            source=source,
            fingerprint=hashlib.sha256("".join(f"{n} {h}\n" for n, h in self.sha256.items()).encode()).hexdigest(),
            file_sha256=dict(self.sha256),
            formats=self.formats,
            columns=self.columns,
            owned=tuple(self.owned),
            quoted=self.quoted,
        )


def _list_folder(folder: Path, required: Collection[str]) -> tuple[dict[str, str], str | None]:
    """File name lower-cased and stripped of spaces around it -> file name in the folder, or why the
    folder cannot be listed (a near miss of a required name is named in its problem)."""
    why = None if folder.is_dir() else _not_a_folder(folder, required)
    try:
        return ({p.name.strip().lower(): p.name for p in folder.iterdir()} if why is None else {}), why
    except OSError as e:
        return {}, (
            f"a cohort folder burnout can list; listing it failed ({e.strerror or e}): "
            "check its permissions (read and execute)"
        )


def _read_folder(
    folder: Path,
    listing: dict[str, str],
    con: ibis.BaseBackend,
    *,
    max_line_bytes: int,
    required: frozenset[str] = REQUIRED_TABLES,
) -> _Folder:
    """Each table's file read by DuckDB (the file parser for every engine), then handed to ``con``."""
    engine = con if _is_duckdb(con) else duckdb_in_memory()
    token = uuid.uuid4().hex[:10]
    got = _Folder()
    for name in cohort_tables():
        path = _table_file(folder, name, listing, got, required=name in required)
        if path is None:
            continue
        display = path.name
        is_csv = path.suffix == ".csv"
        got.files[name] = display
        got.formats[name] = "csv" if is_csv else "parquet"
        rel = f"burnout_raw_{token}_{name}"
        try:
            if is_csv:
                loaded = _load_csv(engine.con, path, display, name, rel, max_line_bytes=max_line_bytes)
            else:
                loaded = _load_parquet(engine.con, path, display, name, rel)
        except OSError as e:
            loaded = _Loaded(problems=[_problem(display, None, _unreadable(e))])
        got.problems.extend(loaded.problems)
        got.warnings.extend(loaded.warnings)
        got.sha256[display] = loaded.sha256
        got.columns[name] = loaded.header
        if is_csv:
            got.quoted[name] = loaded.quoted
        if loaded.table is not None:
            _hand_over(engine, con, name, rel, loaded, got)
    return got


def _table_file(folder: Path, name: str, listing: dict[str, str], got: _Folder, *, required: bool) -> Path | None:
    """The one regular file holding table ``name``; None (with any problem) when there is none."""
    csv_path, pq_path = folder / f"{name}.csv", folder / f"{name}.parquet"
    # present = any directory entry, so a link or a pipe under the name is named as such
    has_csv, has_pq = os.path.lexists(csv_path), os.path.lexists(pq_path)
    if has_csv and has_pq:
        got.problems.append(
            _problem(
                f"{name}.csv",
                None,
                f"one file per table: both {name}.csv and {name}.parquet are present; remove one",
            )
        )
        for p in (csv_path, pq_path):
            if _not_a_file(p) is None:
                got.sha256[p.name] = _hash_or_problem(p, got.problems)
        return None
    if not (has_csv or has_pq):
        if required:
            hint = ""
            for ext in ("csv", "parquet"):
                found = listing.get(f"{name}.{ext}")
                if found:
                    hint = f" (found {found!r}: name it {name}.{ext} exactly, lower case, no spaces around it)"
            got.problems.append(
                _problem(f"{name}.csv", None, f"a required file: put {name}.csv or {name}.parquet in {folder}{hint}")
            )
        return None
    path = csv_path if has_csv else pq_path
    why = _not_a_file(path)
    if why is not None:  # never opened: a pipe would block, a folder cannot be read
        got.problems.append(_problem(path.name, None, why))
        return None
    return path


def _hand_over(
    engine: ibis.BaseBackend, con: ibis.BaseBackend, name: str, rel: str, loaded: _Loaded, got: _Folder
) -> None:
    """The table DuckDB read, typed for validation, as a table of ``con``."""
    read = engine.table(loaded.table)
    if all(_typed_for_validation(typ) for typ in read.schema().types):
        kept = read  # the table itself (CSV text, typical Parquet): no projection on top
    else:
        kept = read.select("_line", *(keep_type(read[c]).name(c) for c in read.columns if c != "_line"))
    if engine is con:
        got.owned.extend(loaded.owned)
        got.tables[name] = kept
    else:
        # another backend (Spark, PostgreSQL): DuckDB stays the file parser and the
        # parsed table is handed over through Arrow
        got.tables[name] = _copy_to(con, rel, kept.to_pyarrow())
        got.owned.append(("VIEW", rel))


def _not_a_folder(folder: Path, required: Collection[str]) -> str:
    """What is wrong with a cohort path that is not a folder (said as what is allowed)."""
    order = [t for t in ("patients", "mbi_gs", "sessions") if t in required] + sorted(
        set(required) - {"patients", "mbi_gs", "sessions"}
    )
    names = ", ".join(order[:-1]) + f" and {order[-1]}" if len(order) > 1 else "".join(order)
    want = f"a cohort folder holding {names} (.csv or .parquet)"
    if folder.is_symlink() and not folder.exists():
        return f"{want}; this path is a symbolic link to {os.readlink(folder)}, which does not exist: fix or remove the link"
    if not folder.exists():
        return f"{want}; this folder does not exist: check the path, or create the folder and put the files in it"
    if folder.is_file() and _starts_like_duckdb(folder):
        return (
            f"{want}; this path is a DuckDB database file: a store made by `burnout import` is read as "
            f"duckdb://{folder.resolve()}"
        )
    if folder.suffix.lower() in (".csv", ".parquet") and folder.stem.strip().lower() in cohort_tables():
        return f"{want}; this path is one of the cohort files: give the folder that holds it, {folder.parent}"
    return f"{want}; this path is a file, not a folder: give the folder that holds the cohort files"


def _starts_like_duckdb(path: Path) -> bool:
    """DuckDB's database files carry ``DUCK`` at bytes 8-11 (after a checksum)."""
    try:
        with path.open("rb") as fh:
            return fh.read(12)[8:] == b"DUCK"
    except OSError:
        return False


def _not_a_file(path: Path) -> str | None:
    """Why ``path`` cannot be read as a table file (said as what is allowed), or None for a regular file.

    Only metadata is looked at: a named pipe is never opened (a read would wait for a writer).
    """
    target = os.readlink(path) if path.is_symlink() else None
    link = "" if target is None else f"a symbolic link to {target}, which is "
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        if target is not None:
            return f"a readable file; this is a symbolic link to {target}, which does not exist: fix or remove the link"
        return "a readable file; it was removed while being read: run again"
    except OSError as e:
        return _unreadable(e)
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return f"a regular file; this is {link}a folder: put the table's file here under this name"
    kind = "a named pipe (FIFO)" if stat.S_ISFIFO(mode) else "a device or socket"
    return f"a regular file; this is {link}{kind}, which burnout does not read: save the table to a regular file"


def _unreadable(e: OSError) -> str:
    if isinstance(e, PermissionError):
        return "a file burnout can read; permission to read it was denied: give this user read permission (chmod +r)"
    return f"a file burnout can read; reading it failed ({e.strerror or e}): check the file"


def _hash_or_problem(path: Path, problems: list[Problem]) -> str:
    try:
        return _csvcheck.scan_file(path, hash_only=True).sha256
    except OSError as e:
        problems.append(_problem(path.name, None, _unreadable(e)))
        return ""


def _copy_to(con: ibis.BaseBackend, name: str, data: pa.Table) -> ir.Table:
    """A temporary view ``name`` in ``con`` holding ``data``."""
    if con.name == "pyspark":
        # Spark takes Arrow directly; Ibis's memtable path goes through pandas and
        # turns null strings into the text "NaN"
        con._session.createDataFrame(data).createOrReplaceTempView(name)
        return con.table(name)
    return con.create_view(name, ibis.memtable(data))
