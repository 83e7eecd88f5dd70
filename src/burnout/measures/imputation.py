"""The numbers multiple imputation needs, pulled from the engine: ``itt.multiple_imputation``.

Imputation is the one computation that needs per-patient rows in Python
(architecture.md): :func:`impute_itt` pulls only numeric columns of the threshold-met
patients (scores in integer units, the engine's observed response decisions and the
auxiliary predictors), never a patient id, and above ``limit`` rows only a sample the
engine chose by a seeded hash of the row contents (:func:`content_hash`).

Estimand (ICH E9(R1); ``results.itt``): treatment policy. Every patient who met the
threshold is in the denominator, whatever happened after enrolment. Patients who never
had a session received no treatment: under the treatment-policy strategy their outcome
is the untreated one, and the imputation model (fitted on patients who were treated and
assessed, with sessions attended as a predictor) has nobody with 0 sessions and a
follow-up to learn it from. They are therefore not imputed: their missing follow-up is
taken as their baseline ("no treatment, no change"; a reference-based assumption in
the spirit of Carpenter, Roger & Kenward 2013), so they are responders only if the
plan's minimum change is <= 0. A never-treated patient with both scores observed is
decided on them, as everyone else.

Auxiliary predictors of the imputation model (beside every other score): sessions
attended (0-6, scheduled sessions), age, sex, route, pathway and, when the cohort has
PHQ-9, the baseline PHQ-9 total. Missing covariates: a blank age or baseline PHQ-9
is filled with the mean of the others plus a 0/1 "was blank" indicator (the
missing-indicator rule for covariates; the scores themselves are imputed); sex
"other"/"unknown" and route "unknown" are their own indicators; pathways with fewer
than ``PATHWAY_MIN`` (20) threshold-met patients assessed at the last assessment share
the reference level with the most frequent pathway (at most ``PATHWAY_MAX_LEVELS``
indicators): a pathway the last-score regressions barely see would only add noise to
their posterior draws (and so to the donors chosen).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

import ibis
import ibis.expr.types as ir
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from burnout.cohort import col, exact
from burnout.instrument import GOOD_DIRECTION, SCALE, SUBSCALES
from burnout.measures._aggregates import rows as _rows
from burnout.scoring import to_units_ceil
from burnout.stats import ImputationSummary, impute_responses

if TYPE_CHECKING:
    from burnout.plan import Protocol

__all__ = ["PATHWAY_MAX_LEVELS", "PATHWAY_MIN", "content_hash", "impute_itt"]

PATHWAY_MIN: Final[int] = 20
PATHWAY_MAX_LEVELS: Final[int] = 20


def impute_itt(
    itt: ir.Table,
    protocol: Protocol,
    assessments: tuple[int, ...],
    *,
    threshold_met: int,
    imputations: int,
    iterations: int,
    limit: int,
) -> ImputationSummary:
    """Pull the numeric matrix of the threshold-met patients (no ids; at most ``limit``
    rows, sampled in the engine) and run the imputations (module docstring)."""
    first, last = assessments[0], assessments[-1]
    min_change = to_units_ceil(exact(protocol.response.min_change))
    decided = {
        f"d_{s}": ibis.ifelse(
            itt[col(s, first)].notnull() & itt[col(s, last)].notnull(),
            itt[f"response_{s}"].cast("int64"),
            ibis.literal(-1, type="int64"),
        )
        for s in SUBSCALES
    }
    numbers = itt.select(
        **{f"y_{s}_{t}": itt[col(s, t)] for s in SUBSCALES for t in assessments},
        **decided,
        **_covariates(itt, first, last),
    )
    arrow = _sample(numbers, rows=threshold_met, limit=limit, seed=protocol.analysis.seed).to_pyarrow()

    def column(name: str) -> np.ndarray:
        return pc.fill_null(arrow.column(name).cast(pa.float64()), float("nan")).to_numpy()  # null -> nan

    scores = np.stack(
        [np.column_stack([column(f"y_{s}_{t}") for t in assessments]) for s in SUBSCALES], axis=1
    )  # (n, S, T) units
    observed = np.column_stack([column(f"d_{s}") for s in SUBSCALES]).astype(np.int64)
    untreated = column("c_sessions") == 0
    # never treated, not decided on observed scores: no treatment, no change
    fixed = np.where(observed[untreated] >= 0, observed[untreated], int(0 >= min_change))
    covariates = np.column_stack(
        [_filled(column(c), with_indicator=c in _BLANKABLE) for c in arrow.column_names if c.startswith("c_")]
    )
    keep = ~untreated
    return impute_responses(
        scores[keep],
        covariates[keep],
        observed[keep],
        subscales=SUBSCALES,
        good_direction=[GOOD_DIRECTION[s] for s in SUBSCALES],
        min_change=min_change,
        scale=SCALE,
        score_range=(0, 6 * SCALE),
        fixed=fixed,
        # the plan's [sensitivity] delta_grid, as the MMRM's tipping table uses (one grid for both)
        deltas=[to_units_ceil(exact(d)) for d in protocol.sensitivity.delta_grid],
        imputations=imputations,
        iterations=iterations,
        donors=protocol.imputation.donors,
        seed=protocol.analysis.seed,
    )


_BLANKABLE: Final[frozenset[str]] = frozenset({"c_age", "c_phq9"})


def _filled(values: np.ndarray, *, with_indicator: bool) -> np.ndarray:
    """A covariate column, blanks filled with the mean of the others, and (when it can be
    blank) its 0/1 "was blank" indicator: shape (n, 1) or (n, 2)."""
    blank = np.isnan(values)
    if not with_indicator:
        return values[:, None]
    mean = float(values[~blank].mean()) if (~blank).any() else 0.0
    return np.column_stack([np.where(blank, mean, values), blank.astype(float)])


def _covariates(itt: ir.Table, first: int, last: int) -> dict[str, ir.Value]:
    """The auxiliary predictors as engine expressions (0/1 indicators and numbers)."""
    out: dict[str, ir.Value] = {
        "c_sessions": itt.sessions_delivered.cast("int64"),
        "c_age": itt.age,
        "c_male": (itt.sex == "male").fill_null(False).cast("int64"),
        "c_sex_other": itt.sex.isin(["other", "unknown"]).fill_null(False).cast("int64"),
        "c_subcutaneous": (itt.route == "subcutaneous").fill_null(False).cast("int64"),
        "c_route_unknown": (itt.route == "unknown").fill_null(False).cast("int64"),
    }
    if f"phq9_{first}" in itt.columns:
        out["c_phq9"] = itt[f"phq9_{first}"]
    # information for the regressions of the last scores: patients assessed there, per pathway
    assessed = itt[col(SUBSCALES[0], last)].notnull()
    counts = _rows(itt.group_by("pathway").aggregate(n=assessed.cast("int64").sum()))
    common = sorted(
        ((int(r["n"]), str(r["pathway"])) for r in counts if r["pathway"] is not None and int(r["n"]) >= PATHWAY_MIN),
        key=lambda nl: (-nl[0], nl[1]),
    )
    # the most frequent pathway is the reference level; the next ones get indicators
    for i, (_, level) in enumerate(common[1 : 1 + PATHWAY_MAX_LEVELS]):
        out[f"c_pathway_{i}"] = (itt.pathway == level).fill_null(False).cast("int64")
    return out


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
