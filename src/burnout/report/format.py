"""Display formatting and generated prose for the report. (format)."""

from __future__ import annotations

import html
import math
import re
from collections.abc import Iterable, Mapping
from typing import Any, Final

from burnout import privacy
from burnout.report.labels import COMPLEMENT_MARK, HIDDEN, MINUS, NDASH, NEUTRAL_TITLE, SAE_PER, SAE_UNIT, SUBSCALES

__all__ = [
    "Ctx",
    "esc",
    "fmt_ci",
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


def fmt_p(p: Any, ctx: Ctx) -> str:
    """A p value: "<0.001" or 3 decimals; "≤ 0.05" when ``[privacy] round_to`` rounded it up to
    a multiple of 0.01 (the true p is at most that, so it must not read as exact; issue 12).

    ``ctx`` is required: without it a rounded-up p would read as exact.
    """
    if not _finite(p):
        return NDASH
    if ctx.p_rounded:
        return f"≤ {p:.2f}"
    return "<0.001" if p < 0.0005 else f"{p:.3f}"


def fmt_p_eq(p: Any, ctx: Ctx) -> str:
    """A p value for prose: "p < 0.001", "p = 0.043" or, rounded up by round_to, "p ≤ 0.05"."""
    s = fmt_p(p, ctx)
    if s.startswith("≤"):
        return f"p {s}"
    return "p < 0.001" if s == "<0.001" else f"p = {s}"


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
            "counts); test statistics and degrees of freedom are withheld (a paired t test's df is n \u2212 1), "
            "p-values are rounded up to a multiple of 0.01, and means, SDs, intervals and effect sizes are rounded "
            "to a grid coarse enough that n \u00d7 mean is uncertain by at least \u00b13 points over the rounded "
            "n's range, so a difference of two analyses cannot single out one patient's score."
        )
    return base + (
        "The plan's [privacy] round_to = 5 rounds every published count, withholds test statistics and "
        "coarsens every other statistic to blur them."
    )


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
    def p_rounded(self) -> bool:
        """Whether ``[privacy] round_to`` > 1 rounded every p-value up to a multiple of 0.01."""
        return int(self.results.get("privacy", {}).get("round_to", 1) or 1) > 1

    @property
    def suppressed(self) -> str:
        """The mark of a suppressed count."""
        return f"suppressed (<{self.k})"

    def mark(self, reason: str | None) -> str:
        """The truthful mark of a hidden value: the suppression mark for a small cell, or that
        it was hidden to protect one (reason "complement", as results.json states it)."""
        return COMPLEMENT_MARK if reason == "complement" else self.suppressed

    def hidden_mark(self, p: Mapping[str, Any] | None) -> str:
        """The mark of a hidden Proportion, from its own ``hidden`` reason; never computed here."""
        return self.mark((p or {}).get("hidden"))

    @property
    def short_suppressed(self) -> str:
        return f"<{self.k}"

    def tp(self, t: str) -> str:
        """Timepoint label: "Baseline" or "After session 6"."""
        return "Baseline" if str(t) == "0" else f"After session {t}"

    def tp_short(self, t: str) -> str:
        return "Baseline" if str(t) == "0" else f"Session {t}"

    def count(self, c: Any, *, hidden: str | None = None) -> str:
        """A count with thousands separators, or the mark of why it is hidden (`mark`)."""
        return self.mark(hidden) if c is None else f"{c:,}"

    def n_beside(self, n: int | None, *, statistic: Any) -> str:
        """The n of a statistic, or why it is hidden: a statistic is published only over at
        least k patients, so a hidden n beside a published one was hidden to protect a
        small cell (e.g. the few with a missing value), not because it is small."""
        return self.count(n, hidden="complement" if statistic is not None else None)

    def level_n(self, entry: Mapping[str, Any], outcomes: Iterable[str]) -> str:
        """A subgroup level's n, or the reason its Proportions give for hiding the level."""
        reasons = {(entry.get(o) or {}).get("hidden") for o in outcomes}
        return self.count(entry.get("n"), hidden="complement" if reasons == {"complement"} else None)

    def flow_count(self, key: str) -> str:
        """A flow count ("patients", "threshold_met", "completers", "exclusions.<reason>"), or
        the truthful mark of why it is hidden (results.json ``flow.hidden``)."""
        flow = self.results.get("flow", {})
        value = flow.get("exclusions", {}).get(key.split(".", 1)[1]) if key.startswith("exclusions.") else flow.get(key)
        return self.count(value, hidden=flow.get("hidden", {}).get(key))

    def prop(self, p: Mapping[str, Any] | None, *, ci: bool = True) -> str:
        """ "55.4% (219/395; 95% CI 50.5\u201360.2)" or the suppression mark."""
        return fmt_prop(p, self, ci=ci)

    @property
    def suppression_note(self) -> str:
        """What the two marks mean: small, and hidden so that a small count cannot be recovered."""
        return (
            f"\u201c{self.suppressed}\u201d: a count of 1 to {self.k - 1} patients; \u201c{COMPLEMENT_MARK}\u201d: "
            "a count hidden so that such a count cannot be recovered from totals (complementary suppression). "
            "Their percentages and intervals are not shown."
        )

    def synthetic_note(self) -> str:
        return "SYNTHETIC DATA: simulated patients, not real outcomes." if self.synthetic else ""


