"""Beyond the reference study: intention to treat, PHQ-9, reliable change and reliability.

The reference study analysed only its completers (24.1%). This module adds what it
left open (seed-study.md), as the ``itt``, ``phq9``, ``reliable_change`` and
``reliability`` branches of results.json (results.md, second part):

- **worst case** (``itt.worst_case``): every patient who met the threshold is in the
  denominator and non-completers count as non-responders;
- **multiple imputation** (``itt.multiple_imputation``): the missing subscale scores of
  every threshold-met patient are imputed ``m = 20`` times by chained equations
  (Bayesian linear regression on the other scores, age, sex and route;
  ``_imputation``), responders are counted in each completed data set and the rates
  are pooled by Rubin's rules on the logit scale (``estimates.pool_proportions``);
- **linear mixed model** (``itt.mixed_model``): a random-intercept model with
  categorical time on every available assessment of every threshold-met patient
  (``_mixed``), giving model-based means per timepoint under MAR;
- **PHQ-9** (``phq9``): depression totals, response (a fall of >= 50%) and remission
  (< 5) among completers, and the change in each subscale regressed on the change in
  PHQ-9 (the burnout change not explained by a change in depression);
- **reliable change** (``reliable_change``): the Jacobson-Truax index per subscale,
  from the completers' baseline SD and Cronbach's alpha;
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

>>> from burnout.beyond import collect_beyond, beyond_results        # doctest: +SKIP
>>> bm = collect_beyond(table, cohort, plan)                           # doctest: +SKIP
>>> tree = beyond_results(bm, plan, threshold_met=1642, completers=395)  # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import TYPE_CHECKING, Any, Final, Literal

import ibis
import ibis.expr.types as ir
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from burnout import estimates as est
from burnout import privacy
from burnout._aggregates import EXACT as _BIG
from burnout._aggregates import Moments
from burnout._aggregates import as_int as _int
from burnout._aggregates import moment_aggs as _moment_aggs
from burnout._aggregates import moments as _moments
from burnout._aggregates import one_row as _one_row
from burnout._aggregates import rows as _rows
from burnout._imputation import ImputationSummary, impute_responses
from burnout._mixed import PatternStats, RandomInterceptModel
from burnout.cohort import col, exact
from burnout.instrument import GOOD_DIRECTION, SCALE, SUBSCALE_ITEMS, SUBSCALES
from burnout.scoring import PHQ9_SCALE, to_units_ceil

if TYPE_CHECKING:
    from burnout.protocol import Protocol
    from burnout.validate import Cohort

__all__ = [
    "IMPUTATIONS",
    "ITERATIONS",
    "MI_MAX_PATIENTS",
    "MIXED_MODEL_ASSUMPTIONS",
    "BeyondMeasures",
    "CrossMoments",
    "ItemMoments",
    "Phq9Measures",
    "ReliableChangeCounts",
    "beyond_results",
    "collect_beyond",
    "collect_phq9",
    "phq9_results",
]

IMPUTATIONS: Final[int] = 20
"""Imputations m (the default of :func:`collect_beyond`).

