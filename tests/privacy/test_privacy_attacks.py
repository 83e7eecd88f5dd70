"""The whole results tree against an attacker (issue 12): one publication layer.

tests/privacy/test_privacy.py attacks the suppression primitives one table at a time; here the
attacker reads a complete results.json, as a reader of a published report would, and
tries what the audit of issue 12 tried: subtract published cells from published totals
across every family (flow, profiles, subgroup levels, completion by subgroup), read a
small count off a (count, n) pair, a Table 1 denominator or a statistic over a handful
of patients, compare sections that count the same patients (completers and the
intention-to-treat worst case; Table 1 and the subgroup levels), and search the tables
consistent with a published heterogeneity p-value for the hidden cells.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import replace
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from burnout import stats as est
from burnout.analysis import analyze
from burnout.instrument import SUBSCALES
from burnout.plan import load_protocol
from burnout.privacy import Publisher
from burnout.simulate import simulate_cohort, write_cohort

K = 11
OUTCOMES = (*SUBSCALES, "at_least_1")
# ints that are not counts of patients
NOT_COUNTS = {"items", "imputations", "df", "schema_version", "min_cell_count", "statistic"}
SKIP = {"protocol", "meta", "privacy", "warnings", "cutoffs"}
# values copied from the plan (not computed from anyone's data), beside the statistics they feed
PLAN_INPUTS = {("reliable_change", "reliability"), ("regression_to_mean", "rho"), ("regression_to_mean", "rho_range")}


def plan_input(path: tuple[str, ...]) -> bool:
    return any(path[:1] == (section,) and key in path for section, key in PLAN_INPUTS)


def small(c: Any, k: int = K) -> bool:
    return isinstance(c, int) and not isinstance(c, bool) and 1 <= c < k


def leaves(node: Any, path: tuple[str, ...] = ()):
    if isinstance(node, dict):
        for key, value in node.items():
            if key in SKIP:
                continue
            yield from leaves(value, (*path, str(key)))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from leaves(value, (*path, str(i)))
    else:
        yield path, node


def proportions(node: Any, path: tuple[str, ...] = ()):
    if isinstance(node, dict):
        if {"count", "n", "rate", "ci", "suppressed"} <= node.keys():
            yield path, node
        for key, value in node.items():
            if key not in SKIP:
                yield from proportions(value, (*path, str(key)))


def lone_or_small_hidden(total: int | None, cells: list[int | None], k: int = K) -> str | None:
    """What subtraction gives: a problem when a published total leaves exactly one hidden cell,
    or hidden cells summing to a small count."""
    if total is None:
        return None
    hidden = [c for c in cells if c is None]
    if not hidden:
        return None
    held = total - sum(c for c in cells if c is not None)
    if len(hidden) == 1 and len(cells) > 1:
        return f"the one hidden cell is {held}"
    if 1 <= held < k:
        return f"the hidden cells hold {held}"
    return None


def attack(tree: dict[str, Any], k: int = K) -> list[str]:
    """Every way the audit of issue 12 got a small count back; [] when none works."""
    found: list[str] = []
    # 1. a published count of patients, a (count, n) pair
    for path, value in leaves(tree):
        if path and path[-1] not in NOT_COUNTS and small(value, k):
            found.append(f"{'.'.join(path)} = {value}")
    for path, p in proportions(tree):
        if p["count"] is not None and p["n"] is not None and small(p["n"] - p["count"], k):
            found.append(f"{'.'.join(path)}: n - count = {p['n'] - p['count']}")
        if p["suppressed"] and (p["count"], p["rate"], p["ci"]) != (None, None, None):
            found.append(f"{'.'.join(path)}: hidden count with a rate or CI")
    # 2. families with a published total
    flow, ex = tree["flow"], tree["flow"]["exclusions"]
    for name, total, cells in (
        (
            "flow before the threshold",
            flow["patients"],
            [ex["no_baseline"], ex["below_threshold"], flow["threshold_met"]],
        ),
        (
            "flow after the threshold",
            flow["threshold_met"],
            [ex["missed_sessions"], ex["missed_assessment"], flow["completers"]],
        ),
    ):
        if problem := lone_or_small_hidden(total, cells, k):
            found.append(f"{name}: {problem}")
    comp, itt = flow["completers"], flow["threshold_met"]
    for t, fam in tree["profiles"].items():
        if t.isdigit():
            if problem := lone_or_small_hidden(comp, [p["count"] for p in fam.values()], k):
                found.append(f"profiles.{t}: {problem}")
    for variable, levels in tree["attrition"]["completion_by_subgroup"].items():
        for what, total, cells in (
            ("n", itt, [p["n"] for p in levels.values()]),
            ("completers", comp, [p["count"] for p in levels.values()]),
            (
                "non-completers",
                None if itt is None or comp is None else itt - comp,
                [None if p["n"] is None or p["count"] is None else p["n"] - p["count"] for p in levels.values()],
            ),
        ):
            if problem := lone_or_small_hidden(total, cells, k):
                found.append(f"completion_by_subgroup.{variable} {what}: {problem}")
    totals = {o: tree["subscales"][o]["response"]["count"] for o in SUBSCALES}
    totals["at_least_1"] = tree["responders"]["at_least_1"]["count"]
    for variable, body in tree["subgroups"].items():
        levels = {lv: v for lv, v in body.items() if lv != "heterogeneity"}
        if problem := lone_or_small_hidden(comp, [v["n"] for v in levels.values()], k):
            found.append(f"subgroups.{variable} n: {problem}")
        for o in OUTCOMES:
            if problem := lone_or_small_hidden(totals[o], [v[o]["count"] for v in levels.values()], k):
                found.append(f"subgroups.{variable}.{o}: {problem}")
            non = None if totals[o] is None or comp is None else comp - totals[o]
            cells = [
                None if v[o]["count"] is None or v[o]["n"] is None else v[o]["n"] - v[o]["count"]
                for v in levels.values()
            ]
            if problem := lone_or_small_hidden(non, cells, k):
                found.append(f"subgroups.{variable}.{o} non-responders: {problem}")
            found += _heterogeneity_search(variable, o, levels, body["heterogeneity"][o])
            for lv, v in levels.items():  # a difference from the rest is published numbers only
                diff = (v.get("difference_from_rest") or {}).get(o) or {}
                if diff.get("estimate") is not None and (v[o]["count"] is None or totals[o] is None):
                    found.append(f"subgroups.{variable}.{lv}.{o}: a difference beside a hidden cell")
    # 3. statistics over too few patients, or beside a hidden group size
    found += _statistics(tree, k)
    # 4. one cell, one treatment across sections
    if "itt" in tree:
        wc = tree["itt"]["worst_case"]
        for o in SUBSCALES:
            if tree["subscales"][o]["response"]["suppressed"] and not wc[o]["response"]["suppressed"]:
                found.append(f"{o}: completers' responders hidden, the worst case publishes them")
        if tree["responders"]["at_least_1"]["suppressed"] and not wc["responders"]["at_least_1"]["suppressed"]:
            found.append("at_least_1: completers' responders hidden, the worst case publishes them")
    margins = [tree["subscales"][o]["response"] for o in SUBSCALES] + list(tree["responders"].values())
    if any(p["suppressed"] for p in margins) and tree["comparison"]["cochran_q"]["p"] is not None:
        found.append("Cochran's Q published beside a hidden margin")
    for binary, (variable, level) in {"female": ("sex", "female"), "subcutaneous": ("route", "subcutaneous")}.items():
        cell = tree["attrition"]["table1"][binary]["completers"]
        sub = tree["subgroups"].get(variable, {}).get(level)
        if sub is not None and sub["n"] is None and cell["count"] is not None:
            found.append(f"table1.{binary} publishes {cell['count']}, hidden as subgroup {variable}={level}")
        # a level with a residual merged into it in one section but not in another differs by the residual
        if sub is not None and sub["n"] is not None and cell["count"] is not None and cell["n"] == comp:
            if cell["count"] != sub["n"] and small(abs(cell["count"] - sub["n"]), k):
                found.append(f"table1.{binary} counts {cell['count']}, subgroup {variable}={level} {sub['n']}")
    return found


def _statistics(tree: dict[str, Any], k: int) -> list[str]:
    found = []
    comp = tree["flow"]["completers"]
    for t, entry in next(iter(tree["subscales"].values()))["timepoints"].items():
        if entry["mean"] is not None and (comp is None or entry["n"] is None or entry["n"] < k):
            found.append(f"subscales timepoint {t}: a mean over {entry['n']} of {comp} completers")
    groups = {
        "completers": comp,
        "non_completers": None
        if comp is None or tree["flow"]["threshold_met"] is None
        else tree["flow"]["threshold_met"] - comp,
    }
    for name, row in tree["attrition"]["table1"].items():
        for g, total in groups.items():
            cell = row[g]
            if row["kind"] == "continuous":
                if cell["mean"] is not None and total is None:
                    found.append(f"table1.{name}.{g}: a mean over a group whose size is hidden")
                if cell["n"] is not None and total is not None and small(total - cell["n"], k):
                    found.append(f"table1.{name}.{g}: n = {cell['n']} of {total}")
            elif cell["n"] is not None and total is not None and small(total - cell["n"], k):
                found.append(f"table1.{name}.{g}: denominator {cell['n']} of {total}")
        if row["smd"] is not None and any(
            (row[g].get("count") is None and row["kind"] == "binary")
            or (row[g].get("mean") is None and row["kind"] == "continuous")
            for g in groups
        ):
            found.append(f"table1.{name}: an SMD beside a hidden cell")
    if "itt" in tree:
        itt = tree["flow"]["threshold_met"]
        for s in SUBSCALES:
            mm = tree["itt"]["mixed_model"][s]
            if mm.get("observations") is not None and any(tp["n"] is None for tp in mm["timepoints"].values()):
                found.append(f"mixed_model.{s}: observations beside a hidden n")
            for t, tp in mm["timepoints"].items():
                if tp["mean"] is not None and (itt is None or (tp["n"] is not None and tp["n"] < k)):
                    found.append(f"mixed_model.{s}.{t}: a mean over too few or an unpublished number")
    return found


def _heterogeneity_search(variable: str, outcome: str, levels: dict[str, Any], test: dict[str, Any]) -> list[str]:
    """Search the tables consistent with the published cells for the hidden ones the test singles out."""
    if test.get("p") is None:
        return []
    tested = test.get("levels") or [lv for lv, v in levels.items() if v["n"] != 0]
    hidden = [lv for lv in tested if levels[lv][outcome]["count"] is None]
    if not hidden:
        return []
    if any(levels[lv]["n"] is None for lv in tested):
        return [f"subgroups.{variable}.{outcome}: a test over a level whose size is hidden"]
    ranges = [range(levels[lv]["n"] + 1) for lv in hidden]
    if math.prod(len(r) for r in ranges) > 20_000:
        return [f"subgroups.{variable}.{outcome}: a test over hidden cells (too many tables to search)"]
    matches = []
    for values in itertools.product(*ranges):
        cells = {lv: (v, levels[lv]["n"]) for lv, v in zip(hidden, values, strict=True)}
        table = [cells.get(lv) or (levels[lv][outcome]["count"], levels[lv]["n"]) for lv in tested]
        p = est.heterogeneity(table).p
        if p is not None and math.isclose(p, test["p"], rel_tol=1e-9, abs_tol=1e-15):
            matches.append(values)
    if len(matches) == 1:
        return [f"subgroups.{variable}.{outcome}: the p-value pins {dict(zip(hidden, matches[0], strict=True))}"]
    return []


# --------------------------------------------------------------------------- cohorts
def _folder(tmp_path_factory: pytest.TempPathFactory, patients: int, *, plant: bool = False, seed: int = 11):
    cohort = simulate_cohort(patients=patients, seed=seed)
    folder = tmp_path_factory.mktemp(f"cohort{patients}")
    if plant:
        cohort = replace(cohort, patients=_plant(cohort, folder))
    write_cohort(cohort, folder, fmt="parquet")
    return folder


def _completers(cohort, folder) -> list[str]:
    from burnout.cohort import build_patient_table
    from burnout.ingest import load_cohort

    write_cohort(cohort, folder, fmt="parquet")
    plan = load_protocol()
    loaded = load_cohort(
        folder,
        scheduled_assessments=tuple(plan.schedule.assessments),
        scheduled_sessions=plan.schedule.sessions,
        max_missing_items=plan.scoring.max_missing_items,
    )
    table = build_patient_table(loaded, plan)
    ids = table.filter(table.completer).select("patient_id").to_pyarrow()["patient_id"].to_pylist()
    return sorted(ids)


PLANTED = {
    "route": [("unknown", 2)],
    "sex": [("other", 3), ("unknown", 4)],
    "age": [("", 1)],
    "pathway": [("Referred by Dr Smith for Jane Doe (DOB 1980-01-01)", 5)],
}


def _plant(cohort, folder) -> pa.Table:
    """The small categories of issue 12's "Must show", planted among the completers: route
    unknown 2, sex other 3 and unknown 4, age blank 1, a free-text pathway of 5."""
    completers = _completers(cohort, folder)
    pts = cohort.patients.to_pylist()
    by_id = {r["patient_id"]: r for r in pts}
    for r in pts:  # nobody else in those categories
        if str(r.get("sex") or "").lower() not in ("female", "male"):
            r["sex"] = "female"
        if str(r.get("route") or "").lower() not in ("sublingual", "subcutaneous"):
            r["route"] = "sublingual"
        if r.get("age") in (None, ""):
            r["age"] = 40
    pos = 0
    for column, plants in PLANTED.items():
        for value, count in plants:
            for pid in completers[pos : pos + count]:
                by_id[pid][column] = None if value in ("", "unknown") and column != "pathway" else value
            pos += count
    return pa.Table.from_pylist(pts, schema=cohort.patients.schema)


def _tree(folder, **plan: Any) -> dict[str, Any]:
    return analyze(folder, protocol=load_protocol().replace(plan) if plan else None).results


# --------------------------------------------------------------------------- tests
@pytest.mark.parametrize("patients", [1, 5, 12])
def test_tiny_cohorts_publish_nothing_about_anyone(tmp_path_factory, patients: int) -> None:
    """Issue 12 point 4: with fewer than k patients, every statistic is withheld."""
    tree = _tree(_folder(tmp_path_factory, patients))
    published = [
        (p, v)
        for p, v in leaves(tree)
        if (
            isinstance(v, float)
            or (
                isinstance(v, int)
                and not isinstance(v, bool)
                and p[-1] not in NOT_COUNTS
                and v != 0
                and not (p == ("flow", "patients") and v >= K)
            )
        )
        and not plan_input(p)
    ]
    assert published == []
    assert attack(tree) == []


def test_huge_min_cell_count_publishes_no_statistic(tmp_path_factory) -> None:
    """Issue 12 point 4: ``min_cell_count = 10**9`` published n = 27 with means."""
    tree = _tree(_folder(tmp_path_factory, 300), **{"privacy.min_cell_count": 10**9})
    published = [
        (p, v)
        for p, v in leaves(tree)
        if isinstance(v, float)
        or (isinstance(v, int) and not isinstance(v, bool) and p[-1] not in NOT_COUNTS and v != 0)
        if not plan_input(p)
    ]
    assert published == []


@pytest.fixture(scope="module")
def planted_folder(tmp_path_factory):
    return _folder(tmp_path_factory, 1500, plant=True)


@pytest.fixture(scope="module")
def planted(planted_folder) -> dict[str, Any]:
    return _tree(planted_folder)


def test_planted_small_categories_are_not_given_away(planted: dict[str, Any]) -> None:
    """Issue 12 "Must show": no (count, n) pair, family, statistic or test gives the planted cells away."""
    assert attack(planted) == []


def test_planted_residuals_are_merged_with_truthful_labels(planted: dict[str, Any]) -> None:
    """Global recoding: route unknown (2), sex other + unknown (7) and age blank (1) among the
    completers are merged into the largest level in every section, which says so."""
    sub, t1 = planted["subgroups"], planted["attrition"]["table1"]
    assert "unknown" not in sub["route"] and "other" not in sub["sex"] and "unknown" not in sub["sex"]
    assert "unknown" not in sub["age_band"]
    assert sub["route"]["sublingual"]["label"] == "Sublingual or not recorded"
    assert sub["route"]["sublingual"]["merged"] == ["unknown"]
    assert sub["sex"]["female"]["label"] == "Female, other or not recorded"
    assert sub["sex"]["heterogeneity"]["exhaustion"]["merged"] == {"other": "female", "unknown": "female"}
    assert all(sub[v][lv]["n"] is not None for v in ("route", "sex") for lv in sub[v] if lv != "heterogeneity")
    # Table 1 counts the same merged level: every completer is female-or-residual or male
    assert t1["female"]["label"] == "Female, other or not recorded"
    assert t1["female"]["completers"]["count"] == sub["sex"]["female"]["n"]
    assert t1["subcutaneous"]["completers"]["count"] == sub["route"]["subcutaneous"]["n"]
    # the free-text pathway of 5 is "other", a residual: left out of the known-levels test
    het = sub["pathway"]["heterogeneity"]["exhaustion"]
    assert het["known_levels_only"] and all(lv not in ("other", "unknown") for lv in het.get("levels", []))
    assert set(planted["attrition"]["completion_by_subgroup"]["sex"]) == {"female", "male"}


@pytest.fixture(scope="module")
def planted_suppressed(planted_folder) -> dict[str, Any]:
    return _tree(planted_folder, **{"subgroups.merge_small": False})


def test_planted_without_recoding_survives_the_attacker(planted_suppressed: dict[str, Any]) -> None:
    """``[subgroups] merge_small = false``: the complementary suppression of before, just as safe."""
    assert attack(planted_suppressed) == []
    assert "merged" not in planted_suppressed["subgroups"]["sex"]["heterogeneity"]["exhaustion"]


def test_planted_cells_are_hidden_with_truthful_reasons(planted_suppressed: dict[str, Any]) -> None:
    planted = planted_suppressed
    route = planted["subgroups"]["route"]
    assert route["unknown"]["n"] is None and route["unknown"]["exhaustion"]["hidden"] == "small"
    t1 = planted["attrition"]["table1"]
    assert t1["age"]["completers"]["n"] is None  # 1 completer without an age
    # its mean and SD would rebuild the hidden n (integer sums): withheld with it, and the SMD
    hidden = {"n": None, "mean": None, "sd": None, "hidden_because": "complement"}  # it protects the 1 without an age
    assert t1["age"]["completers"] == hidden and t1["age"]["smd"] is None
    assert t1["female"]["completers"]["n"] == planted["flow"]["completers"]  # unknown sex is a cell, not a gap
    assert planted["privacy"]["hidden"]["small"] > 0 and planted["privacy"]["hidden"]["complement"] > 0


@pytest.fixture(scope="module")
def measured(tmp_path_factory):
    from burnout.cohort import build_patient_table
    from burnout.ingest import load_cohort
    from burnout.measures import collect_beyond, collect_measures

    folder = _folder(tmp_path_factory, 1500, seed=5)
    plan = load_protocol()
    cohort = load_cohort(
        folder,
        scheduled_assessments=tuple(plan.schedule.assessments),
        scheduled_sessions=plan.schedule.sessions,
        max_missing_items=plan.scoring.max_missing_items,
    )
    table = build_patient_table(cohort, plan).cache()
    return plan, collect_measures(table, plan), collect_beyond(table, cohort, plan, imputations=2, iterations=1)


def _build(plan, m, bm=None) -> dict[str, Any]:
    from burnout.results import build_results

    return build_results(m, plan, meta={}, warnings=[], beyond=bm)


def test_flow_arithmetic_does_not_give_non_completers_away(measured) -> None:
    """Issue 12 point 6: completion 45/50 hidden while threshold_met 50 and completers 45 were published."""
    from burnout.privacy import Publisher
    from burnout.results.flow import _flow

    plan, m, _ = measured
    m = replace(
        m,
        patients=80,
        threshold_met=50,
        completers=45,
        exclusions={"no_baseline": 0, "below_threshold": 30, "missed_sessions": 3, "missed_assessment": 2},
    )
    flow = _flow(m, Publisher(min_cell_count=K))
    assert not (flow["threshold_met"] is not None and flow["completers"] is not None)
    assert flow["completion"]["suppressed"]
    ex = flow["exclusions"]
    assert (
        lone_or_small_hidden(
            flow["threshold_met"], [ex["missed_sessions"], ex["missed_assessment"], flow["completers"]]
        )
        is None
    )
    # and with completers hidden, nothing is published over the completers or the non-completers
    real = _build(plan, measured[1])
    assert real["flow"]["completers"] is not None  # the real cohort: published
    with pytest.MonkeyPatch.context() as mp:
        import burnout.results.build as results_build

        mp.setattr(results_build, "_flow", lambda m, pub: _flow(m, pub) | {"completers": None})
        tree = _build(plan, measured[1])
    hidden = {"n": None, "mean": None, "sd": None, "hidden_because": "complement"}  # the group's size is hidden
    assert tree["attrition"]["table1"]["age"]["non_completers"] == hidden
    assert tree["subscales"]["exhaustion"]["timepoints"]["0"]["mean"] is None


def test_one_cell_one_treatment_completers_and_worst_case(measured) -> None:
    """Issue 12 point 5: responders.at_least_1 hidden, itt.worst_case published the same patients."""
    plan, m, bm = measured
    five_short = m.completers - 5
    m = replace(m, responder_counts={1: five_short, 2: m.responder_counts[2], 3: m.responder_counts[3]})
    bm = replace(bm, worst_case=bm.worst_case | {"at_least_1": five_short})
    tree = _build(plan, m, bm)
    assert tree["responders"]["at_least_1"]["suppressed"]
    assert tree["itt"]["worst_case"]["responders"]["at_least_1"]["suppressed"]
    assert tree["comparison"]["cochran_q"]["p"] is None
    assert attack(tree) == []


def test_the_attacker_finds_what_main_published() -> None:
    """The attacker itself: it must catch the audit's finds (a sanity check that it can fail)."""
    levels = {
        "a": {"n": 40, "x": {"count": 30}},
        "b": {"n": 21, "x": {"count": None}},
        "c": {"n": 50, "x": {"count": 10 + 11}},
    }
    table = [(30, 40), (7, 21), (21, 50)]
    test = est.heterogeneity(table).to_json()
    assert _heterogeneity_search("v", "x", levels, test)  # the p-value pins b = 7
    assert lone_or_small_hidden(395, [224, 164, None, None]) == "the hidden cells hold 7"


