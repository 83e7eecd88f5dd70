"""Engines and tools some tests need (PostgreSQL, Spark, chromium): skip or fail when absent."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest


def unavailable(reason: str) -> None:
    """Skip the test, unless BURNOUT_CI is set: CI provides every service, so there it fails."""
    if os.environ.get("BURNOUT_CI"):
        pytest.fail(f"BURNOUT_CI is set but {reason}")
    pytest.skip(reason)


@contextmanager
def fresh_database(server_url: str, *, prefix: str = "burnout_test") -> Iterator[str]:
    """URL of a new, empty database on the server, dropped (with its connections) afterwards."""
    import gc

    import psycopg

    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{server_url.rpartition('/')[0]}/{name}"
    finally:
        gc.collect()  # close Ibis connections before dropping the database
        with psycopg.connect(server_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
