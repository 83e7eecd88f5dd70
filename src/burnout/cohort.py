"""The analysed cohort: one row per patient, built in the engine.

Every per-patient decision of the analysis plan is made here, on integer score
units (see ``scoring``): the burnout threshold at baseline, completion, the
exclusion reason, response per subscale, the threshold at each timepoint and the
burnout profile. The result is an Ibis table materialised once in the engine;
``measures`` aggregates it and nothing per-patient leaves the engine.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING, Any, Final

import ibis
import ibis.expr.types as ir

from burnout.instrument import GOOD_DIRECTION, SCALE, SUBSCALES
from burnout.instruments import Instrument
from burnout.plan.exact import exact
from burnout.plan.instruments import DEFAULT_PRIMARY, eligibility_rule, min_changes, primary_instrument
from burnout.scoring import (
    eligibility_expr,
    scale_units_expr,
    score_mbi,
    score_phq9,
    to_units_ceil,
    to_units_floor,
)

if TYPE_CHECKING:
    from burnout.ingest import Cohort
    from burnout.plan import Protocol

__all__ = [
    "EXCLUSION_REASONS",
    "PRIMARY_PREFIX",
    "PROFILES",
    "ProfileCutoffs",
    "age_band_expr",
    "build_patient_table",
    "col",
    "exact",
    "primary_scales",
    "profile_expr",
    "rule_met_expr",
    "secondary_stems",
]

PROFILES: Final[tuple[str, ...]] = ("burnout", "overextended", "disengaged", "ineffective", "engaged")
EXCLUSION_REASONS: Final[tuple[str, ...]] = (
    "no_baseline",
    "below_threshold",
    "missed_sessions",
    "missed_assessment",
)


def col(subscale: str, timepoint: int) -> str:
    """Column name of a subscale's units at a timepoint in the patient table."""
    return f"{subscale}_{timepoint}"


def age_band_expr(age: ir.IntegerValue, bands: list[int]) -> ir.StringValue:
    """Age band label ("18-34", "35-49", "50+"); "unknown" for a blank age.

    Ages from 18 up to a first lower bound above 18 form a band of their own, as in
    ``Protocol.age_band_labels`` (the reference the tests compare with).
    """
    from burnout.plan import AGE_MIN

    lowers = list(bands) if bands[0] == AGE_MIN else [AGE_MIN, *bands]
    cases = []
    for lower, upper in zip(lowers, [*lowers[1:], None], strict=True):
        label = f"{lower}+" if upper is None else f"{lower}-{upper - 1}"
        cond = age >= lower if upper is None else (age >= lower) & (age < upper)
        cases.append((cond, label))
    return ibis.cases(*cases, else_="unknown")


@dataclass(frozen=True, slots=True)
class ProfileCutoffs:
    """Integer unit cut-offs: a subscale is critical at ``units >= cut`` (E, C) or ``<= cut`` (PE)."""

    exhaustion: int
    cynicism: int
    professional_efficacy: int
    description: str

    @classmethod
    def from_plan(
        cls,
        protocol: Protocol,
        *,
        reference: dict[str, tuple[float, float]] | None = None,
    ) -> ProfileCutoffs:
        """Cut-offs from the plan; ``reference`` gives (mean, sd) per subscale for z-scores.

        A z-score boundary b becomes the raw cut-off mean + b * sd; the comparison is
        then made on integers against ceil/floor of that cut-off in units, so a
        patient's profile never depends on floating-point rounding of their own score.
        """
        p = protocol.profiles
        bounds = {
            "exhaustion": exact(p.exhaustion),
            "cynicism": exact(p.cynicism),
            "professional_efficacy": exact(p.professional_efficacy),
        }
        if p.method == "raw":
            raw = bounds
            desc = ", ".join(
                f"{s} {'<=' if s == 'professional_efficacy' else '>='} {float(v):g}" for s, v in raw.items()
            )
        else:
            if reference is None:
                raise ValueError("z-score profiles need a reference (mean, sd) per subscale")
            raw = {}
            for s, b in bounds.items():
                mean, sd = reference[s]
                raw[s] = Fraction(mean) + b * Fraction(sd)
            desc = zscore_cutoff_words(bounds, raw, raw_format=".3f")
        return cls(
            exhaustion=to_units_ceil(raw["exhaustion"]),
            cynicism=to_units_ceil(raw["cynicism"]),
            professional_efficacy=to_units_floor(raw["professional_efficacy"]),
            description=desc,
        )

    @classmethod
    def unclassifiable(cls) -> ProfileCutoffs:
        """Cut-offs no score reaches (profiles are then all "engaged" and reported as not computed)."""
        return cls(exhaustion=7 * SCALE, cynicism=7 * SCALE, professional_efficacy=-SCALE, description="not computed")

    def raw(self) -> dict[str, float]:
        """The cut-offs on the 0-6 score scale (for display)."""
        return {s: getattr(self, s) / SCALE for s in SUBSCALES}


