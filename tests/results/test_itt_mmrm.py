"""results/mmrm.py: itt.mmrm and itt.mmrm_tipping through the engine, against references on pulled rows.

The product fits the MMRM from the engine's per-pattern aggregates; the test pulls the
threshold-met rows, builds the pattern statistics from long data in Python and fits again
(the fit itself is validated in tests/stats/test_mmrm.py), then checks what the publisher
lets through and the tipping table's arithmetic.
"""

from __future__ import annotations

from typing import Any

import ibis
import numpy as np
import pytest

from burnout.cohort import build_patient_table
from burnout.ingest import load_cohort
from burnout.instrument import GOOD_DIRECTION, SCALE, SUBSCALES
from burnout.measures import collect_beyond
from burnout.plan import load_protocol
from burnout.results import beyond_results
from burnout.simulate import simulate_cohort, write_cohort
from burnout.stats import MMRM
from burnout.stats.mixed import pattern_stats_from_long

TIMES = (0, 2, 4, 6)


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("mmrm") / "cohort"
    write_cohort(simulate_cohort(threshold_met=300, seed=41), folder)
    plan = load_protocol().replace({"privacy.min_cell_count": 1, "sensitivity.delta_grid": [0, 0.5, 1, 2, 4]})
    cohort = load_cohort(folder, con=ibis.duckdb.connect())
    table = build_patient_table(cohort, plan).cache()
    bm = collect_beyond(table, cohort, plan, imputations=2, iterations=1)
    rows = table.filter(table.threshold_met).to_pandas()
    return {"plan": plan, "bm": bm, "rows": rows}


def _tree(run: dict[str, Any], k: int) -> dict[str, Any]:
    plan = run["plan"].replace({"privacy.min_cell_count": k})
    bm = run["bm"]
    return beyond_results(bm, plan, threshold_met=bm.threshold_met, completers=bm.completers)["itt"]


def _reference(rows: Any, s: str) -> MMRM:
    long = rows.melt(id_vars="patient_id", value_vars=[f"{s}_{t}" for t in TIMES]).dropna()
    long["t"] = long.variable.map({f"{s}_{t}": i for i, t in enumerate(TIMES)})
    stats_ = pattern_stats_from_long(long.patient_id, long.t, long.value.astype("int64"), n_timepoints=len(TIMES))
    return MMRM().fit(stats_, scale=SCALE)


def test_mmrm_results_against_a_fit_on_pulled_rows(run: dict[str, Any]) -> None:
    itt = _tree(run, 1)
    rows = run["rows"]
    for s in SUBSCALES:
        ref = _reference(rows, s)
        entry = itt["mmrm"][s]
        assert entry["patients"] == len(rows)
        assert entry["observations"] == int(rows[[f"{s}_{t}" for t in TIMES]].notna().sum().sum())
        assert entry["converged"] is True
        for j, t in enumerate(TIMES):
            tp = entry["timepoints"][str(t)]
            assert tp["n"] == int(rows[f"{s}_{t}"].notna().sum())
            assert tp["mean"]["estimate"] == pytest.approx(ref.means_[j], abs=1e-9)
            if j:
                c = ref.change(j)
                assert tp["change"]["estimate"] == pytest.approx(c.estimate, abs=1e-9)
                assert tp["change"]["df"] == pytest.approx(c.df, rel=1e-6)
                lo, hi = tp["change"]["ci"]
                assert lo < tp["change"]["estimate"] < hi
        assert entry["sd"]["0"] == pytest.approx(float(np.sqrt(ref.sigma_[0, 0])), rel=1e-7)
        assert np.allclose(np.diag(entry["correlation"]), 1.0)


def test_tipping_table_arithmetic(run: dict[str, Any]) -> None:
    itt = _tree(run, 1)
    rows = run["rows"]
    for s in SUBSCALES:
        tip = itt["mmrm_tipping"][s]
        missing_last = int(rows[f"{s}_6"].isna().sum())
        assert tip["dropout_share"] == pytest.approx(missing_last / len(rows), abs=1e-12)
        mar = itt["mmrm"][s]["timepoints"]["6"]["change"]
        assert tip["rows"][0]["change"] == pytest.approx(mar["estimate"], abs=1e-12)
        worse = -GOOD_DIRECTION[s]  # the shift is in the worse direction
        for r in tip["rows"]:
            assert r["change"] - mar["estimate"] == pytest.approx(worse * r["delta"] * tip["dropout_share"], abs=1e-12)
            assert r["includes_0"] == (r["ci"][0] <= 0 <= r["ci"][1])
        if tip["tipping_delta"]:
            # at the tipping delta the interval's end nearest 0 sits exactly on 0
            moved = worse * tip["tipping_delta"] * tip["dropout_share"]
            end = (mar["ci"][1] if GOOD_DIRECTION[s] < 0 else mar["ci"][0]) + moved
            assert end == pytest.approx(0.0, abs=1e-12)
            first = next((r["delta"] for r in tip["rows"] if r["delta"] >= tip["tipping_delta"]), None)
            assert tip["tipping_on_grid"] == first
    assert itt["mmrm_tipping"]["delta_grid"] == [0.0, 0.5, 1.0, 2.0, 4.0]


def test_privacy_withholds_what_rests_on_few_patients(run: dict[str, Any]) -> None:
    rows = run["rows"]
    n = len(rows)
    big = _tree(run, n + 1)  # every count small: the whole model withheld
    for s in SUBSCALES:
        entry = big["mmrm"][s]
        assert entry["patients"] is None and entry["observations"] is None and entry["correlation"] is None
        for t in TIMES:
            tp = entry["timepoints"][str(t)]
            assert tp["n"] is None and tp["mean"]["estimate"] is None
        assert big["mmrm_tipping"][s]["rows"] == [] and big["mmrm_tipping"][s]["dropout_share"] is None
    # k just above the number of patients scored at the last assessment: that visit and the tipping table go
    last = min(int(rows[f"{s}_6"].notna().sum()) for s in SUBSCALES)
    mid = _tree(run, last + 1)
    s = next(s for s in SUBSCALES if int(rows[f"{s}_6"].notna().sum()) == last)
    assert mid["mmrm"][s]["timepoints"]["6"]["change"]["estimate"] is None
    assert mid["mmrm"][s]["timepoints"]["0"]["mean"]["estimate"] is not None
    assert mid["mmrm_tipping"][s]["tipping_delta"] is None
