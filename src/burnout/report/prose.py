"""The report's generated prose: the key findings and the limitations, from the numbers.

The Methods section, generated from the plan, is `burnout.report.methods`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from burnout.report.format import (
    Ctx,
    _finite,
    esc,
    fmt_ci,
    fmt_num,
    fmt_p_eq,
    fmt_pct,
    fmt_plain,
    fmt_pooled,
    fmt_prop,
    fmt_sae,
    fmt_signed,
    get,
    join_words,
    scrub_ids,
    severe_profile,
)
from burnout.report.labels import NDASH, OUTCOME_LABELS, SUBSCALE_LABELS, SUBSCALES, VARIABLE_LABELS
from burnout.report.primary import is_mbi_primary, primary_findings, primary_limitations, threshold_words
from burnout.report.tables.inference import rho_spread
from burnout.report.tables.invariance import invariance_limitation

__all__ = ["limitations", "summary_points"]


def summary_points(ctx: Ctx) -> list[str]:
    """Key findings, one HTML sentence each, generated from the numbers; a finding whose numbers are absent is left out."""
    findings = [
        _participants_finding(ctx),
        *primary_findings(ctx),  # the primary instrument's paired analysis when it is not the MBI-GS
        _scores_finding(ctx),
        _response_finding(ctx),
        _responders_finding(ctx),
        _threshold_finding(ctx),
        _profile_finding(ctx),
        _safety_finding(ctx),
        _subgroups_finding(ctx),
        _beyond_completers_finding(ctx),
        _mmrm_finding(ctx),
        _INTERPRETATION,
    ]
    return [f for f in findings if f]


_INTERPRETATION: Final[str] = (
    "<strong>Interpretation.</strong> These are observational, completer-only estimates without a control group: they describe what happened to "
    "patients who finished the program, not what the program caused."
)


def _participants_finding(ctx: Ctx) -> str:
    flow = ctx.results.get("flow", {})
    completion = flow.get("completion")
    return (
        "<strong>Participants.</strong> "
        + (
            f"Of {esc(ctx.flow_count('patients'))} patients in the cohort, "
            if flow.get("patients") is not None
            else f"Of the patients in the cohort (their number {esc(ctx.flow_count('patients'))}), "
        )
        + f"{esc(ctx.flow_count('threshold_met'))} "
        f"met the {threshold_words(ctx.results)} at baseline; {esc(fmt_prop(completion, ctx))} completed every session and every "
        f"assessment and form the analysed (completer) cohort. All other figures below are among completers unless stated."
    )


def _scores_finding(ctx: Ctx) -> str:
    """Each subscale's mean from first to last assessment, its change, effect size and regression-to-the-mean expectation."""
    r = ctx.results
    change_bits = []
    for s in SUBSCALES:
        tps = get(r, "subscales", s, "timepoints", default={})
        b, e = tps.get(ctx.first), tps.get(ctx.last)
        if not b or not e or e.get("change") is None:
            continue
        es = e.get("effect_size") or {}
        rtm = get(r, "regression_to_mean", s, "expected_change")
        rtm_txt = "" if rtm is None else f"; expected with no true change (regression to the mean) {fmt_signed(rtm)}"
        change_bits.append(
            f"{SUBSCALE_LABELS[s]} {fmt_num(b.get('mean'))} \u2192 {fmt_num(e.get('mean'))} "
            f"(change {fmt_signed(e.get('change'))}, 95% CI {fmt_ci(e.get('change_ci'))}{rtm_txt}; "
            f"d<sub>z</sub> {fmt_num(es.get('dz'))}, 95% CI {fmt_ci(es.get('ci'))}, {esc(es.get('label') or NDASH)}"
            + (f"; d<sub>av</sub> {fmt_num(es['d_av'])}" if es.get("d_av") is not None else "")
            + ")"
        )
    if not change_bits:
        return ""
    return (
        f"<strong>Scores.</strong> Mean, {ctx.tp(ctx.first).lower()} \u2192 {ctx.tp(ctx.last).lower()}: "
        + "; ".join(change_bits)
        + "."
    )