Rubin's relative efficiency ``(1 + gamma/m)^-1`` is 97% at m = 20 even with a fraction
of missing information gamma = 0.6, which is what the demo cohort has (79% of the
threshold-met patients lack a follow-up). There, the Monte Carlo SE of a pooled rate
is about 0.3 percentage points and the CI bounds move by less than 0.002 when m goes
from 20 to 80. White, Royston & Wood (2011) suggest m >= the percentage of incomplete
cases (about 80 there): pass ``imputations=`` to :func:`collect_beyond` for that, at
proportionally more computing time (about 9 s instead of 2 s for the demo)."""

ITERATIONS: Final[int] = 5
"""Sweeps of the chained equations per imputation (mice's default; missingness here
is mostly monotone dropout, for which the chains settle within a few sweeps)."""

MI_MAX_PATIENTS: Final[int] = 10_000
"""At most this many threshold-met patients enter the multiple imputation (a seeded
simple random sample above it). Imputation is the one computation that needs
per-patient rows in Python; the cap keeps it to seconds at any cohort size while the
pooled CI reflects the sample's precision. Worst case and the mixed model always use
every patient."""

PHQ9_RESPONSE_MIN_BASELINE: Final[int] = 10
PHQ9_REMISSION_BELOW: Final[int] = 5

MIXED_MODEL_ASSUMPTIONS: Final[str] = (
    "Linear mixed model per subscale on every scheduled assessment of every patient who met the "
    "threshold (completers and non-completers): a fixed mean per timepoint (time as a categorical "
    "factor), a normal random intercept per patient and independent normal residuals with the same "
    "variance at every timepoint (so any two assessments of a patient are equally correlated), "
    "fitted by restricted maximum likelihood (REML). Missing assessments are assumed missing at "
    "random (MAR): whether a score is missing may depend on the patient's observed scores (and "
    "the model's terms) but not on the missing score itself; if patients dropped out because they "
    "were not improving in ways their earlier scores do not show, the means are too optimistic. "
    "Intervals are Wald intervals given the estimated variance components."
)

_OUTCOMES = (*SUBSCALES, "at_least_1")


# --------------------------------------------------------------------------- aggregates
@dataclass(frozen=True, slots=True)
class CrossMoments:
    """Exact sums for a regression of y on x: n, sum x, sum y, sum x^2, sum y^2, sum xy."""

    n: int
    sx: int
    sy: int
    sxx: int
    syy: int
    sxy: int


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
class ReliableChangeCounts:
    """Jacobson-Truax classification of the completers on one subscale.

    ``cutoff_units`` is ``ceil(critical_change * SCALE)``: a completer improved when
    the change in the good direction is at least ``cutoff_units`` units, deteriorated
    when it is at least that in the bad direction. All None (and counts 0) when the
    reliable change cannot be computed (``reason`` says why).
    """

    n: int
    improved: int
    deteriorated: int
    alpha: float | None
    sd_baseline: float | None
    critical_change: float | None
    cutoff_units: int | None
    reason: str | None = None


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

    def __repr__(self) -> str:
        imp = f"{self.imputation.imputations} imputations" if self.imputation else "no imputation"
        return (
            f"<BeyondMeasures: {self.completers:,} completers of {self.threshold_met:,} who met the threshold, "
            f"{imp}, PHQ-9 {'yes' if self.phq9 else 'no'}>"
        )


# --------------------------------------------------------------------------- engine helpers
def _flag(expr: ir.BooleanValue) -> ir.IntegerValue:
    return expr.fill_null(False).cast("int64").sum()


# --------------------------------------------------------------------------- collect
def collect_beyond(
    table: ir.Table,
    cohort: Cohort,
    protocol: Protocol,
    *,
    imputations: int = IMPUTATIONS,
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
        The plan; ``[analysis] seed`` seeds the imputations.
    imputations, iterations
        m (default 20) and chained-equation sweeps per imputation (default 10).

    Returns
    -------
    BeyondMeasures

    Notes
    -----
    Queries: counts and baseline moments (1), item sums for alpha (1), reliable
    change (1), mixed-model pattern statistics (one per subscale), PHQ-9 (1), and the
    numeric matrix of the threshold-met patients for multiple imputation (1).
    Reliability uses only the rows on which every item of the subscale is answered.
    """
    assessments = tuple(protocol.schedule.assessments)
    first, last = assessments[0], assessments[-1]
    itt = table.filter(table.threshold_met)
    comp = table.filter(table.completer)

    # -- counts, worst case, completers' baseline moments -------------------------------
    aggs: dict[str, ir.Value] = {
        "threshold_met": _flag(table.threshold_met),
        "completers": _flag(table.completer),
        "wc_at_least_1": _flag(table.completer & (table.responses >= 1)),
    }
    for s in SUBSCALES:
        aggs[f"wc_{s}"] = _flag(table.completer & table[f"response_{s}"])
        aggs |= _moment_aggs(f"base_{s}", table[col(s, first)], where=table.completer)
    row = _one_row(table.aggregate(**aggs))
    threshold_met = _int(row["threshold_met"])
    completers = _int(row["completers"])
    worst_case = {s: _int(row[f"wc_{s}"]) for s in SUBSCALES} | {"at_least_1": _int(row["wc_at_least_1"])}
    baseline = {s: _moments(row, f"base_{s}") for s in SUBSCALES}

    reliability = _collect_reliability(cohort, comp, assessments, protocol)
    reliable_change = _collect_reliable_change(comp, baseline, reliability, first, last, protocol)
    mixed = {s: _collect_patterns(itt, s, assessments) for s in SUBSCALES}
    phq9 = collect_phq9(table, protocol, population="completers")

    imputation: ImputationSummary | None = None
    problem: str | None = None
    if threshold_met == 0:
        problem = "no patient met the threshold"
    else:
        try:
            imputation = _impute(
                itt, protocol, assessments, threshold_met=threshold_met, imputations=imputations, iterations=iterations
            )
        except np.linalg.LinAlgError as exc:
            problem = f"an imputation regression could not be solved ({exc}); too few patients with scores?"
        except ValueError as exc:
            problem = str(exc)
    warnings = () if problem is None else (f"multiple imputation was not run: {problem}",)

    return BeyondMeasures(
        threshold_met=threshold_met,
        completers=completers,
        timepoints=assessments,
        worst_case=worst_case,
        imputation=imputation,
        imputation_problem=problem,
        mixed=mixed,
        phq9=phq9,
        reliability=reliability,
        reliable_change=reliable_change,
        warnings=warnings,
    )