def test_labels_are_truthful(planted: dict[str, Any]) -> None:
    """Issue 12 point 11: a complement read "suppressed (<11)", which a reviewer disproves by subtraction."""
    from burnout.report.format import Ctx, fmt_prop
    from burnout.report.tables.model import _prop_raw

    ctx = Ctx(planted)
    reasons = set()
    for _, p in proportions(planted):
        if p["suppressed"]:
            reasons.add(p["hidden"])
            label = "hidden to protect a small cell" if p["hidden"] == "complement" else f"suppressed (<{K})"
            assert _prop_raw(p, ctx)["count"] == label
            assert fmt_prop(p, ctx).startswith(label)
    assert reasons == {"small", "complement"}


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("demo")
    write_cohort(simulate_cohort(), folder, fmt="parquet")
    return analyze(folder, synthetic=True).results


def test_demo_publishes_large_cells_and_survives_the_attacker(demo: dict[str, Any]) -> None:
    """Issue 12 point 11 on the shipped demo: large cells hidden as complements are published
    where a cheaper complement exists, and the attacker finds nothing."""
    assert demo["flow"]["exclusions"]["below_threshold"] == 852
    assert demo["flow"]["patients"] is None  # the grand total protects the 1 patient without a baseline
    assert (
        demo["reliable_change"]["cynicism"]["improved"]["count"] == 139
    )  # test-retest reliability, all scored SD (issue 16)
    # global recoding publishes the levels that complements used to hide (issue 12 point 11)
    sub = demo["subgroups"]
    assert (sub["sex"]["male"]["n"], sub["age_band"]["18-34"]["n"], sub["route"]["subcutaneous"]["n"]) == (164, 94, 108)
    assert sub["sex"]["male"]["label"] == "male" and sub["sex"]["female"]["label"] == "Female, other or not recorded"
    assert demo["attrition"]["table1"]["subcutaneous"]["completers"]["count"] == 108  # as in the subgroups
    # route's unknown went into sublingual, so the Subcutaneous row keeps its own label (it read
    # "subcutaneous" when a residual merged into the other level); female's row says what it holds
    assert demo["attrition"]["table1"]["subcutaneous"]["label"] == "Subcutaneous route"
    assert demo["attrition"]["table1"]["female"]["label"] == "Female, other or not recorded"
    # complement 14 -> 18 and statistic 12 -> 14 with the MMRM: its own copies of the Cynicism and
    # Professional Efficacy baseline n and observation counts the random-intercept model hides too
    # complement 18 -> 15 and statistic 14 -> 23: Table 1's three hidden n (age of the completers,
    # cynicism and professional efficacy of the non-completers) take their mean and SD with them;
    # complement +1 and test +4: a small response pattern withholds McNemar and Cochran's Q, and a
    # small PHQ-9 x Professional Efficacy cell hides subscale_responders_not_phq9_responders there
    assert demo["privacy"]["hidden"] == {"small": 24, "complement": 16, "statistic": 23, "test": 8}
    assert attack(demo) == []
    # the report says which residual went where, in the table and its footnote
    from burnout.report.format import Ctx, merged_note
    from burnout.report.tables.outcomes import _subgroups

    table = _subgroups(Ctx(demo))
    levels = {(row["variable"], row["level"]): row["n"] for row in table.rows}
    assert levels[("Sex", "Male")] == "164" and levels[("Sex", "Female, other or not recorded")] == "231"
    assert levels[("Route", "Subcutaneous")] == "108" and ("Route", "Unknown") not in levels
    assert "sex: other and not recorded into female" in merged_note(demo)
    assert any("condition on completion" in note for note in table.notes)


