"""Reliable change and the baseline reference for regression to the mean, in the engine.

Both need the baseline of the patients *before* the threshold selected them: a
threshold on baseline scores restricts their range (the completers' Exhaustion SD is
0.40 in the demo against 0.92 over everyone scored), which makes alpha and SD too small
and the reliable-change criterion too lenient. So:

- the **reference** is every patient with a scored baseline on the subscale;
- the **selected** are those who met the threshold (regression to the mean moves them);
- the reliable change takes its SD from the plan (a published norm) or, not set there,
  from the reference, and its reliability from the plan (by default a published
  test-retest correlation, ``plan.TEST_RETEST_SOURCE``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import ibis.expr.types as ir

from burnout import stats as est
from burnout.cohort import col
from burnout.instrument import GOOD_DIRECTION, SCALE, SUBSCALES
from burnout.measures._aggregates import Moments
from burnout.measures._aggregates import as_int as _int
from burnout.measures._aggregates import moment_aggs as _moment_aggs
from burnout.measures._aggregates import moments as _moments
from burnout.measures._aggregates import one_row as _one_row
from burnout.measures._moments import _flag
from burnout.measures.joint import JointBaseline, collect_joint_baseline
from burnout.scoring import to_units_ceil

if TYPE_CHECKING:
    from burnout.plan import Protocol

__all__ = ["BaselineReference", "ReliableChangeCounts", "collect_baseline_reference", "collect_reliable_change"]

COHORT_SD_SOURCE = (
    "the baseline SD of every patient with a scored baseline in this cohort (before the threshold selects)"
)


@dataclass(frozen=True, slots=True)
class BaselineReference:
    """Baseline moments per subscale (units of 1/SCALE): ``reference`` over every patient with
    a scored baseline, ``selected`` over those who met the threshold; ``completer_change``
    the completers' change first -> last (the mean-change headline)."""

    reference: dict[str, Moments]
    selected: dict[str, Moments]
    completer_change: dict[str, Moments]
    completer_baselines: dict[str, dict[int, int]] = field(default_factory=dict)
    """Per subscale: completers by baseline score (units -> patients), for the response
    expected with no true change (at most a few hundred distinct scores: an aggregate)."""
    joint: JointBaseline | None = None
    """The three subscales jointly (the threshold and profile shares expected with no change)."""

    def sd(self, subscale: str) -> float | None:
        """The reference SD in points (None with fewer than 2 patients)."""
        m = self.reference[subscale]
        return None if m.n < 2 else (m.centered_ss() / (m.n - 1)) ** 0.5 / SCALE


@dataclass(frozen=True, slots=True)
class ReliableChangeCounts:
    """Jacobson-Truax classification of the completers on one subscale.

    ``cutoff_units`` is ``ceil(critical_change * SCALE)``: a completer improved when the
    change in the good direction is at least ``cutoff_units`` units, deteriorated when it
    is at least that in the bad direction (integer comparisons in the engine). ``sd_n`` is
    the number of patients the SD is over (None: the plan's SD). The cut-off and counts
    are None/0 when the reliable change cannot be computed (``reason`` says why).
    """

    n: int
    improved: int
    deteriorated: int
    reliability: float
    sd: float | None
    sd_n: int | None
    source: str
    critical_change: float | None
    cutoff_units: int | None
    reason: str | None = None


def collect_baseline_reference(table: ir.Table, first: int, last: int) -> BaselineReference:
    """One aggregate query over the whole patient table."""
    aggs: dict[str, ir.Value] = {}
    for s in SUBSCALES:
        base = table[col(s, first)]
        aggs |= _moment_aggs(f"ref_{s}", base)
        aggs |= _moment_aggs(f"sel_{s}", base, where=table.threshold_met)
        aggs |= _moment_aggs(f"chg_{s}", table[col(s, last)] - base, where=table.completer)
    row = _one_row(table.aggregate(**aggs))
    joint = collect_joint_baseline(table, first)
    return BaselineReference(
        reference={s: _moments(row, f"ref_{s}") for s in SUBSCALES},
        selected={s: _moments(row, f"sel_{s}") for s in SUBSCALES},
        completer_change={s: _moments(row, f"chg_{s}") for s in SUBSCALES},
        completer_baselines=_completer_baselines(joint),
        joint=joint,
    )


def _completer_baselines(joint: JointBaseline) -> dict[str, dict[int, int]]:
    """Each subscale's completers by baseline score (sorted), the margins of the joint triples.

    A completer has every subscale scored at baseline (``cohort``: all assessments scored),
    so the triples hold every completer and their margins are the per-subscale histograms.
    """
    out: dict[str, dict[int, int]] = {s: {} for s in SUBSCALES}
    for triple, n in joint.completers.items():
        for s, x in zip(SUBSCALES, triple, strict=True):
            out[s][x] = out[s].get(x, 0) + n
    return {s: dict(sorted(counts.items())) for s, counts in out.items()}


def collect_reliable_change(
    comp: ir.Table, reference: BaselineReference, first: int, last: int, protocol: Protocol
) -> dict[str, ReliableChangeCounts]:
    """Cut-offs from the plan's reliabilities and SDs (or the reference SD), then integer counts in the engine."""
    plan = protocol.reliable_change
    setup: dict[str, tuple[float | None, int | None, str, float | None, int | None, str | None]] = {}
    for s in SUBSCALES:
        reliability = plan.reliability(s)
        planned = plan.sd(s)
        sd, sd_n = (planned, None) if planned is not None else (reference.sd(s), reference.reference[s].n)
        sd_source = "the analysis plan ([reliable_change])" if planned is not None else COHORT_SD_SOURCE
        source = f"reliability: {plan.reliability_source(s)}; SD: {sd_source}"
        if sd is None or sd == 0:
            reason = "fewer than 2 patients with a scored baseline, or no spread at baseline; set the SD in the plan"
            setup[s] = (sd, sd_n, source, None, None, reason)
            continue
        critical = est.rci_critical_change(sd, reliability)
        setup[s] = (sd, sd_n, source, critical, to_units_ceil(critical), None)
    aggs: dict[str, ir.Value] = {"n": comp.count()}
    for name, entry in setup.items():
        cut = entry[4]
        if cut is not None:
            change = (comp[col(name, last)] - comp[col(name, first)]) * GOOD_DIRECTION[name]  # type: ignore[index]  # a Subscale at run time
            aggs[f"imp_{name}"] = _flag(change >= cut)
            aggs[f"det_{name}"] = _flag(change <= -cut)
    row = _one_row(comp.aggregate(**aggs))
    return {
        name: ReliableChangeCounts(
            n=_int(row["n"]),
            improved=_int(row.get(f"imp_{name}")),
            deteriorated=_int(row.get(f"det_{name}")),
            reliability=plan.reliability(name),
            sd=entry[0],
            sd_n=entry[1],
            source=entry[2],
            critical_change=entry[3],
            cutoff_units=entry[4],
            reason=entry[5],
        )
        for name, entry in setup.items()
    }
