"""The report's tables: one definition, two renderings. (render)."""

from __future__ import annotations

import csv
import io
import math
import re
from typing import Any, Final

from burnout.report.format import Ctx, literal
from burnout.report.labels import COMPLEMENT_MARK
from burnout.report.tables.model import HIDDEN_REASON, Table

__all__ = ["to_csv", "to_gt_html"]


# ----------------------------------------------------------------------- rendering


def _csv_value(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return "" if not math.isfinite(v) else repr(float(v))  # float(): numpy scalars repr as "np.float64(...)"
    if isinstance(v, int):
        return str(v)
    return neutralise_formula(literal(v))  # control characters as \xNN: a quoted CR splits the rows pandas reads


SYNTHETIC_COLUMN: Final[str] = "synthetic_data"
HIDDEN_COLUMN: Final[str] = "hidden"
_FORMULA_START: Final[tuple[str, ...]] = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER: Final = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def neutralise_formula(text: str) -> str:
    """A text cell a spreadsheet cannot run: a leading ``'`` when it starts with = + - @, tab or CR (OWASP).

    Applied to text cells only; a number written as text ("-0.5", a plan's cut-off) is
    left alone, since a spreadsheet reads it as the number it is, not as a formula.
    """
    if text.startswith(_FORMULA_START) and not _PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text


def _count_column(name: str) -> bool:
    """Columns that hold counts of patients (or sessions): numeric, blank when hidden."""
    return name in ("count", "n") or name.endswith(("_count", "_n")) or name.startswith("to_")


def to_csv(table: Table, ctx: Ctx) -> str:
    """CSV text that ``pandas.read_csv`` reads with no options: one header line, numeric count columns.

    Columns: ``synthetic_data`` (true on every row of a synthetic run, so a file copied
    on its own still says so), the table's own columns with unrounded values, then
    ``hidden`` (every table but the plan): a hidden count is an empty cell and
    ``hidden`` names it and why ("count: suppressed (<11)"), as it does hidden
    statistics a builder gave a reason for (``HIDDEN_REASON``). Text cells that a
    spreadsheet would run as a formula are neutralised (`neutralise_formula`).
    """
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    with_hidden = table.key != "analysis_plan"
    w.writerow([SYNTHETIC_COLUMN, *table.csv_columns, *([HIDDEN_COLUMN] if with_hidden else [])])
    synthetic = _csv_value(ctx.synthetic)
    for row in table.csv_rows:
        cells, hidden = [], []
        reasons = row.get(HIDDEN_REASON) or {}
        for c in table.csv_columns:
            v = row.get(c)
            if _count_column(c) and isinstance(v, str):  # a suppression mark, never a number
                hidden.append(f"{c}: {v}")
                v = None
            elif v is None and c in reasons:
                hidden.append(f"{c}: {reasons[c]}")
            cells.append(_csv_value(v))
        w.writerow([synthetic, *cells, *([_csv_value("; ".join(hidden))] if with_hidden else [])])
    return buf.getvalue()


TABLE_CSS: Final[str] = """
#{id} .gt_table {{ font-variant-numeric: tabular-nums; }}
#{id} .gt_col_heading {{ vertical-align: bottom; }}
#{id} .gt_row.gt_right, #{id} .gt_row.gt_center {{ white-space: nowrap; }}
#{id} .gt_stub {{ white-space: normal; min-width: 8.5em; }}
#{id} .gt_sourcenote {{ white-space: normal; line-height: 1.35; }}
"""


_GT_OPTIONS: Final[dict[str, Any]] = {
    "table_font_names": ["Helvetica Neue", "Helvetica", "Arial", "Liberation Sans", "sans-serif"],
    "table_font_size": "13px",
    "table_font_color": "#1A1A1A",
    "table_width": "100%",
    "table_border_top_style": "solid",
    "table_border_top_width": "0px",
    "table_border_bottom_color": "#1A1A1A",
    "table_border_bottom_width": "1.5px",
    "heading_title_font_size": "14px",
    "heading_padding": "2px",
    "heading_border_bottom_color": "#1A1A1A",
    "heading_border_bottom_width": "1.5px",
    "column_labels_font_weight": "bold",
    "column_labels_border_top_color": "#1A1A1A",
    "column_labels_border_top_width": "1.5px",
    "column_labels_border_bottom_color": "#1A1A1A",
    "column_labels_border_bottom_width": "1px",
    "column_labels_padding": "4px",
    "row_group_font_weight": "bold",
    "row_group_border_top_color": "#BBBBBB",
    "row_group_border_top_width": "1px",
    "row_group_border_bottom_color": "#DDDDDD",
    "row_group_border_bottom_width": "0px",
    "row_group_padding": "4px",
    "table_body_hlines_color": "#EEEEEE",
    "table_body_border_bottom_color": "#1A1A1A",
    "table_body_border_bottom_width": "1.5px",
    "stub_border_color": "#FFFFFF",
    "stub_border_width": "0px",
    "data_row_padding": "3px",
    "source_notes_font_size": "12px",
    "source_notes_padding": "3px",
    "container_padding_y": "0px",
    "quarto_disable_processing": True,
}
"""Three rules (top, under the labels, bottom), no vertical lines, the report's font."""


def to_gt_html(table: Table, ctx: Ctx, number: int | None) -> str:
    """The table as great_tables HTML: three rules, left-aligned caption, notes underneath."""
    from great_tables import GT, html

    rows = table.rows  # derived from the records: make them once
    keys = [c.key for c in table.columns]
    cols = ([table.group] if table.group else []) + keys
    shown = str if table.rich else literal  # rich cells were made printable when built (_esc_cell)
    df = _frame({k: [shown(row.get(k, "")) for row in rows] for k in cols})
    gid = f"tbl-{table.key.replace('_', '-')}"
    gt = GT(df, rowname_col=table.stub, groupname_col=table.group, id=gid)
    if table.rich:
        gt = gt.fmt(_as_html, columns=[k for k in keys if k != table.stub])
    label = f"Table {number}. " if number is not None else ""
    gt = gt.tab_header(title=html(f"<strong>{label}</strong>{_esc(table.title)}"))
    gt = _labels(gt, table)
    marks = (ctx.suppressed, _esc(ctx.suppressed), COMPLEMENT_MARK)  # plain, and as a rich (escaped) cell starts
    gt = _grey_hidden(gt, table, rows, marks)
    notes = list(table.notes) if table.rich else [_rich(n) for n in table.notes]
    if any(str(v).startswith(marks) for row in rows for v in row.values()):
        notes.append(_rich(ctx.suppression_note))
    if ctx.synthetic:
        notes.append("<strong>SYNTHETIC DATA:</strong> simulated patients, not real outcomes.")
    for note in notes:
        gt = gt.tab_source_note(html(note))
    gt = gt.opt_align_table_header(align="left").tab_options(**_GT_OPTIONS).opt_css(TABLE_CSS.format(id=gid))
    return gt.as_raw_html()


def _labels(gt: Any, table: Table) -> Any:
    """The stub head, column labels, spanners and alignment, from the table's columns."""
    from great_tables import html

    if table.stub:
        stub_col = next(c for c in table.columns if c.key == table.stub)
        gt = gt.tab_stubhead(label=html(_rich(stub_col.label)))
    gt = gt.cols_label(**{c.key: html(_rich(c.label)) for c in table.columns if c.key != table.stub})
    spanners: dict[str, list[str]] = {}
    for c in table.columns:
        if c.spanner:
            spanners.setdefault(c.spanner, []).append(c.key)
    for label_, keys_ in spanners.items():
        gt = gt.tab_spanner(label=html(_rich(label_)), columns=keys_)
    for c in table.columns:
        if c.key != table.stub:
            gt = gt.cols_align(align=c.align, columns=c.key)
    return gt


def _grey_hidden(gt: Any, table: Table, rows: list[dict[str, str]], marks: tuple[str, ...]) -> Any:
    """Hidden cells (those that start with a suppression mark) in grey italics, column by column."""
    from great_tables import loc, style

    for c in table.columns:
        rows_hidden = [i for i, row in enumerate(rows) if str(row.get(c.key, "")).startswith(marks)]
        if rows_hidden:
            gt = gt.tab_style(
                style=[style.text(color="#555555", style="italic"), style.fill(color="#F1F1F1")],
                locations=loc.body(columns=c.key, rows=rows_hidden),
            )
    return gt


def _frame(columns: dict[str, list[str]], *, backend: str | None = None) -> Any:
    """The display strings as a data frame for great_tables: polars when installed, else pandas.

    great_tables writes every cell into its frame one at a time while rendering, which
    costs about 1 ms per cell in pandas and microseconds in polars; importing polars also
    takes a third of the time pandas takes. The HTML is the same either way
    (test_report.py: test_gt_html_against_both_frame_backends). pyarrow, the other frame
    great_tables takes, imports pandas as soon as it builds an array.
    """
    if backend in (None, "polars"):
        try:
            import polars as pl
        except ImportError:
            if backend == "polars":
                raise
        else:
            return pl.DataFrame(columns, schema={k: pl.String for k in columns})
    import pandas as pd

    return pd.DataFrame(columns, columns=list(columns), dtype=object)


def _as_html(cell: Any) -> str:
    """great_tables formatter for a rich table: the cell is HTML already (escaped when it was built)."""
    return str(cell)


def _rich(text: str) -> str:
    """Plain text to HTML: escaped, with "d_z" as d<sub>z</sub> and newlines as line breaks."""
    return _esc(text).replace("d_z", "d<sub>z</sub>").replace("\n", "<br>")


def _esc(text: str) -> str:
    import html as _html

    return _html.escape(text, quote=False)
