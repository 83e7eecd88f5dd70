"""privacy.hidden counts what is published: a plan whose primary instrument is not the MBI-GS.

The tree of such a plan leaves the MBI-GS analyses out (results.primary). The tally
of hidden positions must not count cells of sections that are not in the tree: here it
is compared with the hidden positions found by walking the published results.json,
each rule by the marks docs/privacy.md gives it.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from burnout.analysis import analyze
from burnout.plan import parse_protocol
from burnout.privacy import RULES
from burnout.results.primary import MBI_GS_SECTIONS
from burnout.simulate import simulate_cohort, write_cohort
from instrumentreference import phq9_primary_plan

# k = 20 on 600 simulated patients hides cells of every kind this tree can hold (flow
# counts, Proportions, a Table 1 n, a secondary instrument's timepoint) and leaves the
# safety population published; the MBI-GS secondary gets its paired analysis only
PLAN = phq9_primary_plan(min_cell_count=20)


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("tally") / "cohort"
    write_cohort(simulate_cohort(patients=600, seed=11), folder, fmt="parquet")
    return analyze(folder, protocol=parse_protocol(PLAN)).results


def published_hidden(tree: dict[str, Any]) -> Counter[str]:
    """Hidden positions per rule, read from the published sections only (not from the Publisher)."""
    found: Counter[str] = Counter()
    sections = {k: v for k, v in tree.items() if k not in ("schema_version", "meta", "protocol", "privacy", "warnings")}
    # the flow's counts are bare ints: their reasons are listed in flow.hidden
    found.update(sections["flow"]["hidden"].values())
    assert sections["safety"]["patients"] is not None, "the fixture keeps the safety population published"
    _walk(sections, found, path=())
    return found


def _walk(node: Any, found: Counter[str], *, path: tuple[str, ...]) -> None:
    if isinstance(node, list):
        for value in node:
            _walk(value, found, path=path)
        return
    if not isinstance(node, dict):
        return
    if isinstance(node.get("hidden"), str):  # a hidden Proportion: "small" or "complement"
        found[node["hidden"]] += 1
    if node.get("withheld") is True:  # a test on a table with a hidden cell
        found["test"] += 1
    if {"n", "mean", "sd"} <= node.keys():
        _summary(node, found, table1="table1" in path)
    for key, value in node.items():
        if key != "hidden":
            _walk(value, found, path=(*path, key))


def _summary(node: dict[str, Any], found: Counter[str], *, table1: bool) -> None:
    """An n / mean / sd entry: withheld whole (a statistic), or only its n hidden (a complement
    of the few without the value). A Table 1 group counts its three numbers, a timepoint one entry."""
    if node["mean"] is None:
        assert node["n"] is None and node["sd"] is None
        found["statistic"] += 3 if table1 else 1
    elif node["n"] is None:
        found["complement"] += 1


def test_non_mbi_primary_tally_counts_only_published_positions(tree: dict[str, Any]) -> None:
    assert not set(MBI_GS_SECTIONS) & set(tree)
    found = published_hidden(tree)
    assert all(found[rule] > 0 for rule in ("small", "complement", "statistic")), found  # the walk sees each kind
    assert tree["privacy"]["hidden"] == {rule: found[rule] for rule in RULES}
