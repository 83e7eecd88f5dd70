"""Issue 12 leftovers: a p-value rounded up by round_to reads as a bound, and the subgroups
table shows each level's difference from the rest (Newcombe) from the published tree."""

from __future__ import annotations

import copy

from burnout.report.format import Ctx, fmt_p, fmt_p_eq
from burnout.report.tables.build import build_tables
from burnout.report.tables.subgroup_diff import DIFFERENCE_LABEL
from resultsfactory import make_results


def test_rounded_p_prints_as_an_upper_bound() -> None:
    tree, _ = make_results()
    exact = Ctx(tree)
    rounded_tree = copy.deepcopy(tree)
    rounded_tree.setdefault("privacy", {})["round_to"] = 5
    rounded = Ctx(rounded_tree)
    assert not exact.p_rounded and rounded.p_rounded
    assert fmt_p(0.043, exact) == "0.043" and fmt_p_eq(0.043, exact) == "p = 0.043"
    assert fmt_p(0.05, rounded) == "\u2264 0.05" and fmt_p_eq(0.01, rounded) == "p \u2264 0.01"
    assert fmt_p(None, rounded) == fmt_p(None, exact)  # a dash either way
    # every p printed in the tables reads as a bound, none as an exact 3-decimal value
    cells = [
        str(v)
        for table in build_tables(rounded).values()
        for row in table.rows
        for k, v in row.items()
        if k in ("p", "p_holm")
    ]
    assert cells and all(c.startswith("\u2264") or c == "\u2013" for c in cells)


def test_subgroup_differences_from_the_rest_appear_under_each_level() -> None:
    tree, _ = make_results()
    variable, body = next(iter(tree["subgroups"].items()))
    level = next(k for k in body if k != "heterogeneity")
    body[level]["difference_from_rest"] = {
        "at_least_1": {"estimate": 0.0312, "ci": [-0.0504, 0.1123], "method": "newcombe-hybrid-score"},
        "exhaustion": {"estimate": None, "ci": None, "method": "newcombe-hybrid-score"},
    }
    rows = build_tables(Ctx(tree))["subgroups"].rows
    at = next(i for i, r in enumerate(rows) if r["level"] == DIFFERENCE_LABEL)
    assert rows[at]["at_least_1"] == "+3.1 (\u22125.0 to 11.2)"
    assert rows[at]["exhaustion"] == "\u2013"
    # one difference row only: the levels without published differences get none
    assert sum(r["level"] == DIFFERENCE_LABEL for r in rows) == 1