def _response_finding(ctx: Ctx) -> str:
    """Response per subscale (with its regression-to-the-mean expectation) and Cochran's Q across them."""
    r = ctx.results
    resp = [
        f"{SUBSCALE_LABELS[s]} {esc(fmt_prop(get(r, 'subscales', s, 'response'), ctx))}"
        + _expected_without_change(r, s, "expected_response_rate")
        for s in SUBSCALES
        if get(r, "subscales", s, "response")
    ]
    if not resp:
        return ""
    q = get(r, "comparison", "cochran_q") or {}
    qtxt = ""
    if q.get("p") is not None:
        differ = "differed" if q["p"] < 0.05 else "did not differ detectably"
        qtxt = (
            f" Response rates {differ} across subscales (Cochran's Q = {fmt_num(q.get('statistic'))}, "
            f"df = {q.get('df')}, {fmt_p_eq(q.get('p'), ctx)})."
        )
    mc = get(r, "protocol", "response", "min_change")
    rule = f"improved by \u2265 {fmt_plain(mc)} point" if _finite(mc) else "improved by the plan's minimum change"
    return f"<strong>Response</strong> ({rule}): " + "; ".join(resp) + "." + qtxt


def _responders_finding(ctx: Ctx) -> str:
    rs = ctx.results.get("responders") or {}
    short = {"at_least_1": "\u2265 1", "at_least_2": "\u2265 2", "all_3": "all 3"}
    if not rs:
        return ""
    return (
        "<strong>Responded on how many subscales.</strong> "
        + "; ".join(f"{short[k]}: {esc(fmt_prop(v, ctx))}" for k, v in rs.items() if k in short)
        + "."
    )


def _threshold_finding(ctx: Ctx) -> str:
    r = ctx.results
    below = get(r, "below_threshold", ctx.last)
    if not below:
        return ""
    return (
        f"<strong>Burnout threshold.</strong> Below it {ctx.tp(ctx.last).lower()}: {esc(fmt_prop(below, ctx))}"
        + _expected_without_change(r, "expected_below_threshold")
        + "."
    )


def _profile_finding(ctx: Ctx) -> str:
    r = ctx.results
    if "burnout_at_baseline" not in (r.get("profiles") or {}):
        return ""
    base, sev = severe_profile(ctx)
    return (
        "<strong>Burnout profile.</strong> "
        f"Of {esc(ctx.count(base))} completers in the Burnout profile at baseline, "
        f"{esc(fmt_prop(sev.get('burnout_resolved'), ctx))}{_expected_without_change(r, 'expected_leaving_burnout')} had "
        f"left it {ctx.tp(ctx.last).lower()} and "
        f"{esc(fmt_prop(sev.get('burnout_to_engaged'), ctx))} were Engaged."
    )


def _subgroups_finding(ctx: Ctx) -> str:
    het = _heterogeneity_findings(ctx)
    return "<strong>Subgroups.</strong> " + het if het else ""


def _beyond_completers_finding(ctx: Ctx) -> str:
    """Responders on at least 1 subscale among all who met the threshold: worst case, imputed, and completers."""
    r = ctx.results
    itt = r.get("itt")
    if not (itt and get(itt, "worst_case", "responders", "at_least_1")):
        return ""
    mi = get(itt, "multiple_imputation", "responders", "at_least_1")
    mi_txt = f" and {esc(fmt_pooled(mi, ctx))} with multiple imputation of the missing scores" if mi else ""
    comp = get(r, "responders", "at_least_1")
    comp_txt = f", against {esc(fmt_prop(comp, ctx))} among completers" if comp else ""
    return (
        f"<strong>Beyond completers.</strong> Counting all {esc(ctx.flow_count('threshold_met'))} who met the "
        f"threshold, responders on at least 1 subscale were {esc(fmt_prop(get(itt, 'worst_case', 'responders', 'at_least_1'), ctx))} "
        f"if every missing response is counted as a non-response (worst case: observed responses kept){mi_txt}{comp_txt}."
    )


