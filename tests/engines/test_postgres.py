"""One connection path for every command, and database URLs printed without passwords.

`burnout validate`, `burnout analyze` and `burnout import` reach PostgreSQL through the
same function; wherever a URL is printed, stored or raised, its password is hidden by
parsing the URL (``burnout.errors.redact_url``), in every form a user may write it.
"""

from __future__ import annotations

import gc
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from burnout.cli import app
from burnout.errors import BurnoutError, redact_url
from burnout.importer import import_cohort
from burnout.ingest import load_cohort
from burnout.summary import validate_and_summarize
from cohortfactory import write_cohort

SECRET = "s3cret"

# (URL as a user may write it, what may be printed)
URL_FORMS = [
    ("postgresql://me:s3cret@db.example:5432/clinic", "postgresql://me:***@db.example:5432/clinic"),
    ("postgres://me:s3cret@db.example/clinic", "postgres://me:***@db.example/clinic"),
    ("postgresql://:s3cret@db.example/clinic", "postgresql://:***@db.example/clinic"),
    ("postgresql://me:s3c@ret@db.example/clinic", "postgresql://me:***@db.example/clinic"),
    ("postgresql://me:s3c/ret@db.example/clinic", "postgresql://me:***@db.example/clinic"),
    ("postgresql://me:s3c%40ret@db.example/clinic", "postgresql://me:***@db.example/clinic"),
    ("postgresql://me@db.example/clinic?password=s3cret", "postgresql://me@db.example/clinic?password=***"),
    (
        "postgresql://me@db.example/clinic?sslmode=require&PASSWORD=s3cret&application_name=x",
        "postgresql://me@db.example/clinic?sslmode=require&PASSWORD=***&application_name=x",
    ),
    ("postgresql://me@db.example/clinic?pass%77ord=s3cret", "postgresql://me@db.example/clinic?pass%77ord=***"),
    ("postgresql://me@db.example/clinic?sslpassword=s3cret", "postgresql://me@db.example/clinic?sslpassword=***"),
    ("postgresql://me:s3cret@[::1]:5432/clinic#x", "postgresql://me:***@[::1]:5432/clinic#x"),
    ("postgresql://me:s3cret@/clinic?host=/var/run/postgresql", "postgresql://me:***@/clinic?host=/var/run/postgresql"),
]
# unreachable variants of the same forms: port 1 on loopback refuses at once
UNREACHABLE = [
    "postgresql://me:s3cret@127.0.0.1:1/clinic",
    "postgres://me:s3cret@127.0.0.1:1/clinic",
    "postgresql://:s3cret@127.0.0.1:1/clinic",
    "postgresql://me:s3c@ret@127.0.0.1:1/clinic",
    "postgresql://me@127.0.0.1:1/clinic?password=s3cret",
]


def leaks(text: str) -> bool:
    """Any part of the secret longer than two characters appears in ``text``."""
    return any(part in text for part in ("s3cret", "s3c", "ret@", "ret?", "s3c%40ret"))


@pytest.mark.parametrize(("url", "shown"), URL_FORMS)
def test_redact_url_hides_the_password_in_every_form(url: str, shown: str) -> None:
    assert redact_url(url) == shown
    assert not leaks(redact_url(url))


@pytest.mark.parametrize("text", ["postgresql://me@db.example:5432/clinic", "postgresql://db/clinic", "cohort/2024", ""])
def test_redact_url_leaves_urls_without_a_password_and_paths_alone(text: str) -> None:
    assert redact_url(text) == text


@pytest.mark.parametrize(
    ("url", "echoed"),
    [
        ("postgresql://me:s3c%2Fret@h/db", "s3c%2Fret"),
        ("postgresql://me:s3c%2Fret@h/db", "s3c/ret"),
        ("postgresql://me@h/db?password=s3c%2Fret", "s3c%2Fret"),  # as written in the query
        ("postgresql://me@h/db?password=s3c%2Fret", "s3c/ret"),
        ("postgresql://me@h/db?sslpassword=s3c+ret", "s3c ret"),  # + decoded as a space, as in a query
    ],
)
def test_connect_error_hides_a_password_the_driver_echoes(url: str, echoed: str) -> None:
    """A driver's message may repeat the password as written in the URL or decoded: neither is shown."""
    from burnout.errors import connect_error

    message = str(connect_error(url, Exception(f"authentication failed for password {echoed!r}")))
    assert echoed not in message and "***" in message, message


@pytest.mark.parametrize("url", UNREACHABLE)
@pytest.mark.parametrize("command", ["validate", "analyze"])
def test_cli_unreachable_database_is_a_clean_error_without_the_password(command: str, url: str, tmp_path: Path) -> None:
    """validate connected without analyze's error handling: a raw traceback with the URL in it."""
    args = [command, url] + (["--out", str(tmp_path / "out")] if command == "analyze" else [])
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and isinstance(result.exception, SystemExit)
    assert "cannot connect to postgresql://" in result.output or "cannot connect to postgres://" in result.output
    assert not leaks(result.output), result.output
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("url", UNREACHABLE)
def test_import_unreachable_database_is_named_without_the_password(valid_cohort_dir: Path, url: str) -> None:
    with pytest.raises(BurnoutError) as info:
        import_cohort(valid_cohort_dir, url)
    assert "cannot connect to" in str(info.value) and not leaks(str(info.value))


