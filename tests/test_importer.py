"""`burnout import`: a validated folder into PostgreSQL, read back as the same cohort."""

from __future__ import annotations

import gc
import os
import re
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from burnout.cli import app
from burnout.errors import BurnoutError, DataError
from burnout.importer import ImportSummary, import_cohort
from burnout.ingest import load_cohort
from cohortfactory import mbi_rows, patient_ids, phq9_rows, write_cohort

KEYS = {
    "patients": ["patient_id"],
    "mbi_gs": ["patient_id", "after_session"],
    "sessions": ["patient_id", "session"],
    "phq9": ["patient_id", "after_session"],
}


def frame(t, name: str) -> pd.DataFrame:
    return t.to_pyarrow().to_pandas().sort_values(KEYS[name]).reset_index(drop=True)


def tables_in(url: str) -> dict[str, dict[str, str]]:
    """Table -> column -> PostgreSQL type, for the cohort tables of the database."""
    import psycopg

    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT table_name, column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position"
        ).fetchall()
    out: dict[str, dict[str, str]] = {}
    for table, column, typ in rows:
        out.setdefault(table, {})[column] = typ
    return out


@pytest.mark.postgres
def test_import_then_load_against_folder(tmp_path: Path, postgres_db: str) -> None:
    """The database holds the cohort the folder holds: typed tables equal, typed columns."""
    folder = write_cohort(tmp_path / "c", mbi_gs=mbi_rows(subscales=True), phq9=phq9_rows(), newline="\r\n", bom=True)
    # a URL with a password (CI's server trusts local connections, so one is added and
    # ignored there); it must appear nowhere in the summary
    user, password = re.match(r"^[a-z]+://([^:@/]+)(?::([^@]*))?@", postgres_db).groups()
    url = postgres_db if password else postgres_db.replace(f"://{user}@", f"://{user}:s3cret-pw@", 1)
    secret = password or "s3cret-pw"
    summary = import_cohort(folder, url)
    assert isinstance(summary, ImportSummary) and secret not in repr(summary) and ":***@" in summary.url
    assert summary.rows == {"patients": 12, "mbi_gs": 48, "sessions": 72, "phq9": 48}
    assert summary.replaced == ()

    types = tables_in(postgres_db)
    assert types["patients"] == {
        "patient_id": "text",
        "age": "integer",
        "sex": "text",
        "route": "text",
        "pathway": "text",
    }
    assert types["mbi_gs"]["completed_on"] == "date" and types["mbi_gs"]["item_16"] == "smallint"
    assert types["mbi_gs"]["exhaustion"] == "numeric"
    assert types["sessions"]["side_effects"] == "boolean" and types["sessions"]["dose_mg"] == "double precision"

    want, got = load_cohort(folder), load_cohort(postgres_db)
    assert got.rows == want.rows and got.warnings == () == want.warnings
    for name in ("patients", "mbi_gs", "sessions", "phq9"):
        pd.testing.assert_frame_equal(
            frame(getattr(got, name), name), frame(getattr(want, name), name), check_dtype=False
        )
    del got
    gc.collect()


@pytest.mark.postgres
def test_subscale_scores_read_back_to_the_same_units(tmp_path: Path, postgres_db: str) -> None:
    """Decimals with up to 10 places survive NUMERIC: the units (1/600000 point) are identical."""
    rows = mbi_rows(items=False, subscales=True)
    written = ["0", "6", "4.8", "3.45", "3.3333333", "+2.5", ".5", "4.16667", "1.0000000001", "5.99999"]
    for i, value in enumerate(written):
        rows[i]["exhaustion"] = value
        rows[i]["professional_efficacy"] = value
    folder = write_cohort(tmp_path / "c", mbi_gs=rows)
    import_cohort(folder, postgres_db)
    want, got = load_cohort(folder), load_cohort(postgres_db)
    pd.testing.assert_frame_equal(frame(got.mbi_gs, "mbi_gs"), frame(want.mbi_gs, "mbi_gs"), check_dtype=False)
    del got
    gc.collect()


