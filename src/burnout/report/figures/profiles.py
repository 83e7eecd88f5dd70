"""The report's figures: matplotlib, vector first, deterministic, private by construction. (profiles).

Burnout profiles (after Leiter & Maslach, 2016): their shares at each assessment, and
the moves between them from the first assessment to the last.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import matplotlib as mpl
from matplotlib.axes import Axes
from matplotlib.colors import LinearSegmentedColormap
from matplotlib.figure import Figure as MplFigure
from matplotlib.patches import Patch, Rectangle

from burnout.report.figures.style import (
    INK,
    OKABE_ITO,
    ONE_COLUMN_IN,
    PROFILE_COLOURS,
    SUPPRESSED_EDGE,
    SUPPRESSED_FACE,
    _luminance,
    _n_text,
    _new,
    _text_width_in,
    _tick_label,
)
from burnout.report.format import Ctx, get
from burnout.report.labels import PROFILE_LABELS, PROFILES


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
        any_suppressed = _draw_profile_bar(ax, i, prof[t]) or any_suppressed
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
    alt = "Stacked bar chart of the share of completers in each burnout profile at each assessment."
    return fig, title, _profiles_caption(ctx, any_suppressed=any_suppressed), alt


def _draw_profile_bar(ax: Axes, i: int, shares: Mapping[str, Any]) -> bool:
    """One assessment's profiles stacked at x = ``i``, the hidden ones as one grey hatched remainder;
    returns whether any profile was hidden."""
    any_suppressed = False
    bottom = 0.0
    for p in PROFILES:
        rate = (shares.get(p) or {}).get("rate")
        if rate is None:
            any_suppressed = True
            continue
        h = 100 * rate
        colour = PROFILE_COLOURS[p]
        ax.bar(i, h, bottom=bottom, width=0.62, color=colour, edgecolor="white", linewidth=0.5)
        if h >= 6:
            text_colour = "white" if _luminance(colour) < 0.45 else INK
            ax.text(i, bottom + h / 2, f"{h:.1f}", ha="center", va="center", color=text_colour)
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
    return any_suppressed


def _profiles_caption(ctx: Ctx, *, any_suppressed: bool) -> str:
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
    return caption


def _transitions(ctx: Ctx) -> tuple[MplFigure, str, str, str] | None:
    tr = get(ctx.results, "profiles", "transitions")
    if not tr or not tr.get("counts"):
        return None
    counts = tr["counts"]
    rows = [p for p in PROFILES if p in counts]
    cols = [p for p in PROFILES if any(p in counts[r] for r in rows)]
    first, last = str(tr.get("from", ctx.first)), str(tr.get("to", ctx.last))
    prof_first = get(ctx.results, "profiles", first) or {}
    ylabels = []
    for r in rows:
        c = get(prof_first, r, "count")
        shown = f"{c:,}" if c is not None else "hidden" if get(prof_first, r, "hidden") == "complement" else f"<{ctx.k}"
        ylabels.append(f"{PROFILE_LABELS[r]} ({shown})")
    left_in, bottom_in, top_in = _text_width_in(ylabels) + 0.3, 0.95, 0.25
    side = min(2.0, ONE_COLUMN_IN - left_in - 0.08)  # inches: the matrix is square
    width, height = ONE_COLUMN_IN, bottom_in + side + top_in
    fig = _new(width, height)
    ax = fig.add_axes((left_in / width, bottom_in / height, side / width, side / height))
    _draw_transition_cells(ax, ctx, tr, rows, cols)
    ax.set_xlim(-0.5, len(cols) - 0.5)
    ax.set_ylim(len(rows) - 0.5, -0.5)
    ax.set_yticks(range(len(rows)), ylabels)
    ax.set_xticks(range(len(cols)), [PROFILE_LABELS[c] for c in cols], rotation=40, ha="right", rotation_mode="anchor")
    ax.xaxis.set_ticks_position("bottom")
    ax.tick_params(length=0)
    for spine in ("left", "bottom"):
        ax.spines[spine].set_visible(False)
    ax.set_xlabel(f"Profile {ctx.tp(last).lower()}")
    ax.set_ylabel(f"Profile at {ctx.tp(first).lower()} (n)", labelpad=2)
    title = f"Profile transitions, {ctx.tp(first).lower()} to {ctx.tp(last).lower()}"
    caption = (
        f"Number of completers moving from each profile at {ctx.tp(first).lower()} (rows) to each profile "
        f"{ctx.tp(last).lower()} (columns); shading is proportional to the count and outlined cells are "
        f"unchanged profiles; row labels give the profile's size at {ctx.tp(first).lower()}. Grey hatched cells "
        f"\u201c<{ctx.k}\u201d are suppressed: a count of 1 to {ctx.k - 1} patients; grey hatched cells without a "
        "number (and a row label \u201chidden\u201d) are hidden so that such a count cannot be recovered from the "
        "totals (complementary suppression)."
    )
    alt = "Heat map of the number of completers moving between burnout profiles from baseline to the last assessment."
    return fig, title, caption, alt


def _draw_transition_cells(ax: Axes, ctx: Ctx, tr: Mapping[str, Any], rows: list[str], cols: list[str]) -> None:
    """Each count shaded by its size (a hidden one grey hatched: "<k" when small, blank when a
    complement, as ``transitions.hidden`` says), unchanged profiles outlined."""
    counts, reasons = tr["counts"], tr.get("hidden") or {}
    known = [v for r in rows for c in cols if (v := counts[r].get(c)) is not None]
    vmax = max(known) if known else 1
    cmap = LinearSegmentedColormap.from_list("okabe_blue", ["#FFFFFF", OKABE_ITO["blue"]])
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
                if reasons.get(f"{r}.{c}") != "complement":
                    hidden_box = {"boxstyle": "square,pad=0.12", "facecolor": SUPPRESSED_FACE, "edgecolor": "none"}
                    ax.text(j, i, f"<{ctx.k}", ha="center", va="center", color=INK, bbox=hidden_box)
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