def test_flow_total_hidden_as_a_complement_is_labelled_so(demo: dict[str, Any]) -> None:
    """The demo's grand total (2,495) protects one patient without a baseline: the key
    findings and the flow diagram said "suppressed (<11)" of it, which subtraction disproves."""
    from burnout.report.figures.flow import _flow_boxes
    from burnout.report.format import Ctx
    from burnout.report.prose import summary_points

    assert demo["flow"]["hidden"] == {"patients": "complement", "exclusions.no_baseline": "small"}
    ctx = Ctx(demo)
    assert ctx.flow_count("patients") == "hidden to protect a small cell"
    assert ctx.flow_count("exclusions.no_baseline") == f"suppressed (<{K})"
    assert ctx.flow_count("exclusions.below_threshold") == "852"
    participants = summary_points(ctx)[0]
    assert "(their number hidden to protect a small cell)" in participants and "suppressed" not in participants
    main, side = _flow_boxes(ctx)
    assert main[0][1] == "n = hidden to protect a small cell"
    assert side[0][1] == f"suppressed (<{K})" and side[1][1] == "852"


def test_transition_cells_say_why_they_are_hidden(demo: dict[str, Any]) -> None:
    """The demo's Burnout -> Overextended cell is hidden to protect a small one; the table's CSV
    and the heat map called every hidden cell "suppressed (<11)", which subtraction disproves."""
    from burnout.report.format import Ctx
    from burnout.report.tables.profiles import _transitions

    tr = demo["profiles"]["transitions"]
    hidden = {f"{a}.{b}" for a, cols in tr["counts"].items() for b, v in cols.items() if v is None}
    assert set(tr["hidden"]) == hidden and set(tr["hidden"].values()) == {"small", "complement"}
    assert tr["hidden"]["burnout.overextended"] == "complement" and tr["hidden"]["burnout.disengaged"] == "small"
    rows = {r["from_profile"]: r for r in _transitions(Ctx(demo)).csv_rows}
    assert rows["burnout"]["to_overextended"] == "hidden to protect a small cell"
    assert rows["burnout"]["to_disengaged"] == f"suppressed (<{K})"


