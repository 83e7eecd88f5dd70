"""Ingest: every file is read whole or refused, with a plain message naming file, line, column and value.

Each test here reproduces a report from the field (a silently dropped row, a crash,
a misleading message) at a known file and line.
"""

from __future__ import annotations

import os
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from burnout.errors import DataError, Problem
from burnout.ingest import csvcheck as _csvcheck
from burnout.ingest import load_cohort, read_cohort
from cohortfactory import mbi_rows, patients_rows, sessions_rows, to_csv_bytes, write_cohort


def problems_of(folder: Path, **kw) -> tuple[Problem, ...]:
    with pytest.raises(DataError) as info:
        load_cohort(folder, **kw)
    return info.value.problems


# --------------------------------------------------------------------------- no silent loss


def test_fifty_megabyte_cell_is_a_problem_on_its_line_naming_the_option(tmp_path: Path) -> None:
    rows = sessions_rows()
    rows[5]["side_effects"] = "x" * (50 << 20)  # P01's session-6 row: data row 6, line 7
    line_7 = to_csv_bytes(rows).split(b"\n")[6]
    problems = problems_of(write_cohort(tmp_path, sessions=rows))
    (p,) = [p for p in problems if p.file == "sessions.csv"]
    assert p.line == 7
    assert "--max-line-size" in p.allowed and "max_line_bytes" in p.allowed
    assert f"this line has {len(line_7):,} bytes" in p.allowed


def test_fifty_megabyte_garbage_line_at_the_end_is_a_problem(tmp_path: Path) -> None:
    text = to_csv_bytes(sessions_rows()) + b"g" * (50 << 20) + b"\n"
    raw = read_cohort(write_cohort(tmp_path, sessions=text))
    (p,) = [p for p in raw.problems if p.file == "sessions.csv"]
    assert p.line == 74  # header + 72 rows
    assert "--max-line-size" in p.allowed


def test_line_size_limit_is_an_option(tmp_path: Path) -> None:
    rows = patients_rows()
    rows[2]["pathway"] = "p" * 5000  # line 4
    folder = write_cohort(tmp_path, patients=rows)
    (p,) = read_cohort(folder, max_line_bytes=1000).problems
    assert (p.file, p.line) == ("patients.csv", 4)
    assert "at most 1,000 bytes" in p.allowed
    assert read_cohort(folder, max_line_bytes=10_000).problems == ()


def test_every_row_read_or_reported_against_line_count(tmp_path: Path) -> None:
    # a quoted multi-line record far over the limit: the reader may skip it whole; the
    # rows read plus the rows reported must account for every record of the file
    rows = patients_rows()
    rows[4]["pathway"] = "a\n" * 40_000  # one record over 40,001 lines, starting on line 6
    raw = read_cohort(write_cohort(tmp_path, patients=rows), max_line_bytes=1000)
    problems = [p for p in raw.problems if p.file == "patients.csv"]
    assert problems, "a record that was not read must be a problem"
    assert problems[0].line == 6
    assert "--max-line-size" in problems[0].allowed
    assert raw.tables["patients"].count().execute() == 11  # the other rows, read


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    lengths=st.lists(st.integers(0, 40), max_size=30),
    final_lf=st.booleans(),
    limit=st.integers(1, 12),
    chunk=st.sampled_from([1, 2, 3, 7, 16, 64, 4096]),
)
def test_long_lines_against_bytes_split(tmp_path_factory, lengths, final_lf, limit, chunk) -> None:
    data = b"\n".join(b"x" * n for n in lengths) + (b"\n" if final_lf and lengths else b"")
    path = tmp_path_factory.mktemp("long") / "f.csv"
    path.write_bytes(data)
    scan = _csvcheck.scan_file(path, chunk=chunk, max_line_bytes=limit)
    lines = data.split(b"\n")[: -1 if data.endswith(b"\n") else None]
    expected = {i + 1: len(line) for i, line in enumerate(lines) if len(line) > limit}
    assert scan.long_lines == expected and scan.long_line_count == len(expected)


# --------------------------------------------------------------------------- control characters


def test_nul_in_pathway_is_a_problem_with_its_line(tmp_path: Path) -> None:
    rows = patients_rows()
    rows[6]["pathway"] = "burn\x00out"  # line 8
    (p,) = problems_of(write_cohort(tmp_path, patients=rows))
    assert (p.file, p.line, p.column, p.value) == ("patients.csv", 8, "pathway", "burn\x00out")
    assert "control character" in p.allowed and "tab" in p.allowed


