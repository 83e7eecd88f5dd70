"""The report's tables: one definition, two renderings.

Each builder returns a `Table`: display strings (rounded here, at display time) for the
HTML table made with great_tables, and unrounded values for the CSV. A suppressed count
is None in the tree and is written as ``suppressed (<k)`` in the HTML; in the CSV its cell
is empty and the ``hidden`` column says why (`to_csv`). Its rate and interval are left
blank. Nothing is derived from a hidden cell.
"""

from burnout.report.tables.build import BUILDERS, build_tables
from burnout.report.tables.model import Column, Table
from burnout.report.tables.render import neutralise_formula, to_csv, to_gt_html

__all__ = ["BUILDERS", "Column", "Table", "build_tables", "neutralise_formula", "to_csv", "to_gt_html"]
