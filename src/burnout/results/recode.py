"""From exact aggregates to the results.json tree (the contract in results.md). (recode).

Global recoding of small residual subgroup levels (privacy.plan_merges, docs/privacy.md),
applied once to the aggregates before any section is built, so every section (subgroups,
completion by subgroup, Table 1) publishes the same merged level. Level aggregates are
counts, so merging levels is adding them.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from burnout import privacy

if TYPE_CHECKING:
    from burnout.measures import Measures
    from burnout.plan import Protocol

Merges = dict[str, dict[str, str]]
"""variable -> {residual level: the level it was merged into}."""

TABLE1_BINARY = {"female": ("sex", "female"), "subcutaneous": ("route", "subcutaneous")}
"""Table 1's binary rows: row -> (the subgroup variable, the level the row counts as yes); the
other real level is no, a residual is neither (the row's unknowns)."""


def plan_recoding(m: Measures, protocol: Protocol) -> Merges:
    """The merges of every subgroup variable (empty when ``[subgroups] merge_small = false``)."""
    if not protocol.subgroups.merge_small:
        return {}
    merges: Merges = {}
    for variable, levels in m.attrition.completion_by_subgroup.items():
        into = getattr(protocol.subgroups.merge_small_into, variable, None)
        populations = {
            "threshold_met": {lv: n for lv, (_, n) in levels.items()},
            "completers": {lv: c for lv, (c, _) in levels.items()},
            "non_completers": {lv: n - c for lv, (c, n) in levels.items()},
        }
        target = None if into is None else into.strip().lower()
        found = privacy.plan_merges(populations, min_cell_count=protocol.privacy.min_cell_count, into=target)
        if found:
            merges[variable] = found
    return merges


def recode(m: Measures, merges: Merges) -> Measures:
    """``m`` with every residual level added into its target (subgroups, completion, Table 1)."""
    if not merges:
        return m
    subgroups = {var: _merge_levels(levels, merges.get(var, {})) for var, levels in m.subgroups.items()}
    completion = {
        var: {
            lv: (sum(levels[x][0] for x in group), sum(levels[x][1] for x in group))
            for lv, group in _groups(list(levels), merges.get(var, {})).items()
        }
        for var, levels in m.attrition.completion_by_subgroup.items()
    }
    group_n = {"completers": m.completers, "non_completers": m.threshold_met - m.completers}
    binary = {g: dict(rows) for g, rows in m.attrition.binary.items()}
    for row, (variable, yes_level) in TABLE1_BINARY.items():
        if variable not in merges:
            continue
        for g, rows in binary.items():
            if row not in rows:
                continue
            yes, known = rows[row]
            residual = group_n[g] - known  # the row's unknowns are the variable's residual levels
            into_yes = yes_level in merges[variable].values()
            rows[row] = (yes + residual if into_yes else yes, group_n[g])
    attrition = dataclasses.replace(m.attrition, completion_by_subgroup=completion, binary=binary)
    return dataclasses.replace(m, subgroups=subgroups, attrition=attrition)


def _groups(levels: list[str], merges: dict[str, str]) -> dict[str, list[str]]:
    """Published level -> the levels it adds up (itself and what was merged into it)."""
    out: dict[str, list[str]] = {}
    for lv in levels:
        if lv in merges:
            continue
        out[lv] = [lv, *sorted(r for r, t in merges.items() if t == lv and r in levels)]
    return out


def _merge_levels(levels: dict[str, dict[str, int]], merges: dict[str, str]) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for lv, entry in levels.items():
        key = merges.get(lv, lv)
        if key in out:
            out[key] = {name: out[key][name] + v for name, v in entry.items()}
        else:
            out[key] = dict(entry)
    return dict(sorted(out.items()))


def merged_into(merges: Merges, variable: str, level: str) -> list[str]:
    """The residual levels merged into ``level`` (sorted; [] when none)."""
    return sorted(r for r, t in merges.get(variable, {}).items() if t == level)


def level_label(merges: Merges, variable: str, level: str) -> str:
    """A published level's label: the level as is, or what it holds when residuals were merged into it."""
    residuals = merged_into(merges, variable, level)
    return privacy.merged_label(level, residuals) if residuals else level
