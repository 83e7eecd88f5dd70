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
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import duckdb
import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir
import pyarrow as pa

from burnout.engines import connect_source, is_database_url
from burnout.errors import Problem, redact_url
from burnout.ingest import csvcheck as _csvcheck
from burnout.ingest.csvload import _check_header, _load_csv, _load_parquet, _Loaded, _problem, _run
from burnout.schema import COLUMNS, REQUIRED_TABLES, TABLES

__all__ = ["DEFAULT_MAX_LINE_BYTES", "RawCohort", "keep_type", "read_checked_files", "read_cohort"]
DEFAULT_MAX_LINE_BYTES = 2_000_000  # DuckDB's own default; the CSV reader gets the same limit


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
    if is_database_url(source):
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
                _problem(
                    f"{name}.csv",
                    None,
                    f"one file per table: both {name}.csv and {name}.parquet are present; remove one",
                )
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
                    _problem(
                        f"{name}.csv", None, f"a required file: put {name}.csv or {name}.parquet in {folder}{hint}"
                    )
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
