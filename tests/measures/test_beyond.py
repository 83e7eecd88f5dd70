"""beyond.py against independent computations on per-patient rows pulled for the test.

The product never pulls these rows (except the MI matrix); the tests do, to count,
average and regress directly with pandas, numpy, scipy and statsmodels.
"""

from __future__ import annotations

import math
from dataclasses import replace
from fractions import Fraction
from pathlib import Path
from typing import Any

import ibis
import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats

from burnout.cohort import build_patient_table
from burnout.ingest import load_cohort
from burnout.instrument import GOOD_DIRECTION, SCALE, SUBSCALE_ITEMS, SUBSCALES
from burnout.measures import ItemMoments, collect_beyond
from burnout.plan import load_protocol
from burnout.results import MIXED_MODEL_ASSUMPTIONS, beyond_results, dumps
from burnout.scoring import PHQ9_SCALE
from burnout.simulate import simulate_cohort, write_cohort
from cohortfactory import patient_ids
from cohortfactory import write_cohort as write_small_cohort

TIMES = (0, 2, 4, 6)


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("beyond") / "cohort"
    write_cohort(simulate_cohort(threshold_met=300, seed=23), folder)
    plan = load_protocol().replace({"privacy.min_cell_count": 1})
    cohort = load_cohort(folder, con=ibis.duckdb.connect())
    table = build_patient_table(cohort, plan).cache()
    bm = collect_beyond(table, cohort, plan, imputations=3, iterations=2)
    tree = beyond_results(bm, plan, threshold_met=bm.threshold_met, completers=bm.completers)
    rows = table.to_pyarrow().to_pandas()
    items = cohort.mbi_gs.to_pyarrow().to_pandas()
    return {"plan": plan, "cohort": cohort, "table": table, "bm": bm, "tree": tree, "rows": rows, "items": items}


def test_tree_has_the_contract_keys(run: dict[str, Any]) -> None:
    tree = run["tree"]
    assert list(tree) == [
        "itt",
        "phq9",
        "reliable_change",
        "reliability",
        "measurement_invariance",
        "regression_to_mean",
    ]
    itt = tree["itt"]
    assert set(itt) == {"threshold_met", "worst_case", "multiple_imputation", "mmrm", "mmrm_tipping", "mixed_model"}
    for s in SUBSCALES:
        assert set(itt["worst_case"][s]["response"]) == {"count", "n", "rate", "ci", "suppressed"}
        assert set(itt["multiple_imputation"][s]["response"]) >= {"rate", "ci", "imputations"}
        assert set(itt["mixed_model"][s]["timepoints"]) == {str(t) for t in TIMES}
        assert set(tree["phq9"]["adjusted"][s]) == {"intercept", "intercept_ci", "slope", "slope_ci", "n"}
        assert set(tree["reliability"][s]) == {str(t) for t in TIMES}
    assert itt["mixed_model"]["assumptions"] == MIXED_MODEL_ASSUMPTIONS
    assert "missing at random" in MIXED_MODEL_ASSUMPTIONS


# --------------------------------------------------------------------------- worst case
def test_worst_case_against_direct_count(run: dict[str, Any]) -> None:
    """Non-responder imputation: an observed response counts, completer or not; missing = non-response."""
    rows, tree = run["rows"], run["tree"]
    itt = rows[rows.threshold_met]
    n = len(itt)
    assert tree["itt"]["threshold_met"] == n
    responded = {}
    for s in SUBSCALES:
        # a response: baseline and last assessment scored and the change in the good direction >= 1 point
        change = (itt[f"{s}_6"] - itt[f"{s}_0"]) * GOOD_DIRECTION[s]
        responded[s] = change.notna() & (change >= SCALE)
        count = int(responded[s].sum())
        wc = tree["itt"]["worst_case"][s]["response"]
        assert (wc["count"], wc["n"]) == (count, n)
        assert wc["rate"] == count / n
        assert count > int((responded[s] & itt.completer).sum())  # non-completers' observed responses count
    any_resp = pd.concat(list(responded.values()), axis=1).any(axis=1)
    wc1 = tree["itt"]["worst_case"]["responders"]["at_least_1"]
    assert (wc1["count"], wc1["n"]) == (int(any_resp.sum()), n)


