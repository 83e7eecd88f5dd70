"""The same analysis on DuckDB, Spark and PostgreSQL: identical results.

Each engine runs the same Ibis expressions, so the exact aggregates (counts, sums and
sums of squares as integers) must be equal and results.json equal up to its meta
block (which engine); the data fingerprint, a hash of the validated content, is the same.

Spark tests share one local session per module (start-up takes ~15 s) and use a
small cohort. Without pyspark/Java or a PostgreSQL server the tests skip, unless
BURNOUT_CI is set: CI provides both, so there a missing engine is a failure.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from burnout.analysis import analyze
from burnout.cohort import build_patient_table
from burnout.errors import DataError
from burnout.ingest import load_cohort
from burnout.instrument import SUBSCALE_ITEMS, SUBSCALES
from burnout.measures import Measures, collect_measures
from burnout.plan import load_protocol
from burnout.simulate import simulate_cohort
from cohortfactory import to_csv_bytes
from services import fresh_database, unavailable

# pyspark 4.0 calls a pandas 3 method with a deprecated keyword; harmless, not ours
pytestmark = pytest.mark.filterwarnings("ignore:The copy keyword is deprecated:DeprecationWarning")

PATIENTS = 400  # about 60 completers: every branch of results.json is populated
SEED = 31
REL = 1e-9  # floats in results.json: relative tolerance (they are in fact identical)
ABS = 1e-12


# --------------------------------------------------------------------------- cohorts


def _text(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def _quirky_csv_cohort(folder: Path) -> Path:
    """A simulated cohort written as CSV the way real exports look.

    BOM and CRLF line ends; ids that start or end with the letters f and v (which a
    mis-escaped trim would eat) and one with a comma; padded cells; mixed-case
    vocabulary; yes/no/1/0 booleans; integers written "3.0"; a quoted pathway with a
    comma and quotes and a non-ASCII one (a line break is no longer allowed in a pathway;
    tests/ingest/test_load.py covers quoted line breaks and line numbers); blank cells.
    """
    sim = simulate_cohort(patients=PATIENTS, seed=SEED)
    rng = np.random.default_rng(SEED)
    ids = sim.patients.column("patient_id").to_pylist()
    rename = {}
    for i, pid in enumerate(ids):
        rename[pid] = ("fv" + pid + "v", "vf" + pid + "f", pid + ",x", " " + pid + " ")[i % 4]
    tables: dict[str, list[dict[str, str]]] = {}
    for name in ("patients", "mbi_gs", "sessions", "phq9"):
        rows = [{k: _text(v) for k, v in r.items()} for r in getattr(sim, name).to_pylist()]
        for r in rows:
            r["patient_id"] = rename[r["patient_id"]]
        tables[name] = rows
    for i, r in enumerate(tables["patients"]):
        r["sex"] = {0: r["sex"].upper(), 1: f"  {r['sex'].title()}"}.get(i % 5, r["sex"])
        r["route"] = r["route"].upper() if i % 3 == 0 else r["route"]
        r["pathway"] = {0: 'Burnout, "program"', 1: "épuisement"}.get(i % 7, r["pathway"])
    spell = {"true": ("yes", "1", "TRUE", "true"), "false": ("no", "0", "False", "false")}
    for r in tables["sessions"]:
        for c in ("monitor_present", "side_effects", "serious_adverse_event"):
            if r[c] in spell:
                r[c] = spell[r[c]][int(rng.integers(4))]
    for i, r in enumerate(tables["mbi_gs"]):
        if i % 11 == 0 and r["item_3"]:
            r["item_3"] = r["item_3"] + ".0"
        if i % 13 == 0:
            r["item_5"] = f" {r['item_5']} "
    folder.mkdir(parents=True, exist_ok=True)
    for name, rows in tables.items():
        (folder / f"{name}.csv").write_bytes(to_csv_bytes(rows, newline="\r\n", bom=True))
    return folder


def _subscale_parquet_cohort(folder: Path) -> Path:
    """The simulated cohort as Parquet with subscale scores instead of items (floats, 4 places)."""
    sim = simulate_cohort(patients=PATIENTS, seed=SEED + 1)
    mbi = sim.mbi_gs
    scores = {}
    for s in SUBSCALES:
        items = np.stack(
            [mbi.column(f"item_{i}").to_numpy(zero_copy_only=False).astype(float) for i in SUBSCALE_ITEMS[s]]
        )
        answered = (~np.isnan(items)).sum(axis=0)
        mean = np.nansum(items, axis=0) / np.maximum(answered, 1)
        scores[s] = pa.array(np.round(mean, 4), mask=answered < len(SUBSCALE_ITEMS[s]) - 1)
    keep = [c for c in mbi.column_names if not c.startswith("item_")]
    folder.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table({**{c: mbi.column(c) for c in keep}, **scores}), folder / "mbi_gs.parquet")
    for name in ("patients", "sessions", "phq9"):
        pq.write_table(getattr(sim, name), folder / f"{name}.parquet")
    return folder


@pytest.fixture(scope="module")
def plan_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("plan") / "plan.toml"
    path.write_text("[privacy]\nmin_cell_count = 1\n")  # nothing suppressed: every number is compared
    return path


@pytest.fixture(scope="module")
def phq9_primary(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(folder, plan): the simulated cohort without mbi_gs, and a plan whose primary instrument is
    the PHQ-9: the source checks must follow the plan, not require the MBI-GS table."""
    sim = simulate_cohort(patients=PATIENTS, seed=SEED + 2)
    folder = tmp_path_factory.mktemp("phq9") / "cohort"
    folder.mkdir()
    for name in ("patients", "sessions", "phq9"):
        pq.write_table(getattr(sim, name), folder / f"{name}.parquet")
    plan = folder.parent / "plan.toml"
    plan.write_text(
        '[instruments]\nprimary = "phq9"\n[eligibility]\nrule = "total >= 10"\n[privacy]\nmin_cell_count = 1\n'
    )
    return folder, plan


