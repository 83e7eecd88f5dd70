"""From exact aggregates to the results.json tree (the contract in results.md). (build)."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from burnout import privacy
from burnout.instrument import SUBSCALES
from burnout.results._common import BuildContext, _responder_chain
from burnout.results.attrition import _attrition
from burnout.results.comparison import comparison_results
from burnout.results.flow import _flow, _hidden_levels
from burnout.results.primary import MBI_GS_SECTIONS, mbi_gs_primary
from burnout.results.profiles import profile_results
from burnout.results.recode import plan_recoding, recode
from burnout.results.safety import safety_results
from burnout.results.subgroups import _subgroups
from burnout.results.trajectories import subscale_results

if TYPE_CHECKING:
    from burnout.measures import BeyondMeasures, Measures
    from burnout.plan import Protocol

__all__ = ["SCHEMA_VERSION", "WARNINGS_LOG", "build_results", "dumps", "warnings_log"]

SCHEMA_VERSION = 1


def dumps(tree: dict[str, Any]) -> str:
    """Canonical JSON text of a results tree (NaN is never written: it becomes null)."""
    return json.dumps(_clean(tree), indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def _clean(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


def build_results(
    m: Measures,
    protocol: Protocol,
    *,
    meta: dict[str, Any],
    warnings: list[str],
    beyond: BeyondMeasures | None = None,
) -> dict[str, Any]:
    """Assemble the results tree from the aggregates, with privacy suppression applied.

    ``beyond`` adds the analyses beyond the reference study (itt, phq9,
    reliable_change, reliability; results.md, second part).
    """
    privacy.check_cohort_size(m.patients, min_cohort=protocol.privacy.min_cohort)
    # global recoding: small residual subgroup levels merged into a real level, in every section
    merges = plan_recoding(m, protocol)
    m = recode(m, merges)
    pub = privacy.Publisher.for_plan(protocol)
    flow = _flow(m, pub)
    comp_pub = flow["completers"] is not None  # every statistic over the completers needs their n
    itt_pub = flow["threshold_met"] is not None
    hidden = _hidden_levels(m, pub, itt_published=itt_pub, completers_published=comp_pub)
    ctx = BuildContext(m, protocol, pub, merges, comp_pub=comp_pub, itt_pub=itt_pub, hidden_levels=hidden)
    sections: dict[str, Any] = {"flow": flow}
    # another primary instrument: the MBI-GS sections are not built (results.primary), so
    # privacy.hidden counts none of their cells
    for key, build in _SECTIONS if mbi_gs_primary(protocol) else _NOT_MBI_GS_SECTIONS:
        section = build(ctx, sections)
        if section is not None:
            sections[key] = section
    if beyond is not None:
        sections |= _beyond_sections(ctx, beyond, sections)
    # [privacy] round_to: every published count to a multiple of it, rates from the rounded counts
    # (statistics without a group size of their own: over the completers, or more)
    published = pub.round_tree(sections, n=pub.rounded(m.completers))
    return {
        "schema_version": SCHEMA_VERSION,
        "meta": meta,
        "protocol": protocol.resolved() | {"sha256": protocol.sha256},
        **published,
        "privacy": pub.summary(),
        # the messages themselves can hold counts of a few patients and line numbers (issue
        # 12 point 10): they go to the console and the local log (warnings_log), not here
        "warnings": [WARNINGS_PUBLISHED] if warnings else [],
    }


Section = Callable[[BuildContext, dict[str, Any]], "dict[str, Any] | None"]
"""A section of the tree from the context and the sections built before it (None: left out)."""


def _responders(ctx: BuildContext, done: dict[str, Any]) -> dict[str, Any]:
    """Responders on at least 1 / 2 / all 3 subscales, over the completers."""
    return _responder_chain(ctx.m.responder_counts, ctx.m.completers, ctx.pub, ctx.comp_pub)


def _below_threshold(ctx: BuildContext, done: dict[str, Any]) -> dict[str, Any]:
    """Completers below the threshold at each assessment."""
    return {str(t): ctx.completers_prop(ctx.m.below_threshold[t]) for t in ctx.protocol.schedule.assessments}


def _side_effects(ctx: BuildContext, done: dict[str, Any]) -> dict[str, Any]:
    """Side effects after each session among the completers who answered; serious adverse events per session."""
    m, pub = ctx.m, ctx.pub
    # completers who answered form a family with those who did not (a cell of it): when
    # the non-answers are few, the denominator is every completer so n does not give them away
    side_effects: dict[str, Any] = {
        str(s): ctx.prop(yes, m.completers if pub.small(m.completers - n) else n, n_published=ctx.comp_pub)
        for s, (yes, n) in m.side_effects.items()
    }
    events, sessions = m.sae
    # the completers' sessions are schedule sessions x completers: hidden with the completers
    side_effects["serious_adverse_events"] = ctx.prop(events, sessions, n_published=ctx.comp_pub)
    return side_effects


def _safety(ctx: BuildContext, done: dict[str, Any]) -> dict[str, Any] | None:
    return None if ctx.m.safety is None else safety_results(ctx.m.safety, ctx.pub, enrolled=ctx.m.patients)


def _subgroup_section(ctx: BuildContext, done: dict[str, Any]) -> dict[str, Any]:
    """Subgroups, with the responders each subscale and the chain published (their complements)."""
    totals: dict[str, int | None] = {s: done["subscales"][s]["response"]["count"] for s in SUBSCALES}
    totals["at_least_1"] = done["responders"]["at_least_1"]["count"]
    return _subgroups(ctx.m, ctx.pub, ctx.hidden_levels, ctx.merges, comp_pub=ctx.comp_pub, totals=totals)


def _attrition_section(ctx: BuildContext, done: dict[str, Any]) -> dict[str, Any]:
    return _attrition(
        ctx.m, ctx.protocol, ctx.pub, ctx.hidden_levels, ctx.merges, comp_pub=ctx.comp_pub, itt_pub=ctx.itt_pub
    )


_SECTIONS: tuple[tuple[str, Section], ...] = (
    ("subscales", lambda ctx, done: subscale_results(ctx)),
    ("responders", _responders),
    ("comparison", lambda ctx, done: comparison_results(ctx, done["subscales"], done["responders"])),
    ("below_threshold", _below_threshold),
    ("profiles", lambda ctx, done: profile_results(ctx)),
    ("side_effects", _side_effects),
    ("safety", _safety),
    ("subgroups", _subgroup_section),
    ("attrition", _attrition_section),
)
"""The main tree's sections, in their published order (after ``flow``)."""

