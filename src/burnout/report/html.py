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

from burnout.report.beyond_completers import beyond_completers_html
from burnout.report.figures import Figure
from burnout.report.format import Ctx, esc
from burnout.report.methods import methods_paragraphs
from burnout.report.primary import (
    instrument_label,
    is_mbi_primary,
    primary_name,
    primary_outcome_intro,
    threshold_words,
)
from burnout.report.prose import limitations, summary_points
from burnout.report.tables import Table, to_gt_html

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


class _Page:
    """The tables and figures as the page places them: numbered in the order they appear."""

    def __init__(self, ctx: Ctx, figures: dict[str, Figure], tables: dict[str, Table]) -> None:
        self.ctx = ctx
        self._figures = figures
        self._tables = tables
        self.tables_placed = 0
        self.figures_placed = 0
        self.table_number: dict[str, int] = {}  # table key -> its number, for cross-references

    def table(self, key: str, *, numbered: bool = True) -> str:
        """The table's HTML, numbered next unless ``numbered`` is false ("" when absent or empty)."""
        t = self._tables.get(key)
        if t is None or not t.html:
            return ""
        n = None
        if numbered:
            self.tables_placed += 1
            n = self.tables_placed
            self.table_number[key] = n
        width = "narrow" if len(t.columns) <= 4 and key != "analysis_plan" else "full"
        return f'<div class="table-wrap {width}" id="table-{esc(key)}">{to_gt_html(t, self.ctx, n)}</div>'

    def figure(self, key: str) -> str:
        """The figure (and its one-column version when it has one) with its numbered caption ("" when absent)."""
        f = self._figures.get(key)
        if f is None:
            return ""
        self.figures_placed += 1
        number = self.figures_placed
        size = "narrow" if f.width_in <= 4 else "medium" if f.width_in <= 6.3 else "wide"
        caption = esc(f.caption).replace("SYNTHETIC DATA:", '<strong class="synthetic">SYNTHETIC DATA:</strong>')
        return (
            f'<figure class="{size}" id="figure-{esc(key)}">'
            f'<div class="fig-body{" has-narrow" if f.narrow_svg else ""}">{inline_svg(f.svg, f"f{number}-", label=f.alt)}'
            + (inline_svg(f.narrow_svg, f"f{number}n-", label=f.alt) if f.narrow_svg else "")
            + "</div>"
            f"<figcaption><strong>Figure {number}.</strong> <strong>{esc(f.title)}.</strong> {caption}</figcaption>"
            "</figure>"
        )


_Section = tuple[str, str, str]  # (id, heading, body HTML); a section with an empty body is left out


def render_html(ctx: Ctx, figures: dict[str, Figure], tables: dict[str, Table]) -> str:
    """The whole page as one string."""
    page = _Page(ctx, figures, tables)
    sections = _reference_study_sections(page) + _beyond_reference_sections(page)
    sections.append(("limitations", "Limitations", _list("limitations", limitations(ctx))))
    return _document(ctx, [s for s in sections if s[2]])


_PLAN_INTRO: Final[str] = (
    "<p>The analysis is fully determined by the cohort data and this plan. Re-running the same tool version on "
    "the same files with the same plan gives the same results. The plan's sha256 identifies it; the data "
    "fingerprint identifies the validated data, the same from CSV, Parquet or PostgreSQL.</p>"
)
_BASELINE_INTRO: Final[str] = (
    "<p>Completers are compared with those who met the threshold but did not complete, to show how the "
    "analysed cohort may differ from everyone who started.</p>"
)


def _reference_study_sections(page: _Page) -> list[_Section]:
    """The sections that mirror the reference study, in its order (tables and figures numbered as placed)."""
    ctx = page.ctx
    sections = [
        ("summary", "Key findings", _list("findings", summary_points(ctx))),
        ("plan", "Analysis plan", _PLAN_INTRO + page.table("analysis_plan", numbered=False)),
        (
            "methods",
            "Methods",
            '<div class="methods">' + "".join(f"<p>{p}</p>" for p in methods_paragraphs(ctx)) + "</div>",
        ),
        ("flow", "Participant flow", page.figure("flow")),
    ]
    table1 = page.table("baseline_characteristics")  # early change sits under Table 1, only when it is shown
    sections.append(
        (
            "baseline",
            "Baseline characteristics",
            _BASELINE_INTRO + table1 + page.table("early_change") if table1 else "",
        )
    )
    if not is_mbi_primary(ctx.results):  # the primary instrument's paired analysis is the main outcome
        name = instrument_label(ctx.results, primary_name(ctx.results))
        sections.append(("primary-outcome", f"Main outcome: {name}", _primary_outcome(page)))
    sections.append(("scores", "Scores by session", page.figure("trajectories") + page.table("trajectories")))
    sections.append(("effect-sizes", "Effect sizes", page.table("effect_sizes") + page.table("plateau")))
    sections.append(
        ("response", "Response", page.table("response") + page.figure("response") + page.table("response_comparison"))
    )
    sections.append(("below-threshold", "Below the burnout threshold over time", page.table("below_threshold")))
    sections.append(
        ("profiles", "Burnout profiles", page.figure("profiles") + page.table("profiles") + page.figure("transitions"))
    )
    sections.append(("severe-profile", "Resolution of the Burnout profile", page.table("burnout_profile_resolution")))
    sections.append(("safety", "Side effects and serious adverse events", page.table("side_effects")))
    sections.append(("subgroups", "Subgroups", page.figure("subgroups") + page.table("subgroups")))
    return sections


