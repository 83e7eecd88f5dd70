"""measures.items against pandas on the item rows pulled for the test."""

from __future__ import annotations

import ibis
import numpy as np
import pytest

from burnout.cohort import build_patient_table
from burnout.ingest import load_cohort
from burnout.instrument import SUBSCALE_ITEMS, SUBSCALES
from burnout.measures.items import collect_item_pairs
from burnout.plan import load_protocol
from burnout.simulate import simulate_cohort, write_cohort


def test_item_pairs_against_pandas(tmp_path) -> None:
    folder = tmp_path / "cohort"
    write_cohort(simulate_cohort(threshold_met=150, seed=6), folder)
    cohort = load_cohort(folder, con=ibis.duckdb.connect())
    table = build_patient_table(cohort, load_protocol()).cache()
    comp = table.filter(table.completer)
    got = collect_item_pairs(cohort, comp, 0, 6)
    ids = set(comp.patient_id.to_pyarrow().to_pylist())
    items = cohort.mbi_gs.to_pyarrow().to_pandas()
    items = items[items.patient_id.isin(ids)]
    for s in SUBSCALES:
        cols = [f"item_{i}" for i in SUBSCALE_ITEMS[s]]
        wide = items[items.after_session == 0][["patient_id", *cols]].merge(
            items[items.after_session == 6][["patient_id", *cols]], on="patient_id", suffixes=("_b", "_l")
        )
        wide = wide.dropna()
        x = wide[[f"{c}_b" for c in cols] + [f"{c}_l" for c in cols]].to_numpy(dtype=float)
        assert got[s].n == len(wide) > 20
        assert got[s].mean() == pytest.approx(x.mean(axis=0), abs=1e-12)
        assert got[s].cov() == pytest.approx(np.cov(x, rowvar=False), abs=1e-12)