def _collect_reliability(
    cohort: Cohort, comp: ir.Table, assessments: tuple[int, ...], protocol: Protocol
) -> dict[tuple[str, int], ItemMoments]:
    """Item sums per subscale and assessment, completers only, complete item rows only.

    One grouped query (by assessment). Items are 0-6, so every sum here (of items,
    their squares, the subscale total and its square, at most 1,296 a row) is exact in
    int64 for any cohort a machine can hold; no DECIMAL arithmetic is needed.
    """
    mbi = cohort.mbi_gs
    rows = mbi.filter(mbi.after_session.isin(list(assessments))).semi_join(comp.select("patient_id"), "patient_id")
    aggs: dict[str, ir.Value] = {}
    for s in SUBSCALES:
        items = [rows[f"item_{i}"].cast("int64") for i in SUBSCALE_ITEMS[s]]
        complete = ibis.and_(*(it.notnull() for it in items))
        total = sum(items[1:], items[0])
        aggs[f"{s}__n"] = complete.cast("int64").sum()
        for j, it in enumerate(items):
            aggs[f"{s}__i{j}"] = it.sum(where=complete)
            aggs[f"{s}__q{j}"] = (it * it).sum(where=complete)
        aggs[f"{s}__t"] = total.sum(where=complete)
        aggs[f"{s}__tt"] = (total * total).sum(where=complete)
    by_t = {int(r["after_session"]): r for r in _rows(rows.group_by("after_session").aggregate(**aggs))}
    out = {}
    for s in SUBSCALES:
        k = len(SUBSCALE_ITEMS[s])
        for t in assessments:
            row = by_t.get(t, {})
            p = f"{s}__"
            out[(s, t)] = ItemMoments(
                n=_int(row.get(p + "n")),
                item_sums=tuple(_int(row.get(f"{p}i{j}")) for j in range(k)),
                item_sum_sq=tuple(_int(row.get(f"{p}q{j}")) for j in range(k)),
                total=_int(row.get(p + "t")),
                total_sq=_int(row.get(p + "tt")),
            )
    return out


def _collect_reliable_change(
    comp: ir.Table,
    baseline: dict[str, Moments],
    reliability: dict[tuple[str, int], ItemMoments],
    first: int,
    last: int,
    protocol: Protocol,
) -> dict[str, ReliableChangeCounts]:
    """Jacobson-Truax cut-offs from the completers' baseline SD and alpha, then integer counts in the engine."""
    conf = protocol.analysis.confidence
    cutoffs: dict[str, tuple[float, float, float, int]] = {}
    reasons: dict[str, str] = {}
    for s in SUBSCALES:
        m = baseline[s]
        alpha = reliability[(s, first)].reliability(confidence=conf).alpha
        if m.n < 2:
            reasons[s] = "fewer than 2 completers scored at baseline"
            continue
        if alpha is None:
            reasons[s] = "Cronbach's alpha at baseline is not available (no complete item rows, or no item data)"
            continue
        sd = (m.centered_ss() / (m.n - 1)) ** 0.5 / SCALE
        if est.rci_se_diff(sd, alpha) == 0:
            reasons[s] = "the standard error of a difference is 0 (alpha = 1 or no spread at baseline)"
            continue
        critical = est.rci_critical_change(sd, alpha)
        cutoffs[s] = (alpha, sd, critical, to_units_ceil(critical))
    aggs: dict[str, ir.Value] = {"n": comp.count()}
    for s, (_, _, _, cut) in cutoffs.items():
        change = (comp[col(s, last)] - comp[col(s, first)]) * GOOD_DIRECTION[s]
        aggs[f"imp_{s}"] = _flag(change >= cut)
        aggs[f"det_{s}"] = _flag(change <= -cut)
    row = _one_row(comp.aggregate(**aggs))
    n = _int(row["n"])
    out = {}
    for s in SUBSCALES:
        if s in cutoffs:
            alpha, sd, critical, cut = cutoffs[s]
            out[s] = ReliableChangeCounts(
                n=n, improved=_int(row[f"imp_{s}"]), deteriorated=_int(row[f"det_{s}"]),
                alpha=alpha, sd_baseline=sd, critical_change=critical, cutoff_units=cut,
            )
        else:
            out[s] = ReliableChangeCounts(
                n=n, improved=0, deteriorated=0, alpha=None, sd_baseline=None, critical_change=None,
                cutoff_units=None, reason=reasons[s],
            )
    return out