_NOT_MBI_GS_SECTIONS = tuple((key, build) for key, build in _SECTIONS if key not in MBI_GS_SECTIONS)
"""The main sections built for a primary instrument other than the MBI-GS."""


def _beyond_sections(ctx: BuildContext, beyond: BeyondMeasures, done: dict[str, Any]) -> dict[str, Any]:
    """The analyses beyond the reference study, hiding what the main sections hid of the cells they share."""
    from burnout.results.extended import beyond_results

    published = {"threshold_met": ctx.itt_pub, "completers": ctx.comp_pub}
    if mbi_gs_primary(ctx.protocol):
        subscales, responders = done["subscales"], done["responders"]
        # the worst case counts the completers' responders (and the non-completers') over everyone who met the
        # threshold: the same cells, so the same treatment (issue 12)
        published |= {f"response_{s}": not subscales[s]["response"]["suppressed"] for s in SUBSCALES}
        published["at_least_1"] = not responders["at_least_1"]["suppressed"]
    extra = beyond_results(
        beyond,
        ctx.protocol,
        threshold_met=ctx.m.threshold_met,
        completers=ctx.m.completers,
        publisher=ctx.pub,
        published=published,
    )
    reference = beyond.baseline_reference
    if reference is not None and reference.joint is not None and "regression_to_mean" in extra:
        from burnout.results.no_change import no_change_results

        extra["regression_to_mean"] |= no_change_results(
            reference.joint,
            ctx.m.profile_cutoffs,
            ctx.protocol,
            ctx.pub,
            completers_shown=ctx.comp_pub,
            burnout_shown=done["profiles"]["burnout_at_baseline"] is not None,
        )
    return extra


WARNINGS_LOG = "warnings-NOT-FOR-PUBLICATION.txt"
"""The local log of the analysis warnings, in the output folder beside results.json."""

WARNINGS_PUBLISHED = (
    f"the input data raised warnings; they were printed to the console and written to {WARNINGS_LOG} "
    "in the output folder, which is not for publication (warnings can hold counts of a few patients "
    "and line numbers)"
)


def warnings_log(warnings: Sequence[str]) -> dict[str, str]:
    """``write_outputs`` extras: the warnings with their counts and line numbers, in a file
    marked as not for publication ({} when there are none)."""
    if not warnings:
        return {}
    head = (
        "NOT FOR PUBLICATION. These warnings describe the input files and can name line numbers "
        "and counts of a few patients. Keep this file with the data, not with the results.\n\n"
    )
    return {WARNINGS_LOG: head + "".join(f"- {w}\n" for w in warnings)}
