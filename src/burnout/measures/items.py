"""Item moments of the completers, in the engine: per assessment for Cronbach's alpha
(``ItemMoments``), and at baseline joined to the last assessment for longitudinal
measurement invariance (``ItemPairs``, issue 16).

Per subscale, over the completers who answered every item of the subscale (at both
occasions for the pairs): the count, the item sums and their squares or every
cross-product. Items are 0-6, so each sum is exact in int64.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from itertools import combinations_with_replacement
from typing import TYPE_CHECKING

import ibis
import ibis.expr.types as ir
import numpy as np

from burnout import stats as est
from burnout.instrument import SUBSCALE_ITEMS, SUBSCALES, Subscale
from burnout.measures._aggregates import as_int as _int
from burnout.measures._aggregates import one_row as _one_row
from burnout.measures._aggregates import rows as _rows
from burnout.measures._moments import covariance_from_sums

if TYPE_CHECKING:
    from burnout.ingest import Cohort

__all__ = ["ItemMoments", "ItemPairs", "collect_item_moments", "collect_item_pairs"]


@dataclass(frozen=True, slots=True)
class ItemMoments:
    """Per-item and item-total sums of one subscale at one assessment (complete cases only).

    ``item_sums[i]``/``item_sum_sq[i]`` are the sum and sum of squares of item i,
    ``total``/``total_sq`` those of the sum of the items, over the ``n`` rows on which
    every item of the subscale was answered.
    """

    n: int
    item_sums: tuple[int, ...]
    item_sum_sq: tuple[int, ...]
    total: int
    total_sq: int

    def reliability(self, *, confidence: float = 0.95) -> est.Reliability:
        """Cronbach's alpha (and Feldt CI) from these sums, via ``estimates.cronbach_alpha``.

        Item and total variances are formed exactly (``SS - S^2/n``, the common
        ``1/(n-1)`` cancels in alpha).
        """
        k = len(self.item_sums)
        if self.n < 2:
            return est.Reliability(k=k, n=self.n, alpha=None, ci=None, confidence=confidence)
        items = sum(
            (Fraction(ss) - Fraction(s * s, self.n) for s, ss in zip(self.item_sums, self.item_sum_sq, strict=True)),
            Fraction(0),
        )
        tot = Fraction(self.total_sq) - Fraction(self.total * self.total, self.n)
        return est.cronbach_alpha(k, self.n, items, tot, confidence=confidence)


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
    """One query: per subscale, the completers' baseline item rows joined to their last ones,
    kept where every item of the subscale is answered at both, then summed.

    Filtering each subscale's complete rows first, rather than a ``FILTER`` on each of its
    ~200 sums, keeps the SQL a tenth of the size (its compilation was most of this step on
    the demo cohort) and the engine's work to plain sums (issue 15).
    """
    mbi = cohort.mbi_gs.semi_join(comp.select("patient_id"), "patient_id")
    cols = [f"item_{i}" for s in SUBSCALES for i in SUBSCALE_ITEMS[s]]
    base = mbi.filter(mbi.after_session == first).select("patient_id", *[mbi[c].name(f"b_{c}") for c in cols])
    end = mbi.filter(mbi.after_session == last).select(
        mbi.patient_id.name("pid_l"), *[mbi[c].name(f"l_{c}") for c in cols]
    )
    both = base.join(end, base.patient_id == end.pid_l)
    per_subscale = [_pair_sums(both, s) for s in SUBSCALES]
    row = _one_row(per_subscale[0].cross_join(*per_subscale[1:]))
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


def _pair_sums(both: ir.Table, subscale: Subscale) -> ir.Table:
    """One row: ``n``, the item sums and every cross-product's sum over the rows with all of
    ``subscale``'s items answered at both occasions (baseline items first)."""
    names = [f"{w}_item_{i}" for w in ("b", "l") for i in SUBSCALE_ITEMS[subscale]]
    complete = both.filter(*(both[c].notnull() for c in names))
    x = [complete[c].cast("int64") for c in names]
    aggs: dict[str, ir.Value] = {f"{subscale}__n": complete.count()}
    for j, v in enumerate(x):
        aggs[f"{subscale}__s{j}"] = v.sum()
    for a, b in combinations_with_replacement(range(len(x)), 2):
        aggs[f"{subscale}__p{a}_{b}"] = (x[a] * x[b]).sum()
    return complete.aggregate(**aggs)


def collect_item_moments(
    cohort: Cohort, comp: ir.Table, assessments: tuple[int, ...]
) -> dict[tuple[str, int], ItemMoments]:
    """Item sums per subscale and assessment, completers only, complete item rows only.

    One query: each subscale's complete rows grouped by assessment, the three stacked
    (a subscale with fewer items pads with nulls). Filtering first keeps each sum plain
    rather than one ``FILTER`` per sum (issue 15). Items are 0-6, so every sum here (of
    items, their squares, the subscale total and its square, at most 1,296 a row) is
    exact in int64 for any cohort a machine can hold; no DECIMAL arithmetic is needed.
    """
    mbi = cohort.mbi_gs
    rows = mbi.filter(mbi.after_session.isin(list(assessments))).semi_join(comp.select("patient_id"), "patient_id")
    width = max(len(SUBSCALE_ITEMS[s]) for s in SUBSCALES)
    stacked = ibis.union(*(_item_sums(rows, s, width) for s in SUBSCALES), distinct=False)
    found = {(r["_subscale"], int(r["after_session"])): r for r in _rows(stacked)}
    out: dict[tuple[str, int], ItemMoments] = {}
    for s in SUBSCALES:
        k = len(SUBSCALE_ITEMS[s])
        for t in assessments:
            row = found.get((s, t), {})
            out[(s, t)] = ItemMoments(
                n=_int(row.get("n")),
                item_sums=tuple(_int(row.get(f"i{j}")) for j in range(k)),
                item_sum_sq=tuple(_int(row.get(f"q{j}")) for j in range(k)),
                total=_int(row.get("t")),
                total_sq=_int(row.get("tt")),
            )
    return out


def _item_sums(rows: ir.Table, subscale: Subscale, width: int) -> ir.Table:
    """Per assessment, over the rows with every item of ``subscale`` answered: n, each item's
    sum and sum of squares (``i<j>``, ``q<j>``; null past the subscale's items, up to
    ``width``), the total's sum and sum of squares."""
    complete = rows.filter(*(rows[f"item_{i}"].notnull() for i in SUBSCALE_ITEMS[subscale]))
    items = [complete[f"item_{i}"].cast("int64") for i in SUBSCALE_ITEMS[subscale]]
    total = sum(items[1:], items[0])
    aggs: dict[str, ir.Value] = {"n": complete.count()}
    for j, it in enumerate(items):
        aggs[f"i{j}"] = it.sum()
        aggs[f"q{j}"] = (it * it).sum()
    aggs |= {"t": total.sum(), "tt": (total * total).sum()}
    sums = complete.group_by("after_session").aggregate(**aggs)
    none = ibis.null("int64")
    padded = {f"{w}{j}": sums[f"{w}{j}"] if j < len(items) else none for j in range(width) for w in "iq"}
    return sums.select("after_session", _subscale=ibis.literal(subscale), n=sums.n, **padded, t=sums.t, tt=sums.tt)