def _mmrm_finding(ctx: Ctx) -> str:
    """The MMRM's change to the last assessment per subscale and how far from MAR it survives."""
    r = ctx.results
    bits = []
    for s in SUBSCALES:
        change = get(r, "itt", "mmrm", s, "timepoints", ctx.last, "change")
        if not change or change.get("estimate") is None:
            continue
        tip = get(r, "itt", "mmrm_tipping", s, "tipping_delta")
        tip_txt = f", tipping point {fmt_num(tip)} points" if tip is not None else ""
        bits.append(
            f"{SUBSCALE_LABELS[s]} {fmt_signed(change['estimate'])} (95% CI {fmt_ci(change.get('ci'))}{tip_txt})"
        )
    if not bits:
        return ""
    return (
        f"<strong>Mixed model for repeated measures.</strong> Change to {esc(ctx.tp(ctx.last).lower())} among all who "
        f"met the threshold, assuming scores are missing at random: {esc(join_words(bits))}. The tipping point is how "
        "much worse than predicted the scores of patients who dropped out would have to be for the interval to "
        "include no change."
    )


def _expected_without_change(r: Mapping[str, object], *path: str) -> str:
    """ " (expected with no true change: 12.6%)" beside a rate, from ``regression_to_mean`` at ``path``."""
    rate = get(r, "regression_to_mean", *path)
    if rate is None:
        return ""
    spread = rho_spread(r, *path)
    return f" (expected with no true change: {fmt_num(100 * rate, 1)}%{'; ' + ', '.join(spread) if spread else ''})"


def _safety_finding(ctx: Ctx) -> str:
    """The safety key finding: the safety population first (per patient, then per session), then
    the completers' side-effect rates the study published."""
    r = ctx.results
    se = r.get("side_effects") or {}
    completer_bits = [f"{esc(fmt_prop(v, ctx))} at session {esc(k)}" for k, v in se.items() if k.isdigit()]
    safety = r.get("safety")
    if not safety:
        sae = se.get("serious_adverse_events")
        sae_txt = f" Serious adverse events: {esc(fmt_sae(sae, ctx))}." if sae else ""
        return (
            "<strong>Safety.</strong> Side effects reported by " + join_words(completer_bits) + "." + sae_txt
            if completer_bits
            else ""
        )
    sae = safety.get("serious_adverse_events") or {}
    per_patient = sae.get("patients") or {}
    rule = per_patient.get("rule_of_three")
    rule_txt = f" (rule of three: at most {fmt_num(100 * rule, 2)}%)" if rule is not None else ""
    bits = [f"{esc(fmt_prop(v, ctx))} at session {esc(k)}" for k, v in (safety.get("side_effects") or {}).items()]
    text = (
        f"<strong>Safety.</strong> Among all {esc(ctx.count(safety.get('patients')))} patients with at least one "
        f"session (exact intervals), serious adverse events affected {esc(fmt_prop(per_patient, ctx))} of "
        f"patients{esc(rule_txt)}: {esc(fmt_sae(sae.get('sessions'), ctx))}."
    )
    if bits:
        text += " Side effects reported by " + join_words(bits) + " of those asked."
    if completer_bits:
        text += " Among completers (as the study published): " + join_words(completer_bits) + "."
    return text


