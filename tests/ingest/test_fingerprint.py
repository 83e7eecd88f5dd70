"""The data fingerprint: the same content gives the same hash from any source; any change changes it.

Reference: an independent pure-Python computation of the documented canonical form
(hashlib.md5 over each row's text, the four 28-bit sums, hashlib.sha256), checked
against the engine's one-pass aggregate.
"""

from __future__ import annotations

import csv
import datetime as dt
import gc
import hashlib
import io
import math
import random
from pathlib import Path
from typing import Any

import pytest

from burnout.ingest import load_cohort
from burnout.ingest.fingerprint import content_fingerprint
from burnout.schema import COLUMNS, TABLES
from cohortfactory import mbi_rows, patients_rows, phq9_rows, sessions_rows, write_cohort

# ids that need quoting in CSV, hold the separator and the escape, or are not ASCII
IDS = ["P01", "a,b", 'q"uote', "pipe|x", "back\\slash", "épuisé", "P07", "P08", "line\\N", "P10", "x|\\|y", "P12"]


def rows_for(ids: list[str] = IDS) -> dict[str, list[dict[str, Any]]]:
    patients = patients_rows(len(ids))
    for row, pid in zip(patients, ids, strict=True):
        row["patient_id"] = pid
    patients[4]["pathway"] = "burn|out \\ épuisement"
    return {
        "patients": patients,
        "mbi_gs": mbi_rows(ids),
        "sessions": sessions_rows(ids),
        "phq9": phq9_rows(ids),
    }


def fingerprint_of(folder: Path) -> str:
    cohort = load_cohort(folder)
    assert cohort.fingerprint == reference_fingerprint(cohort.file_columns)
    return cohort.fingerprint


def reference_fingerprint(tables: dict[str, Any]) -> str:
    """The documented canonical form, computed in Python from the typed values (items packed in base 8)."""

    def text(value: Any) -> str:
        if value is None:
            return "\\N"
        if isinstance(value, bool):
            return "t" if value else "f"
        if isinstance(value, int):
            return str(value)
        if isinstance(value, dt.date):
            return str(value.year * 10000 + value.month * 100 + value.day)
        if isinstance(value, float):
            whole = math.floor(value)
            return f"{whole}~{int((value - whole) * 2**62)}"
        return str(value).replace("\\", "\\\\").replace("|", "\\|")

    lines = []
    for name in (n for n in TABLES if n in tables):
        rows = tables[name].to_pyarrow().to_pylist()
        sums = [0, 0, 0, 0]
        for row in rows:
            items = [c for c in COLUMNS[name] if c.startswith("item_")]
            fields = [str(sum((7 if row.get(c) is None else row[c]) * 8**k for k, c in enumerate(items)))] if items else []
            fields += [text(row.get(c)) for c in sorted(COLUMNS[name]) if c not in items]
            digest = hashlib.md5("|".join(fields).encode()).hexdigest()
            for i in range(4):
                sums[i] += int(digest[8 * i : 8 * i + 8], 16)
        present = ",".join(sorted(c for c in COLUMNS[name] if c in tables[name].columns))
        lines.append(" ".join([name, present, str(len(rows)), *map(str, sums)]) + "\n")
    return hashlib.sha256("".join(lines).encode()).hexdigest()


