"""measures.paired: the MBI-GS as a secondary instrument beside another primary gets the paired analysis.

With ``primary = "phq9"`` the MBI-GS sections are left out (results.primary); naming the
MBI-GS in ``secondary`` must then analyse it like any secondary instrument, not accept the
name and analyse nothing. The reference is pandas on the cohort files, scored by hand.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from burnout.analysis import analyze
from burnout.plan import parse_protocol
from burnout.simulate import simulate_cohort, write_cohort
from instrumentreference import phq9_primary_plan

PLAN = phq9_primary_plan(min_cell_count=1)

EXHAUSTION = [1, 2, 3, 4, 6]  # MBI-GS item positions of Exhaustion (the shipped definition)


@pytest.mark.slow
def test_the_mbi_gs_as_a_secondary_instrument_is_analysed_over_the_primary_completers(tmp_path) -> None:
    folder = tmp_path / "cohort"
    write_cohort(simulate_cohort(threshold_met=150, seed=11), folder)
    tree = json.loads(analyze(folder, protocol=parse_protocol(PLAN), out=None).to_json())
    assert "subscales" not in tree  # the MBI-GS sections stay out
    mbi = tree["instruments"]["analyses"]["mbi_gs"]
    assert mbi["role"] == "secondary" and set(mbi["scales"]) == {"exhaustion", "cynicism", "professional_efficacy"}
    note = tree["instruments"]["notes"][-1]
    assert "a secondary instrument of this plan" in note and "name it a secondary" not in note

    # completers by the PHQ-9 rule: total >= 10 at baseline, all 6 sessions, a PHQ-9 at every assessment
    # (the PHQ-9 total is prorated over 7 or 8 answered items: sum * 9 / answered, compared exactly)
    phq = pd.read_csv(folder / "phq9.csv")
    items = phq[[f"item_{i}" for i in range(1, 10)]]
    answered, total = items.notna().sum(axis=1), items.sum(axis=1)
    phq["met"] = (total * 9 >= 10 * answered).astype(float).where(answered >= 7)
    wide = phq.pivot_table(index="patient_id", columns="after_session", values="met")
    sessions = pd.read_csv(folder / "sessions.csv").groupby("patient_id")["session"].nunique()
    sessions = sessions.reindex(wide.index, fill_value=0)
    completers = wide[(wide[0] == 1) & wide[[2, 4, 6]].notna().all(axis=1) & (sessions >= 6)].index
    assert tree["flow"]["completers"] == len(completers)  # the same population as the reference

    mbi_rows = pd.read_csv(folder / "mbi_gs.csv")
    items = mbi_rows[[f"item_{i}" for i in EXHAUSTION]]
    mbi_rows["ex"] = items.mean(axis=1).where(items.notna().sum(axis=1) >= len(EXHAUSTION) - 1)
    ex = mbi_rows.pivot_table(index="patient_id", columns="after_session", values="ex").reindex(completers)
    both = ex[[0, 6]].dropna()
    change = both[6] - both[0]
    got = mbi["scales"]["exhaustion"]["timepoints"]["6"]
    assert got["n"] == len(both)
    assert got["mean"] == pytest.approx(both[6].mean(), abs=1e-9)
    assert got["change"] == pytest.approx(change.mean(), abs=1e-9)
    assert got["sd"] == pytest.approx(np.std(both[6], ddof=1), abs=1e-9)