def test_tab_in_pathway_is_allowed(tmp_path: Path) -> None:
    rows = patients_rows()
    rows[6]["pathway"] = "burn\tout"
    load_cohort(write_cohort(tmp_path, patients=rows))


def test_control_character_in_patient_id_is_a_problem(tmp_path: Path) -> None:
    rows = patients_rows()
    rows[1]["patient_id"] = "P02\x07"  # line 3; the other files then name an unknown id
    problems = problems_of(write_cohort(tmp_path, patients=rows))
    ours = [p for p in problems if p.file == "patients.csv"]
    assert [(p.line, p.column, p.value) for p in ours] == [(3, "patient_id", "P02\x07")]
    assert "control character" in ours[0].allowed


# --------------------------------------------------------------------------- Parquet types


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


def test_parquet_list_column_is_refused_naming_its_type(tmp_path: Path) -> None:
    folder = write_cohort(tmp_path, patients=None)
    n = len(patients_rows())
    _patients_parquet(folder / "patients.parquet", pathway=pa.array([["burnout"]] * (n - 1) + [[None]], pa.list_(pa.string())))
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


# --------------------------------------------------------------------------- not plain files


def test_fifo_is_refused_without_reading_it(tmp_path: Path) -> None:
    folder = write_cohort(tmp_path)
    os.mkfifo(folder / "phq9.csv")  # reading it would block: the test would hang
    (p,) = read_cohort(folder).problems
    assert p.file == "phq9.csv" and "named pipe" in p.allowed and "regular file" in p.allowed


def test_dangling_symlink_is_named_as_such(tmp_path: Path) -> None:
    folder = write_cohort(tmp_path, sessions=None)
    (folder / "sessions.csv").symlink_to(tmp_path / "moved" / "sessions.csv")
    (p,) = read_cohort(folder).problems
    assert p.file == "sessions.csv"
    assert "symbolic link" in p.allowed and "does not exist" in p.allowed and "lower case" not in p.allowed
    assert str(tmp_path / "moved" / "sessions.csv") in p.allowed


def test_symlink_to_a_folder_is_named_as_such(tmp_path: Path) -> None:
    folder = write_cohort(tmp_path / "c", sessions=None)
    (tmp_path / "elsewhere").mkdir()
    (folder / "sessions.csv").symlink_to(tmp_path / "elsewhere")
    (p,) = read_cohort(folder).problems
    assert p.file == "sessions.csv" and "folder" in p.allowed and "lower case" not in p.allowed


