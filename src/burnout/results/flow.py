"""From exact aggregates to the results.json tree (the contract in results.md). (flow)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from burnout import privacy
from burnout.cohort import EXCLUSION_REASONS

if TYPE_CHECKING:
    from burnout.measures import Measures


def _hidden_levels(
    m: Measures, pub: privacy.Publisher, *, itt_published: bool, completers_published: bool
) -> dict[str, dict[str, privacy.HiddenReason]]:
    """Subgroup levels hidden everywhere (subgroups, completion by subgroup), with the reason.

    Per level three counts are published somewhere (threshold-met patients,
    completers, hence non-completers), each family with a published total; a level
    is hidden in all outputs when any of them needs it (Publisher.protect_jointly:
    unknown/other levels are the preferred complements). With the threshold-met or
    completers' total hidden, every level is hidden.
    """
    out: dict[str, dict[str, privacy.HiddenReason]] = {}
    for variable, levels in m.attrition.completion_by_subgroup.items():
        itt_n = {lv: n for lv, (_, n) in levels.items()}
        done = {lv: c for lv, (c, _) in levels.items()}
        not_done = {lv: n - c for lv, (c, n) in levels.items()}
        if not (itt_published and completers_published):
            hidden = frozenset(levels)
        else:
            hidden = pub.protect_jointly([itt_n, done, not_done]) if levels else frozenset()
        out[variable] = {
            lv: ("small" if any(pub.small(v[lv]) for v in (itt_n, done, not_done)) else "complement")
            for lv in levels
            if lv in hidden
        }
    return out


def _flow(m: Measures, pub: privacy.Publisher) -> dict[str, Any]:
    """Patients, threshold, completers and exclusions: two families of counts.

    patients = no_baseline + below_threshold + threshold_met, and
    threshold_met = missed_sessions + missed_assessment + completers. Complements go to
    the exclusions after the threshold first (not to completers); in the first family a
    small exclusion is protected by hiding the grand total ``patients`` (one figure no
    rate or analysis uses) rather than the below-threshold exclusion or threshold_met.
    """
    ex = m.exclusions
    if pub.small(m.patients):  # a tiny cohort: nothing about it is published
        return _with_reasons(
            {
                "patients": pub.count(m.patients),
                "threshold_met": pub.count(m.threshold_met, hide=not pub.small(m.threshold_met)),
                "completers": pub.count(m.completers, hide=not pub.small(m.completers)),
                "completion": pub.hidden("small"),
                "exclusions": {r: pub.count(ex[r], hide=not pub.small(ex[r])) for r in EXCLUSION_REASONS},
            },
            m,
            pub,
        )
    after_family = {
        "missed_sessions": ex["missed_sessions"],
        "missed_assessment": ex["missed_assessment"],
        "completers": m.completers,
    }
    after = (
        frozenset(after_family) | {"threshold_met"}
        if pub.small(m.threshold_met)
        else pub.protect(after_family, prefer=("missed_sessions", "missed_assessment"))
    )
    before_family = {
        "no_baseline": ex["no_baseline"],
        "below_threshold": ex["below_threshold"],
        "threshold_met": m.threshold_met,
    }
    # primary cells of the first family; when they do not protect each other (one alone, or
    # together a small count), the grand total is the complement: the other cells stay published
    before = {key for key, v in before_family.items() if pub.small(v)} | ({"threshold_met"} & set(after))
    held = sum(before_family[key] for key in before)
    hide_total = len(before) == 1 or (len(before) >= 2 and pub.small(held))
    counts = {**before_family, **after_family}
    hidden = before | set(after)

    def shown(key: str) -> int | None:
        return pub.count(counts[key], hide=key in hidden)

    flow = {
        "patients": pub.count(m.patients, hide=hide_total),
        "threshold_met": shown("threshold_met"),
        "completers": shown("completers"),
        "completion": pub.prop(
            m.completers, m.threshold_met, n_published="threshold_met" not in hidden, hide="completers" in hidden
        ),
        "exclusions": {r: shown(r) for r in EXCLUSION_REASONS},
    }
    return _with_reasons(flow, m, pub)


def _with_reasons(flow: dict[str, Any], m: Measures, pub: privacy.Publisher) -> dict[str, Any]:
    """``flow.hidden``: why each hidden count of the flow is hidden ("small": 1..k-1, or
    "complement": hidden to protect a small cell), so renderers label it truthfully
    (the flow's counts are bare ints, which cannot carry a reason of their own)."""
    raw = {
        "patients": m.patients,
        "threshold_met": m.threshold_met,
        "completers": m.completers,
        **{f"exclusions.{r}": m.exclusions[r] for r in EXCLUSION_REASONS},
    }
    published = {
        "patients": flow["patients"],
        "threshold_met": flow["threshold_met"],
        "completers": flow["completers"],
        **{f"exclusions.{r}": flow["exclusions"][r] for r in EXCLUSION_REASONS},
    }
    reasons: dict[str, privacy.HiddenReason] = {
        key: ("small" if pub.small(raw[key]) else "complement") for key, value in published.items() if value is None
    }
    return {**flow, "hidden": reasons}
