"""Load stage, the folder (ingest/read.py, raw.py): which files are read, file-level problems, line
numbers kept, the raw tables dropped on close.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest
from ingestcase import lines_of

from burnout.errors import DataError
from burnout.ingest import RawCohort, load_cohort, read_cohort
from burnout.ingest import csvcheck as _csvcheck
from cohortfactory import mbi_rows, write_cohort


def _engine_objects(raw: RawCohort) -> set[str]:
    # ibis 12's list_tables() calls a DuckDB method that DuckDB 2 removed; ask DuckDB directly
    return {r[0] for r in raw.con.con.execute("SELECT table_name FROM information_schema.tables").fetchall()}


def test_read_cohort_lines_against_row_positions(valid_cohort_dir: Path) -> None:
    raw = read_cohort(valid_cohort_dir)
    assert raw.problems == ()
    assert set(raw.tables) == {"patients", "mbi_gs", "sessions"}
    assert raw.files == {"patients": "patients.csv", "mbi_gs": "mbi_gs.csv", "sessions": "sessions.csv"}
    assert lines_of(raw, "mbi_gs") == list(range(2, 2 + 48))
    row = raw.tables["mbi_gs"].filter(lambda t: t._line == 17).to_pyarrow().to_pylist()[0]
    expected = mbi_rows()[15]
    assert {k: row[k] for k in expected} == expected  # data row 16 is on line 17, all text


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


def test_not_a_folder_is_a_problem(tmp_path: Path) -> None:
    raw = read_cohort(tmp_path / "nope")
    (p,) = raw.problems
    assert "does not exist" in p.allowed


def test_missing_folder_message_names_it_and_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(DataError) as info:
        load_cohort(tmp_path / "cohort-2024")
    text = str(info.value)
    assert str(tmp_path / "cohort-2024") in text
    assert "does not exist" in text and "check the path" in text


def test_a_file_given_for_the_folder_says_what_to_give_instead(tmp_path: Path) -> None:
    # found trying the store: a store's file given as a path read "this path is a file"
    import duckdb

    store = tmp_path / "cohort.duckdb"
    with duckdb.connect(str(store)) as db:
        db.execute("CREATE TABLE t (x INTEGER)")
    (p,) = read_cohort(store).problems
    assert "a DuckDB database file" in p.allowed and f"duckdb://{store.resolve()}" in p.allowed
    folder = write_cohort(tmp_path / "c")
    (p,) = read_cohort(folder / "mbi_gs.csv").problems
    assert p.allowed.endswith(f"one of the cohort files: give the folder that holds it, {folder}")
    notes = tmp_path / "notes.txt"
    notes.write_text("DUCK? no: a text file\n")
    (p,) = read_cohort(notes).problems
    assert p.allowed.endswith("this path is a file, not a folder: give the folder that holds the cohort files")


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


@pytest.mark.parametrize("near_miss", ["Sessions.csv", "sessions.csv ", " SESSIONS.CSV"])
def test_a_near_miss_of_a_required_file_name_is_named(tmp_path: Path, near_miss: str) -> None:
    # found by a new-user trial: a trailing space got no hint, only a different case did
    folder = write_cohort(tmp_path / "c")
    (folder / "sessions.csv").rename(folder / near_miss)
    (p,) = read_cohort(folder).problems
    assert p.file == "sessions.csv" and "a required file" in p.allowed
    assert f"(found {near_miss!r}: name it sessions.csv exactly, lower case, no spaces around it)" in p.allowed


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


def test_close_drops_the_raw_tables(valid_cohort_dir: Path) -> None:
    raw = read_cohort(valid_cohort_dir)
    names = {t.get_name() for t in raw.tables.values()}
    assert names <= _engine_objects(raw)
    raw.close()
    assert not any(o.startswith("burnout_raw_") for o in _engine_objects(raw))
