"""The synthetic truth of the demo cohort, aggregated in the engine (``synthetic_truth``).

The simulator knows every patient's items at every assessment, also after dropout
(``burnout simulate`` writes them as ``synthetic_truth``). Scored like the cohort
(``scoring.score_mbi``) and reduced to the same outcomes as the beyond-completers
table, they show what each missing-data method should have found: the response rate
of every threshold-met patient had nobody been lost, and the mean change to the last
assessment. Only the demo computes this; ``analyze`` never reads the truth.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import ibis
import ibis.expr.types as ir

from burnout.cohort import exact
from burnout.instrument import GOOD_DIRECTION, SUBSCALES
from burnout.measures._aggregates import EXACT as _BIG
from burnout.measures._aggregates import as_int as _int
from burnout.measures._aggregates import one_row as _one_row
from burnout.scoring import score_mbi, to_units_ceil

if TYPE_CHECKING:
    from burnout.plan import Protocol

__all__ = ["TruthMeasures", "collect_truth"]


@dataclass(frozen=True, slots=True)
class TruthMeasures:
    """Responders and summed change (units) over the ``n`` threshold-met patients of the truth.

    ``responders`` maps each subscale and ``"at_least_1"`` to a count; ``change_sum``
    maps each subscale to the exact sum of (last - first) in units of 1/SCALE.
    """

    n: int
    responders: dict[str, int]
    change_sum: dict[str, int]


def collect_truth(truth: ir.Table, protocol: Protocol) -> TruthMeasures:
    """Score the truth's items and count, in one query, response and change per subscale.

    ``truth`` has the columns of ``SimulatedCohort.truth``: patient_id, after_session,
    threshold_met, returned, item_1..item_16. Response is decided exactly as for the
    cohort: change in the good direction >= the plan's minimum change, in integer units.
    """
    assessments = list(protocol.schedule.assessments)
    first, last = assessments[0], assessments[-1]
    rows = truth.filter(truth.threshold_met & truth.after_session.isin([first, last]))
    scored = score_mbi(rows, max_missing_items=protocol.scoring.max_missing_items)
    wide = scored.group_by("patient_id").aggregate(
        **{f"{s}_{t}": scored[s].max(where=scored.after_session == t) for s in SUBSCALES for t in (first, last)}
    )
    min_change = to_units_ceil(exact(protocol.response.min_change))
    change = {s: wide[f"{s}_{last}"] - wide[f"{s}_{first}"] for s in SUBSCALES}
    response = {s: (change[s] * GOOD_DIRECTION[s] >= min_change).fill_null(False) for s in SUBSCALES}
    aggs: dict[str, ir.Value] = {"n": wide.count(), "any": ibis.or_(*response.values()).cast("int64").sum()}
    for s in SUBSCALES:
        aggs[f"r_{s}"] = response[s].cast("int64").sum()
        aggs[f"c_{s}"] = change[s].cast(_BIG).sum()  # last - first, as the docstring says: no direction
    row = _one_row(wide.aggregate(**aggs))
    return TruthMeasures(
        n=_int(row["n"]),
        responders={s: _int(row[f"r_{s}"]) for s in SUBSCALES} | {"at_least_1": _int(row["any"])},
        change_sum={s: _int(row[f"c_{s}"]) for s in SUBSCALES},
    )
