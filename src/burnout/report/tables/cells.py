"""Cell formatters that read a record's raw (CSV) fields, and the columns they make.

A table's display cell is one of these applied to the same record its CSV row is, so the
two renderings cannot drift apart. A hidden count is the suppression mark (a string) in
the record, as `_prop_raw` writes it: that is how a formatter knows the cell is hidden.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from burnout.report.format import Ctx, fmt_ci, fmt_num, fmt_pct, fmt_pct_ci, fmt_signed
from burnout.report.labels import NDASH
from burnout.report.tables.model import Column, Record

__all__ = [
    "ci_of",
    "count_pct",
    "field",
    "interval",
    "mean_sd",
    "n_beside",
    "is_hidden",
    "mean_ci",
    "prop_ci",
    "prop_columns",
    "prop_n_of",
    "prop_pct",
    "rate_ci",
    "signed_ci",
]


def is_hidden(value: Any) -> bool:
    """A count held as its suppression mark."""
    return isinstance(value, str)


def ci_of(r: Record, low: str = "ci_low", high: str = "ci_high") -> list[Any]:
    return [r.get(low), r.get(high)]


def prop_n_of(r: Record) -> str:
    """ "219/395", or the mark of a hidden count with its denominator when that is published."""
    count, n = r.get("count"), r.get("n")
    if is_hidden(count):
        return str(count) + ("" if n is None or is_hidden(n) else f" of {n:,}")
    return f"{count:,}/{n:,}" if n is not None else f"{count:,}"


def prop_pct(r: Record) -> str:
    return fmt_pct(r.get("rate"))  # a hidden count's rate is blank in the record


def prop_ci(r: Record) -> str:
    return fmt_pct_ci(ci_of(r))


def rate_ci(r: Record) -> str:
    """ "57.6 (47.7\u201366.8)", the mark of a hidden count, or a dash when there is no rate."""
    if is_hidden(r.get("count")):
        return str(r["count"])
    if r.get("rate") is None:
        return NDASH
    return f"{fmt_num(100 * r['rate'], 1)} ({fmt_pct_ci(ci_of(r))})"


def count_pct(count_field: str = "count", rate_field: str = "rate") -> Callable[[Record], str]:
    """ "164 (41.5%)", or the mark of a hidden count."""

    def fmt(r: Record) -> str:
        count = r.get(count_field)
        return str(count) if is_hidden(count) else f"{count:,} ({fmt_pct(r.get(rate_field))})"

    return fmt


def prop_columns(n_label: str) -> list[Column]:
    """The n/N, % and CI columns of a table of Proportions (``count``, ``n``, ``rate``, ``ci_low``, ``ci_high``)."""
    return [
        Column("nN", n_label, raw=("count", "n"), fmt=prop_n_of),
        Column("pct", "%", raw=("rate",), fmt=prop_pct),
        Column("ci", "95% CI", raw=("ci_low", "ci_high"), fmt=prop_ci),
    ]


def field(name: str, fmt: Callable[[Any], str] = fmt_num) -> Callable[[Record], str]:
    """A formatter of one raw field."""
    return lambda r: fmt(r.get(name))


def mean_ci(mean: str, low: str, high: str) -> Callable[[Record], str]:
    """ "4.09 (3.95 to 4.23)"."""
    return lambda r: f"{fmt_num(r.get(mean))} ({fmt_ci(ci_of(r, low, high))})"


def signed_ci(value: str, low: str, high: str, *, digits: int = 2) -> Callable[[Record], str]:
    """ "\u22121.48 (\u22121.62 to \u22121.34)", or a dash when there is no estimate."""

    def fmt(r: Record) -> str:
        if r.get(value) is None:
            return NDASH
        return f"{fmt_signed(r[value], digits)} ({fmt_ci(ci_of(r, low, high), digits)})"

    return fmt


def n_beside(ctx: Ctx, n: str = "n", statistic: str = "mean") -> Callable[[Record], str]:
    """The n of a statistic, or why it is hidden (`Ctx.n_beside`): a hidden n is its mark in the record."""
    return lambda r: ctx.n_beside(None if is_hidden(r.get(n)) else r.get(n), statistic=r.get(statistic))


def n_or_mark(ctx: Ctx, n: int | None, *, statistic: Any) -> int | str:
    """A record's n: the count itself, or the truthful mark of `Ctx.n_beside` when hidden."""
    return n if n is not None else ctx.n_beside(None, statistic=statistic)


def mean_sd(mean: str = "mean", sd: str = "sd") -> Callable[[Record], str]:
    """ "4.09 (1.21)"."""
    return lambda r: f"{fmt_num(r.get(mean))} ({fmt_num(r.get(sd))})"


def interval(low: str = "ci_low", high: str = "ci_high", *, digits: int = 2) -> Callable[[Record], str]:
    """ "3.95 to 4.23"."""
    return lambda r: fmt_ci(ci_of(r, low, high), digits)
