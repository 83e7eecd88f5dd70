"""The report's figures: matplotlib, vector first, deterministic, private by construction. (outcomes).

Mean subscale scores by assessment and response by subscale; the profiles' figures are
`burnout.report.figures.profiles`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from matplotlib.axes import Axes
from matplotlib.figure import Figure as MplFigure

from burnout.report.figures.style import (
    FONT_PT,
    INK,
    ONE_COLUMN_IN,
    SUBSCALE_COLOURS,
    SUBSCALE_MARKERS,
    _n_text,
    _new,
    _text_width_in,
    _tick_label,
)
from burnout.report.format import Ctx, get
from burnout.report.labels import RESPONDER_LABELS, SUBSCALE_LABELS, SUBSCALES

# ---------------------------------------------------------------------- trajectories


def _mean_ci(entry: Mapping[str, Any]) -> tuple[float, float] | None:
    """The published CI only: a figure never computes one from n and SD (privacy: a CI the
    publication layer withheld stays withheld)."""
    ci = entry.get("ci")
    if ci and all(v is not None for v in ci):
        return float(ci[0]), float(ci[1])
    return None


def _spread_labels(ys: list[float], heights: list[float]) -> list[float]:
    """Move label centres apart so labels of the given heights do not overlap, keeping their order."""
    order = sorted(range(len(ys)), key=lambda i: ys[i])
    placed = [ys[i] for i in order]
    hs = [heights[i] for i in order]
    for _ in range(200):
        moved = False
        for j in range(1, len(placed)):
            need = (hs[j] + hs[j - 1]) / 2
            if placed[j] - placed[j - 1] < need - 1e-12:
                push = (need - (placed[j] - placed[j - 1])) / 2
                placed[j - 1] -= push
                placed[j] += push
                moved = True
        if not moved:
            break
    out = [0.0] * len(ys)
    for rank, i in enumerate(order):
        out[i] = placed[rank]
    return out


def _trajectories(ctx: Ctx) -> tuple[MplFigure, str, str, str] | None:
    subs = ctx.results.get("subscales") or {}
    present = [s for s in SUBSCALES if get(subs, s, "timepoints")]
    if not present:
        return None
    tps = ctx.timepoints
    fig = _new(ONE_COLUMN_IN, 2.75)
    ax = fig.add_axes((0.15, 0.17, 0.55, 0.78))
    ends = _draw_mean_lines(ax, subs, present, tps)
    ax.set_xticks(range(len(tps)), [_tick_label(ctx, t) for t in tps])
    ax.set_xlim(-0.35, len(tps) - 0.65)
    ax.set_xlabel("Assessment (after session)")
    ax.set_ylabel("Mean score (0\u20136)")
    # the whole 0-6 scale: a truncated axis would make a change of half a point look like a collapse
    ax.set_ylim(0.0, 6.0)
    ax.set_yticks(range(7))
    ax.grid(axis="y", color="#DDDDDD", linewidth=0.5)
    ax.set_axisbelow(True)
    _label_line_ends(fig, ax, ends)
    title = "Mean MBI-GS subscale scores by assessment"
    n_text = _n_text(ctx)
    caption = (
        f"Means of completers{n_text} with 95% t confidence intervals (error bars); points are offset "
        "horizontally to avoid overlap. Lower Exhaustion and Cynicism and higher Professional Efficacy are better."
    )
    alt = "Line chart of mean Exhaustion, Cynicism and Professional Efficacy scores at each assessment with 95% confidence intervals."
    return fig, title, caption, alt


def _draw_mean_lines(
    ax: Axes, subs: Mapping[str, Any], present: list[str], tps: list[str]
) -> list[tuple[str, float, float]]:
    """Each subscale's means with their published intervals, offset apart; returns each line's last point."""
    offsets = dict(zip(present, [(i - (len(present) - 1) / 2) * 0.09 for i in range(len(present))], strict=True))
    ends = []
    for s in present:
        xs, ys, lo, hi = [], [], [], []
        for i, t in enumerate(tps):
            e = get(subs, s, "timepoints", t)
            if not e or e.get("mean") is None:
                continue
            ci = _mean_ci(e)
            xs.append(i + offsets[s])
            ys.append(e["mean"])
            lo.append(e["mean"] - ci[0] if ci else 0.0)
            hi.append(ci[1] - e["mean"] if ci else 0.0)
        if not xs:
            continue
        ax.errorbar(
            xs,
            ys,
            yerr=[lo, hi],
            color=SUBSCALE_COLOURS[s],
            marker=SUBSCALE_MARKERS[s],
            markersize=4,
            capsize=2,
            elinewidth=0.8,
            capthick=0.8,
            linewidth=1.2,
            markeredgecolor="white",
            markeredgewidth=0.4,
        )
        ends.append((s, xs[-1], ys[-1]))
    return ends


def _label_line_ends(fig: MplFigure, ax: Axes, ends: list[tuple[str, float, float]]) -> None:
    """Each subscale's name right of the axes at its last mean, spread so that no two labels overlap."""
    lo_y, hi_y = ax.get_ylim()
    line = (hi_y - lo_y) * (FONT_PT * 1.25 / 72) / (ax.get_position().height * fig.get_figheight())
    texts = [SUBSCALE_LABELS[s].replace("Professional ", "Professional\n") for s, _, _ in ends]
    label_ys = _spread_labels([y for _, _, y in ends], [line * (t.count("\n") + 1) + line * 0.3 for t in texts])
    for (s, x, _), ly, text in zip(ends, label_ys, texts, strict=True):
        ax.annotate(
            text,
            xy=(1.0, ly),
            xycoords=("axes fraction", "data"),
            xytext=(6, 0),
            textcoords="offset points",
            ha="left",
            va="center",
            color=SUBSCALE_COLOURS[s],
            fontweight="bold",
            annotation_clip=False,
            linespacing=1.05,
        )


