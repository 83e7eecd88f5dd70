"""Validate stage, counting rules and warnings (ingest/checks.py): the cap per rule with its summary,
warnings with their counts and first lines.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from ingestcase import problems_of

from burnout.errors import DataError
from burnout.ingest import load_cohort, read_cohort, validate_cohort
from cohortfactory import (
    mbi_rows,
    patients_rows,
    sessions_rows,
    write_cohort,
)


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


def test_problem_cap_per_rule_with_summary(tmp_path: Path) -> None:
    rows = mbi_rows(ids=[r["patient_id"] for r in patients_rows(n=60)], timepoints=[0, 2, 4, 6])
    for r in rows[:150]:
        r["item_5"] = "9"
    rows[200]["item_6"] = "x"
    probs = problems_of(
        write_cohort(
            tmp_path,
            patients=patients_rows(n=60),
            mbi_gs=rows,
            sessions=sessions_rows(ids=[r["patient_id"] for r in patients_rows(n=60)]),
        )
    )
    item5 = [p for p in probs if p.column == "item_5"]
    assert len(item5) == 101
    assert [p.line for p in item5[:100]] == list(range(2, 102))
    assert item5[-1].line is None and item5[-1].allowed.startswith("... and 50 more lines like this (150 in all")
    assert probs[-1] is item5[-1]  # summaries come after the file's located problems
    assert [p for p in probs if p.column == "item_6"][0].line == 202


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


def test_assessments_after_sessions_never_recorded_warn(tmp_path: Path) -> None:
    folder = write_cohort(tmp_path, sessions="patient_id,session,held_on\n")
    cohort = load_cohort(folder)
    (w,) = [w for w in cohort.warnings if "sessions.csv" in w and "mbi_gs.csv" in w]
    assert "12 patients" in w and "no session" in w


def test_warnings_travel_with_the_error(tmp_path: Path) -> None:
    rows = [dict(r, extra="x") for r in patients_rows()]
    rows[0]["age"] = "200"
    with pytest.raises(DataError) as info:
        load_cohort(write_cohort(tmp_path, patients=rows))
    assert any("'extra'" in w for w in info.value.warnings)
