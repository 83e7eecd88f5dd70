"""The header check every reader shares (ingest/loaded.py): unknown columns warned about and left
out, misspelt documented ones named with the fix.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from ingestcase import problems_of

from burnout.ingest import RawCohort, read_cohort
from cohortfactory import mbi_rows, patients_rows, to_csv_bytes, write_cohort


def problems_for(raw: RawCohort, file: str) -> list:
    return [p for p in raw.problems if p.file == file]


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


@pytest.mark.parametrize("style", ["Q{}", "ITEM{}", "item{}", "Item {}"])
def test_numbered_item_columns_get_the_rename(tmp_path: Path, style: str) -> None:
    rows = [{(style.format(k[5:]) if k.startswith("item_") else k): v for k, v in r.items()} for r in mbi_rows()]
    problems = [p for p in problems_of(write_cohort(tmp_path, mbi_gs=rows)) if p.file == "mbi_gs.csv"]
    renames = [p for p in problems if "rename" in p.allowed]
    assert len(renames) == 16
    first = style.format(1)
    assert any(p.column == first and f"rename {first!r} to 'item_1'" in p.allowed for p in renames)
