"""Validate stage: every data-contract rule, all problems at once, typed tables out."""

from __future__ import annotations

import datetime
import gc
import re
from fractions import Fraction
from pathlib import Path

import ibis
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from burnout.errors import DataError, Problem
from burnout.ingest import Cohort, load_cohort, read_cohort, validate_cohort
from burnout.ingest.parsers import _date, _int, _trim, _units
from burnout.instrument import SCALE, SUBSCALE_ITEMS
from cohortfactory import (
    mbi_rows,
    patients_rows,
    phq9_rows,
    sessions_rows,
    to_csv_bytes,
    write_cohort,
)


def problems_of(folder: Path, **kw) -> tuple[Problem, ...]:
    with pytest.raises(DataError) as info:
        load_cohort(folder, **kw)
    return info.value.problems


def frame(t) -> pd.DataFrame:
    df = t.to_pandas()
    return df.sort_values(list(df.columns[:2])).reset_index(drop=True)


# --------------------------------------------------------------------------- cells


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


def test_integer_spellings_accepted_against_int(tmp_path: Path) -> None:
    rows = mbi_rows()
    for r, text in zip(rows, [" 3", "3.0", "+3", "03", "3.00 "], strict=False):
        r["item_1"] = text
    cohort = load_cohort(write_cohort(tmp_path, mbi_gs=rows))
    got = frame(cohort.mbi_gs)["item_1"].tolist()[:5]
    assert got == [3, 3, 3, 3, 3]


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


# --------------------------------------------------------------------------- one cohort, many rules
#
# Loading costs a fixed ~0.5 s of query planning, so the single-rule cases below
# share one cohort with one bad cell (or pair) per rule, each at a known line.


@pytest.fixture(scope="module")
def sink(tmp_path_factory) -> dict[tuple[str, str | None], list[Problem]]:
    pats = patients_rows()
    pats[1]["sex"] = "f"  # line 3
    pats[0]["sex"] = " FEMALE "  # accepted
    pats[2]["age"] = "forty"  # line 4, P03
    pats[4]["route"] = "oral"  # line 6
    pats.append(dict(pats[11]))  # line 14 repeats P12 of line 13
    pats.append(dict(pats[0], patient_id=""))  # line 15: blank id (must not hide unknown ids elsewhere)
    mbi = mbi_rows()
    mbi[0]["item_16"] = "4.5"  # line 2
    mbi[5]["after_session"] = mbi[4]["after_session"]  # lines 6 and 7: P02 twice at 0
    mbi[21]["after_session"] = "4.0"  # line 23 = P06 at 4, like line 24
    mbi[30]["after_session"] = ""  # line 32
    mbi[40]["patient_id"] = " "  # line 42
    ses = sessions_rows()
    ses[1]["session"] = "1"  # lines 2 and 3: P01 session 1 twice
    ses[30]["patient_id"] = "P99"  # line 32
    phq = phq9_rows()
    phq[3]["item_9"] = "4"  # line 5
    folder = write_cohort(tmp_path_factory.mktemp("sink"), patients=pats, mbi_gs=mbi, sessions=ses, phq9=phq)
    with pytest.raises(DataError) as info:
        load_cohort(folder)
    out: dict[tuple[str, str | None], list[Problem]] = {}
    for p in info.value.problems:
        out.setdefault((p.file, p.column), []).append(p)
    out[("all", None)] = list(info.value.problems)
    return out


def test_item_4_5_is_not_an_integer(sink) -> None:
    (p,) = sink[("mbi_gs.csv", "item_16")]
    assert (p.line, p.patient_id, p.value) == (2, "P01", "4.5")
    assert p.allowed == "an integer 0-6 (blank = not answered)"


def test_age_forty(sink) -> None:
    (p,) = sink[("patients.csv", "age")]
    assert (p.line, p.patient_id, p.value) == (4, "P03", "forty")
    assert p.allowed == "an integer 18-120 (years at baseline; blank = unknown)"


