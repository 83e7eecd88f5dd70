"""Beyond the reference study: intention to treat, PHQ-9, reliable change and reliability. (measures.phq9)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Final, Literal

import ibis.expr.types as ir

from burnout.cohort import col
from burnout.instrument import SUBSCALES
from burnout.measures._aggregates import EXACT as _BIG
from burnout.measures._aggregates import Moments
from burnout.measures._aggregates import as_int as _int
from burnout.measures._aggregates import moment_aggs as _moment_aggs
from burnout.measures._aggregates import moments as _moments
from burnout.measures._aggregates import one_row as _one_row
from burnout.scoring import PHQ9_SCALE

if TYPE_CHECKING:
    from burnout.plan import Protocol
from burnout.measures._moments import CrossMoments, _flag

__all__ = ["Phq9Measures", "collect_phq9"]

PHQ9_RESPONSE_MIN_BASELINE: Final[int] = 10
PHQ9_REMISSION_BELOW: Final[int] = 5


@dataclass(frozen=True, slots=True)
class Phq9Measures:
    """PHQ-9 aggregates, totals in units of ``1/scoring.PHQ9_SCALE`` (exact).

    ``population`` is "completers" (the results contract) or "all" (every patient
    in the table with the totals needed; for cohorts without MBI-GS follow-up).
    ``timepoints[t]``/``changes[t]``: totals at t and changes from the first
    assessment among patients with a total at both. ``response``/``remission``:
    (count, n) among those with a first total >= 10 and a last total.
    ``adjusted[s]``: x = PHQ-9 change (1/504 units), y = change in subscale s (1/SCALE
    units), first to last. ``subscale_not_phq9[s]``: (subscale responders who were not
    PHQ-9 responders, subscale responders), within the response denominator.
    """

    population: Literal["completers", "all"]
    first: int
    last: int
    timepoints: dict[int, Moments]
    changes: dict[int, Moments]
    response: tuple[int, int]
    remission: tuple[int, int]
    adjusted: dict[str, CrossMoments]
    subscale_not_phq9: dict[str, tuple[int, int]]


def collect_phq9(
    table: ir.Table,
    protocol: Protocol,
    *,
    population: Literal["completers", "all"] = "completers",
) -> Phq9Measures | None:
    """PHQ-9 aggregates from the patient table; None when the cohort has no PHQ-9.

    Parameters
    ----------
    table
        The patient table (with ``phq9_<t>`` columns in units of 1/504).
    protocol
        The plan (its first and last assessments).
    population
        "completers" (the results contract) or "all": every patient in the table, for
        cohorts where completion is not defined (e.g. a PHQ-9-only panel).

    Notes
    -----
    Response: ``last <= baseline / 2`` decided as ``2 * last <= baseline`` on integer
    units, among patients with a baseline total >= 10 and a last total. Remission:
    ``last < 5`` (``units < 5 * 504``), same denominator. The regression of the
    subscale change on the PHQ-9 change uses patients with both PHQ-9 totals and both
    subscale scores (first and last).
    """
    if population not in ("completers", "all"):
        raise ValueError(f"`population` must be 'completers' or 'all', got {population!r}.")
    assessments = tuple(protocol.schedule.assessments)
    first, last = assessments[0], assessments[-1]
    if f"phq9_{first}" not in table.columns:
        return None
    pop = table.filter(table.completer) if population == "completers" else table
    base = pop[f"phq9_{first}"]
    fin = pop[f"phq9_{last}"]
    aggs: dict[str, ir.Value] = {}
    for t in assessments:
        both = base.notnull() & pop[f"phq9_{t}"].notnull()
        aggs |= _moment_aggs(f"t_{t}", pop[f"phq9_{t}"], where=both)
        if t != first:
            aggs |= _moment_aggs(f"c_{t}", pop[f"phq9_{t}"] - base, where=both)
    eligible = (base >= PHQ9_RESPONSE_MIN_BASELINE * PHQ9_SCALE) & fin.notnull()
    responder = eligible & (2 * fin <= base)
    aggs["resp_n"] = _flag(eligible)
    aggs["resp"] = _flag(responder)
    aggs["remit"] = _flag(eligible & (fin < PHQ9_REMISSION_BELOW * PHQ9_SCALE))
    dx = (fin - base).cast(_BIG)
    for s in SUBSCALES:
        dy = (pop[col(s, last)] - pop[col(s, first)]).cast(_BIG)
        ok = dx.notnull() & dy.notnull()
        aggs[f"a_{s}_n"] = ok.cast("int64").sum()
        aggs[f"a_{s}_sx"] = dx.sum(where=ok)
        aggs[f"a_{s}_sy"] = dy.sum(where=ok)
        aggs[f"a_{s}_sxx"] = (dx * dx).sum(where=ok)
        aggs[f"a_{s}_syy"] = (dy * dy).sum(where=ok)
        aggs[f"a_{s}_sxy"] = (dx * dy).sum(where=ok)
        sub = eligible & pop[f"response_{s}"].fill_null(False)
        aggs[f"nr_{s}_n"] = _flag(sub)
        aggs[f"nr_{s}"] = _flag(sub & ~(2 * fin <= base))
    row = _one_row(pop.aggregate(**aggs))
    return Phq9Measures(
        population=population,
        first=first,
        last=last,
        timepoints={t: _moments(row, f"t_{t}") for t in assessments},
        changes={t: _moments(row, f"c_{t}") for t in assessments if t != first},
        response=(_int(row["resp"]), _int(row["resp_n"])),
        remission=(_int(row["remit"]), _int(row["resp_n"])),
        adjusted={
            s: CrossMoments(*(_int(row[f"a_{s}_{k}"]) for k in ("n", "sx", "sy", "sxx", "syy", "sxy")))
            for s in SUBSCALES
        },
        subscale_not_phq9={s: (_int(row[f"nr_{s}"]), _int(row[f"nr_{s}_n"])) for s in SUBSCALES},
    )
