"""The synthetic cohort's files (simulate/tables.py): the data contract, determinism, the API."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from burnout.simulate import (
    ModelParams,
    SimulatedCohort,
    simulate_cohort,
    write_cohort,
)


def test_files_against_data_format(default_dir: Path) -> None:
    read = lambda name: pd.read_csv(default_dir / f"{name}.csv", dtype=str, keep_default_na=False)  # noqa: E731
    patients, mbi, sessions, phq = read("patients"), read("mbi_gs"), read("sessions"), read("phq9")
    assert list(patients.columns) == ["patient_id", "age", "sex", "route", "pathway"]
    assert list(mbi.columns) == ["patient_id", "after_session", "completed_on"] + [f"item_{i}" for i in range(1, 17)]
    assert list(sessions.columns) == [
        "patient_id", "session", "held_on", "dose_mg", "monitor_present", "side_effects", "serious_adverse_event",
    ]  # fmt: skip
    assert list(phq.columns) == ["patient_id", "after_session", "completed_on"] + [f"item_{i}" for i in range(1, 10)]

    assert patients["patient_id"].is_unique and patients["patient_id"].str.fullmatch(r"P\d{7}").all()
    age = pd.to_numeric(patients["age"].replace("", np.nan))
    assert age.dropna().between(18, 120).all() and age.isna().mean() < 0.02
    assert set(patients["sex"]) <= {"female", "male", "other", ""}
    assert set(patients["route"]) <= {"sublingual", "subcutaneous", ""}
    assert {"burnout", "depression", "anxiety", "ptsd"} <= set(patients["pathway"])

    ids = set(patients["patient_id"])
    for table, key in ((mbi, "after_session"), (sessions, "session"), (phq, "after_session")):
        assert set(table["patient_id"]) <= ids
        assert not table.duplicated(["patient_id", key]).any()
    assert set(mbi["after_session"]) == {"0", "2", "4", "6"}
    assert set(mbi.loc[mbi["after_session"] == "0", "patient_id"]) == ids  # everyone has a baseline
    for table, top in ((mbi, 6), (phq, 3)):
        items = table.filter(like="item_")
        values = pd.to_numeric(items.stack().replace("", np.nan)).dropna()
        assert values.between(0, top).all() and (values == values.round()).all()
        assert 0 < (items == "").to_numpy().mean() < 0.02  # occasional blank items
    pd.to_datetime(mbi["completed_on"], format="%Y-%m-%d")
    held = pd.to_datetime(sessions["held_on"], format="%Y-%m-%d")
    assert (held.groupby(sessions["patient_id"]).diff().dropna().dt.days > 0).all()

    # sessions are delivered in order: 1..n without gaps
    s = sessions.assign(k=sessions["session"].astype(int)).groupby("patient_id")["k"]
    assert (s.max() == s.count()).all()
    assert (pd.to_numeric(sessions["dose_mg"]) > 0).all()
    for col in ("monitor_present", "serious_adverse_event"):
        assert set(sessions[col]) <= {"true", "false"}
    assert set(sessions["side_effects"]) == {"true", "false", ""}
    assert (sessions["serious_adverse_event"] == "true").mean() < 0.001


def test_files_against_validator(default_dir: Path, default_cohort: SimulatedCohort) -> None:
    """The product's own validator accepts the cohort without problems or warnings."""
    validate = pytest.importorskip("burnout.ingest")
    cohort = validate.load_cohort(default_dir)
    assert cohort.warnings == ()
    assert cohort.mbi_has_items
    assert cohort.rows["patients"] == default_cohort.patients.num_rows
    assert cohort.rows["mbi_gs"] == default_cohort.mbi_gs.num_rows


def test_parquet_matches_csv(default_cohort: SimulatedCohort, default_dir: Path, tmp_path: Path) -> None:
    write_cohort(default_cohort, tmp_path, fmt="parquet")
    for name in ("patients", "mbi_gs", "sessions", "phq9"):
        a = pd.read_parquet(tmp_path / f"{name}.parquet")
        b = pd.read_csv(default_dir / f"{name}.csv", dtype=str, keep_default_na=False)
        assert list(a.columns) == list(b.columns) and len(a) == len(b)
    assert (
        pd.read_parquet(tmp_path / "mbi_gs.parquet")["item_3"].isna().sum()
        == (pd.read_csv(default_dir / "mbi_gs.csv", dtype=str, keep_default_na=False)["item_3"] == "").sum()
    )
    validate = pytest.importorskip("burnout.ingest")
    cohort = validate.load_cohort(tmp_path)
    assert cohort.warnings == () and cohort.rows["sessions"] == default_cohort.sessions.num_rows


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_same_seed_identical_bytes(fmt: str, tmp_path: Path) -> None:
    a = write_cohort(simulate_cohort(seed=7), tmp_path / "a", fmt=fmt)
    b = write_cohort(simulate_cohort(seed=7), tmp_path / "b", fmt=fmt)
    c = write_cohort(simulate_cohort(seed=8), tmp_path / "c", fmt=fmt)
    assert [p.read_bytes() for p in a] == [p.read_bytes() for p in b]
    assert all(x.read_bytes() != y.read_bytes() for x, y in zip(a, c))


def test_patients_gives_a_prefix_of_the_same_seed(default_cohort: SimulatedCohort) -> None:
    small = simulate_cohort(patients=300)
    assert small.patients.num_rows == 300
    assert small.patients.equals(default_cohort.patients.slice(0, 300))
    ids = set(small.patients["patient_id"].to_pylist())
    mask = [pid in ids for pid in default_cohort.mbi_gs["patient_id"].to_pylist()]
    assert small.mbi_gs.equals(default_cohort.mbi_gs.filter(mask))


def test_threshold_met_sizes_the_population() -> None:
    cohort = simulate_cohort(threshold_met=100, seed=3)
    assert cohort.threshold_met == 100
    assert cohort.latent["threshold_met"][-1].as_py()  # stops at the 100th


def test_bad_arguments_name_the_value() -> None:
    with pytest.raises(ValueError, match="patients or threshold_met"):
        simulate_cohort(patients=10, threshold_met=5)
    with pytest.raises(ValueError, match="positive integer, got 0"):
        simulate_cohort(patients=0)
    with pytest.raises(ValueError, match="fmt must be 'csv' or 'parquet', got 'xlsx'"):
        write_cohort(simulate_cohort(patients=5), "unused", fmt="xlsx")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="class_probs"):
        ModelParams(class_probs=(0.5, 0.5, 0.5))