def _primary_outcome(page: _Page) -> str:
    """The instruments table as the main outcome, under the sentence naming the instrument and its rule."""
    table = page.table("instruments")
    return primary_outcome_intro(page.ctx) + table if table else ""


def _beyond_reference_sections(page: _Page) -> list[_Section]:
    """The analyses beyond the reference study: everyone who met the threshold, PHQ-9, instruments, reliability."""
    side_by_side = page.table("beyond_completers")
    model_tables = "".join(
        page.table(k) for k in ("itt_mmrm", "itt_mmrm_tipping", "itt_tipping_point", "itt_mixed_model")
    )
    attrition = page.figure("reach") + page.table("completion_by_subgroup")
    beyond = beyond_completers_html(
        page.ctx,
        side_by_side=side_by_side,
        model_tables=model_tables,
        attrition=attrition,
        table1_number=page.table_number.get("baseline_characteristics"),
    )
    return [
        ("beyond-completers", "Beyond completers", beyond),
        ("phq9", "Depressive symptoms (PHQ-9)", page.table("phq9") + page.table("phq9_adjusted")),
        # only when the plan names its instruments (issue 14)
        # (the main outcome instead, placed above, when the primary instrument is not the MBI-GS)
        (
            "instruments",
            "Instruments of the plan",
            page.table("instruments") if is_mbi_primary(page.ctx.results) else "",
        ),
        (
            "reliable-change",
            "Reliable change and reliability",
            page.table("reliable_change") + page.table("reliability") + page.table("measurement_invariance"),
        ),
        ("regression-to-mean", "Regression to the mean", page.table("regression_to_mean")),
    ]


def _list(css_class: str, items: list[str]) -> str:
    return f'<ul class="{css_class}">' + "".join(f"<li>{x}</li>" for x in items) + "</ul>"


_FILES_NOTE: Final[str] = (
    '<p class="note">Every figure is also in <code>figures/</code> (SVG and PNG) and every table in '
    "<code>tables/</code> (CSV, unrounded); <code>results.json</code> holds every number.</p>"
)
_SYNTHETIC_BANNER: Final[str] = (
    '<div class="banner" role="note">SYNTHETIC DATA <span>\u2013 every number in this report comes from a '
    "simulated cohort, not from real patients. Do not cite it as evidence.</span></div>"
)


def _document(ctx: Ctx, sections: list[_Section]) -> str:
    """The page around the sections: head (CSP, stylesheet), banner, header, contents, footer."""
    r = ctx.results
    protocol = r.get("protocol") or {}
    meta = r.get("meta") or {}
    synthetic_prefix = "SYNTHETIC DATA \u2013 " if ctx.synthetic else ""
    page_title = f"{synthetic_prefix}{ctx.title}: outcomes report"
    toc = "".join(f'<li><a href="#{pid}">{esc(h)}</a></li>' for pid, h, _ in sections)
    body = "".join(f'<section id="{pid}"><h2>{esc(h)}</h2>{b}</section>' for pid, h, b in sections)
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="referrer" content="no-referrer">\n'
        f"<title>{esc(page_title)}</title>\n"
        f"<style>\n{_css()}</style>\n</head>\n<body>\n"
        f"{_SYNTHETIC_BANNER if ctx.synthetic else ''}"
        '<header><div class="kicker">Real-world outcomes report</div>'
        f"<h1>{esc(ctx.title)}</h1>"
        f'<p class="meta">Observational cohort \u00b7 {esc(ctx.flow_count("completers"))} completers of '
        f"{esc(ctx.flow_count('threshold_met'))} who met the {threshold_words(r)} \u00b7 plan sha256 "
        f"<code>{esc(str(protocol.get('sha256', ''))[:12])}</code> \u00b7 "
        f"{esc(meta.get('tool', 'burnout'))} {esc(meta.get('version', ''))}</p>"
        f'</header>\n<nav class="toc" aria-label="Contents"><ol>{toc}</ol></nav>\n'
        f"<main>{body}</main>\n"
        f"<footer>{_FILES_NOTE}<p>Generated by {esc(meta.get('tool', 'burnout'))} {esc(meta.get('version', ''))} "
        f"from results.json (schema version {esc(r.get('schema_version', ''))}). "
        + (
            "MBI-GS item wording is licensed (Mind Garden) and is not reproduced."
            if is_mbi_primary(r)
            else "Item wording is not reproduced."
        )
        + "</p>"
        + ("<p><strong>SYNTHETIC DATA.</strong></p>" if ctx.synthetic else "")
        + "</footer>\n</body>\n</html>\n"
    )
