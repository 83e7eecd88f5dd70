"""The paired first-to-last analysis of any instrument's scales, in the engine (measures.paired).

PHQ-9 has had its own branch (``measures.phq9``); this is the same analysis for every
instrument the plan names: the primary one when it is not the MBI-GS (its scales
decide eligibility, completion and response) and the secondary ones. Scores are the
patient table's integer units (``cohort``), so each response is decided as an integer
comparison here.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING, Literal

import ibis.expr.types as ir

from burnout.cohort import PRIMARY_PREFIX, col, secondary_stems
from burnout.instrument import SUBSCALES
from burnout.measures._aggregates import Moments
from burnout.measures._aggregates import as_int as _int
from burnout.measures._aggregates import moment_aggs as _moment_aggs
from burnout.measures._aggregates import moments as _moments
from burnout.measures._aggregates import one_row as _one_row
from burnout.measures._moments import _flag
from burnout.plan.instruments import DEFAULT_PRIMARY, min_changes
from burnout.scoring import to_units_ceil

if TYPE_CHECKING:
    from burnout.plan import Protocol

__all__ = ["InstrumentMeasures", "ScaleMeasures", "collect_instruments", "instrument_columns"]


@dataclass(frozen=True, slots=True)
class ScaleMeasures:
    """One scale among completers, in units of ``1/units`` point (exact).

    ``timepoints[t]``/``changes[t]``: scores at t and changes from the first assessment,
    among completers scored at both. ``response``: (improved by at least ``min_change``
    in the good direction, scored first and last); None when the definition gives no
    minimal change for a secondary instrument.
    """

    good: Literal["lower", "higher"]
    timepoints: dict[int, Moments]
    changes: dict[int, Moments]
    min_change: Fraction | None
    response: tuple[int, int] | None


@dataclass(frozen=True, slots=True)
class InstrumentMeasures:
    """An instrument's paired analysis: its role in the plan and each scale's aggregates."""

    name: str
    role: Literal["primary", "secondary"]
    units: int
    first: int
    last: int
    scales: dict[str, ScaleMeasures]


def instrument_columns(table: ir.Table, protocol: Protocol) -> dict[str, tuple[str, dict[str, str]]]:
    """Instrument name -> (role, scale -> column stem in the patient table) for every instrument
    the plan analyses that the table holds. The MBI-GS as the primary instrument has its own
    sections and is left out here; as a secondary one (beside another primary) it gets the
    paired analysis like any other."""
    first = protocol.schedule.assessments[0]
    out: dict[str, tuple[str, dict[str, str]]] = {}
    primary = protocol.instruments.primary
    if primary != DEFAULT_PRIMARY:
        out[primary] = ("primary", {s: PRIMARY_PREFIX + s for s in protocol.instruments.definition(primary).scales})
    wanted = protocol.instruments.secondary
    for name in wanted if wanted is not None else ("phq9",):
        if name == primary:
            continue
        # the MBI-GS columns of the patient table are named by subscale (its own sections use them)
        stems: dict[str, str] = (
            {str(s): str(s) for s in SUBSCALES}
            if name == DEFAULT_PRIMARY
            else secondary_stems(protocol.instruments.definition(name))
        )
        if all(col(stem, first) in table.columns for stem in stems.values()):
            out[name] = ("secondary", stems)
    return out


def collect_instruments(table: ir.Table, protocol: Protocol) -> dict[str, InstrumentMeasures]:
    """Each analysed instrument's aggregates among completers (one query per instrument)."""
    assessments = tuple(protocol.schedule.assessments)
    first, last = assessments[0], assessments[-1]
    pop = table.filter(table.completer)
    out = {}
    for name, (role, stems) in instrument_columns(table, protocol).items():
        inst = protocol.instruments.definition(name)
        changes = min_changes(protocol) if role == "primary" else {}
        aggs: dict[str, ir.Value] = {}
        minimum: dict[str, Fraction | None] = {}
        for i, (scale, stem) in enumerate(stems.items()):
            rule = inst.scales[scale]
            base, fin = pop[col(stem, first)], pop[col(stem, last)]
            for t in assessments:
                both = base.notnull() & pop[col(stem, t)].notnull()
                aggs |= _moment_aggs(f"t{i}_{t}", pop[col(stem, t)], where=both)
                if t != first:
                    aggs |= _moment_aggs(f"c{i}_{t}", pop[col(stem, t)] - base, where=both)
            default = None if rule.min_change is None else Fraction(rule.min_change)
            least = minimum[scale] = changes.get(scale, default)
            if least is not None:
                sign = 1 if rule.good == "higher" else -1
                both = base.notnull() & fin.notnull()
                cut = to_units_ceil(least, scale=inst.units_per_point)
                aggs[f"r{i}_n"] = _flag(both)
                aggs[f"r{i}"] = _flag(both & ((fin - base) * sign >= cut))
        row = _one_row(pop.aggregate(**aggs))
        out[name] = InstrumentMeasures(
            name=name,
            role=role,  # type: ignore[arg-type]  # "primary" or "secondary" by construction
            units=inst.units_per_point,
            first=first,
            last=last,
            scales={
                scale: ScaleMeasures(
                    good=inst.scales[scale].good,
                    timepoints={t: _moments(row, f"t{i}_{t}") for t in assessments},
                    changes={t: _moments(row, f"c{i}_{t}") for t in assessments if t != first},
                    min_change=minimum[scale],
                    response=None if minimum[scale] is None else (_int(row[f"r{i}"]), _int(row[f"r{i}_n"])),
                )
                for i, scale in enumerate(stems)
            },
        )
    return out