def test_worst_case_hides_a_few_non_completer_responders(run: dict[str, Any]) -> None:
    """Published beside the completers' responders, the worst case would give away the difference."""
    bm = run["bm"]
    done = bm.completer_responders["cynicism"]
    planted = replace(bm, worst_case=bm.worst_case | {"cynicism": done + 4})
    plan = run["plan"].replace({"privacy.min_cell_count": 11})
    tree = beyond_results(planted, plan, threshold_met=bm.threshold_met, completers=bm.completers)
    assert tree["itt"]["worst_case"]["cynicism"]["response"]["hidden"] == "complement"


# --------------------------------------------------------------------------- reliability
def _alpha_by_hand(x: np.ndarray) -> float:
    k = x.shape[1]
    return k / (k - 1) * (1 - x.var(axis=0, ddof=1).sum() / x.sum(axis=1).var(ddof=1))


def test_alpha_against_hand_computation_on_raw_items(run: dict[str, Any]) -> None:
    rows, items, tree = run["rows"], run["items"], run["tree"]
    completers = set(rows.patient_id[rows.completer])
    for s in SUBSCALES:
        cols = [f"item_{i}" for i in SUBSCALE_ITEMS[s]]
        k = len(cols)
        for t in TIMES:
            sub = items[items.patient_id.isin(completers) & (items.after_session == t)][cols].dropna()
            x = sub.to_numpy(dtype=float)
            alpha = _alpha_by_hand(x)
            n = len(x)
            low = 1 - (1 - alpha) * stats.f.ppf(0.975, n - 1, (n - 1) * (k - 1))
            high = 1 - (1 - alpha) * stats.f.ppf(0.025, n - 1, (n - 1) * (k - 1))
            got = tree["reliability"][s][str(t)]
            assert got["n"] == n and got["items"] == k
            assert got["alpha"] == pytest.approx(alpha, abs=1e-12)
            assert got["ci"] == pytest.approx([low, high], abs=1e-10)


def test_item_moments_without_rows_give_no_alpha() -> None:
    im = ItemMoments(n=0, item_sums=(0,) * 5, item_sum_sq=(0,) * 5, total=0, total_sq=0)
    assert im.reliability().alpha is None


# --------------------------------------------------------------------------- reliable change
def test_reliable_change_against_hand_computation(run: dict[str, Any]) -> None:
    """Jacobson & Truax (1991) by hand: the plan's test-retest reliability and the baseline SD of
    every patient with a scored baseline (before the threshold selects), not the completers'."""
    rows, tree, plan = run["rows"], run["tree"], run["plan"]
    comp = rows[rows.completer]
    for s in SUBSCALES:
        scored = rows[f"{s}_0"].dropna().to_numpy(dtype=float) / SCALE
        sd = np.std(scored, ddof=1)
        reliability = plan.reliable_change.reliability(s)
        assert reliability == {"exhaustion": 0.65, "cynicism": 0.60, "professional_efficacy": 0.67}[s]
        se_diff = sd * math.sqrt(2) * math.sqrt(1 - reliability)
        rci = (comp[f"{s}_6"] - comp[f"{s}_0"]).to_numpy(dtype=float) / SCALE * GOOD_DIRECTION[s] / se_diff
        got = tree["reliable_change"][s]
        assert got["reliability"] == reliability
        assert got["sd"] == pytest.approx(sd, rel=1e-12)
        assert "Schaufeli" in got["source"] and "scored baseline" in got["source"]
        assert got["critical_change"] == pytest.approx(1.96 * se_diff, rel=1e-12)
        # Counts: the RCI passes 1.96 (ties at exactly 1.96 decided in exact arithmetic)
        critical = Fraction(got["critical_change"])
        change_units = ((comp[f"{s}_6"] - comp[f"{s}_0"]) * GOOD_DIRECTION[s]).astype(int)
        improved = sum(Fraction(int(c), SCALE) >= critical for c in change_units)
        deteriorated = sum(Fraction(-int(c), SCALE) >= critical for c in change_units)
        assert got["improved"]["count"] == improved == int((rci >= 1.96 - 1e-9).sum())
        assert got["deteriorated"]["count"] == deteriorated == int((rci <= -1.96 + 1e-9).sum())
        assert got["improved"]["n"] == len(comp)


