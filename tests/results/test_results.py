"""The results tree: privacy suppression holds everywhere a count appears.

An independent "attacker" walks results.json: every published count, every count
implied by a published n minus a published count, and every count recoverable by
subtracting published cells from a published total must be 0 or >= min_cell_count.
"""

from __future__ import annotations

from typing import Any

import pytest

from burnout.analysis import analyze
from burnout.cohort import PROFILES
from burnout.instrument import SUBSCALES
from burnout.simulate import simulate_cohort, write_cohort

K = 11


def small(c: int | None) -> bool:
    return c is not None and 1 <= c < K


def proportions(node: Any, path: str = ""):
    """Every Proportion-shaped dict in the tree, with its path."""
    if isinstance(node, dict):
        if {"count", "n", "rate", "ci", "suppressed"} <= node.keys():
            yield path, node
        for key, value in node.items():
            yield from proportions(value, f"{path}.{key}")


def recoverable(total: int | None, cells: list[int | None]) -> list[int]:
    """What subtraction reveals: the sum of the hidden cells, when only that is unknown."""
    if total is None:
        return []
    hidden = [c for c in cells if c is None]
    if not hidden:
        return []
    return [total - sum(c for c in cells if c is not None)]


@pytest.fixture(scope="module", params=[600, None], ids=["small-cohort", "demo-cohort"])
def tree(request, tmp_path_factory):
    folder = tmp_path_factory.mktemp("cohort")
    write_cohort(simulate_cohort(patients=request.param, seed=11), folder, fmt="parquet")
    return analyze(folder).results


def test_no_published_count_is_small(tree):
    for path, p in proportions(tree):
        assert not small(p["count"]), path
        if p["count"] is not None and p["n"] is not None:
            assert not small(p["n"] - p["count"]), f"{path}: complement {p['n'] - p['count']}"
        if p["suppressed"]:
            assert p["count"] is None and p["rate"] is None and p["ci"] is None, path


def test_profile_vectors_cannot_be_solved_from_the_total(tree):
    n = tree["flow"]["completers"]
    for t, profiles in tree["profiles"].items():
        if t not in tree["below_threshold"]:
            continue
        cells = [profiles[p]["count"] for p in PROFILES]
        hidden = sum(c is None for c in cells)
        assert hidden != 1, f"profiles at {t}: one hidden cell is the total minus the rest"
        for value in recoverable(n, cells):
            assert not small(value), f"profiles at {t}: hidden cells sum to {value}"


def test_transition_matrix_rows_and_columns(tree):
    counts = tree["profiles"]["transitions"]["counts"]
    first = tree["profiles"]["transitions"]["from"]
    last = tree["profiles"]["transitions"]["to"]
    for a in PROFILES:
        row = [counts[a][b] for b in PROFILES]
        assert sum(c is None for c in row) != 1, f"row {a}"
        total = tree["profiles"][first][a]["count"]
        for value in recoverable(total, row):
            assert not small(value), f"row {a} hidden sum {value}"
    for b in PROFILES:
        col = [counts[a][b] for a in PROFILES]
        assert sum(c is None for c in col) != 1, f"column {b}"
        total = tree["profiles"][last][b]["count"]
        for value in recoverable(total, col):
            assert not small(value), f"column {b} hidden sum {value}"


def test_responder_chain_differences(tree):
    n = tree["flow"]["completers"]
    r = tree["responders"]
    chain = [n, r["at_least_1"]["count"], r["at_least_2"]["count"], r["all_3"]["count"], 0]
    shown = [c for c in chain if c is not None]
    for a, b in zip(shown, shown[1:], strict=False):
        assert not small(a - b), f"consecutive responder counts differ by {a - b}"


def test_subgroup_levels_cannot_be_solved(tree):
    n = tree["flow"]["completers"]
    for variable, levels in tree["subgroups"].items():
        names = [lv for lv in levels if lv != "heterogeneity"]
        sizes = [levels[lv]["n"] for lv in names]
        assert sum(s is None for s in sizes) != 1, variable
        for value in recoverable(n, sizes):
            assert not small(value), f"{variable}: hidden levels hold {value}"
        for outcome in [*SUBSCALES, "at_least_1"]:
            cells = [levels[lv][outcome]["count"] for lv in names]
            total = (
                tree["responders"]["at_least_1"]["count"]
                if outcome == "at_least_1"
                else tree["subscales"][outcome]["response"]["count"]
            )
            for value in recoverable(total, cells):
                assert not small(value), f"{variable}/{outcome}: hidden levels hold {value}"