def zscore_cutoff_words(bounds: Mapping[str, Any], raw: Mapping[str, Any], *, raw_format: str) -> str:
    """Z-score cut-offs in words, each with its raw 0-6 value in ``raw_format`` (".3f" as
    computed; "g" for the rounded values results publish under ``[privacy] round_to``)."""
    return ", ".join(
        f"{s} z {'<=' if s == 'professional_efficacy' else '>='} {float(bounds[s]):g} "
        f"(raw {'<=' if s == 'professional_efficacy' else '>='} {float(raw[s]):{raw_format}})"
        for s in SUBSCALES
    )


def profile_expr(table: ir.Table, timepoint: int, cutoffs: ProfileCutoffs) -> ir.StringValue:
    """Burnout profile (after Leiter & Maslach 2016) at a timepoint, from critical subscales."""
    e = table[col("exhaustion", timepoint)] >= cutoffs.exhaustion
    c = table[col("cynicism", timepoint)] >= cutoffs.cynicism
    pe = table[col("professional_efficacy", timepoint)] <= cutoffs.professional_efficacy
    return ibis.cases(
        (e & c, "burnout"),
        (e, "overextended"),
        (c, "disengaged"),
        (pe, "ineffective"),
        else_="engaged",
    )


def build_patient_table(cohort: Cohort, protocol: Protocol) -> ir.Table:
    """One row per patient with every per-patient quantity of the plan, materialised.

    Columns: patient_id, age, age_band, sex, female, route, pathway; ``<s>_<t>`` units
    per MBI-GS subscale and scheduled timepoint; with another primary instrument
    (``[instruments] primary``) also ``<scale>_<t>`` in its units; ``phq9_<t>`` (units
    of 1/504) when PHQ-9 is present; sessions_delivered; ``side_effects_<k>`` (1/0/null)
    for each assessed session k; sae_count; baseline_scored, threshold_met, completer,
    exclusion; ``response_<s>``, responses (0 to the number of scales); ``threshold_<t>``.
    Eligibility, completion and response are decided on the primary instrument's
    scales (`primary_scales`). Profiles are added later by ``measures`` because
    z-score cut-offs need the completers' baseline.

    Assessments at unscheduled timepoints are ignored (validation warned of them).
    """
    assessments = list(protocol.schedule.assessments)
    scored = score_mbi(
        cohort.mbi_gs, max_missing_items=protocol.scoring.max_missing_items, has_items=cohort.mbi_has_items
    )
    table = _patients(cohort, protocol)
    table = table.left_join(_wide(scored, list(SUBSCALES), assessments), "patient_id").drop("patient_id_right")
    table = table.left_join(_sessions_wide(cohort, protocol), "patient_id").drop("patient_id_right")
    primary = protocol.instruments.primary
    if primary != DEFAULT_PRIMARY:
        table = _join_primary(table, cohort, protocol)
    for name in protocol.instruments.secondary or ():
        inst = protocol.instruments.definition(name)
        source = _instrument_table(cohort, inst.name)
        if name not in ("phq9", primary, DEFAULT_PRIMARY) and source is not None:
            table = _join_scales(table, source, inst, secondary_stems(inst), assessments)
    if cohort.phq9 is not None:
        phq = score_phq9(cohort.phq9)
        table = table.left_join(_wide(phq, ["phq9"], assessments), "patient_id").drop("patient_id_right")
    table = table.mutate(
        sessions_delivered=table.sessions_delivered.fill_null(0),
        sessions_total=table.sessions_total.fill_null(0),
        sae_count=table.sae_count.fill_null(0),
    )
    return _decisions(table, protocol)