def test_reliable_change_takes_the_plans_sd_and_source(run: dict[str, Any]) -> None:
    plan = run["plan"].replace(
        {
            "reliable_change.cynicism_sd": 1.3,
            "reliable_change.cynicism_reliability": 0.8,
            "reliable_change.source": "norms X",
        }
    )
    bm = collect_beyond(run["table"], run["cohort"], plan, imputations=2, iterations=1)
    got = beyond_results(bm, plan, threshold_met=bm.threshold_met, completers=bm.completers)["reliable_change"]
    assert (got["cynicism"]["sd"], got["cynicism"]["reliability"]) == (1.3, 0.8)
    assert got["cynicism"]["critical_change"] == pytest.approx(1.96 * 1.3 * math.sqrt(2 * 0.2), rel=1e-12)
    assert got["cynicism"]["source"].startswith("reliability: norms X; SD: the analysis plan")


def test_reliable_change_needs_no_items(tmp_path: Path) -> None:
    """A cohort with subscale scores only: alpha cannot be computed; the reliable change, from the
    plan's reliability and the scored baselines' SD, still can."""
    rng = np.random.default_rng(0)
    rows = []
    for pid in patient_ids():
        for t in TIMES:
            e, c, pe = 5.2 - 0.1 * t + rng.integers(0, 5) / 5, 4.4, 3.0 + rng.integers(0, 6) / 6
            rows.append(
                {
                    "patient_id": pid,
                    "after_session": str(t),
                    "exhaustion": f"{e:.2f}",
                    "cynicism": f"{c:.2f}",
                    "professional_efficacy": f"{pe:.2f}",
                }
            )
    folder = write_small_cohort(tmp_path / "c", mbi_gs=rows)
    plan = load_protocol().replace({"privacy.min_cell_count": 1})
    cohort = load_cohort(folder, con=ibis.duckdb.connect())
    table = build_patient_table(cohort, plan).cache()
    bm = collect_beyond(table, cohort, plan, imputations=2, iterations=1)
    tree = beyond_results(bm, plan, threshold_met=bm.threshold_met, completers=bm.completers)
    assert bm.completers >= 2 and "phq9" not in tree
    for s in SUBSCALES:
        assert tree["reliability"][s]["0"]["alpha"] is None
    assert tree["reliable_change"]["exhaustion"]["improved"]["count"] is not None
    # cynicism is 4.4 for everyone: no spread, so no SD to scale by, and the reason says what to do
    assert "set the SD in the plan" in tree["reliable_change"]["cynicism"]["reason"]
    assert tree["reliable_change"]["cynicism"]["improved"]["count"] is None


