"""Load stage: read a cohort folder into the engine as raw text tables with line numbers. (csvload)."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from burnout.errors import Problem, first_line
from burnout.ingest import csvcheck as _csvcheck
from burnout.schema import COLUMNS

MAX_PER_RULE = 100  # problems reported per file and rule before a summary line
_RAISE_LIMIT = "raise the limit with --max-line-size (validate, analyze, import) or max_line_bytes= (Python)"
_UTF8_ALLOWED = (
    "UTF-8 text; this byte is not UTF-8 (the file may be Latin-1/Windows-1252): "
    "re-save it as UTF-8, e.g. Excel 'CSV UTF-8'"
)


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
    return "'" + str(s).replace("'", "''") + "'"


def _problem(
    display: str, line: int | None, allowed: str, *, column: str | None = None, value: str | None = None
) -> Problem:
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
            out.problems.append(
                _problem(display, None, f"... and {more:,} more lines longer than {max_line_bytes:,} bytes")
            )
    if scan.bad_utf8_line_count or scan.long_line_count:
        return out
    header = _csvcheck.read_header(path)
    if header is None:
        with open(path, "rb") as f:
            only_space = not f.read(1 << 16).lstrip(b"\xef\xbb\xbf").strip()
        out.problems.append(
            _problem(
                display,
                None if only_space else 1,
                empty if only_space else "line 1 must be the header row naming the columns; it is blank",
            )
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
        _run(
            db,
            f"CREATE OR REPLACE TEMP TABLE {tmp} AS SELECT {select} FROM read_csv({_sql_str(path)}, "
            f"header = true, auto_detect = false, columns = {colspec}, delim = ',', quote = '\"', "
            f"escape = '\"', max_line_size = {max_line_bytes + 2}, "  # + 2: the limit leaves out the line end
            f"store_rejects = true, rejects_table = '{rej}', rejects_scan = '{rej_scan}')",
        )
        rejects = _run(
            db,
            "SELECT line, CASE WHEN bool_or(error_type = 'UNQUOTED VALUE') THEN 'UNQUOTED VALUE' ELSE min(error_type) END, "
            f"min(csv_line), min(error_message) FROM {rej} GROUP BY line ORDER BY line",
        )
    except duckdb.Error as e:
        msg = first_line(e)
        out.problems.append(
            _problem(display, None, f"a comma-separated file with a header row; the reader failed: {msg}")
        )
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
            allowed = f"a row of {ncols} comma-separated fields like the header" + (
                f" (found {found.group(1)})" if found else ""
            )
        elif etype == "UNQUOTED VALUE":
            unclosed = True
            allowed = 'a quoted field closed by a matching quote ("): the quote opened here is never closed, so the rest of the file could not be read'
        else:
            allowed = f"a well-formed CSV row ({message})"
        n_shown += 1
        out.problems.append(_problem(display, true_line, allowed, value=shown))
    if n_rejected > n_shown:
        out.problems.append(
            _problem(display, None, f"... and {n_rejected - n_shown:,} more rows like this that could not be read")
        )

    if unclosed:
        # the rows after the quote were not read: checking the rest against them would
        # bury this cause under errors it caused (ids "not in patients.csv", ...)
        _run(db, f"DROP TABLE IF EXISTS {tmp}")
        return out
    n_rows = _run(db, f"SELECT count(*) FROM {tmp}")[0][0]
    if rmap is None:
        if n_rows != n_records:  # no rejects and no blank lines here: every record is a row
            out.problems.append(_unread_records(display, n_rows, n_records))
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
        out.problems.append(_unread_records(display, n_rows, len(lines)))
        _run(db, f"DROP TABLE IF EXISTS {tmp}")
        return out
    mapping = pa.table({"rid": np.arange(n_rows, dtype=np.int64), "_line": lines.astype(np.int64), "_drop": drop})
    map_name = f"{rel}_map"
    db.register(map_name, mapping)
    try:
        _run(
            db,
            f"CREATE OR REPLACE TEMP TABLE {rel} AS SELECT m._line, t.* EXCLUDE (rid) FROM "
            f"(SELECT CAST(rowid AS BIGINT) AS rid, * FROM {tmp}) t JOIN {map_name} m USING (rid) WHERE NOT m._drop",
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
            is_(typ) for is_ in (pa.types.is_integer, pa.types.is_floating, pa.types.is_decimal, pa.types.is_boolean)
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


def _unread_records(display: str, n_rows: int, expected: int) -> Problem:
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
    """ "semicolons" or "tabs" when the header is one field that splits into documented column names."""
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
            _problem(
                display,
                line,
                "line ends written LF or CRLF; this line has a bare carriage return (CR): re-save the file with LF or CRLF line ends",
            )
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
                _problem(
                    display,
                    line,
                    f"one kind of line end throughout: line 1 ends with {want} but this line with {got}; re-save the file",
                )
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
