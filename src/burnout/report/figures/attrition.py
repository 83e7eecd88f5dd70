"""The report's figures: matplotlib, vector first, deterministic, private by construction. (attrition).

How far patients got: the share of those who met the threshold attending at least each
number of sessions, as a step curve with the published Proportions and their intervals.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from matplotlib.axes import Axes
from matplotlib.figure import Figure as MplFigure
from matplotlib.patches import Patch, Rectangle

from burnout.report.figures.style import (
    FONT_PT,
    INK,
    OKABE_ITO,
    ONE_COLUMN_IN,
    SUPPRESSED_EDGE,
    SUPPRESSED_FACE,
    _new,
)
from burnout.report.format import Ctx, get
from burnout.report.primary import threshold_words

_REACH_COLOUR = OKABE_ITO["blue"]


def _reach(ctx: Ctx) -> tuple[MplFigure, str, str, str] | None:
    """How far patients got: the share of those who met the threshold attending at least k sessions."""
    reach = get(ctx.results, "attrition", "reach")
    if not reach:
        return None
    points = sorted((int(k), p) for k, p in reach.items() if str(k).isdigit() and isinstance(p, Mapping))
    if not points:
        return None
    last = max(j for j, _ in points)
    width, height = ONE_COLUMN_IN, 2.55
    fig = _new(width, height)
    left_in = 0.5
    ax = fig.add_axes((left_in / width, 0.5 / height, (width - left_in - 0.12) / width, (height - 0.62) / height))
    # the curve starts at 100%: everyone who met the threshold "attended at least 0 sessions"
    xs = [0.0] + [float(j) for j, _ in points]
    ys = [100.0] + [100 * p["rate"] if p.get("rate") is not None else math.nan for _, p in points]
    ax.step([*xs, last + 0.5], [*ys, ys[-1]], where="post", color=_REACH_COLOUR, linewidth=1.2)
    hidden = _draw_reach_points(ax, points)
    _draw_completers_line(ax, ctx, last)
    _style_reach_axes(ax, last)
    if hidden:
        suppressed = Patch(
            facecolor=SUPPRESSED_FACE, edgecolor=SUPPRESSED_EDGE, hatch="////", label=f"Suppressed (<{ctx.k})"
        )
        ax.legend(handles=[suppressed], loc="upper right", handlelength=1.2, handleheight=1.0, borderaxespad=0.2)
    title = "How far patients got"
    alt = f"Step curve of the percentage of patients who met the {threshold_words(ctx.results)} attending at least each number of sessions, with 95% confidence intervals."
    return fig, title, _reach_caption(ctx, last, hidden=bool(hidden)), alt


def _draw_reach_points(ax: Axes, points: list[tuple[int, Mapping[str, Any]]]) -> list[int]:
    """Each session's Proportion with its interval and value, or a grey hatched bar when it is hidden;
    returns the hidden sessions."""
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
            color=_REACH_COLOUR,
            capsize=2,
            elinewidth=0.8,
            capthick=0.8,
            linestyle="none",
            marker="o",
            markersize=4,
            markeredgecolor="white",
            markeredgewidth=0.4,
        )
    return hidden


def _draw_completers_line(ax: Axes, ctx: Ctx, last: int) -> None:
    """The completion rate as a dashed line: completers also had every assessment scored."""
    completion = get(ctx.results, "flow", "completion") or {}
    if completion.get("rate") is None:
        return
    c = 100 * completion["rate"]
    ax.axhline(c, color=OKABE_ITO["grey"], linestyle=(0, (3, 2)), linewidth=0.8)
    ax.text(last + 0.5, c - 2.5, f"Completers {c:.1f}%", ha="right", va="top", fontsize=FONT_PT - 1, color="#555555")


def _style_reach_axes(ax: Axes, last: int) -> None:
    ax.set_xlim(-0.3, last + 0.5)
    ax.set_ylim(0, 105)
    ax.set_xticks(range(0, last + 1))
    ax.set_yticks([0, 20, 40, 60, 80, 100])
    ax.set_xlabel("Sessions attended (at least)")
    ax.set_ylabel("Patients, % (95% CI)")
    ax.grid(axis="y", color="#DDDDDD", linewidth=0.5)
    ax.set_axisbelow(True)


def _reach_caption(ctx: Ctx, last: int, *, hidden: bool) -> str:
    met = get(ctx.results, "flow", "threshold_met")
    n_txt = "" if met is None else f" ({met:,})"
    caption = (
        f"Share of the patients who met the {threshold_words(ctx.results)} at baseline{n_txt} who attended at least each number of "
        f"the {ctx.sessions or last} sessions (step curve; points are the proportions, bars 95% Wilson score intervals). "
        "The curve starts at 100% by definition. The dashed line marks the completers, who also had every "
        "assessment scored; the gap between it and the last step is patients who attended every session but missed "
        "an assessment."
    )
    if hidden:
        caption += f" Grey hatched sessions are suppressed; their share is not shown. {ctx.suppression_note}"
    return caption