def test_unreadable_file_is_a_problem_not_a_traceback(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = write_cohort(tmp_path)
    real = _csvcheck.scan_file

    def scan(path, **kw):
        if Path(path).name == "mbi_gs.csv":
            raise PermissionError(13, "Permission denied", str(path))
        return real(path, **kw)

    monkeypatch.setattr(_csvcheck, "scan_file", scan)  # read.py and csvload.py both call it through the module
    (p,) = read_cohort(folder).problems
    assert p.file == "mbi_gs.csv" and "permission" in p.allowed.lower() and "read" in p.allowed


def test_unreadable_folder_is_a_problem_not_a_traceback(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = write_cohort(tmp_path)

    def iterdir(self):
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "iterdir", iterdir)
    (p,) = read_cohort(folder).problems
    assert str(folder) in p.file and "permission" in p.allowed.lower()


def test_missing_folder_message_names_it_and_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(DataError) as info:
        load_cohort(tmp_path / "cohort-2024")
    text = str(info.value)
    assert str(tmp_path / "cohort-2024") in text
    assert "does not exist" in text and "check the path" in text


# --------------------------------------------------------------------------- root cause first


def test_unclosed_quote_is_reported_before_what_it_causes(tmp_path: Path) -> None:
    text = to_csv_bytes(patients_rows()).splitlines(keepends=True)
    text[4] = text[4].replace(b",", b',"', 1)  # line 5: P04's age opens a quote never closed
    problems = problems_of(write_cohort(tmp_path, patients=b"".join(text)))
    first = problems[0]
    assert (first.file, first.line) == ("patients.csv", 5)
    assert "never closed" in first.allowed
    # the patients after it were not read: other files must not blame their ids
    assert not any("this id is not there" in p.allowed for p in problems)


# --------------------------------------------------------------------------- say it plainly


def test_semicolon_separated_file_is_named_as_such(tmp_path: Path) -> None:
    text = to_csv_bytes(patients_rows()).replace(b",", b";")
    problems = [p for p in problems_of(write_cohort(tmp_path, patients=text)) if p.file == "patients.csv"]
    (p,) = problems
    assert "separated by semicolons" in p.allowed and "comma-separated" in p.allowed


@pytest.mark.parametrize("style", ["Q{}", "ITEM{}", "item{}", "Item {}"])
def test_numbered_item_columns_get_the_rename(tmp_path: Path, style: str) -> None:
    rows = [{(style.format(k[5:]) if k.startswith("item_") else k): v for k, v in r.items()} for r in mbi_rows()]
    problems = [p for p in problems_of(write_cohort(tmp_path, mbi_gs=rows)) if p.file == "mbi_gs.csv"]
    renames = [p for p in problems if "rename" in p.allowed]
    assert len(renames) == 16
    first = style.format(1)
    assert any(p.column == first and f"rename {first!r} to 'item_1'" in p.allowed for p in renames)


def test_assessments_after_sessions_never_recorded_warn(tmp_path: Path) -> None:
    folder = write_cohort(tmp_path, sessions="patient_id,session,held_on\n")
    cohort = load_cohort(folder)
    (w,) = [w for w in cohort.warnings if "sessions.csv" in w and "mbi_gs.csv" in w]
    assert "12 patients" in w and "no session" in w


# --------------------------------------------------------------------------- command line


def test_cli_max_line_size_reports_then_reads(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from burnout.cli import app

    rows = patients_rows()
    rows[2]["pathway"] = "p" * 5000  # line 4
    folder = write_cohort(tmp_path, patients=rows)
    runner = CliRunner()
    refused = runner.invoke(app, ["validate", str(folder), "--max-line-size", "1000"])
    assert refused.exit_code == 2 and "Traceback" not in refused.output
    assert "patients.csv:4" in refused.output and "--max-line-size" in refused.output
    read = runner.invoke(app, ["validate", str(folder), "--max-line-size", "10000"])
    assert read.exit_code == 0, read.output


def test_cli_fifo_exits_2_without_blocking(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from burnout.cli import app

    folder = write_cohort(tmp_path)
    os.mkfifo(folder / "phq9.csv")
    result = CliRunner().invoke(app, ["validate", str(folder)])
    assert result.exit_code == 2 and "phq9.csv" in result.output and "named pipe" in result.output


@pytest.mark.postgres
def test_control_character_in_a_database_pathway_is_a_problem(tmp_path: Path, postgres_db: str) -> None:
    import gc

    import ibis

    folder = write_cohort(tmp_path, fmt="parquet")
    pg = ibis.connect(postgres_db)
    for name in ("patients", "mbi_gs", "sessions"):
        pg.create_table(name, pq.read_table(folder / f"{name}.parquet"))
    rows = patients_rows()
    rows[3]["pathway"] = "burn\x07out"  # PostgreSQL text cannot hold NUL; BEL it can
    pg.create_table("patients", pa.Table.from_pylist(rows), overwrite=True)
    with pytest.raises(DataError) as info:
        load_cohort(postgres_db)
    assert [(p.file, p.patient_id, p.column, p.value) for p in info.value.problems] == [
        ("patients", "P04", "pathway", "burn\x07out")
    ]
    del info, pg
    gc.collect()


def test_unclosed_quote_after_many_ragged_rows_is_still_reported(tmp_path: Path) -> None:
    head = b"patient_id,age,sex,route,pathway\n"
    ragged = b"".join(b"R%03d,40\n" % i for i in range(150))  # lines 2-151: 2 fields of 5
    rest = b'P01,"40,female,sublingual,burnout\n' + b"P02,41,male,sublingual,burnout\n"  # line 152 opens a quote
    raw = read_cohort(write_cohort(tmp_path, patients=head + ragged + rest))
    unclosed = [p for p in raw.problems if "never closed" in p.allowed]
    assert [(p.file, p.line) for p in unclosed] == [("patients.csv", 152)]
    assert "patients" not in raw.tables
