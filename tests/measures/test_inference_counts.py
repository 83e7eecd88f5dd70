"""Engine counts of the honest-inference analyses (issue 16) against pandas on the raw tables.

The synthetic cohort is drawn with a raised serious-adverse-event probability so that
events exist, some of them ending treatment (a patient with an event is then a
non-completer, whom a completers-only count never sees).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import ibis
import pytest

from burnout.cohort import build_patient_table
from burnout.ingest import load_cohort
from burnout.measures import collect_measures
from burnout.plan import load_protocol
from burnout.results import build_results
from burnout.simulate import simulate_cohort, write_cohort
from burnout.simulate.model import ModelParams


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("inference") / "cohort"
    params = replace(ModelParams(), p_serious_adverse_event=0.02)
    write_cohort(simulate_cohort(threshold_met=300, seed=29, params=params), folder)
    plan = load_protocol().replace({"privacy.min_cell_count": 1})
    cohort = load_cohort(folder, con=ibis.duckdb.connect())
    table = build_patient_table(cohort, plan).cache()
    m = collect_measures(table, plan)
    tree = build_results(m, plan, meta={}, warnings=[])
    sessions = cohort.sessions.to_pyarrow().to_pandas()
    rows = table.to_pyarrow().to_pandas()
    return {"plan": plan, "m": m, "tree": tree, "sessions": sessions, "rows": rows, "table": table}


def test_safety_counts_against_pandas_on_the_sessions_table(run: dict[str, Any]) -> None:
    ses, safety = run["sessions"], run["m"].safety
    per_patient = ses.groupby("patient_id")["serious_adverse_event"].sum()
    assert safety.patients == ses.patient_id.nunique()
    assert safety.sessions == len(ses)
    assert safety.sae_sessions == int(ses.serious_adverse_event.sum())
    assert safety.sae_patients == int((per_patient > 0).sum())
    assert safety.sae_patients > 0  # the raised probability gives events to count
    for t in (2, 4, 6):
        at_t = ses[(ses.session == t) & ses.side_effects.notna()]
        assert safety.side_effects[t] == (int(at_t.side_effects.sum()), len(at_t))


def test_safety_counts_events_the_completers_never_show(run: dict[str, Any]) -> None:
    rows = run["rows"]
    completers_with_event = int(((rows.sae_count > 0) & rows.completer).sum())
    assert run["m"].safety.sae_patients > completers_with_event


def test_safety_tree_is_exact_and_primary_per_patient(run: dict[str, Any]) -> None:
    from statsmodels.stats.proportion import proportion_confint

    sae = run["tree"]["safety"]["serious_adverse_events"]
    assert sae["primary"] == "patients"
    for key in ("patients", "sessions"):
        p = sae[key]
        low, high = proportion_confint(p["count"], p["n"], alpha=0.05, method="beta")
        assert p["interval"] == "clopper-pearson"
        assert p["ci"] == pytest.approx([low, high], abs=1e-12)


def test_baseline_reference_against_pandas(run: dict[str, Any]) -> None:
    """Regression to the mean's inputs: every scored baseline, the threshold-met, the completers' change."""
    from burnout.instrument import SCALE, SUBSCALES
    from burnout.measures.reliable import collect_baseline_reference

    rows = run["rows"]
    ref = collect_baseline_reference(run["table"], 0, 6)
    for s in SUBSCALES:
        scored = rows[f"{s}_0"].dropna()
        assert ref.reference[s].n == len(scored) and ref.reference[s].total == int(scored.sum())
        assert ref.sd(s) == pytest.approx(float((scored / SCALE).std(ddof=1)), rel=1e-12)
        selected = rows.loc[rows.threshold_met, f"{s}_0"].dropna()
        assert (ref.selected[s].n, ref.selected[s].total) == (len(selected), int(selected.sum()))
        done = rows[rows.completer]
        change = done[f"{s}_6"] - done[f"{s}_0"]
        assert (ref.completer_change[s].n, ref.completer_change[s].total) == (len(change), int(change.sum()))
        hist = done[f"{s}_0"].value_counts()
        assert ref.completer_baselines[s] == {int(x): int(c) for x, c in hist.items()}
        assert list(ref.completer_baselines[s]) == sorted(ref.completer_baselines[s])  # a fixed order for float sums


def test_early_change_by_completion_against_pandas(run: dict[str, Any]) -> None:
    """Attrition: the change to the first follow-up by completion status, and its SMD by hand."""
    import numpy as np

    from burnout.instrument import SCALE, SUBSCALES

    rows, tree = run["rows"], run["tree"]
    itt = rows[rows.threshold_met]
    early = tree["attrition"]["early_change"]
    assert (early["from"], early["to"]) == ("0", "2")
    for s in SUBSCALES:
        stats = {}
        for group, flag in (("completers", itt.completer), ("non_completers", ~itt.completer)):
            d = ((itt.loc[flag, f"{s}_2"] - itt.loc[flag, f"{s}_0"]).dropna() / SCALE).to_numpy(dtype=float)
            got = early[s][group]
            assert got["n"] == len(d)
            assert got["mean"] == pytest.approx(d.mean(), abs=1e-12)
            assert got["sd"] == pytest.approx(d.std(ddof=1), rel=1e-12)
            stats[group] = (d.mean(), d.std(ddof=1))
        (m1, s1), (m2, s2) = stats["completers"], stats["non_completers"]
        assert early[s]["smd"] == pytest.approx((m1 - m2) / np.sqrt((s1**2 + s2**2) / 2), rel=1e-9)


def test_d_av_beside_dz_against_pandas(run: dict[str, Any]) -> None:
    """d_av = mean change / mean of the two SDs (Lakens 2013, eq. 10), from the completers' raw scores."""
    from burnout.instrument import SCALE, SUBSCALES

    rows, tree = run["rows"], run["tree"]
    done = rows[rows.completer]
    for s in SUBSCALES:
        base = done[f"{s}_0"].to_numpy(dtype=float) / SCALE
        for t in (2, 4, 6):
            now = done[f"{s}_{t}"].to_numpy(dtype=float) / SCALE
            want = (now - base).mean() / ((base.std(ddof=1) + now.std(ddof=1)) / 2)
            es = tree["subscales"][s]["timepoints"][str(t)]["effect_size"]
            assert es["d_av"] == pytest.approx(want, rel=1e-9)