def test_sex_and_route_vocabulary_case_insensitive(sink) -> None:
    assert [(p.line, p.value) for p in sink[("patients.csv", "sex")]] == [(3, "f")]
    assert [(p.line, p.value) for p in sink[("patients.csv", "route")]] == [(6, "oral")]


def test_duplicate_assessment_reports_every_line(sink) -> None:
    dups = [p for p in sink[("mbi_gs.csv", "after_session")] if "one row per" in p.allowed]
    assert [(p.line, p.patient_id, p.value) for p in dups] == [
        (6, "P02", "0"),
        (7, "P02", "0"),
        (23, "P06", "4.0"),  # "4.0" and "4" are the same timepoint
        (24, "P06", "4"),
    ]
    assert dups[1].allowed == "one row per (patient_id, after_session): 2 rows have this pair, the first on line 6"


def test_duplicate_session_and_patient(sink) -> None:
    assert [p.line for p in sink[("sessions.csv", "session")]] == [2, 3]
    dup_ids = [p for p in sink[("patients.csv", "patient_id")] if "once" in p.allowed]
    assert [(p.line, p.patient_id) for p in dup_ids] == [(13, "P12"), (14, "P12")]


def test_blank_required_cells(sink) -> None:
    (blank_after,) = [p for p in sink[("mbi_gs.csv", "after_session")] if p.line == 32]
    assert blank_after.value == "" and "required" in blank_after.allowed
    (blank_id,) = sink[("mbi_gs.csv", "patient_id")]
    assert (blank_id.line, blank_id.patient_id, blank_id.value) == (42, None, " ")
    assert [p.line for p in sink[("patients.csv", "patient_id")] if "blank" in p.allowed] == [15]


def test_unknown_patient_in_sessions(sink) -> None:
    (p,) = sink[("sessions.csv", "patient_id")]
    assert (p.line, p.patient_id, p.value) == (32, "P99", "P99")
    assert p.allowed == "a patient_id listed in patients.csv; this id is not there"


def test_phq9_item_range(sink) -> None:
    (p,) = sink[("phq9.csv", "item_9")]
    assert (p.line, p.value, p.allowed) == (5, "4", "an integer 0-3 (blank = not answered)")


def test_problems_sorted_by_file_line_column(sink) -> None:
    probs = sink[("all", None)]
    assert len(probs) == 17  # 7 in mbi_gs, 6 in patients, 3 in sessions, 1 in phq9
    keys = [(p.file, p.line or 0, p.column or "") for p in probs]
    assert keys == sorted(keys)


# --------------------------------------------------------------------------- files and columns


def test_missing_required_column(tmp_path: Path) -> None:
    rows = [{k: v for k, v in r.items() if k != "session"} for r in sessions_rows()]
    (p,) = problems_of(write_cohort(tmp_path, sessions=rows))
    assert (p.file, p.line, p.column) == ("sessions.csv", None, "session")
    assert "required column 'session'" in p.allowed


def test_mbi_needs_items_or_subscales(tmp_path: Path) -> None:
    rows = [{k: v for k, v in r.items() if k != "item_16"} for r in mbi_rows()]
    (p,) = problems_of(write_cohort(tmp_path, mbi_gs=rows))
    assert p.line is None and "item_16" in p.allowed


def test_empty_file(tmp_path: Path) -> None:
    (p,) = problems_of(write_cohort(tmp_path, sessions=b""))
    assert (p.file, p.line) == ("sessions.csv", None)
    assert p.allowed.startswith("file is empty")


def test_header_only_patients_is_a_problem_sessions_is_not(tmp_path: Path) -> None:
    probs = problems_of(write_cohort(tmp_path, patients="patient_id,age\n", mbi_gs=mbi_rows(ids=[]) or "patient_id,after_session,exhaustion,cynicism,professional_efficacy\n", sessions="patient_id,session\n"))
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


# --------------------------------------------------------------------------- accepted input


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


@pytest.fixture(scope="module")
def valid(tmp_path_factory) -> Cohort:
    return load_cohort(write_cohort(tmp_path_factory.mktemp("valid")))


