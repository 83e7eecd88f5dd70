"""Display formatting and generated prose for the report.

Every number of the results tree arrives unrounded; it is rounded here, once, when it
is turned into text: percentages to 1 decimal, means, SDs, changes and effect sizes
to 2, test statistics to 2, p values to 3 (or "<0.001"). A suppressed count arrives as
None and is only ever written as ``suppressed (<k)``; nothing here derives it.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Iterable, Mapping
from typing import Any, Final

__all__ = [
    "MINUS",
    "OUTCOME_LABELS",
    "PROFILE_LABELS",
    "SUBSCALE_LABELS",
    "SUBSCALES",
    "PROFILES",
    "Ctx",
    "esc",
    "fmt_ci",
    "fmt_count",
    "fmt_num",
    "fmt_p",
    "fmt_pct",
    "fmt_pct_ci",
    "fmt_pooled",
    "fmt_prop",
    "fmt_sae",
    "fmt_signed",
    "literal",
    "sae_rate_cells",
]

MINUS: Final[str] = "\u2212"
NDASH: Final[str] = "\u2013"

SUBSCALES: Final[tuple[str, ...]] = ("exhaustion", "cynicism", "professional_efficacy")
PROFILES: Final[tuple[str, ...]] = ("burnout", "overextended", "disengaged", "ineffective", "engaged")
SUBSCALE_LABELS: Final[dict[str, str]] = {
    "exhaustion": "Exhaustion",
    "cynicism": "Cynicism",
    "professional_efficacy": "Professional Efficacy",
}
OUTCOME_LABELS: Final[dict[str, str]] = SUBSCALE_LABELS | {"at_least_1": "At least 1 subscale"}
PROFILE_LABELS: Final[dict[str, str]] = {p: p.capitalize() for p in PROFILES}
VARIABLE_LABELS: Final[dict[str, str]] = {
    "age_band": "Age band",
    "sex": "Sex",
    "route": "Route",
    "pathway": "Program pathway",
}
RESPONDER_LABELS: Final[dict[str, str]] = {
    "at_least_1": "At least 1 subscale",
    "at_least_2": "At least 2 subscales",
    "all_3": "All 3 subscales",
}
TEST_LABELS: Final[dict[str, str]] = {
    "chi-square": "Pearson \u03c7\u00b2",
    "fisher-exact": "Fisher exact",
    "freeman-halton-exact": "Freeman\u2013Halton exact",
    "not-testable": "not testable",
    "mcnemar-chi-square": "McNemar \u03c7\u00b2",
    "mcnemar-exact": "McNemar exact",
    "cochran-q": "Cochran Q",
    "paired t": "paired t",
}


def esc(text: object) -> str:
    """HTML-escape any text that came from data or the plan."""
    return html.escape(literal(str(text)), quote=True)


_CONTROL: Final = re.compile(r"[\x00-\x1f\x7f]")


def literal(text: object) -> str:
    """Text from data or the plan made printable as itself: each control character written as ``\\xNN``.

    A NUL, escape or form feed in a cell value is not allowed in XML (so in SVG) and is
    a parse error in HTML; newlines and tabs would break a label's layout. Each becomes
    its escape (NUL -> ``\\x00``), visible in any font (the figures' DejaVu Sans has no
    control pictures), so the reader sees that the value holds it. Escaping for HTML is
    `esc`'s job, not this one's.
    """
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", str(text))


def _finite(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)


def fmt_num(x: Any, digits: int = 2) -> str:
    """A number to ``digits`` decimals with a true minus sign; "-0.00" becomes "0.00"."""
    if not _finite(x):
        return NDASH
    s = f"{x:.{digits}f}"
    if s.startswith("-"):
        s = s[1:] if float(s) == 0 else MINUS + s[1:]
    return s


def fmt_signed(x: Any, digits: int = 2) -> str:
    """Like `fmt_num` with an explicit "+" on positive values (changes)."""
    s = fmt_num(x, digits)
    if _finite(x) and not s.startswith(MINUS) and float(s.replace(",", "")) != 0:
        s = "+" + s
    return s


def fmt_pct(rate: Any, digits: int = 1) -> str:
    """A 0-1 rate as a percentage: 0.5544 -> "55.4%"."""
    return NDASH if not _finite(rate) else fmt_num(100 * rate, digits) + "%"


def fmt_pct_ci(ci: Any, digits: int = 1) -> str:
    """A 0-1 interval as percentages: "50.5\u201360.2"."""
    if not ci or not all(_finite(v) for v in ci):
        return NDASH
    return f"{fmt_num(100 * ci[0], digits)}{NDASH}{fmt_num(100 * ci[1], digits)}"


def fmt_ci(ci: Any, digits: int = 2) -> str:
    """A signed interval: "\u22121.62 to \u22121.34"."""
    if not ci or not all(_finite(v) for v in ci):
        return NDASH
    return f"{fmt_num(ci[0], digits)} to {fmt_num(ci[1], digits)}"


def fmt_p(p: Any) -> str:
    """A p value: "<0.001" or 3 decimals."""
    if not _finite(p):
        return NDASH
    return "<0.001" if p < 0.0005 else f"{p:.3f}"


def fmt_p_eq(p: Any) -> str:
    """A p value for prose: "p < 0.001" or "p = 0.043"."""
    s = fmt_p(p)
    return "p < 0.001" if s == "<0.001" else f"p = {s}"


COMPLEMENT_MARK = "hidden to protect a small cell"


def differencing_note(ctx: Ctx) -> str:
    """The differencing risk, stated in the methods (issue 12 point 7)."""
    rounding = ctx.results.get("privacy", {}).get("round_to", 1)
    base = (
        "Differencing: two analyses of cohorts that differ by a few patients (the same program a month "
        "later, or with one site added) give those patients' values by subtraction (n \u00d7 mean), which "
        "suppression cannot prevent; publish one analysis per cohort and do not release analyses of "
        "nested cohorts side by side. "
    )
    if rounding and rounding > 1:
        return base + (
            f"Every published count here is rounded to a multiple of {rounding} (rates from the rounded "
            "counts), which blurs such differences."
        )
    return base + "The plan's [privacy] round_to = 5 rounds every published count to blur them."


class Ctx:
    """What every renderer needs besides the numbers: the plan's words and marks."""

    def __init__(self, results: Mapping[str, Any]) -> None:
        self.results = results
        protocol = results.get("protocol", {})
        self.k: int = int(protocol.get("privacy", {}).get("min_cell_count", 11))
        self.synthetic: bool = bool(results.get("meta", {}).get("synthetic"))
        schedule = protocol.get("schedule", {})
        assessments = schedule.get("assessments") or _timepoints_from(results)
        self.timepoints: list[str] = [str(t) for t in assessments]
        self.first: str = self.timepoints[0]
        self.last: str = self.timepoints[-1]
        self.sessions: int | None = schedule.get("sessions")
        self.title: str = report_title(protocol.get("title"), synthetic=self.synthetic)

    @property
    def suppressed(self) -> str:
        """The mark of a suppressed count."""
        return f"suppressed (<{self.k})"

    def hidden_mark(self, p: Mapping[str, Any] | None) -> str:
        """The truthful mark of a hidden Proportion: "<k" for a small cell, or that it was
        hidden to protect one (results.json ``hidden``: "complement"); never computed here."""
        return COMPLEMENT_MARK if (p or {}).get("hidden") == "complement" else self.suppressed

    @property
    def short_suppressed(self) -> str:
        return f"<{self.k}"

    def tp(self, t: str) -> str:
        """Timepoint label: "Baseline" or "After session 6"."""
        return "Baseline" if str(t) == "0" else f"After session {t}"

    def tp_short(self, t: str) -> str:
        return "Baseline" if str(t) == "0" else f"Session {t}"

    def count(self, c: Any) -> str:
        """A count with thousands separators, or the suppression mark."""
        return self.suppressed if c is None else f"{c:,}"

    def prop(self, p: Mapping[str, Any] | None, *, ci: bool = True) -> str:
        """"55.4% (219/395; 95% CI 50.5\u201360.2)" or the suppression mark."""
        return fmt_prop(p, self, ci=ci)

    @property
    def suppression_note(self) -> str:
        """What the suppression mark means: small, or hidden so that a small count cannot be recovered."""
        return (
            f"\u201c{self.suppressed}\u201d: a count of 1 to {self.k - 1} patients, or a count hidden so that such "
            "a count cannot be recovered from totals (complementary suppression); its percentage and interval are "
            "not shown."
        )

    def synthetic_note(self) -> str:
        return "SYNTHETIC DATA: simulated patients, not real outcomes." if self.synthetic else ""


