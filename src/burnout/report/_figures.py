"""The report's figures: matplotlib, vector first, deterministic, private by construction.

Each builder takes the report context and returns a `Figure` (SVG text and PNG bytes)
or None when its numbers are absent. Figures are sized for print (3.5 in for one
journal column, up to 7 in for two) with 8 pt text, use one colour-blind-safe palette
(Okabe & Ito, 2008) plus marker shapes or hatching so they survive greyscale printing,
and write text as paths (``svg.fonttype = "path"``) so no font is ever fetched.

Privacy: a suppressed count arrives as None and is drawn as a grey hatched cell or a
"suppressed" note; no builder derives a hidden value from totals, and nothing beyond
what is drawn is written into the SVG (no ids or data attributes hold numbers).
Determinism: ``svg.hashsalt`` is fixed and metadata carries no date or software.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

import matplotlib as mpl
from matplotlib.collections import LineCollection
from matplotlib.colors import LinearSegmentedColormap, to_rgb
from matplotlib.figure import Figure as MplFigure
from matplotlib.patches import FancyBboxPatch, Patch, Rectangle

from burnout.report._text import (
    OUTCOME_LABELS,
    PROFILE_LABELS,
    PROFILES,
    RESPONDER_LABELS,
    SUBSCALE_LABELS,
    SUBSCALES,
    VARIABLE_LABELS,
    Ctx,
    fmt_p,
    get,
    level_label,
    literal,
)

__all__ = ["FIGURE_KEYS", "Figure", "build_figures"]

# Okabe & Ito (2008), "Color Universal Design"
OKABE_ITO: Final[dict[str, str]] = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "bluish_green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish_purple": "#CC79A7",
    "grey": "#999999",
}
SUBSCALE_COLOURS: Final[dict[str, str]] = {
    "exhaustion": OKABE_ITO["vermillion"],
    "cynicism": OKABE_ITO["blue"],
    "professional_efficacy": OKABE_ITO["bluish_green"],
}
SUBSCALE_MARKERS: Final[dict[str, str]] = {"exhaustion": "o", "cynicism": "s", "professional_efficacy": "^"}
PROFILE_COLOURS: Final[dict[str, str]] = {
    "burnout": OKABE_ITO["vermillion"],
    "overextended": OKABE_ITO["orange"],
    "disengaged": OKABE_ITO["reddish_purple"],
    "ineffective": OKABE_ITO["yellow"],
    "engaged": OKABE_ITO["sky_blue"],
}
SUPPRESSED_FACE: Final[str] = "#E6E6E6"
SUPPRESSED_EDGE: Final[str] = "#8C8C8C"
INK: Final[str] = "#1A1A1A"
FONT_PT: Final[float] = 8.0
ONE_COLUMN_IN: Final[float] = 3.5
TWO_COLUMN_IN: Final[float] = 7.0
PNG_DPI: Final[int] = 200  # print at the figure's size (3.5 or 7 in): 200 dpi is enough for line art and 8 pt text

RC: Final[dict[str, Any]] = {
    "svg.fonttype": "path",
    "svg.hashsalt": "burnout-report",
    "svg.image_inline": True,
    "font.family": "DejaVu Sans",  # bundled with matplotlib: same glyphs on every machine
    "font.size": FONT_PT,
    "axes.titlesize": FONT_PT,
    "axes.labelsize": FONT_PT,
    "xtick.labelsize": FONT_PT,
    "ytick.labelsize": FONT_PT,
    "legend.fontsize": FONT_PT,
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.linewidth": 0.6,
    "axes.edgecolor": INK,
    "axes.labelcolor": INK,
    "text.color": INK,
    "xtick.color": INK,
    "ytick.color": INK,
    "xtick.major.width": 0.6,
    "ytick.major.width": 0.6,
    "xtick.major.size": 3,
    "ytick.major.size": 3,
    "lines.linewidth": 1.2,
    "hatch.linewidth": 0.6,
    "hatch.color": SUPPRESSED_EDGE,
    "legend.frameon": False,
    "figure.dpi": 100,
    "savefig.dpi": PNG_DPI,
    "savefig.facecolor": "white",
    "path.simplify": False,
    # glyphs as their outlines, not fitted to the pixel grid: at 200 dpi hinting adds nothing visible,
    # costs a sixth of the PNG's drawing time and moves text away from the (unhinted) SVG layout
    "text.hinting": "no_hinting",
}


@dataclass(frozen=True)
class Figure:
    """One rendered figure: file stem, title, caption (plain text), both encodings, and a phone-width SVG if it has one."""

    key: str
    title: str
    caption: str
    alt: str
    svg: str
    png: bytes
    width_in: float
    narrow_svg: str | None = None  # the page shows it instead of `svg` on narrow screens; figures/ keeps `svg`


FIGURE_KEYS: Final[tuple[str, ...]] = ("flow", "trajectories", "response", "profiles", "transitions", "subgroups", "reach")


def build_figures(ctx: Ctx) -> dict[str, Figure]:
    """Every figure whose numbers are present, keyed by file stem (see `FIGURE_KEYS`)."""
    builders: dict[str, Callable[[Ctx], tuple[MplFigure, str, str, str] | None]] = {
        "flow": _flow,
        "trajectories": _trajectories,
        "response": _response,
        "profiles": _profiles,
        "transitions": _transitions,
        "subgroups": _subgroups,
        "reach": _reach,
    }
    # two-column figures whose 8 pt text would shrink to ~4 px on a phone: drawn again one column wide
    narrow_builders: dict[str, Callable[[Ctx], MplFigure | None]] = {"flow": _flow_narrow, "subgroups": _subgroups_narrow}
    out: dict[str, Figure] = {}
    with mpl.rc_context(RC):
        for key, build in builders.items():
            made = build(ctx)
            if made is None:
                continue
            fig, title, caption, alt = made
            narrow = narrow_builders[key](ctx) if key in narrow_builders else None
            if ctx.synthetic:
                for f in (fig, narrow):
                    if f is not None:
                        f.text(
                            0.995, 0.995, "SYNTHETIC DATA", ha="right", va="top",
                            fontsize=FONT_PT, fontweight="bold", color=OKABE_ITO["vermillion"],
                        )
                caption = f"{caption} SYNTHETIC DATA: simulated patients, not real outcomes."
            out[key] = Figure(
                narrow_svg=None if narrow is None else _svg(narrow, f"{key}-narrow", title),
                key=key,
                title=title,
                caption=caption,
                alt=alt,
                svg=_svg(fig, key, title),
                png=_png(fig),
                width_in=float(fig.get_figwidth()),
            )
    return out


def _svg(fig: MplFigure, key: str, title: str) -> str:
    buf = io.StringIO()
    with mpl.rc_context({"svg.id": f"figure-{key}"}):
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None, "Title": title})
    return buf.getvalue()


class _Pixels:
    """A file-like sink for ``savefig(format="rgba")`` that keeps the frame as an (h, w, 4) array."""

    array: Any = None

    def seek(self, *_: Any) -> None:  # matplotlib only checks that it exists
        return None

    def write(self, data: Any) -> None:
        import numpy as np

        self.array = np.array(data)  # the renderer's buffer, copied, with its shape


def _rgb(fig: MplFigure) -> Any:
    """The figure drawn by Agg at `PNG_DPI`, as an opaque RGB image (the background is white)."""
    from PIL import Image

    sink = _Pixels()
    fig.savefig(sink, format="rgba", dpi=PNG_DPI)
    return Image.fromarray(sink.array[..., :3])


def _encode_png(image: Any) -> bytes:
    """PNG bytes with the resolution (pHYs) and no text or time chunks."""
    buf = io.BytesIO()
    image.save(buf, format="png", dpi=(PNG_DPI, PNG_DPI))
    return buf.getvalue()


def _png(fig: MplFigure) -> bytes:
    """The figure as an RGB PNG at `PNG_DPI` (no alpha channel: the background is opaque white)."""
    return _encode_png(_rgb(fig))


def _new(width: float, height: float) -> MplFigure:
    return MplFigure(figsize=(width, height), layout=None)


def _text_width_in(texts: list[str], *, weight: str = "normal") -> float:
    """Width in inches of the widest text at the report's font size (advance widths from the font; no renderer).

    The glyph advances are what the renderers lay text out with; measuring the outlines'
    exact extents instead (``TextPath.get_extents``) costs ~40 times as much.
    """
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import text_to_path

    prop = FontProperties(family=RC["font.family"], size=FONT_PT, weight=weight)
    widths = [text_to_path.get_text_width_height_descent(t, prop, ismath=False)[0] for t in texts if t]
    return max(widths, default=0.0) / 72


def _drawn_literally(text: str) -> str:
    """Text from data for matplotlib: its dollar signs escaped, so "$x^2$" is drawn as typed, not as mathtext."""
    return text.replace("$", r"\$")


def _luminance(colour: str) -> float:
    r, g, b = to_rgb(colour)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def _tick_label(ctx: Ctx, t: str) -> str:
    return "Baseline" if t == "0" else t


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
    alt = "Flow diagram from patients in the cohort files to analysed completers, with the number excluded at each step."
    return fig, title, caption, alt


def _flow_narrow(ctx: Ctx) -> MplFigure | None:
    """The flow diagram one column wide (phones): each exclusion box under the step it leaves, not beside it."""
    boxes = _flow_boxes(ctx)
    return None if boxes is None else _draw_flow(ctx, *boxes, narrow=True)


def _flow_boxes(ctx: Ctx) -> tuple[list[tuple[str, str]], list[tuple[str, Any]]] | None:
    """The main steps (label, count text) and the exclusions between them (label, count)."""
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
    comp_line = f"n = {ctx.count(flow.get('completers'))}"
    if pct is not None:
        comp_line += f" ({100 * pct:.1f}% of those meeting the threshold)"
    main = [
        ("Patients in the cohort files", f"n = {ctx.count(flow.get('patients'))}"),
        ("Baseline MBI-GS scored", minus(flow.get("patients"), ex.get("no_baseline"))),
        ("Met the burnout threshold at baseline", f"n = {ctx.count(flow.get('threshold_met'))}"),
        (
            f"Received all {sessions} sessions" if sessions else "Received every session",
            minus(flow.get("threshold_met"), ex.get("missed_sessions")),
        ),
        ("Completers: analysed", comp_line),
    ]
    side = [
        ("Excluded: no scored baseline assessment", ex.get("no_baseline")),
        ("Excluded: below the burnout threshold", ex.get("below_threshold")),
        (f"Excluded: missed \u2265 1 of the {sessions} sessions" if sessions else "Excluded: missed a session", ex.get("missed_sessions")),
        (
            "Excluded: missed \u2265 1 MBI-GS assessment\n(after session " + ", ".join(follow) + ")"
            if follow
            else "Excluded: missed an assessment",
            ex.get("missed_assessment"),
        ),
    ]
    if not ex:
        main = [main[0], main[2], main[4]]
        side = []
    return main, side


def _draw_flow(ctx: Ctx, main: list[tuple[str, str]], side: list[tuple[str, Any]], *, narrow: bool) -> MplFigure:
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
                (main_x, bottom), main_w, box_h, boxstyle="round,pad=0,rounding_size=0.04",
                facecolor="#F2F2F2" if strong else "white", edgecolor=INK, linewidth=0.8,
            )
        )
        ax.text(centre, bottom + box_h * 0.64, label, ha="center", va="center", fontweight="bold" if strong else "normal")
        ax.text(centre, bottom + box_h * 0.3, count, ha="center", va="center")
        tops.append((y, bottom))
        y = bottom - gap
    for i in range(len(main) - 1):
        top_of_next = tops[i + 1][0]
        bottom = tops[i][1]
        ax.annotate(
            "", xy=(trunk, top_of_next), xytext=(trunk, bottom),
            arrowprops={"arrowstyle": "-|>", "color": INK, "lw": 0.8, "shrinkA": 0, "shrinkB": 0, "mutation_scale": 8},
        )
        if i < len(side):
            label, count = side[i]
            mid = (bottom + top_of_next) / 2
            h = side_h[i]
            ax.add_patch(
                FancyBboxPatch(
                    (side_x, mid - h / 2), side_w, h, boxstyle="round,pad=0,rounding_size=0.04",
                    facecolor="white", edgecolor=INK, linewidth=0.6,
                )
            )
            ax.text(side_x + 0.08, mid, f"{label}\nn = {ctx.count(count)}", ha="left", va="center", linespacing=1.25)
            ax.annotate(
                "", xy=(side_x, mid), xytext=(trunk, mid),
                arrowprops={"arrowstyle": "-|>", "color": INK, "lw": 0.6, "shrinkA": 0, "shrinkB": 0, "mutation_scale": 7},
            )
    return fig


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
            xs, ys, yerr=[lo, hi], color=SUBSCALE_COLOURS[s], marker=SUBSCALE_MARKERS[s], markersize=4,
            capsize=2, elinewidth=0.8, capthick=0.8, linewidth=1.2, markeredgecolor="white", markeredgewidth=0.4,
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
            text, xy=(1.0, ly), xycoords=("axes fraction", "data"),
            xytext=(6, 0), textcoords="offset points", ha="left", va="center", color=SUBSCALE_COLOURS[s],
            fontweight="bold", annotation_clip=False, linespacing=1.05,
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
        ax.plot([100 * p["rate"]], [i], marker=marker, color=colour, markersize=4.5, markeredgecolor="white", markeredgewidth=0.4)
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
    rule = f"an improvement of \u2265 {min_change:g} point" if isinstance(min_change, int | float) else "the plan's minimum change"
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
                    i, bottom + h / 2, f"{h:.1f}", ha="center", va="center",
                    color="white" if _luminance(colour) < 0.45 else INK,
                )
            bottom += h
        if bottom < 99.95:
            # the remainder is n minus the shown counts: the sum of the hidden cells, never one of them
            any_suppressed = True
            ax.bar(
                i, 100 - bottom, bottom=bottom, width=0.62, color=SUPPRESSED_FACE, edgecolor=SUPPRESSED_EDGE,
                hatch="////", linewidth=0.5,
            )
    ax.set_xticks(range(len(tps)), [_tick_label(ctx, t) for t in tps])
    ax.set_xlabel("Assessment (after session)")
    ax.set_ylabel("% of completers")
    ax.set_ylim(0, 100)
    ax.set_xlim(-0.5, len(tps) - 0.5)
    handles = [Patch(facecolor=PROFILE_COLOURS[p], edgecolor="white", label=PROFILE_LABELS[p]) for p in PROFILES]
    if any_suppressed:
        handles.append(Patch(facecolor=SUPPRESSED_FACE, edgecolor=SUPPRESSED_EDGE, hatch="////", label=f"Suppressed (<{ctx.k})"))
    ax.legend(
        handles=handles, loc="upper center", bbox_to_anchor=(0.45, -0.24), ncol=3, handlelength=1.2,
        handleheight=1.0, borderaxespad=0, columnspacing=1.0, handletextpad=0.5,
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
                    Rectangle((j - 0.5, i - 0.5), 1, 1, facecolor=SUPPRESSED_FACE, edgecolor=SUPPRESSED_EDGE, hatch="////", linewidth=0.4)
                )
                ax.text(
                    j, i, f"<{ctx.k}", ha="center", va="center", color=INK,
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
            shown = literal(level) if var == "pathway" else level_label(level)  # pathways: the program's own names
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
            OUTCOME_LABELS[o], xy=(0.5, 1.0), xycoords="axes fraction", xytext=(0, 4), textcoords="offset points",
            ha="center", va="baseline", fontsize=FONT_PT, fontweight=mpl.rcParams["axes.titleweight"],
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
                p_txt = fmt_p(h.get("p"))
                if p_txt != "\u2013":
                    ax.text(
                        98, i, f"p {'' if p_txt.startswith('<') else '= '}{p_txt}", ha="right", va="center", style="italic",
                        bbox={"boxstyle": "square,pad=0.1", "facecolor": "white", "edgecolor": "none"},
                    )
                continue
            p = (entry or {}).get(o) or {}
            if p.get("rate") is None:
                ax.text(
                    3, i, "suppressed", ha="left", va="center", color="#555555", style="italic",
                    bbox={"boxstyle": "square,pad=0.1", "facecolor": "white", "edgecolor": "none"},
                )
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
                Rectangle((j - 0.22, 0), 0.44, 100, facecolor=SUPPRESSED_FACE, edgecolor=SUPPRESSED_EDGE, hatch="////", linewidth=0.4)
            )
            continue
        y = 100 * p["rate"]
        ci = p.get("ci") or [p["rate"], p["rate"]]
        shown.append((j, y))
        lo.append(y - 100 * ci[0])
        hi.append(100 * ci[1] - y)
        ax.annotate(
            f"{y:.1f}", xy=(j, y), xytext=(3, 3), textcoords="offset points", ha="left", va="bottom", fontsize=FONT_PT - 1,
            color=INK,
        )
    if shown:  # one artist for every point and interval
        ax.errorbar(
            [j for j, _ in shown], [y for _, y in shown], yerr=[lo, hi], color=colour, capsize=2, elinewidth=0.8,
            capthick=0.8, linestyle="none", marker="o", markersize=4, markeredgecolor="white", markeredgewidth=0.4,
        )
    completion = get(ctx.results, "flow", "completion") or {}
    if completion.get("rate") is not None:
        c = 100 * completion["rate"]
        ax.axhline(c, color=OKABE_ITO["grey"], linestyle=(0, (3, 2)), linewidth=0.8)
        ax.text(last + 0.5, c - 2.5, f"Completers {c:.1f}%", ha="right", va="top", fontsize=FONT_PT - 1, color="#555555")
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
            handles=[Patch(facecolor=SUPPRESSED_FACE, edgecolor=SUPPRESSED_EDGE, hatch="////", label=f"Suppressed (<{ctx.k})")],
            loc="upper right", handlelength=1.2, handleheight=1.0, borderaxespad=0.2,
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
