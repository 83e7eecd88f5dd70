"""The report's figures: matplotlib, vector first, deterministic, private by construction. (build)."""

from __future__ import annotations

from collections.abc import Callable

import matplotlib as mpl
from matplotlib.figure import Figure as MplFigure

from burnout.report.figures.flow import _flow, _flow_narrow
from burnout.report.figures.outcomes import _profiles, _response, _trajectories, _transitions
from burnout.report.figures.style import FONT_PT, OKABE_ITO, RC, Figure, _png, _svg
from burnout.report.figures.subgroups import _reach, _subgroups, _subgroups_narrow
from burnout.report.format import Ctx

__all__ = ["build_figures"]


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
    narrow_builders: dict[str, Callable[[Ctx], MplFigure | None]] = {
        "flow": _flow_narrow,
        "subgroups": _subgroups_narrow,
    }
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
