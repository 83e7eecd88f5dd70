"""From exact aggregates to the results.json tree (the contract in results.md). (attrition)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from burnout import privacy
from burnout.instrument import SCALE, SUBSCALES

if TYPE_CHECKING:
    from burnout.measures import Measures
    from burnout.plan import Protocol
from burnout.results._common import _chain
from burnout.results.primary import mbi_gs_primary
from burnout.results.recode import TABLE1_BINARY, Merges, merged_into

TABLE1_LABELS = {
    "age": "Age, years",
    "female": "Female",
    "subcutaneous": "Subcutaneous route",
    "exhaustion": "Exhaustion (0-6)",
    "cynicism": "Cynicism (0-6)",
    "professional_efficacy": "Professional Efficacy (0-6)",
    "phq9": "PHQ-9 total (0-27)",
}


def _row_label(merges: Merges, name: str) -> str:
    """Table 1's binary row label: what the row counts, with any residual merged into its level."""
    variable, level = TABLE1_BINARY[name]
    residuals = merged_into(merges, variable, level)
    return privacy.merged_label(TABLE1_LABELS[name], residuals) if residuals else TABLE1_LABELS[name]


def _attrition(
    m: Measures,
    protocol: Protocol,
    pub: privacy.Publisher,
    hidden_levels: dict[str, dict[str, privacy.HiddenReason]],
    merges: Merges,
    *,
    comp_pub: bool,
    itt_pub: bool,
) -> dict[str, Any]:
    """Table 1 (completers vs non-completers at baseline), reach per session, completion by subgroup.

    A group's size is published only when both flow totals are (non-completers are
    their difference). A continuous row's n is the group minus those with the value
    missing, a family: with few missing, n is hidden and the mean and SD with it (they
    give n back). A binary row's denominator is the group when few are unknown (unknown is a
    cell of the family, never published), else those with a known value.
    """
    from burnout.scoring import PHQ9_SCALE

    a = m.attrition
    group_n = {"completers": m.completers, "non_completers": m.threshold_met - m.completers}
    group_pub = {"completers": comp_pub, "non_completers": comp_pub and itt_pub}
    scale = {"age": 1, "phq9": PHQ9_SCALE} | {s: SCALE for s in SUBSCALES}
    table1: dict[str, Any] = {}
    smd: dict[str, float | None] = {}
    mbi_gs = mbi_gs_primary(protocol)  # else the MBI-GS rows and the early change are not built (results.primary)
    for name in a.continuous["completers"]:
        if name in SUBSCALES and not mbi_gs:
            continue
        groups, d = _two_groups({g: a.continuous[g][name] for g in group_n}, scale[name], group_n, group_pub, pub)
        smd[name] = d
        table1[name] = {"label": TABLE1_LABELS[name], "kind": "continuous", **groups, "smd": d}
    for name in a.binary["completers"]:
        table1[name] = _binary_row(m, name, pub, hidden_levels, merges, group_n=group_n, group_pub=group_pub)
        smd[name] = table1[name]["smd"]
    # consecutive differences are patients who stopped after exactly j sessions
    reach = _chain({str(j): c for j, c in a.reach.items() if j > 0}, m.threshold_met, pub, itt_pub)
    completion = {
        var: {
            level: (
                pub.hidden(hidden_levels[var][level])
                if level in hidden_levels.get(var, {})
                else pub.prop(c, n, n_published=itt_pub)
            )
            for level, (c, n) in levels.items()
        }
        for var, levels in a.completion_by_subgroup.items()
    }
    out = {"table1": table1, "baseline_smd": smd, "reach": reach, "completion_by_subgroup": completion}
    if mbi_gs and a.early_change.get("completers"):
        assessments = protocol.schedule.assessments
        early: dict[str, Any] = {"from": str(assessments[0]), "to": str(assessments[1])}
        for s in SUBSCALES:
            groups, d = _two_groups({g: a.early_change[g][s] for g in group_n}, SCALE, group_n, group_pub, pub)
            early[s] = {**groups, "smd": d}
        out["early_change"] = early
    return out


def _binary_row(
    m: Measures,
    name: str,
    pub: privacy.Publisher,
    hidden_levels: dict[str, dict[str, privacy.HiddenReason]],
    merges: Merges,
    *,
    group_n: dict[str, int],
    group_pub: dict[str, bool],
) -> dict[str, Any]:
    """A binary Table 1 row: each group's share and the SMD of the two shares."""
    groups: dict[str, Any] = {}
    rates = []
    for g in ("completers", "non_completers"):
        yes, n = m.attrition.binary[g][name]
        denominator = group_n[g] if pub.small(group_n[g] - n) else n
        # the same cell as a subgroup level (female of sex, subcutaneous of route): the same treatment
        variable, level = TABLE1_BINARY[name]
        if level in hidden_levels.get(variable, {}):
            groups[g] = pub.hidden(hidden_levels[variable][level], n=denominator if group_pub[g] else None)
        else:
            groups[g] = pub.prop(yes, denominator, n_published=group_pub[g])
        # the SMD comes from the published shares only (issue 12: an SMD beside a hidden count solved it)
        rates.append(groups[g]["rate"])
    p1, p2 = rates
    d = None
    if p1 is not None and p2 is not None:
        pooled = (p1 * (1 - p1) + p2 * (1 - p2)) / 2
        d = (p1 - p2) / pooled**0.5 if pooled > 0 else None
    # a merged residual is counted in its level (results.recode): the label says so
    return {"label": _row_label(merges, name), "kind": "binary", **groups, "smd": d}


def _two_groups(
    moments: dict[str, Any],
    scale: int,
    group_n: dict[str, int],
    group_pub: dict[str, bool],
    pub: privacy.Publisher,
) -> tuple[dict[str, Any], float | None]:
    """Completers vs non-completers on a continuous variable: ``{"n", "mean", "sd"}`` per group
    and the standardized mean difference (pooled SD, completers minus non-completers).

    A group's statistics are withheld when it is hidden or fewer than k have the value.
    They are withheld too when its n (the group minus those without the value, a family)
    is hidden because the rest is small: a sum and a sum of squares are integers on the
    score's grid, so the mean and SD alone rebuild n (issue 12's audit solved it back from them).
    The SMD is then withheld with them.
    """
    groups: dict[str, Any] = {}
    stats: list[tuple[float | None, float | None]] = []
    for g in ("completers", "non_completers"):
        mo = moments[g]
        if not (mo.n > 0 and pub.enough_of(mo.n, group_n[g], total_published=group_pub[g])):
            pub.note("statistic", 3)
            groups[g] = {"n": None, "mean": None, "sd": None}
            if mo.n > 0:  # why, for the table's label: n itself small, or what n would give back
                groups[g]["hidden_because"] = "small" if pub.small(mo.n) else "complement"
            stats.append((None, None))
            continue
        mean = mo.total / mo.n / scale
        sd = (mo.centered_ss() / (mo.n - 1)) ** 0.5 / scale if mo.n > 1 else None
        groups[g] = {"n": mo.n, "mean": mean, "sd": sd}
        stats.append((mean, sd))
    (m1, s1), (m2, s2) = stats
    d = None
    if m1 is not None and m2 is not None and s1 is not None and s2 is not None and (s1**2 + s2**2) > 0:
        d = (m1 - m2) / ((s1**2 + s2**2) / 2) ** 0.5
    return groups, d
