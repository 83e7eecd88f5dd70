"""Display formatting and generated prose for the report. (prose)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from burnout.report.format import (
    Ctx,
    _finite,
    conf_label,
    differencing_note,
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
    merged_note,
    scrub_ids,
    severe_profile,
)
from burnout.report.labels import COMPLEMENT_MARK, NDASH, OUTCOME_LABELS, SUBSCALE_LABELS, SUBSCALES, VARIABLE_LABELS
from burnout.report.tables.invariance import invariance_limitation

# ---------------------------------------------------------------------------- prose


def summary_points(ctx: Ctx) -> list[str]:
    """Key findings, one HTML sentence each, generated from the numbers."""
    r = ctx.results
    out: list[str] = []
    flow = r.get("flow", {})
    completion = flow.get("completion")
    out.append(
        "<strong>Participants.</strong> "
        + (
            f"Of {esc(ctx.flow_count('patients'))} patients in the cohort, "
            if flow.get("patients") is not None
            else f"Of the patients in the cohort (their number {esc(ctx.flow_count('patients'))}), "
        )
        + f"{esc(ctx.flow_count('threshold_met'))} "
        f"met the burnout threshold at baseline; {esc(fmt_prop(completion, ctx))} completed every session and every "
        f"assessment and form the analysed (completer) cohort. All other figures below are among completers unless stated."
    )
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
    if change_bits:
        out.append(
            f"<strong>Scores.</strong> Mean, {ctx.tp(ctx.first).lower()} \u2192 {ctx.tp(ctx.last).lower()}: "
            + "; ".join(change_bits)
            + "."
        )
    resp = [
        f"{SUBSCALE_LABELS[s]} {esc(fmt_prop(get(r, 'subscales', s, 'response'), ctx))}" + _expected_response(r, s)
        for s in SUBSCALES
        if get(r, "subscales", s, "response")
    ]
    if resp:
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
        out.append(f"<strong>Response</strong> ({rule}): " + "; ".join(resp) + "." + qtxt)
    rs = r.get("responders") or {}
    short = {"at_least_1": "\u2265 1", "at_least_2": "\u2265 2", "all_3": "all 3"}
    if rs:
        out.append(
            "<strong>Responded on how many subscales.</strong> "
            + "; ".join(f"{short[k]}: {esc(fmt_prop(v, ctx))}" for k, v in rs.items() if k in short)
            + "."
        )
    below = get(r, "below_threshold", ctx.last)
    if below:
        out.append(
            f"<strong>Burnout threshold.</strong> Below it {ctx.tp(ctx.last).lower()}: {esc(fmt_prop(below, ctx))}"
            + _expected_share(r, "expected_below_threshold")
            + "."
        )
    prof = r.get("profiles") or {}
    if "burnout_at_baseline" in prof:
        base, sev = severe_profile(ctx)
        out.append(
            "<strong>Burnout profile.</strong> "
            f"Of {esc(ctx.count(base))} completers in the Burnout profile at baseline, "
            f"{esc(fmt_prop(sev.get('burnout_resolved'), ctx))}{_expected_share(r, 'expected_leaving_burnout')} had "
            f"left it {ctx.tp(ctx.last).lower()} and "
            f"{esc(fmt_prop(sev.get('burnout_to_engaged'), ctx))} were Engaged."
        )
    safety_txt = _safety_finding(ctx)
    if safety_txt:
        out.append(safety_txt)
    het = _heterogeneity_findings(ctx)
    if het:
        out.append("<strong>Subgroups.</strong> " + het)
    itt = r.get("itt")
    if itt and get(itt, "worst_case", "responders", "at_least_1"):
        mi = get(itt, "multiple_imputation", "responders", "at_least_1")
        mi_txt = f" and {esc(fmt_pooled(mi, ctx))} with multiple imputation of the missing scores" if mi else ""
        comp = get(r, "responders", "at_least_1")
        comp_txt = f", against {esc(fmt_prop(comp, ctx))} among completers" if comp else ""
        out.append(
            f"<strong>Beyond completers.</strong> Counting all {esc(ctx.flow_count('threshold_met'))} who met the "
            f"threshold, responders on at least 1 subscale were {esc(fmt_prop(get(itt, 'worst_case', 'responders', 'at_least_1'), ctx))} "
            f"if every missing response is counted as a non-response (worst case: observed responses kept){mi_txt}{comp_txt}."
        )
    mmrm = _mmrm_finding(ctx)
    if mmrm:
        out.append(mmrm)
    out.append(
        "<strong>Interpretation.</strong> These are observational, completer-only estimates without a control group: they describe what happened to "
        "patients who finished the program, not what the program caused."
    )
    return out


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


def _expected_response(r: Mapping[str, object], s: str) -> str:
    """ " (expected with no true change: 12.6%)" beside a response rate, from regression to the mean."""
    rate = get(r, "regression_to_mean", s, "expected_response_rate")
    return "" if rate is None else f" (expected with no true change: {fmt_num(100 * rate, 1)}%)"


def _expected_share(r: Mapping[str, object], key: str) -> str:
    """ " (expected with no true change: 23.4%)" beside the threshold and profile headlines."""
    rate = get(r, "regression_to_mean", key)
    return "" if rate is None else f" (expected with no true change: {fmt_num(100 * rate, 1)}%)"


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


def _threshold_paragraph(p: Mapping[str, Any], elig: Mapping[str, Any]) -> str:
    """The threshold in words: the plan's rule over the primary instrument's scales when it has one."""
    if "rule" in elig:  # [eligibility] rule (issue 14); escaped, as any plan text
        primary = (p.get("instruments") or {}).get("primary", "mbi_gs")
        return (
            f"<strong>Eligibility.</strong> <code>{esc(str(elig['rule']))}</code> on the scales of "
            f"{esc(str(primary))} (the plan's primary instrument), applied at baseline; the same rule defines "
            "being below the threshold at later assessments. Cut-offs are compared exactly (no floating-point "
            "rounding of a patient's score)."
        )
    return (
        f"<strong>Burnout threshold (eligibility).</strong> Exhaustion \u2265 {fmt_plain(elig.get('exhaustion_min'))} and "
        f"(Cynicism \u2265 {fmt_plain(elig.get('cynicism_min'))} or Professional Efficacy \u2264 "
        f"{fmt_plain(elig.get('efficacy_max'))}), applied at baseline; the same rule defines being below the threshold "
        "at later assessments. Cut-offs are compared exactly (no floating-point rounding of a patient's score)."
    )


def methods_paragraphs(ctx: Ctx) -> list[str]:
    """Methods, generated from the plan: definitions, thresholds, rules and statistics."""
    p = ctx.results.get("protocol", {})
    elig = p.get("eligibility", {})
    sched = p.get("schedule", {})
    scoring = p.get("scoring", {})
    resp = p.get("response", {})
    conf = conf_label(ctx)
    assessments = [str(a) for a in sched.get("assessments", ctx.timepoints)]
    follow = [a for a in assessments if a != "0"]
    out = [
        "<strong>Design.</strong> Retrospective, observational cohort of patients treated in routine care; there is "
        "no control group and treatment was not randomised.",
        "<strong>Instrument.</strong> Maslach Burnout Inventory\u2013General Survey (MBI-GS): 16 items scored 0 (never) "
        "to 6 (every day). Subscale scores are the mean of their items: Exhaustion (items 1, 2, 3, 4, 6), Cynicism "
        "(8, 9, 13, 14, 15) and Professional Efficacy (5, 7, 10, 11, 12, 16); higher Exhaustion and Cynicism and lower "
        f"Professional Efficacy are worse. A subscale with more than {scoring.get('max_missing_items', 1)} blank "
        "item(s) is not scored; otherwise it is the mean of the answered items. Item wording is licensed and never shown.",
        _threshold_paragraph(p, elig),
        f"<strong>Schedule and completers.</strong> {sched.get('sessions', NDASH)} sessions; MBI-GS at baseline and after "
        f"session{'s' if len(follow) != 1 else ''} {join_words(follow)}. A completer met the threshold, had every "
        "session and had every scheduled assessment scored. Exclusions are counted in sequence: no scored baseline, "
        "below the threshold, missed a session, missed an assessment.",
        f"<strong>Response.</strong> An improvement of at least {fmt_plain(resp.get('min_change'))} point(s) on a "
        f"subscale from {ctx.tp(ctx.first).lower()} to {ctx.tp(ctx.last).lower()} (a decrease for Exhaustion and "
        "Cynicism, an increase for Professional Efficacy). Responders on at least 1, at least 2 and all 3 subscales "
        "are counted per patient.",
        f"<strong>Statistics.</strong> Proportions with {conf} Wilson score intervals; means and mean changes with "
        f"{conf} t intervals (sample SD, n \u2212 1) and paired t tests. Effect size d<sub>z</sub> = mean change / SD of "
        "the change, with a confidence interval from the noncentral t distribution, labelled by Cohen's convention "
        "(|d<sub>z</sub>| < 0.2 negligible, < 0.5 small, < 0.8 medium, otherwise large). Because the same patients "
        "answered all three subscales, response rates are compared with Cochran's Q and pairwise McNemar tests with "
        "Holm's correction rather than by overlap of intervals. Whether a subscale had plateaued is tested as "
        "equivalence: two one-sided tests (TOST) of the last interval's change against the plan's margin, so a "
        "plateau is claimed only when a change of that size is ruled out, not when a difference is merely not "
        "significant. Subgroup heterogeneity: Pearson's \u03c7\u00b2 test of the level \u00d7 response "
        "table, or an exact conditional test (Fisher; Freeman\u2013Halton) when expected counts are small, over the known "
        "levels (unknown and other levels left out); tests are not adjusted for multiplicity. Each level's response "
        "rate minus that of the rest of the completers has Newcombe's hybrid score interval (results.json). Subgroups "
        "are of completers and so condition on completion.",
        profiles_method(ctx),
        f"<strong>Privacy.</strong> Any count from 1 to {ctx.k - 1} is suppressed in every table, figure and file "
        f"(min_cell_count = {ctx.k}), with complementary suppression where a hidden count could be recovered from "
        f"totals; suppressed cells read \u201c{esc(ctx.suppressed)}\u201d and their rates and intervals are not shown. "
        f"Cells hidden only to protect a small cell read \u201c{COMPLEMENT_MARK}\u201d; statistics over fewer than "
        f"{ctx.k} patients are not shown. No patient identifier appears in any output. "
        + (merged_note(ctx.results) + " " if merged_note(ctx.results) else "")
        + differencing_note(ctx),
    ]
    extras = []
    r = ctx.results
    if "itt" in r:
        extras.append(
            "<strong>Beyond completers (intention to treat).</strong> Everyone who met the threshold forms the "
            "denominator. The worst case (non-responder imputation) keeps every observed response, completer or not, "
            "and counts a missing one as non-response; multiple imputation imputes "
            "missing follow-up scores and pools response rates with Rubin's rules; a mixed model for repeated measures "
            "(MMRM: unstructured covariance, REML, Kenward-Roger t intervals) estimates mean scores from every "
            "available assessment, with a random-intercept model as a sensitivity analysis and a delta-adjusted "
            "tipping point for data missing not at random. The imputation model and the mixed models' assumptions are "
            "stated in the Beyond completers section."
        )
    if get(r, "attrition", "reach") or get(r, "attrition", "completion_by_subgroup"):
        extras.append(
            "<strong>Attrition.</strong> Among everyone who met the threshold: the share who attended at least each "
            "number of sessions, and completion within each subgroup, as proportions with Wilson intervals; completers "
            "and non-completers are compared at baseline by standardized mean differences."
        )
    if "phq9" in r:
        extras.append(
            "<strong>Depression (PHQ-9).</strong> Totals 0\u201327 among completers with a total at baseline; response is a "
            "fall of at least 50%, remission a last total below 5, among those with baseline total \u2265 10. The change in "
            "each subscale is regressed on the change in PHQ-9 (ordinary least squares), descriptively: measurement error "
            "in the PHQ-9 change attenuates the slope, so the intercept (the fitted change at no PHQ-9 change) is "
            "not the change that would remain without the change in depression."
        )
    if "reliable_change" in r:
        extras.append(
            "<strong>Reliable change.</strong> Jacobson\u2013Truax reliable change index, |RCI| \u2265 1.96, with "
            "SE<sub>diff</sub> = SD \u00d7 \u221a(2(1 \u2212 reliability)) from the plan's reliability (by default the "
            "published one-year test-retest correlation) and SD (by default the baseline SD of every patient scored, "
            "before the threshold selected them: the completers' baseline is range-restricted by the threshold); the "
            "inputs and their source are listed under the table."
        )
    return out + extras


def profiles_method(ctx: Ctx) -> str:
    p = ctx.results.get("protocol", {}).get("profiles", {})
    cut = get(ctx.results, "profiles", "cutoffs") or {}
    raw = cut.get("raw") or {}
    method = cut.get("method", p.get("method"))
    reference = cut.get("reference", p.get("reference"))
    ops = {"exhaustion": "\u2265", "cynicism": "\u2265", "professional_efficacy": "\u2264"}
    if method == "zscore":
        ref = (
            "the analysed cohort (completers) at baseline"
            if reference == "baseline"
            else "the population norms given in the plan"
        )
        bounds = join_words(
            f"{SUBSCALE_LABELS[s]} z {ops[s]} {fmt_plain(p.get(s))}"
            + (f" (raw {ops[s]} {fmt_num(raw[s], 3)})" if s in raw else "")
            for s in SUBSCALES
        )
        basis = f"z-scores against {ref}"
    else:
        bounds = join_words(f"{SUBSCALE_LABELS[s]} {ops[s]} {fmt_plain(p.get(s))}" for s in SUBSCALES)
        basis = "raw 0\u20136 scores"
    return (
        "<strong>Burnout profiles</strong> (after Leiter &amp; Maslach, 2016). A subscale is critical on "
        f"{basis}: {bounds}. Burnout = Exhaustion and Cynicism critical; Overextended = Exhaustion only; "
        "Disengaged = Cynicism only; Ineffective = neither, Professional Efficacy critical; Engaged = none critical. "
        "The boundaries are an assumption of the plan (the reference study did not publish them)."
    )


def limitations(ctx: Ctx) -> list[str]:
    """Limitations generated from the numbers and every assumption the plan made."""
    r = ctx.results
    flow = r.get("flow", {})
    completion = flow.get("completion") or {}
    rate = completion.get("rate")
    p = r.get("protocol", {})
    prof = p.get("profiles", {})
    out = [
        f"<strong>Completer-only denominator.</strong> The main estimates are among the "
        f"{esc(ctx.flow_count('completers'))} completers, {esc(fmt_pct(rate))} of the "
        f"{esc(ctx.flow_count('threshold_met'))} who met the threshold. Patients who stopped early may have done "
        "better or worse; completer rates can overstate the program's effect on everyone who starts it"
        + (" (see Beyond completers)." if "itt" in r else "; no intention-to-treat analysis is reported."),
        "<strong>Observational design.</strong> Without a control group, improvement cannot be attributed to the "
        "treatment: regression to the mean (patients were selected for high scores), natural recovery, time off work "
        "and co-interventions can all produce change.",
        "<strong>Overlap with depression.</strong> Exhaustion and Cynicism overlap with depressive symptoms; change on "
        "the MBI-GS may partly reflect change in depression"
        + (" (see the PHQ-9 analysis)." if "phq9" in r else "; no paired depression measure is reported."),
        "<strong>Self-report.</strong> Outcomes and side effects are self-reported, unblinded and assessed by the "
        "treating program; side effects were asked only at assessment sessions.",
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
        f"for multiplicity; counts below {ctx.k} are suppressed, which hides some subgroup and profile estimates.",
    ]
    invariance = invariance_limitation(r)
    if invariance:
        out.append(invariance)
    warnings = r.get("warnings") or []
    if warnings:
        out.append("<strong>Data warnings.</strong> " + " ".join(esc(scrub_ids(w).rstrip(".")) + "." for w in warnings))
    return out
