"""The report's figures: matplotlib, vector first, deterministic, private by construction. (outcomes)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import matplotlib as mpl
from matplotlib.colors import LinearSegmentedColormap
from matplotlib.figure import Figure as MplFigure
from matplotlib.patches import Patch, Rectangle

from burnout.report.figures.style import (
    FONT_PT,
    INK,
    OKABE_ITO,
    ONE_COLUMN_IN,
    PROFILE_COLOURS,
    SUBSCALE_COLOURS,
    SUBSCALE_MARKERS,
    SUPPRESSED_EDGE,
    SUPPRESSED_FACE,
    _luminance,
    _new,
    _text_width_in,
    _tick_label,
)
from burnout.report.format import Ctx, get
from burnout.report.labels import PROFILE_LABELS, PROFILES, RESPONDER_LABELS, SUBSCALE_LABELS, SUBSCALES

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
    ax.set_xticks(range(len(tps)), [_tick_label(ctx, t) for t in tps])
    ax.set_xlim(-0.35, len(tps) - 0.65)
    ax.set_xlabel("Assessment (after session)")
    ax.set_ylabel("Mean score (0\u20136)")
    # the whole 0-6 scale: a truncated axis would make a change of half a point look like a collapse
    ax.set_ylim(0.0, 6.0)
    ax.set_yticks(range(7))
    ax.grid(axis="y", color="#DDDDDD", linewidth=0.5)
    ax.set_axisbelow(True)
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
    title = "Mean MBI-GS subscale scores by assessment"
    n_text = _n_text(ctx)
    caption = (
        f"Means of completers{n_text} with 95% t confidence intervals (error bars); points are offset "
        "horizontally to avoid overlap. Lower Exhaustion and Cynicism and higher Professional Efficacy are better."
    )
    alt = "Line chart of mean Exhaustion, Cynicism and Professional Efficacy scores at each assessment with 95% confidence intervals."
    return fig, title, caption, alt


def _n_text(ctx: Ctx) -> str:
    c = get(ctx.results, "flow", "completers")
    return "" if c is None else f" (n = {c:,})"


# -------------------------------------------------------------------------- response


def _response(ctx: Ctx) -> tuple[MplFigure, str, str, str] | None:
    r = ctx.results
    by_subscale = [
        (SUBSCALE_LABELS[s], p, SUBSCALE_COLOURS[s], "o")
        for s in SUBSCALES
        if (p := get(r, "subscales", s, "response"))
    ]
    resp = r.get("responders") or {}
    by_number = [(RESPONDER_LABELS[k], resp[k], INK, "D") for k in RESPONDER_LABELS if k in resp]
    if not by_subscale and not by_number:
        return None
    rows: list[tuple[str, Mapping[str, Any] | None, str, str]] = []
    for header, group in (("By subscale", by_subscale), ("Number of subscales", by_number)):
        if group:
            rows.append((header, None, "", ""))
            rows.extend(group)
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
    min_change = get(r, "protocol", "response", "min_change")
    rule = (
        f"an improvement of \u2265 {min_change:g} point"
        if isinstance(min_change, int | float)
        else "the plan's minimum change"
    )
    title = "Response by subscale and number of subscales"
    caption = (
        f"Completers{_n_text(ctx)} with {rule} from {ctx.tp(ctx.first).lower()} to {ctx.tp(ctx.last).lower()}; "
        "points are proportions, bars 95% Wilson score intervals. Subscales are compared with Cochran's Q and "
        "Holm-adjusted McNemar tests (see the table), not by interval overlap."
    )
    alt = "Dot plot of the percentage of completers responding on each subscale and on at least 1, at least 2 and all 3 subscales, with 95% confidence intervals."
    return fig, title, caption, alt


# -------------------------------------------------------------------------- profiles


def _profiles(ctx: Ctx) -> tuple[MplFigure, str, str, str] | None:
    prof = ctx.results.get("profiles") or {}
    tps = [t for t in ctx.timepoints if isinstance(prof.get(t), Mapping)]
    if not tps:
        return None
    height = 3.35
    fig = _new(ONE_COLUMN_IN, height)
    ax = fig.add_axes((0.15, 1.05 / height, 0.82, 2.05 / height))
    any_suppressed = False
    for i, t in enumerate(tps):
        bottom = 0.0
        for p in PROFILES:
            cell = prof[t].get(p) or {}
            rate = cell.get("rate")
            if rate is None:
                any_suppressed = True
                continue
            h = 100 * rate
            colour = PROFILE_COLOURS[p]
            ax.bar(i, h, bottom=bottom, width=0.62, color=colour, edgecolor="white", linewidth=0.5)
            if h >= 6:
                ax.text(
                    i,
                    bottom + h / 2,
                    f"{h:.1f}",
                    ha="center",
                    va="center",
                    color="white" if _luminance(colour) < 0.45 else INK,
                )
            bottom += h
        if bottom < 99.95:
            # the remainder is n minus the shown counts: the sum of the hidden cells, never one of them
            any_suppressed = True
            ax.bar(
                i,
                100 - bottom,
                bottom=bottom,
                width=0.62,
                color=SUPPRESSED_FACE,
                edgecolor=SUPPRESSED_EDGE,
                hatch="////",
                linewidth=0.5,
            )
    ax.set_xticks(range(len(tps)), [_tick_label(ctx, t) for t in tps])
    ax.set_xlabel("Assessment (after session)")
    ax.set_ylabel("% of completers")
    ax.set_ylim(0, 100)
    ax.set_xlim(-0.5, len(tps) - 0.5)
    handles = [Patch(facecolor=PROFILE_COLOURS[p], edgecolor="white", label=PROFILE_LABELS[p]) for p in PROFILES]
    if any_suppressed:
        handles.append(
            Patch(facecolor=SUPPRESSED_FACE, edgecolor=SUPPRESSED_EDGE, hatch="////", label=f"Suppressed (<{ctx.k})")
        )
    ax.legend(
        handles=handles,
        loc="upper center",
        bbox_to_anchor=(0.45, -0.24),
        ncol=3,
        handlelength=1.2,
        handleheight=1.0,
        borderaxespad=0,
        columnspacing=1.0,
        handletextpad=0.5,
    )
    title = "Burnout profiles at each assessment"
    caption = (
        f"Percentage of completers{_n_text(ctx)} in each profile (after Leiter & Maslach, 2016), stacked from "
        "Burnout (bottom) to Engaged (top); numbers in the bars are percentages. Profiles are defined by which subscales are at or beyond the plan's critical "
        "boundaries (see Methods)."
    )
    if any_suppressed:
        caption += (
            " Grey hatched segments hold the profiles whose counts are suppressed, combined (their total is the "
            f"number of completers minus the counts shown); individual sizes are not shown. {ctx.suppression_note}"
        )
    alt = "Stacked bar chart of the share of completers in each burnout profile at each assessment."
    return fig, title, caption, alt


def _transitions(ctx: Ctx) -> tuple[MplFigure, str, str, str] | None:
    tr = get(ctx.results, "profiles", "transitions")
    if not tr or not tr.get("counts"):
        return None
    counts = tr["counts"]
    rows = [p for p in PROFILES if p in counts]
    cols = [p for p in PROFILES if any(p in counts[r] for r in rows)]
    first, last = str(tr.get("from", ctx.first)), str(tr.get("to", ctx.last))
    known = [v for r in rows for c in cols if (v := counts[r].get(c)) is not None]
    vmax = max(known) if known else 1
    cmap = LinearSegmentedColormap.from_list("okabe_blue", ["#FFFFFF", OKABE_ITO["blue"]])
    prof_first = get(ctx.results, "profiles", first) or {}
    ylabels = []
    for r in rows:
        c = get(prof_first, r, "count")
        ylabels.append(f"{PROFILE_LABELS[r]} ({'suppressed' if c is None else f'{c:,}'})")
    left_in, bottom_in, top_in = _text_width_in(ylabels) + 0.3, 0.95, 0.25
    side = min(2.0, ONE_COLUMN_IN - left_in - 0.08)  # inches: the matrix is square
    width, height = ONE_COLUMN_IN, bottom_in + side + top_in
    fig = _new(width, height)
    ax = fig.add_axes((left_in / width, bottom_in / height, side / width, side / height))
    for i, r in enumerate(rows):
        for j, c in enumerate(cols):
            v = counts[r].get(c)
            if v is None:
                ax.add_patch(
                    Rectangle(
                        (j - 0.5, i - 0.5),
                        1,
                        1,
                        facecolor=SUPPRESSED_FACE,
                        edgecolor=SUPPRESSED_EDGE,
                        hatch="////",
                        linewidth=0.4,
                    )
                )
                ax.text(
                    j,
                    i,
                    f"<{ctx.k}",
                    ha="center",
                    va="center",
                    color=INK,
                    bbox={"boxstyle": "square,pad=0.12", "facecolor": SUPPRESSED_FACE, "edgecolor": "none"},
                )
                continue
            level = 0.08 + 0.92 * (v / vmax) if vmax else 0.0
            face = cmap(level if v else 0.0)
            ax.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, facecolor=face, edgecolor="white", linewidth=0.8))
            dark = _luminance(mpl.colors.to_hex(face)) < 0.5
            ax.text(j, i, f"{v:,}", ha="center", va="center", color="white" if dark else INK)
    for i, r in enumerate(rows):
        if r in cols:
            j = cols.index(r)
            ax.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, facecolor="none", edgecolor=INK, linewidth=1.0))
    ax.set_xlim(-0.5, len(cols) - 0.5)
    ax.set_ylim(len(rows) - 0.5, -0.5)
    ax.set_yticks(range(len(rows)), ylabels)
    ax.set_xticks(range(len(cols)), [PROFILE_LABELS[c] for c in cols], rotation=40, ha="right", rotation_mode="anchor")
    ax.xaxis.set_ticks_position("bottom")
    ax.tick_params(length=0)
    for side in ("left", "bottom"):
        ax.spines[side].set_visible(False)
    ax.set_xlabel(f"Profile {ctx.tp(last).lower()}")
    ax.set_ylabel(f"Profile at {ctx.tp(first).lower()} (n)", labelpad=2)
    title = f"Profile transitions, {ctx.tp(first).lower()} to {ctx.tp(last).lower()}"
    caption = (
        f"Number of completers moving from each profile at {ctx.tp(first).lower()} (rows) to each profile "
        f"{ctx.tp(last).lower()} (columns); shading is proportional to the count and outlined cells are "
        f"unchanged profiles; row labels give the profile's size at {ctx.tp(first).lower()}. Grey hatched cells "
        f"\u201c<{ctx.k}\u201d are suppressed: a count of 1 to {ctx.k - 1} patients, or a count hidden so that such a "
        "count cannot be recovered from the totals (complementary suppression)."
    )
    alt = "Heat map of the number of completers moving between burnout profiles from baseline to the last assessment."
    return fig, title, caption, alt
