"""The validated DuckDB store: `burnout import DIR duckdb:///...`, then analyses that skip validation.

The reference is the folder itself: an analysis of the store must give the results of
an analysis of the folder, byte for byte, without running a validation rule; a store
changed after the import must be validated again; a file that is not a store must fail
with a message that says what to do.
"""

from __future__ import annotations

import gc
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

import burnout.ingest.validate as validate_module
from burnout.analysis import analyze
from burnout.cli import app
from burnout.errors import BurnoutError, DataError, ExistingTablesError
from burnout.importer import import_cohort
from burnout.ingest import load_cohort
from burnout.plan import load_protocol
from cohortfactory import mbi_rows, phq9_rows, write_cohort


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return write_cohort(tmp_path / "c", mbi_gs=mbi_rows(subscales=True), phq9=phq9_rows())


def _count_calls(monkeypatch: pytest.MonkeyPatch, module: object, name: str) -> list[int]:
    """A list that gets a 1 each time ``module.name`` is called from now on (the function still runs)."""
    calls: list[int] = []
    real = getattr(module, name)

    def counted(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, counted)
    return calls


def _count_validations(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    return _count_calls(monkeypatch, validate_module, "validate_cohort")


def _edited_store(folder: Path, tmp_path: Path, *statements: str) -> Path:
    """The folder imported into a store, then changed behind burnout's back by ``statements``."""
    path = tmp_path / "c.duckdb"
    import_cohort(folder, f"duckdb://{path}")
    with duckdb.connect(str(path)) as db:
        for statement in statements:
            db.execute(statement)
    return path


def test_store_is_the_folder_without_validation(folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"duckdb://{tmp_path / 'c.duckdb'}"  # duckdb:// + an absolute path = duckdb:///...
    summary = import_cohort(folder, url)
    assert summary.rows == {"patients": 12, "mbi_gs": 48, "sessions": 72, "phq9": 48}
    from_folder = load_cohort(folder)
    calls = _count_validations(monkeypatch)
    stored = load_cohort(url)
    assert calls == []  # no rule ran: the fingerprint and options matched
    assert stored.fingerprint == from_folder.fingerprint == summary.fingerprint
    assert stored.rows == from_folder.rows and stored.warnings == from_folder.warnings
    for name in ("patients", "mbi_gs", "sessions", "phq9"):
        keys = ["patient_id"] + [c for c in ("after_session", "session") if c in getattr(stored, name).columns]
        a = getattr(stored, name).to_pyarrow().to_pandas().sort_values(keys).reset_index(drop=True)
        b = getattr(from_folder, name).to_pyarrow().to_pandas().sort_values(keys).reset_index(drop=True)
        assert a.equals(b), name
    # the file columns read back as the folder's (scores in units again): same content fingerprint
    from burnout.ingest.fingerprint import content_fingerprint

    assert content_fingerprint(stored.file_columns) == from_folder.fingerprint


def test_changed_store_is_validated_again(folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # an analysis table changed behind burnout's back
    path = _edited_store(folder, tmp_path, "UPDATE burnout_typed_mbi_gs SET item_1 = 9 WHERE after_session = 0")
    calls = _count_validations(monkeypatch)
    again = load_cohort(f"duckdb://{path}")
    assert calls == [1]  # the typed tables no longer match: validated from the plain tables
    assert again.fingerprint == load_cohort(folder).fingerprint  # the plain tables were not changed
    del again
    gc.collect()  # the cohort's connection holds the file; release it before writing
    with duckdb.connect(str(path)) as db:  # now a value the rules refuse, in the plain table
        db.execute("UPDATE mbi_gs SET item_1 = 9 WHERE after_session = 0")
    with pytest.raises(DataError, match="item_1"):
        load_cohort(f"duckdb://{path}")


def test_an_edit_to_a_plain_table_alone_is_validated_not_ignored(
    folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the plain tables are the ones a user sees: the analysis tables still match their
    # fingerprint, yet the edit must count (found by a new-user trial: it was ignored)
    path = _edited_store(folder, tmp_path, "DELETE FROM mbi_gs WHERE after_session = 6")
    calls = _count_validations(monkeypatch)
    again = load_cohort(f"duckdb://{path}")
    assert calls == [1]
    assert again.rows["mbi_gs"] == 36  # 48 rows less the 12 at session 6
    assert again.fingerprint != load_cohort(folder).fingerprint
    del again
    gc.collect()  # the cohort's connection holds the file; release it before writing
    with duckdb.connect(str(path)) as db:
        db.execute("UPDATE mbi_gs SET item_1 = 9 WHERE after_session = 0")
    with pytest.raises(DataError, match="item_1"):
        load_cohort(f"duckdb://{path}")


def _count_fingerprints(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    import burnout.ingest.fingerprint as fingerprint_module

    return _count_calls(monkeypatch, fingerprint_module, "content_fingerprint")


def test_a_matching_store_is_checked_by_its_sums_without_hashing_content(
    folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"duckdb://{tmp_path / 'c.duckdb'}"
    import_cohort(folder, url)
    hashed = _count_fingerprints(monkeypatch)
    validated = _count_validations(monkeypatch)
    stored = load_cohort(url)
    assert hashed == [] and validated == []  # one scan of DuckDB hash sums, no MD5 of every row
    assert stored.notes == ()  # nothing cost more than it had to: nothing to say
    assert stored.fingerprint == load_cohort(folder).fingerprint  # the folder's, recorded at the import


_SWAP_AGES = (  # the same rows and the same multiset in every column: only the rows' contents moved
    "UPDATE patients SET age = CASE WHEN age = (SELECT min(age) FROM patients) "
    "THEN (SELECT max(age) FROM patients) ELSE (SELECT min(age) FROM patients) END "
    "WHERE age IN ((SELECT min(age) FROM patients), (SELECT max(age) FROM patients))"
)


@pytest.mark.parametrize(
    "edits",
    [
        (_SWAP_AGES,),
        ("ALTER TABLE sessions ADD COLUMN note VARCHAR",),  # a column more, every value null
        # two columns' names swapped: the same values in the same places, only the shape tells
        (
            "ALTER TABLE burnout_typed_sessions RENAME side_effects TO swapping",
            "ALTER TABLE burnout_typed_sessions RENAME serious_adverse_event TO side_effects",
            "ALTER TABLE burnout_typed_sessions RENAME swapping TO serious_adverse_event",
        ),
        ("ALTER TABLE burnout_typed_patients ALTER age TYPE INTEGER",),  # DuckDB hashes 30 and 30::BIGINT alike
        ("ALTER TABLE mbi_gs ALTER exhaustion TYPE VARCHAR",),  # a user's score column as text: validated, no crash
        ("UPDATE burnout_typed_sessions SET dose_mg = dose_mg + 0.5 WHERE session = 1",),  # ours, not the user's
        ("CREATE TABLE gad7 AS SELECT * EXCLUDE (item_8, item_9) FROM phq9",),  # a cohort table added: not ignored
        ("DROP TABLE burnout_typed_phq9",),
        ("UPDATE burnout_store SET table_sums = 'not json'",),  # the record itself, by hand
        ("UPDATE burnout_store SET rows = '{}'",),
        ("UPDATE burnout_store SET data_fingerprint = 'deadbeef'",),  # results.json would carry it
    ],
    ids=[
        "ages-swapped",
        "column-added",
        "columns-renamed",
        "typed-column-retyped",
        "plain-score-retyped",
        "typed-table-edited",
        "table-added",
        "typed-table-dropped",
        "record-garbled",
        "record-rows-emptied",
        "record-fingerprint-edited",
    ],
)
def test_any_edit_is_validated_again(
    folder: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
    edits: tuple[str, ...],
) -> None:
    path = tmp_path / "c.duckdb"
    import_cohort(folder, f"duckdb://{path}")
    with duckdb.connect(str(path)) as db:
        ages = sorted(r[0] for r in db.execute("SELECT age FROM patients").fetchall() if r[0] is not None)
        for edit in edits:
            db.execute(edit)
        assert db.execute("SELECT count(*) FROM patients").fetchone() == (12,)
        assert sorted(r[0] for r in db.execute("SELECT age FROM patients").fetchall() if r[0] is not None) == ages
    calls = _count_validations(monkeypatch)
    (note,) = load_cohort(f"duckdb://{path}").notes
    assert calls == [1]
    # the user learns why this analysis validated, and that every one will until a new import
    record = "its burnout_store record is not as `burnout import` wrote it"  # its digest or JSON no longer agree
    why = {
        "table-added": "a cohort table was added after the import: gad7",
        "typed-table-dropped": "tables it recorded are missing: burnout_typed_phq9",
        "record-garbled": record,
        "record-rows-emptied": record,
        "record-fingerprint-edited": record,
    }
    assert note.startswith(f"duckdb://{path}: ")
    assert why.get(request.node.callspec.id, "its tables are not as `burnout import` recorded them") in note
    assert "validated again, as they will be on every analysis until it is imported again from a folder" in note
    assert f"`burnout import --replace COHORT_FOLDER duckdb://{path}`" in note


def test_the_sums_see_a_true_moved_between_two_rows_of_the_last_column() -> None:
    # DuckDB folds a row's last column into hash(...) by XOR alone, and hash(false) = 0: a
    # TRUE moved from row b to row a cancels out whenever the other columns' part of the two
    # rows' hashes agree on the bits of hash(true) (24 bits). The sums hash each row's hash
    # again. Found by a review: a serious adverse event moved between sessions went unseen.
    from burnout.ingest.store import table_sums

    db = duckdb.connect()
    db.execute("CREATE TABLE s AS SELECT i AS id, i % 2 = 0 AS flag FROM range(40000) t(i)")
    true = db.execute("SELECT hash(true)").fetchone()[0]
    pair = db.execute(
        f"""WITH h AS (SELECT id, flag, xor(hash(id, flag), hash(flag)) & {true}::UBIGINT AS k FROM s)
        SELECT a.id, b.id FROM h a JOIN h b USING (k) WHERE NOT a.flag AND b.flag LIMIT 1"""
    ).fetchone()
    assert pair is not None  # 40,000 rows hold about 50 such pairs
    single = "SELECT CAST(sum(CAST(hash(id, flag) AS HUGEINT)) AS VARCHAR) FROM s"
    before, plain_before = table_sums(db, ["s"]), db.execute(single).fetchone()
    db.execute(f"UPDATE s SET flag = NOT flag WHERE id IN {pair}")
    assert db.execute(single).fetchone() == plain_before  # the weakness, shown: one hash per row misses it
    assert table_sums(db, ["s"]) != before


def test_a_store_of_the_previous_format_is_read_by_its_fingerprints_and_keeps_its_label(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # format 3 (before the sums) has the content fingerprints: checked by them, not validated
    # again as a database, which would drop the synthetic label (found by a review)
    from burnout.simulate import simulate_cohort
    from burnout.simulate import write_cohort as write_simulated

    folder = tmp_path / "sim"
    write_simulated(simulate_cohort(patients=60, seed=3), folder, fmt="parquet")
    path = _edited_store(
        folder, tmp_path, "UPDATE burnout_store SET format = 3", "ALTER TABLE burnout_store DROP COLUMN table_sums"
    )
    hashed = _count_fingerprints(monkeypatch)
    validated = _count_validations(monkeypatch)
    stored = load_cohort(f"duckdb://{path}")
    assert validated == [] and hashed == [1, 1]
    assert stored.synthetic
    (note,) = stored.notes  # slower than it had to be, and how to make it fast
    assert "was imported by an earlier burnout (store format 3), so it was checked by its content fingerprints" in note
    assert f"`burnout import --replace COHORT_FOLDER duckdb://{path}` again makes later analyses" in note


def test_a_store_from_another_duckdb_version_is_checked_by_its_fingerprints(
    folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # DuckDB's hash is its own and may change with its version: the sums are then not
    # comparable, and the two content fingerprints (engine-independent MD5) decide
    path = _edited_store(
        folder,
        tmp_path,
        """UPDATE burnout_store SET table_sums = json_merge_patch(table_sums, '{"duckdb": "0.0.1"}')""",
    )
    expected = load_cohort(folder).fingerprint
    hashed = _count_fingerprints(monkeypatch)
    validated = _count_validations(monkeypatch)
    stored = load_cohort(f"duckdb://{path}")
    assert stored.fingerprint == expected
    assert validated == [] and hashed == [1, 1]  # the typed tables' and the plain tables' fingerprints, no rule
    assert stored.notes == (
        f"duckdb://{path} was imported by DuckDB 0.0.1 (this is {duckdb.__version__}), so it was checked by its "
        "content fingerprints, which read every row of both its copies: slower than the check a store imported "
        f"by this burnout and DuckDB gets. `burnout import --replace COHORT_FOLDER duckdb://{path}` again makes "
        "later analyses of it faster.",
    )
    del stored
    gc.collect()  # the cohort's connection holds the file; release it before writing
    with duckdb.connect(str(path)) as db:
        db.execute("DELETE FROM mbi_gs WHERE after_session = 6")
    assert load_cohort(f"duckdb://{path}").rows["mbi_gs"] == 36  # the edit counts on this path too
    assert validated == [1]


def test_other_plan_options_validate_again(folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"duckdb://{tmp_path / 'c.duckdb'}"
    import_cohort(folder, url)
    calls = _count_validations(monkeypatch)
    again = load_cohort(url, scheduled_assessments=(0, 2, 4))  # warnings depend on the schedule
    assert calls == [1]
    assert again.notes == (
        f"{url} was imported with other validation options than this analysis's plan ([schedule] assessments "
        "[0, 2, 4, 6] at the import, [0, 2, 4] now), so its tables were validated again, as they will be on every "
        "analysis with this plan. To skip that, import the folder again with this plan (`burnout import --replace "
        f"--protocol PLAN COHORT_FOLDER {url}`; without --protocol for the reference study's plan), or keep one "
        "store per plan.",
    )


def test_analysis_of_store_is_byte_identical(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from burnout.simulate import simulate_cohort
    from burnout.simulate import write_cohort as write_simulated

    folder = tmp_path / "sim"
    write_simulated(simulate_cohort(patients=400, seed=3), folder, fmt="parquet")
    plan = load_protocol().model_copy(update={"imputation": load_protocol().imputation.model_copy(update={"m": 5})})
    expected = analyze(folder, protocol=plan).to_json()
    url = f"duckdb://{tmp_path / 's.duckdb'}"
    import_cohort(folder, url)

    def refuse(*_a, **_k):
        raise AssertionError("validation ran on a matching store")

    monkeypatch.setattr(validate_module, "validate_cohort", refuse)
    assert analyze(url, protocol=plan).to_json() == expected
    assert load_cohort(url).synthetic  # simulated data stay labelled through the store


def test_store_errors_say_what_to_do(folder: Path, tmp_path: Path) -> None:
    missing = tmp_path / "none.duckdb"
    with pytest.raises(BurnoutError, match=r"no DuckDB store at .*burnout import"):
        load_cohort(f"duckdb://{missing}")
    foreign = tmp_path / "foreign.duckdb"
    with duckdb.connect(str(foreign)) as db:
        db.execute("CREATE TABLE something (x INTEGER)")
    with pytest.raises(BurnoutError, match="not a burnout store"):
        load_cohort(f"duckdb://{foreign}")
    text = tmp_path / "notes.duckdb"
    text.write_text("not a database\n")
    with pytest.raises(BurnoutError, match="cannot open .* as a DuckDB database"):
        load_cohort(f"duckdb://{text}")
    # import never replaces a file it did not write, nor a store without replace
    with pytest.raises(BurnoutError, match="not a burnout store"):
        import_cohort(folder, f"duckdb://{foreign}")
    assert text.read_text() == "not a database\n"
    store = f"duckdb://{tmp_path / 'c.duckdb'}"
    import_cohort(folder, store)
    with pytest.raises(ExistingTablesError) as refused:
        import_cohort(folder, store)
    assert refused.value.tables == ("patients", "mbi_gs", "sessions", "phq9")  # every one the store holds
    assert import_cohort(folder, store, replace=True).replaced


def test_cli_import_and_analyze_store(folder: Path, tmp_path: Path) -> None:
    url = f"duckdb://{tmp_path / 'c.duckdb'}"
    got = CliRunner().invoke(app, ["import", str(folder), url])
    assert got.exit_code == 0, got.output
    assert "Imported patients 12 rows" in got.output
    got = CliRunner().invoke(app, ["validate", url])
    assert got.exit_code == 0, got.output
    assert "note:" not in got.output
    with duckdb.connect(str(tmp_path / "c.duckdb")) as db:
        db.execute("DELETE FROM mbi_gs WHERE after_session = 6")
    for command in (["validate", url], ["analyze", url, "--out", str(tmp_path / "out"), "-q"]):
        got = CliRunner().invoke(app, command)
        assert got.exit_code == 0, got.output
        # printed literally, once, before the results
        assert got.output.count(f"note: {url}: its tables are not as `burnout import` recorded them") == 1, got.output


def test_store_keeps_every_instrument_table(folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A GAD-7 table imported with the cohort comes back from the store, typed, without validation
    (format 1 kept PHQ-9 only, so a plan naming GAD-7 lost it or failed)."""
    import csv

    gad7 = [{k: v for k, v in row.items() if k not in ("item_8", "item_9")} for row in phq9_rows()]
    with open(folder / "gad7.csv", "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(gad7[0]))
        writer.writeheader()
        writer.writerows(gad7)
    url = f"duckdb://{tmp_path / 'g.duckdb'}"
    import_cohort(folder, url)
    from_folder = load_cohort(folder)
    calls = _count_validations(monkeypatch)
    stored = load_cohort(url)
    assert calls == []
    assert sorted(stored.instruments) == sorted(from_folder.instruments) == ["gad7", "phq9"]
    assert stored.rows["gad7"] == len(gad7)
    keys = ["patient_id", "after_session"]
    a = stored.instruments["gad7"].to_pyarrow().to_pandas().sort_values(keys).reset_index(drop=True)
    b = from_folder.instruments["gad7"].to_pyarrow().to_pandas().sort_values(keys).reset_index(drop=True)
    assert a.equals(b)


def test_a_store_without_mbi_gs_serves_a_plan_whose_primary_is_another(tmp_path: Path) -> None:
    """Import and the store's analysis follow the plan's primary instrument (issue 14): the
    PHQ-9 as primary, no mbi_gs table anywhere."""
    folder = write_cohort(tmp_path / "c", mbi_gs=None, phq9=phq9_rows())
    plan = tmp_path / "plan.toml"
    plan.write_text(
        '[instruments]\nprimary = "phq9"\n[eligibility]\nrule = "total >= 5"\n[privacy]\nmin_cell_count = 1\n'
    )
    url = f"duckdb://{tmp_path / 'c.duckdb'}"
    summary = import_cohort(folder, url, protocol=plan)
    assert set(summary.rows) == {"patients", "sessions", "phq9"}
    stored = analyze(url, protocol=plan).results
    direct = analyze(folder, protocol=plan).results
    assert stored["instruments"] == direct["instruments"] and stored["flow"] == direct["flow"]
    with pytest.raises(DataError, match="mbi_gs"):  # the reference study's plan still needs it
        import_cohort(folder, f"duckdb://{tmp_path / 'd.duckdb'}")


def test_a_store_file_that_cannot_be_written_is_said_not_a_traceback(tmp_path: Path) -> None:
    # e.g. its folder removed after the import checked it: DuckDB's IOException, said as ours
    from burnout.ingest.store import _attach

    with pytest.raises(BurnoutError, match=r"cannot write the store shown\.duckdb: IO Error"):
        _attach(duckdb.connect(), str(tmp_path / "gone" / "x.duckdb.tmp"), "out", shown="shown.duckdb")
