"""Load stage: files into raw text tables with true line numbers; file-level problems."""

from __future__ import annotations

import csv
import hashlib
import io
from decimal import Decimal
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from burnout.ingest import RawCohort, read_cohort
from burnout.ingest import csvcheck as _csvcheck
from cohortfactory import mbi_rows, patients_rows, to_csv_bytes, write_cohort


def lines_of(raw: RawCohort, name: str) -> list[int]:
    return sorted(raw.tables[name].select("_line").to_pyarrow().column(0).to_pylist())


def problems_for(raw: RawCohort, file: str) -> list:
    return [p for p in raw.problems if p.file == file]


# --------------------------------------------------------------------------- happy path


def test_read_cohort_lines_against_row_positions(valid_cohort_dir: Path) -> None:
    raw = read_cohort(valid_cohort_dir)
    assert raw.problems == ()
    assert set(raw.tables) == {"patients", "mbi_gs", "sessions"}
    assert raw.files == {"patients": "patients.csv", "mbi_gs": "mbi_gs.csv", "sessions": "sessions.csv"}
    assert lines_of(raw, "mbi_gs") == list(range(2, 2 + 48))
    row = raw.tables["mbi_gs"].filter(lambda t: t._line == 17).to_pyarrow().to_pylist()[0]
    expected = mbi_rows()[15]
    assert {k: row[k] for k in expected} == expected  # data row 16 is on line 17, all text


def test_bom_and_crlf_against_plain_file(tmp_path: Path) -> None:
    plain = read_cohort(write_cohort(tmp_path / "plain"))
    odd = read_cohort(write_cohort(tmp_path / "odd", newline="\r\n", bom=True))
    assert odd.problems == ()
    for name in ("patients", "mbi_gs", "sessions"):
        a = plain.tables[name].order_by("_line").to_pyarrow()
        b = odd.tables[name].order_by("_line").to_pyarrow()
        assert a.equals(b), name  # same text cells, same lines: no stray \r, no BOM in the first name


def test_unknown_column_is_a_warning_and_left_out(tmp_path: Path) -> None:
    rows = [dict(r, shoe_size="42") for r in patients_rows()]
    raw = read_cohort(write_cohort(tmp_path, patients=rows))
    assert raw.problems == ()
    assert "shoe_size" not in raw.tables["patients"].columns
    assert any("patients.csv" in w and "'shoe_size'" in w and "ignored" in w for w in raw.warnings)


def test_upper_case_column_name_is_a_problem_with_the_fix(tmp_path: Path) -> None:
    text = to_csv_bytes(patients_rows()).replace(b"patient_id", b"Patient_ID", 1)
    raw = read_cohort(write_cohort(tmp_path, patients=text))
    (p,) = problems_for(raw, "patients.csv")
    assert (p.line, p.column) == (1, "Patient_ID")
    assert "rename 'Patient_ID' to 'patient_id'" in p.allowed


def test_parquet_line_is_row_number(tmp_path: Path) -> None:
    raw = read_cohort(write_cohort(tmp_path, fmt="parquet"))
    assert raw.problems == ()
    assert raw.formats["mbi_gs"] == "parquet"
    assert lines_of(raw, "mbi_gs") == list(range(1, 49))
    t = raw.tables["mbi_gs"]
    assert t.item_1.type().is_integer() and t.patient_id.type().is_string()  # typed as in the file
    row = t.filter(t._line == 16).to_pyarrow().to_pylist()[0]
    assert str(row["item_1"]) == mbi_rows()[15]["item_1"]


# --------------------------------------------------------------------------- file problems


def test_missing_required_file_is_a_problem(tmp_path: Path) -> None:
    raw = read_cohort(write_cohort(tmp_path, sessions=None))
    (p,) = raw.problems
    assert p.file == "sessions.csv" and p.line is None
    assert "required file" in p.allowed and "sessions.parquet" in p.allowed
    assert "sessions" not in raw.tables


def test_missing_optional_phq9_is_fine(valid_cohort_dir: Path) -> None:
    assert read_cohort(valid_cohort_dir).problems == ()


def test_both_csv_and_parquet_is_a_problem(tmp_path: Path) -> None:
    write_cohort(tmp_path)
    write_cohort(tmp_path, fmt="parquet")
    raw = read_cohort(tmp_path)
    assert {p.file for p in raw.problems} == {"patients.csv", "mbi_gs.csv", "sessions.csv"}
    assert all("both" in p.allowed for p in raw.problems)


def test_zero_byte_file_is_a_problem(tmp_path: Path) -> None:
    raw = read_cohort(write_cohort(tmp_path, mbi_gs=b""))
    (p,) = raw.problems
    assert p.file == "mbi_gs.csv" and p.line is None
    assert p.allowed.startswith("file is empty: needs a header row")


