"""Load stage, Parquet files (ingest/parquetload.py, raw.keep_type): row numbers, column types kept,
refused or read as text.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from ingestcase import lines_of, problems_of

from burnout.errors import DataError
from burnout.ingest import load_cohort, read_cohort
from cohortfactory import mbi_rows, patients_rows, sessions_rows, write_cohort


def _patients_parquet(path: Path, **columns: pa.Array) -> None:
    rows = patients_rows()
    data = {
        "patient_id": pa.array([r["patient_id"] for r in rows]),
        "age": pa.array([int(r["age"]) if r["age"] else None for r in rows], pa.int64()),
        "sex": pa.array([r["sex"] for r in rows]),
        "route": pa.array([r["route"] for r in rows]),
        "pathway": pa.array([r["pathway"] for r in rows]),
    }
    data.update(columns)
    pq.write_table(pa.table(data), path)


def test_parquet_line_is_row_number(tmp_path: Path) -> None:
    raw = read_cohort(write_cohort(tmp_path, fmt="parquet"))
    assert raw.problems == ()
    assert raw.formats["mbi_gs"] == "parquet"
    assert lines_of(raw, "mbi_gs") == list(range(1, 49))
    t = raw.tables["mbi_gs"]
    assert t.item_1.type().is_integer() and t.patient_id.type().is_string()  # typed as in the file
    row = t.filter(t._line == 16).to_pyarrow().to_pylist()[0]
    assert str(row["item_1"]) == mbi_rows()[15]["item_1"]


def test_unreadable_parquet_is_a_problem(tmp_path: Path) -> None:
    write_cohort(tmp_path, fmt={"patients": "parquet"})
    (tmp_path / "patients.parquet").write_bytes(b"PAR1 this is not parquet")
    raw = read_cohort(tmp_path)
    (p,) = raw.problems
    assert p.file == "patients.parquet" and "readable Parquet" in p.allowed


def test_parquet_types_kept_or_become_text(tmp_path: Path) -> None:
    """Types validation checks directly stay as they are; others become the text a CSV would hold."""
    write_cohort(tmp_path)
    tbl = pa.table(
        {
            "patient_id": ["P01", "P02"],
            "age": pa.array([Decimal("30.0"), None], pa.decimal128(4, 1)),
            "sex": ["female", None],
            "route": pa.array(["sublingual", ""]),
            "pathway": pa.array([1.5, None]),
        }
    )
    (tmp_path / "patients.csv").unlink()
    pq.write_table(tbl, tmp_path / "patients.parquet")
    raw = read_cohort(tmp_path)
    t = raw.tables["patients"]
    assert t.age.type().is_string() and t.pathway.type().is_floating()
    got = t.order_by("_line").to_pyarrow().to_pylist()
    assert [r["age"] for r in got] == ["30.0", None]
    assert [r["pathway"] for r in got] == [1.5, None]
    assert [r["_line"] for r in got] == [1, 2]


def test_parquet_timestamps_at_midnight_are_dates(tmp_path: Path) -> None:
    """A timestamp column becomes the text a CSV export would hold: the date at midnight,
    the whole timestamp otherwise (which validation then reports as not a date)."""
    import datetime as dt

    write_cohort(tmp_path)
    import pyarrow.csv as pacsv

    sessions = pacsv.read_csv(
        tmp_path / "sessions.csv", convert_options=pacsv.ConvertOptions(column_types={"patient_id": pa.string()})
    )
    (tmp_path / "sessions.csv").unlink()
    held = [dt.datetime(2024, 1, 9) + dt.timedelta(days=i) for i in range(sessions.num_rows)]
    held[3] = dt.datetime(2024, 1, 12, 13, 30)
    sessions = sessions.set_column(
        sessions.schema.get_field_index("held_on"), "held_on", pa.array(held, pa.timestamp("us"))
    )
    pq.write_table(sessions, tmp_path / "sessions.parquet")
    raw = read_cohort(tmp_path)
    got = raw.tables["sessions"].order_by("_line").select("held_on").to_pyarrow().column(0).to_pylist()
    assert got[:5] == ["2024-01-09", "2024-01-10", "2024-01-11", "2024-01-12 13:30:00", "2024-01-13"]
    with pytest.raises(DataError) as info:
        load_cohort(tmp_path)
    assert [(p.file, p.line, p.column, p.value) for p in info.value.problems] == [
        ("sessions.parquet", 4, "held_on", "2024-01-12 13:30:00")
    ]


def test_parquet_list_column_is_refused_naming_its_type(tmp_path: Path) -> None:
    folder = write_cohort(tmp_path, patients=None)
    n = len(patients_rows())
    _patients_parquet(
        folder / "patients.parquet", pathway=pa.array([["burnout"]] * (n - 1) + [[None]], pa.list_(pa.string()))
    )
    problems = [p for p in problems_of(folder) if p.file == "patients.parquet"]
    (p,) = problems
    assert (p.line, p.column) == (None, "pathway")
    assert "list<string>" in p.allowed and "text" in p.allowed


def test_parquet_float_flag_is_refused_naming_its_type(tmp_path: Path) -> None:
    rows = sessions_rows()
    flags = [float(i % 2) for i in range(len(rows))]
    cols = {c: pa.array([r[c] or None for r in rows]) for c in rows[0] if c != "monitor_present"}
    cols["session"] = pa.array([int(r["session"]) for r in rows])
    cols["monitor_present"] = pa.array(flags, pa.float64())
    folder = write_cohort(tmp_path, sessions=None)
    pq.write_table(pa.table(cols), folder / "sessions.parquet")
    (p,) = [p for p in problems_of(folder) if p.file == "sessions.parquet"]
    assert (p.line, p.column) == (None, "monitor_present")
    assert "double" in p.allowed and "boolean" in p.allowed
