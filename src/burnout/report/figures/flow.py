"""The report's figures: matplotlib, vector first, deterministic, private by construction. (flow)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from matplotlib.axes import Axes
from matplotlib.figure import Figure as MplFigure
from matplotlib.patches import FancyBboxPatch

from burnout.report.figures.style import INK, ONE_COLUMN_IN, _new
from burnout.report.format import Ctx
from burnout.report.primary import instrument_label, primary_name, threshold_words

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
    instrument, threshold = instrument_label(ctx.results, primary_name(ctx.results)), threshold_words(ctx.results)

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
        (f"Baseline {instrument} scored", minus(flow.get("patients"), ex.get("no_baseline"))),
        (f"Met the {threshold} at baseline", f"n = {ctx.flow_count('threshold_met')}"),
        (
            f"Received all {sessions} sessions" if sessions else "Received every session",
            minus(flow.get("threshold_met"), ex.get("missed_sessions")),
        ),
        ("Completers: analysed", comp_line),
    ]
    side = [
        ("Excluded: no scored baseline assessment", ctx.flow_count("exclusions.no_baseline")),
        (f"Excluded: below the {threshold}", ctx.flow_count("exclusions.below_threshold")),
        (
            f"Excluded: missed \u2265 1 of the {sessions} sessions" if sessions else "Excluded: missed a session",
            ctx.flow_count("exclusions.missed_sessions"),
        ),
        (
            f"Excluded: missed \u2265 1 {instrument} assessment\n(after session " + ", ".join(follow) + ")"
            if follow
            else "Excluded: missed an assessment",
            ctx.flow_count("exclusions.missed_assessment"),
        ),
    ]
    if not ex:
        main = [main[0], main[2], main[4]]
        side = []
    return main, side


@dataclass(frozen=True)
class _FlowLayout:
    """Where the boxes go, in inches: exclusions right of the trunk (6.2 in) or, when narrow, under it (3.5 in)."""

    width: float
    gap: float  # between two main boxes: room for the exclusion box between them when narrow
    main_x: float
    main_w: float
    side_x: float
    side_w: float
    centre: float  # the main boxes' text
    trunk: float  # the arrows from box to box
    top: float

    BOX_H: ClassVar[float] = 0.46

    @classmethod
    def fit(cls, side_h: list[float], *, narrow: bool) -> _FlowLayout:
        if narrow:
            width, gap = ONE_COLUMN_IN, max(side_h, default=0.3) + 0.26
            main_x, main_w = 0.08, width - 0.16
            trunk = 0.3  # the arrows run down the left edge, past the exclusion boxes
            # top: room for the SYNTHETIC DATA stamp above the first box
            return cls(width, gap, main_x, main_w, 0.5, width - 0.58, main_x + main_w / 2, trunk, top=0.24)
        main_x, main_w = 0.15, 2.95
        centre = main_x + main_w / 2
        return cls(6.2, 0.52, main_x, main_w, 3.55, 2.55, centre, centre, top=0.15)

    def height(self, n_main: int) -> float:
        return self.top + n_main * self.BOX_H + (n_main - 1) * self.gap + 0.1


def _draw_flow(ctx: Ctx, main: list[tuple[str, str]], side: list[tuple[str, str]], *, narrow: bool) -> MplFigure:
    """Boxes and arrows: exclusions to the right of the trunk (6.2 in) or, when ``narrow``, under it (3.5 in)."""
    side_h = [0.14 * (label.count("\n") + 2) + 0.1 for label, _ in side]
    at = _FlowLayout.fit(side_h, narrow=narrow)
    height = at.height(len(main))
    fig = _new(at.width, height)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, at.width)
    ax.set_ylim(0, height)
    ax.axis("off")
    y = height - at.top
    tops = []
    for i, (label, count) in enumerate(main):
        bottom = y - at.BOX_H
        _draw_main_box(ax, at, bottom, label, count, strong=i in (0, len(main) - 1))
        tops.append((y, bottom))
        y = bottom - at.gap
    for i in range(len(main) - 1):
        top_of_next = tops[i + 1][0]
        bottom = tops[i][1]
        _arrow(ax, (at.trunk, bottom), (at.trunk, top_of_next), lw=0.8, mutation_scale=8)
        if i < len(side):
            _draw_exclusion(ax, at, (bottom + top_of_next) / 2, side_h[i], *side[i])
    return fig


def _draw_main_box(ax: Axes, at: _FlowLayout, bottom: float, label: str, count: str, *, strong: bool) -> None:
    """A step of the trunk; the first and last (``strong``) are shaded and bold."""
    ax.add_patch(
        FancyBboxPatch(
            (at.main_x, bottom),
            at.main_w,
            at.BOX_H,
            boxstyle="round,pad=0,rounding_size=0.04",
            facecolor="#F2F2F2" if strong else "white",
            edgecolor=INK,
            linewidth=0.8,
        )
    )
    weight = "bold" if strong else "normal"
    ax.text(at.centre, bottom + at.BOX_H * 0.64, label, ha="center", va="center", fontweight=weight)
    ax.text(at.centre, bottom + at.BOX_H * 0.3, count, ha="center", va="center")


def _draw_exclusion(ax: Axes, at: _FlowLayout, mid: float, h: float, label: str, count: str) -> None:
    """An exclusion box centred at ``mid`` with an arrow to it from the trunk."""
    ax.add_patch(
        FancyBboxPatch(
            (at.side_x, mid - h / 2),
            at.side_w,
            h,
            boxstyle="round,pad=0,rounding_size=0.04",
            facecolor="white",
            edgecolor=INK,
            linewidth=0.6,
        )
    )
    ax.text(at.side_x + 0.08, mid, f"{label}\nn = {count}", ha="left", va="center", linespacing=1.25)
    _arrow(ax, (at.trunk, mid), (at.side_x, mid), lw=0.6, mutation_scale=7)


def _arrow(ax: Axes, start: tuple[float, float], end: tuple[float, float], *, lw: float, mutation_scale: float) -> None:
    arrowprops = {
        "arrowstyle": "-|>",
        "color": INK,
        "lw": lw,
        "shrinkA": 0,
        "shrinkB": 0,
        "mutation_scale": mutation_scale,
    }
    ax.annotate("", xy=end, xytext=start, arrowprops=arrowprops)
