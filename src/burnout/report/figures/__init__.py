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

from burnout.report.figures.build import build_figures
from burnout.report.figures.style import FIGURE_KEYS, RC, Figure

__all__ = ["FIGURE_KEYS", "Figure", "RC", "build_figures"]