def write_quoted_shuffled(folder: Path, rows: dict[str, list[dict[str, Any]]], *, seed: int) -> Path:
    """CSV with every cell quoted, rows and columns in another order, CRLF and a BOM."""
    rng = random.Random(seed)
    folder.mkdir(parents=True)
    for name, table in rows.items():
        columns = list(table[0])
        rng.shuffle(columns)
        shuffled = list(table)
        rng.shuffle(shuffled)
        buf = io.StringIO()
        writer = csv.writer(buf, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
        writer.writerow(columns)
        writer.writerows([[row[c] for c in columns] for row in shuffled])
        (folder / f"{name}.csv").write_bytes(b"\xef\xbb\xbf" + buf.getvalue().encode())
    return folder


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    folder = write_cohort(tmp_path_factory.mktemp("fp") / "csv", **rows_for())
    return folder, fingerprint_of(folder)


def test_the_same_content_from_csv_parquet_and_shuffled_quoted_crlf_bom_files(base: tuple[Path, str], tmp_path: Path) -> None:
    folder, want = base
    rows = rows_for()
    assert fingerprint_of(write_cohort(tmp_path / "parquet", fmt="parquet", **rows)) == want
    assert fingerprint_of(write_cohort(tmp_path / "crlf", newline="\r\n", bom=True, **rows)) == want
    assert fingerprint_of(write_quoted_shuffled(tmp_path / "shuffled", rows, seed=7)) == want
    # mixed: some tables Parquet, some CSV
    mixed = write_cohort(tmp_path / "mixed", fmt={"patients": "parquet", "sessions": "parquet"}, **rows)
    assert fingerprint_of(mixed) == want


def test_padding_and_spelling_the_validation_normalises_do_not_change_it(base: tuple[Path, str], tmp_path: Path) -> None:
    """" 3" and "3.0" are the integer 3, "Female" is female, "TRUE" is true: the same content."""
    rows = rows_for()
    rows["mbi_gs"][0]["item_3"] = f" {rows['mbi_gs'][0]['item_3']}.0 "
    rows["patients"][0]["sex"] = rows["patients"][0]["sex"].upper() or " "
    rows["sessions"][0]["monitor_present"] = {"true": "TRUE", "false": "no"}.get(rows["sessions"][0]["monitor_present"], rows["sessions"][0]["monitor_present"])
    assert fingerprint_of(write_cohort(tmp_path / "padded", **rows)) == base[1]


def test_an_optional_column_left_out_is_other_content_than_one_left_blank(tmp_path: Path) -> None:
    """Blank ages and no age column both leave every age null; which columns the source has still counts."""
    rows = rows_for()
    without = {**rows, "patients": [{k: v for k, v in r.items() if k != "age"} for r in rows["patients"]]}
    blank = {**rows, "patients": [{**r, "age": ""} for r in rows["patients"]]}
    assert fingerprint_of(write_cohort(tmp_path / "a", **without)) != fingerprint_of(write_cohort(tmp_path / "b", **blank))


CHANGES = [
    ("patients", 5, "age", "77"),
    ("patients", 0, "sex", "other"),
    ("patients", 2, "route", "subcutaneous"),
    ("patients", 4, "pathway", "burn|out \\ épuisement 2"),
    ("patients", 4, "pathway", "burn\\|out \\ épuisement"),  # the escape moved: other text, other hash
    ("mbi_gs", 7, "item_5", "CHANGE_ITEM"),
    ("mbi_gs", 9, "completed_on", "2024-02-29"),
    ("sessions", 11, "dose_mg", "2.5000001"),
    ("sessions", 11, "side_effects", "CHANGE_FLAG"),
    ("sessions", 5, "held_on", "2025-01-01"),
    ("phq9", 0, "item_9", "CHANGE_ITEM"),
]


@pytest.mark.parametrize(("table", "row", "column", "value"), CHANGES)
def test_one_changed_cell_changes_it(base: tuple[Path, str], tmp_path: Path, table: str, row: int, column: str, value: str) -> None:
    rows = rows_for()
    cell = rows[table][row]
    if value == "CHANGE_ITEM":
        value = str((int(cell[column]) + 1) % (4 if table == "phq9" else 7))
    elif value == "CHANGE_FLAG":
        value = "false" if cell[column].lower() in ("true", "yes", "1") else "true"
    assert cell[column] != value
    cell[column] = value
    assert fingerprint_of(write_cohort(tmp_path / "changed", **rows)) != base[1]


def test_a_changed_subscale_score_changes_it(tmp_path: Path) -> None:
    """Subscale columns given without items: one score 0.01 point higher is other content."""
    rows = rows_for()
    rows["mbi_gs"] = mbi_rows(IDS, items=False, subscales=True)
    before = fingerprint_of(write_cohort(tmp_path / "a", **rows))
    cell = rows["mbi_gs"][3]
    cell["exhaustion"] = f"{float(cell['exhaustion']) + 0.01:.2f}" if float(cell["exhaustion"]) < 5.9 else "0"
    assert fingerprint_of(write_cohort(tmp_path / "b", **rows)) != before


def test_a_row_moved_to_another_table_or_a_missing_phq9_changes_it(base: tuple[Path, str], tmp_path: Path) -> None:
    rows = rows_for()
    del rows["phq9"]
    assert fingerprint_of(write_cohort(tmp_path / "nophq", **rows)) != base[1]


def test_row_hash_sums_do_not_overflow_int64_for_2_to_the_31_rows() -> None:
    from burnout.ingest.fingerprint import CHUNK_HEX, CHUNKS

    assert CHUNKS * CHUNK_HEX == 32  # every hex digit of the MD5 is used
    assert (2**31 - 1) * (16**CHUNK_HEX - 1) <= 2**63 - 1


# --------------------------------------------------------------------------- other engines


@pytest.mark.postgres
def test_the_same_fingerprint_after_import_into_postgresql(base: tuple[Path, str], postgres_db: str) -> None:
    from burnout.importer import import_cohort

    folder, want = base
    summary = import_cohort(folder, postgres_db)
    assert summary.fingerprint == want
    in_pg = load_cohort(postgres_db)
    assert in_pg.fingerprint == want
    del in_pg
    gc.collect()


@pytest.mark.spark
def test_the_same_fingerprint_computed_on_spark(base: tuple[Path, str]) -> None:
    from burnout.engines.spark import spark_available, spark_connect
    from services import unavailable

    reason = spark_available()
    if reason is not None:
        unavailable(reason)
    spark = spark_connect()
    folder, want = base
    on_spark = load_cohort(folder, con=spark)
    assert on_spark.con.name == "pyspark"
    assert content_fingerprint(on_spark.file_columns) == want


def test_hex_pieces_on_every_route_against_python_int() -> None:
    """DuckDB's 0x cast and the character-code sum (PostgreSQL's route) read the same numbers."""
    import ibis

    from burnout.ingest.fingerprint import _hex_value

    digests = [hashlib.md5(str(i).encode()).hexdigest() for i in range(50)] + ["f" * 32, "0" * 32, "0123456789abcdef" * 2]
    t = ibis.memtable({"h": digests})
    for engine in ("duckdb", "postgres"):
        got = t.select(**{f"p{i}": _hex_value(t.h, 8 * i, 8, engine=engine) for i in range(4)}).to_pyarrow().to_pylist()
        assert got == [{f"p{i}": int(d[8 * i : 8 * i + 8], 16) for i in range(4)} for d in digests], engine
