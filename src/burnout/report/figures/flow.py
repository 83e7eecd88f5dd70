"""The report's figures: matplotlib, vector first, deterministic, private by construction. (flow)."""

from __future__ import annotations

from typing import Any

from matplotlib.figure import Figure as MplFigure
from matplotlib.patches import FancyBboxPatch

from burnout.report.figures.style import INK, ONE_COLUMN_IN, _new
from burnout.report.format import Ctx

# ------------------------------------------------------------------------------ flow


def _flow(ctx: Ctx) -> tuple[MplFigure, str, str, str] | None:
    boxes = _flow_boxes(ctx)
    if boxes is None:
        return None
    fig = _draw_flow(ctx, *boxes, narrow=False)
    title = "Participant flow"
    caption = (
        "Patients in the cohort files to the analysed completers. Exclusions are applied in sequence; each patient "
        f"is counted once, at the first reason that applies. {ctx.suppression_note} A box that could only be "
        "derived from a suppressed count is not shown."
    )
    alt = (
        "Flow diagram from patients in the cohort files to analysed completers, with the number excluded at each step."
    )
    return fig, title, caption, alt


def _flow_narrow(ctx: Ctx) -> MplFigure | None:
    """The flow diagram one column wide (phones): each exclusion box under the step it leaves, not beside it."""
    boxes = _flow_boxes(ctx)
    return None if boxes is None else _draw_flow(ctx, *boxes, narrow=True)


def _flow_boxes(ctx: Ctx) -> tuple[list[tuple[str, str]], list[tuple[str, str]]] | None:
    """The main steps (label, "n = ..." text) and the exclusions between them (label, count text)."""
    flow = ctx.results.get("flow")
    if not flow:
        return None
    ex = flow.get("exclusions") or {}
    sessions = ctx.sessions
    follow = [t for t in ctx.timepoints if t != "0"]

    def minus(a: Any, b: Any) -> str:
        # a derived box is shown only from displayed counts; never from a hidden one
        if a is None or b is None:
            return "n not shown (would reveal a suppressed count)"
        return f"n = {a - b:,}"

    completion = flow.get("completion") or {}
    pct = completion.get("rate")
    comp_line = f"n = {ctx.flow_count('completers')}"
    if pct is not None:
        comp_line += f" ({100 * pct:.1f}% of those meeting the threshold)"
    main = [
        ("Patients in the cohort files", f"n = {ctx.flow_count('patients')}"),
        ("Baseline MBI-GS scored", minus(flow.get("patients"), ex.get("no_baseline"))),
        ("Met the burnout threshold at baseline", f"n = {ctx.flow_count('threshold_met')}"),
        (
            f"Received all {sessions} sessions" if sessions else "Received every session",
            minus(flow.get("threshold_met"), ex.get("missed_sessions")),
        ),
        ("Completers: analysed", comp_line),
    ]
    side = [
        ("Excluded: no scored baseline assessment", ctx.flow_count("exclusions.no_baseline")),
        ("Excluded: below the burnout threshold", ctx.flow_count("exclusions.below_threshold")),
        (
            f"Excluded: missed \u2265 1 of the {sessions} sessions" if sessions else "Excluded: missed a session",
            ctx.flow_count("exclusions.missed_sessions"),
        ),
        (
            "Excluded: missed \u2265 1 MBI-GS assessment\n(after session " + ", ".join(follow) + ")"
            if follow
            else "Excluded: missed an assessment",
            ctx.flow_count("exclusions.missed_assessment"),
        ),
    ]
    if not ex:
        main = [main[0], main[2], main[4]]
        side = []
    return main, side


def _draw_flow(ctx: Ctx, main: list[tuple[str, str]], side: list[tuple[str, str]], *, narrow: bool) -> MplFigure:
    """Boxes and arrows: exclusions to the right of the trunk (6.2 in) or, when ``narrow``, under it (3.5 in)."""
    side_h = [0.14 * (label.count("\n") + 2) + 0.1 for label, _ in side]
    box_h = 0.46
    if narrow:
        width, gap = ONE_COLUMN_IN, max(side_h, default=0.3) + 0.26
        main_x, main_w = 0.08, width - 0.16
        side_x, side_w = 0.5, width - 0.58
        centre = main_x + main_w / 2  # the boxes' text
        trunk = 0.3  # the arrows run down the left edge, past the exclusion boxes
    else:
        width, gap = 6.2, 0.52
        main_x, main_w = 0.15, 2.95
        side_x, side_w = 3.55, 2.55
        centre = trunk = main_x + main_w / 2
    top = 0.24 if narrow else 0.15  # narrow: room for the SYNTHETIC DATA stamp above the first box
    height = top + len(main) * box_h + (len(main) - 1) * gap + 0.1
    fig = _new(width, height)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, width)
    ax.set_ylim(0, height)
    ax.axis("off")
    y = height - top
    tops = []
    for i, (label, count) in enumerate(main):
        bottom = y - box_h
        strong = i in (0, len(main) - 1)
        ax.add_patch(
            FancyBboxPatch(
                (main_x, bottom),
                main_w,
                box_h,
                boxstyle="round,pad=0,rounding_size=0.04",
                facecolor="#F2F2F2" if strong else "white",
                edgecolor=INK,
                linewidth=0.8,
            )
        )
        ax.text(
            centre, bottom + box_h * 0.64, label, ha="center", va="center", fontweight="bold" if strong else "normal"
        )
        ax.text(centre, bottom + box_h * 0.3, count, ha="center", va="center")
        tops.append((y, bottom))
        y = bottom - gap
    for i in range(len(main) - 1):
        top_of_next = tops[i + 1][0]
        bottom = tops[i][1]
        ax.annotate(
            "",
            xy=(trunk, top_of_next),
            xytext=(trunk, bottom),
            arrowprops={"arrowstyle": "-|>", "color": INK, "lw": 0.8, "shrinkA": 0, "shrinkB": 0, "mutation_scale": 8},
        )
        if i < len(side):
            label, count = side[i]
            mid = (bottom + top_of_next) / 2
            h = side_h[i]
            ax.add_patch(
                FancyBboxPatch(
                    (side_x, mid - h / 2),
                    side_w,
                    h,
                    boxstyle="round,pad=0,rounding_size=0.04",
                    facecolor="white",
                    edgecolor=INK,
                    linewidth=0.6,
                )
            )
            ax.text(side_x + 0.08, mid, f"{label}\nn = {count}", ha="left", va="center", linespacing=1.25)
            ax.annotate(
                "",
                xy=(side_x, mid),
                xytext=(trunk, mid),
                arrowprops={
                    "arrowstyle": "-|>",
                    "color": INK,
                    "lw": 0.6,
                    "shrinkA": 0,
                    "shrinkB": 0,
                    "mutation_scale": 7,
                },
            )
    return fig
