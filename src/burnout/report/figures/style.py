"""Figure style: colours, sizes, matplotlib rc, and the SVG and PNG encoders."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any, Final

import matplotlib as mpl
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure as MplFigure

from burnout.report.format import Ctx, get

__all__ = ["FIGURE_KEYS", "Figure"]

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


FIGURE_KEYS: Final[tuple[str, ...]] = (
    "flow",
    "trajectories",
    "response",
    "profiles",
    "transitions",
    "subgroups",
    "reach",
)


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


def _n_text(ctx: Ctx) -> str:
    """ " (n = 395)": the completers' number for a caption, "" when it is hidden."""
    c = get(ctx.results, "flow", "completers")
    return "" if c is None else f" (n = {c:,})"


def _tick_label(ctx: Ctx, t: str) -> str:
    return "Baseline" if t == "0" else t
