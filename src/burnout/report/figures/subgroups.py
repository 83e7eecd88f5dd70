"""The report's figures: matplotlib, vector first, deterministic, private by construction. (subgroups)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import matplotlib as mpl
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure as MplFigure
from matplotlib.patches import Patch, Rectangle

from burnout.report.figures.style import (
    FONT_PT,
    INK,
    OKABE_ITO,
    ONE_COLUMN_IN,
    SUPPRESSED_EDGE,
    SUPPRESSED_FACE,
    TWO_COLUMN_IN,
    _drawn_literally,
    _new,
    _text_width_in,
)
from burnout.report.format import Ctx, fmt_p, get, subgroup_label
from burnout.report.labels import OUTCOME_LABELS, SUBSCALES, VARIABLE_LABELS

# ------------------------------------------------------------------------- subgroups


def _subgroups(ctx: Ctx) -> tuple[MplFigure, str, str, str] | None:
    fig = _draw_subgroups(ctx, narrow=False)
    if fig is None:
        return None
    title = "Response by subgroup"
    caption = (
        "Percentage of completers responding within each subgroup level (squares, sized by subgroup size) with 95% "
        "Wilson intervals; dashed lines mark the whole completer cohort. The p value on each variable's row is its "
        f"heterogeneity test (not adjusted for multiplicity). {ctx.suppression_note}"
    )
    alt = "Forest plot of response rates by age band, sex, route and program pathway for each subscale and for response on at least one subscale."
    return fig, title, caption, alt


def _subgroups_narrow(ctx: Ctx) -> MplFigure | None:
    """The forest plot one column wide (phones): the four panels one under another, each with its labels."""
    return _draw_subgroups(ctx, narrow=True)


def _draw_subgroups(ctx: Ctx, *, narrow: bool) -> MplFigure | None:
    subgroups = ctx.results.get("subgroups") or {}
    if not subgroups:
        return None
    outcomes = [o for o in (*SUBSCALES, "at_least_1")]
    rows: list[tuple[str, str, Mapping[str, Any] | None, str]] = []  # kind, label, entry, variable
    for var, body in subgroups.items():
        rows.append(("header", VARIABLE_LABELS.get(var, var.replace("_", " ").capitalize()), None, var))
        for level, entry in body.items():
            if level == "heterogeneity" or not isinstance(entry, Mapping):
                continue
            n = entry.get("n")
            n_txt = "suppressed" if n is None else f"{n:,}"
            shown = subgroup_label(ctx.results, var, level)  # a merged level says what it holds
            rows.append(("level", _drawn_literally(f"{shown} ({n_txt})"), entry, var))
    n_rows = len(rows)
    row_h = 0.165
    top_in, bottom_in = 0.42, 0.45
    block_gap = 0.62  # narrow: between one panel's x axis and the next panel's title
    panels_h = row_h * n_rows
    width = ONE_COLUMN_IN if narrow else TWO_COLUMN_IN
    height = top_in + bottom_in + (len(outcomes) * panels_h + (len(outcomes) - 1) * block_gap if narrow else panels_h)
    fig = _new(width, height)
    label_in = max(
        _text_width_in([label for kind, label, _, _ in rows if kind == "level"]),
        _text_width_in([label for kind, label, _, _ in rows if kind == "header"], weight="bold"),
    )
    left, right, gap = (label_in + 0.12) / width, 0.985 if not narrow else 1 - 0.12 / width, 0.036
    panel_w = right - left if narrow else (right - left - gap * (len(outcomes) - 1)) / len(outcomes)
    ax0 = None
    labelled = []
    overall = {s: get(ctx.results, "subscales", s, "response", "rate") for s in SUBSCALES}
    overall["at_least_1"] = get(ctx.results, "responders", "at_least_1", "rate")
    for k, o in enumerate(outcomes):
        # not sharey: the panels only need the same limits, and shared axes would build every
        # row's tick (and measure every label) in all four panels
        if narrow:
            bottom = bottom_in + (len(outcomes) - 1 - k) * (panels_h + block_gap)
            ax = fig.add_axes((left, bottom / height, panel_w, panels_h / height))
            labelled.append(ax)
        else:
            ax = fig.add_axes((left + k * (panel_w + gap), bottom_in / height, panel_w, panels_h / height))
        ax0 = ax0 or ax
        ax.set_xlim(0, 100)
        ax.set_ylim(n_rows - 0.5, -0.5)
        ax.set_xticks([0, 50, 100])
        ax.set_xticks([25, 75], minor=True)
        ax.tick_params(axis="x", which="minor", length=2)
        ax.grid(axis="x", which="both", color="#E3E3E3", linewidth=0.5)
        ax.set_axisbelow(True)
        ax.spines["left"].set_visible(False)
        ax.tick_params(axis="y", length=0)
        # placed like set_title(pad=4) but without the title auto-positioning, which measures every tick label
        ax.annotate(
            OUTCOME_LABELS[o],
            xy=(0.5, 1.0),
            xycoords="axes fraction",
            xytext=(0, 4),
            textcoords="offset points",
            ha="center",
            va="baseline",
            fontsize=FONT_PT,
            fontweight=mpl.rcParams["axes.titleweight"],
            annotation_clip=False,
        )
        ref = overall.get(o)
        if ref is not None:
            ax.axvline(100 * ref, color=OKABE_ITO["grey"], linestyle=(0, (3, 2)), linewidth=0.8)
        ci_segments: list[list[tuple[float, float]]] = []
        xs, ys, sizes = [], [], []
        for i, (kind, _label, entry, var) in enumerate(rows):
            if kind == "header":
                h = get(subgroups, var, "heterogeneity", o) or {}
                p_txt = fmt_p(h.get("p"), ctx)
                if p_txt != "\u2013":
                    ax.text(
                        98,
                        i,
                        f"p {'' if p_txt.startswith('<') else '= '}{p_txt}",
                        ha="right",
                        va="center",
                        style="italic",
                        bbox={"boxstyle": "square,pad=0.1", "facecolor": "white", "edgecolor": "none"},
                    )
                continue
            p = (entry or {}).get(o) or {}
            if p.get("rate") is None:
                ax.text(
                    3,
                    i,
                    "suppressed",
                    ha="left",
                    va="center",
                    color="#555555",
                    style="italic",
                    bbox={"boxstyle": "square,pad=0.1", "facecolor": "white", "edgecolor": "none"},
                )
                continue
            ci = p.get("ci")
            if ci:
                ci_segments.append([(100 * ci[0], i), (100 * ci[1], i)])
            size = 3.0 + 3.0 * math.sqrt(
                min(1.0, (p.get("n") or 0) / max(1, get(ctx.results, "flow", "completers") or 1))
            )
            xs.append(100 * p["rate"])
            ys.append(i)
            sizes.append(size * size)  # scatter sizes are areas (points squared); the square's side is `size`
        # one artist per panel for all intervals and one for all squares (not one per row): a quarter of the drawing time
        if ci_segments:
            ax.add_collection(
                LineCollection(ci_segments, colors=INK, linewidths=0.9, capstyle="butt", zorder=2), autolim=False
            )
        if xs:
            ax.scatter(xs, ys, s=sizes, marker="s", color=INK, linewidths=0, zorder=2.1)
        if k and not narrow:
            ax.set_yticks([])
    for ax in labelled or [ax0]:  # wide: the first panel's labels serve all four
        ax.set_yticks(range(n_rows), [label for _kind, label, _, _ in rows])
        for tick, (kind, *_rest) in zip(ax.get_yticklabels(), rows, strict=True):
            if kind == "header":
                tick.set_fontweight("bold")
    x_label_at = 0.5 if narrow else (left + right) / 2  # narrow: the label is wider than the panel
    fig.text(x_label_at, 0.06 / height * 1.2, "Responders, % of subgroup (95% Wilson CI)", ha="center", va="bottom")
    fig.text(0.01, 1 - 0.12 / height, "Subgroup (n)", ha="left", va="top", fontweight="bold")
    return fig


# ------------------------------------------------------------------------------ reach


def _reach(ctx: Ctx) -> tuple[MplFigure, str, str, str] | None:
    """How far patients got: the share of those who met the threshold attending at least k sessions."""
    reach = get(ctx.results, "attrition", "reach")
    if not reach:
        return None
    points = sorted((int(k), p) for k, p in reach.items() if str(k).isdigit() and isinstance(p, Mapping))
    if not points:
        return None
    met = get(ctx.results, "flow", "threshold_met")
    last = max(j for j, _ in points)
    colour = OKABE_ITO["blue"]
    width, height = ONE_COLUMN_IN, 2.55
    fig = _new(width, height)
    left_in = 0.5
    ax = fig.add_axes((left_in / width, 0.5 / height, (width - left_in - 0.12) / width, (height - 0.62) / height))
    # the curve starts at 100%: everyone who met the threshold "attended at least 0 sessions"
    xs = [0.0] + [float(j) for j, _ in points]
    ys = [100.0] + [100 * p["rate"] if p.get("rate") is not None else math.nan for _, p in points]
    ax.step([*xs, last + 0.5], [*ys, ys[-1]], where="post", color=colour, linewidth=1.2)
    hidden, shown, lo, hi = [], [], [], []
    for j, p in points:
        if p.get("rate") is None:
            hidden.append(j)
            ax.add_patch(
                Rectangle(
                    (j - 0.22, 0),
                    0.44,
                    100,
                    facecolor=SUPPRESSED_FACE,
                    edgecolor=SUPPRESSED_EDGE,
                    hatch="////",
                    linewidth=0.4,
                )
            )
            continue
        y = 100 * p["rate"]
        ci = p.get("ci") or [p["rate"], p["rate"]]
        shown.append((j, y))
        lo.append(y - 100 * ci[0])
        hi.append(100 * ci[1] - y)
        ax.annotate(
            f"{y:.1f}",
            xy=(j, y),
            xytext=(3, 3),
            textcoords="offset points",
            ha="left",
            va="bottom",
            fontsize=FONT_PT - 1,
            color=INK,
        )
    if shown:  # one artist for every point and interval
        ax.errorbar(
            [j for j, _ in shown],
            [y for _, y in shown],
            yerr=[lo, hi],
            color=colour,
            capsize=2,
            elinewidth=0.8,
            capthick=0.8,
            linestyle="none",
            marker="o",
            markersize=4,
            markeredgecolor="white",
            markeredgewidth=0.4,
        )
    completion = get(ctx.results, "flow", "completion") or {}
    if completion.get("rate") is not None:
        c = 100 * completion["rate"]
        ax.axhline(c, color=OKABE_ITO["grey"], linestyle=(0, (3, 2)), linewidth=0.8)
        ax.text(
            last + 0.5, c - 2.5, f"Completers {c:.1f}%", ha="right", va="top", fontsize=FONT_PT - 1, color="#555555"
        )
    ax.set_xlim(-0.3, last + 0.5)
    ax.set_ylim(0, 105)
    ax.set_xticks(range(0, last + 1))
    ax.set_yticks([0, 20, 40, 60, 80, 100])
    ax.set_xlabel("Sessions attended (at least)")
    ax.set_ylabel("Patients, % (95% CI)")
    ax.grid(axis="y", color="#DDDDDD", linewidth=0.5)
    ax.set_axisbelow(True)
    if hidden:
        ax.legend(
            handles=[
                Patch(
                    facecolor=SUPPRESSED_FACE, edgecolor=SUPPRESSED_EDGE, hatch="////", label=f"Suppressed (<{ctx.k})"
                )
            ],
            loc="upper right",
            handlelength=1.2,
            handleheight=1.0,
            borderaxespad=0.2,
        )
    title = "How far patients got"
    n_txt = "" if met is None else f" ({met:,})"
    caption = (
        f"Share of the patients who met the burnout threshold at baseline{n_txt} who attended at least each number of "
        f"the {ctx.sessions or last} sessions (step curve; points are the proportions, bars 95% Wilson score intervals). "
        "The curve starts at 100% by definition. The dashed line marks the completers, who also had every "
        "assessment scored; the gap between it and the last step is patients who attended every session but missed "
        "an assessment."
    )
    if hidden:
        caption += f" Grey hatched sessions are suppressed; their share is not shown. {ctx.suppression_note}"
    alt = "Step curve of the percentage of patients who met the burnout threshold attending at least each number of sessions, with 95% confidence intervals."
    return fig, title, caption, alt