NEUTRAL_TITLE: Final[str] = "Burnout program outcomes"


def report_title(plan_title: Any, *, synthetic: bool) -> str:
    """The report's title: the plan's own, else a neutral one; the demo's title only on synthetic output.

    The default plan carries the reference study's title (``protocol.DEFAULT_TITLE``), so a
    plan that never set ``title`` resolves to it; on a user's real data that would put the
    demo's program name on their report, so it reads as the neutral title instead.
    """
    from burnout.protocol import DEFAULT_TITLE

    title = literal(plan_title).strip() if plan_title else ""
    if not title or (title == DEFAULT_TITLE and not synthetic):
        return NEUTRAL_TITLE
    return title


SAE_PER: Final[int] = 1000  # serious adverse events are rare: a rate per 1,000 sessions keeps 2 decimals meaningful
SAE_UNIT: Final[str] = f"per {SAE_PER:,} sessions"


def sae_rate_cells(p: Mapping[str, Any] | None) -> tuple[str, str]:
    """The serious-adverse-event rate and its interval, both per 1,000 sessions: ("0.00", "0.00–1.62").

    One unit for the rate wherever it is shown (key findings, the safety table, the
    terminal summary); the results tree holds it per session (``rate``, ``ci``).
    """
    p = p or {}
    rate, ci = p.get("rate"), p.get("ci")
    shown = NDASH if not _finite(rate) else fmt_num(SAE_PER * rate)
    if not ci or not all(_finite(v) for v in ci):
        return shown, NDASH
    return shown, f"{fmt_num(SAE_PER * ci[0])}{NDASH}{fmt_num(SAE_PER * ci[1])}"


