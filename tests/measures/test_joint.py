"""measures.joint against pandas on per-patient rows pulled for the test."""

from __future__ import annotations

import ibis
import numpy as np
import pytest

from burnout.cohort import build_patient_table
from burnout.ingest import load_cohort
from burnout.instrument import SCALE, SUBSCALES
from burnout.measures.joint import collect_joint_baseline
from burnout.plan import load_protocol
from burnout.simulate import simulate_cohort, write_cohort


def test_joint_baseline_against_pandas(tmp_path) -> None:
    folder = tmp_path / "cohort"
    write_cohort(simulate_cohort(threshold_met=150, seed=5), folder)
    cohort = load_cohort(folder, con=ibis.duckdb.connect())
    table = build_patient_table(cohort, load_protocol()).cache()
    got = collect_joint_baseline(table, 0)
    rows = table.to_pyarrow().to_pandas()
    cols = [f"{s}_0" for s in SUBSCALES]
    scored = rows.dropna(subset=cols)
    x = scored[cols].to_numpy(dtype=float) / SCALE
    assert got.n == len(scored) > 150
    assert got.mean == pytest.approx(tuple(x.mean(axis=0)), abs=1e-12)
    assert np.asarray(got.cov) == pytest.approx(np.cov(x, rowvar=False), abs=1e-12)
    comp = scored[scored.completer]
    expected = comp.groupby(cols).size()
    assert sum(got.completers.values()) == len(comp)
    assert got.completers == {tuple(int(v) for v in k): int(n) for k, n in expected.items()}