def test_header_only_file_is_an_empty_table(tmp_path: Path) -> None:
    raw = read_cohort(write_cohort(tmp_path, sessions="patient_id,session\n"))
    assert raw.problems == ()
    assert raw.tables["sessions"].count().execute() == 0


def test_not_a_folder_is_a_problem(tmp_path: Path) -> None:
    raw = read_cohort(tmp_path / "nope")
    (p,) = raw.problems
    assert "does not exist" in p.allowed


def test_non_utf8_byte_reports_its_line(tmp_path: Path) -> None:
    data = bytearray(to_csv_bytes(patients_rows()))
    lines = data.split(b"\n")
    lines[6] = lines[6].replace(b"P06", b"P\xe906")  # Latin-1 e-acute on line 7
    raw = read_cohort(write_cohort(tmp_path, patients=bytes(b"\n".join(lines))))
    (p,) = raw.problems
    assert (p.file, p.line, p.value) == ("patients.csv", 7, "byte e9")
    assert "UTF-8" in p.allowed
    assert "patients" not in raw.tables


@pytest.mark.parametrize("chunk", [1, 3, 7, 64])
def test_utf8_scan_across_chunk_boundaries_against_python_decoding(tmp_path: Path, chunk: int) -> None:
    text = "a,b\n" + "".join(f"{i},é€𝄞\n" for i in range(20))
    data = bytearray(text.encode())
    bad_lines = [5, 12, 21]
    lines = data.split(b"\n")
    for ln in bad_lines:
        lines[ln - 1] += b"\xff"
    path = tmp_path / "x.csv"
    path.write_bytes(bytes(b"\n".join(lines)))
    scan = _csvcheck.scan_file(path, chunk=chunk)
    assert scan.bad_utf8_lines == bad_lines
    assert scan.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


def test_ragged_row_is_a_problem_on_its_true_line(tmp_path: Path) -> None:
    text = 'patient_id,age,pathway\nP01,30,"burn\nout"\nP02,31\n\nP03,32,x\nP04,33,x,extra\n'
    raw = read_cohort(write_cohort(tmp_path, patients=text))
    got = {(p.line, p.value) for p in raw.problems}
    assert got == {(4, "P02,31"), (7, "P04,33,x,extra")}
    assert all("3 comma-separated fields" in p.allowed for p in raw.problems)
    t = raw.tables["patients"]
    assert t.order_by("_line").select("_line", "patient_id").to_pyarrow().to_pylist() == [
        {"_line": 2, "patient_id": "P01"},
        {"_line": 6, "patient_id": "P03"},
    ]


def test_mixed_line_ends_are_a_problem(tmp_path: Path) -> None:
    raw = read_cohort(write_cohort(tmp_path, patients=b"patient_id,age\r\nP01,30\r\nP02,31\nP03,32\r\n"))
    (p,) = raw.problems
    assert p.line == 3 and "line end" in p.allowed


def test_unreadable_parquet_is_a_problem(tmp_path: Path) -> None:
    write_cohort(tmp_path, fmt={"patients": "parquet"})
    (tmp_path / "patients.parquet").write_bytes(b"PAR1 this is not parquet")
    raw = read_cohort(tmp_path)
    (p,) = raw.problems
    assert p.file == "patients.parquet" and "readable Parquet" in p.allowed


def test_fingerprint_against_hashlib(valid_cohort_dir: Path) -> None:
    raw = read_cohort(valid_cohort_dir)
    text = "".join(
        f"{n}.csv {hashlib.sha256((valid_cohort_dir / f'{n}.csv').read_bytes()).hexdigest()}\n"
        for n in ("patients", "mbi_gs", "sessions")
    )
    assert raw.fingerprint == hashlib.sha256(text.encode()).hexdigest()
    path = valid_cohort_dir / "sessions.csv"
    path.write_bytes(path.read_bytes().replace(b"2.5", b"2.6", 1))
    assert read_cohort(valid_cohort_dir).fingerprint != raw.fingerprint


def _engine_objects(raw: RawCohort) -> set[str]:
    # ibis 12's list_tables() calls a DuckDB method that DuckDB 2 removed; ask DuckDB directly
    return {r[0] for r in raw.con.con.execute("SELECT table_name FROM information_schema.tables").fetchall()}


def test_close_drops_the_raw_tables(valid_cohort_dir: Path) -> None:
    raw = read_cohort(valid_cohort_dir)
    names = {t.get_name() for t in raw.tables.values()}
    assert names <= _engine_objects(raw)
    raw.close()
    assert not any(o.startswith("burnout_raw_") for o in _engine_objects(raw))


# --------------------------------------------------------------------------- line numbers, property-based

