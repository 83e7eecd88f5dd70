"""Validate stage (ingest/validate.py): every data-contract rule, all problems at once, typed tables out."""

from __future__ import annotations

import gc
from fractions import Fraction
from pathlib import Path

import ibis
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from ingestcase import frame, problems_of

from burnout.errors import DataError, Problem
from burnout.ingest import Cohort, load_cohort, read_cohort, validate_cohort
from burnout.instrument import SCALE
from cohortfactory import (
    mbi_rows,
    patients_rows,
    phq9_rows,
    sessions_rows,
    to_csv_bytes,
    write_cohort,
)


@pytest.fixture(scope="module")
def valid(tmp_path_factory) -> Cohort:
    return load_cohort(write_cohort(tmp_path_factory.mktemp("valid")))


def test_item_7_reports_file_line_patient_column_value(tmp_path: Path) -> None:
    rows = mbi_rows()
    rows[15]["item_3"] = "7"  # data row 16 = line 17
    (p,) = problems_of(write_cohort(tmp_path, mbi_gs=rows))
    assert p == Problem(
        file="mbi_gs.csv",
        line=17,
        patient_id=rows[15]["patient_id"],
        column="item_3",
        value="7",
        allowed="an integer 0-6 (blank = not answered)",
    )
    assert str(p).startswith("mbi_gs.csv:17, patient 'P04', column 'item_3', value '7': an integer 0-6")


def test_three_bad_cells_in_one_file_all_reported(tmp_path: Path) -> None:
    rows = sessions_rows()
    rows[0]["dose_mg"] = "-2"
    rows[4]["held_on"] = "2024-02-30"
    rows[9]["side_effects"] = "maybe"
    probs = problems_of(write_cohort(tmp_path, sessions=rows))
    assert [(p.file, p.line, p.column, p.value) for p in probs] == [
        ("sessions.csv", 2, "dose_mg", "-2"),
        ("sessions.csv", 6, "held_on", "2024-02-30"),
        ("sessions.csv", 11, "side_effects", "maybe"),
    ]


def test_problems_across_files_in_one_error(tmp_path: Path) -> None:
    p_rows, m_rows, s_rows = patients_rows(), mbi_rows(), sessions_rows()
    p_rows[0]["age"] = "17"
    m_rows[0]["completed_on"] = "31/01/2024"
    s_rows[0]["session"] = "0"
    probs = problems_of(write_cohort(tmp_path, patients=p_rows, mbi_gs=m_rows, sessions=s_rows))
    assert [(p.file, p.column) for p in probs] == [
        ("mbi_gs.csv", "completed_on"),
        ("patients.csv", "age"),
        ("sessions.csv", "session"),
    ]


def test_empty_file(tmp_path: Path) -> None:
    (p,) = problems_of(write_cohort(tmp_path, sessions=b""))
    assert (p.file, p.line) == ("sessions.csv", None)
    assert p.allowed.startswith("file is empty")


def test_header_only_patients_is_a_problem_sessions_is_not(tmp_path: Path) -> None:
    probs = problems_of(
        write_cohort(
            tmp_path,
            patients="patient_id,age\n",
            mbi_gs=mbi_rows(ids=[]) or "patient_id,after_session,exhaustion,cynicism,professional_efficacy\n",
            sessions="patient_id,session\n",
        )
    )
    assert [(p.file, p.line) for p in probs] == [("mbi_gs.csv", None), ("patients.csv", None)]
    assert all("header but no rows" in p.allowed for p in probs)


def test_missing_file(tmp_path: Path) -> None:
    (p,) = problems_of(write_cohort(tmp_path, patients=None))
    assert p.file == "patients.csv" and "required file" in p.allowed


def test_non_utf8_byte(tmp_path: Path) -> None:
    data = to_csv_bytes(sessions_rows()).split(b"\n")
    data[40] += b"\x96"  # a Windows-1252 dash at the end of line 41
    (p,) = problems_of(write_cohort(tmp_path, sessions=b"\n".join(data)))
    assert (p.file, p.line, p.value) == ("sessions.csv", 41, "byte 96")