def test_a_url_that_is_not_postgresql_is_refused_by_validate(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["validate", "mysql://me:s3cret@127.0.0.1:1/clinic"])
    assert result.exit_code == 2 and "postgresql://" in result.output and "Traceback" not in result.output
    assert not leaks(result.output)


# --------------------------------------------------------------------------- with a server


def with_password(url: str, *, query: bool) -> str:
    """``url`` with a password (the test server trusts loopback, so it is ignored there)."""
    return f"{url}?password={SECRET}" if query else url.replace("://postgres@", f"://postgres:{SECRET}@", 1)


@pytest.mark.postgres
def test_cli_validate_reads_an_imported_database(tmp_path: Path, postgres_db: str) -> None:
    """validate connected without analyze's fixes: 'cannot cast type boolean to bigint'."""
    import_cohort(write_cohort(tmp_path / "c"), postgres_db)
    url = with_password(postgres_db, query=True)
    result = CliRunner().invoke(app, ["validate", url])
    assert result.exit_code == 0, result.output
    assert "Valid cohort" in result.output and SECRET not in result.output
    summary = validate_and_summarize(url)
    assert summary.patients == 12 and summary.source.endswith("?password=***")
    short_scheme = with_password(postgres_db, query=False).replace("postgresql://", "postgres://", 1)
    assert validate_and_summarize(short_scheme).source.startswith("postgres://postgres:***@")
    gc.collect()


@pytest.mark.postgres
def test_cli_validate_with_an_unknown_role_is_a_clean_error(postgres_db: str) -> None:
    url = postgres_db.replace("://postgres@", f"://nobody_{uuid.uuid4().hex[:8]}:{SECRET}@", 1)
    result = CliRunner().invoke(app, ["validate", url])
    assert result.exit_code == 2, result.output
    assert "cannot connect to" in result.output and "Traceback" not in result.output and SECRET not in result.output


@pytest.mark.postgres
@pytest.mark.parametrize("query", [False, True])
def test_missing_table_names_the_database_without_the_password(postgres_db: str, query: bool) -> None:
    from burnout.errors import DataError

    url = with_password(postgres_db, query=query)
    with pytest.raises(DataError) as info:
        load_cohort(url)
    assert "a required table 'patients' in the database postgresql://postgres" in str(info.value)
    assert SECRET not in str(info.value)
    gc.collect()


@pytest.mark.postgres
@pytest.mark.parametrize("query", [False, True])
def test_cli_import_success_line_hides_the_password(tmp_path: Path, postgres_db: str, query: bool) -> None:
    url = with_password(postgres_db, query=query)
    result = CliRunner().invoke(app, ["import", str(write_cohort(tmp_path / "c")), url])
    assert result.exit_code == 0, result.output
    assert "Imported patients 12 rows" in result.output and SECRET not in result.output
    assert "***" in result.output


@pytest.fixture
def reader_without_privileges(postgres_db: str) -> Iterator[str]:
    """URL of the test database as a new login role that was granted nothing."""
    import psycopg

    role = f"burnout_noaccess_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(postgres_db, autocommit=True) as admin:
        admin.execute(f'CREATE ROLE "{role}" LOGIN')
    try:
        yield postgres_db.replace("://postgres@", f"://{role}@", 1)
    finally:
        gc.collect()  # close the role's connections before dropping it
        with psycopg.connect(postgres_db, autocommit=True) as admin:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s", (role,)
            )
            admin.execute(f'DROP OWNED BY "{role}"')
            admin.execute(f'DROP ROLE "{role}"')


@pytest.mark.postgres
def test_a_role_without_privileges_is_told_so_not_that_tables_are_missing(
    tmp_path: Path, postgres_db: str, reader_without_privileges: str
) -> None:
    import_cohort(write_cohort(tmp_path / "c"), postgres_db)
    with pytest.raises(BurnoutError) as info:
        load_cohort(reader_without_privileges)
    message = str(info.value)
    assert "may not read the cohort tables patients, mbi_gs, sessions" in message
    assert 'GRANT SELECT ON "public"."patients"' in message and "required table" not in message
    for command in (["validate"], ["analyze", "--out", str(tmp_path / "out")]):
        result = CliRunner().invoke(app, [command[0], reader_without_privileges, *command[1:]])
        assert result.exit_code == 2 and "GRANT SELECT" in result.output and "Traceback" not in result.output


@pytest.mark.postgres
def test_existing_tables_cli_says_replace_option_library_says_keyword(tmp_path: Path, postgres_db: str) -> None:
    folder = write_cohort(tmp_path / "c")
    import_cohort(folder, postgres_db)
    with pytest.raises(BurnoutError, match=r"pass replace=True to replace them") as info:
        import_cohort(folder, postgres_db)
    assert "--replace" not in str(info.value)
    again = CliRunner().invoke(app, ["import", str(folder), postgres_db])
    assert again.exit_code == 2 and "with --replace" in again.output and "replace=True" not in again.output


def test_an_upper_case_scheme_is_read_as_the_database_it_connects_to() -> None:
    """connect_source takes POSTGRESQL:// as PostgreSQL; the loader must not then read it as a folder."""
    with pytest.raises(BurnoutError, match="cannot connect to POSTGRESQL://"):
        load_cohort("POSTGRESQL://me:s3cret@127.0.0.1:1/clinic")
