"""Item moments of the same completers at baseline and the last assessment, in the engine,
for longitudinal measurement invariance (issue 16).

Per subscale: over the completers who answered every item of the subscale at both
occasions, the count, the sums of the 2p item columns (baseline items then last) and
every cross-product. Items are 0-6, so each sum is exact in int64.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from itertools import combinations_with_replacement
from typing import TYPE_CHECKING

import ibis
import ibis.expr.types as ir
import numpy as np

from burnout.instrument import SUBSCALE_ITEMS, SUBSCALES
from burnout.measures._aggregates import as_int as _int
from burnout.measures._aggregates import one_row as _one_row
from burnout.measures._moments import covariance_from_sums

if TYPE_CHECKING:
    from burnout.ingest import Cohort

__all__ = ["ItemPairs", "collect_item_pairs"]


@dataclass(frozen=True, slots=True)
class ItemPairs:
    """Exact sums over ``n`` patients of ``q = 2p`` item columns (baseline then last)."""

    n: int
    p: int
    sums: tuple[int, ...]
    products: dict[tuple[int, int], int]

    def mean(self) -> np.ndarray:
        return np.array([float(Fraction(s, self.n)) for s in self.sums])

    def cov(self) -> np.ndarray:
        """The covariance matrix (n - 1 divisor), each entry from exact sums then rounded once."""
        q = len(self.sums)
        out = np.empty((q, q))
        for (a, b), total in self.products.items():
            out[a, b] = out[b, a] = covariance_from_sums(total, self.sums[a], self.sums[b], self.n)
        return out


def collect_item_pairs(cohort: Cohort, comp: ir.Table, first: int, last: int) -> dict[str, ItemPairs]:
    """One aggregate query over the completers' baseline item rows joined to their last ones."""
    mbi = cohort.mbi_gs.semi_join(comp.select("patient_id"), "patient_id")
    cols = [f"item_{i}" for s in SUBSCALES for i in SUBSCALE_ITEMS[s]]
    base = mbi.filter(mbi.after_session == first).select("patient_id", *[mbi[c].name(f"b_{c}") for c in cols])
    end = mbi.filter(mbi.after_session == last).select(
        mbi.patient_id.name("pid_l"), *[mbi[c].name(f"l_{c}") for c in cols]
    )
    both = base.join(end, base.patient_id == end.pid_l)
    aggs: dict[str, ir.Value] = {}
    for s in SUBSCALES:
        names = [f"{w}_item_{i}" for w in ("b", "l") for i in SUBSCALE_ITEMS[s]]
        x = [both[c].cast("int64") for c in names]
        complete = ibis.and_(*(v.notnull() for v in x))
        aggs[f"{s}__n"] = complete.cast("int64").sum()
        for j, v in enumerate(x):
            aggs[f"{s}__s{j}"] = v.sum(where=complete)
        for a, b in combinations_with_replacement(range(len(x)), 2):
            aggs[f"{s}__p{a}_{b}"] = (x[a] * x[b]).sum(where=complete)
    row = _one_row(both.aggregate(**aggs))
    out: dict[str, ItemPairs] = {}
    for s in SUBSCALES:
        q = 2 * len(SUBSCALE_ITEMS[s])
        out[s] = ItemPairs(
            n=_int(row[f"{s}__n"]),
            p=q // 2,
            sums=tuple(_int(row[f"{s}__s{j}"]) for j in range(q)),
            products={(a, b): _int(row[f"{s}__p{a}_{b}"]) for a, b in combinations_with_replacement(range(q), 2)},
        )
    return out
