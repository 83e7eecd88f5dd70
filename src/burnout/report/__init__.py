"""The outcomes report: one self-contained HTML page, figures and tables, from a results tree.

>>> from burnout.report import write_report                  # doctest: +SKIP
>>> write_report(analysis.results, Path("out"))              # doctest: +SKIP
PosixPath('out/report.html')

The report reads only the results tree (the dict written as results.json, see
results.md); it never sees a patient row. It writes:

- ``report.html``: every section, with the CSS, tables and SVG figures inline. The
  page makes no network request when opened (a Content-Security-Policy forbids it)
  and carries no patient identifier.
- ``figures/<name>.svg`` and ``figures/<name>.png``: each figure as vector and as a
  200 dpi raster at its print size (3.5 or 7 in wide), byte-identical for the same results.
- ``tables/<name>.csv``: each table, unrounded (rounding is for display only), that
  ``pandas.read_csv(path)`` reads with no options: one header line, then rows. The
  first column, ``synthetic_data``, is true or false on every row (so a file copied on
  its own still says where it came from). Count columns hold only numbers: a hidden
  count is an empty cell, and the last column, ``hidden``, names it and says why
  (``count: suppressed (<11)``). Text cells a spreadsheet would run as a formula
  (starting with = + - @, tab or CR) begin with ``'`` (OWASP's rule); numbers, negative
  ones included, stay numbers. Control characters in text from data are written as
  ``\\xNN`` here, on the page and in the figures.

When ``results["meta"]["synthetic"]`` is true, the page title, a banner, every
figure (and its caption), every table note and the ``synthetic_data`` column of every
CSV say so. The page is titled by the plan's ``title``; real data whose plan kept the
default (the reference study's title) get a neutral title instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

__all__ = ["write_report"]


def write_report(results: Mapping[str, Any], out_dir: Path) -> Path:
    """Write the report for a results tree into ``out_dir``; return the path of report.html.

    Parameters
    ----------
    results
        The results tree (``Analysis.results``, or ``json.load`` of results.json).
        Sections whose keys are absent are left out: no table, figure or CSV for them.
        With a primary instrument other than the MBI-GS the MBI-GS sections are absent
        (``results.primary``) and the page leads with ``instruments.analyses``.
    out_dir
        Folder to write into (created if needed). ``figures/`` and ``tables/`` in it
        are created; files of the same names are overwritten.

    Returns
    -------
    pathlib.Path
        ``out_dir / "report.html"``.

    Raises
    ------
    ValueError
        ``results`` is not a results tree (it lacks ``flow``).
    """
    from burnout.report.figures import build_figures
    from burnout.report.format import Ctx
    from burnout.report.html import render_html
    from burnout.report.tables import build_tables, to_csv

    if not isinstance(results, Mapping) or "flow" not in results:
        got = sorted(results)[:8] if isinstance(results, Mapping) else type(results).__name__
        raise ValueError(
            f"results must be a results tree (the results.json dict, with 'flow'); got {got!r}. "
            "Pass Analysis.results or json.load() of results.json."
        )
    out_dir = Path(out_dir)
    fig_dir, tab_dir = out_dir / "figures", out_dir / "tables"
    fig_dir.mkdir(parents=True, exist_ok=True)
    tab_dir.mkdir(parents=True, exist_ok=True)

    ctx = Ctx(results)
    figures = build_figures(ctx)
    tables = build_tables(ctx)
    for key, fig in figures.items():
        (fig_dir / f"{key}.svg").write_text(fig.svg, encoding="utf-8", newline="\n")
        (fig_dir / f"{key}.png").write_bytes(fig.png)
    for key, table in tables.items():
        (tab_dir / f"{key}.csv").write_text(to_csv(table, ctx), encoding="utf-8", newline="\n")
    page = out_dir / "report.html"
    page.write_text(render_html(ctx, figures, tables), encoding="utf-8", newline="\n")
    return page