def _heterogeneity_findings(ctx: Ctx) -> str:
    subgroups = ctx.results.get("subgroups") or {}
    tested, flagged = [], []
    for var, body in subgroups.items():
        for outcome, h in (body.get("heterogeneity") or {}).items():
            if h.get("p") is None:
                continue
            tested.append((var, outcome))
            if h["p"] < 0.05:
                flagged.append(
                    f"{VARIABLE_LABELS.get(var, var)} on {OUTCOME_LABELS.get(outcome, outcome)} ({fmt_p_eq(h['p'], ctx)})"
                )
    if not tested:
        return ""
    if not flagged:
        return (
            f"Response did not differ detectably between subgroups ({len(tested)} heterogeneity tests across "
            f"{join_words(VARIABLE_LABELS.get(v, v).lower() for v in subgroups)}, all p \u2265 0.05; not adjusted for multiplicity)."
        )
    return (
        f"Of {len(tested)} subgroup heterogeneity tests (not adjusted for multiplicity), {len(flagged)} had p < 0.05: "
        + esc("; ".join(flagged))
        + "."
    )


def limitations(ctx: Ctx) -> list[str]:
    """Limitations generated from the numbers and every assumption the plan made."""
    r = ctx.results
    flow = r.get("flow", {})
    completion = flow.get("completion") or {}
    rate = completion.get("rate")
    mbi = is_mbi_primary(r)  # the MBI-GS overlap and assumptions only when the MBI-GS was analysed
    out = [
        f"<strong>Completer-only denominator.</strong> The main estimates are among the "
        f"{esc(ctx.flow_count('completers'))} completers, {esc(fmt_pct(rate))} of the "
        f"{esc(ctx.flow_count('threshold_met'))} who met the threshold. Patients who stopped early may have done "
        "better or worse; completer rates can overstate the program's effect on everyone who starts it"
        + (" (see Beyond completers)." if "itt" in r else "; no intention-to-treat analysis is reported."),
        "<strong>Observational design.</strong> Without a control group, improvement cannot be attributed to the "
        "treatment: regression to the mean (patients were selected for high scores), natural recovery, time off work "
        "and co-interventions can all produce change.",
        *(
            [
                "<strong>Overlap with depression.</strong> Exhaustion and Cynicism overlap with depressive symptoms; "
                "change on the MBI-GS may partly reflect change in depression"
                + (" (see the PHQ-9 analysis)." if "phq9" in r else "; no paired depression measure is reported.")
            ]
            if mbi
            else []
        ),
        "<strong>Self-report.</strong> Outcomes and side effects are self-reported, unblinded and assessed by the "
        "treating program; side effects were asked only at assessment sessions.",
        *([_mbi_plan_assumptions(ctx)] if mbi else primary_limitations(ctx)),
    ]
    invariance = invariance_limitation(r)
    if invariance:
        out.append(invariance)
    warnings = r.get("warnings") or []
    if warnings:
        out.append("<strong>Data warnings.</strong> " + " ".join(esc(scrub_ids(w).rstrip(".")) + "." for w in warnings))
    return out


def _mbi_plan_assumptions(ctx: Ctx) -> str:
    """The reference study's choices the plan kept: response and burnout thresholds, profile boundaries."""
    p = ctx.results.get("protocol", {})
    prof = p.get("profiles", {})
    return (
        f"<strong>Assumptions of the plan.</strong> The response threshold ({fmt_plain(get(p, 'response', 'min_change'))} "
        "point) and the burnout threshold are the reference study's choices, not validated clinical cut-offs. "
        "Profile boundaries are an assumption: "
        + (
            "z-scores against the analysed cohort at baseline, so profiles are relative to this cohort (not to a "
            "working population) and are not comparable across programs."
            if prof.get("method") == "zscore" and prof.get("reference") == "baseline"
            else "z-scores against the norms given in the plan."
            if prof.get("method") == "zscore"
            else "raw-score boundaries given in the plan."
        )
        + f" A subscale with up to {get(p, 'scoring', 'max_missing_items', default=1)} blank item(s) is scored from "
        "the answered items, assuming the missing items resemble them. Subgroup tests are exploratory and not adjusted "
        f"for multiplicity; counts below {ctx.k} are suppressed, which hides some subgroup and profile estimates."
    )