def fmt_sae(p: Mapping[str, Any] | None, ctx: Ctx) -> str:
    """Serious adverse events as prose: "0 in 2,370 sessions (0.00 per 1,000 sessions; 95% CI 0.00–1.62)"."""
    if not p:
        return NDASH
    n = p.get("n")
    sessions = f" in {n:,} sessions" if isinstance(n, int) else ""
    if p.get("suppressed") or p.get("count") is None:
        return ctx.suppressed + sessions
    rate, ci = sae_rate_cells(p)
    text = f"{p['count']:,}{sessions} ({rate} {SAE_UNIT}"
    return text + (f"; 95% CI {ci})" if ci != NDASH else ")")


HIDDEN: Final[dict[str, Any]] = {"count": None, "n": None, "rate": None, "ci": None, "suppressed": True}


def severe_profile(ctx: Ctx) -> tuple[Any, dict[str, Any]]:
    """``burnout_at_baseline`` and its two Proportions, hidden whole when their denominator is suppressed.

    The Proportions' ``n`` is ``burnout_at_baseline``; showing it (or a rate) beside a
    suppressed ``burnout_at_baseline`` would reveal the hidden count.
    """
    prof = ctx.results.get("profiles") or {}
    base = prof.get("burnout_at_baseline")
    props = {k: prof[k] for k in ("burnout_resolved", "burnout_to_engaged") if k in prof}
    if base is None:
        props = {k: dict(HIDDEN) for k in props}
    return base, props


def _timepoints_from(results: Mapping[str, Any]) -> list[str]:
    for s in SUBSCALES:
        tps = results.get("subscales", {}).get(s, {}).get("timepoints")
        if tps:
            return list(tps)
    return ["0"]


def fmt_count(c: Any, k: int) -> str:
    """A count, or ``suppressed (<k)``."""
    return f"suppressed (<{k})" if c is None else f"{c:,}"


def fmt_prop(p: Mapping[str, Any] | None, ctx: Ctx, *, ci: bool = True) -> str:
    """A Proportion as prose text."""
    if not p:
        return NDASH
    if p.get("suppressed") or p.get("count") is None:
        n = p.get("n")
        return ctx.hidden_mark(p) + ("" if n is None else f" of {n:,}")
    if p.get("rate") is None:
        return f"{p['count']:,}/{p['n']:,}"
    text = f"{fmt_pct(p['rate'])} ({p['count']:,}/{p['n']:,}"
    if ci and p.get("ci"):
        text += f"; 95% CI {fmt_pct_ci(p['ci'])}"
    return text + ")"


def fmt_pooled(p: Mapping[str, Any] | None, ctx: Ctx) -> str:
    """A pooled (multiple-imputation) rate as prose: "69.0% (95% CI 65.4\u201372.3)"; it has no count."""
    if not p:
        return NDASH
    if p.get("suppressed"):
        return ctx.suppressed
    if p.get("rate") is None:
        return NDASH
    text = fmt_pct(p["rate"])
    if p.get("ci"):
        text += f" (95% CI {fmt_pct_ci(p['ci'])})"
    return text


def get(tree: Any, *path: str, default: Any = None) -> Any:
    """``tree[path[0]][path[1]]...`` or ``default`` when any step is missing."""
    node = tree
    for key in path:
        if not isinstance(node, Mapping) or key not in node:
            return default
        node = node[key]
    return node


