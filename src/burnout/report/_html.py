"""Assemble the single, self-contained report page.

Everything is inline: the stylesheet (package data ``static/report.css``), the
great_tables HTML and the matplotlib SVG (with its ids prefixed so that figures
cannot clash). A Content-Security-Policy meta tag forbids every fetch, so even a
mistake in a renderer cannot make the page reach the network. No scripts.
"""

from __future__ import annotations

import re
from importlib import resources
from typing import Final

from burnout.report._figures import Figure
from burnout.report._tables import Table, to_gt_html
from burnout.report._text import (
    Ctx,
    esc,
    get,
    limitations,
    methods_paragraphs,
    summary_points,
)

__all__ = ["CSP", "inline_svg", "render_html"]

CSP: Final[str] = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; font-src data:; "
    "base-uri 'none'; form-action 'none'"
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
        width = "narrow" if len(t.columns) <= 4 and key != "analysis_plan" else "full"
        return f'<div class="table-wrap {width}" id="table-{esc(key)}">{to_gt_html(t, ctx, n)}</div>'

    def figure(key: str) -> str:
        f = figures.get(key)
        if f is None:
            return ""
        num.figures += 1
        size = "narrow" if f.width_in <= 4 else "medium" if f.width_in <= 6.3 else "wide"
        caption = esc(f.caption).replace(
            "SYNTHETIC DATA:", '<strong class="synthetic">SYNTHETIC DATA:</strong>'
        )
        return (
            f'<figure class="{size}" id="figure-{esc(key)}">'
            f'<div class="fig-body">{inline_svg(f.svg, f"f{num.figures}-", label=f.alt)}</div>'
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
        "fingerprint identifies the input files.</p>"
        + table("analysis_plan", numbered=False)
    )
    parts.append(("plan", "Analysis plan", plan_body))
    # 3 methods
    parts.append(
        ("methods", "Methods", '<div class="methods">' + "".join(f"<p>{p}</p>" for p in methods_paragraphs(ctx)) + "</div>")
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
                "analysed cohort may differ from everyone who started.</p>" + t1,
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
    body = table("itt_response") + table("itt_mixed_model")
    if body:
        parts.append(("itt", "Intention to treat", body))
    body = table("phq9") + table("phq9_adjusted")
    if body:
        parts.append(("phq9", "Depressive symptoms (PHQ-9)", body))
    body = table("reliable_change") + table("reliability")
    if body:
        parts.append(("reliable-change", "Reliable change and reliability", body))
    # limitations
    parts.append(
        ("limitations", "Limitations", '<ul class="limitations">' + "".join(f"<li>{x}</li>" for x in limitations(ctx)) + "</ul>")
    )

    synthetic_prefix = "SYNTHETIC DATA \u2013 " if ctx.synthetic else ""
    page_title = f"{synthetic_prefix}{ctx.title}: outcomes report"
    banner = ""
    if ctx.synthetic:
        banner = (
            '<div class="banner" role="note">SYNTHETIC DATA <span>\u2013 every number in this report comes from a '
            "simulated cohort, not from real patients. Do not cite it as evidence.</span></div>"
        )
    completers = get(r, "flow", "completers")
    met = get(r, "flow", "threshold_met")
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
        f'<p class="meta">Observational cohort \u00b7 {esc(ctx.count(completers))} completers of '
        f"{esc(ctx.count(met))} who met the burnout threshold \u00b7 plan sha256 "
        f'<code>{esc(str(protocol.get("sha256", ""))[:12])}</code> \u00b7 '
        f'{esc(meta.get("tool", "burnout"))} {esc(meta.get("version", ""))}</p>'
        f'</header>\n<nav class="toc" aria-label="Contents"><ol>{toc}</ol></nav>\n'
        f"<main>{sections}</main>\n"
        f"<footer>{files_note}<p>Generated by {esc(meta.get('tool', 'burnout'))} {esc(meta.get('version', ''))} "
        f"from results.json (schema version {esc(r.get('schema_version', ''))}). MBI-GS item wording is licensed "
        "(Mind Garden) and is not reproduced.</p>"
        + ("<p><strong>SYNTHETIC DATA.</strong></p>" if ctx.synthetic else "")
        + "</footer>\n</body>\n</html>\n"
    )
