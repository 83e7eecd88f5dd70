"""Load stage: read a Parquet table file into the engine, with its row numbers. (parquetload)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from burnout.errors import first_line
from burnout.ingest import csvcheck as _csvcheck
from burnout.ingest.loaded import _check_header, _Loaded, _problem, _run, _sql_str

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
