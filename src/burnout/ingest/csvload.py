"""Load stage: read a CSV table file into the engine as raw text with line numbers. (csvload).

:func:`_load_csv` runs the stages in order, each stopping the file when it cannot be
read reliably: the byte scan (encoding, line length), the header, the line ends, the
reader itself (its rejected records become problems), and the line of every row.
"""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

from burnout.errors import Problem, first_line
from burnout.ingest import csvcheck as _csvcheck
from burnout.ingest.loaded import MAX_PER_RULE, _check_header, _Loaded, _problem, _run, _sql_str
from burnout.schema import table_columns

_RAISE_LIMIT = "raise the limit with --max-line-size (validate, analyze, import) or max_line_bytes= (Python)"
_UTF8_ALLOWED = (
    "UTF-8 text; this byte is not UTF-8 (the file may be Latin-1/Windows-1252): "
    "re-save it as UTF-8, e.g. Excel 'CSV UTF-8'"
)


def _load_csv(
    db: duckdb.DuckDBPyConnection, path: Path, display: str, name: str, rel: str, *, max_line_bytes: int
) -> _Loaded:
    out = _Loaded()
    scan = _csvcheck.scan_file(path, max_line_bytes=max_line_bytes)
    out.sha256 = scan.sha256
    out.quoted = scan.has_quote
    if _byte_problems(scan, display, name, out, max_line_bytes=max_line_bytes):
        return out
    header = _header(path, display, name, out)
    if header is None:
        return out
    keep = _check_header(header, display, name, out, line=1)

    rmap: _csvcheck.RecordMap | None = None
    if scan.irregular:
        rmap = _csvcheck.record_lines(path)
        if _line_end_problems(rmap, display, out):
            return out

    ncols = len(header)
    tmp = f"{rel}_parse"
    rejects = _read_records(db, path, keep, ncols, rel, display, out, max_line_bytes=max_line_bytes)
    if rejects is None:
        return out
    if rejects and rmap is None:
        rmap = _csvcheck.record_lines(path)
    # data records in the file: each is a row or a reported problem
    n_records = len(rmap.start_line) - 1 if rmap is not None else scan.lf + (0 if scan.ends_with_lf else 1) - 1
    if rmap is not None and not rejects and rmap.one_line_records:
        rmap = None  # e.g. quoted cells without line breaks: row order gives the lines
    rejected_records, unclosed = _reject_problems(rejects, rmap, ncols, display, out, max_line_bytes=max_line_bytes)
    if unclosed:
        # the rows after the quote were not read: checking the rest against them would
        # bury this cause under errors it caused (ids "not in patients.csv", ...)
        _run(db, f"DROP TABLE IF EXISTS {tmp}")
        return out
    if rmap is None:
        _lines_by_row_order(db, tmp, rel, n_records, display, out)
    else:
        _lines_by_record_map(db, tmp, rel, rmap, rejected_records, ncols, display, out)
    return out


def _byte_problems(scan: _csvcheck.ByteScan, display: str, name: str, out: _Loaded, *, max_line_bytes: int) -> bool:
    """Report an empty file, bytes that are not UTF-8 and over-long lines; True if the file is not read."""
    if scan.size == 0:
        out.problems.append(_problem(display, None, _empty(name)))
        return True
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
    return bool(scan.bad_utf8_line_count or scan.long_line_count)


def _empty(name: str) -> str:
    return f"file is empty: needs a header row naming the columns ({', '.join(table_columns(name)[:3])}, ...)"


def _header(path: Path, display: str, name: str, out: _Loaded) -> list[str] | None:
    """The header's column names; None (and a problem) when line 1 is blank or uses another separator."""
    header = _csvcheck.read_header(path)
    if header is None:
        with open(path, "rb") as f:
            only_space = not f.read(1 << 16).lstrip(b"\xef\xbb\xbf").strip()
        out.problems.append(
            _problem(
                display,
                None if only_space else 1,
                _empty(name) if only_space else "line 1 must be the header row naming the columns; it is blank",
            )
        )
        return None
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
        return None
    return header


