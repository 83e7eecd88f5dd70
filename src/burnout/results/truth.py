"""The ``synthetic_truth`` section: what the demo's missing-data methods should have found. (results.truth).

Present only when the demo supplies the simulator's truth (``measures.collect_truth``);
``analyze`` on a cohort never writes it. Every number passes the Publisher.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from burnout import privacy
from burnout.instrument import SCALE, SUBSCALES

if TYPE_CHECKING:
    from collections.abc import Mapping

    from burnout.measures.truth import TruthMeasures
    from burnout.plan import Protocol

__all__ = ["TRUTH_NOTE", "truth_results"]

TRUTH_NOTE: Final[str] = (
    "SYNTHETIC data only: the simulator's own record of every threshold-met patient's items at the first and "
    "last assessment as drawn, also for patients who dropped out (nobody lost, no item blank), scored and "
    "classified like the cohort. In the simulator the latent change does not depend on the sessions attended, "
    "so the truth also credits patients who never had a session with the change the model drew for them."
)


def truth_results(tm: TruthMeasures, protocol: Protocol, results: Mapping[str, Any]) -> dict[str, Any]:
    """The ``synthetic_truth`` tree, and for each outcome the smallest tipping-table delta at
    which the multiple-imputation rate is at or below the truth (``tipping_delta``)."""
    pub = privacy.Publisher.for_plan(protocol)
    n = tm.n
    out: dict[str, Any] = {"note": TRUTH_NOTE, "threshold_met": pub.count(n)}
    shown = pub.enough(n)
    for s in SUBSCALES:
        out[s] = {
            "response": pub.prop(tm.responders[s], n),
            "change": tm.change_sum[s] / n / SCALE if shown and n else None,
        }
    out["responders"] = {"at_least_1": pub.prop(tm.responders["at_least_1"], n)}
    tipping = ((results.get("itt") or {}).get("multiple_imputation") or {}).get("tipping") or {}
    deltas = tipping.get("deltas") or []
    reach: dict[str, float | None] = {}
    for o in (*SUBSCALES, "at_least_1"):
        truth = (out["responders"]["at_least_1"] if o == "at_least_1" else out[o]["response"])["rate"]
        rates = (tipping.get(o) or {}).get("rate")
        reach[o] = None
        if truth is not None and rates:
            reach[o] = next((d for d, r in zip(deltas, rates, strict=True) if r <= truth), None)
    out["tipping_delta"] = reach
    return out