@pytest.fixture(scope="module")
def csv_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _quirky_csv_cohort(tmp_path_factory.mktemp("csv") / "cohort")


@pytest.fixture(scope="module")
def parquet_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _subscale_parquet_cohort(tmp_path_factory.mktemp("parquet") / "cohort")


# --------------------------------------------------------------------------- helpers


def measures_on(source: str | Path, plan_path: Path, con: Any = None) -> Measures:
    """The exact aggregates of one engine: load, patient table, measures (the stages analyze runs)."""
    plan = load_protocol(plan_path)
    cohort = load_cohort(
        source,
        scheduled_assessments=tuple(plan.schedule.assessments),
        scheduled_sessions=plan.schedule.sessions,
        con=con,
    )
    return collect_measures(build_patient_table(cohort, plan).cache(), plan)


def differences(a: Any, b: Any, path: str = "") -> list[str]:
    """Where two results trees differ (floats compared with REL/ABS)."""
    if isinstance(a, dict) and isinstance(b, dict):
        if list(a) != list(b):
            return [f"{path}: keys {list(a)} != {list(b)}"]
        return [d for k in a for d in differences(a[k], b[k], f"{path}.{k}")]
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return [f"{path}: {len(a)} != {len(b)} items"]
        return [d for i, (x, y) in enumerate(zip(a, b, strict=True)) for d in differences(x, y, f"{path}[{i}]")]
    if isinstance(a, float) and isinstance(b, float) and not isinstance(a, bool):
        return [] if math.isclose(a, b, rel_tol=REL, abs_tol=ABS) else [f"{path}: {a!r} != {b!r}"]
    return [] if (type(a), a) == (type(b), b) else [f"{path}: {a!r} != {b!r}"]


def without_engine(tree: dict[str, Any]) -> dict[str, Any]:
    meta = {k: v for k, v in tree["meta"].items() if k != "backend"}  # data_fingerprint too must agree
    return {**tree, "meta": meta}