# -------------------------------------------------------------------------- response


_ResponseRow = tuple[str, Mapping[str, Any] | None, str, str]  # label, Proportion (None: a header), colour, marker


def _response(ctx: Ctx) -> tuple[MplFigure, str, str, str] | None:
    rows = _response_rows(ctx.results)
    if not rows:
        return None
    row_h, top_in, bottom_in = 0.2, 0.22, 0.5
    height = top_in + bottom_in + row_h * len(rows)
    fig = _new(ONE_COLUMN_IN, height)
    left_in = 0.12 + max(
        _text_width_in([label for label, p, *_ in rows if p is None], weight="bold"),
        _text_width_in([label for label, p, *_ in rows if p is not None]),
    )
    ax = fig.add_axes(
        (left_in / ONE_COLUMN_IN, bottom_in / height, 1 - (left_in + 0.17) / ONE_COLUMN_IN, row_h * len(rows) / height)
    )
    _draw_response_rows(ax, ctx, rows)
    ax.set_yticks(range(len(rows)), [label for label, *_ in rows])
    for tick, (_, p, _, _) in zip(ax.get_yticklabels(), rows, strict=True):
        if p is None:
            tick.set_fontweight("bold")
    ax.set_ylim(len(rows) - 0.5, -0.6)
    ax.set_xlim(0, 100)
    ax.set_xticks([0, 20, 40, 60, 80, 100])
    ax.set_xlabel("Responders, % of completers (95% CI)")
    ax.grid(axis="x", color="#DDDDDD", linewidth=0.5)
    ax.set_axisbelow(True)
    ax.tick_params(axis="y", length=0)
    ax.spines["left"].set_visible(False)
    title = "Response by subscale and number of subscales"
    alt = "Dot plot of the percentage of completers responding on each subscale and on at least 1, at least 2 and all 3 subscales, with 95% confidence intervals."
    return fig, title, _response_caption(ctx), alt


def _response_rows(r: Mapping[str, Any]) -> list[_ResponseRow]:
    """A header, then response per subscale; a header, then responders by number of subscales ([] when neither)."""
    by_subscale = [
        (SUBSCALE_LABELS[s], p, SUBSCALE_COLOURS[s], "o")
        for s in SUBSCALES
        if (p := get(r, "subscales", s, "response"))
    ]
    resp = r.get("responders") or {}
    by_number = [(RESPONDER_LABELS[k], resp[k], INK, "D") for k in RESPONDER_LABELS if k in resp]
    rows: list[_ResponseRow] = []
    for header, group in (("By subscale", by_subscale), ("Number of subscales", by_number)):
        if group:
            rows.append((header, None, "", ""))
            rows.extend(group)
    return rows


def _draw_response_rows(ax: Axes, ctx: Ctx, rows: list[_ResponseRow]) -> None:
    """Each Proportion as a point with its interval (capped), or the mark of why it is hidden."""
    for i, (label, p, colour, marker) in enumerate(rows):
        if p is None:
            continue
        if p.get("rate") is None or p.get("suppressed"):
            ax.text(2, i, ctx.hidden_mark(p), va="center", ha="left", color="#555555", style="italic")
            continue
        ci = p.get("ci")
        if ci:
            lo, hi = 100 * ci[0], 100 * ci[1]
            ax.plot([lo, hi], [i, i], color=colour, linewidth=1.2, solid_capstyle="butt")
            ax.plot([lo, lo], [i - 0.22, i + 0.22], color=colour, linewidth=0.8)
            ax.plot([hi, hi], [i - 0.22, i + 0.22], color=colour, linewidth=0.8)
        ax.plot(
            [100 * p["rate"]],
            [i],
            marker=marker,
            color=colour,
            markersize=4.5,
            markeredgecolor="white",
            markeredgewidth=0.4,
        )


def _response_caption(ctx: Ctx) -> str:
    min_change = get(ctx.results, "protocol", "response", "min_change")
    rule = (
        f"an improvement of \u2265 {min_change:g} point"
        if isinstance(min_change, int | float)
        else "the plan's minimum change"
    )
    return (
        f"Completers{_n_text(ctx)} with {rule} from {ctx.tp(ctx.first).lower()} to {ctx.tp(ctx.last).lower()}; "
        "points are proportions, bars 95% Wilson score intervals. Subscales are compared with Cochran's Q and "
        "Holm-adjusted McNemar tests (see the table), not by interval overlap."
    )