def test_hidden_statistics_say_why_in_the_csv(demo: dict[str, Any]) -> None:
    """Found by a new-user trial: Table 1's hidden means and the withheld paired tests were
    blank cells with an empty ``hidden`` column, the report's caption pointing at a table of dashes."""
    import csv
    import io

    from burnout.report.format import Ctx
    from burnout.report.tables.outcomes import _comparison
    from burnout.report.tables.render import to_csv
    from burnout.report.tables.study import _table1

    hidden = {"n": None, "mean": None, "sd": None, "hidden_because": "complement"}
    assert demo["attrition"]["table1"]["age"]["completers"] == hidden
    ctx = Ctx(demo)
    rows = {r["variable"]: r for r in csv.DictReader(io.StringIO(to_csv(_table1(ctx), ctx)))}
    assert rows["age"]["hidden"] == (
        "completers_n: hidden to protect a small cell; completers_mean: hidden with completers_n; "
        "completers_sd: hidden with completers_n; smd: hidden with completers_n"
    )
    assert rows["exhaustion"]["hidden"] == ""  # nothing hidden, nothing said
    table = _comparison(ctx)
    tests = {r["comparison"]: r for r in csv.DictReader(io.StringIO(to_csv(table, ctx)))}
    withheld = "withheld (with the published rates it would give back a hidden count)"
    assert demo["comparison"]["cochran_q"]["withheld"] and tests["all"]["statistic"] == ""
    assert tests["all"]["hidden"] == "; ".join(f"{c}: {withheld}" for c in ("statistic", "df", "p"))
    pairs = [r["hidden"] for k, r in tests.items() if k != "all"]
    assert pairs == ["; ".join(f"{c}: {withheld}" for c in ("statistic", "df", "p", "p_holm"))] * 3
    assert {row["stat"] for row in table.rows} == {"withheld"}
    assert any(note.startswith("Withheld: a test whose statistic") for note in table.notes)


