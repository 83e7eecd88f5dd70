"""The report's figures: matplotlib, vector first, deterministic, private by construction. (subgroups)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Final

import matplotlib as mpl
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure as MplFigure

from burnout.report.figures.style import (
    FONT_PT,
    INK,
    OKABE_ITO,
    ONE_COLUMN_IN,
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


_Row = tuple[str, str, Mapping[str, Any] | None, str]  # kind ("header" or "level"), label, entry, variable
_OUTCOMES: Final[tuple[str, ...]] = (*SUBSCALES, "at_least_1")
_WHITE_BOX: Final[dict[str, str]] = {"boxstyle": "square,pad=0.1", "facecolor": "white", "edgecolor": "none"}


def _draw_subgroups(ctx: Ctx, *, narrow: bool) -> MplFigure | None:
    """The forest plot: one panel per outcome, a row per subgroup level under its variable's header row."""
    subgroups = ctx.results.get("subgroups") or {}
    if not subgroups:
        return None
    rows = _forest_rows(ctx, subgroups)
    layout = _ForestLayout.fit(rows, narrow=narrow)
    fig = _new(layout.width, layout.height)
    axes = []
    overall = {s: get(ctx.results, "subscales", s, "response", "rate") for s in SUBSCALES}
    overall["at_least_1"] = get(ctx.results, "responders", "at_least_1", "rate")
    for k, o in enumerate(_OUTCOMES):
        ax = fig.add_axes(layout.panel(k))
        axes.append(ax)
        _style_panel(ax, OUTCOME_LABELS[o], n_rows=len(rows))
        ref = overall.get(o)
        if ref is not None:
            ax.axvline(100 * ref, color=OKABE_ITO["grey"], linestyle=(0, (3, 2)), linewidth=0.8)
        _draw_panel_rows(ax, ctx, rows, o)
        if k and not narrow:
            ax.set_yticks([])
    for ax in axes if narrow else axes[:1]:  # wide: the first panel's labels serve all four
        ax.set_yticks(range(len(rows)), [label for _kind, label, _, _ in rows])
        for tick, (kind, *_rest) in zip(ax.get_yticklabels(), rows, strict=True):
            if kind == "header":
                tick.set_fontweight("bold")
    x_label_at = 0.5 if narrow else (layout.left + layout.right) / 2  # narrow: the label is wider than the panel
    fig.text(
        x_label_at, 0.06 / layout.height * 1.2, "Responders, % of subgroup (95% Wilson CI)", ha="center", va="bottom"
    )
    fig.text(0.01, 1 - 0.12 / layout.height, "Subgroup (n)", ha="left", va="top", fontweight="bold")
    return fig


def _forest_rows(ctx: Ctx, subgroups: Mapping[str, Any]) -> list[_Row]:
    """A header row per variable, then a row per level labelled with its n (a merged level says what it holds)."""
    rows: list[_Row] = []
    for var, body in subgroups.items():
        rows.append(("header", VARIABLE_LABELS.get(var, var.replace("_", " ").capitalize()), None, var))
        for level, entry in body.items():
            if level == "heterogeneity" or not isinstance(entry, Mapping):
                continue
            n = entry.get("n")
            n_txt = "suppressed" if n is None else f"{n:,}"
            shown = subgroup_label(ctx.results, var, level)
            rows.append(("level", _drawn_literally(f"{shown} ({n_txt})"), entry, var))
    return rows


@dataclass(frozen=True)
class _ForestLayout:
    """Where the panels go, in figure fractions: side by side (two columns) or stacked when ``narrow``."""

    narrow: bool
    width: float
    height: float
    left: float
    right: float
    panel_w: float
    panels_h: float  # inches: one panel's rows

    ROW_H: ClassVar[float] = 0.165
    TOP_IN: ClassVar[float] = 0.42
    BOTTOM_IN: ClassVar[float] = 0.45
    BLOCK_GAP: ClassVar[float] = 0.62  # narrow: between one panel's x axis and the next panel's title
    GAP: ClassVar[float] = 0.036  # wide: between panels, a figure fraction

    @classmethod
    def fit(cls, rows: list[_Row], *, narrow: bool) -> _ForestLayout:
        """Room for every row, and for the widest row label left of the (first) panel."""
        n_out = len(_OUTCOMES)
        panels_h = cls.ROW_H * len(rows)
        width = ONE_COLUMN_IN if narrow else TWO_COLUMN_IN
        stacked = n_out * panels_h + (n_out - 1) * cls.BLOCK_GAP
        height = cls.TOP_IN + cls.BOTTOM_IN + (stacked if narrow else panels_h)
        label_in = max(
            _text_width_in([label for kind, label, _, _ in rows if kind == "level"]),
            _text_width_in([label for kind, label, _, _ in rows if kind == "header"], weight="bold"),
        )
        left, right = (label_in + 0.12) / width, 0.985 if not narrow else 1 - 0.12 / width
        panel_w = right - left if narrow else (right - left - cls.GAP * (n_out - 1)) / n_out
        return cls(narrow, width, height, left, right, panel_w, panels_h)

    def panel(self, k: int) -> tuple[float, float, float, float]:
        """The k-th panel's (left, bottom, width, height)."""
        if self.narrow:
            bottom = self.BOTTOM_IN + (len(_OUTCOMES) - 1 - k) * (self.panels_h + self.BLOCK_GAP)
            return (self.left, bottom / self.height, self.panel_w, self.panels_h / self.height)
        return (
            self.left + k * (self.panel_w + self.GAP),
            self.BOTTOM_IN / self.height,
            self.panel_w,
            self.panels_h / self.height,
        )


def _style_panel(ax: Axes, title: str, *, n_rows: int) -> None:
    """A 0-100% axis with a light grid, rows top to bottom, and the outcome as its title."""
    # not sharey: the panels only need the same limits, and shared axes would build every
    # row's tick (and measure every label) in all four panels
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
        title,
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


def _draw_panel_rows(ax: Axes, ctx: Ctx, rows: list[_Row], outcome: str) -> None:
    """One outcome's panel: the heterogeneity p on each header row, a square and interval on each level row."""
    subgroups = ctx.results.get("subgroups") or {}
    ci_segments: list[list[tuple[float, float]]] = []
    xs, ys, sizes = [], [], []
    for i, (kind, _label, entry, var) in enumerate(rows):
        if kind == "header":
            h = get(subgroups, var, "heterogeneity", outcome) or {}
            p_txt = fmt_p(h.get("p"), ctx)
            if p_txt != "\u2013":
                p_label = f"p {'' if p_txt.startswith('<') else '= '}{p_txt}"
                ax.text(98, i, p_label, ha="right", va="center", style="italic", bbox=_WHITE_BOX)
            continue
        p = (entry or {}).get(outcome) or {}
        if p.get("rate") is None:
            ax.text(3, i, "suppressed", ha="left", va="center", color="#555555", style="italic", bbox=_WHITE_BOX)
            continue
        ci = p.get("ci")
        if ci:
            ci_segments.append([(100 * ci[0], i), (100 * ci[1], i)])
        size = 3.0 + 3.0 * math.sqrt(min(1.0, (p.get("n") or 0) / max(1, get(ctx.results, "flow", "completers") or 1)))
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
