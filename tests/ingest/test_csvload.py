"""Load stage, CSV files (ingest/csvload.py): every record read or reported, on its true line, in
plain words. Several tests reproduce a report from the field (a silently dropped row, a crash,
a misleading message) at a known file and line.
"""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ingestcase import problems_of, write_rows

from burnout.ingest import read_cohort
from cohortfactory import patients_rows, sessions_rows, to_csv_bytes, write_cohort

cell = st.one_of(
    st.text(alphabet="abc xyz", min_size=0, max_size=4),
    st.sampled_from(["a,b", 'say "hi"', "two\nlines", "three\n\nlines", "crlf\r\nin cell", "é€"]),
)


def test_bom_and_crlf_against_plain_file(tmp_path: Path) -> None:
    plain = read_cohort(write_cohort(tmp_path / "plain"))
    odd = read_cohort(write_cohort(tmp_path / "odd", newline="\r\n", bom=True))
    assert odd.problems == ()
    for name in ("patients", "mbi_gs", "sessions"):
        a = plain.tables[name].order_by("_line").to_pyarrow()
        b = odd.tables[name].order_by("_line").to_pyarrow()
        assert a.equals(b), name  # same text cells, same lines: no stray \r, no BOM in the first name


def test_zero_byte_file_is_a_problem(tmp_path: Path) -> None:
    raw = read_cohort(write_cohort(tmp_path, mbi_gs=b""))
    (p,) = raw.problems
    assert p.file == "mbi_gs.csv" and p.line is None
    assert p.allowed.startswith("file is empty: needs a header row")


def test_header_only_file_is_an_empty_table(tmp_path: Path) -> None:
    raw = read_cohort(write_cohort(tmp_path, sessions="patient_id,session\n"))
    assert raw.problems == ()
    assert raw.tables["sessions"].count().execute() == 0


def test_non_utf8_byte_reports_its_line(tmp_path: Path) -> None:
    data = bytearray(to_csv_bytes(patients_rows()))
    lines = data.split(b"\n")
    lines[6] = lines[6].replace(b"P06", b"P\xe906")  # Latin-1 e-acute on line 7
    raw = read_cohort(write_cohort(tmp_path, patients=bytes(b"\n".join(lines))))
    (p,) = raw.problems
    assert (p.file, p.line, p.value) == ("patients.csv", 7, "byte e9")
    assert "UTF-8" in p.allowed
    assert "patients" not in raw.tables


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


def test_single_column_file_blank_lines_are_skipped(tmp_path: Path) -> None:
    write_cohort(tmp_path)
    (tmp_path / "patients.csv").write_bytes(b"patient_id\nP01\n\nP02\n\n")
    raw = read_cohort(tmp_path)
    assert raw.problems == ()
    assert raw.tables["patients"].order_by("_line").select("_line", "patient_id").to_pyarrow().to_pylist() == [
        {"_line": 2, "patient_id": "P01"},
        {"_line": 4, "patient_id": "P02"},
    ]


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
    out = write_rows([["patient_id", "pathway", "age"]], newline)
    line = 2
    truth = {}
    for i, (a, b) in enumerate(cells):
        if blanks[i]:
            out += newline.encode()
            line += 1
        pid = f"P{i}"
        truth[pid] = line
        row = write_rows([[pid, a + b, "x" if i == bad else "30"]], newline)
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


def test_unclosed_quote_is_reported_before_what_it_causes(tmp_path: Path) -> None:
    text = to_csv_bytes(patients_rows()).splitlines(keepends=True)
    text[4] = text[4].replace(b",", b',"', 1)  # line 5: P04's age opens a quote never closed
    problems = problems_of(write_cohort(tmp_path, patients=b"".join(text)))
    first = problems[0]
    assert (first.file, first.line) == ("patients.csv", 5)
    assert "never closed" in first.allowed
    # the patients after it were not read: other files must not blame their ids
    assert not any("this id is not there" in p.allowed for p in problems)


def test_unclosed_quote_after_many_ragged_rows_is_still_reported(tmp_path: Path) -> None:
    head = b"patient_id,age,sex,route,pathway\n"
    ragged = b"".join(b"R%03d,40\n" % i for i in range(150))  # lines 2-151: 2 fields of 5
    rest = b'P01,"40,female,sublingual,burnout\n' + b"P02,41,male,sublingual,burnout\n"  # line 152 opens a quote
    raw = read_cohort(write_cohort(tmp_path, patients=head + ragged + rest))
    unclosed = [p for p in raw.problems if "never closed" in p.allowed]
    assert [(p.file, p.line) for p in unclosed] == [("patients.csv", 152)]
    assert "patients" not in raw.tables


def test_semicolon_separated_file_is_named_as_such(tmp_path: Path) -> None:
    text = to_csv_bytes(patients_rows()).replace(b",", b";")
    problems = [p for p in problems_of(write_cohort(tmp_path, patients=text)) if p.file == "patients.csv"]
    (p,) = problems
    assert "separated by semicolons" in p.allowed and "comma-separated" in p.allowed
