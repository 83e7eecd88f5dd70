"""Shared fixtures. Cohort folders are written by tests/cohortfactory.py."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from cohortfactory import write_cohort


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
        reason = "BURNOUT_TEST_POSTGRES_URL is not set (e.g. postgresql://postgres@127.0.0.1:55432/postgres)"
        if os.environ.get("BURNOUT_CI"):
            pytest.fail(f"BURNOUT_CI is set but {reason}")
        pytest.skip(reason)
    return url


@pytest.fixture
def postgres_db(postgres_url: str) -> Iterator[str]:
    """URL of a fresh, empty database on the test server, dropped afterwards."""
    import psycopg

    name = f"burnout_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    base, _, _ = postgres_url.rpartition("/")
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(postgres_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
