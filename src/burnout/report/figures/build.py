"""The report's figures: matplotlib, vector first, deterministic, private by construction. (build)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import matplotlib as mpl
from matplotlib.figure import Figure as MplFigure

from burnout.report.figures.attrition import _reach
from burnout.report.figures.flow import _flow, _flow_narrow
from burnout.report.figures.outcomes import _response, _trajectories
from burnout.report.figures.profiles import _profiles, _transitions
from burnout.report.figures.style import FONT_PT, OKABE_ITO, RC, Figure, _png, _svg
from burnout.report.figures.subgroups import _subgroups, _subgroups_narrow
from burnout.report.format import Ctx

__all__ = ["build_figures"]


_BUILDERS: dict[str, Callable[[Ctx], tuple[MplFigure, str, str, str] | None]] = {
    "flow": _flow,
    "trajectories": _trajectories,
    "response": _response,
    "profiles": _profiles,
    "transitions": _transitions,
    "subgroups": _subgroups,
    "reach": _reach,
}
# two-column figures whose 8 pt text would shrink to ~4 px on a phone: drawn again one column wide
_NARROW_BUILDERS: dict[str, Callable[[Ctx], MplFigure | None]] = {
    "flow": _flow_narrow,
    "subgroups": _subgroups_narrow,
}
# the helper process takes figures from the end of this order: the costly ones go last
_ORDER = ("trajectories", "response", "profiles", "reach", "flow", "transitions", "subgroups")


def build_figures(ctx: Ctx) -> dict[str, Figure]:
    """Every figure whose numbers are present, keyed by file stem (see `FIGURE_KEYS`).

    Figures are independent, so a helper process (:mod:`burnout._warm`) draws some of
    them while this one draws the rest; each is the same bytes wherever it is drawn.
    """
    from burnout._warm import shared_map

    made = dict(zip(_ORDER, shared_map(_build_one, [(ctx.results, key) for key in _ORDER]), strict=True))
    return {key: fig for key in _BUILDERS if (fig := made[key]) is not None}


def _build_one(task: tuple[Mapping[str, Any], str]) -> Figure | None:
    """One figure (its SVG, narrow SVG and PNG) from the results tree, or None when its numbers are absent."""
    results, key = task
    ctx = Ctx(results)
    with mpl.rc_context(RC):
        made = _BUILDERS[key](ctx)
        if made is None:
            return None
        fig, title, caption, alt = made
        narrow = _NARROW_BUILDERS[key](ctx) if key in _NARROW_BUILDERS else None
        if ctx.synthetic:
            for f in (fig, narrow):
                if f is not None:
                    f.text(
                        0.995,
                        0.995,
                        "SYNTHETIC DATA",
                        ha="right",
                        va="top",
                        fontsize=FONT_PT,
                        fontweight="bold",
                        color=OKABE_ITO["vermillion"],
                    )
            caption = f"{caption} SYNTHETIC DATA: simulated patients, not real outcomes."
        return Figure(
            narrow_svg=None if narrow is None else _svg(narrow, f"{key}-narrow", title),
            key=key,
            title=title,
            caption=caption,
            alt=alt,
            svg=_svg(fig, key, title),
            png=_png(fig),
            width_in=float(fig.get_figwidth()),
        )