def report_title(plan_title: Any, *, synthetic: bool) -> str:
    """The report's title: the plan's own, else a neutral one; the demo's title only on synthetic output.

    The default plan carries the reference study's title (``protocol.DEFAULT_TITLE``), so a
    plan that never set ``title`` resolves to it; on a user's real data that would put the
    demo's program name on their report, so it reads as the neutral title instead.
    """
    from burnout.plan import DEFAULT_TITLE

    title = literal(plan_title).strip() if plan_title else ""
    if not title or (title == DEFAULT_TITLE and not synthetic):
        return NEUTRAL_TITLE
    return title


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
    """ "a, b and c"."""
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def conf_label(ctx: Ctx) -> str:
    c = get(ctx.results, "protocol", "analysis", "confidence", default=0.95)
    return f"{fmt_num(100 * c, 0 if float(100 * c).is_integer() else 1)}%"


def subgroup_label(results: Mapping[str, Any], var: str, level: object) -> str:
    """A subgroup level as the report shows it: its results label (which says what a merged
    level holds, e.g. "Female, other or not recorded"), pathways as the program's own names."""
    entry = (results.get("subgroups") or {}).get(var, {}).get(level)
    text = entry.get("label", level) if isinstance(entry, Mapping) else level
    return literal(text) if var == "pathway" else level_label(text)


def merged_note(results: Mapping[str, Any]) -> str:
    """The footnote saying which small residual levels were merged into which level ("" when none)."""
    parts = []
    for var, body in (results.get("subgroups") or {}).items():
        het: Any = next(iter((body.get("heterogeneity") or {}).values()), {}) if isinstance(body, Mapping) else {}
        merged = het.get("merged") if isinstance(het, Mapping) else None
        if merged:
            targets = sorted(set(merged.values()))
            pairs = ", ".join(
                " and ".join(
                    dict.fromkeys(
                        privacy.RESIDUAL_WORDS.get(r.strip().lower(), literal(r)) for r, to in merged.items() if to == t
                    )
                )
                + f" into {literal(t)}"
                for t in targets
            )
            parts.append(f"{var.replace('_', ' ')}: {pairs}")
    if not parts:
        return ""
    return (
        "Levels too small to publish on their own were merged into another level in every table (global recoding; "
        + "; ".join(parts)
        + "); heterogeneity tests use the published levels and leave unknown or other levels out."
    )


def level_label(level: object) -> str:
    """A subgroup level for display: first letter upper-case, number ranges with an en dash."""
    text = literal(level)
    if any(ch.isdigit() for ch in text):
        text = text.replace("-", NDASH)
    return text[:1].upper() + text[1:]


def fmt_plain(x: Any) -> str:
    """A plan value as written (4.8, 1.0, -0.5), no rounding."""
    if not _finite(x):
        return NDASH
    text = repr(float(x)) if isinstance(x, float) else str(x)
    return text.replace("-", MINUS)


_QUOTED_ID = re.compile(r"""\b(patient(?:_id)?s?)\s*(?:=\s*)?(['"])(?:(?!\2).)*\2""", re.I)


def scrub_ids(text: str) -> str:
    """Drop a quoted patient id from a validation warning ("patient 'P0042'" -> "patient [id withheld]").

    Validation warnings are written for the person fixing the files and may name a
    patient; the report is shared, so no identifier may appear in it.
    """
    return _QUOTED_ID.sub(lambda m: f"{m.group(1)} [id withheld]", text)
