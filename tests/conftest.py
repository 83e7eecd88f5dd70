"""Shared fixtures. Cohort folders are written by tests/cohortfactory.py."""

from __future__ import annotations

from pathlib import Path

import pytest
from cohortfactory import write_cohort


@pytest.fixture
def valid_cohort_dir(tmp_path: Path) -> Path:
    """A small valid cohort folder (CSV; 12 patients, 48 MBI-GS rows, 72 sessions, no PHQ-9)."""
    return write_cohort(tmp_path / "cohort")
