"""`burnout.analyze` end to end against an independent per-patient computation.

The reference below never touches the engine: it rebuilds every patient from the
rows written to disk, scores them in exact fractions, and computes each statistic
with scipy/statsmodels on per-patient data. Counts must match exactly; floats to
1e-6 (ABS_TOL).
"""

from __future__ import annotations

import json
import math
from fractions import Fraction
from pathlib import Path
from statistics import mean, stdev

import numpy as np
import pytest
from scipy import optimize, stats
from statsmodels.stats.contingency_tables import cochrans_q, mcnemar
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import proportion_confint

from burnout.analysis import analyze
from burnout.instrument import SUBSCALE_ITEMS, SUBSCALES
from burnout.plan import load_protocol
from cohortfactory import write_cohort

ABS_TOL = 1e-6
TIMEPOINTS = (0, 2, 4, 6)
GOOD = {"exhaustion": -1, "cynicism": -1, "professional_efficacy": 1}
PROFILES = ("burnout", "overextended", "disengaged", "ineffective", "engaged")


def _items_for(scores: dict[str, int], rng: np.random.Generator) -> dict[int, int]:
    """Integer items whose subscale sums equal the requested sums (spread across items)."""
    items = {}
    for s, total in scores.items():
        pos = SUBSCALE_ITEMS[s]
        base, extra = divmod(total, len(pos))
        vals = [base + (1 if i < extra else 0) for i in range(len(pos))]
        rng.shuffle(vals)
        items.update(dict(zip(pos, vals, strict=True)))
    return items