def test_typed_tables_against_architecture(valid: Cohort) -> None:
    c = valid
    schema = {name: {k: str(v) for k, v in getattr(c, name).schema().items()} for name in ("patients", "mbi_gs", "sessions")}
    assert schema["patients"] == {
        "patient_id": "string", "age": "int64", "sex": "string", "route": "string", "pathway": "string",
    }
    assert list(schema["mbi_gs"]) == [
        "patient_id", "after_session", *[f"item_{i}" for i in range(1, 17)], "exhaustion", "cynicism", "professional_efficacy",
    ]
    assert set(schema["mbi_gs"].values()) == {"string", "int64"}
    assert schema["sessions"] == {
        "patient_id": "string", "session": "int64", "dose_mg": "float64", "monitor_present": "boolean",
        "side_effects": "boolean", "serious_adverse_event": "boolean",
    }
    assert c.phq9 is None and c.mbi_has_items and not c.mbi_has_subscales
    assert c.rows == {"patients": 12, "mbi_gs": 48, "sessions": 72}
    assert [(k, str(v)) for k, v in c.file_columns["sessions"].schema().items()] == [
        ("_line", "int64"), ("patient_id", "string"), ("session", "int64"), ("held_on", "date"), ("dose_mg", "float64"),
        ("monitor_present", "boolean"), ("side_effects", "boolean"), ("serious_adverse_event", "boolean"),
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
    assert [None if pd.isna(v) else bool(v) for v in ses["side_effects"]] == [truth.get(x.lower()) for x in src["side_effects"]]
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
        "int64", "int64", "int64", "double", "int64"
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
        ("age", "17"), ("age", "121"), ("item_7", "9"), ("item_2", "-1"), ("cynicism", "7"),
        ("monitor_present", "2"), ("dose_mg", "-2.5"), ("dose_mg", "nan"), ("session", "0"),
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


@settings(max_examples=30, deadline=None)
@given(st.lists(st.decimals(min_value=0, max_value=6, places=5, allow_nan=False), min_size=1, max_size=50))
def test_subscale_units_against_fraction_property(values) -> None:
    """Any decimal 0-6 with up to 5 places becomes exactly value * SCALE units (tolerance 0)."""
    texts = [str(v) for v in values]
    t = ibis.memtable({"x": texts}, schema={"x": "string"})
    parsed = _units(t.x, 6)
    got = t.select(u=parsed.value, b=parsed.bad).to_pyarrow().to_pylist()
    assert [r["u"] for r in got] == [Fraction(x) * SCALE for x in texts]
    assert not any(r["b"] for r in got)


DATE_CASES = [
    "2024-02-29", "2023-02-29", "2000-02-29", "1900-02-29", "2024-04-31", "2024-04-30", "2024-13-01",
    "2024-00-10", "2024-01-00", "2024-01-32", "0000-01-01", "0001-01-01", "2024-1-01", "24-01-01",
    "2024/01/01", "2024-01-01T00:00", " 2024-01-01", "9999-12-31",
]


def _python_date(text: str) -> datetime.date | None:
    if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text.strip()):
        return None
    try:
        return datetime.date.fromisoformat(text.strip())
    except ValueError:
        return None


@pytest.mark.parametrize("try_cast", [True, False])
def test_date_parser_against_python_datetime(try_cast: bool) -> None:
    """Both paths (engine cast on DuckDB/Spark, arithmetic on PostgreSQL) agree with datetime."""
    t = ibis.memtable({"x": DATE_CASES}, schema={"x": "string"})
    parsed = _date(t.x.strip(), try_cast=try_cast)
    got = t.select(v=parsed.value, b=parsed.bad).to_pyarrow().to_pylist()
    want = [_python_date(x) for x in DATE_CASES]
    assert [r["v"] for r in got] == want
    assert [r["b"] for r in got] == [w is None for w in want]


INT_CASES = [
    "0", "6", "7", "-1", "+3", "03", "3.0", "3.00", "3.5", "4,5", "1e0", "0x3", " 4 ", "\t5", "2\n", "4 4", "", " ",
    "99999999999999999999",
]


