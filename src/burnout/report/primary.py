"""The report for a primary instrument other than the MBI-GS: its words, findings, methods and limitations.

With the default plan (primary ``mbi_gs``) every function here gives what the MBI-GS
report always said, or nothing, so that report stays byte for byte what it was. With
another primary instrument the MBI-GS sections are absent from results.json
(``results.primary``) and the page leads with the primary instrument's own paired
analysis, ``instruments.analyses.<primary>``; the instrument's description (title, items,
scales, scoring) is read from results.json (``instruments.analyses.<name>.definition``),
never from a definition file.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final

from burnout.plan.instruments import DEFAULT_PRIMARY
from burnout.report.format import (
    Ctx,
    conf_label,
    esc,
    fmt_ci,
    fmt_num,
    fmt_plain,
    fmt_prop,
    fmt_signed,
    get,
    join_words,
)
from burnout.report.labels import NDASH

__all__ = [
    "instrument_label",
    "is_mbi_primary",
    "primary_findings",
    "primary_limitations",
    "primary_methods",
    "primary_name",
    "primary_outcome_intro",
    "threshold_words",
]

MBI_GS: Final[str] = DEFAULT_PRIMARY


def primary_name(results: Mapping[str, Any]) -> str:
    """The plan's primary instrument (``mbi_gs`` when the plan does not name one)."""
    return str(get(results, "protocol", "instruments", "primary") or get(results, "instruments", "primary") or MBI_GS)


def is_mbi_primary(results: Mapping[str, Any]) -> bool:
    """Whether the MBI-GS decides eligibility and response (the reference study's report)."""
    return primary_name(results) == MBI_GS


def threshold_words(results: Mapping[str, Any]) -> str:
    """What patients had to meet at baseline: the burnout threshold, or the plan's eligibility rule."""
    return "burnout threshold" if is_mbi_primary(results) else "eligibility threshold"


def _definition(results: Mapping[str, Any], name: str) -> Mapping[str, Any] | None:
    """The instrument as results.json describes it (``instruments.analyses.<name>.definition``),
    or None: the report reads only the results tree, never a definition file."""
    found = get(results, "instruments", "analyses", name, "definition")
    return found if isinstance(found, Mapping) else None


def instrument_label(results: Mapping[str, Any], name: str) -> str:
    """The instrument's short name from its definition's title ("PHQ-9"), else its title, else its plan name."""
    inst = _definition(results, name)
    if inst is None:  # the reference study's plan has no instruments section
        return "MBI-GS" if name == MBI_GS else name
    # "Patient Health Questionnaire-9 (PHQ-9)": an abbreviation in the closing brackets; a user's
    # "Work Strain Short Form (trial)" is a remark, not a short name, so the whole title stands
    title = str(inst.get("title") or name)
    short = re.search(r"\(([A-Z0-9][A-Za-z0-9-]{0,15})(?:,[^()]*)?\)\s*$", title)
    return short.group(1) if short and any(c.isupper() for c in short.group(1)) else title


def _scale_label(results: Mapping[str, Any], name: str, scale: str) -> str:
    return f"{instrument_label(results, name)} {scale.replace('_', ' ')}"


def primary_outcome_intro(ctx: Ctx) -> str:
    """The paragraph that opens the main outcome: which instrument, which rule, which population."""
    r = ctx.results
    name = primary_name(r)
    inst = _definition(r, name)
    rule = get(r, "protocol", "eligibility", "rule")
    rule_txt = f" by the rule <code>{esc(rule)}</code> at baseline" if rule else ""
    return (
        f"<p>The primary instrument is {esc(inst['title'] if inst else name)} (<code>{esc(name)}</code>): its scales "
        f"decided eligibility{rule_txt}, completion and response. Its paired analysis among completers is the main "
        "outcome; the MBI-GS analyses of the reference study are not reported for this plan (results.json "
        "<code>instruments.notes</code> says why).</p>"
    )


def primary_findings(ctx: Ctx) -> list[str]:
    """Key findings of the primary instrument and then the secondary ones ([] for the MBI-GS primary)."""
    r = ctx.results
    analyses = get(r, "instruments", "analyses") or {}
    if is_mbi_primary(r) or not analyses:
        return []
    out = []
    for role, lead in (("primary", "Primary outcome"), ("secondary", "Secondary outcomes")):
        bits = [
            _scale_finding(ctx, name, scale, body)
            for name, analysis in analyses.items()
            if analysis.get("role") == role
            for scale, body in (analysis.get("scales") or {}).items()
        ]
        if bits:
            out.append(f"<strong>{lead}.</strong> " + "; ".join(bits) + ".")
    return out


