"""Beyond the reference study: intention to treat, PHQ-9, reliable change and reliability.

The reference study analysed only its completers (24.1%). This module adds what it
left open (seed-study.md), as the ``itt``, ``phq9``, ``reliable_change`` and
``reliability`` branches of results.json (results.md, second part):

- **worst case** (``itt.worst_case``): non-responder imputation: every patient who met
  the threshold is in the denominator, an observed response counts (completer or not:
  baseline and last assessment scored) and a missing one is a non-response;
- **multiple imputation** (``itt.multiple_imputation``): the missing subscale scores of
  every threshold-met patient who had a session are imputed ``m`` times (the plan's
  ``[imputation] m``, 100) by chained equations with predictive mean matching on the
  other scores, sessions attended, age, sex, route, pathway and baseline PHQ-9
  (``measures.imputation``, ``stats.imputation``); patients who never had a session
  count as unchanged (treatment-policy estimand); responders are counted in each completed
  data set and the rates pooled by Rubin's rules on the logit scale with Barnard-Rubin df
  (``stats.pool_proportions``), also after shifting the imputed scores (tipping points);
- **MMRM** (``itt.mmrm``, primary) and **random-intercept model** (``itt.mixed_model``,
  sensitivity): categorical time on every available assessment of every threshold-met
  patient, giving model-based means per timepoint under MAR, both fitted (``stats.mmrm``,
  ``stats.mixed``) from the per-missingness-pattern counts, sums and cross-products;
- **PHQ-9** (``phq9``): depression totals, response (a fall of >= 50%) and remission
  (< 5) among completers, and the change in each subscale regressed on the change in
  PHQ-9 (the burnout change not explained by a change in depression);
- **reliable change** (``reliable_change``): the Jacobson-Truax index per subscale,
  from the plan's reliability (a published test-retest correlation by default) and SD
  (by default the baseline SD of every patient scored, before selection; ``reliable``);
- **reliability** (``reliability``): Cronbach's alpha of each subscale's items at each
  assessment among completers.

Data movement
-------------
As everywhere else, the relational work runs in the engine and Python receives
aggregates: counts, exact integer sums, sums of squares and cross-products, and for
the mixed model the sufficient statistics of each missingness pattern. The one
exception is multiple imputation, which needs the per-patient score matrix of the
threshold-met patients: :func:`collect_beyond` pulls only numeric columns (scores in
integer units, age, sex and route indicators and the engine's observed response
decisions), never a patient id, and above ``MI_MAX_PATIENTS`` only a sample the engine
chose by a seeded hash of the row contents; it sorts the rows by their own content,
imputes, and keeps only the responder counts of each completed data set.

Determinism: the same cohort, plan and ``[analysis] seed`` give identical floats.

>>> from burnout.measures import collect_beyond; from burnout.results import beyond_results        # doctest: +SKIP
>>> bm = collect_beyond(table, cohort, plan)                           # doctest: +SKIP
>>> tree = beyond_results(bm, plan, threshold_met=1642, completers=395)  # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final

import ibis.expr.types as ir
import numpy as np

from burnout.cohort import col
from burnout.instrument import SUBSCALES
from burnout.measures._aggregates import EXACT as _BIG
from burnout.measures._aggregates import as_int as _int
from burnout.measures._aggregates import one_row as _one_row
from burnout.measures.imputation import impute_itt
from burnout.plan.extensions import ImputationSection
from burnout.stats import ImputationSummary, PatternStats
from burnout.stats.imputation import ITERATIONS as _ITERATIONS

if TYPE_CHECKING:
    from burnout.ingest import Cohort
    from burnout.plan import Protocol
from burnout.measures._moments import _flag
from burnout.measures.items import ItemMoments, ItemPairs, collect_item_moments, collect_item_pairs
from burnout.measures.paired import InstrumentMeasures, collect_instruments
from burnout.measures.phq9 import Phq9Measures, collect_phq9
from burnout.measures.reliable import (
    BaselineReference,
    ReliableChangeCounts,
    collect_baseline_reference,
    collect_reliable_change,
)
from burnout.plan.instruments import DEFAULT_PRIMARY, InstrumentsSection

__all__ = [
    "IMPUTATIONS",
    "ITERATIONS",
    "MI_MAX_PATIENTS",
    "BeyondMeasures",
    "ItemMoments",
    "ReliableChangeCounts",
    "collect_beyond",
]

IMPUTATIONS: Final[int] = ImputationSection().m
"""Imputations m by default (the plan's ``[imputation] m``, 100): White, Royston & Wood
(2011) suggest m >= the percentage of incomplete cases, about 80 in the demo cohort
(79% of the threshold-met patients lack a follow-up)."""

ITERATIONS: Final[int] = _ITERATIONS
"""Sweeps of the chained equations per imputation (mice's default 5; missingness here
is mostly monotone dropout, for which the chains settle within a few sweeps)."""

MI_MAX_PATIENTS: Final[int] = 10_000
"""At most this many threshold-met patients enter the multiple imputation (a seeded
simple random sample above it). Imputation is the one computation that needs
per-patient rows in Python; the cap keeps it to seconds at any cohort size while the
pooled CI reflects the sample's precision. Worst case and the mixed model always use
every patient."""


@dataclass(frozen=True, slots=True)
class BeyondMeasures:
    """Everything the analyses beyond the reference study need, as aggregates.

    The only per-patient data ever pulled (for multiple imputation) is not kept:
    ``imputation`` holds the responder counts of each completed data set.
    """

    threshold_met: int
    completers: int
    timepoints: tuple[int, ...]
    worst_case: dict[str, int]
    imputation: ImputationSummary | None
    imputation_problem: str | None
    mixed: dict[str, tuple[PatternStats, ...]]
    phq9: Phq9Measures | None
    reliability: dict[tuple[str, int], ItemMoments]
    reliable_change: dict[str, ReliableChangeCounts]
    warnings: tuple[str, ...] = field(default=())
    completer_responders: dict[str, int] | None = None  # per outcome; worst_case minus these = non-completers'
    baseline_reference: BaselineReference | None = None  # regression to the mean's reference and selected
    instruments: dict[str, InstrumentMeasures] = field(default_factory=dict)  # [instruments] when not the default
    item_pairs: dict[str, ItemPairs] | None = None  # completers' items at baseline and last: invariance

    def __repr__(self) -> str:
        imp = f"{self.imputation.imputations} imputations" if self.imputation else "no imputation"
        return (
            f"<BeyondMeasures: {self.completers:,} completers of {self.threshold_met:,} who met the threshold, "
            f"{imp}, PHQ-9 {'yes' if self.phq9 else 'no'}>"
        )


# --------------------------------------------------------------------------- collect
def _imputation_if_mbi(
    itt: ir.Table, protocol: Protocol, *, threshold_met: int, m: int, iterations: int
) -> tuple[ImputationSummary | None, str | None]:
    """The imputations, or why they could not run; neither for a primary instrument other than the
    MBI-GS (the imputation model is the MBI-GS subscales', whose sections it leaves out)."""
    if protocol.instruments.primary != DEFAULT_PRIMARY:
        return None, None  # not a problem: the sections it feeds are left out (results.primary)
    assessments = tuple(protocol.schedule.assessments)
    return _impute_or_say_why(
        itt, protocol, assessments, threshold_met=threshold_met, imputations=m, iterations=iterations
    )


def collect_beyond(
    table: ir.Table,
    cohort: Cohort,
    protocol: Protocol,
    *,
    imputations: int | None = None,
    iterations: int = ITERATIONS,
) -> BeyondMeasures:
    """Run the engine queries (and the imputations) for the analyses beyond the reference study.

    Parameters
    ----------
    table
        The materialised patient table (``cohort.build_patient_table``).
    cohort
        The validated cohort (its ``mbi_gs`` items give Cronbach's alpha).
    protocol
        The plan; ``[analysis] seed`` seeds the imputations, ``[imputation]`` gives m and the donors.
    imputations, iterations
        m (default: the plan's ``[imputation] m``) and chained-equation sweeps per
        imputation (default 5).

    Notes
    -----
    Queries: counts and baseline moments (1), item sums for alpha (1), the completers' items
    at both occasions for measurement invariance (1), the joint baseline (2), reliable change
    (1), mixed-model pattern statistics (one per subscale), PHQ-9 (1), and the numeric matrix
    of the threshold-met patients for multiple imputation (1; MBI-GS primary only).
    """
    assessments = tuple(protocol.schedule.assessments)
    first, last = assessments[0], assessments[-1]
    itt = table.filter(table.threshold_met)
    comp = table.filter(table.completer)

    counts = _collect_counts(table)
    baseline_reference = collect_baseline_reference(table, first, last)
    m = protocol.imputation.m if imputations is None else imputations
    imputation, problem = _imputation_if_mbi(
        itt, protocol, threshold_met=counts.threshold_met, m=m, iterations=iterations
    )
    return BeyondMeasures(
        threshold_met=counts.threshold_met,
        completers=counts.completers,
        timepoints=assessments,
        worst_case=counts.worst_case,
        imputation=imputation,
        imputation_problem=problem,
        mixed={s: _collect_patterns(itt, s, assessments) for s in SUBSCALES},
        phq9=collect_phq9(table, protocol, population="completers"),
        reliability=collect_item_moments(cohort, comp, assessments),
        reliable_change=collect_reliable_change(comp, baseline_reference, first, last, protocol),
        warnings=() if problem is None else (f"multiple imputation was not run: {problem}",),
        completer_responders=counts.completer_responders,
        baseline_reference=baseline_reference,
        instruments=collect_instruments(table, protocol) if protocol.instruments != InstrumentsSection() else {},
        item_pairs=collect_item_pairs(cohort, comp, first, last),
    )


@dataclass(frozen=True, slots=True)
class _Counts:
    """Who met the threshold, the completers, and the responders per outcome: observed
    anywhere among the threshold-met (the worst case) and among the completers."""

    threshold_met: int
    completers: int
    worst_case: dict[str, int]
    completer_responders: dict[str, int]


def _collect_counts(table: ir.Table) -> _Counts:
    """One aggregate query over the patient table."""
    # non-responder imputation: a response observed (baseline and last scores, completer or
    # not) counts; a missing one is a non-response. The completers' own responders come along
    # so results can keep the non-completers' responders (the difference) from being small.
    aggs: dict[str, ir.Value] = {
        "threshold_met": _flag(table.threshold_met),
        "completers": _flag(table.completer),
        "wc_at_least_1": _flag(table.threshold_met & (table.responses >= 1)),
        "cr_at_least_1": _flag(table.completer & (table.responses >= 1)),
    }
    for s in SUBSCALES:
        aggs[f"wc_{s}"] = _flag(table.threshold_met & table[f"response_{s}"])
        aggs[f"cr_{s}"] = _flag(table.completer & table[f"response_{s}"])
    row = _one_row(table.aggregate(**aggs))
    return _Counts(
        threshold_met=_int(row["threshold_met"]),
        completers=_int(row["completers"]),
        worst_case={s: _int(row[f"wc_{s}"]) for s in SUBSCALES} | {"at_least_1": _int(row["wc_at_least_1"])},
        completer_responders={o: _int(row[f"cr_{o}"]) for o in (*SUBSCALES, "at_least_1")},
    )


def _impute_or_say_why(
    itt: ir.Table,
    protocol: Protocol,
    assessments: tuple[int, ...],
    *,
    threshold_met: int,
    imputations: int,
    iterations: int,
) -> tuple[ImputationSummary | None, str | None]:
    """The imputation summary, or None and the reason it could not run."""
    if threshold_met == 0:
        return None, "no patient met the threshold"
    try:
        summary = _impute(
            itt, protocol, assessments, threshold_met=threshold_met, imputations=imputations, iterations=iterations
        )
    except np.linalg.LinAlgError as exc:
        return None, f"an imputation regression could not be solved ({exc}); too few patients with scores?"
    except ValueError as exc:
        return None, str(exc)
    return summary, None


def _collect_patterns(itt: ir.Table, subscale: str, assessments: tuple[int, ...]) -> tuple[PatternStats, ...]:
    """Per missingness pattern of one subscale: patients, sums, sum of squares, squared totals, cross-products."""
    ys = [itt[col(subscale, t)] for t in assessments]
    mask = sum(
        (y.notnull().cast("int64") * (1 << k) for k, y in enumerate(ys[1:], start=1)), ys[0].notnull().cast("int64")
    )
    filled = [y.fill_null(0).cast(_BIG) for y in ys]
    base = itt.mutate(_mask=mask, **{f"_y{k}": filled[k] for k in range(len(ys))})
    base = base.filter(base._mask > 0)
    rows = (
        base.group_by("_mask")
        .aggregate(
            n=base.count(),
            **{f"s{k}": base[f"_y{k}"].sum() for k in range(len(ys))},
            # cross-products for the unstructured MMRM (stats.mmrm); nulls were filled with 0
            **{f"x{k}_{j}": (base[f"_y{k}"] * base[f"_y{j}"]).sum() for k in range(len(ys)) for j in range(k, len(ys))},
        )
        .to_pyarrow()
        .to_pylist()
    )
    out = []
    for r in sorted(rows, key=lambda r: int(r["_mask"])):
        m = int(r["_mask"])
        cross = tuple(tuple(_int(r[f"x{min(k, j)}_{max(k, j)}"]) for j in range(len(ys))) for k in range(len(ys)))
        out.append(
            PatternStats(
                pattern=tuple(bool(m >> k & 1) for k in range(len(ys))),
                patients=_int(r["n"]),
                sums=tuple(_int(r[f"s{k}"]) for k in range(len(ys))),
                # sum of y_k^2 is the trace of the cross-products, sum of (sum_k y_k)^2 their grand total
                sum_sq=sum(cross[k][k] for k in range(len(ys))),
                sum_sq_totals=sum(sum(row) for row in cross),
                cross=cross,
            )
        )
    return tuple(out)


def _impute(
    itt: ir.Table,
    protocol: Protocol,
    assessments: tuple[int, ...],
    *,
    threshold_met: int,
    imputations: int,
    iterations: int,
) -> ImputationSummary:
    """:func:`burnout.measures.imputation.impute_itt` with the cap ``MI_MAX_PATIENTS``."""
    return impute_itt(
        itt,
        protocol,
        assessments,
        threshold_met=threshold_met,
        imputations=imputations,
        iterations=iterations,
        limit=MI_MAX_PATIENTS,
    )
