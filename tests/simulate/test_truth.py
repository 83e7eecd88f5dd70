"""The synthetic truth: ``simulate`` writes every patient's items at every assessment beside
the cohort (synthetic_truth.csv), the loader ignores it, and the demo's truth section
(measures.collect_truth) equals a pandas computation of the same file."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import ibis
import numpy as np
import pandas as pd

from burnout.ingest import load_cohort
from burnout.instrument import GOOD_DIRECTION, MBI_ITEMS, SUBSCALE_ITEMS, SUBSCALES
from burnout.measures.truth import collect_truth
from burnout.plan import load_protocol
from burnout.simulate import simulate_cohort, write_cohort


def test_truth_file_shape_and_agreement_with_the_cohort(tmp_path: Path) -> None:
    cohort = simulate_cohort(patients=400, seed=5)
    files = write_cohort(cohort, tmp_path / "c")
    assert [f.name for f in files][-1] == "synthetic_truth.csv"
    truth = pd.read_csv(files[-1])
    n = cohort.patients.num_rows
    assert list(truth.columns) == ["patient_id", "after_session", "threshold_met", "returned"] + [
        f"item_{i}" for i in range(1, MBI_ITEMS + 1)
    ]
    assert len(truth) == 4 * n and truth.groupby("patient_id").size().eq(4).all()
    assert sorted(truth.after_session.unique()) == [0, 2, 4, 6]
    items = truth[[f"item_{i}" for i in range(1, MBI_ITEMS + 1)]]
    assert items.notna().all().all() and items.isin(range(7)).all().all()  # nothing blank
    # a returned form is in mbi_gs with the same answered items; the others are not
    mbi = cohort.mbi_gs.to_pandas()
    returned = truth[truth.returned].merge(mbi, on=["patient_id", "after_session"], suffixes=("", "_obs"))
    assert len(returned) == truth.returned.sum() == len(mbi)
    for i in range(1, MBI_ITEMS + 1):
        answered = returned[f"item_{i}_obs"].notna()
        assert (returned.loc[answered, f"item_{i}"] == returned.loc[answered, f"item_{i}_obs"]).all()
    # the loader reads the cohort and ignores the truth file
    loaded = load_cohort(tmp_path / "c", con=ibis.duckdb.connect())
    assert loaded.mbi_gs.count().execute() == len(mbi)


def test_collect_truth_against_pandas(tmp_path: Path) -> None:
    cohort = simulate_cohort(threshold_met=300, seed=9)
    plan = load_protocol()
    tm = collect_truth(ibis.duckdb.connect().create_table("t", cohort.truth), plan)
    df = cohort.truth.to_pandas()
    df = df[df.threshold_met]
    wide = {}
    for s in SUBSCALES:
        cols = [f"item_{i}" for i in SUBSCALE_ITEMS[s]]
        k = len(cols)
        score = [Fraction(int(v), k) for v in df[cols].sum(axis=1)]  # exact means
        wide[s] = pd.DataFrame({"id": df.patient_id, "t": df.after_session, "v": score}).pivot(
            index="id", columns="t", values="v"
        )
    assert tm.n == 300
    any_resp = np.zeros(300, dtype=bool)
    for s in SUBSCALES:
        change = (wide[s][6] - wide[s][0]).to_numpy()
        resp = np.array([c * GOOD_DIRECTION[s] >= 1 for c in change])
        any_resp |= resp
        assert tm.responders[s] == int(resp.sum())
        assert Fraction(tm.change_sum[s], 600000) == sum(change, Fraction(0))
    assert tm.responders["at_least_1"] == int(any_resp.sum())
