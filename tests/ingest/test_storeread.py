"""Reading a store back: each way a store can cost more than a matching one, and its note.

tests/ingest/test_store.py shows that a changed store is validated again; these show what
the user is told, that it is true (the case named, no other), that the suggested import
makes the next analysis note-free, and that notes stay out of the results. Cases found by a
review that tried each change by hand.
"""

from __future__ import annotations

import filecmp
import gc
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from burnout.analysis import analyze
from burnout.cli import app
from burnout.errors import BurnoutError
from burnout.importer import import_cohort
from burnout.ingest import load_cohort
from burnout.plan import load_protocol
from cohortfactory import mbi_rows, phq9_rows, write_cohort


@pytest.fixture
def store(tmp_path: Path) -> tuple[Path, str]:
    """A folder and its store."""
    folder = write_cohort(tmp_path / "c", mbi_gs=mbi_rows(subscales=True), phq9=phq9_rows())
    url = f"duckdb://{tmp_path / 'c.duckdb'}"
    import_cohort(folder, url)
    return folder, url


def _edit(url: str, *statements: str) -> None:
    with duckdb.connect(url[len("duckdb://") :]) as db:
        for statement in statements:
            db.execute(statement)


@pytest.mark.parametrize(
    ("edits", "why"),
    [
        (("UPDATE burnout_store SET format = 2",), "it was imported by an earlier burnout (store format 2)"),
        # a record's options edited by hand are the record's change, not another plan's
        (("UPDATE burnout_store SET options = '{\"scheduled_sessions\": 6}'",), "record is not as `burnout import`"),
        # a record without the DuckDB version it was taken with: not "DuckDB None"
        (
            ("UPDATE burnout_store SET table_sums = json_merge_patch(table_sums, '{\"duckdb\": null}')",),
            "record is not as `burnout import`",
        ),
        (("DROP TABLE phq9",), "tables it recorded are missing: phq9"),  # an optional table: still valid
    ],
    ids=["format-2", "record-options-edited", "record-without-version", "plain-table-dropped"],
)
def test_each_change_is_named_and_a_new_import_ends_it(
    store: tuple[Path, str], edits: tuple[str, ...], why: str
) -> None:
    folder, url = store
    _edit(url, *edits)
    (note,) = load_cohort(url).notes
    assert note.startswith(f"{url}: ") and why in note, note
    assert "None" not in note and "this plan" not in note
    import_cohort(folder, url, replace=True)  # what the note says to do
    assert load_cohort(url).notes == ()


def test_a_store_without_its_record_says_to_import_into_a_new_file(store: tuple[Path, str]) -> None:
    # our typed tables left, the record gone: burnout cannot tell it wrote the file, so
    # `import --replace` refuses it (it never replaces a file it did not write)
    folder, url = store
    _edit(url, "DROP TABLE burnout_store")
    (note,) = load_cohort(url).notes
    assert note.startswith(f"{url}: its burnout_store record is missing, so its tables were validated again")
    assert "import the folder into a new file (`burnout import COHORT_FOLDER duckdb:///path/new.duckdb`)" in note
    with pytest.raises(BurnoutError, match="is not a burnout store"):
        import_cohort(folder, url, replace=True)


def test_another_plan_keeps_the_simulated_label_and_names_the_plan_keys(tmp_path: Path) -> None:
    # validated again only because the plan's options differ: the content is as imported from
    # simulated data, which a database's validation cannot know (the label was lost before)
    from burnout.simulate import simulate_cohort
    from burnout.simulate import write_cohort as write_simulated

    folder = tmp_path / "sim"
    write_simulated(simulate_cohort(patients=60, seed=3), folder, fmt="parquet")
    url = f"duckdb://{tmp_path / 's.duckdb'}"
    import_cohort(folder, url)
    again = load_cohort(url, scheduled_sessions=5, max_missing_items=2)
    assert again.synthetic
    (note,) = again.notes
    assert "([schedule] sessions 6 at the import, 5 now; [scoring] max_missing_items 1 at the import, 2 now)" in note
    del again
    gc.collect()  # the cohort's connection holds the file; release it before writing
    _edit(url, "DELETE FROM sessions WHERE session = 1")  # now the content changed too: no label
    edited = load_cohort(url, scheduled_sessions=5, max_missing_items=2)
    assert not edited.synthetic
    assert "its tables are not as `burnout import` recorded them" in edited.notes[0]


def test_a_noted_store_gives_the_folders_results_and_no_note_reaches_the_output(
    store: tuple[Path, str], tmp_path: Path
) -> None:
    folder, url = store
    _edit(url, """UPDATE burnout_store SET table_sums = json_merge_patch(table_sums, '{"duckdb": "0.0.1"}')""")
    plan = load_protocol().model_copy(update={"imputation": load_protocol().imputation.model_copy(update={"m": 5})})
    analyze(folder, protocol=plan, out=tmp_path / "from-folder")
    noted = analyze(url, protocol=plan, out=tmp_path / "from-store")
    assert noted.notes and "DuckDB 0.0.1" in noted.notes[0]
    assert filecmp.cmp(
        tmp_path / "from-folder" / "results.json", tmp_path / "from-store" / "results.json", shallow=False
    )
    for written in (tmp_path / "from-store").rglob("*"):
        if written.is_file():
            assert b"0.0.1" not in written.read_bytes() and b"fingerprints" not in written.read_bytes(), written


def test_the_cli_prints_the_note_literally_before_the_results(tmp_path: Path) -> None:
    folder = write_cohort(tmp_path / "c", mbi_gs=mbi_rows(subscales=True))
    url = f"duckdb://{tmp_path / '[bold]x[red].duckdb'}"  # Rich markup in a user's path stays text
    assert CliRunner().invoke(app, ["import", str(folder), url]).exit_code == 0
    _edit(url, "DELETE FROM mbi_gs WHERE after_session = 6")
    got = CliRunner().invoke(app, ["analyze", url, "--out", str(tmp_path / "out"), "-q"])
    assert got.exit_code == 0, got.output
    note = f"note: {url}: its tables are not as `burnout import` recorded them"
    assert got.output.count(note) == 1, got.output
    assert got.output.index(note) < got.output.index("burnout analysis")