# --------------------------------------------------------------------------- Spark


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    from burnout.engines.spark import spark_available, spark_connect

    reason = spark_available()
    if reason is not None:
        unavailable(reason)
    con = spark_connect()
    yield con
    con._session.stop()


@pytest.mark.spark
def test_results_on_spark_against_duckdb(spark: Any, csv_dir: Path, plan_path: Path) -> None:
    """results.json on Spark equals DuckDB's (BOM, CRLF, quoting, padded cells, f/v ids)."""
    duck = analyze(csv_dir, protocol=plan_path).results
    on_spark = analyze(csv_dir, protocol=plan_path, backend="spark").results
    assert on_spark["meta"]["backend"] == "spark"
    assert duck["flow"]["completers"] >= 30
    assert differences(without_engine(on_spark), without_engine(duck)) == []


@pytest.mark.spark
def test_exact_aggregates_on_spark_against_duckdb(spark: Any, parquet_dir: Path, plan_path: Path) -> None:
    """Every count, sum and DECIMAL(38,0) sum of squares is the same integer (Parquet, subscale scores)."""
    duck = measures_on(parquet_dir, plan_path)
    on_spark = measures_on(parquet_dir, plan_path, con=spark)
    assert duck.completers >= 30
    assert all(type(v) is int for m in on_spark.scores.values() for v in (m.n, m.total, m.total_sq))
    assert on_spark == duck


@pytest.mark.spark
def test_spark_reports_bad_rows_with_file_lines(spark: Any, csv_dir: Path, tmp_path: Path) -> None:
    """Files are validated by DuckDB before Spark reads them: problems keep their true line."""
    folder = tmp_path / "bad"
    folder.mkdir()
    for f in csv_dir.iterdir():
        (folder / f.name).write_bytes(f.read_bytes())
    text = (folder / "mbi_gs.csv").read_bytes().split(b"\r\n")
    cells = text[4].split(b",")
    cells[4] = b"9"  # item_2 on line 5
    text[4] = b",".join(cells)
    (folder / "mbi_gs.csv").write_bytes(b"\r\n".join(text))
    with pytest.raises(DataError) as info:
        analyze(folder, backend="spark")
    assert [(p.file, p.line, p.column, p.value) for p in info.value.problems] == [("mbi_gs.csv", 5, "item_2", "9")]


@pytest.mark.spark
def test_a_primary_instrument_other_than_the_mbi_gs_on_spark(spark: Any, phq9_primary: tuple[Path, Path]) -> None:
    folder, plan = phq9_primary
    duck = analyze(folder, protocol=plan).results
    on_spark = analyze(folder, protocol=plan, backend="spark").results
    assert duck["instruments"]["analyses"]["phq9"]["role"] == "primary"
    assert differences(without_engine(on_spark), without_engine(duck)) == []


# --------------------------------------------------------------------------- PostgreSQL