@pytest.mark.parametrize("try_cast", [True, False])
def test_int_parser_against_python(try_cast: bool) -> None:
    def python(text: str) -> int | None:
        m = re.fullmatch(r"[+-]?([0-9]{1,15})(\.0*)?", text.strip())
        return int(text.strip().split(".")[0]) if m and 0 <= int(text.strip().split(".")[0]) <= 6 else None

    t = ibis.memtable({"x": INT_CASES}, schema={"x": "string"})
    parsed = _int(_trim(t.x), t.x, 0, 6, try_cast=try_cast)
    got = t.select(v=parsed.value, b=parsed.bad).to_pyarrow().to_pylist()
    assert [r["v"] for r in got] == [python(x) for x in INT_CASES]
    assert [r["b"] for r in got] == [x.strip() != "" and python(x) is None for x in INT_CASES]


def test_subscale_out_of_range(tmp_path: Path) -> None:
    rows = mbi_rows(items=False, subscales=True)
    rows[2]["cynicism"] = "6.01"
    rows[3]["exhaustion"] = "4,2"
    probs = problems_of(write_cohort(tmp_path, mbi_gs=rows))
    assert [(p.line, p.column, p.value) for p in probs] == [(4, "cynicism", "6.01"), (5, "exhaustion", "4,2")]


def test_items_and_subscales_disagreeing(tmp_path: Path) -> None:
    rows = mbi_rows(subscales=True)
    r = rows[6]
    items = [int(r[f"item_{i}"]) for i in SUBSCALE_ITEMS["cynicism"]]
    mean = Fraction(sum(items), len(items))
    r["cynicism"] = str(float(mean + Fraction(2, 100)))  # 0.02 off
    rows[7]["exhaustion"] = ""  # blank subscale: nothing to compare
    (p,) = problems_of(write_cohort(tmp_path, mbi_gs=rows))
    assert (p.line, p.column, p.value) == (8, "cynicism", r["cynicism"])
    assert f"which is {float(mean):.4f}".rstrip("0").rstrip(".") in p.allowed


def test_agreement_skipped_when_item_score_missing(tmp_path: Path) -> None:
    rows = mbi_rows(subscales=True)
    for i in SUBSCALE_ITEMS["exhaustion"][:2]:
        rows[0][f"item_{i}"] = ""  # two blank items: no item score with max_missing_items=1
    rows[0]["exhaustion"] = "0.5"
    raw = read_cohort(write_cohort(tmp_path, mbi_gs=rows))
    validate_cohort(raw)  # no error
    with pytest.raises(DataError) as info:
        validate_cohort(raw, max_missing_items=2)
    (p,) = info.value.problems
    assert (p.line, p.column) == (2, "exhaustion")


# --------------------------------------------------------------------------- warnings


def test_dates_out_of_order_warning(tmp_path: Path) -> None:
    rows = mbi_rows()
    rows[5]["completed_on"] = "2023-12-01"  # P02, after_session 2 before baseline
    s_rows = sessions_rows()
    s_rows[8]["held_on"] = "2023-01-01"
    c = load_cohort(write_cohort(tmp_path, mbi_gs=rows, sessions=s_rows))
    (w1,) = [w for w in c.warnings if w.startswith("mbi_gs.csv")]
    assert w1 == (
        "mbi_gs.csv: completed_on goes back in time as after_session increases for 1 patient "
        "(1 row dated before an earlier assessment; the first on line 7); check the dates"
    )
    (w2,) = [w for w in c.warnings if w.startswith("sessions.csv")]
    assert "held_on goes back in time" in w2 and "line 10" in w2


def _python_date_order(rows: list[dict]) -> tuple[int, int, int | None]:
    """Rows dated before the latest earlier date of the same patient (by session, then line)."""
    flagged: list[tuple[str, int]] = []
    by_patient: dict[str, list[tuple[int, int, str]]] = {}
    for line, r in enumerate(rows, start=2):
        by_patient.setdefault(r["patient_id"], []).append((int(r["session"]), line, r["held_on"]))
    for pid, seq in by_patient.items():
        latest = ""
        for _session, line, day in sorted(seq):
            if day and latest and day < latest:
                flagged.append((pid, line))
            latest = max(latest, day or "")
    return len(flagged), len({p for p, _ in flagged}), min((line for _, line in flagged), default=None)