cell = st.one_of(
    st.text(alphabet="abc xyz", min_size=0, max_size=4),
    st.sampled_from(['a,b', 'say "hi"', "two\nlines", "three\n\nlines", "crlf\r\nin cell", "é€"]),
)


def _write_rows(rows: list[list[str]], newline: str) -> bytes:
    buf = io.StringIO()
    csv.writer(buf, lineterminator=newline).writerows(rows)
    return buf.getvalue().encode()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    cells=st.lists(st.tuples(cell, cell), min_size=1, max_size=12),
    blanks=st.lists(st.booleans(), min_size=12, max_size=12),
    crlf=st.booleans(),
    bad=st.integers(min_value=0, max_value=11),
)
def test_line_of_a_row_against_file_written_line_by_line(tmp_path_factory, cells, blanks, crlf, bad) -> None:
    """Quoted commas/quotes/line breaks and blank lines: ``_line`` is where the row starts."""
    newline = "\r\n" if crlf else "\n"
    bad %= len(cells)
    out = _write_rows([["patient_id", "pathway", "age"]], newline)
    line = 2
    truth = {}
    for i, (a, b) in enumerate(cells):
        if blanks[i]:
            out += newline.encode()
            line += 1
        pid = f"P{i}"
        truth[pid] = line
        row = _write_rows([[pid, a + b, "x" if i == bad else "30"]], newline)
        out += row
        line += row.decode().count("\n")
    folder = tmp_path_factory.mktemp("c")
    (folder / "patients.csv").write_bytes(out)
    raw = read_cohort(folder)
    assert [p for p in raw.problems if p.file == "patients.csv"] == []
    got = raw.tables["patients"].select("patient_id", "_line", "pathway", "age").to_pyarrow().to_pylist()
    assert {r["patient_id"]: r["_line"] for r in got} == truth
    assert {r["patient_id"]: r["pathway"] or "" for r in got} == {f"P{i}": a + b for i, (a, b) in enumerate(cells)}
    assert [r["_line"] for r in got if r["age"] == "x"] == [truth[f"P{bad}"]]


def test_record_lines_against_csv_module(tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    rows = [["a", "b"]]
    for i in range(300):
        rows.append([str(i), "x\ny" if rng.random() < 0.2 else ('q"q' if rng.random() < 0.2 else "z")])
    data = _write_rows(rows, "\n")
    path = tmp_path / "r.csv"
    path.write_bytes(data)
    starts = []
    reader = csv.reader(io.StringIO(data.decode(), newline=""))
    prev = 0
    for _ in reader:
        starts.append(prev + 1)
        prev = reader.line_num
    for chunk in (5, 64, 1 << 20):
        rmap = _csvcheck.record_lines(path, chunk=chunk)
        assert rmap.start_line.tolist() == starts
        assert not rmap.blank.any()


def test_single_column_file_blank_lines_are_skipped(tmp_path: Path) -> None:
    write_cohort(tmp_path)
    (tmp_path / "patients.csv").write_bytes(b"patient_id\nP01\n\nP02\n\n")
    raw = read_cohort(tmp_path)
    assert raw.problems == ()
    assert raw.tables["patients"].order_by("_line").select("_line", "patient_id").to_pyarrow().to_pylist() == [
        {"_line": 2, "patient_id": "P01"},
        {"_line": 4, "patient_id": "P02"},
    ]


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

    from burnout.errors import DataError
    from burnout.ingest import load_cohort

    write_cohort(tmp_path)
    import pyarrow.csv as pacsv

    sessions = pacsv.read_csv(
        tmp_path / "sessions.csv", convert_options=pacsv.ConvertOptions(column_types={"patient_id": pa.string()})
    )
    (tmp_path / "sessions.csv").unlink()
    held = [dt.datetime(2024, 1, 9) + dt.timedelta(days=i) for i in range(sessions.num_rows)]
    held[3] = dt.datetime(2024, 1, 12, 13, 30)
    sessions = sessions.set_column(sessions.schema.get_field_index("held_on"), "held_on", pa.array(held, pa.timestamp("us")))
    pq.write_table(sessions, tmp_path / "sessions.parquet")
    raw = read_cohort(tmp_path)
    got = raw.tables["sessions"].order_by("_line").select("held_on").to_pyarrow().column(0).to_pylist()
    assert got[:5] == ["2024-01-09", "2024-01-10", "2024-01-11", "2024-01-12 13:30:00", "2024-01-13"]
    with pytest.raises(DataError) as info:
        load_cohort(tmp_path)
    assert [(p.file, p.line, p.column, p.value) for p in info.value.problems] == [
        ("sessions.parquet", 4, "held_on", "2024-01-12 13:30:00")
    ]
