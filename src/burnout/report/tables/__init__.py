"""The report's tables: one definition, two renderings.

Each builder declares a `Table` once: its `Column`s name the raw fields they show and the
formatter that rounds them (at display time), and the builder adds one record per row.
The HTML rows (great_tables) and the unrounded CSV rows are both derived from those
records (`Table.rows`, `Table.csv_rows`); a wide table over a long CSV pivots its
records with ``Table.by``. Only the analysis plan is free-form. A suppressed count
is None in the tree and is written as ``suppressed (<k)`` in the HTML; in the CSV its cell
is empty and the ``hidden`` column says why (`to_csv`). Its rate and interval are left
blank. Nothing is derived from a hidden cell.
"""

from burnout.report.tables.build import BUILDERS, build_tables
from burnout.report.tables.model import Column, Table
from burnout.report.tables.render import neutralise_formula, to_csv, to_gt_html

__all__ = ["BUILDERS", "Column", "Table", "build_tables", "neutralise_formula", "to_csv", "to_gt_html"]