PRIMARY_PREFIX: Final[str] = "primary_"


def primary_scales(protocol: Protocol) -> tuple[tuple[str, ...], int, dict[str, int], str]:
    """The primary instrument's scale names, its units per point, each scale's good
    direction (+1 higher is better, -1 lower) and the prefix of its columns in the patient
    table: the MBI-GS subscales (no prefix) by default, else ``primary_<scale>_<t>`` (a BAT
    or OLBI ``exhaustion`` must not meet the MBI-GS one)."""
    if protocol.instruments.primary == DEFAULT_PRIMARY:
        return tuple(SUBSCALES), SCALE, {str(s): d for s, d in GOOD_DIRECTION.items()}, ""
    inst = primary_instrument(protocol)
    good = {s: 1 if sc.good == "higher" else -1 for s, sc in inst.scales.items()}
    return tuple(inst.scales), inst.units_per_point, good, PRIMARY_PREFIX


def _wide(scored: ir.Table, names: list[str], assessments: list[int]) -> ir.Table:
    """(patient_id, after_session, <name>...) long scores to ``<name>_<t>`` per scheduled t."""
    scored = scored.filter(scored.after_session.isin(assessments))
    return scored.group_by("patient_id").aggregate(
        **{col(s, t): scored[s].max(where=scored.after_session == t) for t in assessments for s in names},
    )


def _join_primary(table: ir.Table, cohort: Cohort, protocol: Protocol) -> ir.Table:
    """Join the primary instrument's scale units (from its definition's scoring rules)."""
    inst = primary_instrument(protocol)
    source = _instrument_table(cohort, inst.name)
    if source is None:
        from burnout.errors import DataError, Problem

        allowed = (
            f"a file {inst.name}.csv or {inst.name}.parquet: the plan's primary instrument is {inst.name} "
            "([instruments] primary); add the file, or change the plan"
        )
        raise DataError(
            [Problem(file=f"{inst.name}.csv", line=None, patient_id=None, column=None, value=None, allowed=allowed)]
        )
    stems = {s: PRIMARY_PREFIX + s for s in inst.scales}
    return _join_scales(table, source, inst, stems, list(protocol.schedule.assessments))


def secondary_stems(inst: Instrument) -> dict[str, str]:
    """Scale -> column stem of a secondary instrument in the patient table: ``<name>`` for
    its total (``phq9_<t>``, as PHQ-9 always had), ``<name>_<scale>`` for a subscale."""
    return {s: inst.name if s == "total" else f"{inst.name}_{s}" for s in inst.scales}


def _join_scales(
    table: ir.Table, source: ir.Table, inst: Instrument, stems: dict[str, str], assessments: list[int]
) -> ir.Table:
    """Score each scale of ``inst`` by its definition and join ``<stem>_<t>`` per timepoint."""
    columns = {p: f"item_{p}" for p in range(1, inst.items + 1)}
    scored = source.select(
        "patient_id",
        "after_session",
        **{stems[s]: scale_units_expr(source, inst, s, columns=columns) for s in inst.scales},
    )
    wide = _wide(scored, list(stems.values()), assessments)
    return table.left_join(wide, "patient_id").drop("patient_id_right")


def _instrument_table(cohort: Cohort, name: str) -> ir.Table | None:
    if name == "phq9":
        return cohort.phq9
    return cohort.instruments.get(name)


def _patients(cohort: Cohort, protocol: Protocol) -> ir.Table:
    pts = cohort.patients
    return pts.select(
        "patient_id",
        "age",
        age_band=age_band_expr(pts.age, list(protocol.subgroups.age_bands)),
        sex=pts.sex,
        female=ibis.cases((pts.sex == "female", 1), (pts.sex == "male", 0), else_=ibis.null("int64")),
        route=pts.route,
        pathway=pts.pathway,
    )