def build_cohort(tmp: Path, *, n: int = 160, seed: int = 7) -> tuple[Path, dict]:
    """A cohort with random patients plus hand-made edge cases; returns (folder, raw rows)."""
    rng = np.random.default_rng(seed)
    patients, mbi, sessions = [], [], []
    sexes, routes, paths = ["female", "male", "other", ""], ["sublingual", "subcutaneous"], ["burnout", "depression"]
    for i in range(n):
        pid = f"T{i:04d}"
        patients.append(
            {"patient_id": pid, "age": str(int(rng.integers(18, 80))), "sex": sexes[i % 4 if i % 9 else 0],
             "route": routes[i % 2], "pathway": paths[(i // 2) % 2]}
        )
        # latent improvement: sums on the 5-item (0-30) and 6-item (0-36) scales
        e0, c0, p0 = int(rng.integers(22, 31)), int(rng.integers(15, 30)), int(rng.integers(10, 30))
        drop = rng.choice([0, 1, 2, 3])
        for t in TIMEPOINTS:
            f = t / 6
            sums = {
                "exhaustion": int(np.clip(e0 - round(drop * 4 * f) - rng.integers(0, 3), 0, 30)),
                "cynicism": int(np.clip(c0 - round(drop * 3 * f) - rng.integers(0, 3), 0, 30)),
                "professional_efficacy": int(np.clip(p0 + round(drop * 2 * f) + rng.integers(0, 3), 0, 36)),
            }
            row = {"patient_id": pid, "after_session": str(t)}
            row.update({f"item_{k}": str(v) for k, v in _items_for(sums, rng).items()})
            mbi.append(row)
        last_session = 6 if i % 5 else int(rng.integers(1, 6))
        for s in range(1, last_session + 1):
            sessions.append({"patient_id": pid, "session": str(s),
                             "side_effects": ["true", "false", "false", ""][int(rng.integers(0, 4))],
                             "serious_adverse_event": "false"})
    # Edge cases, each a complete patient with all sessions.
    def add(pid: str, rows: dict[int, dict[int, int | None]], *, age: str = "40") -> None:
        patients.append({"patient_id": pid, "age": age, "sex": "female", "route": "sublingual", "pathway": "burnout"})
        for t, items in rows.items():
            mbi.append({"patient_id": pid, "after_session": str(t),
                        **{f"item_{k}": "" if v is None else str(v) for k, v in items.items()}})
        for s in range(1, 7):
            sessions.append({"patient_id": pid, "session": str(s), "side_effects": "false"})

    e48 = {1: 5, 2: 5, 3: 5, 4: 4, 6: 5}  # exhaustion exactly 4.8
    e38 = {1: 4, 2: 4, 3: 4, 4: 3, 6: 4}  # exactly 3.8: a change of exactly -1.0
    c38 = {8: 4, 9: 4, 13: 4, 14: 3, 15: 4}  # cynicism exactly 3.8
    c28 = {8: 3, 9: 3, 13: 3, 14: 2, 15: 3}
    pe = {5: 4, 7: 4, 10: 4, 11: 4, 12: 4, 16: 4}
    add("EDGE-exact", {0: e48 | c38 | pe, 2: e48 | c38 | pe, 4: e38 | c28 | pe, 6: e38 | c28 | pe})
    # cynicism 3.6 at baseline and efficacy 4.333 > 4.3: below threshold despite E 4.8
    add("EDGE-below", {t: e48 | {8: 4, 9: 4, 13: 3, 14: 3, 15: 4} | {5: 4, 7: 4, 10: 5, 11: 4, 12: 4, 16: 5} for t in TIMEPOINTS})
    # one blank exhaustion item at session 4: still scored (mean of 4)
    add("EDGE-oneblank", {0: e48 | c38 | pe, 2: e48 | c38 | pe, 4: e38 | {1: None} | c28 | pe, 6: e38 | c28 | pe})
    # two blank efficacy items at session 6: not scored, so not a completer
    add("EDGE-twoblank", {0: e48 | c38 | pe, 2: e48 | c38 | pe, 4: e38 | c28 | pe, 6: e38 | c28 | pe | {5: None, 7: None}})
    # an assessment at an unscheduled timepoint (3): ignored with a warning
    add("EDGE-unscheduled", {0: e48 | c38 | pe, 2: e48 | c38 | pe, 3: e38 | c28 | pe, 4: e38 | c28 | pe, 6: e38 | c28 | pe})
    folder = write_cohort(tmp, patients=patients, mbi_gs=mbi, sessions=sessions)
    return folder, {"patients": patients, "mbi": mbi, "sessions": sessions}


def reference(raw: dict, *, min_change: Fraction = Fraction(1)) -> dict:
    """Per-patient reference in exact fractions (no engine)."""
    e_min, c_min, pe_max = Fraction("4.8"), Fraction("3.8"), Fraction("4.3")
    scores: dict[str, dict[int, dict[str, Fraction | None]]] = {}
    for row in raw["mbi"]:
        t = int(row["after_session"])
        out = {}
        for s, pos in SUBSCALE_ITEMS.items():
            vals = [row.get(f"item_{k}", "") for k in pos]
            answered = [int(v) for v in vals if v not in ("", None)]
            out[s] = Fraction(sum(answered), len(answered)) if len(pos) - len(answered) <= 1 else None
        scores.setdefault(row["patient_id"], {})[t] = out
    sessions: dict[str, set[int]] = {}
    side: dict[str, dict[int, str]] = {}
    for row in raw["sessions"]:
        sessions.setdefault(row["patient_id"], set()).add(int(row["session"]))
        side.setdefault(row["patient_id"], {})[int(row["session"])] = row.get("side_effects", "")

    def meets(sc: dict[str, Fraction | None]) -> bool:
        return sc["exhaustion"] >= e_min and (sc["cynicism"] >= c_min or sc["professional_efficacy"] <= pe_max)

    people = []
    for p in raw["patients"]:
        pid = p["patient_id"]
        sc = scores.get(pid, {})
        base = sc.get(0)
        met = base is not None and all(v is not None for v in base.values()) and meets(base)
        complete = met and set(range(1, 7)) <= sessions.get(pid, set()) and all(
            t in sc and all(v is not None for v in sc[t].values()) for t in TIMEPOINTS
        )
        people.append({"pid": pid, "p": p, "met": met, "complete": complete, "sc": sc, "side": side.get(pid, {})})
    comp = [q for q in people if q["complete"]]
    for q in comp:
        q["resp"] = {s: GOOD[s] * (q["sc"][6][s] - q["sc"][0][s]) >= min_change for s in SUBSCALES}
        q["below"] = {t: not meets(q["sc"][t]) for t in TIMEPOINTS}
    return {"people": people, "completers": comp}


def wilson(count: int, n: int) -> list[float]:
    lo, hi = proportion_confint(count, n, alpha=0.05, method="wilson")
    return [lo, hi]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("analysis")
    folder, raw = build_cohort(tmp / "cohort")
    plan_path = tmp / "plan.toml"
    plan_path.write_text("[privacy]\nmin_cell_count = 1\n")
    result = analyze(folder, protocol=plan_path, out=tmp / "out")
    return result, reference(raw), tmp


def test_flow_counts_are_exact(run):
    result, ref, _ = run
    flow = result.results["flow"]
    assert flow["patients"] == len(ref["people"])
    assert flow["threshold_met"] == sum(q["met"] for q in ref["people"])
    assert flow["completers"] == len(ref["completers"])
    c = flow["completion"]
    assert (c["count"], c["n"]) == (flow["completers"], flow["threshold_met"])
    assert c["ci"] == pytest.approx(wilson(c["count"], c["n"]), abs=ABS_TOL)
    # sequential exclusions add up to everyone who is not a completer
    assert sum(flow["exclusions"].values()) + flow["completers"] == flow["patients"]


def test_edge_patients_are_classified_exactly(run):
    _, ref, _ = run
    by_id = {q["pid"]: q for q in ref["people"]}
    assert by_id["EDGE-exact"]["complete"]
    assert by_id["EDGE-exact"]["resp"]["exhaustion"]  # 4.8 -> 3.8 is exactly 1.0: a response
    assert not by_id["EDGE-below"]["met"]
    assert by_id["EDGE-oneblank"]["complete"]
    assert not by_id["EDGE-twoblank"]["complete"]
    assert by_id["EDGE-unscheduled"]["complete"]


def test_unscheduled_timepoint_is_warned(run):
    result, _, _ = run
    assert any("unscheduled" in w or "not in the schedule" in w for w in result.warnings), result.warnings
    assert not any("unscheduled" in w for w in result.results["warnings"])  # console and local log only


def test_trajectories_against_scipy(run):
    result, ref, _ = run
    comp = ref["completers"]
    n = len(comp)
    for s in SUBSCALES:
        base = [float(q["sc"][0][s]) for q in comp]
        for t in TIMEPOINTS:
            got = result.results["subscales"][s]["timepoints"][str(t)]
            xs = [float(q["sc"][t][s]) for q in comp]
            assert got["n"] == n
            assert got["mean"] == pytest.approx(mean(xs), abs=ABS_TOL)
            assert got["sd"] == pytest.approx(stdev(xs), abs=ABS_TOL)
            half = stats.t.ppf(0.975, n - 1) * stdev(xs) / math.sqrt(n)
            assert got["ci"] == pytest.approx([mean(xs) - half, mean(xs) + half], abs=ABS_TOL)
            if t == 0:
                assert "change" not in got
                continue
            d = np.array(xs) - np.array(base)
            tt = stats.ttest_rel(xs, base)
            assert got["change"] == pytest.approx(d.mean(), abs=ABS_TOL)
            assert got["percent_change"] == pytest.approx(100 * d.mean() / mean(base), abs=ABS_TOL)
            assert got["p"] == pytest.approx(tt.pvalue, abs=ABS_TOL)
            dz = d.mean() / d.std(ddof=1)
            assert got["effect_size"]["dz"] == pytest.approx(dz, abs=ABS_TOL)
            # noncentral-t CI of dz, found independently by root finding on the ncp
            tobs = dz * math.sqrt(n)
            width = 6 * math.sqrt(1 + tobs**2 / (2 * (n - 1)))  # bracket from the ncp's normal approximation
            lo = optimize.brentq(lambda nc: stats.nct.cdf(tobs, n - 1, nc) - 0.975, tobs - width, tobs)
            hi = optimize.brentq(lambda nc: stats.nct.cdf(tobs, n - 1, nc) - 0.025, tobs, tobs + width)
            assert got["effect_size"]["ci"] == pytest.approx([lo / math.sqrt(n), hi / math.sqrt(n)], abs=1e-5)
            a = abs(dz)
            label = "negligible" if a < 0.2 else "small" if a < 0.5 else "medium" if a < 0.8 else "large"
            assert got["effect_size"]["label"] == label


def test_plateau_against_ttest_rel(run):
    result, ref, _ = run
    for s in SUBSCALES:
        x6 = [float(q["sc"][6][s]) for q in ref["completers"]]
        x4 = [float(q["sc"][4][s]) for q in ref["completers"]]
        got = result.results["subscales"][s]["plateau"]
        assert got["p"] == pytest.approx(stats.ttest_rel(x6, x4).pvalue, abs=ABS_TOL)
        assert got["mean_difference"] == pytest.approx(float(np.mean(np.array(x6) - np.array(x4))), abs=ABS_TOL)


def test_response_and_paired_comparison_against_statsmodels(run):
    result, ref, _ = run
    comp = ref["completers"]
    n = len(comp)
    for s in SUBSCALES:
        count = sum(q["resp"][s] for q in comp)
        got = result.results["subscales"][s]["response"]
        assert (got["count"], got["n"]) == (count, n)
        assert got["ci"] == pytest.approx(wilson(count, n), abs=ABS_TOL)
    k = [sum(q["resp"].values()) for q in comp]
    r = result.results["responders"]
    assert r["at_least_1"]["count"] == sum(x >= 1 for x in k)
    assert r["at_least_2"]["count"] == sum(x >= 2 for x in k)
    assert r["all_3"]["count"] == sum(x == 3 for x in k)
    matrix = np.array([[int(q["resp"][s]) for s in SUBSCALES] for q in comp])
    q = cochrans_q(matrix)
    got_q = result.results["comparison"]["cochran_q"]
    assert got_q["statistic"] == pytest.approx(q.statistic, abs=ABS_TOL)
    assert got_q["p"] == pytest.approx(q.pvalue, abs=ABS_TOL)
    pvals = []
    for i, a in enumerate(SUBSCALES):
        for j in range(i + 1, 3):
            table = np.zeros((2, 2))
            for row in matrix:
                table[row[i], row[j]] += 1
            exact = table[0, 1] + table[1, 0] < 25
            ref_test = mcnemar(table, exact=exact, correction=True)
            got = result.results["comparison"]["mcnemar"][f"{a}|{SUBSCALES[j]}"]
            assert got["p"] == pytest.approx(ref_test.pvalue, abs=ABS_TOL)
            pvals.append(ref_test.pvalue)
    holm = multipletests(pvals, method="holm")[1]
    got_holm = [v["p_holm"] for v in result.results["comparison"]["mcnemar"].values()]
    assert got_holm == pytest.approx(list(holm), abs=ABS_TOL)


def test_below_threshold_and_side_effects(run):
    result, ref, _ = run
    comp = ref["completers"]
    for t in TIMEPOINTS:
        assert result.results["below_threshold"][str(t)]["count"] == sum(q["below"][t] for q in comp)
    for k in (2, 4, 6):
        answers = [q["side"].get(k, "") for q in comp]
        asked = [a for a in answers if a != ""]
        got = result.results["side_effects"][str(k)]
        assert (got["count"], got["n"]) == (sum(a == "true" for a in asked), len(asked))


def test_profiles_against_fraction_reference(run):
    result, ref, _ = run
    comp = ref["completers"]
    plan = load_protocol()
    b = {"exhaustion": plan.profiles.exhaustion, "cynicism": plan.profiles.cynicism,
         "professional_efficacy": plan.profiles.professional_efficacy}
    ms = {s: (mean([float(q["sc"][0][s]) for q in comp]), stdev([float(q["sc"][0][s]) for q in comp])) for s in SUBSCALES}

    def profile(sc: dict) -> str:
        z = {s: (float(sc[s]) - ms[s][0]) / ms[s][1] for s in SUBSCALES}
        e, c, pe = z["exhaustion"] >= b["exhaustion"], z["cynicism"] >= b["cynicism"], z["professional_efficacy"] <= b["professional_efficacy"]
        return "burnout" if e and c else "overextended" if e else "disengaged" if c else "ineffective" if pe else "engaged"

    for t in TIMEPOINTS:
        counts = {p: 0 for p in PROFILES}
        for q in comp:
            counts[profile(q["sc"][t])] += 1
        assert {p: result.results["profiles"][str(t)][p]["count"] for p in PROFILES} == counts
    trans = {a: {bb: 0 for bb in PROFILES} for a in PROFILES}
    for q in comp:
        trans[profile(q["sc"][0])][profile(q["sc"][6])] += 1
    assert result.results["profiles"]["transitions"]["counts"] == trans
    base = sum(trans["burnout"].values())
    assert result.results["profiles"]["burnout_at_baseline"] == base
    assert result.results["profiles"]["burnout_resolved"]["count"] == base - trans["burnout"]["burnout"]
    assert result.results["profiles"]["burnout_to_engaged"]["count"] == trans["burnout"]["engaged"]


def test_subgroups_against_scipy(run):
    result, ref, _ = run
    comp = ref["completers"]
    levels: dict[str, list] = {}
    for q in comp:
        sex = q["p"]["sex"] or "unknown"
        levels.setdefault(sex, []).append(q)
    sub = result.results["subgroups"]["sex"]
    table = []
    het = sub["heterogeneity"]["exhaustion"]
    for level, qs in levels.items():
        count = sum(q["resp"]["exhaustion"] for q in qs)
        assert sub[level]["exhaustion"]["count"] == count
        assert sub[level]["n"] == len(qs)
        if level in het["levels"]:  # the test runs over known levels only (issue 16 point 5)
            table.append([count, len(qs) - count])
    assert "unknown" not in het["levels"] and len(table) == len(het["levels"])
    if het["test"] == "chi-square":
        chi2, p, _, _ = stats.chi2_contingency(np.array(table), correction=False)
        assert het["statistic"] == pytest.approx(chi2, abs=ABS_TOL)
        assert het["p"] == pytest.approx(p, abs=ABS_TOL)
    else:
        assert het["test"] in ("fisher-exact", "freeman-halton-exact")
        assert 0 <= het["p"] <= 1


def test_results_json_written_and_deterministic(run, tmp_path):
    result, _, tmp = run
    text = (tmp / "out" / "results.json").read_text()
    assert text == result.to_json()
    again = analyze(tmp / "cohort", protocol=tmp / "plan.toml")
    assert again.to_json() == text
    tree = json.loads(text)
    assert tree["schema_version"] == 1
    assert tree["protocol"]["sha256"] == load_protocol(tmp / "plan.toml").sha256
    assert "EDGE" not in text and "T0001" not in text  # no patient ids in the output


def test_subscale_only_cohort_decides_decimal_boundaries_exactly(tmp_path):
    """4.3 -> 5.3 is a change of exactly 1.0 (in floats, 5.3 - 4.3 = 0.9999999999999996)."""
    patients, mbi, sessions = [], [], []
    rows = {
        # E 4.8, C 3.8, PE 4.3: meets the threshold on every boundary at once
        "D1": [("4.8", "3.8", "4.3"), ("4.5", "3.5", "4.8"), ("4.0", "3.0", "5.0"), ("3.8", "2.8", "5.3")],
        # PE 4.31: above the cut-off, C 3.79 below: not met
        "D2": [("4.8", "3.79", "4.31"), ("4.8", "3.79", "4.31"), ("4.8", "3.79", "4.31"), ("4.8", "3.79", "4.31")],
        # change 0.99999: not a response
        "D3": [("5.5", "4.0", "3.0"), ("5.0", "4.0", "3.0"), ("4.6", "3.5", "3.5"), ("4.50001", "3.00001", "3.99999")],
    }
    for pid, vals in rows.items():
        patients.append({"patient_id": pid, "age": "40", "sex": "male"})
        for t, (e, c, pe) in zip(TIMEPOINTS, vals, strict=True):
            mbi.append({"patient_id": pid, "after_session": str(t), "exhaustion": e, "cynicism": c, "professional_efficacy": pe})
        sessions += [{"patient_id": pid, "session": str(s)} for s in range(1, 7)]
    folder = write_cohort(tmp_path / "c", patients=patients, mbi_gs=mbi, sessions=sessions)
    plan = tmp_path / "plan.toml"
    plan.write_text('[privacy]\nmin_cell_count = 1\n[profiles]\nmethod = "raw"\nexhaustion = 4.8\ncynicism = 3.8\nprofessional_efficacy = 4.3\n')
    res = analyze(folder, protocol=plan).results
    assert res["flow"]["threshold_met"] == 2
    assert res["flow"]["completers"] == 2
    assert res["subscales"]["exhaustion"]["response"]["count"] == 1  # 4.8->3.8 exactly; 5.5->4.50001 not
    assert res["subscales"]["cynicism"]["response"]["count"] == 1  # 3.8->2.8 exactly; 4.0->3.00001 not
    assert res["subscales"]["professional_efficacy"]["response"]["count"] == 1  # 4.3->5.3 exactly
    # raw profiles at the boundary: D1 at baseline has E >= 4.8 and C >= 3.8 exactly: burnout, as D3;
    # after session 6 D1 is engaged (PE 5.3) and D3 ineffective (PE 3.99999 <= 4.3)
    assert res["profiles"]["0"]["burnout"]["count"] == 2
    assert res["profiles"]["6"]["engaged"]["count"] == 1
    assert res["profiles"]["6"]["ineffective"]["count"] == 1


def test_a_handful_meeting_the_threshold_is_analysed_with_every_count_hidden(tmp_path: Path) -> None:
    """1..k-1 patients over the threshold: the chains under that small top are hidden, not a crash."""
    from burnout.simulate import simulate_cohort, write_cohort

    folder = tmp_path / "few"
    write_cohort(simulate_cohort(threshold_met=6, seed=3), folder, fmt="parquet")
    result = analyze(folder)
    assert result.results["flow"]["threshold_met"] is None
    reach = result.results["attrition"]["reach"]
    assert reach and all(step["suppressed"] and step["count"] is None for step in reach.values())


# --------------------------------------------------------------------------- the Python API


def test_results_are_deeply_read_only_and_still_json(run):
    result, _, _ = run
    tree = result.results
    with pytest.raises(TypeError, match="read-only"):
        tree["flow"]["patients"] = 3
    with pytest.raises(TypeError, match="read-only"):
        del tree["flow"]
    with pytest.raises(TypeError, match="read-only"):
        tree["warnings"].append("mine")
    lists = [v for v in tree["subscales"]["exhaustion"]["response"].values() if isinstance(v, list)]
    assert lists, "the response carries its confidence interval as a list"
    with pytest.raises(TypeError, match="read-only"):
        lists[0][0] = 0.0
    # still indexes, compares and serialises like the JSON it is
    assert json.loads(result.to_json()) == tree
    assert isinstance(tree["flow"], dict)


def test_repr_html_shows_the_flow_and_key_findings(run):
    result, ref, _ = run
    page = result._repr_html_()
    assert page.startswith("<table>")
    assert f"<td>{len(ref['people'])}</td>" in page  # patients in the flow
    for label in ("met the threshold at baseline", "completers", "responded: Exhaustion", "below threshold"):
        assert label in page
    assert "&lt;Analysis:" in page  # the repr line, escaped


def test_dir_shows_the_public_names():
    import burnout

    names = dir(burnout)
    for public in burnout.__all__:
        assert public in names
    assert "analyze" in names and "Analysis" in names