# --------------------------------------------------------------------------- PHQ-9
def test_phq9_against_pandas_and_statsmodels(run: dict[str, Any]) -> None:
    rows, tree = run["rows"], run["tree"]
    comp = rows[rows.completer]
    phq = tree["phq9"]
    assert phq["population"] == "completers"
    base = comp.phq9_0
    for t in TIMES:
        both = comp[base.notna() & comp[f"phq9_{t}"].notna()]
        x = both[f"phq9_{t}"].to_numpy(dtype=float) / PHQ9_SCALE
        got = phq["timepoints"][str(t)]
        assert got["n"] == len(x)
        assert got["mean"] == pytest.approx(x.mean(), abs=1e-12)
        assert got["sd"] == pytest.approx(x.std(ddof=1), rel=1e-12)
        if t:
            d = x - both.phq9_0.to_numpy(dtype=float) / PHQ9_SCALE
            assert got["change"] == pytest.approx(d.mean(), abs=1e-12)
            assert got["effect_size"]["dz"] == pytest.approx(d.mean() / d.std(ddof=1), rel=1e-12)
    # response and remission: exact fractions of the raw totals
    elig = comp[(base >= 10 * PHQ9_SCALE) & comp.phq9_6.notna()]
    fell = [Fraction(int(b)) - Fraction(int(f)) >= Fraction(int(b), 2) for b, f in zip(elig.phq9_0, elig.phq9_6)]
    assert (phq["response"]["count"], phq["response"]["n"]) == (sum(fell), len(elig))
    assert phq["remission"]["count"] == int((elig.phq9_6 / PHQ9_SCALE < 5).sum())
    for s in SUBSCALES:
        resp = elig[f"response_{s}"].to_numpy(bool)
        got = phq["subscale_responders_not_phq9_responders"][s]
        assert (got["count"], got["n"]) == (int((resp & ~np.array(fell, bool)).sum()), int(resp.sum()))
        # OLS of the subscale change on the PHQ-9 change, points, statsmodels on raw rows
        paired = comp[comp.phq9_0.notna() & comp.phq9_6.notna()]
        dx = (paired.phq9_6 - paired.phq9_0).to_numpy(float) / PHQ9_SCALE
        dy = (paired[f"{s}_6"] - paired[f"{s}_0"]).to_numpy(float) / SCALE
        fit = sm.OLS(dy, sm.add_constant(dx)).fit()
        adj = phq["adjusted"][s]
        assert adj["n"] == len(dx)
        assert [adj["intercept"], adj["slope"]] == pytest.approx(list(fit.params), abs=1e-10)
        ci = fit.conf_int(0.05)
        assert adj["intercept_ci"] == pytest.approx(list(ci[0]), abs=1e-9)
        assert adj["slope_ci"] == pytest.approx(list(ci[1]), abs=1e-9)


# --------------------------------------------------------------------------- privacy, determinism
def _walk(node: Any, path: str = ""):
    if isinstance(node, dict):
        yield path, node
        for k, v in node.items():
            yield from _walk(v, f"{path}.{k}")


def test_no_small_count_is_published_with_the_default_plan(run: dict[str, Any]) -> None:
    plan = load_protocol()  # min_cell_count = 11
    bm = run["bm"]
    tree = beyond_results(bm, plan, threshold_met=bm.threshold_met, completers=bm.completers)
    hidden = 0
    for path, node in _walk(tree):
        for key in ("count", "n", "patients", "observations", "threshold_met"):
            v = node.get(key)
            if isinstance(v, int) and not isinstance(v, bool):
                assert not 1 <= v <= 10, (path, key, v)
        if {"count", "n", "suppressed"} <= set(node) and node["count"] is not None and node["n"] is not None:
            assert not 1 <= node["n"] - node["count"] <= 10, path
        hidden += bool(node.get("suppressed"))


def test_planted_small_counts_are_hidden(run: dict[str, Any]) -> None:
    plan, bm = load_protocol(), run["bm"]
    rc = bm.reliable_change["professional_efficacy"]
    planted = replace(
        bm,
        worst_case=bm.worst_case | {"exhaustion": 3},
        reliable_change=bm.reliable_change | {"professional_efficacy": replace(rc, deteriorated=4, improved=rc.n - 20)},
        imputation=replace(bm.imputation, responders=bm.imputation.responders | {"cynicism": (4, 6, 5)}),
    )
    tree = beyond_results(planted, plan, threshold_met=bm.threshold_met, completers=bm.completers)
    assert tree["itt"]["worst_case"]["exhaustion"]["response"] == {
        "count": None,
        "n": bm.threshold_met,
        "rate": None,
        "ci": None,
        "suppressed": True,
        "hidden": "small",
    }
    pe = tree["reliable_change"]["professional_efficacy"]
    assert pe["deteriorated"]["suppressed"] and pe["deteriorated"]["count"] is None
    # "neither" (16 here) is never published, so improved can stay: n - improved = 20 >= 11
    # bounds deteriorated only to 0..20
    assert pe["improved"]["count"] == rc.n - 20 and "neither" not in pe
    mi = tree["itt"]["multiple_imputation"]["cynicism"]["response"]
    assert mi["suppressed"] and mi["rate"] is None and mi["ci"] is None