@pytest.mark.postgres
def test_existing_tables_need_replace_and_replace_drops_a_stale_phq9(tmp_path: Path, postgres_db: str) -> None:
    with_phq9 = write_cohort(tmp_path / "a", phq9=phq9_rows())
    import_cohort(with_phq9, postgres_db)
    fewer = patient_ids(6)
    without_phq9 = write_cohort(
        tmp_path / "b",
        patients=[{"patient_id": p} for p in fewer],
        mbi_gs=mbi_rows(fewer),
        sessions=[{"patient_id": p, "session": k} for p in fewer for k in range(1, 7)],
    )
    with pytest.raises(
        BurnoutError, match=r"already has cohort tables patients, mbi_gs, sessions, phq9; pass replace=True"
    ):
        import_cohort(without_phq9, postgres_db)
    assert load_cohort(postgres_db).rows["patients"] == 12  # unchanged

    summary = import_cohort(without_phq9, postgres_db, replace=True)
    assert summary.replaced == ("patients", "mbi_gs", "sessions", "phq9")
    assert set(tables_in(postgres_db)) == {"patients", "mbi_gs", "sessions"}
    assert set(tables_in(postgres_db)["patients"]) == {"patient_id"}
    assert load_cohort(postgres_db).rows == {"patients": 6, "mbi_gs": 24, "sessions": 36}
    gc.collect()


@pytest.mark.postgres
def test_invalid_folder_is_reported_by_line_and_nothing_is_written(tmp_path: Path, postgres_db: str) -> None:
    rows = mbi_rows()
    rows[15]["item_3"] = "7"  # data row 16 = line 17
    folder = write_cohort(tmp_path / "c", mbi_gs=rows)
    with pytest.raises(DataError) as info:
        import_cohort(folder, postgres_db)
    assert [(p.file, p.line, p.column, p.value) for p in info.value.problems] == [("mbi_gs.csv", 17, "item_3", "7")]
    assert tables_in(postgres_db) == {}


@pytest.mark.postgres
def test_cli_import_exit_codes(tmp_path: Path, postgres_db: str) -> None:
    runner = CliRunner()
    folder = write_cohort(tmp_path / "c")
    first = runner.invoke(app, ["import", str(folder), postgres_db])
    assert first.exit_code == 0, first.output
    assert "Imported patients 12 rows" in first.output
    again = runner.invoke(app, ["import", str(folder), postgres_db])
    assert again.exit_code == 2 and "--replace" in again.output and "Traceback" not in again.output
    assert runner.invoke(app, ["import", str(folder), postgres_db, "--replace"]).exit_code == 0


def test_url_must_be_postgresql(valid_cohort_dir: Path) -> None:
    with pytest.raises(BurnoutError, match=r"must start with postgresql://, got 'mysql://db/x'"):
        import_cohort(valid_cohort_dir, "mysql://db/x")
    # a store's file name alone: the message names the store's URL form too (it named PostgreSQL only)
    with pytest.raises(
        BurnoutError, match=r"got 'cohort\.duckdb'.*or duckdb:///path/cohort\.duckdb for a validated store"
    ):
        import_cohort(valid_cohort_dir, "cohort.duckdb")


def test_a_store_path_without_a_folder_to_write_in_is_said_before_validating(
    valid_cohort_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # these ended in DuckDB's IOException and a traceback, after the whole folder was validated
    import burnout.importer as importer

    def refuse(*_a, **_k):
        raise AssertionError("the folder was validated before the store's path was checked")

    monkeypatch.setattr(importer, "_validated", refuse)
    with pytest.raises(BurnoutError, match=r"there is no folder .*/missing for the store .*/missing/c\.duckdb"):
        import_cohort(valid_cohort_dir, f"duckdb://{tmp_path / 'missing' / 'c.duckdb'}")
    with pytest.raises(
        BurnoutError, match=r"is a folder: give the store a file name in it, e\.g\. duckdb:///.*/cohort\.duckdb"
    ):
        import_cohort(valid_cohort_dir, f"duckdb://{tmp_path}")
    assert not list(tmp_path.rglob("*.duckdb*"))


def test_a_read_only_folder_for_the_store_is_said(valid_cohort_dir: Path, tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    if os.access(locked, os.W_OK):  # root writes anywhere: nothing to refuse
        pytest.skip("this user may write in a read-only folder (root)")
    with pytest.raises(BurnoutError, match=r"is not writable"):
        import_cohort(valid_cohort_dir, f"duckdb://{locked / 'c.duckdb'}")


def test_unreachable_server_is_named_without_its_password(valid_cohort_dir: Path) -> None:
    with pytest.raises(BurnoutError) as info:
        import_cohort(valid_cohort_dir, "postgresql://me:secret@127.0.0.1:1/clinic")
    assert "cannot connect to postgresql://me:***@127.0.0.1:1/clinic" in str(info.value)
    assert "secret" not in str(info.value)