def _scale_finding(ctx: Ctx, name: str, scale: str, body: Mapping[str, Any]) -> str:
    """One scale: mean first to last, the change with its CI and d_z, and response in its good direction."""
    first, last = get(body, "timepoints", ctx.first) or {}, get(body, "timepoints", ctx.last) or {}
    es = last.get("effect_size") or {}
    text = (
        f"{esc(_scale_label(ctx.results, name, scale))} (lower is better)"
        if body.get("good") == "lower"
        else f"{esc(_scale_label(ctx.results, name, scale))} (higher is better)"
    )
    text += (
        f", mean {ctx.tp(ctx.first).lower()} \u2192 {ctx.tp(ctx.last).lower()}: {fmt_num(first.get('mean'))} \u2192 "
        f"{fmt_num(last.get('mean'))} (change {fmt_signed(last.get('change'))}, 95% CI {fmt_ci(last.get('change_ci'))}; "
        f"d<sub>z</sub> {fmt_num(es.get('dz'))}, 95% CI {fmt_ci(es.get('ci'))}, {esc(es.get('label') or NDASH)})"
    )
    if body.get("response"):
        text += (
            f"; response (improved by \u2265 {fmt_plain(body.get('min_change'))} points) "
            f"{esc(fmt_prop(body['response'], ctx))}"
        )
    return text


def primary_methods(ctx: Ctx) -> list[str]:
    """The Instrument, Schedule, Response and Statistics paragraphs for a primary instrument other than the MBI-GS."""
    r = ctx.results
    name = primary_name(r)
    analyses = get(r, "instruments", "analyses") or {}
    secondary = [n for n, a in analyses.items() if a.get("role") == "secondary"]
    instrument = _instrument_paragraph(r, name, secondary)
    sched = get(r, "protocol", "schedule") or {}
    follow = [str(a) for a in sched.get("assessments", ctx.timepoints) if str(a) != "0"]
    schedule = (
        f"<strong>Schedule and completers.</strong> {sched.get('sessions', NDASH)} sessions; "
        f"{esc(instrument_label(r, name))} at baseline and after session{'s' if len(follow) != 1 else ''} "
        f"{join_words(follow)}. A completer met the eligibility threshold, had every session and had every scheduled "
        "assessment scored. Exclusions are counted in sequence: no scored baseline, below the threshold, missed a "
        "session, missed an assessment."
    )
    changes = [
        f"{esc(_scale_label(r, n, s))} {fmt_plain(b.get('min_change'))}"
        for n, a in analyses.items()
        for s, b in (a.get("scales") or {}).items()
        if b.get("min_change") is not None
    ]
    response = (
        "<strong>Response.</strong> An improvement of at least the scale's minimal change in its good direction, "
        f"from {ctx.tp(ctx.first).lower()} to {ctx.tp(ctx.last).lower()}, among completers scored at both"
        + (f" (points: {join_words(changes)})." if changes else ".")
    )
    statistics = (
        f"<strong>Statistics.</strong> Proportions with {conf_label(ctx)} Wilson score intervals; means and mean "
        f"changes with {conf_label(ctx)} t intervals (sample SD, n \u2212 1). Effect size d<sub>z</sub> = mean change / "
        "SD of the change, with a confidence interval from the noncentral t distribution, labelled by Cohen's "
        "convention (|d<sub>z</sub>| < 0.2 negligible, < 0.5 small, < 0.8 medium, otherwise large)."
    )
    return [instrument, schedule, response, statistics]


def _instrument_paragraph(results: Mapping[str, Any], name: str, secondary: list[str]) -> str:
    """The primary instrument from its definition (items, range, citation, scales) and the secondary ones."""
    inst = _definition(results, name)
    text = f"<strong>Primary instrument.</strong> {esc(inst['title'] if inst else name)}"
    if inst is not None:
        source = str(inst.get("citation", "")).rstrip(".")
        answers = inst.get("response") or {}
        text += (
            f": {inst.get('items')} items scored {answers.get('min')} to {answers.get('max')}. Source: {esc(source)}"
        )
    text += "." + ("" if inst is None else " " + _scales_sentence(inst))
    if secondary:
        text += (
            f" Secondary instrument{'s' if len(secondary) > 1 else ''}: "
            f"{esc(join_words(instrument_label(results, n) for n in secondary))}, given the same paired analysis."
        )
    return text


def _scales_sentence(inst: Mapping[str, Any]) -> str:
    """Each scale's items, scoring, missing-item rule and good direction, from the definition."""
    bits = [
        f"{esc(s.replace('_', ' '))}: the {esc(sc['scoring'])} of items {', '.join(str(i) for i in sc['items'])}"
        f" (up to {sc['max_blank']} blank item(s){', prorated' if sc.get('prorate') else ''}; {esc(sc['good'])} is better)"
        for s, sc in (inst.get("scales") or {}).items()
    ]
    return "Scales: " + "; ".join(bits) + ". Item wording is never shown." if bits else ""


def primary_limitations(ctx: Ctx) -> list[str]:
    """The plan's assumptions for a primary instrument other than the MBI-GS."""
    return [
        "<strong>Assumptions of the plan.</strong> The eligibility rule and each scale's minimal change for response "
        "are the plan's choices (the minimal change from the instrument's definition unless the plan sets it), not "
        "validated for this program. A scale with blank items is scored by its definition's missing-item rule, "
        f"assuming the missing items resemble the answered ones. Counts below {ctx.k} are suppressed."
    ]
