"""Assemble the single, self-contained report page.

Everything is inline: the stylesheet (package data ``static/report.css``), the
great_tables HTML and the matplotlib SVG (with its ids prefixed so that figures
cannot clash). A Content-Security-Policy meta tag forbids every fetch, so even a
mistake in a renderer cannot make the page reach the network. No scripts.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from importlib import resources
from typing import Any, Final

from burnout.report.figures import Figure
from burnout.report.format import Ctx, esc, fmt_num, fmt_pct, get, join_words, literal
from burnout.report.labels import SUBSCALE_LABELS
from burnout.report.methods import methods_paragraphs
from burnout.report.prose import limitations, summary_points
from burnout.report.tables import Table, to_gt_html
from burnout.results import TABLE1_LABELS

__all__ = ["CSP", "inline_svg", "render_html"]

CSP: Final[str] = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; font-src data:; base-uri 'none'; form-action 'none'"
)


def _css() -> str:
    return resources.files("burnout.report").joinpath("static", "report.css").read_text(encoding="utf-8")


_ID = re.compile(r'\bid="([^"]+)"')


def inline_svg(svg: str, prefix: str, *, label: str) -> str:
    """SVG text ready to sit in HTML: no prolog or metadata, ids made unique, sized by CSS."""
    svg = re.sub(r"<\?xml[^>]*\?>\s*", "", svg)
    svg = re.sub(r"<!DOCTYPE[^>]*>\s*", "", svg)
    svg = re.sub(r"<metadata>.*?</metadata>\s*", "", svg, flags=re.S)
    ids = set(_ID.findall(svg))
    if ids:
        alternation = "|".join(re.escape(i) for i in sorted(ids, key=len, reverse=True))
        svg = re.sub(rf'\bid="({alternation})"', lambda m: f'id="{prefix}{m.group(1)}"', svg)
        svg = re.sub(rf'href="#({alternation})"', lambda m: f'href="#{prefix}{m.group(1)}"', svg)
        svg = re.sub(rf"url\(#({alternation})\)", lambda m: f"url(#{prefix}{m.group(1)})", svg)
    # the root element: drop the fixed size (CSS scales it; the viewBox keeps the shape), label it
    svg = re.sub(
        r"<svg\b([^>]*?)\swidth=\"[^\"]*\"\s+height=\"[^\"]*\"",
        lambda m: f'<svg role="img" aria-label="{esc(label)}"{m.group(1)}',
        svg,
        count=1,
    )
    return svg.strip()


class _Numbering:
    def __init__(self) -> None:
        self.tables = 0
        self.figures = 0
        self.of: dict[str, int] = {}  # table key -> its number, for cross-references


def render_html(ctx: Ctx, figures: dict[str, Figure], tables: dict[str, Table]) -> str:
    """The whole page as one string."""
    num = _Numbering()
    r = ctx.results
    parts: list[tuple[str, str, str]] = []  # (id, heading, body)

    def table(key: str, *, numbered: bool = True) -> str:
        t = tables.get(key)
        if t is None or not t.html:
            return ""
        n = None
        if numbered:
            num.tables += 1
            n = num.tables
            num.of[key] = n
        width = "narrow" if len(t.columns) <= 4 and key != "analysis_plan" else "full"
        return f'<div class="table-wrap {width}" id="table-{esc(key)}">{to_gt_html(t, ctx, n)}</div>'

    def figure(key: str) -> str:
        f = figures.get(key)
        if f is None:
            return ""
        num.figures += 1
        size = "narrow" if f.width_in <= 4 else "medium" if f.width_in <= 6.3 else "wide"
        caption = esc(f.caption).replace("SYNTHETIC DATA:", '<strong class="synthetic">SYNTHETIC DATA:</strong>')
        return (
            f'<figure class="{size}" id="figure-{esc(key)}">'
            f'<div class="fig-body{" has-narrow" if f.narrow_svg else ""}">{inline_svg(f.svg, f"f{num.figures}-", label=f.alt)}'
            + (inline_svg(f.narrow_svg, f"f{num.figures}n-", label=f.alt) if f.narrow_svg else "")
            + "</div>"
            f"<figcaption><strong>Figure {num.figures}.</strong> <strong>{esc(f.title)}.</strong> {caption}</figcaption>"
            "</figure>"
        )

    # 1 summary
    parts.append(
        (
            "summary",
            "Key findings",
            '<ul class="findings">' + "".join(f"<li>{s}</li>" for s in summary_points(ctx)) + "</ul>",
        )
    )
    # 2 plan
    protocol = r.get("protocol") or {}
    meta = r.get("meta") or {}
    plan_body = (
        "<p>The analysis is fully determined by the cohort data and this plan. Re-running the same tool version on "
        "the same files with the same plan gives the same results. The plan's sha256 identifies it; the data "
        "fingerprint identifies the validated data, the same from CSV, Parquet or PostgreSQL.</p>"
        + table("analysis_plan", numbered=False)
    )
    parts.append(("plan", "Analysis plan", plan_body))
    # 3 methods
    parts.append(
        (
            "methods",
            "Methods",
            '<div class="methods">' + "".join(f"<p>{p}</p>" for p in methods_paragraphs(ctx)) + "</div>",
        )
    )
    # 4 flow
    flow_body = figure("flow")
    if flow_body:
        parts.append(("flow", "Participant flow", flow_body))
    # 5 table 1
    t1 = table("baseline_characteristics")
    if t1:
        parts.append(
            (
                "baseline",
                "Baseline characteristics",
                "<p>Completers are compared with those who met the threshold but did not complete, to show how the "
                "analysed cohort may differ from everyone who started.</p>" + t1 + table("early_change"),
            )
        )
    # 6 trajectories
    body = figure("trajectories") + table("trajectories")
    if body:
        parts.append(("scores", "Scores by session", body))
    # 7 effect sizes
    body = table("effect_sizes") + table("plateau")
    if body:
        parts.append(("effect-sizes", "Effect sizes", body))
    # 8 response (+ responders on 1/2/3)
    body = table("response") + figure("response") + table("response_comparison")
    if body:
        parts.append(("response", "Response", body))
    # 9 below threshold
    body = table("below_threshold")
    if body:
        parts.append(("below-threshold", "Below the burnout threshold over time", body))
    # 10 profiles
    body = figure("profiles") + table("profiles") + figure("transitions")
    if body:
        parts.append(("profiles", "Burnout profiles", body))
    # 11 severe profile
    body = table("burnout_profile_resolution")
    if body:
        parts.append(("severe-profile", "Resolution of the Burnout profile", body))
    # 12 safety
    body = table("side_effects")
    if body:
        parts.append(("safety", "Side effects and serious adverse events", body))
    # 13 subgroups
    body = figure("subgroups") + table("subgroups")
    if body:
        parts.append(("subgroups", "Subgroups", body))
    # beyond the reference study
    body = _beyond_completers(ctx, table, figure, num.of)
    if body:
        parts.append(("beyond-completers", "Beyond completers", body))
    body = table("phq9") + table("phq9_adjusted")
    if body:
        parts.append(("phq9", "Depressive symptoms (PHQ-9)", body))
    body = table("instruments")  # only when the plan names its instruments (issue 14)
    if body:
        parts.append(("instruments", "Instruments of the plan", body))
    body = table("reliable_change") + table("reliability") + table("measurement_invariance")
    if body:
        parts.append(("reliable-change", "Reliable change and reliability", body))
    body = table("regression_to_mean")
    if body:
        parts.append(("regression-to-mean", "Regression to the mean", body))
    # limitations
    parts.append(
        (
            "limitations",
            "Limitations",
            '<ul class="limitations">' + "".join(f"<li>{x}</li>" for x in limitations(ctx)) + "</ul>",
        )
    )

    synthetic_prefix = "SYNTHETIC DATA \u2013 " if ctx.synthetic else ""
    page_title = f"{synthetic_prefix}{ctx.title}: outcomes report"
    banner = ""
    if ctx.synthetic:
        banner = (
            '<div class="banner" role="note">SYNTHETIC DATA <span>\u2013 every number in this report comes from a '
            "simulated cohort, not from real patients. Do not cite it as evidence.</span></div>"
        )
    toc = "".join(f'<li><a href="#{pid}">{esc(h)}</a></li>' for pid, h, _ in parts)
    sections = "".join(f'<section id="{pid}"><h2>{esc(h)}</h2>{b}</section>' for pid, h, b in parts)
    files_note = (
        '<p class="note">Every figure is also in <code>figures/</code> (SVG and PNG) and every table in '
        "<code>tables/</code> (CSV, unrounded); <code>results.json</code> holds every number.</p>"
    )
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="referrer" content="no-referrer">\n'
        f"<title>{esc(page_title)}</title>\n"
        f"<style>\n{_css()}</style>\n</head>\n<body>\n"
        f"{banner}"
        '<header><div class="kicker">Real-world outcomes report</div>'
        f"<h1>{esc(ctx.title)}</h1>"
        f'<p class="meta">Observational cohort \u00b7 {esc(ctx.flow_count("completers"))} completers of '
        f"{esc(ctx.flow_count('threshold_met'))} who met the burnout threshold \u00b7 plan sha256 "
        f"<code>{esc(str(protocol.get('sha256', ''))[:12])}</code> \u00b7 "
        f"{esc(meta.get('tool', 'burnout'))} {esc(meta.get('version', ''))}</p>"
        f'</header>\n<nav class="toc" aria-label="Contents"><ol>{toc}</ol></nav>\n'
        f"<main>{sections}</main>\n"
        f"<footer>{files_note}<p>Generated by {esc(meta.get('tool', 'burnout'))} {esc(meta.get('version', ''))} "
        f"from results.json (schema version {esc(r.get('schema_version', ''))}). MBI-GS item wording is licensed "
        "(Mind Garden) and is not reproduced.</p>"
        + ("<p><strong>SYNTHETIC DATA.</strong></p>" if ctx.synthetic else "")
        + "</footer>\n</body>\n</html>\n"
    )


_SMD_LABELS = SUBSCALE_LABELS | {
    "age": "age",
    "female": "female sex",
    "subcutaneous": "subcutaneous route",
    "phq9": "PHQ-9 total",
}


def _smd_label(r: Mapping[str, Any], key: str) -> str:
    """A Table 1 row in running text; a row whose label is not its usual one had a residual
    merged into its level and says so ("female, other or not recorded")."""
    label = get(r, "attrition", "table1", key, "label")
    if isinstance(label, str) and key in TABLE1_LABELS and label != TABLE1_LABELS[key]:
        return literal(label[:1].lower() + label[1:])
    return _SMD_LABELS.get(key, key)


def _mmrm_methods(itt: dict[str, Any]) -> list[str]:
    """The MMRM's assumptions, any subscale it could not fit, and the tipping-point method."""
    how = []
    assumptions = get(itt, "mmrm", "assumptions")
    if assumptions:
        how.append(f"<strong>MMRM (primary) and its assumptions.</strong> {esc(_sentence(assumptions))}")
    for s in SUBSCALE_LABELS:
        problem = get(itt, "mmrm", s, "problem")
        if problem:
            how.append(f"<strong>{esc(SUBSCALE_LABELS[s])}: MMRM not fitted.</strong> {esc(_sentence(str(problem)))}")
    method = get(itt, "mmrm_tipping", "method")
    if method:
        how.append(f"<strong>Tipping point (missing not at random).</strong> {esc(_sentence(method))}")
    return how


