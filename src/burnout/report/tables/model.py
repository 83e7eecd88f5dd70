"""Table and Column, and the cell formatters that every table uses."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from burnout.report.format import Ctx, fmt_ci, fmt_num, fmt_pct, fmt_pct_ci, fmt_signed, literal
from burnout.report.labels import NDASH, SUBSCALE_LABELS

__all__ = ["Column", "Table"]


@dataclass(frozen=True)
class Column:
    """A displayed column: row key, header label (may hold <sub>), alignment, spanner."""

    key: str
    label: str
    align: str = "right"
    spanner: str | None = None


@dataclass
class Table:
    """One table: display rows for HTML, raw rows for CSV."""

    key: str
    title: str
    columns: list[Column]
    rows: list[dict[str, str]] = field(default_factory=list)
    csv_columns: list[str] = field(default_factory=list)
    csv_rows: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    group: str | None = None
    stub: str | None = None
    html: bool = True
    rich: bool = False  # display cells are HTML already (escaped, with marks and detail lines)


def _prop_cells(p: Mapping[str, Any] | None, ctx: Ctx) -> dict[str, str]:
    """n/N, % and CI display cells of a Proportion."""
    p = p or {}
    n = p.get("n")
    if p.get("suppressed") or p.get("count") is None:
        return {"nN": ctx.hidden_mark(p) + ("" if n is None else f" of {n:,}"), "pct": NDASH, "ci": NDASH}
    return {
        "nN": f"{p['count']:,}/{n:,}" if n is not None else f"{p['count']:,}",
        "pct": fmt_pct(p.get("rate")),
        "ci": fmt_pct_ci(p.get("ci")),
    }


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


def _pct_ci_cell(p: Mapping[str, Any] | None, ctx: Ctx) -> str:
    """ "57.6 (47.7\u201366.8)" or the suppression mark."""
    p = p or {}
    if p.get("suppressed") or p.get("rate") is None:
        return ctx.hidden_mark(p) if (p.get("suppressed") or p.get("count") is None) else NDASH
    return f"{fmt_num(100 * p['rate'], 1)} ({fmt_pct_ci(p.get('ci'))})"


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


def _rate_cell(p: Mapping[str, Any] | None, ctx: Ctx) -> str:
    """A Proportion: "55.4% (50.5\u201360.2)" over "219/395"; the suppression mark when hidden."""
    if not p:
        return _cell(NDASH)
    if p.get("suppressed") or p.get("count") is None:
        return _cell(ctx.hidden_mark(p))
    if p.get("rate") is None:
        return _cell(f"{p['count']:,}/{p['n']:,}")
    return _cell(f"{fmt_pct(p['rate'])} ({fmt_pct_ci(p.get('ci'))})", f"{p['count']:,}/{p['n']:,}")


def _pooled_cell(p: Mapping[str, Any] | None, ctx: Ctx) -> str:
    """A pooled rate (no count): "69.0% (65.4\u201372.3)"."""
    if not p:
        return _cell(NDASH)
    if p.get("suppressed"):
        return _cell(ctx.suppressed)
    if p.get("rate") is None:
        return _cell(NDASH)
    return _cell(f"{fmt_pct(p['rate'])} ({fmt_pct_ci(p.get('ci'))})")


def _mean_cell(e: Mapping[str, Any] | None) -> str:
    """ "4.09 (\u22121.48)" over "3.95 to 4.23 (\u22121.62 to \u22121.34)": mean (change) and their CIs."""
    if not e or e.get("mean") is None:
        return _cell(NDASH)
    if e.get("change") is None:
        return _cell(fmt_num(e["mean"]), fmt_ci(e.get("ci")) if e.get("ci") else None)
    main = f"{fmt_num(e['mean'])} ({fmt_signed(e['change'])})"
    detail = None
    if e.get("ci") or e.get("change_ci"):
        detail = f"{fmt_ci(e.get('ci'))} ({fmt_ci(e.get('change_ci'))})"
    return _cell(main, detail)


def join_ints(values: set[int]) -> str:
    return ", ".join(str(v) for v in sorted(values))