def _sessions_wide(cohort: Cohort, protocol: Protocol) -> ir.Table:
    n_sessions = protocol.schedule.sessions
    sessions = cohort.sessions
    in_schedule = (sessions.session >= 1) & (sessions.session <= n_sessions)
    return sessions.group_by("patient_id").aggregate(
        sessions_delivered=sessions.session.count(where=in_schedule),
        sessions_total=sessions.count(),
        sae_count=sessions.serious_adverse_event.cast("int64").sum(),
        **{
            f"side_effects_{k}": sessions.side_effects.cast("int64").max(where=sessions.session == k)
            for k in protocol.schedule.assessments
            if k > 0
        },
    )


def rule_met_expr(table: ir.Table, timepoint: int, protocol: Protocol) -> ir.BooleanValue:
    """The plan's eligibility rule (`burnout.plan.eligibility_rule`) at ``timepoint``, decided
    on the primary instrument's integer units; null when the scales scored cannot decide it."""
    names, units, _good, prefix = primary_scales(protocol)
    scores = {s: table[col(prefix + s, timepoint)] for s in names}
    return eligibility_expr(eligibility_rule(protocol), scores, scale=units)


def _decisions(table: ir.Table, protocol: Protocol) -> ir.Table:
    """Threshold, completion, exclusion and response, on the primary instrument's scales."""
    assessments = list(protocol.schedule.assessments)
    first, last = assessments[0], assessments[-1]
    names, units, good, prefix = primary_scales(protocol)
    # The threshold is decided in three-valued logic: E >= 4.8 with C >= 3.8 is met even
    # if efficacy was not scored; a baseline that cannot decide it counts as none.
    baseline_threshold = rule_met_expr(table, first, protocol)
    all_scored = ibis.and_(*(table[col(prefix + s, t)].notnull() for s in names for t in assessments))
    table = table.mutate(
        baseline_scored=baseline_threshold.notnull(),
        threshold_met=baseline_threshold.fill_null(False),
        all_sessions=table.sessions_delivered >= protocol.schedule.sessions,
        all_assessments=all_scored.fill_null(False),
    )
    table = table.mutate(
        completer=table.threshold_met & table.all_sessions & table.all_assessments,
        exclusion=ibis.cases(
            (~table.baseline_scored, "no_baseline"),
            (~table.threshold_met, "below_threshold"),
            (~table.all_sessions, "missed_sessions"),
            (~table.all_assessments, "missed_assessment"),
            else_=ibis.null("string"),
        ),
    )
    changes = min_changes(protocol)
    responses = _responses(table, first, last, names, prefix, good, changes, units)
    if prefix:  # the MBI-GS responses the study's measures report stay, on the plan's min_change
        mbi_change = {str(s): exact(protocol.response.min_change) for s in SUBSCALES}
        mbi_good = {str(s): d for s, d in GOOD_DIRECTION.items()}
        responses |= _responses(table, first, last, SUBSCALES, "", mbi_good, mbi_change, SCALE)
    table = table.mutate(**responses)
    return table.mutate(
        responses=sum(
            (table[f"response_{s}"].cast("int64") for s in SUBSCALES[1:]),
            table[f"response_{SUBSCALES[0]}"].cast("int64"),
        ),
        **{f"threshold_{t}": rule_met_expr(table, t, protocol) for t in assessments},
    )


def _responses(
    table: ir.Table,
    first: int,
    last: int,
    names: tuple[str, ...],
    prefix: str,
    good: dict[str, int],
    changes: dict[str, Fraction],
    units: int,
) -> dict[str, ir.BooleanValue]:
    """``response_<prefix><s>``: improved by at least the scale's minimum change, first to last,
    decided on integer units (``units`` per point); false when either score is missing."""
    return {
        f"response_{prefix}{s}": (
            (table[col(prefix + s, last)] - table[col(prefix + s, first)]) * good[s]
            >= to_units_ceil(changes[s], scale=units)
        ).fill_null(False)
        for s in names
    }