def _collect_patterns(itt: ir.Table, subscale: str, assessments: tuple[int, ...]) -> tuple[PatternStats, ...]:
    """Per missingness pattern of one subscale: patients, sums per timepoint, sum of squares, sum of squared totals."""
    ys = [itt[col(subscale, t)] for t in assessments]
    mask = sum((y.notnull().cast("int64") * (1 << k) for k, y in enumerate(ys[1:], start=1)), ys[0].notnull().cast("int64"))
    filled = [y.fill_null(0).cast(_BIG) for y in ys]
    total = sum(filled[1:], filled[0])
    sq = sum((f * f for f in filled[1:]), filled[0] * filled[0])
    base = itt.mutate(_mask=mask, _total=total, _sq=sq, **{f"_y{k}": filled[k] for k in range(len(ys))})
    base = base.filter(base._mask > 0)
    rows = (
        base.group_by("_mask")
        .aggregate(
            n=base.count(),
            q=base._sq.sum(),
            r=(base._total * base._total).sum(),
            **{f"s{k}": base[f"_y{k}"].sum() for k in range(len(ys))},
        )
        .to_pyarrow()
        .to_pylist()
    )
    out = []
    for r in sorted(rows, key=lambda r: int(r["_mask"])):
        m = int(r["_mask"])
        out.append(
            PatternStats(
                pattern=tuple(bool(m >> k & 1) for k in range(len(ys))),
                patients=_int(r["n"]),
                sums=tuple(_int(r[f"s{k}"]) for k in range(len(ys))),
                sum_sq=_int(r["q"]),
                sum_sq_totals=_int(r["r"]),
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
    """Pull the numeric matrix of the threshold-met patients (no ids; at most
    ``MI_MAX_PATIENTS`` rows, sampled in the engine) and run the imputations.

    The one place where per-patient rows leave the engine (see the module docstring).
    """
    first, last = assessments[0], assessments[-1]
    score_cols = {f"y_{s}_{t}": itt[col(s, t)] for s in SUBSCALES for t in assessments}
    decided = {
        f"d_{s}": ibis.ifelse(
            itt[col(s, first)].notnull() & itt[col(s, last)].notnull(),
            itt[f"response_{s}"].cast("int64"),
            ibis.literal(-1, type="int64"),
        )
        for s in SUBSCALES
    }
    covs = {
        "c_age": itt.age,
        "c_male": (itt.sex == "male").fill_null(False).cast("int64"),
        "c_sex_other": itt.sex.isin(["other", "unknown"]).fill_null(False).cast("int64"),
        "c_subcutaneous": (itt.route == "subcutaneous").fill_null(False).cast("int64"),
        "c_route_unknown": (itt.route == "unknown").fill_null(False).cast("int64"),
    }
    numbers = itt.select(**score_cols, **decided, **covs)
    arrow = _sample(numbers, rows=threshold_met, limit=MI_MAX_PATIENTS, seed=protocol.analysis.seed).to_pyarrow()

    def column(name: str) -> np.ndarray:
        values = pc.fill_null(arrow.column(name).cast(pa.float64()), float("nan"))  # null -> nan
        return values.to_numpy()

    n = arrow.num_rows
    scores = np.empty((n, len(SUBSCALES), len(assessments)))
    for i, s in enumerate(SUBSCALES):
        for j, t in enumerate(assessments):
            scores[:, i, j] = column(f"y_{s}_{t}") / SCALE
    observed = np.column_stack([column(f"d_{s}") for s in SUBSCALES]).astype(np.int64)
    age = column("c_age")
    age_missing = np.isnan(age)
    age_filled = np.where(age_missing, np.nanmean(age) if (~age_missing).any() else 0.0, age)
    covariates = np.column_stack(
        [age_filled, age_missing.astype(float)] + [column(c) for c in ("c_male", "c_sex_other", "c_subcutaneous", "c_route_unknown")]
    )
    return impute_responses(
        scores,
        covariates,
        observed,
        subscales=SUBSCALES,
        good_direction=[GOOD_DIRECTION[s] for s in SUBSCALES],
        min_change=float(exact(protocol.response.min_change)),
        imputations=imputations,
        iterations=iterations,
        seed=protocol.analysis.seed,
    )


_HASH_PRIME: Final[int] = 2_147_483_629  # a prime below 2**31: (h + v) * a < 2**63, so every step fits int64
_HASH_MULTIPLIER: Final[int] = 1_103_515_245


def content_hash(table: ir.Table, *, seed: int) -> ir.IntegerValue:
    """A seeded hash 0 .. 2**31 - 20 of each row's integer values, in exact int64 arithmetic.

    Every column must be an integer (null allowed, values >= -1). Each value enters a
    polynomial hash modulo a prime and the result is squared once more so that nearby
    rows land far apart. Only +, * and % on non-negative int64 values below 2**63 are
    used, so DuckDB, Spark and PostgreSQL give the same numbers.
    """
    p, a = _HASH_PRIME, _HASH_MULTIPLIER
    h: ir.IntegerValue = ibis.literal(seed % p, "int64")
    for name in table.columns:
        value = (table[name].cast("int64").fill_null(-1) + 2) % p
        h = ((h + value) * a) % p
    return ((h * h) % p + seed % p) % p


def _sample(table: ir.Table, *, rows: int, limit: int, seed: int) -> ir.Table:
    """At most ``limit`` of the table's ``rows`` rows, chosen in the engine by content alone:
    the smallest :func:`content_hash` values, ties broken by the values themselves. The
    same rows on every engine and in any row order; the engine sends Python only the sample."""
    if rows <= limit:
        return table
    ranked = table.mutate(_h=content_hash(table, seed=seed))
    # nulls as -2 (below every value): engines differ in where they sort nulls
    ties = [ranked[c].fill_null(-2) for c in table.columns]
    return ranked.order_by([ranked._h, *ties]).limit(limit).drop("_h")


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


# --------------------------------------------------------------------------- results
def beyond_results(
    bm: BeyondMeasures,
    protocol: Protocol,
    *,
    threshold_met: int,
    completers: int,
    publisher: privacy.Publisher | None = None,
    published: dict[str, bool] | None = None,
) -> dict[str, Any]:
    """The ``itt``, ``phq9`` (when PHQ-9 data exist), ``reliable_change`` and ``reliability`` branches.

    Parameters
    ----------
    bm
        From :func:`collect_beyond` on the same patient table.
    protocol
        The plan (confidence, privacy, response).
    threshold_met, completers
        The flow counts of the main analysis (``Measures``); they must equal those
        the beyond queries counted.
    publisher
        The publication layer of the whole results tree (``privacy.Publisher``; one
        for the plan when None), so its tally covers these sections too.
    published
        What the main sections published of the cells these sections share:
        ``threshold_met``, ``completers`` (their totals), ``response_<subscale>`` and
        ``at_least_1`` (the completers' responders, which the worst case counts again):
        a cell hidden there is hidden here. All True when None.

    Returns
    -------
    dict
        Plain JSON types in a fixed order, counts suppressed per the plan's
        ``min_cell_count`` (results.md, second part).

    Raises
    ------
    ValueError
        When ``threshold_met``/``completers`` disagree with ``bm`` (the measures come
        from different patient tables).
    """
    if (threshold_met, completers) != (bm.threshold_met, bm.completers):
        raise ValueError(
            f"beyond_results: threshold_met={threshold_met}, completers={completers} from the main measures "
            f"but the beyond measures counted {bm.threshold_met} and {bm.completers}; collect both from the "
            "same patient table."
        )
    pub = publisher if publisher is not None else privacy.Publisher.for_plan(protocol)
    shown = {"threshold_met": True, "completers": True} | dict(published or {})
    out: dict[str, Any] = {"itt": _itt(bm, protocol, pub, shown)}
    if bm.phq9 is not None:
        out["phq9"] = phq9_results(
            bm.phq9, protocol, publisher=pub, population=bm.completers, population_published=shown["completers"]
        )
    out["reliable_change"] = _reliable_change(bm, pub, completers_published=shown["completers"])
    out["reliability"] = _reliability(bm, protocol, pub, completers_published=shown["completers"])
    return out


def _itt(bm: BeyondMeasures, protocol: Protocol, pub: privacy.Publisher, shown: dict[str, bool]) -> dict[str, Any]:
    n = bm.threshold_met
    itt_shown = shown["threshold_met"]

    def worst_case(key: str, count: int) -> dict[str, Any]:
        return pub.prop(count, n, n_published=itt_shown, hide=not shown.get(key, True))

    worst: dict[str, Any] = {s: {"response": worst_case(f"response_{s}", bm.worst_case[s])} for s in SUBSCALES}
    worst["responders"] = {"at_least_1": worst_case("at_least_1", bm.worst_case["at_least_1"])}
    return {
        "threshold_met": pub.count(n, hide=not itt_shown),
        "worst_case": worst,
        "multiple_imputation": _multiple_imputation(bm, protocol, pub, itt_shown),
        "mixed_model": _mixed_model(bm, protocol, pub, itt_shown),
    }


def _multiple_imputation(bm: BeyondMeasures, protocol: Protocol, pub: privacy.Publisher, itt_shown: bool) -> dict[str, Any]:
    imp = bm.imputation
    method = (
        f"fully conditional specification (chained equations), Bayesian linear regression imputation "
        f"(parameters drawn from their posterior) of every missing subscale score from the other scores, "
        f"age, sex and route; m = {imp.imputations if imp else IMPUTATIONS} imputations of "
        f"{imp.iterations if imp else ITERATIONS} iterations, seed {protocol.analysis.seed}; response "
        "decided on observed integer scores where both were observed, otherwise on the imputed continuous "
        "scores; rates pooled by Rubin's rules on the logit scale"
    )
    if imp is not None and imp.n < bm.threshold_met:
        method += (
            f"; imputed on a seeded simple random sample of {imp.n:,} of the {bm.threshold_met:,} "
            f"threshold-met patients (at most {MI_MAX_PATIENTS:,}), so the CI carries the sample's precision"
        )

    def empty(imputations: int) -> dict[str, Any]:
        return {"rate": None, "ci": None, "imputations": imputations, "suppressed": False}

    out: dict[str, Any] = {}
    for o in _OUTCOMES:
        if imp is None:
            entry = empty(0)
        else:
            entry = _pooled(imp, o, pub, itt_shown)
        if o == "at_least_1":
            out["responders"] = {"at_least_1": entry}
        else:
            out[o] = {"response": entry}
    out["method"] = method
    # all of them when no sample was drawn: then it is threshold_met, hidden with it
    out["patients_imputed"] = None if imp is None else pub.count(imp.n, hide=not itt_shown)
    if bm.imputation_problem is not None:
        out["problem"] = bm.imputation_problem
    return out


def _pooled(imp: ImputationSummary, outcome: str, pub: privacy.Publisher, itt_shown: bool) -> dict[str, Any]:
    """Rubin-pooled response rate; hidden when the average count (or its complement) is a small count,
    or when the number of patients it is over is hidden."""
    counts = imp.responders[outcome]
    mean_count = sum(counts) / len(counts)
    if not itt_shown or pub.small(imp.n) or 0 < mean_count < pub.k or 0 < imp.n - mean_count < pub.k:
        pub.note("statistic")
        return {"rate": None, "ci": None, "imputations": imp.imputations, "suppressed": True}
    pooled = est.pool_proportions(imp.rates(outcome), [imp.n] * imp.imputations, confidence=pub.conf)
    return pooled.to_json() | {"suppressed": False}


def _mixed_model(bm: BeyondMeasures, protocol: Protocol, pub: privacy.Publisher, itt_shown: bool) -> dict[str, Any]:
    """Model means per timepoint over every threshold-met patient.

    A timepoint's n (patients with a score there) is a count of the family "with / without
    a score" under threshold_met: hidden when either is small; its mean and CI are withheld
    when fewer than k patients were observed there. The observation count is withheld
    when any n is (it is their sum); with threshold_met hidden or small the whole model
    (means, variances, counts) is withheld.
    """
    conf = protocol.analysis.confidence
    first_index = 0
    n_all = bm.threshold_met
    whole = itt_shown and pub.enough(n_all)
    out: dict[str, Any] = {}
    for s in SUBSCALES:
        patterns = bm.mixed[s]
        observed = [sum(p.patients for p in patterns if p.pattern[j]) for j in range(len(bm.timepoints))]
        n_hidden = [not whole or pub.small(o) or pub.small(n_all - o) for o in observed]
        ns = [None if hidden else o for hidden, o in zip(n_hidden, observed, strict=True)]
        if any(n_hidden):
            pub.note("statistic", sum(n_hidden))
        entry: dict[str, Any]
        try:
            model = RandomInterceptModel(method="reml", confidence=conf).fit(patterns, scale=SCALE)
        except ValueError as exc:
            entry = {
                "timepoints": {str(t): {"mean": None, "ci": None, "n": ns[j]} for j, t in enumerate(bm.timepoints)},
                "problem": str(exc),
            }
            out[s] = entry
            continue
        tps: dict[str, Any] = {}
        for j, t in enumerate(bm.timepoints):
            mean = model.means_[j]
            show = whole and pub.enough(observed[j]) and not np.isnan(mean)
            tp: dict[str, Any] = {
                "mean": float(mean) if show else None,
                "ci": [float(model.ci_[j, 0]), float(model.ci_[j, 1])] if show else None,
                "n": ns[j],
            }
            if j != first_index:
                diff = model.difference(j, first_index) if show else None
                tp["change"] = None if diff is None else diff[0]
                tp["change_ci"] = None if diff is None else [diff[2][0], diff[2][1]]
            tps[str(t)] = tp
        out[s] = {
            "timepoints": tps,
            "patients": pub.count(model.patients_, hide=not whole or pub.small(n_all - model.patients_)),
            "observations": pub.count(model.observations_, hide=not whole or any(n_hidden)),
            "variance": (
                {"between_patients": model.tau2_, "within_patient": model.sigma2_}
                if whole
                else {"between_patients": None, "within_patient": None}
            ),
            "method": "REML",
        }
    out["assumptions"] = MIXED_MODEL_ASSUMPTIONS
    return out


def phq9_results(
    pm: Phq9Measures,
    protocol: Protocol,
    *,
    publisher: privacy.Publisher | None = None,
    population: int | None = None,
    population_published: bool = True,
) -> dict[str, Any]:
    """The ``phq9`` branch from :func:`collect_phq9`'s aggregates (totals in points, 0-27).

    ``timepoints.<t>``: ``n``, ``mean``, ``sd``, and after the first assessment the
    mean ``change`` with its CI and ``effect_size`` (dz with noncentral-t CI, from
    ``estimates.paired_change``), among patients with a total at the first assessment
    and at t. ``response``, ``remission``: Proportions. ``adjusted.<s>``: OLS of the
    subscale change (points) on the PHQ-9 change (points). A count below the plan's
    ``min_cell_count`` hides the statistics computed on it.

    ``population`` is the size of the population (the completers' count) when it is
    published: an n whose complement in it (patients without the totals) is small is
    hidden with every statistic beside it (the change's CI and dz would give n back).
    ``population_published`` False (its size is hidden) withholds every statistic.
    """
    pub = publisher if publisher is not None else privacy.Publisher.for_plan(protocol)
    conf = protocol.analysis.confidence

    def shown(n: int) -> bool:
        return (
            population_published
            and pub.enough(n)
            and (population is None or not pub.small(population - n))
        )

    timepoints: dict[str, Any] = {}
    for t, mo in pm.timepoints.items():
        if not shown(mo.n):
            pub.note("statistic")
            entry: dict[str, Any] = {"n": None, "mean": None, "sd": None}
        else:
            ms = est.mean_summary(mo.n, mo.total, mo.total_sq, scale=PHQ9_SCALE, confidence=conf)
            entry = {"n": ms.n, "mean": ms.mean, "sd": ms.sd}
        if t != pm.first:
            ch = pm.changes[t]
            if not shown(ch.n) or ch.n == 0:
                entry |= {"change": None, "change_ci": None, "effect_size": None}
            else:
                pc = est.paired_change(ch.n, ch.total, ch.total_sq, scale=PHQ9_SCALE, confidence=conf)
                entry |= {
                    "change": pc.mean,
                    "change_ci": None if pc.ci is None else [pc.ci[0], pc.ci[1]],
                    "effect_size": pc.effect_size_json(),
                }
        timepoints[str(t)] = entry
    adjusted: dict[str, Any] = {}
    for s, cm in pm.adjusted.items():
        if not shown(cm.n):
            pub.note("statistic")
            adjusted[s] = {"intercept": None, "intercept_ci": None, "slope": None, "slope_ci": None, "n": None}
            continue
        fit = est.ols_from_moments(
            cm.n, cm.sx, cm.sy, cm.sxx, cm.syy, cm.sxy, x_scale=PHQ9_SCALE, y_scale=SCALE, confidence=conf
        )
        adjusted[s] = fit.to_json()
    return {
        "population": pm.population,
        "timepoints": timepoints,
        "response": pub.prop(*pm.response, n_published=shown(pm.response[1])),
        "remission": pub.prop(*pm.remission, n_published=shown(pm.remission[1])),
        "adjusted": adjusted,
        "subscale_responders_not_phq9_responders": {
            s: pub.prop(c, n, n_published=population_published) for s, (c, n) in pm.subscale_not_phq9.items()
        },
        "definitions": {
            "response": f"PHQ-9 total fell by at least 50% from the first to the last assessment, among "
            f"{pm.population} with a first total >= {PHQ9_RESPONSE_MIN_BASELINE} and a last total",
            "remission": f"last PHQ-9 total < {PHQ9_REMISSION_BELOW}, same denominator",
            "subscale_responders_not_phq9_responders": "share of the subscale's responders who were not PHQ-9 "
            "responders, within the PHQ-9 response denominator",
        },
    }


def _reliable_change(bm: BeyondMeasures, pub: privacy.Publisher, *, completers_published: bool) -> dict[str, Any]:
    """Improved / deteriorated / neither: one family under n; "neither" is never published, so
    it is the free complement of a small cell (issue 12: "Cynicism reliably improved" was hidden
    to protect a small "deteriorated")."""
    out: dict[str, Any] = {}
    for s in SUBSCALES:
        rc = bm.reliable_change[s]
        n_shown = completers_published and pub.enough(rc.n) and not pub.small(bm.completers - rc.n)
        if rc.cutoff_units is None:
            none = {"count": None, "n": rc.n if n_shown else None, "rate": None, "ci": None, "suppressed": False}
            out[s] = {"improved": none, "deteriorated": dict(none), "reason": rc.reason}
            continue
        fam = pub.family(
            {
                "improved": rc.improved,
                "deteriorated": rc.deteriorated,
                "neither": rc.n - rc.improved - rc.deteriorated,
            },
            rc.n,
            n_published=n_shown,
            free=("neither",),
        )
        if not n_shown:
            pub.note("statistic")
        out[s] = {
            "improved": fam["improved"],
            "deteriorated": fam["deteriorated"],
            "alpha": rc.alpha if n_shown else None,
            "sd_baseline": rc.sd_baseline if n_shown else None,
            "se_difference": est.rci_se_diff(rc.sd_baseline, rc.alpha) if n_shown else None,  # type: ignore[arg-type]
            "critical_change": rc.critical_change if n_shown else None,
        }
    return out


def _reliability(
    bm: BeyondMeasures, protocol: Protocol, pub: privacy.Publisher, *, completers_published: bool
) -> dict[str, Any]:
    """Cronbach's alpha per subscale and assessment; n is the completers with every item
    answered, a family with those without: withheld (with alpha) when either is small."""
    conf = protocol.analysis.confidence
    out: dict[str, Any] = {}
    for s in SUBSCALES:
        per_t: dict[str, Any] = {}
        for t in bm.timepoints:
            im = bm.reliability[(s, t)]
            if not (completers_published and pub.enough(im.n)):
                pub.note("statistic")
                per_t[str(t)] = {"alpha": None, "ci": None, "n": None, "items": len(im.item_sums)}
                continue
            r = im.reliability(confidence=conf)
            # n with few completers left out would give those few away; the Feldt CI gives n back
            n_shown = not pub.small(bm.completers - im.n)
            if not n_shown:
                pub.note("statistic", 2)
            per_t[str(t)] = {
                "alpha": r.alpha,
                "ci": None if r.ci is None or not n_shown else [r.ci[0], r.ci[1]],
                "n": r.n if n_shown else None,
                "items": r.k,
            }
        out[s] = per_t
    return out
