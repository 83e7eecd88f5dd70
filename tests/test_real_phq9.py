"""PHQ-9 code on real data: 403 people answering the PHQ-9 twice (BGGM's depression_anxiety_t1/t2).

The data (``../shared/data/external/phq9_gad7_two_waves``, see its SOURCE.txt) are a
panel, not a treatment cohort, and are never copied into this repository. A small
adapter turns them into a cohort folder in ``tmp_path``; the product's own loader
(``burnout.ingest.load_cohort``), patient table and PHQ-9 code then have to
reproduce the published-in-the-data means (7.48 at wave 1, 6.29 at wave 2) and the
paired effect size computed independently here with scipy on the raw totals.

Adapter decisions (the least invention the data format allows):

- ``patients.csv``: ``patient_id`` = ``row<row_id>`` (the files' own row key; rows
  are the same people at both waves); age, sex, route, pathway blank (not shipped).
- ``phq9.csv``: wave 1 as ``after_session`` 0, wave 2 as ``after_session`` 2, items
  ``PHQ1..PHQ9`` -> ``item_1..item_9`` unchanged.
- ``mbi_gs.csv`` is required and may not be empty, and the panel has no MBI-GS: one
  baseline row per person with every item blank ("not answered"). No score is made
  up; nobody is scored, so nobody meets the burnout threshold.
- ``sessions.csv``: header only (no treatment was delivered), which the format accepts.
- The plan's schedule becomes ``assessments = [0, 2]``, ``sessions = 2``.

Because nobody can be a completer without MBI-GS scores, the test calls the
lower-level :func:`burnout.measures.collect_phq9` with ``population="all"``: the same
queries over every patient with the totals needed instead of over completers.
"""

from __future__ import annotations

import csv
from pathlib import Path

import ibis
import numpy as np
import pandas as pd
import pytest
from scipy import stats

from burnout.cohort import build_patient_table
from burnout.ingest import load_cohort
from burnout.measures import collect_phq9
from burnout.plan import load_protocol
from burnout.results import phq9_results

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "external" / "phq9_gad7_two_waves"
WAVES = {0: "depression_anxiety_t1.csv", 2: "depression_anxiety_t2.csv"}

pytestmark = pytest.mark.skipif(
    not all((DATA / f).is_file() for f in WAVES.values()),
    reason=f"real PHQ-9 data not available at {DATA} (the shared data folder beside the repository)",
)


def _adapt(folder: Path) -> tuple[Path, dict[int, pd.DataFrame]]:
    folder.mkdir(parents=True)
    waves = {t: pd.read_csv(DATA / name) for t, name in WAVES.items()}
    ids = [f"row{r}" for r in waves[0].row_id]
    with (folder / "patients.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["patient_id", "age", "sex", "route", "pathway"])
        w.writerows([pid, "", "", "", ""] for pid in ids)
    with (folder / "phq9.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["patient_id", "after_session", *(f"item_{i}" for i in range(1, 10))])
        for t, df in waves.items():
            for _, r in df.iterrows():
                w.writerow([f"row{r.row_id}", t, *(int(r[f"PHQ{i}"]) for i in range(1, 10))])
    with (folder / "mbi_gs.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["patient_id", "after_session", *(f"item_{i}" for i in range(1, 17))])
        w.writerows([pid, 0, *([""] * 16)] for pid in ids)
    (folder / "sessions.csv").write_text("patient_id,session\n", encoding="utf-8")
    return folder, waves


def test_phq9_means_and_paired_dz_against_scipy_on_real_data(tmp_path: Path) -> None:
    folder, waves = _adapt(tmp_path / "panel")
    # min_cell_count = 1 so that every count can be compared (the default hides 1..10; checked below)
    plan = load_protocol().replace(
        {"schedule.sessions": 2, "schedule.assessments": [0, 2], "privacy.min_cell_count": 1}
    )
    cohort = load_cohort(folder, scheduled_assessments=(0, 2), scheduled_sessions=2, con=ibis.duckdb.connect())
    assert cohort.rows["phq9"] == 806 and cohort.rows["patients"] == 403
    table = build_patient_table(cohort, plan).cache()
    assert collect_phq9(table, plan) is not None  # over completers: there are none here
    pm = collect_phq9(table, plan, population="all")
    out = phq9_results(pm, plan)

    t1, t2 = (waves[t][[f"PHQ{i}" for i in range(1, 10)]].sum(axis=1).to_numpy(float) for t in (0, 2))
    assert out["timepoints"]["0"]["n"] == out["timepoints"]["2"]["n"] == 403
    assert round(out["timepoints"]["0"]["mean"], 2) == 7.48
    assert round(out["timepoints"]["2"]["mean"], 2) == 6.29
    assert out["timepoints"]["0"]["mean"] == pytest.approx(t1.mean(), abs=1e-12)
    assert out["timepoints"]["2"]["sd"] == pytest.approx(np.std(t2, ddof=1), rel=1e-12)

    # paired dz = mean change / SD of change = t / sqrt(n), from scipy's paired t test
    ttest = stats.ttest_rel(t2, t1)
    dz = ttest.statistic / np.sqrt(len(t1))
    es = out["timepoints"]["2"]["effect_size"]
    assert es["dz"] == pytest.approx(dz, abs=1e-12)
    assert es["dz"] < 0 and es["ci"][0] < dz < es["ci"][1]
    assert out["timepoints"]["2"]["change"] == pytest.approx((t2 - t1).mean(), abs=1e-12)

    # response (>= 50% fall) and remission (< 5) among those starting at >= 10, counted directly
    start = t1 >= 10
    assert out["response"]["n"] == int(start.sum())
    assert out["response"]["count"] == int((start & (2 * t2 <= t1)).sum())
    assert out["remission"]["count"] == int((start & (t2 < 5)).sum()) == 7
    hidden = phq9_results(pm, plan.replace({"privacy.min_cell_count": 11}))["remission"]
    assert hidden["suppressed"] and hidden["count"] is None  # 7 is a small count
    assert out["population"] == "all"
    for s in out["adjusted"]:
        # no MBI-GS scores: nobody to regress, reported as not estimable
        assert out["adjusted"][s]["n"] == 0 and out["adjusted"][s]["slope"] is None
