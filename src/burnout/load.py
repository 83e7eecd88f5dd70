"""Load stage: read a cohort folder into the engine as raw text tables with line numbers.

A cohort is a folder holding ``patients``, ``mbi_gs`` and ``sessions`` (required)
and ``phq9`` (optional), each as ``NAME.csv`` or ``NAME.parquet``
(shared/spec/data-format.md). :func:`read_cohort` puts each table into the engine
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

Nothing here judges cell values; that is :mod:`burnout.validate`. What the loader
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
import re
import stat
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import duckdb
import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from burnout import _csvcheck
from burnout._schema import COLUMNS, REQUIRED_TABLES, TABLES
from burnout.errors import Problem, first_line, redact_url

__all__ = ["DEFAULT_MAX_LINE_BYTES", "RawCohort", "keep_type", "read_checked_files", "read_cohort"]

MAX_PER_RULE = 100  # problems reported per file and rule before a summary line
DEFAULT_MAX_LINE_BYTES = 2_000_000  # DuckDB's own default; the CSV reader gets the same limit
_RAISE_LIMIT = "raise the limit with --max-line-size (validate, analyze, import) or max_line_bytes= (Python)"
_UTF8_ALLOWED = (
    "UTF-8 text; this byte is not UTF-8 (the file may be Latin-1/Windows-1252): "
    "re-save it as UTF-8, e.g. Excel 'CSV UTF-8'"
)


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

    def __repr__(self) -> str:
        parts = ", ".join(f"{self.files[n]}" for n in TABLES if n in self.tables)
        return f"<RawCohort: {parts or 'no tables'}; {len(self.problems)} problems; from {self.source}>"

    def close(self) -> None:
        """Drop the engine objects the loader created; ``tables`` is unusable afterwards.

        Tables of a database source belong to the database and are never dropped. A
        :class:`~burnout.validate.Cohort` made from this RawCohort keeps working: its
        typed tables are separate. :func:`burnout.validate.load_cohort` calls this.
        """
        for kind, name in reversed(self.owned):
            if _is_duckdb(self.con):
                _run(self.con.con, f'DROP {kind} IF EXISTS "{name}"')
            elif kind == "VIEW":
                self.con.drop_view(name, force=True)
            else:
                self.con.drop_table(name, force=True)


@dataclass
class _Loaded:
    table: str | None = None  # engine table/view name
    problems: list[Problem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    sha256: str = ""
    header: tuple[str, ...] = ()
    quoted: bool = False  # CSV: a quote character after the header line
    owned: list[tuple[str, str]] = field(default_factory=list)  # (kind, name), in creation order


def read_cohort(
    source: str | os.PathLike[str],
    *,
    con: ibis.BaseBackend | None = None,
    max_line_bytes: int | None = None,
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

    Returns
    -------
    RawCohort
        The tables (documented columns, plus ``_line``) and every problem
        found with the files. Never raises for bad data: :func:`burnout.validate.validate_cohort`
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
    if _is_url(source):
        from burnout._engines import connect_source  # the connection every command uses

        return _read_database(str(source), con=connect_source(source) if con is None else con)
    folder = Path(source)
    con = ibis.duckdb.connect() if con is None else con
    listing: dict[str, str] = {}
    why = None if folder.is_dir() else _not_a_folder(folder)
    try:
        listing = {p.name.lower(): p.name for p in folder.iterdir()} if why is None else {}
    except OSError as e:
        why = f"a cohort folder burnout can list; listing it failed ({e.strerror or e}): check its permissions (read and execute)"
    if why is not None:
        return RawCohort(con=con, tables={}, files={}, problems=(_problem(str(source), None, why),), source=str(source))

    engine = con if _is_duckdb(con) else ibis.duckdb.connect()
    db: duckdb.DuckDBPyConnection = engine.con
    token = uuid.uuid4().hex[:10]
    tables: dict[str, ir.Table] = {}
    files: dict[str, str] = {}
    formats: dict[str, Literal["csv", "parquet", "table"]] = {}
    columns: dict[str, tuple[str, ...]] = {}
    problems: list[Problem] = []
    warnings: list[str] = []
    digests: list[str] = []
    owned: list[tuple[str, str]] = []
    quoted: dict[str, bool] = {}
    for name in TABLES:
        csv_path, pq_path = folder / f"{name}.csv", folder / f"{name}.parquet"
        # present = any directory entry, so a link or a pipe under the name is named as such
        has_csv, has_pq = os.path.lexists(csv_path), os.path.lexists(pq_path)
        if has_csv and has_pq:
            problems.append(
                _problem(f"{name}.csv", None, f"one file per table: both {name}.csv and {name}.parquet are present; remove one")
            )
            for p in (csv_path, pq_path):
                if _not_a_file(p) is None:
                    digests.append(f"{p.name} {_hash_or_problem(p, problems)}\n")
            continue
        if not (has_csv or has_pq):
            if name in REQUIRED_TABLES:
                hint = ""
                for ext in ("csv", "parquet"):
                    found = listing.get(f"{name}.{ext}")
                    if found:
                        hint = f" (found {found!r}: file names are lower case)"
                problems.append(
                    _problem(f"{name}.csv", None, f"a required file: put {name}.csv or {name}.parquet in {folder}{hint}")
                )
            continue
        path = csv_path if has_csv else pq_path
        display = path.name
        why = _not_a_file(path)
        if why is not None:  # never opened: a pipe would block, a folder cannot be read
            problems.append(_problem(display, None, why))
            continue
        files[name] = display
        formats[name] = "csv" if has_csv else "parquet"
        rel = f"burnout_raw_{token}_{name}"
        try:
            if has_csv:
                loaded = _load_csv(db, path, display, name, rel, max_line_bytes=max_line_bytes)
            else:
                loaded = _load_parquet(db, path, display, name, rel)
        except OSError as e:
            loaded = _Loaded(problems=[_problem(display, None, _unreadable(e))])
        problems.extend(loaded.problems)
        warnings.extend(loaded.warnings)
        digests.append(f"{display} {loaded.sha256}\n")
        columns[name] = loaded.header
        if has_csv:
            quoted[name] = loaded.quoted
        if loaded.table is None:
            continue
        read = engine.table(loaded.table)
        if all(_typed_for_validation(typ) for typ in read.schema().types):
            kept = read  # the table itself (CSV text, typical Parquet): no projection on top
        else:
            kept = read.select("_line", *(keep_type(read[c]).name(c) for c in read.columns if c != "_line"))
        if engine is con:
            owned.extend(loaded.owned)
            tables[name] = kept
        else:
            # another backend (Spark, PostgreSQL): DuckDB stays the file parser and the
            # parsed table is handed over through Arrow
            tables[name] = _copy_to(con, rel, kept.to_pyarrow())
            owned.append(("VIEW", rel))
    fingerprint = hashlib.sha256("".join(digests).encode()).hexdigest()
    return RawCohort(
        con=con,
        tables=tables,
        files=files,
        problems=tuple(problems),
        warnings=tuple(warnings),
        source=str(source),
        fingerprint=fingerprint,
        formats=formats,
        columns=columns,
        owned=tuple(owned),
        quoted=quoted,
    )


def _not_a_folder(folder: Path) -> str:
    """What is wrong with a cohort path that is not a folder (said as what is allowed)."""
    want = "a cohort folder holding patients, mbi_gs and sessions (.csv or .parquet)"
    if folder.is_symlink() and not folder.exists():
        return f"{want}; this path is a symbolic link to {os.readlink(folder)}, which does not exist: fix or remove the link"
    if not folder.exists():
        return f"{want}; this folder does not exist: check the path, or create the folder and put the files in it"
    return f"{want}; this path is a file, not a folder: give the folder that holds the cohort files"


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


def read_checked_files(checked: RawCohort, *, con: ibis.BaseBackend) -> RawCohort:
    """The cohort files that DuckDB read as ``checked`` and validated, read again by the engine ``con``.

    For engines that read files (Spark): the same tables as :func:`read_cohort`
    (documented columns typed as :func:`keep_type` says), parsed by the engine from the
    same files, so no row passes through Python; the headers and whether a CSV holds
    quotes come from ``checked`` (the files are not scanned again). ``_line`` is null:
    line numbers come from the DuckDB validation that must precede this. Other
    engines get :func:`read_cohort`'s copy. On a Spark cluster the folder must be
    readable at the same path by every executor (a shared file system); ``local[*]``
    needs nothing more.
    """
    if getattr(con, "name", None) != "pyspark":
        return read_cohort(checked.source, con=con)
    folder = Path(checked.source)
    session = con._session
    token = uuid.uuid4().hex[:10]
    tables: dict[str, ir.Table] = {}
    owned: list[tuple[str, str]] = []
    for name, display in checked.files.items():
        path = folder / display
        view = f"burnout_raw_{token}_{name}"
        if display.endswith(".csv"):
            header = list(checked.columns[name])
            keep = _check_header(header, display, name, _Loaded(), line=1)  # reported already
            schema = ", ".join(f"`c{i}` STRING" for i in range(len(header)))
            df = session.read.csv(
                str(path.resolve()),
                schema=schema,
                header=True,
                enforceSchema=True,
                sep=",",
                quote='"',
                escape='"',
                encoding="UTF-8",
                # a quoted cell may hold a line break only when the file has quotes;
                # otherwise the file is read in parallel pieces
                multiLine=checked.quoted.get(name, True),
                mode="FAILFAST",
            )
            df.select(*(df[f"c{i}"].alias(col) for i, col in keep.items())).createOrReplaceTempView(view)
            t = con.table(view)
            cols = {col: t[col] for col in keep.values()}
        else:
            session.read.parquet(str(path.resolve())).createOrReplaceTempView(view)
            t = con.table(view)
            keep = _check_header(list(t.columns), display, name, _Loaded(), line=None)  # reported already
            cols = {col: keep_type(t[col]) for col in keep.values()}
        owned.append(("VIEW", view))
        tables[name] = t.select(_line=ibis.null("int64"), **cols)
    return RawCohort(
        con=con,
        tables=tables,
        files=dict(checked.files),
        source=checked.source,
        formats=dict(checked.formats),
        owned=tuple(owned),
    )


def _is_url(source: str | os.PathLike[str]) -> bool:
    return isinstance(source, str) and re.match(r"^[a-z][a-z0-9+.-]*://", source) is not None


def _read_database(url: str, *, con: ibis.BaseBackend) -> RawCohort:
    """Tables ``patients``, ``mbi_gs``, ``sessions`` (and ``phq9``) of a database.

    Each documented column is cast to text, as for files. A database table has no
    lines, so ``_line`` is the 1-based row number when the rows are sorted by all
    documented columns (patient_id first): deterministic, and with the patient id in
    every message enough to find the row. The fingerprint covers each table's name,
    schema and row count, not its contents.
    """
    existing = set(con.list_tables())
    tables: dict[str, ir.Table] = {}
    files: dict[str, str] = {}
    formats: dict[str, Literal["csv", "parquet", "table"]] = {}
    columns: dict[str, tuple[str, ...]] = {}
    problems: list[Problem] = []
    warnings: list[str] = []
    digests: list[str] = []
    for name in TABLES:
        if name not in existing:
            if name in REQUIRED_TABLES:
                problems.append(_problem(name, None, f"a required table {name!r} in the database {redact_url(url)}"))
            continue
        t = con.table(name)
        out = _Loaded()
        out.header = tuple(t.columns)
        keep = _check_header(list(t.columns), name, name, out, line=None)
        problems.extend(out.problems)
        warnings.extend(out.warnings)
        cols = {col: keep_type(t[col]) for col in keep.values()}
        order = [t[c] for c in COLUMNS[name] if c in cols]
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


def _run(db: duckdb.DuckDBPyConnection, sql: str) -> list[tuple]:
    """Run one statement to completion (DuckDB refuses new work while a result is unfetched)."""
    return db.execute(sql).fetchall()


def _sql_str(s: str | os.PathLike[str]) -> str:
    return "'" + str(s).replace("'", "''") + "'"


def _problem(display: str, line: int | None, allowed: str, *, column: str | None = None, value: str | None = None) -> Problem:
    return Problem(file=display, line=line, patient_id=None, column=column, value=value, allowed=allowed)


def _check_header(names: list[str], display: str, name: str, out: _Loaded, *, line: int | None) -> dict[int, str]:
    """Map position -> documented column for the usable columns; report the rest."""
    known = COLUMNS[name]
    keep: dict[int, str] = {}
    seen: set[str] = set()
    unknown: list[str] = []
    for i, raw in enumerate(names):
        if raw in known:
            if raw in seen:
                out.problems.append(
                    _problem(display, line, f"each column name once in the header: remove or rename the second {raw!r}", column=raw, value=raw)
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


def _load_csv(
    db: duckdb.DuckDBPyConnection, path: Path, display: str, name: str, rel: str, *, max_line_bytes: int
) -> _Loaded:
    out = _Loaded()
    scan = _csvcheck.scan_file(path, max_line_bytes=max_line_bytes)
    out.sha256 = scan.sha256
    out.quoted = scan.has_quote
    empty = f"file is empty: needs a header row naming the columns ({', '.join(COLUMNS[name][:3])}, ...)"
    if scan.size == 0:
        out.problems.append(_problem(display, None, empty))
        return out
    if scan.bad_utf8_line_count:
        for line in scan.bad_utf8_lines:
            out.problems.append(_problem(display, line, _UTF8_ALLOWED, value=f"byte {scan.bad_utf8_example[line]}"))
        more = scan.bad_utf8_line_count - len(scan.bad_utf8_lines)
        if more > 0:
            out.problems.append(_problem(display, None, f"... and {more:,} more lines with bytes that are not UTF-8"))
    if scan.long_line_count:
        # the CSV reader may drop such a line without a word: the file is not read
        for line, size in scan.long_lines.items():
            out.problems.append(
                _problem(
                    display,
                    line,
                    f"a line of at most {max_line_bytes:,} bytes; this line has {size:,} bytes, so the file "
                    f"was not read: fix the line, or if it is meant to be this long {_RAISE_LIMIT}",
                )
            )
        more = scan.long_line_count - len(scan.long_lines)
        if more > 0:
            out.problems.append(_problem(display, None, f"... and {more:,} more lines longer than {max_line_bytes:,} bytes"))
    if scan.bad_utf8_line_count or scan.long_line_count:
        return out
    header = _csvcheck.read_header(path)
    if header is None:
        with open(path, "rb") as f:
            only_space = not f.read(1 << 16).lstrip(b"\xef\xbb\xbf").strip()
        out.problems.append(
            _problem(display, None if only_space else 1, empty if only_space else "line 1 must be the header row naming the columns; it is blank")
        )
        return out
    out.header = tuple(header)
    separator = _other_separator(header, name)
    if separator is not None:
        out.problems.append(
            _problem(
                display,
                1,
                f"a comma-separated file; this file is separated by {separator} (as Excel writes it in some "
                "languages): save it as comma-separated, e.g. Excel 'CSV UTF-8 (Comma delimited)'",
                value=_shown(",".join(header)),
            )
        )
        return out
    keep = _check_header(header, display, name, out, line=1)

    rmap: _csvcheck.RecordMap | None = None
    if scan.irregular:
        rmap = _csvcheck.record_lines(path)
        if _line_end_problems(rmap, display, out):
            return out

    ncols = len(header)
    colspec = "{" + ", ".join(f"'c{i}': 'VARCHAR'" for i in range(ncols)) + "}"
    select = ", ".join(f'c{i} AS "{col}"' for i, col in keep.items()) or "NULL AS _none"
    tmp, rej, rej_scan = f"{rel}_parse", f"{rel}_rejects", f"{rel}_rejscan"
    try:
        _run(db, 
            f"CREATE OR REPLACE TEMP TABLE {tmp} AS SELECT {select} FROM read_csv({_sql_str(path)}, "
            f"header = true, auto_detect = false, columns = {colspec}, delim = ',', quote = '\"', "
            f"escape = '\"', max_line_size = {max_line_bytes + 2}, "  # + 2: the limit leaves out the line end
            f"store_rejects = true, rejects_table = '{rej}', rejects_scan = '{rej_scan}')"
        )
        rejects = _run(
            db, "SELECT line, CASE WHEN bool_or(error_type = 'UNQUOTED VALUE') THEN 'UNQUOTED VALUE' ELSE min(error_type) END, "
            f"min(csv_line), min(error_message) FROM {rej} GROUP BY line ORDER BY line"
        )
    except duckdb.Error as e:
        msg = first_line(e)
        out.problems.append(_problem(display, None, f"a comma-separated file with a header row; the reader failed: {msg}"))
        _run(db, f"DROP TABLE IF EXISTS {tmp}")
        return out
    finally:
        _run(db, f"DROP TABLE IF EXISTS {rej}")
        _run(db, f"DROP TABLE IF EXISTS {rej_scan}")

    if rejects and rmap is None:
        rmap = _csvcheck.record_lines(path)
    # data records in the file: each is a row or a reported problem
    n_records = len(rmap.start_line) - 1 if rmap is not None else scan.lf + (0 if scan.ends_with_lf else 1) - 1
    if rmap is not None and not rejects and rmap.one_line_records:
        rmap = None  # e.g. quoted cells without line breaks: row order gives the lines
    n_rejected = n_shown = 0
    rejected_records: list[int] = []
    unclosed = False
    for line, etype, csv_line, message in rejects:
        rec = int(line) - 1  # the reader counts records (blank lines included), header = 1
        rejected_records.append(rec)
        n_rejected += 1
        if n_rejected > MAX_PER_RULE and etype != "UNQUOTED VALUE":  # the cause of the rest: always shown
            continue
        true_line = int(rmap.start_line[rec]) if rmap is not None and rec < len(rmap.start_line) else int(line)
        shown = _shown((csv_line or "").split("\n")[0].rstrip("\r"))
        if etype == "LINE SIZE OVER MAXIMUM":
            size = re.search(r"Actual Size:\s*(\d+)", message or "")
            has = f"this record has {int(size.group(1)):,} bytes" if size else "this record is longer"
            allowed = (
                f"a record of at most {max_line_bytes:,} bytes; {has} (a quoted cell with line breaks?), so it "
                f"was not read: check for an unclosed quote, or if it is meant to be this long {_RAISE_LIMIT}"
            )
        elif etype in ("MISSING COLUMNS", "TOO MANY COLUMNS"):
            found = re.search(r"Found:\s*(\d+)", message or "")
            allowed = f"a row of {ncols} comma-separated fields like the header" + (f" (found {found.group(1)})" if found else "")
        elif etype == "UNQUOTED VALUE":
            unclosed = True
            allowed = "a quoted field closed by a matching quote (\"): the quote opened here is never closed, so the rest of the file could not be read"
        else:
            allowed = f"a well-formed CSV row ({message})"
        n_shown += 1
        out.problems.append(_problem(display, true_line, allowed, value=shown))
    if n_rejected > n_shown:
        out.problems.append(_problem(display, None, f"... and {n_rejected - n_shown:,} more rows like this that could not be read"))

    if unclosed:
        # the rows after the quote were not read: checking the rest against them would
        # bury this cause under errors it caused (ids "not in patients.csv", ...)
        _run(db, f"DROP TABLE IF EXISTS {tmp}")
        return out
    n_rows = _run(db, f"SELECT count(*) FROM {tmp}")[0][0]
    if rmap is None:
        if n_rows != n_records:  # no rejects and no blank lines here: every record is a row
            out.problems.append(_unread_records(display, n_rows, n_records, max_line_bytes))
            _run(db, f"DROP TABLE IF EXISTS {tmp}")
            return out
        _run(db, f"CREATE OR REPLACE TEMP VIEW {rel} AS SELECT CAST(rowid AS BIGINT) + 2 AS _line, * FROM {tmp}")
        out.owned += [("TABLE", tmp), ("VIEW", rel)]
        out.table = rel
        return out

    # Records 1.. are data (0 is the header). The reader skips blank lines when the
    # file has more than one column, and rejected records.
    keep_mask = np.ones(len(rmap.start_line), dtype=bool)
    keep_mask[0] = False
    if ncols > 1:
        keep_mask &= ~rmap.blank
    if rejected_records:
        idx = np.asarray(rejected_records, dtype=np.int64)
        keep_mask[idx[idx < len(keep_mask)]] = False
    lines = rmap.start_line[keep_mask]
    drop = rmap.blank[keep_mask] if ncols == 1 else np.zeros(len(lines), dtype=bool)
    if len(lines) != n_rows:
        # the reader returned fewer (or more) rows than the file has records, without saying which
        out.problems.append(_unread_records(display, n_rows, len(lines), max_line_bytes))
        _run(db, f"DROP TABLE IF EXISTS {tmp}")
        return out
    mapping = pa.table({"rid": np.arange(n_rows, dtype=np.int64), "_line": lines.astype(np.int64), "_drop": drop})
    map_name = f"{rel}_map"
    db.register(map_name, mapping)
    try:
        _run(db, 
            f"CREATE OR REPLACE TEMP TABLE {rel} AS SELECT m._line, t.* EXCLUDE (rid) FROM "
            f"(SELECT CAST(rowid AS BIGINT) AS rid, * FROM {tmp}) t JOIN {map_name} m USING (rid) WHERE NOT m._drop"
        )
    finally:
        db.unregister(map_name)
        _run(db, f"DROP TABLE IF EXISTS {tmp}")
    out.owned.append(("TABLE", rel))
    out.table = rel
    return out


# What each kind of column may hold in Parquet: types whose cells validation reads
# directly or as the text a CSV export would hold. Other types (lists, structs, binary,
# times) would be printed as something no one wrote, e.g. "[burnout]".
_TEXT_COLUMNS = frozenset({"patient_id", "sex", "route", "pathway"})
_DATE_COLUMNS = frozenset({"held_on", "completed_on"})
_FLAG_COLUMNS = frozenset({"monitor_present", "side_effects", "serious_adverse_event"})


def _refused_parquet_type(col: str, typ: pa.DataType) -> str | None:
    """What is allowed, when a Parquet column's type cannot hold this column's values; else None."""
    if pa.types.is_dictionary(typ):
        typ = typ.value_type
    text = pa.types.is_string(typ) or pa.types.is_large_string(typ) or pa.types.is_string_view(typ)
    if text or pa.types.is_null(typ):
        return None
    if col in _TEXT_COLUMNS:
        # any one value a CSV cell could hold is read as that text (a number too)
        if any(
            is_(typ)
            for is_ in (pa.types.is_integer, pa.types.is_floating, pa.types.is_decimal, pa.types.is_boolean)
        ):
            return None
        need = "a text (string) column"
    elif col in _DATE_COLUMNS:
        if pa.types.is_date(typ) or pa.types.is_timestamp(typ):
            return None
        need = "a date column (or text YYYY-MM-DD)"
    elif col in _FLAG_COLUMNS:
        if pa.types.is_boolean(typ) or pa.types.is_integer(typ):
            return None
        # a float flag is refused, not read as 0.0/1.0: "1.0" is not a spelling the contract allows
        need = "a boolean column (or integers 1/0, or text true/false)"
    else:  # numbers: integers, items, sessions, scores, doses
        if pa.types.is_integer(typ) or pa.types.is_floating(typ) or pa.types.is_decimal(typ):
            return None
        need = "a numeric column (integer, float or decimal; or text)"
    return f"{need}; this column is {_arrow_name(typ)}: re-export it with that type"


def _arrow_name(typ: pa.DataType) -> str:
    """An Arrow type as people write it: ``list<string>``, not ``list<item: string>``."""
    if pa.types.is_list(typ) or pa.types.is_large_list(typ) or pa.types.is_fixed_size_list(typ):
        return f"list<{_arrow_name(typ.value_type)}>"
    if pa.types.is_dictionary(typ):
        return _arrow_name(typ.value_type)
    return str(typ)


def _unread_records(display: str, n_rows: int, expected: int, max_line_bytes: int) -> Problem:
    return _problem(
        display,
        None,
        f"every record read or reported; the CSV reader returned {n_rows:,} rows of the {expected:,} records after "
        f"the header without naming the rest, so the file was not used: check for an unclosed quote or a very "
        f"long record, or {_RAISE_LIMIT}",
    )


def _shown(text: str) -> str:
    """A cell or line as shown in a message: at most 80 characters."""
    return text if len(text) <= 80 else text[:77] + "..."


def _other_separator(header: list[str], name: str) -> str | None:
    """"semicolons" or "tabs" when the header is one field that splits into documented column names."""
    if len(header) != 1:
        return None
    for sep, what in ((";", "semicolons"), ("\t", "tabs")):
        parts = [p.strip().strip('"').lower() for p in header[0].split(sep)]
        if len(parts) > 1 and any(p in COLUMNS[name] for p in parts):
            return what
    return None


def _line_end_problems(rmap: _csvcheck.RecordMap, display: str, out: _Loaded) -> bool:
    """Report bare CRs and mixed LF/CRLF record ends; True if the file cannot be read reliably."""
    bad = False
    for line in rmap.lone_cr_lines[:MAX_PER_RULE]:
        out.problems.append(
            _problem(display, line, "line ends written LF or CRLF; this line has a bare carriage return (CR): re-save the file with LF or CRLF line ends")
        )
        bad = True
    n_ended = len(rmap.start_line) - (1 if rmap.last_open else 0)
    ends = rmap.crlf[:n_ended]
    non_blank = ~rmap.blank[:n_ended]
    if len(ends) and non_blank.any():
        styles = ends[non_blank]
        first_style = bool(styles[0])
        differs = np.flatnonzero(styles != first_style)
        if len(differs):
            rec = np.flatnonzero(non_blank)[differs[0]]
            line = int(rmap.start_line[rec])
            want, got = ("CRLF", "LF") if first_style else ("LF", "CRLF")
            out.problems.append(
                _problem(display, line, f"one kind of line end throughout: line 1 ends with {want} but this line with {got}; re-save the file")
            )
            bad = True
    return bad


def _load_parquet(db: duckdb.DuckDBPyConnection, path: Path, display: str, name: str, rel: str) -> _Loaded:
    out = _Loaded()
    scan = _csvcheck.scan_file(path, hash_only=True)
    out.sha256 = scan.sha256
    if scan.size == 0:
        out.problems.append(_problem(display, None, "file is empty: needs a Parquet file with the documented columns"))
        return out
    src = f"read_parquet({_sql_str(path)}, file_row_number = true)"
    try:
        schema = _run(db, f"DESCRIBE SELECT * FROM read_parquet({_sql_str(path)})")
        _run(db, f"SELECT count(*) FROM {src}")
    except duckdb.Error as e:
        msg = first_line(e)
        out.problems.append(_problem(display, None, f"a readable Parquet file; reading failed ({msg}): re-export it"))
        return out
    names = [row[0] for row in schema]
    out.header = tuple(names)
    keep = _check_header(names, display, name, out, line=None)
    arrow = pq.read_schema(path)
    for i, col in list(keep.items()):
        refused = _refused_parquet_type(col, arrow.field(i).type)
        if refused is not None:
            out.problems.append(_problem(display, None, refused, column=col))
            del keep[i]  # left out, so that its cells are not judged as another type
    # columns as stored; read_cohort applies keep_type
    select = ", ".join(["CAST(file_row_number AS BIGINT) + 1 AS _line", *(f'"{col}"' for col in keep.values())])
    _run(db, f"CREATE OR REPLACE TEMP VIEW {rel} AS SELECT {select} FROM {src}")
    out.owned.append(("VIEW", rel))
    out.table = rel
    return out