@pytest.fixture(scope="module")
def demo_suppressed(tmp_path_factory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("demo_suppressed")
    write_cohort(simulate_cohort(), folder, fmt="parquet")
    return analyze(folder, protocol=load_protocol().replace({"subgroups.merge_small": False}), synthetic=True).results


def test_demo_without_recoding_hides_more(demo_suppressed: dict[str, Any]) -> None:
    """The tally before global recoding (the closing note of issue 12): the same demo with
    ``merge_small = false`` hides the men, 18-34 and subcutaneous as complements."""
    assert demo_suppressed["privacy"]["hidden"] == {
        "small": 48,
        "complement": 36,
        "statistic": 23,
        "test": 20,
    }  # with the MMRM, Table 1's hidden n withholding their mean and SD, McNemar and Q beside a small pattern
    assert attack(demo_suppressed) == []


def test_hidden_n_cells_are_labelled_with_their_reason(demo_suppressed: dict[str, Any]) -> None:
    """A level hidden as a complement (men, 18-34, subcutaneous, without recoding) and a model n
    hidden beside a published mean read "hidden to protect a small cell" in the n column, not
    "suppressed (<11)"."""
    from burnout.report.format import Ctx
    from burnout.report.tables.extended import _mixed
    from burnout.report.tables.outcomes import _subgroups

    demo = demo_suppressed
    ctx = Ctx(demo)
    complement, small = "hidden to protect a small cell", f"suppressed (<{K})"
    levels = {(row["variable"], row["level"]): row["n"] for row in _subgroups(ctx).rows}
    assert levels[("Sex", "Male")] == complement and levels[("Sex", "Other")] == small
    assert levels[("Route", "Subcutaneous")] == complement and levels[("Route", "Unknown")] == small
    assert demo["itt"]["mixed_model"]["cynicism"]["timepoints"]["0"]["n"] is None
    baseline = next(r for r in _mixed(ctx).rows if r["subscale"] == "Cynicism" and r["tp"] == "Baseline")
    assert baseline["n"] == complement
    record = next(r for r in _mixed(ctx).csv_rows if r["subscale"] == "cynicism" and r["timepoint"] == "0")
    assert record["model_n"] == complement  # the CSV said "suppressed (<11)"


FREE_TEXT = PLANTED["pathway"][0][0]


def test_free_text_is_never_published(planted_folder, tmp_path) -> None:
    """Issue 12 point 8: a pathway note naming a patient reached results.json keys, the report,
    subgroups.svg and two CSVs, for a group of one (five here)."""
    out = tmp_path / "out"
    tree = analyze(planted_folder, out=out).results
    assert "other" in tree["subgroups"]["pathway"]
    assert not any("smith" in level for level in tree["subgroups"]["pathway"])
    for path in out.rglob("*"):
        if path.is_file():
            text = path.read_bytes().decode("utf-8", errors="replace").lower()
            for word in ("dr smith", "jane doe", "1980-01-01"):
                assert word not in text, (path.name, word)


def test_listed_pathway_levels_are_kept(planted_folder) -> None:
    tree = _tree(planted_folder, **{"subgroups.pathway_levels": [FREE_TEXT.upper()]})
    level = FREE_TEXT.lower()
    assert level in tree["subgroups"]["pathway"]  # listed by the plan: its own level, hidden as small
    assert tree["subgroups"]["pathway"][level]["n"] is None


def test_warnings_with_counts_and_lines_stay_out_of_results_json(tmp_path) -> None:
    """Issue 12 point 10: "1 row for 1 patient has session > 6" was published in results.json."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parents[1]))  # tests/, where cohortfactory lives
    from cohortfactory import mbi_rows
    from cohortfactory import write_cohort as write_test_cohort

    rows = mbi_rows(timepoints=(0, 2, 3, 4, 6))  # an unscheduled assessment: a warning naming rows
    folder = write_test_cohort(tmp_path / "cohort", mbi_gs=rows)
    out = tmp_path / "out"
    result = analyze(folder, out=out)
    assert result.warnings  # the console still gets them
    published = (out / "results.json").read_text(encoding="utf-8")
    for w in result.warnings:
        assert w not in published
    assert result.results["warnings"] and all(not any(ch.isdigit() for ch in w) for w in result.results["warnings"])
    log = (out / "warnings-NOT-FOR-PUBLICATION.txt").read_text(encoding="utf-8")
    assert log.startswith("NOT FOR PUBLICATION") and all(w in log for w in result.warnings)


# --------------------------------------------------------------------------- differencing
@pytest.fixture(scope="module")
def two_runs(tmp_path_factory) -> dict[str, Any]:
    """The same 300-patient cohort analysed without and with one completer (issue 12 point 7)."""
    cohort = simulate_cohort(patients=300, seed=3)
    scratch = tmp_path_factory.mktemp("scratch")
    one = _completers(cohort, scratch)[0]

    def without(table: pa.Table) -> pa.Table:
        return table.filter(pc.not_equal(table["patient_id"], one))

    smaller = replace(
        cohort,
        patients=without(cohort.patients),
        mbi_gs=without(cohort.mbi_gs),
        sessions=without(cohort.sessions),
        phq9=without(cohort.phq9),
    )
    folders = {}
    for name, c in (("before", smaller), ("after", cohort)):
        folders[name] = tmp_path_factory.mktemp(name)
        write_cohort(c, folders[name], fmt="parquet")
    rows = [r for r in cohort.mbi_gs.to_pylist() if r["patient_id"] == one and r["after_session"] == 0]
    return {"folders": folders, "baseline_items": rows[0]}


def _difference(before: dict[str, Any], after: dict[str, Any]) -> float:
    """n x mean after minus n x mean before: the added completer's baseline exhaustion score."""
    a = after["subscales"]["exhaustion"]["timepoints"]["0"]
    b = before["subscales"]["exhaustion"]["timepoints"]["0"]
    return a["n"] * a["mean"] - b["n"] * b["mean"]


def test_differencing_two_runs_gives_one_patient_without_rounding(two_runs) -> None:
    """The risk the report's methods now state: exact counts give the added patient's score."""
    runs = {name: _tree(folder) for name, folder in two_runs["folders"].items()}
    score = _difference(runs["before"], runs["after"])
    assert runs["after"]["flow"]["completers"] == runs["before"]["flow"]["completers"] + 1
    assert score == pytest.approx(round(score * 5) / 5, abs=1e-6)  # a real subscale score (item mean of 5)
    assert 0 <= score <= 6


def test_round_to_blurs_differencing(two_runs) -> None:
    """``[privacy] round_to = 5``: every published count a multiple of 5, rates from the rounded counts;
    the same subtraction no longer gives a score (n of one of the runs is not the true n)."""
    exact = {name: _tree(folder) for name, folder in two_runs["folders"].items()}
    runs = {name: _tree(folder, **{"privacy.round_to": 5}) for name, folder in two_runs["folders"].items()}
    true_score = _difference(exact["before"], exact["after"])
    assert abs(_difference(runs["before"], runs["after"]) - true_score) > 0.01
    for tree in runs.values():
        for path, p in proportions(tree):
            if p["count"] is not None:
                assert p["count"] % 5 == 0 and p["n"] % 5 == 0, path
                assert p["rate"] == (p["count"] / p["n"] if p["n"] else None), path
        for path, value in leaves(tree):
            if path[-1] in ("n", "patients", "threshold_met", "completers", "observations") and isinstance(value, int):
                assert value % 5 == 0, path
        assert tree["privacy"]["round_to"] == 5
    # off by default: the exact tree
    assert exact["after"]["flow"]["completers"] % 5 != 0 or exact["before"]["flow"]["completers"] % 5 != 0


def _candidate_scores(before: dict[str, Any], after: dict[str, Any], *, round_to: int) -> list[float]:
    """Every baseline exhaustion score of the added completer consistent with two published runs.

    The attacker knows one completer was added. Each run publishes n (exact, or rounded to a
    multiple of ``round_to``: the true n is within round_to // 2) and a mean (exact, or on a
    grid g: the true mean is within g / 2). A sum n x mean of scores is a multiple of
    1/SCALE point; a score is an item mean of 5 or 4 items (0.2 or 0.25 steps) from 0 to 6.
    """
    from fractions import Fraction

    from burnout.instrument import SCALE

    a = after["subscales"]["exhaustion"]["timepoints"]["0"]
    b = before["subscales"]["exhaustion"]["timepoints"]["0"]
    half = Fraction(0) if round_to == 1 else Fraction(Publisher(min_cell_count=K, round_to=round_to).grid(b["n"])) / 2
    slack = Fraction(1, 10**6)  # float printing of an exact mean
    scores = sorted({Fraction(i, 5) for i in range(31)} | {Fraction(i, 4) for i in range(25)})
    found = set()
    r = round_to // 2
    for n1 in range(b["n"] - r, b["n"] + r + 1):
        n2 = n1 + 1
        if abs(n2 - a["n"]) > r:
            continue
        lo1, hi1 = n1 * (Fraction(b["mean"]) - half - slack), n1 * (Fraction(b["mean"]) + half + slack)
        lo2, hi2 = n2 * (Fraction(a["mean"]) - half - slack), n2 * (Fraction(a["mean"]) + half + slack)
        for x in scores:  # S2 = S1 + x with S1 on the 1/SCALE lattice in [lo1, hi1] and S2 in [lo2, hi2]
            low, high = max(lo1, lo2 - x), min(hi1, hi2 - x)
            if low <= high and math.floor(high * SCALE) >= math.ceil(low * SCALE):
                found.add(float(x))
    return sorted(found)


def _documented_grid(published_n: int, *, round_to: int) -> float:
    """docs/privacy.md's rule, written out by hand: the finest step of 0.001, 0.002, 0.005, 0.01,
    ... 50 with (smallest true n behind the published one) x step >= 6 points."""
    low = published_n - round_to // 2
    steps = [m * 10**e for e in range(-3, 2) for m in (1, 2, 5)]
    return next((g for g in steps if low > 0 and low * g >= 6), steps[-1])


def test_grid_follows_the_published_n_not_the_exact_one() -> None:
    """Two groups whose exact n differ (298, 302) but publish the same rounded n (300) and the
    same mean publish identical statistics: the precision must not tell them apart. Before,
    the grid was chosen from the exact n (0.05 for 298..301, 0.02 for 302)."""
    pub = Publisher(min_cell_count=K, round_to=5)
    trees = [pub.round_tree({"g": {"n": n, "mean": 1.2468, "sd": 0.7834, "ci": [1.1566, 1.3370]}}) for n in (298, 302)]
    assert trees[0] == trees[1]
    assert trees[0]["g"]["n"] == 300 and _documented_grid(300, round_to=5) == 0.05  # (300 - 2) x 0.02 < 6
    assert trees[0]["g"]["mean"] == pytest.approx(1.25) and trees[0]["g"]["sd"] == pytest.approx(0.8)


def test_round_to_reaches_nested_lists_and_leaves_plan_inputs() -> None:
    """Pairs of CI bounds in a list (a tipping table) are coarsened like the rates beside them;
    the plan's delta grid is not (coarsening it would relabel the rows)."""
    pub = Publisher(min_cell_count=K, round_to=5)
    got = pub.round_tree(
        {"t": {"n": 200, "rate": [0.52345, 0.5123], "ci": [[0.41234, 0.61234], [0.4, None]], "deltas": [0.0, 0.2, 0.4]}}
    )
    assert got["t"]["rate"] == [pytest.approx(0.5), pytest.approx(0.5)]  # grid 0.05 at n = 200
    assert got["t"]["ci"] == [[pytest.approx(0.4), pytest.approx(0.6)], [pytest.approx(0.4), None]]
    assert got["t"]["deltas"] == [0.0, 0.2, 0.4]


def test_round_to_leaves_the_added_patient_ambiguous(two_runs) -> None:
    """Issue 12 point 7 with ``round_to = 5``: means on a coarse grid, t and df withheld, so the
    enumeration of every (n, sum) consistent with the two runs no longer gives one score;
    without rounding it gives exactly the added patient's score (the risk)."""
    exact = {name: _tree(folder) for name, folder in two_runs["folders"].items()}
    rounded = {name: _tree(folder, **{"privacy.round_to": 5}) for name, folder in two_runs["folders"].items()}
    true_score = _difference(exact["before"], exact["after"])
    assert _candidate_scores(exact["before"], exact["after"], round_to=1) == [pytest.approx(true_score, abs=1e-6)]
    candidates = _candidate_scores(rounded["before"], rounded["after"], round_to=5)
    assert len(candidates) >= 10 and any(abs(c - true_score) < 1e-6 for c in candidates), candidates
    for tree in rounded.values():
        for t, entry in tree["subscales"]["exhaustion"]["timepoints"].items():
            assert entry.get("df") is None and entry.get("t") is None, t  # df = n - 1 would give n back
            if entry.get("p") is not None:  # rounded up to 0.01: a p of 1e-30 reads 0.01, never 0
                assert entry["p"] == pytest.approx(round(entry["p"], 2), abs=1e-12) and entry["p"] >= 0.01
            g = _documented_grid(entry["n"], round_to=5)
            for value in (entry["mean"], entry["sd"], *(entry["ci"] or [])):
                assert value is None or value / g == pytest.approx(round(value / g), abs=1e-6)
        for path, value in leaves(tree):
            if path[-1] in ("t", "df", "statistic"):
                assert value is None, path


def test_min_cohort_refuses_a_small_cohort_and_writes_nothing(tmp_path) -> None:
    from typer.testing import CliRunner

    from burnout.cli import app

    folder = tmp_path / "cohort"
    write_cohort(simulate_cohort(patients=40, seed=2), folder, fmt="parquet")
    plan = tmp_path / "plan.toml"
    plan.write_text(load_protocol().replace({"privacy.min_cohort": 50}).to_toml(), encoding="utf-8")
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["analyze", str(folder), "--protocol", str(plan), "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert "min_cohort" in result.output and "Traceback" not in result.output
    assert not out.exists()
    assert (
        analyze(folder, protocol=load_protocol().replace({"privacy.min_cohort": 40})).results["flow"]["patients"] == 40
    )


def test_a_bad_merge_target_exits_2_with_what_is_allowed(tmp_path) -> None:
    """``[subgroups.merge_small_into]`` names a variable or level that does not exist: exit 2,
    every problem with what is allowed, nothing written."""
    from typer.testing import CliRunner

    from burnout.cli import app

    folder = tmp_path / "cohort"
    write_cohort(simulate_cohort(patients=40, seed=2), folder, fmt="parquet")
    plan = tmp_path / "plan.toml"
    out = tmp_path / "out"
    # the levels of age bands and pathways depend on other keys: checked once the types are right
    for body, expected in (
        (
            'route = "oral"\nsmoker = "yes"\n',
            ['"sublingual" or "subcutaneous"', "allows age_band, sex, route, pathway"],
        ),
        (
            'age_band = "20-30"\npathway = "ptsd"\n',
            ["is not one of the age bands ['18-34', '35-49', '50+']", "is not among pathway_levels"],
        ),
    ):
        plan.write_text("[subgroups.merge_small_into]\n" + body, encoding="utf-8")
        result = CliRunner().invoke(app, ["analyze", str(folder), "--protocol", str(plan), "--out", str(out)])
        assert result.exit_code == 2, result.output
        text = " ".join(result.output.split())
        assert all(part in text for part in expected), text
        assert not out.exists()
