"""The Methods section, generated from the plan: one paragraph per definition, rule or statistic.

Each paragraph is HTML (a bold lead-in, then text); plan values are written as the plan
gave them (`fmt_plain`), never rounded, and any plan text is escaped.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from burnout.report.format import (
    Ctx,
    conf_label,
    differencing_note,
    esc,
    fmt_num,
    fmt_plain,
    get,
    join_words,
    merged_note,
)
from burnout.report.labels import COMPLEMENT_MARK, NDASH, SUBSCALE_LABELS, SUBSCALES
from burnout.report.primary import is_mbi_primary, primary_methods

__all__ = ["methods_paragraphs", "profiles_method"]


def methods_paragraphs(ctx: Ctx) -> list[str]:
    """Methods, generated from the plan: definitions, thresholds, rules and statistics."""
    p = ctx.results.get("protocol", {})
    if not is_mbi_primary(ctx.results):  # no MBI-GS subscales, profiles or their tests to describe
        instrument, schedule, response, statistics = primary_methods(ctx)
        threshold = _threshold_paragraph(p, p.get("eligibility", {}))
        return [_DESIGN, instrument, threshold, schedule, response, statistics, _privacy_paragraph(ctx)] + (
            _beyond_reference_methods(ctx.results)
        )
    return [
        _DESIGN,
        _instrument_paragraph(p.get("scoring", {})),
        _threshold_paragraph(p, p.get("eligibility", {})),
        _schedule_paragraph(ctx, p.get("schedule", {})),
        _response_paragraph(ctx, p.get("response", {})),
        _statistics_paragraph(conf_label(ctx)),
        profiles_method(ctx),
        _privacy_paragraph(ctx),
        *_beyond_reference_methods(ctx.results),
    ]


_DESIGN: Final[str] = (
    "<strong>Design.</strong> Retrospective, observational cohort of patients treated in routine care; there is "
    "no control group and treatment was not randomised."
)


def _instrument_paragraph(scoring: Mapping[str, Any]) -> str:
    return (
        "<strong>Instrument.</strong> Maslach Burnout Inventory\u2013General Survey (MBI-GS): 16 items scored 0 (never) "
        "to 6 (every day). Subscale scores are the mean of their items: Exhaustion (items 1, 2, 3, 4, 6), Cynicism "
        "(8, 9, 13, 14, 15) and Professional Efficacy (5, 7, 10, 11, 12, 16); higher Exhaustion and Cynicism and lower "
        f"Professional Efficacy are worse. A subscale with more than {scoring.get('max_missing_items', 1)} blank "
        "item(s) is not scored; otherwise it is the mean of the answered items. Item wording is licensed and never shown."
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


def _schedule_paragraph(ctx: Ctx, sched: Mapping[str, Any]) -> str:
    assessments = [str(a) for a in sched.get("assessments", ctx.timepoints)]
    follow = [a for a in assessments if a != "0"]
    return (
        f"<strong>Schedule and completers.</strong> {sched.get('sessions', NDASH)} sessions; MBI-GS at baseline and after "
        f"session{'s' if len(follow) != 1 else ''} {join_words(follow)}. A completer met the threshold, had every "
        "session and had every scheduled assessment scored. Exclusions are counted in sequence: no scored baseline, "
        "below the threshold, missed a session, missed an assessment."
    )


def _response_paragraph(ctx: Ctx, resp: Mapping[str, Any]) -> str:
    return (
        f"<strong>Response.</strong> An improvement of at least {fmt_plain(resp.get('min_change'))} point(s) on a "
        f"subscale from {ctx.tp(ctx.first).lower()} to {ctx.tp(ctx.last).lower()} (a decrease for Exhaustion and "
        "Cynicism, an increase for Professional Efficacy). Responders on at least 1, at least 2 and all 3 subscales "
        "are counted per patient."
    )


def _statistics_paragraph(conf: str) -> str:
    return (
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
        "are of completers and so condition on completion."
    )


def profiles_method(ctx: Ctx) -> str:
    """How profiles are defined: the critical boundary of each subscale, on raw or z-scores."""
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


def _privacy_paragraph(ctx: Ctx) -> str:
    merged = merged_note(ctx.results)
    if ctx.k <= 1:  # the plan turned suppression off: say so, not "from 1 to 0"
        return (
            "<strong>Privacy.</strong> No count is suppressed (min_cell_count = 1, set by the analysis plan): "
            "small groups, and so individuals, may be identifiable in this report. No patient identifier appears "
            "in any output. " + differencing_note(ctx)
        )
    return (
        f"<strong>Privacy.</strong> Any count from 1 to {ctx.k - 1} is suppressed in every table, figure and file "
        f"(min_cell_count = {ctx.k}), with complementary suppression where a hidden count could be recovered from "
        f"totals; suppressed cells read \u201c{esc(ctx.suppressed)}\u201d and their rates and intervals are not shown. "
        f"Cells hidden only to protect a small cell read \u201c{COMPLEMENT_MARK}\u201d; statistics over fewer than "
        f"{ctx.k} patients are not shown. No patient identifier appears in any output. "
        + (merged + " " if merged else "")
        + differencing_note(ctx)
    )


_ITT_METHOD: Final[str] = (
    "<strong>Beyond completers (intention to treat).</strong> Everyone who met the threshold forms the "
    "denominator. The worst case (non-responder imputation) keeps every observed response, completer or not, "
    "and counts a missing one as non-response; multiple imputation imputes "
    "missing follow-up scores and pools response rates with Rubin's rules; a mixed model for repeated measures "
    "(MMRM: unstructured covariance, REML, Kenward-Roger t intervals) estimates mean scores from every "
    "available assessment, with a random-intercept model as a sensitivity analysis and a delta-adjusted "
    "tipping point for data missing not at random. The imputation model and the mixed models' assumptions are "
    "stated in the Beyond completers section."
)
_ATTRITION_METHOD: Final[str] = (
    "<strong>Attrition.</strong> Among everyone who met the threshold: the share who attended at least each "
    "number of sessions, and completion within each subgroup, as proportions with Wilson intervals; completers "
    "and non-completers are compared at baseline by standardized mean differences."
)
_PHQ9_METHOD: Final[str] = (
    "<strong>Depression (PHQ-9).</strong> Totals 0\u201327 among completers with a total at baseline; response is a "
    "fall of at least 50%, remission a last total below 5, among those with baseline total \u2265 10."
)
_PHQ9_ADJUSTED_METHOD: Final[str] = (
    " The change in each subscale is regressed on the change in PHQ-9 (ordinary least squares), descriptively: "
    "measurement error in the PHQ-9 change attenuates the slope, so the intercept (the fitted change at no PHQ-9 change) is "
    "not the change that would remain without the change in depression."
)
_RELIABLE_CHANGE_METHOD: Final[str] = (
    "<strong>Reliable change.</strong> Jacobson\u2013Truax reliable change index, |RCI| \u2265 1.96, with "
    "SE<sub>diff</sub> = SD \u00d7 \u221a(2(1 \u2212 reliability)) from the plan's reliability (by default the "
    "published one-year test-retest correlation) and SD (by default the baseline SD of every patient scored, "
    "before the threshold selected them: the completers' baseline is range-restricted by the threshold); the "
    "inputs and their source are listed under the table."
)


def _beyond_reference_methods(r: Mapping[str, Any]) -> list[str]:
    """The methods of the analyses beyond the reference study, each only when its results are present."""
    extras = []
    if "itt" in r:
        extras.append(_ITT_METHOD)
    if get(r, "attrition", "reach") or get(r, "attrition", "completion_by_subgroup"):
        extras.append(_ATTRITION_METHOD)
    if "phq9" in r:  # the regressions on the MBI-GS subscales are left out for another primary instrument
        extras.append(_PHQ9_METHOD + (_PHQ9_ADJUSTED_METHOD if "adjusted" in r["phq9"] else ""))
    if "reliable_change" in r:
        extras.append(_RELIABLE_CHANGE_METHOD)
    return extras