def join_words(items: Iterable[str]) -> str:
    """"a, b and c"."""
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def conf_label(ctx: Ctx) -> str:
    c = get(ctx.results, "protocol", "analysis", "confidence", default=0.95)
    return f"{fmt_num(100 * c, 0 if float(100 * c).is_integer() else 1)}%"


# ---------------------------------------------------------------------------- prose


def summary_points(ctx: Ctx) -> list[str]:
    """Key findings, one HTML sentence each, generated from the numbers."""
    r = ctx.results
    out: list[str] = []
    flow = r.get("flow", {})
    completion = flow.get("completion")
    out.append(
        "<strong>Participants.</strong> "
        f"Of {esc(ctx.count(flow.get('patients')))} patients in the cohort, {esc(ctx.count(flow.get('threshold_met')))} "
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
        change_bits.append(
            f"{SUBSCALE_LABELS[s]} {fmt_num(b.get('mean'))} \u2192 {fmt_num(e.get('mean'))} "
            f"(change {fmt_signed(e.get('change'))}, 95% CI {fmt_ci(e.get('change_ci'))}; "
            f"d<sub>z</sub> {fmt_num(es.get('dz'))}, 95% CI {fmt_ci(es.get('ci'))}, {esc(es.get('label') or NDASH)})"
        )
    if change_bits:
        out.append(
            f"<strong>Scores.</strong> Mean, {ctx.tp(ctx.first).lower()} \u2192 {ctx.tp(ctx.last).lower()}: "
            + "; ".join(change_bits)
            + "."
        )
    resp = [
        f"{SUBSCALE_LABELS[s]} {esc(fmt_prop(get(r, 'subscales', s, 'response'), ctx))}"
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
                f"df = {q.get('df')}, {fmt_p_eq(q.get('p'))})."
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
        out.append(f"<strong>Burnout threshold.</strong> Below it {ctx.tp(ctx.last).lower()}: {esc(fmt_prop(below, ctx))}.")
    prof = r.get("profiles") or {}
    if "burnout_at_baseline" in prof:
        base, sev = severe_profile(ctx)
        out.append(
            "<strong>Burnout profile.</strong> "
            f"Of {esc(ctx.count(base))} completers in the Burnout profile at baseline, "
            f"{esc(fmt_prop(sev.get('burnout_resolved'), ctx))} had left it {ctx.tp(ctx.last).lower()} and "
            f"{esc(fmt_prop(sev.get('burnout_to_engaged'), ctx))} were Engaged."
        )
    se = r.get("side_effects") or {}
    se_bits = [f"{esc(fmt_prop(v, ctx))} at session {esc(k)}" for k, v in se.items() if k.isdigit()]
    if se_bits:
        sae = se.get("serious_adverse_events")
        sae_txt = ""
        if sae:
            sae_txt = f" Serious adverse events: {esc(fmt_sae(sae, ctx))}."
        out.append("<strong>Safety.</strong> Side effects reported by " + join_words(se_bits) + "." + sae_txt)
    het = _heterogeneity_findings(ctx)
    if het:
        out.append("<strong>Subgroups.</strong> " + het)
    itt = r.get("itt")
    if itt and get(itt, "worst_case", "responders", "at_least_1"):
        mi = get(itt, "multiple_imputation", "responders", "at_least_1")
        mi_txt = (
            f" and {esc(fmt_pooled(mi, ctx))} with multiple imputation of the missing scores" if mi else ""
        )
        comp = get(r, "responders", "at_least_1")
        comp_txt = f", against {esc(fmt_prop(comp, ctx))} among completers" if comp else ""
        out.append(
            f"<strong>Beyond completers.</strong> Counting all {esc(ctx.count(itt.get('threshold_met')))} who met the "
            f"threshold, responders on at least 1 subscale were {esc(fmt_prop(get(itt, 'worst_case', 'responders', 'at_least_1'), ctx))} "
            f"if every non-completer is counted as a non-responder (worst case){mi_txt}{comp_txt}."
        )
    out.append(
        "<strong>Interpretation.</strong> These are observational, completer-only estimates without a control group: they describe what happened to "
        "patients who finished the program, not what the program caused."
    )
    return out


def level_label(level: object) -> str:
    """A subgroup level for display: first letter upper-case, number ranges with an en dash."""
    text = literal(level)
    if any(ch.isdigit() for ch in text):
        text = text.replace("-", NDASH)
    return text[:1].upper() + text[1:]


def _heterogeneity_findings(ctx: Ctx) -> str:
    subgroups = ctx.results.get("subgroups") or {}
    tested, flagged = [], []
    for var, body in subgroups.items():
        for outcome, h in (body.get("heterogeneity") or {}).items():
            if h.get("p") is None:
                continue
            tested.append((var, outcome))
            if h["p"] < 0.05:
                flagged.append(f"{VARIABLE_LABELS.get(var, var)} on {OUTCOME_LABELS.get(outcome, outcome)} ({fmt_p_eq(h['p'])})")
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
        f"<strong>Burnout threshold (eligibility).</strong> Exhaustion \u2265 {fmt_plain(elig.get('exhaustion_min'))} and "
        f"(Cynicism \u2265 {fmt_plain(elig.get('cynicism_min'))} or Professional Efficacy \u2264 "
        f"{fmt_plain(elig.get('efficacy_max'))}), applied at baseline; the same rule defines being below the threshold "
        "at later assessments. Cut-offs are compared exactly (no floating-point rounding of a patient's score).",
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
        "Holm's correction rather than by overlap of intervals. Whether a subscale had plateaued is a paired t test "
        "of the last two assessments. Subgroup heterogeneity: Pearson's \u03c7\u00b2 test of the level \u00d7 response "
        "table, or an exact conditional test (Fisher; Freeman\u2013Halton) when expected counts are small; tests are not "
        "adjusted for multiplicity.",
        profiles_method(ctx),
        f"<strong>Privacy.</strong> Any count from 1 to {ctx.k - 1} is suppressed in every table, figure and file "
        f"(min_cell_count = {ctx.k}), with complementary suppression where a hidden count could be recovered from "
        f"totals; suppressed cells read \u201c{esc(ctx.suppressed)}\u201d and their rates and intervals are not shown. "
        f"Cells hidden only to protect a small cell read \u201c{COMPLEMENT_MARK}\u201d; statistics over fewer than "
        f"{ctx.k} patients are not shown. No patient identifier appears in any output. "
        + differencing_note(ctx),
    ]
    extras = []
    r = ctx.results
    if "itt" in r:
        extras.append(
            "<strong>Beyond completers (intention to treat).</strong> Everyone who met the threshold forms the "
            "denominator. The worst case counts every non-completer as a non-responder; multiple imputation imputes "
            "missing follow-up scores and pools response rates with Rubin's rules; a linear mixed model estimates mean "
            "scores from every available assessment. The imputation model and the mixed model's assumptions are "
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
            "each subscale is regressed on the change in PHQ-9 (ordinary least squares); the intercept is the subscale "
            "change expected with no change in depression."
        )
    if "reliable_change" in r:
        extras.append(
            "<strong>Reliable change.</strong> Jacobson\u2013Truax reliable change index, |RCI| > 1.96, from the baseline SD "
            "and Cronbach's \u03b1."
        )
    return out + extras


def fmt_plain(x: Any) -> str:
    """A plan value as written (4.8, 1.0, -0.5), no rounding."""
    if not _finite(x):
        return NDASH
    text = repr(float(x)) if isinstance(x, float) else str(x)
    return text.replace("-", MINUS)


def profiles_method(ctx: Ctx) -> str:
    p = ctx.results.get("protocol", {}).get("profiles", {})
    cut = get(ctx.results, "profiles", "cutoffs") or {}
    raw = cut.get("raw") or {}
    method = cut.get("method", p.get("method"))
    reference = cut.get("reference", p.get("reference"))
    ops = {"exhaustion": "\u2265", "cynicism": "\u2265", "professional_efficacy": "\u2264"}
    if method == "zscore":
        ref = (
            "the analysed cohort (completers) at baseline" if reference == "baseline" else "the population norms given in the plan"
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
        f"{esc(ctx.count(flow.get('completers')))} completers, {esc(fmt_pct(rate))} of the "
        f"{esc(ctx.count(flow.get('threshold_met')))} who met the threshold. Patients who stopped early may have done "
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
    warnings = r.get("warnings") or []
    if warnings:
        out.append(
            "<strong>Data warnings.</strong> "
            + " ".join(esc(scrub_ids(w).rstrip(".")) + "." for w in warnings)
        )
    return out


_QUOTED_ID = re.compile(r"""\b(patient(?:_id)?s?)\s*(?:=\s*)?(['"])(?:(?!\2).)*\2""", re.I)


def scrub_ids(text: str) -> str:
    """Drop a quoted patient id from a validation warning ("patient 'P0042'" -> "patient [id withheld]").

    Validation warnings are written for the person fixing the files and may name a
    patient; the report is shared, so no identifier may appear in it.
    """
    return _QUOTED_ID.sub(lambda m: f"{m.group(1)} [id withheld]", text)
