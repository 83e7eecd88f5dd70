"""Shared fixtures. Cohort folders are written by tests/cohortfactory.py."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from cohortfactory import write_cohort
from services import fresh_database, unavailable


@pytest.fixture
def valid_cohort_dir(tmp_path: Path) -> Path:
    """A small valid cohort folder (CSV; 12 patients, 48 MBI-GS rows, 72 sessions, no PHQ-9)."""
    return write_cohort(tmp_path / "cohort")


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """A PostgreSQL server to test against (BURNOUT_TEST_POSTGRES_URL).

    Skipped when unset, unless BURNOUT_CI is set: CI starts a server, so there a
    missing URL is a failure, not a skip.
    """
    url = os.environ.get("BURNOUT_TEST_POSTGRES_URL")
    if not url:
        unavailable("BURNOUT_TEST_POSTGRES_URL is not set (e.g. postgresql://postgres@127.0.0.1:55432/postgres)")
    return url


@pytest.fixture
def postgres_db(postgres_url: str) -> Iterator[str]:
    """URL of a fresh, empty database on the test server, dropped afterwards."""
    with fresh_database(postgres_url) as url:
        yield url


# The default synthetic cohort, drawn once for the simulate tests (tests/simulate/): a
# fixture here, not in tests/simulate/conftest.py, because the doctest collection imports
# every conftest.py under the one name ``conftest``.
@pytest.fixture(scope="session")
def default_cohort():
    from burnout.simulate import simulate_cohort

    return simulate_cohort()


@pytest.fixture(scope="session")
def default_dir(default_cohort, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The default synthetic cohort written as CSV files."""
    from burnout.simulate import write_cohort

    folder = tmp_path_factory.mktemp("default") / "cohort"
    write_cohort(default_cohort, folder)
    return folder