def test_deterministic_and_checked_against_the_main_flow(run: dict[str, Any]) -> None:
    plan, bm = run["plan"], run["bm"]
    again = collect_beyond(run["table"], run["cohort"], plan, imputations=3, iterations=2)
    kw = {"threshold_met": bm.threshold_met, "completers": bm.completers}
    assert dumps(beyond_results(again, plan, **kw)) == dumps(run["tree"])
    with pytest.raises(ValueError, match="same patient table"):
        beyond_results(bm, plan, threshold_met=bm.threshold_met + 1, completers=bm.completers)
    assert repr(bm).startswith(f"<BeyondMeasures: {bm.completers:,} completers of {bm.threshold_met:,}")


def _content_hash_in_python(rows: list[dict[str, int | None]], *, seed: int) -> list[int]:
    """The documented hash written out on Python integers: per value v (null = -1),
    h = ((h + (v + 2) mod p) * a) mod p from h = seed mod p; then (h * h mod p + seed) mod p."""
    p, a = 2_147_483_629, 1_103_515_245
    out = []
    for row in rows:
        h = seed % p
        for v in row.values():
            h = ((h + ((-1 if v is None else v) + 2) % p) * a) % p
        out.append(((h * h) % p + seed % p) % p)
    return out


def test_content_hash_matches_python_integers() -> None:
    """The engine's sampling hash equals the same arithmetic on Python ints (exact), nulls included."""
    from burnout.measures import content_hash

    rows = [
        {"a": 3_600_000, "b": None, "c": -1},
        {"a": 0, "b": 1, "c": 0},
        {"a": 2_039_999, "b": 120, "c": 1},
        {"a": None, "b": None, "c": None},
    ]
    t = ibis.memtable(rows, schema={"a": "int64", "b": "int64", "c": "int64"})
    for seed in (0, 20240601, 2**40 + 7):
        got = t.select(h=content_hash(t, seed=seed)).to_pyarrow().column("h").to_pylist()
        assert got == _content_hash_in_python(rows, seed=seed)
        assert all(0 <= h < 2**31 for h in got)
    # nearby rows are scattered
    near = [{"a": v, "b": 1, "c": 0} for v in range(1000)]
    hashes = _content_hash_in_python(near, seed=1)
    assert len(set(hashes)) == 1000
    assert np.corrcoef(np.arange(1000), hashes)[0, 1] ** 2 < 0.02


def _beyond_of(folder: Path, plan) -> Any:
    cohort = load_cohort(folder, con=ibis.duckdb.connect())
    table = build_patient_table(cohort, plan).cache()
    return collect_beyond(table, cohort, plan, imputations=2, iterations=1)


def test_mi_sample_is_drawn_in_the_engine_by_content(monkeypatch, tmp_path: Path) -> None:
    """Above the cap the engine sends only the sample; the same rows in any row order."""
    import pyarrow.parquet as pq

    import burnout.measures.extended as extended_measures
    import burnout.results.itt as itt_results

    folder = tmp_path / "a"
    write_cohort(simulate_cohort(threshold_met=400, seed=5), folder, fmt="parquet")
    shuffled = tmp_path / "b"
    shuffled.mkdir()
    rng = np.random.default_rng(2)
    for path in folder.glob("*.parquet"):  # the data files, not burnout's manifest
        t = pq.read_table(path)
        pq.write_table(t.take(rng.permutation(t.num_rows)), shuffled / path.name)
    plan = load_protocol()
    full = _beyond_of(folder, plan)
    monkeypatch.setattr(extended_measures, "MI_MAX_PATIENTS", 150)  # the draw
    monkeypatch.setattr(itt_results, "MI_MAX_PATIENTS", 150)  # the note that names the cap
    first = _beyond_of(folder, plan)
    assert first.imputation is not None and first.imputation.n == 150 < first.threshold_met == full.imputation.n
    for s in SUBSCALES:  # same estimand: the sample's rate is within sampling error of the full one
        p = np.mean(full.imputation.rates(s))
        assert abs(np.mean(first.imputation.rates(s)) - p) < 4 * np.sqrt(p * (1 - p) / 150)
    again = _beyond_of(shuffled, plan)
    assert again.imputation == first.imputation
    other_seed = _beyond_of(folder, plan.replace({"analysis.seed": 99}))
    assert other_seed.imputation.responders != first.imputation.responders