def test_bom_crlf_extra_column_and_spelled_booleans_accepted(tmp_path: Path) -> None:
    rows = sessions_rows()
    for r in rows:
        r["notes"] = "free text, ignored"
    rows[0].update(monitor_present="YES", side_effects="False", serious_adverse_event="0")
    rows[1].update(monitor_present="no", side_effects="1", serious_adverse_event="True")
    cohort = load_cohort(write_cohort(tmp_path, sessions=rows, newline="\r\n", bom=True))
    assert isinstance(cohort, Cohort)
    assert any("'notes'" in w and "ignored" in w for w in cohort.warnings)
    got = frame(cohort.sessions).head(2)[["monitor_present", "side_effects", "serious_adverse_event"]]
    assert got.to_dict("records") == [
        {"monitor_present": True, "side_effects": False, "serious_adverse_event": False},
        {"monitor_present": False, "side_effects": True, "serious_adverse_event": True},
    ]


def test_typed_tables_against_architecture(valid: Cohort) -> None:
    c = valid
    schema = {
        name: {k: str(v) for k, v in getattr(c, name).schema().items()} for name in ("patients", "mbi_gs", "sessions")
    }
    assert schema["patients"] == {
        "patient_id": "string",
        "age": "int64",
        "sex": "string",
        "route": "string",
        "pathway": "string",
    }
    assert list(schema["mbi_gs"]) == [
        "patient_id",
        "after_session",
        *[f"item_{i}" for i in range(1, 17)],
        "exhaustion",
        "cynicism",
        "professional_efficacy",
    ]
    assert set(schema["mbi_gs"].values()) == {"string", "int64"}
    assert schema["sessions"] == {
        "patient_id": "string",
        "session": "int64",
        "dose_mg": "float64",
        "monitor_present": "boolean",
        "side_effects": "boolean",
        "serious_adverse_event": "boolean",
    }
    assert c.phq9 is None and c.mbi_has_items and not c.mbi_has_subscales
    assert c.rows == {"patients": 12, "mbi_gs": 48, "sessions": 72}
    assert [(k, str(v)) for k, v in c.file_columns["sessions"].schema().items()] == [
        ("_line", "int64"),
        ("patient_id", "string"),
        ("session", "int64"),
        ("held_on", "date"),
        ("dose_mg", "float64"),
        ("monitor_present", "boolean"),
        ("side_effects", "boolean"),
        ("serious_adverse_event", "boolean"),
    ]
    assert repr(c) == f"<Cohort: 12 patients, 48 assessments, 72 sessions, no PHQ-9 from {c.source}>"


def test_typed_values_against_source_rows(valid: Cohort) -> None:
    pats = frame(valid.patients)
    assert pats["sex"].tolist()[:6] == ["female", "male", "female", "other", "unknown", "unknown"]
    assert pats["route"].tolist()[:4] == ["sublingual", "subcutaneous", "sublingual", "unknown"]
    assert pats["pathway"].tolist()[:4] == ["burnout", "depression", "anxiety", "unknown"]
    assert pd.isna(pats["age"][3])
    assert pats["age"][0] == int(patients_rows()[0]["age"])
    got = frame(valid.mbi_gs)
    src = pd.DataFrame(mbi_rows())
    for col in [f"item_{i}" for i in range(1, 17)]:
        want = [None if v == "" else int(v) for v in src[col]]
        assert [None if pd.isna(v) else int(v) for v in got[col]] == want, col
    assert got["exhaustion"].isna().all()
    ses = frame(valid.sessions)
    src = pd.DataFrame(sessions_rows())
    assert ses["dose_mg"].tolist() == [float(x) for x in src["dose_mg"]]
    truth = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}
    assert [None if pd.isna(v) else bool(v) for v in ses["side_effects"]] == [
        truth.get(x.lower()) for x in src["side_effects"]
    ]
    assert ses["serious_adverse_event"].tolist() == [False] * 72  # blank = none reported


def test_validate_cohort_options_are_checked(valid_cohort_dir: Path) -> None:
    raw = read_cohort(valid_cohort_dir)
    with pytest.raises(ValueError, match="scheduled_sessions"):
        validate_cohort(raw, scheduled_sessions=0)


