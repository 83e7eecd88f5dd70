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
from burnout.measures._moments import cross_moment_aggs as _cross_moment_aggs
from burnout.measures._moments import cross_moments as _cross_moments

__all__ = ["Phq9Measures", "collect_phq9"]

PHQ9_RESPONSE_MIN_BASELINE: Final[int] = 10
PHQ9_REMISSION_BELOW: Final[int] = 5
# subscale responder (or not) x PHQ-9 status: responder, other in the response denominator, outside it
SUBSCALE_CELLS: Final[tuple[str, ...]] = (
    "responder_phq9_responder",
    "responder_phq9_non_responder",
    "responder_outside_denominator",
    "non_responder_phq9_responder",
    "non_responder_phq9_non_responder",
    "non_responder_outside_denominator",
)


@dataclass(frozen=True, slots=True)
class Phq9Measures:
    """PHQ-9 aggregates, totals in units of ``1/scoring.PHQ9_SCALE`` (exact).

    ``population`` is "completers" (the results contract) or "all" (every patient
    in the table with the totals needed; for cohorts without MBI-GS follow-up).
    ``timepoints[t]``/``changes[t]``: totals at t and changes from the first
    assessment among patients with a total at both. ``response``/``remission``:
    (count, n) among those with a first total >= 10 and a last total.
    ``adjusted[s]``: x = PHQ-9 change (1/504 units), y = change in subscale s (1/SCALE
    units), first to last. ``subscale_cells[s]``: the subscale response x PHQ-9 response
    table (:data:`SUBSCALE_CELLS`); ``subscale_not_phq9[s]``, derived from it: (subscale
    responders who were not PHQ-9 responders, subscale responders), within the response
    denominator.
    """

    population: Literal["completers", "all"]
    first: int
    last: int
    timepoints: dict[int, Moments]
    changes: dict[int, Moments]
    response: tuple[int, int]
    remission: tuple[int, int]
    adjusted: dict[str, CrossMoments]
    subscale_cells: dict[str, dict[str, int]]

    @property
    def subscale_not_phq9(self) -> dict[str, tuple[int, int]]:
        return {s: _not_phq9(cells) for s, cells in self.subscale_cells.items()}


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
    base, fin = pop[f"phq9_{first}"], pop[f"phq9_{last}"]
    eligible = (base >= PHQ9_RESPONSE_MIN_BASELINE * PHQ9_SCALE) & fin.notnull()
    aggs = _totals_aggs(pop, assessments) | _response_aggs(base, fin, eligible)
    aggs |= _subscale_aggs(pop, base, fin, eligible, first=first, last=last)
    row = _one_row(pop.aggregate(**aggs))
    cells: dict[str, dict[str, int]] = {s: {c: _int(row[f"x_{s}_{c}"]) for c in SUBSCALE_CELLS} for s in SUBSCALES}
    return Phq9Measures(
        population=population,
        first=first,
        last=last,
        timepoints={t: _moments(row, f"t_{t}") for t in assessments},
        changes={t: _moments(row, f"c_{t}") for t in assessments if t != first},
        response=(_int(row["resp"]), _int(row["resp_n"])),
        remission=(_int(row["remit"]), _int(row["resp_n"])),
        adjusted={s: _cross_moments(row, f"a_{s}") for s in SUBSCALES},
        subscale_cells=cells,
    )


def _not_phq9(cells: dict[str, int]) -> tuple[int, int]:
    """(subscale responders who were not PHQ-9 responders, subscale responders) within the
    PHQ-9 response denominator: two of the cells summed, not counted again by the engine."""
    other = cells["responder_phq9_non_responder"]
    return other, cells["responder_phq9_responder"] + other


def _totals_aggs(pop: ir.Table, assessments: tuple[int, ...]) -> dict[str, ir.Value]:
    """Totals at each assessment and their change from the first, over those with both totals."""
    first = assessments[0]
    base = pop[f"phq9_{first}"]
    aggs: dict[str, ir.Value] = {}
    for t in assessments:
        both = base.notnull() & pop[f"phq9_{t}"].notnull()
        aggs |= _moment_aggs(f"t_{t}", pop[f"phq9_{t}"], where=both)
        if t != first:
            aggs |= _moment_aggs(f"c_{t}", pop[f"phq9_{t}"] - base, where=both)
    return aggs


def _response_aggs(base: ir.IntegerValue, fin: ir.IntegerValue, eligible: ir.BooleanValue) -> dict[str, ir.Value]:
    """Response (at least halved) and remission (below 5) among the eligible, on integer units."""
    return {
        "resp_n": _flag(eligible),
        "resp": _flag(eligible & (2 * fin <= base)),
        "remit": _flag(eligible & (fin < PHQ9_REMISSION_BELOW * PHQ9_SCALE)),
    }


def _subscale_aggs(
    pop: ir.Table,
    base: ir.IntegerValue,
    fin: ir.IntegerValue,
    eligible: ir.BooleanValue,
    *,
    first: int,
    last: int,
) -> dict[str, ir.Value]:
    """Per subscale: the cross-moments of its change on the PHQ-9 change, and its responders
    (among the eligible) who were not PHQ-9 responders."""
    dx = (fin - base).cast(_BIG)
    aggs: dict[str, ir.Value] = {}
    for s in SUBSCALES:
        dy = (pop[col(s, last)] - pop[col(s, first)]).cast(_BIG)
        aggs |= _cross_moment_aggs(f"a_{s}", dx, dy)
        aggs |= _cell_aggs(f"x_{s}", pop[f"response_{s}"].fill_null(False), base, fin, eligible)
    return aggs


def _cell_aggs(
    prefix: str, responder: ir.BooleanValue, base: ir.IntegerValue, fin: ir.IntegerValue, eligible: ir.BooleanValue
) -> dict[str, ir.Value]:
    """The six cells of subscale response x PHQ-9 status (SUBSCALE_CELLS), over the whole population."""
    # nulls (no first or last total) filled first, so that "outside the denominator" counts them
    in_denominator = eligible.fill_null(False)
    phq9_responder = in_denominator & (2 * fin <= base).fill_null(False)
    status = (phq9_responder, in_denominator & ~phq9_responder, ~in_denominator)
    cells = [side & st for side in (responder, ~responder) for st in status]
    return {f"{prefix}_{name}": _flag(cell) for name, cell in zip(SUBSCALE_CELLS, cells, strict=True)}
