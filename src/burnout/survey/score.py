"""The survey's relational work, in the engine: one aggregate over the answers.

Python gets integers only: per scale the number of scored respondents and the sum and
sum of squares of their scores (in integer units; the squares summed as 38-digit
decimals, so a million respondents cannot overflow), the cumulative counts at each
band and histogram edge (decided in the engine as ``units >= ceil(edge * U)``), and
over the respondents who answered every item of the scale the sums and cross-products
of the (reverse-keyed) items, from which the covariance matrix, Cronbach's alpha and
the one-factor model are computed exactly.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import ibis
import ibis.expr.types as ir

from burnout.instruments import Instrument, keyed
from burnout.scoring import scale_units_expr, to_units_ceil

__all__ = ["BINS", "ItemCounts", "ScaleAggregates", "SurveyAggregates", "aggregate", "bin_edges"]

BINS = 12  # histogram bins per scale in the report


@dataclass(frozen=True)
class ScaleAggregates:
    """Integer aggregates of one scale (scores in units of ``1 / units`` point)."""

    units: int
    n: int  # respondents with a score
    total: int  # sum of their scores, in units
    total_sq: int  # sum of the squares of their scores, in units squared
    at_least_band: dict[str, int]  # band label -> respondents scoring at least its cut-off
    at_least_edge: tuple[int, ...]  # histogram edge i (0..BINS-1) -> respondents at or above it
    complete: int  # respondents with every item of the scale answered
    sums: tuple[int, ...]  # per item, over the complete respondents (keyed answers)
    cross: tuple[tuple[int, ...], ...]  # sum of x_i * x_j over the complete respondents


@dataclass(frozen=True)
class ItemCounts:
    """Per item: blanks, answers at the lowest and at the highest response (raw, before keying)."""

    blank: int
    floor: int
    ceiling: int


@dataclass(frozen=True)
class SurveyAggregates:
    rows: int
    scales: dict[str, ScaleAggregates]
    items: dict[int, ItemCounts]
    flags: dict[str, tuple[int, int]]  # flag -> (answered the item, at or above the flag)


def bin_edges(inst: Instrument, scale: str) -> tuple[Fraction, ...]:
    """Lower edges of the report's histogram bins: ``low + i (high - low) / BINS``."""
    low, high = inst.score_range(scale)
    return tuple(low + i * (high - low) / BINS for i in range(BINS))


def _scale_columns(t: ir.Table, inst: Instrument, name: str, columns: dict[int, str]) -> dict[str, ir.Value]:
    """The scale's score in units and its keyed items, null unless every item is answered."""
    items = [keyed(inst, p, t[columns[p]].cast("int64")) for p in inst.scales[name].items]
    complete = ibis.and_(*(v.notnull() for v in items))
    out: dict[str, ir.Value] = {f"{name}|units": scale_units_expr(t, inst, name, columns=columns)}
    out |= {f"{name}|x|{i}": ibis.ifelse(complete, x, ibis.null("int64")) for i, x in enumerate(items)}
    return out


def _scale_metrics(base: ir.Table, inst: Instrument, name: str) -> dict[str, ir.Scalar]:
    rule = inst.scales[name]
    u = inst.units_per_point
    units = base[f"{name}|units"]
    metrics: dict[str, ir.Scalar] = {
        f"{name}|n": units.count(),
        f"{name}|total": units.sum(),
        f"{name}|total_sq": (units * units).cast("decimal(38, 0)").sum(),
    }
    for band in rule.bands:
        cut = to_units_ceil(Fraction(band.at_least), scale=u)
        metrics[f"{name}|band|{band.label}"] = (units >= cut).cast("int64").sum()
    for i, edge in enumerate(bin_edges(inst, name)):
        metrics[f"{name}|edge|{i}"] = (units >= to_units_ceil(edge, scale=u)).cast("int64").sum()
    keyed = [base[f"{name}|x|{i}"] for i in range(len(rule.items))]
    metrics[f"{name}|complete"] = keyed[0].count()
    for i, xi in enumerate(keyed):
        metrics[f"{name}|sum|{i}"] = xi.sum()  # nulls (incomplete respondents) are skipped
        for j in range(i, len(keyed)):
            metrics[f"{name}|cross|{i}|{j}"] = (xi * keyed[j]).sum()
    return metrics


def _item_metrics(t: ir.Table, inst: Instrument, columns: dict[int, str]) -> dict[str, ir.Scalar]:
    metrics: dict[str, ir.Scalar] = {}
    for pos, col in columns.items():
        v = t[col]
        metrics[f"item|{pos}|blank"] = v.isnull().cast("int64").sum()
        metrics[f"item|{pos}|floor"] = (v == inst.response.min).cast("int64").sum()
        metrics[f"item|{pos}|ceiling"] = (v == inst.response.max).cast("int64").sum()
    for flag in inst.flags:
        v = t[columns[flag.item]]
        metrics[f"flag|{flag.name}|answered"] = v.notnull().cast("int64").sum()
        metrics[f"flag|{flag.name}|count"] = (v >= flag.at_least).cast("int64").sum()
    return metrics


def aggregate(t: ir.Table, inst: Instrument, columns: dict[int, str]) -> SurveyAggregates:
    """Every count the survey publishes, computed in the engine in one aggregate."""
    derived: dict[str, ir.Value] = {}
    for name in inst.scales:
        derived |= _scale_columns(t, inst, name, columns)
    base = t.mutate(**derived)  # each score and keyed item computed once, then aggregated
    metrics = {"rows": base.count()} | _item_metrics(base, inst, columns)
    for name in inst.scales:
        metrics |= _scale_metrics(base, inst, name)
    # zero rows: sums come back null; every count here is then 0
    got = {k: int(v or 0) for k, v in base.aggregate(**metrics).to_pyarrow().to_pylist()[0].items()}
    scales = {name: _scale_result(inst, name, got) for name in inst.scales}
    items = {p: ItemCounts(got[f"item|{p}|blank"], got[f"item|{p}|floor"], got[f"item|{p}|ceiling"]) for p in columns}
    flags = {f.name: (got[f"flag|{f.name}|answered"], got[f"flag|{f.name}|count"]) for f in inst.flags}
    return SurveyAggregates(rows=got["rows"], scales=scales, items=items, flags=flags)


def _scale_result(inst: Instrument, name: str, got: dict[str, int]) -> ScaleAggregates:
    k = len(inst.scales[name].items)
    return ScaleAggregates(
        units=inst.units_per_point,
        n=got[f"{name}|n"],
        total=got[f"{name}|total"],
        total_sq=got[f"{name}|total_sq"],
        at_least_band={b.label: got[f"{name}|band|{b.label}"] for b in inst.scales[name].bands},
        at_least_edge=tuple(got[f"{name}|edge|{i}"] for i in range(BINS)),
        complete=got[f"{name}|complete"],
        sums=tuple(got[f"{name}|sum|{i}"] for i in range(k)),
        cross=tuple(tuple(got[f"{name}|cross|{min(i, j)}|{max(i, j)}"] for j in range(k)) for i in range(k)),
    )