def test_parquet_cohort_equals_csv_cohort(tmp_path: Path) -> None:
    kw = dict(phq9=phq9_rows())
    a = load_cohort(write_cohort(tmp_path / "csv", **kw))
    b = load_cohort(write_cohort(tmp_path / "pq", fmt="parquet", **kw))
    for name in ("patients", "mbi_gs", "sessions", "phq9"):
        ta, tb = getattr(a, name), getattr(b, name)
        assert ta.schema() == tb.schema(), name
        pd.testing.assert_frame_equal(frame(ta), frame(tb))
    assert a.fingerprint == b.fingerprint  # the fingerprint is of the validated content, not of file bytes


def test_typed_parquet_problems_match_csv(tmp_path: Path) -> None:
    """Parquet integer, float and boolean columns are checked without a trip through text,
    with the same decisions and messages as the same cells in CSV (row = line - 1)."""
    patients = patients_rows()
    patients[1]["age"] = "17"
    patients[3]["age"] = "121"
    mbi = mbi_rows(subscales=True)
    mbi[4]["item_7"] = "9"
    mbi[5]["item_2"] = "-1"
    mbi[6]["cynicism"] = "7"  # an integer subscale column: out of range
    for r in mbi:  # whole numbers only, so Parquet stores the subscales as integers
        for s in ("exhaustion", "cynicism", "professional_efficacy"):
            r[s] = str(round(float(r[s])))
        r["completed_on"] = ""
    sessions = sessions_rows()
    for i, r in enumerate(sessions):
        r["monitor_present"] = "2" if i == 7 else str(i % 2)  # integers 0/1 in Parquet
        r["dose_mg"] = "-2.5" if i == 9 else "2.5"
    sessions[11]["session"] = "0"
    kw = dict(patients=patients, mbi_gs=mbi, sessions=sessions)
    folder = write_cohort(tmp_path / "pq", fmt="parquet", **kw)
    sessions[10]["dose_mg"] = "nan"
    in_csv = problems_of(write_cohort(tmp_path / "csv", **kw), max_missing_items=5)
    table = pq.read_table(folder / "sessions.parquet")
    dose = table.column("dose_mg").to_pylist()
    dose[10] = float("nan")
    table = table.set_column(table.schema.get_field_index("dose_mg"), "dose_mg", pa.array(dose, pa.float64()))
    pq.write_table(table, folder / "sessions.parquet")
    in_pq = problems_of(folder, max_missing_items=5)
    types = {
        f.name: str(f.type)
        for name in ("patients", "mbi_gs", "sessions")
        for f in pq.read_schema(folder / f"{name}.parquet")
    }
    assert (types["age"], types["item_7"], types["cynicism"], types["dose_mg"], types["monitor_present"]) == (
        "int64",
        "int64",
        "int64",
        "double",
        "int64",
    )
    # the agreement rule fires on rounded subscales in both formats; compare the cell rules
    cells = {"age", "item_7", "item_2", "cynicism", "monitor_present", "dose_mg", "session"}

    def key(ps: tuple[Problem, ...], shift: int) -> list[tuple]:
        return sorted(
            (p.file.split(".")[0], p.line - shift, p.column, p.value.lower(), p.allowed)
            for p in ps
            if p.column in cells and p.line is not None and not p.allowed.startswith("within 0.01")
        )

    got, want = key(in_pq, 0), key(in_csv, 1)
    assert got == want
    assert {(g[2], g[3]) for g in got} == {
        ("age", "17"),
        ("age", "121"),
        ("item_7", "9"),
        ("item_2", "-1"),
        ("cynicism", "7"),
        ("monitor_present", "2"),
        ("dose_mg", "-2.5"),
        ("dose_mg", "nan"),
        ("session", "0"),
    }


def test_subscale_only_mbi_against_fraction(tmp_path: Path) -> None:
    rows = mbi_rows(items=False, subscales=True)
    rows[0].update(exhaustion="4.2", cynicism="3.33333", professional_efficacy="0.0000005")
    rows[1].update(exhaustion="6", cynicism=".5", professional_efficacy="5.1666666666")
    c = load_cohort(write_cohort(tmp_path, mbi_gs=rows))
    assert not c.mbi_has_items and c.mbi_has_subscales
    got = c.mbi_gs.filter(c.mbi_gs.patient_id == "P01").to_pandas().sort_values("after_session")
    assert got["item_1"].isna().all()
    exact = [Fraction("4.2"), Fraction("6")]
    assert got["exhaustion"].tolist()[:2] == [int(x * SCALE) for x in exact]
    assert got["cynicism"].tolist()[:2] == [1_999_998, 300_000]
    # more than 5 places: nearest unit (0.3 -> 0; 3_099_999.99996 -> 3_100_000)
    assert got["professional_efficacy"].tolist()[:2] == [0, 3_100_000]