def _beyond_completers(ctx: Ctx, table: Any, figure: Any, numbers: dict[str, int]) -> str:
    """The "Beyond completers" section: the side-by-side table, how its estimates were made, attrition."""
    r = ctx.results
    itt = r.get("itt") or {}
    attrition = r.get("attrition") or {}
    out = ""
    side = table("beyond_completers")
    if side:
        completion = get(r, "flow", "completion", "rate")
        share = f" ({esc(fmt_pct(completion))})" if completion is not None else ""
        out += (
            f"<p>The estimates above are among the {esc(ctx.flow_count('completers'))} completers{share} of the "
            f"{esc(ctx.flow_count('threshold_met'))} patients who met the threshold. Here the same outcomes are "
            "estimated for everyone who met it, under three assumptions about the patients who did not complete: that "
            "none of them responded (worst case), that their missing scores resemble those of similar patients who were "
            "assessed (multiple imputation), and that every available assessment informs the mean (mixed models: the "
            "MMRM, primary, and the random-intercept model as a sensitivity analysis).</p>" + side
        )
    how = []
    method = get(itt, "multiple_imputation", "method")
    if method:
        how.append(f"<strong>Multiple imputation.</strong> {esc(_sentence(method))}")
    estimand = get(itt, "multiple_imputation", "estimand") or {}
    if estimand:
        events = "; ".join(f"{e.get('event')}: {e.get('strategy')}" for e in estimand.get("intercurrent_events") or [])
        how.append(
            "<strong>Estimand (ICH E9(R1)).</strong> "
            + esc(
                f"Population: {estimand.get('population')}. Variable: {estimand.get('variable')}. "
                f"Intercurrent events: {events}. Summary: {estimand.get('summary_measure')}. "
                f"{estimand.get('missing_data_assumption')}"
            )
        )
    problem = get(itt, "multiple_imputation", "problem")
    if problem:
        how.append(f"<strong>Imputation problem.</strong> {esc(_sentence(str(problem)))}")
    how += _mmrm_methods(itt)
    assumptions = get(itt, "mixed_model", "assumptions")
    if assumptions:
        how.append(
            f"<strong>Random-intercept model (sensitivity) and its assumptions.</strong> {esc(_sentence(assumptions))}"
        )
    fits = []
    for s in SUBSCALE_LABELS:
        m = get(itt, "mixed_model", s) or {}
        if m.get("problem"):
            how.append(f"<strong>{esc(SUBSCALE_LABELS[s])}: not fitted.</strong> {esc(_sentence(str(m['problem'])))}")
        elif m.get("observations") is not None and m.get("patients") is not None:
            fits.append(f"{SUBSCALE_LABELS[s]} {m['observations']:,} assessments of {m['patients']:,} patients")
    if fits:
        how.append(f"<strong>Data used by the mixed model.</strong> {esc(join_words(fits))}.")
    if how:
        out += (
            '<h3 id="beyond-methods">How the estimates beyond completers were made</h3><div class="methods">'
            + "".join(f"<p>{h}</p>" for h in how)
            + "</div>"
        )
    out += table("itt_mmrm") + table("itt_mmrm_tipping") + table("itt_tipping_point") + table("itt_mixed_model")
    att = figure("reach") + table("completion_by_subgroup")
    smd = attrition.get("baseline_smd") or {}
    pointer = ""
    if "baseline_characteristics" in numbers:
        n = numbers["baseline_characteristics"]
        pointer = (
            f'Completers and non-completers are compared at baseline in <a href="#table-baseline_characteristics">'
            f"Table {n}</a> (standardized mean differences of the subscales, age, sex and route)."
        )
        known = [(k, v) for k, v in smd.items() if isinstance(v, int | float) and not isinstance(v, bool)]
        if known:
            k, v = max(known, key=lambda kv: abs(kv[1]))
            size = "below" if abs(v) < 0.1 else "at or above"
            pointer += (
                f" The largest absolute difference was {esc(fmt_num(abs(v)))} ({esc(_smd_label(r, k))}), {size} the 0.1 "
                "commonly read as a meaningful imbalance."
            )
    if att or pointer:
        out += '<h3 id="attrition">Attrition: who completed and how far patients got</h3>'
        out += (f"<p>{pointer}</p>" if pointer else "") + att
    return out


def _sentence(text: str) -> str:
    """Text from the results tree as one sentence: first letter upper-case, one final full stop."""
    text = text.strip()
    return (text[:1].upper() + text[1:]).rstrip(".") + "."