def _read_records(
    db: duckdb.DuckDBPyConnection,
    path: Path,
    keep: dict[int, str],
    ncols: int,
    rel: str,
    display: str,
    out: _Loaded,
    *,
    max_line_bytes: int,
) -> list[tuple] | None:
    """Parse the file into the temporary table ``<rel>_parse``; the records the reader
    rejected, one per record: (record, error type, text, message). None if the reader failed."""
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
        return _run(
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
        return None
    finally:
        _run(db, f"DROP TABLE IF EXISTS {rej}")
        _run(db, f"DROP TABLE IF EXISTS {rej_scan}")


def _reject_problems(
    rejects: list[tuple],
    rmap: _csvcheck.RecordMap | None,
    ncols: int,
    display: str,
    out: _Loaded,
    *,
    max_line_bytes: int,
) -> tuple[list[int], bool]:
    """A problem per rejected record (at most MAX_PER_RULE, then a count; an unclosed quote
    always); the rejected record numbers and whether a quote was never closed."""
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
        unclosed = unclosed or etype == "UNQUOTED VALUE"
        n_shown += 1
        out.problems.append(
            _problem(display, true_line, _rejected_allowed(etype, message, ncols, max_line_bytes), value=shown)
        )
    if n_rejected > n_shown:
        out.problems.append(
            _problem(display, None, f"... and {n_rejected - n_shown:,} more rows like this that could not be read")
        )
    return rejected_records, unclosed


def _rejected_allowed(etype: str, message: str | None, ncols: int, max_line_bytes: int) -> str:
    """What is allowed, said for the reader's error type of a rejected record."""
    if etype == "LINE SIZE OVER MAXIMUM":
        size = re.search(r"Actual Size:\s*(\d+)", message or "")
        has = f"this record has {int(size.group(1)):,} bytes" if size else "this record is longer"
        return (
            f"a record of at most {max_line_bytes:,} bytes; {has} (a quoted cell with line breaks?), so it "
            f"was not read: check for an unclosed quote, or if it is meant to be this long {_RAISE_LIMIT}"
        )
    if etype in ("MISSING COLUMNS", "TOO MANY COLUMNS"):
        found = re.search(r"Found:\s*(\d+)", message or "")
        return f"a row of {ncols} comma-separated fields like the header" + (
            f" (found {found.group(1)})" if found else ""
        )
    if etype == "UNQUOTED VALUE":
        return 'a quoted field closed by a matching quote ("): the quote opened here is never closed, so the rest of the file could not be read'
    return f"a well-formed CSV row ({message})"


def _lines_by_row_order(
    db: duckdb.DuckDBPyConnection, tmp: str, rel: str, n_records: int, display: str, out: _Loaded
) -> None:
    """The view ``rel``: row k (0-based) is on line k + 2, when every record is one line and a row."""
    n_rows = _run(db, f"SELECT count(*) FROM {tmp}")[0][0]
    if n_rows != n_records:  # no rejects and no blank lines here: every record is a row
        out.problems.append(_unread_records(display, n_rows, n_records))
        _run(db, f"DROP TABLE IF EXISTS {tmp}")
        return
    _run(db, f"CREATE OR REPLACE TEMP VIEW {rel} AS SELECT CAST(rowid AS BIGINT) + 2 AS _line, * FROM {tmp}")
    out.owned += [("TABLE", tmp), ("VIEW", rel)]
    out.table = rel


def _lines_by_record_map(
    db: duckdb.DuckDBPyConnection,
    tmp: str,
    rel: str,
    rmap: _csvcheck.RecordMap,
    rejected_records: list[int],
    ncols: int,
    display: str,
    out: _Loaded,
) -> None:
    """The table ``rel``: each row joined to the start line of its record in ``rmap``."""
    n_rows = _run(db, f"SELECT count(*) FROM {tmp}")[0][0]
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
        return
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
        if len(parts) > 1 and any(p in table_columns(name) for p in parts):
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