@settings(max_examples=25, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 3), st.integers(1, 4), st.one_of(st.just(""), st.integers(1, 28))),
        min_size=1,
        max_size=30,
    )
)
@example([(0, 1, 10), (0, 2, ""), (0, 3, 5)])  # a blank date between two out of order
@example([(1, 2, 3), (1, 1, 9), (1, 1, 4)])  # repeated session, dates by line
def test_date_order_warning_against_python(tmp_path_factory, cells) -> None:
    """The cheap screen plus the exact count give the count a per-patient scan gives,
    with blank dates, repeated sessions and rows in any order (tolerance 0)."""
    folder = tmp_path_factory.mktemp("order")
    ids = [f"P{i:02d}" for i in range(4)]
    rows = [
        {"patient_id": ids[p], "session": str(k), "held_on": "" if day == "" else f"2024-01-{day:02d}"}
        for p, k, day in cells
    ]
    write_cohort(folder, patients=patients_rows(4), mbi_gs=mbi_rows(ids), sessions=rows)
    try:
        warnings = load_cohort(folder).warnings
    except DataError as e:  # repeated sessions are errors; the warnings travel with them
        warnings = e.warnings
    got = [w for w in warnings if w.startswith("sessions.csv: held_on")]
    n_rows, n_patients, first = _python_date_order(rows)
    if n_rows == 0:
        assert got == []
    else:
        (w,) = got
        assert f"for {n_patients} patient" in w and f"({n_rows} row" in w and f"the first on line {first})" in w


def test_unscheduled_timepoint_and_extra_session_warnings(tmp_path: Path) -> None:
    rows = mbi_rows()
    rows[1]["after_session"] = "1"
    rows[5]["after_session"] = "3"
    rows[9]["after_session"] = "3"
    raw = read_cohort(write_cohort(tmp_path, mbi_gs=rows, sessions=sessions_rows(n_sessions=8)))
    c = validate_cohort(raw)
    assert c.warnings == (
        "mbi_gs.csv: 3 rows at after_session 1, 3, not in the schedule (0, 2, 4, 6); they are not analysed",
        "sessions.csv: 24 rows for 12 patients have session > 6 (beyond the 6 scheduled sessions)",
    )
    assert c.rows["mbi_gs"] == 48  # kept in the table; the cohort stage uses the schedule
    c2 = validate_cohort(raw, scheduled_assessments=(0, 1, 2, 3, 4, 6), scheduled_sessions=8)
    assert c2.warnings == ()


def test_warnings_travel_with_the_error(tmp_path: Path) -> None:
    rows = [dict(r, extra="x") for r in patients_rows()]
    rows[0]["age"] = "200"
    with pytest.raises(DataError) as info:
        load_cohort(write_cohort(tmp_path, patients=rows))
    assert any("'extra'" in w for w in info.value.warnings)


# --------------------------------------------------------------------------- scale


def test_problem_cap_per_rule_with_summary(tmp_path: Path) -> None:
    rows = mbi_rows(ids=[r["patient_id"] for r in patients_rows(n=60)], timepoints=[0, 2, 4, 6])
    for r in rows[:150]:
        r["item_5"] = "9"
    rows[200]["item_6"] = "x"
    probs = problems_of(write_cohort(tmp_path, patients=patients_rows(n=60), mbi_gs=rows,
                                     sessions=sessions_rows(ids=[r["patient_id"] for r in patients_rows(n=60)])))
    item5 = [p for p in probs if p.column == "item_5"]
    assert len(item5) == 101
    assert [p.line for p in item5[:100]] == list(range(2, 102))
    assert item5[-1].line is None and item5[-1].allowed.startswith("... and 50 more lines like this (150 in all")
    assert probs[-1] is item5[-1]  # summaries come after the file's located problems
    assert [p for p in probs if p.column == "item_6"][0].line == 202


# --------------------------------------------------------------------------- other engines


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
