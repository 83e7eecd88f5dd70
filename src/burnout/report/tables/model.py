"""Table and Column, and the cell formatters that every table uses."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from burnout.report.format import Ctx, literal
from burnout.report.labels import NDASH, SUBSCALE_LABELS

__all__ = ["HIDDEN_REASON", "Column", "Entry", "Record", "Table"]

HIDDEN_REASON = "_hidden"
"""A record's key for why some of its statistics (not counts) are blank: {CSV column: reason},
which the CSV's ``hidden`` column gives as it does a hidden count's."""


Record = Mapping[str, Any]
"""One row of a table's raw values, keyed by CSV column, plus any display-only text (a group label)."""


@dataclass(frozen=True)
class Column:
    """A displayed column, declared once: the raw fields it shows and how it formats them.

    ``raw`` names the record's CSV fields the cell is made from and ``fmt`` makes the cell
    from the record (rounding happens here, at display time). Without ``fmt`` the cell is
    the record's own ``key`` field: display text such as a label. ``where`` picks, in a
    pivoted table (`Table.by`), which of the display row's records the cell shows; when
    none matches the cell is ``missing``.
    """

    key: str
    label: str
    align: str = "right"
    spanner: str | None = None
    raw: tuple[str, ...] = ()
    fmt: Callable[[Record], str] | None = None
    where: Mapping[str, Any] | None = None
    missing: str = NDASH

    def cell(self, record: Record | None) -> str:
        if record is None:
            return self.missing
        return str(record.get(self.key, "")) if self.fmt is None else self.fmt(record)

    def picks(self, record: Record) -> bool:
        return self.where is None or all(record.get(k) == v for k, v in self.where.items())


@dataclass(frozen=True)
class Entry:
    """A record and where it goes: a display row and a CSV row, or only one of them."""

    record: Record
    csv: bool = True
    shown: bool = True


@dataclass
class Table:
    """One table: records rendered to display rows (HTML) and raw rows (CSV) by its columns.

    A builder `add`s one record per row; `rows` and `csv_rows` are derived from them.
    With ``by`` set, the records that share those fields make one display row (a wide
    table over a long CSV: one record per cell). ``free_rows``/``free_csv_rows`` are the
    escape hatch for a free-form table (the analysis plan) that has no records.
    """

    key: str
    title: str
    columns: list[Column]
    csv_columns: list[str] = field(default_factory=list)
    entries: list[Entry] = field(default_factory=list)
    by: tuple[str, ...] | None = None
    free_rows: list[dict[str, str]] = field(default_factory=list)
    free_csv_rows: list[Record] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    group: str | None = None
    group_fmt: Callable[[Record], str] | None = None  # the group label from a record; None: its ``group`` field
    group_raw: tuple[str, ...] = ()  # the raw fields group_fmt reads
    csv_only: tuple[str, ...] = ()  # raw fields the display leaves out (unrounded detail: SDs, t, df)
    stub: str | None = None
    html: bool = True
    rich: bool = False  # display cells are HTML already (escaped, with marks and detail lines)

    def add(self, record: Record, *, csv: bool = True, shown: bool = True) -> None:
        self.entries.append(Entry(record, csv=csv, shown=shown))

    @property
    def records(self) -> list[Record]:
        return [e.record for e in self.entries]

    def display_groups(self) -> list[list[Record]]:
        """The records of each display row, in the order the rows are shown."""
        shown = [e.record for e in self.entries if e.shown]
        if self.by is None:
            return [[r] for r in shown]
        groups: dict[tuple[Any, ...], list[Record]] = {}
        for r in shown:
            groups.setdefault(tuple(r.get(f) for f in self.by), []).append(r)
        return list(groups.values())

    def group_label(self, record: Record) -> str:
        return str(record.get(self.group or "", "")) if self.group_fmt is None else self.group_fmt(record)

    @property
    def rows(self) -> list[dict[str, str]]:
        if not self.entries:
            return self.free_rows
        out = []
        for records in self.display_groups():
            row = {self.group: self.group_label(records[0])} if self.group else {}
            for c in self.columns:
                row[c.key] = c.cell(next((r for r in records if c.picks(r)), None))
            out.append(row)
        return out

    @property
    def csv_rows(self) -> list[Record]:
        if not self.entries:
            return self.free_csv_rows
        return [e.record for e in self.entries if e.csv]


def _prop_raw(p: Mapping[str, Any] | None, ctx: Ctx) -> dict[str, Any]:
    """count, n, rate, ci_low, ci_high for CSV; a hidden count is the suppression mark."""
    p = p or {}
    ci = p.get("ci") or [None, None]
    hidden = bool(p.get("suppressed")) or p.get("count") is None
    return {
        "count": ctx.hidden_mark(p) if hidden else p.get("count"),
        "n": ctx.hidden_mark(p) if p.get("n") is None and hidden else p.get("n"),
        "rate": None if hidden else p.get("rate"),
        "ci_low": None if hidden else ci[0],
        "ci_high": None if hidden else ci[1],
    }


PROP_CSV: Final[list[str]] = ["count", "n", "rate", "ci_low", "ci_high"]


def _plain_value(value: Any) -> str:
    if value is None:
        return "not set"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return ", ".join(_plain_value(v) for v in value)
    if isinstance(value, Mapping):
        return "; ".join(f"{k} = {_plain_value(v)}" for k, v in value.items())
    return str(value)


def _var_label(var: str) -> str:
    if var in SUBSCALE_LABELS:
        return f"{SUBSCALE_LABELS[var]} at baseline"
    return {"female": "Female", "age": "Age"}.get(var, var.replace("_", " ").capitalize())


def _test_short(test: str | None) -> str:
    return {"chi-square": "\u03c7\u00b2", "fisher-exact": "exact", "freeman-halton-exact": "exact"}.get(
        test or "", test or NDASH
    )


# ---------------------------------------------------------------------- extensions


def _esc_cell(text: str) -> str:
    import html as _html

    return _html.escape(literal(text), quote=False)


NOT_ESTIMATED: Final[str] = "\u2014"


def _cell(main: str, detail: str | None = None, *, mark: str | None = None) -> str:
    """A rich cell: the estimate, a footnote mark, and a smaller detail line beneath."""
    out = f'<span class="na">{main}</span>' if main == NOT_ESTIMATED else _esc_cell(main)
    if mark:
        out += f"<sup>{mark}</sup>"
    if detail:
        out += f'<span class="detail">{_esc_cell(detail)}</span>'
    return out


def join_ints(values: set[int]) -> str:
    return ", ".join(str(v) for v in sorted(values))