@pytest.mark.postgres
def test_postgres_database_and_engine_against_duckdb(tmp_path: Path, postgres_db: str) -> None:
    """A database source and a folder loaded into PostgreSQL give DuckDB's typed tables."""
    import pyarrow.parquet as pq

    folder = write_cohort(tmp_path, mbi_gs=mbi_rows(subscales=True), phq9=phq9_rows(), fmt="parquet")
    ref = load_cohort(folder)
    pg = ibis.connect(postgres_db)
    into_pg = load_cohort(folder, con=pg)
    for name in ("patients", "mbi_gs", "sessions", "phq9"):
        pg.create_table(name, pq.read_table(folder / f"{name}.parquet"))
    from_db = load_cohort(postgres_db)
    assert from_db.files["mbi_gs"] == "mbi_gs" and from_db.rows == ref.rows
    for name in ("patients", "mbi_gs", "sessions", "phq9"):
        want = frame(getattr(ref, name))
        pd.testing.assert_frame_equal(frame(getattr(into_pg, name)), want, check_dtype=False)
        pd.testing.assert_frame_equal(frame(getattr(from_db, name)), want, check_dtype=False)

    rows = mbi_rows(subscales=True)
    rows[15]["item_3"] = "7"
    rows[20]["completed_on"] = "2024-02-30"  # PostgreSQL has no TRY_CAST: must not abort the query
    pg.create_table("mbi_gs", pa.Table.from_pylist(rows), overwrite=True)
    with pytest.raises(DataError) as info:
        load_cohort(postgres_db)
    assert [(p.file, p.patient_id, p.column, p.value) for p in info.value.problems] == [
        ("mbi_gs", "P04", "item_3", "7"),
        ("mbi_gs", "P06", "completed_on", "2024-02-30"),
    ]
    # release cached tables and connections before the fixture drops the database
    del info, into_pg, from_db, pg
    gc.collect()


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_an_answer_between_the_steps_of_its_scale_is_a_problem(tmp_path: Path, fmt: str) -> None:
    # the CBI answers 0, 25, 50, 75, 100: 30 lies inside the range but is no answer of the scale
    ids = [r["patient_id"] for r in patients_rows()]
    rows = [{"patient_id": pid, "after_session": 0, **{f"item_{i}": 25 for i in range(1, 20)}} for pid in ids]
    rows[2]["item_4"] = 30
    folder = write_cohort(tmp_path)
    frame = pd.DataFrame(rows)
    if fmt == "csv":
        frame.to_csv(folder / "cbi.csv", index=False)
    else:
        frame.to_parquet(folder / "cbi.parquet", index=False)
    (p,) = problems_of(folder)
    assert (p.file, p.patient_id, p.column, p.value) == (f"cbi.{fmt}", ids[2], "item_4", "30")
    assert p.allowed == "one of 0, 25, 50, 75, 100 (blank = not answered)"
    assert fmt == "parquet" or p.line == 4


def test_a_cohort_is_synthetic_only_while_every_file_read_is_a_simulated_one(tmp_path: Path) -> None:
    import shutil

    from burnout.ingest.validate import _simulated
    from burnout.simulate import simulate_cohort, write_cohort

    folder = tmp_path / "C"
    write_cohort(simulate_cohort(patients=60, seed=3), folder)
    assert _simulated(read_cohort(folder))
    (folder / "phq9.csv").unlink()  # a file taken out: what is read is still simulated
    (folder / "notes.txt").write_text("real data from the clinic\n", encoding="utf-8")  # not cohort data: not read
    assert _simulated(read_cohort(folder))
    with open(folder / "patients.csv", "a", encoding="utf-8") as fh:  # a file read changed
        fh.write("P9999,40,female,sublingual,\n")
    assert not _simulated(read_cohort(folder))
    plain = tmp_path / "plain"
    shutil.copytree(folder, plain)
    (plain / ".burnout-manifest.json").unlink()  # the same files, not known as simulated
    assert not _simulated(read_cohort(plain))