def test_flow_exclusions(tree):
    flow = tree["flow"]
    cells = [*flow["exclusions"].values(), flow["completers"]]
    assert not any(small(c) for c in cells)
    for value in recoverable(flow["patients"], cells):
        assert not small(value)


def test_completion_by_subgroup_agrees_with_subgroups(tree):
    """A level hidden in one place is hidden in the other, and the families sum safely."""
    n_itt = tree["flow"]["threshold_met"]
    n_comp = tree["flow"]["completers"]
    for variable, levels in tree["attrition"]["completion_by_subgroup"].items():
        names = list(levels)
        for lv in names:
            in_subgroups = tree["subgroups"][variable].get(lv)
            if levels[lv]["n"] is None and in_subgroups is not None:
                assert in_subgroups["n"] in (None, 0), f"{variable}/{lv} hidden in completion but not in subgroups"
            if levels[lv]["count"] is not None and in_subgroups is not None and in_subgroups["n"] is not None:
                assert levels[lv]["count"] == in_subgroups["n"]
        for total, cells in (
            (n_itt, [levels[lv]["n"] for lv in names]),
            (n_comp, [levels[lv]["count"] for lv in names]),
        ):
            assert sum(c is None for c in cells) != 1, variable
            for value in recoverable(total, cells):
                assert not small(value), f"{variable}: hidden levels hold {value}"


def test_reach_steps_are_not_small(tree):
    n = tree["flow"]["threshold_met"]
    shown = [n, *(p["count"] for p in tree["attrition"]["reach"].values() if p["count"] is not None), 0]
    for a, b in zip(shown, shown[1:], strict=False):
        assert not small(a - b), f"reach steps differ by {a - b}"


def test_flow_two_families(tree):
    flow = tree["flow"]
    ex = flow["exclusions"]
    # patients = no_baseline + below_threshold + threshold_met; threshold_met = the two later
    # exclusions + completers. A hidden total protects its family; otherwise no lone hidden cell.
    for total, cells in (
        (flow["patients"], [ex["no_baseline"], ex["below_threshold"], flow["threshold_met"]]),
        (flow["threshold_met"], [ex["missed_sessions"], ex["missed_assessment"], flow["completers"]]),
    ):
        if total is None:
            continue
        assert sum(c is None for c in cells) != 1
        for value in recoverable(total, cells):
            assert not small(value)


def test_subgroup_difference_from_rest_against_statsmodels_newcombe(tree):
    """Issue 16: each published level's response minus the rest of the completers', with
    Newcombe's hybrid score interval, recomputed from the published numbers alone by
    statsmodels (tolerance 1e-10); a hidden cell or total leaves the difference blank."""
    from statsmodels.stats.proportion import confint_proportions_2indep

    comp = tree["flow"]["completers"]
    totals = {s: tree["subscales"][s]["response"]["count"] for s in SUBSCALES}
    totals["at_least_1"] = tree["responders"]["at_least_1"]["count"]
    checked = 0
    for variable, body in tree["subgroups"].items():
        for level, entry in body.items():
            if level == "heterogeneity":
                continue
            for o, diff in entry["difference_from_rest"].items():
                assert diff["method"] == "newcombe-hybrid-score"
                cell = entry[o]
                if cell["count"] is None or totals[o] is None:
                    assert diff["estimate"] is None and diff["ci"] is None, (variable, level, o)
                    continue
                if diff["estimate"] is None:
                    continue
                rest_x, rest_n = totals[o] - cell["count"], comp - cell["n"]
                ref = confint_proportions_2indep(
                    cell["count"], cell["n"], rest_x, rest_n, method="newcomb", compare="diff"
                )
                assert diff["estimate"] == pytest.approx(cell["count"] / cell["n"] - rest_x / rest_n, abs=1e-12)
                assert diff["ci"] == pytest.approx(list(ref), abs=1e-10)
                checked += 1
    assert checked > 0


def test_heterogeneity_leaves_unknown_and_other_levels_out(tree):
    """Issue 16 item 5: a residual level is not a subgroup; a merged one is named in ``merged``."""
    for variable, body in tree["subgroups"].items():
        for o, test in body["heterogeneity"].items():
            assert test["known_levels_only"] is True
            tested = test.get("levels") or [lv for lv in body if lv != "heterogeneity" and body[lv]["n"]]
            assert not {"unknown", "other"} & set(tested), (variable, o, tested)
            for residual, target in (test.get("merged") or {}).items():
                assert residual not in body and residual in body[target]["merged"]
