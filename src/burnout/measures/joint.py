"""The three subscales' joint baseline, in the engine, for regression to the mean of the
threshold and profile headlines (issue 16).

The share below the threshold and the share leaving the Burnout profile depend on all
three subscales at once, so the no-change model needs their joint distribution: the mean
vector and covariance matrix over every patient with all three subscales scored at
baseline (before the threshold selects), and the completers' baseline score triples (a
histogram: at most a few hundred distinct triples, counts only, no patient rows).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from itertools import combinations_with_replacement

import ibis.expr.types as ir

from burnout.cohort import col
from burnout.instrument import SCALE, SUBSCALES
from burnout.measures._aggregates import EXACT
from burnout.measures._aggregates import as_int as _int
from burnout.measures._aggregates import one_row as _one_row
from burnout.measures._aggregates import rows as _rows
from burnout.measures._moments import covariance_from_sums

__all__ = ["JointBaseline", "collect_joint_baseline"]


@dataclass(frozen=True, slots=True)
class JointBaseline:
    """Baseline means (points) and covariance (points squared, n - 1) of the three subscales
    over the ``n`` patients with all three scored; ``completers`` maps a completer's baseline
    triple (units of 1/SCALE, in ``SUBSCALES`` order) to the number of completers with it."""

    n: int
    mean: tuple[float, ...]
    cov: tuple[tuple[float, ...], ...]
    completers: dict[tuple[int, int, int], int]

    def __repr__(self) -> str:
        return f"<JointBaseline: {self.n:,} patients scored on all three subscales, {len(self.completers)} triples>"


def collect_joint_baseline(table: ir.Table, first: int) -> JointBaseline:
    """Exact sums and cross-products (DECIMAL) in one aggregate, then one grouped query."""
    x = {s: table[col(s, first)] for s in SUBSCALES}
    complete = x[SUBSCALES[0]].notnull() & x[SUBSCALES[1]].notnull() & x[SUBSCALES[2]].notnull()
    aggs: dict[str, ir.Value] = {"n": complete.cast("int64").sum()}
    for s in SUBSCALES:
        aggs[f"s_{s}"] = x[s].cast(EXACT).sum(where=complete)
    for a, b in combinations_with_replacement(SUBSCALES, 2):
        aggs[f"p_{a}_{b}"] = (x[a].cast(EXACT) * x[b].cast(EXACT)).sum(where=complete)
    row = _one_row(table.aggregate(**aggs))
    n = _int(row["n"])
    sums: dict[str, int] = {s: _int(row[f"s_{s}"]) for s in SUBSCALES}

    def cov(a: str, b: str) -> float:
        key = f"p_{a}_{b}" if f"p_{a}_{b}" in row else f"p_{b}_{a}"
        if n < 2:
            return 0.0
        return covariance_from_sums(_int(row[key]), sums[a], sums[b], n, scale=SCALE)

    comp = table.filter(table.completer & complete)
    keys = {f"_x{i}": comp[col(s, first)] for i, s in enumerate(SUBSCALES)}
    hist = _rows(comp.group_by(**keys).aggregate(_n=comp.count()).order_by(list(keys)))
    return JointBaseline(
        n=n,
        mean=tuple(0.0 if n == 0 else float(Fraction(sums[s], n) / SCALE) for s in SUBSCALES),
        cov=tuple(tuple(cov(a, b) for b in SUBSCALES) for a in SUBSCALES),
        completers={(_int(r["_x0"]), _int(r["_x1"]), _int(r["_x2"])): _int(r["_n"]) for r in hist},
    )