@pytest.fixture(scope="module")
def imported(postgres_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """The quirky CSV cohort imported into a fresh database: (URL, folder)."""
    from burnout.importer import import_cohort

    folder = _quirky_csv_cohort(tmp_path_factory.mktemp("pg") / "cohort")
    with fresh_database(postgres_url, prefix="burnout_backends") as db_url:
        import_cohort(folder, db_url)
        yield db_url, folder


@pytest.mark.postgres
def test_results_on_postgres_against_duckdb(imported: tuple[str, Path], plan_path: Path) -> None:
    url, folder = imported
    duck = analyze(folder, protocol=plan_path).results
    in_pg = analyze(url, protocol=plan_path).results
    assert in_pg["meta"]["backend"] == "postgres"
    assert differences(without_engine(in_pg), without_engine(duck)) == []


@pytest.mark.postgres
def test_exact_aggregates_on_postgres_against_duckdb(imported: tuple[str, Path], plan_path: Path) -> None:
    url, folder = imported
    duck = measures_on(folder, plan_path)
    in_pg = measures_on(url, plan_path)
    assert all(type(v) is int for m in in_pg.changes.values() for v in (m.n, m.total, m.total_sq))
    assert in_pg == duck


@pytest.mark.postgres
def test_a_primary_instrument_other_than_the_mbi_gs_on_postgres(
    postgres_url: str, phq9_primary: tuple[Path, Path]
) -> None:
    """Import and analysis follow the plan's primary instrument: no mbi_gs table needed."""
    from burnout.importer import import_cohort

    folder, plan = phq9_primary
    duck = analyze(folder, protocol=plan).results
    with fresh_database(postgres_url, prefix="burnout_backends") as url:
        import_cohort(folder, url, protocol=plan)
        in_pg = analyze(url, protocol=plan).results
        with pytest.raises(DataError) as info:  # the reference study's plan still needs the MBI-GS
            analyze(url)
    assert in_pg["meta"]["backend"] == "postgres"
    assert differences(without_engine(in_pg), without_engine(duck)) == []
    assert [p.file for p in info.value.problems] == ["mbi_gs"]


@pytest.mark.postgres
def test_a_user_definition_as_primary_on_postgres(
    postgres_url: str, phq9_primary: tuple[Path, Path], tmp_path: Path
) -> None:
    """The plan's own definition file (the PHQ-9's rules under another name) and its table, imported
    and analysed in PostgreSQL as on DuckDB."""
    import shutil
    from importlib import resources

    from burnout.importer import import_cohort

    source, _ = phq9_primary
    folder = tmp_path / "cohort"
    shutil.copytree(source, folder)
    (folder / "phq9.parquet").rename(folder / "my_phq.parquet")
    text = (resources.files("burnout.instruments") / "data" / "phq9.toml").read_text(encoding="utf-8")
    (tmp_path / "my_phq.toml").write_text(text.replace('name = "phq9"', 'name = "my_phq"', 1), encoding="utf-8")
    plan = tmp_path / "plan.toml"
    plan.write_text(
        '[instruments]\nprimary = "my_phq.toml"\n[eligibility]\nrule = "total >= 10"\n[privacy]\nmin_cell_count = 1\n'
    )
    duck = analyze(folder, protocol=plan).results
    with fresh_database(postgres_url, prefix="burnout_backends") as url:
        import_cohort(folder, url, protocol=plan)
        in_pg = analyze(url, protocol=plan).results
    assert duck["instruments"]["analyses"]["my_phq.toml"]["role"] == "primary"
    assert differences(without_engine(in_pg), without_engine(duck)) == []


def test_postgres_source_refuses_another_backend() -> None:
    from burnout.errors import BurnoutError

    with pytest.raises(BurnoutError, match="leave out --backend"):
        analyze("postgresql://nobody@127.0.0.1:1/none", backend="spark")


# --------------------------------------------------------------------------- compilation fixes (no engine needed)


def test_postgres_boolean_to_bigint_cast_goes_through_int() -> None:
    """PostgreSQL has no boolean -> bigint cast; Ibis 12 writes one for flag.cast("int64")."""
    import ibis

    from burnout.engines.postgres import _fix_boolean_casts

    _fix_boolean_casts()
    t = ibis.table({"flag": "boolean", "n": "int32"}, name="t")
    sql = ibis.to_sql(t.select(a=t.flag.cast("int64"), b=t.flag.cast("int32"), c=t.n.cast("int64")), dialect="postgres")
    assert 'CAST(CAST("t0"."flag" AS INT) AS BIGINT)' in sql
    assert 'CAST("t0"."flag" AS INT) AS "b"' in sql and 'CAST("t0"."n" AS BIGINT)' in sql


def test_spark_string_literals_escape_vertical_tab_and_form_feed() -> None:
    """Spark SQL reads '\\v' and '\\f' as the letters v and f: strip() ate them from "female"."""
    import ibis

    from burnout.engines.spark import _fix_string_escapes

    _fix_string_escapes()
    t = ibis.table({"s": "string"}, name="t")
    sql = ibis.to_sql(t.select(x=t.s.strip()), dialect="pyspark")
    assert "\\u000B\\u000C" in sql and "\\v" not in sql and "\\f" not in sql
