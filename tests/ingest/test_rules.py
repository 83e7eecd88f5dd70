"""Validate stage, each table's rules (ingest/rules.py, columns.py): cells, ids, duplicates, required
columns, item/subscale agreement.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest
from ingestcase import frame, problems_of

from burnout.errors import DataError, Problem
from burnout.ingest import load_cohort, read_cohort, validate_cohort
from burnout.instrument import SUBSCALE_ITEMS
from cohortfactory import mbi_rows, patients_rows, phq9_rows, sessions_rows, write_cohort


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


def test_integer_spellings_accepted_against_int(tmp_path: Path) -> None:
    rows = mbi_rows()
    for r, text in zip(rows, [" 3", "3.0", "+3", "03", "3.00 "], strict=False):
        r["item_1"] = text
    cohort = load_cohort(write_cohort(tmp_path, mbi_gs=rows))
    got = frame(cohort.mbi_gs)["item_1"].tolist()[:5]
    assert got == [3, 3, 3, 3, 3]


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


def test_missing_required_column(tmp_path: Path) -> None:
    rows = [{k: v for k, v in r.items() if k != "session"} for r in sessions_rows()]
    (p,) = problems_of(write_cohort(tmp_path, sessions=rows))
    assert (p.file, p.line, p.column) == ("sessions.csv", None, "session")
    assert "required column 'session'" in p.allowed


def test_mbi_needs_items_or_subscales(tmp_path: Path) -> None:
    rows = [{k: v for k, v in r.items() if k != "item_16"} for r in mbi_rows()]
    (p,) = problems_of(write_cohort(tmp_path, mbi_gs=rows))
    assert p.line is None and "item_16" in p.allowed


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


def test_problems_sorted_by_file_line_column(sink) -> None:
    probs = sink[("all", None)]
    assert len(probs) == 17  # 7 in mbi_gs, 6 in patients, 3 in sessions, 1 in phq9
    keys = [(p.file, p.line or 0, p.column or "") for p in probs]
    assert keys == sorted(keys)
