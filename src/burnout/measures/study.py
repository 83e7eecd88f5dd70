"""The relational stage: exact aggregates of the patient table, computed in the engine.

Everything here is a handful of aggregate queries over the materialised patient
table (``cohort.build_patient_table``). Python receives integers only: counts,
sums of integer score units and sums of their squares and cross-products (as
DECIMAL(38, 0), so nothing overflows and nothing depends on the order in which a
parallel engine adds floats). That makes the aggregates identical on every
backend and every run, which is what makes results.json byte-identical.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import ibis
import ibis.expr.types as ir

from burnout.cohort import PROFILES, ProfileCutoffs, col, profile_expr
from burnout.instrument import SCALE, SUBSCALES
from burnout.measures._aggregates import Moments
from burnout.measures._aggregates import as_int as _int
from burnout.measures._aggregates import moment_aggs as _moment_aggs
from burnout.measures._aggregates import moments as _moments
from burnout.measures._aggregates import one_row as _one_row
from burnout.measures._aggregates import rows as _rows
from burnout.measures.safety import SafetyCounts, collect_safety

if TYPE_CHECKING:
    from burnout.plan import Protocol

__all__ = ["Attrition", "Measures", "Moments", "collect_measures"]


@dataclass(frozen=True, slots=True)
class Attrition:
    """Completers vs non-completers among the threshold-met (exact aggregates).

    ``continuous[group][variable]`` are Moments (age in years; subscales in units;
    phq9 in units of 1/504); ``binary[group][variable]`` is (yes, n known);
    ``reach[j]`` counts patients with at least j sessions delivered;
    ``completion_by_subgroup[variable][level]`` is (completers, n);
    ``early_change[group][subscale]`` are Moments (units) of the change from baseline to
    the first follow-up among those scored at both (empty with a single assessment).
    """

    continuous: dict[str, dict[str, Moments]]
    binary: dict[str, dict[str, tuple[int, int]]]
    reach: dict[int, int]
    completion_by_subgroup: dict[str, dict[str, tuple[int, int]]]
    early_change: dict[str, dict[str, Moments]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Measures:
    """Every aggregate the analysis needs, as exact integers (scores in units of 1/SCALE)."""

    patients: int
    exclusions: dict[str, int]
    threshold_met: int
    completers: int
    scores: dict[tuple[str, int], Moments]
    changes: dict[tuple[str, int], Moments]
    plateau: dict[str, Moments]
    responders: dict[str, int]
    responder_counts: dict[int, int]
    response_patterns: dict[tuple[bool, bool, bool], int]
    below_threshold: dict[int, int]
    profiles: dict[int, dict[str, int]]
    transitions: dict[str, dict[str, int]]
    profile_cutoffs: ProfileCutoffs
    side_effects: dict[int, tuple[int, int]]
    sae: tuple[int, int]
    subgroups: dict[str, dict[str, dict[str, int]]]
    attrition: Attrition
    warnings: tuple[str, ...] = ()
    safety: SafetyCounts | None = None  # the safety population (None: not collected)


def collect_measures(table: ir.Table, protocol: Protocol) -> Measures:
    """Run the aggregate queries over the patient table.

    Parameters
    ----------
    table
        The materialised patient table from ``cohort.build_patient_table``.
    protocol
        The analysis plan.

    Notes
    -----
    Queries: flow (1), completer moments and counts (1), profiles, transitions and
    response patterns (1, grouped), subgroups with completion by subgroup (1, a union
    over the variables), and the attrition aggregates (1). The z-score profile
    cut-offs depend on the completers' baseline mean and SD, so profiles run after
    the moments query.
    """
    assessments = list(protocol.schedule.assessments)
    first = assessments[0]
    comp = table.filter(table.completer)
    flow = _collect_flow(table)
    row = _one_row(comp.aggregate(**_completer_aggs(table, comp, assessments)))

    scores = {(s, t): _moments(row, f"score_{s}_{t}") for s in SUBSCALES for t in assessments}
    changes = {(s, t): _moments(row, f"change_{s}_{t}") for s in SUBSCALES for t in assessments if t != first}
    plateau = {s: _moments(row, f"plateau_{s}") for s in SUBSCALES if len(assessments) >= 3}
    cutoffs, warnings = _profile_cutoffs(protocol, scores, first)
    profiles, transitions, patterns = _collect_profiles(comp, assessments, cutoffs)
    subgroups, completion = _collect_subgroups(table, protocol)

    return Measures(
        patients=flow.patients,
        exclusions=flow.exclusions,
        threshold_met=flow.threshold_met,
        completers=flow.completers,
        scores=scores,
        changes=changes,
        plateau=plateau,
        responders={s: _int(row[f"resp_{s}"]) for s in SUBSCALES},
        responder_counts={k: _int(row[f"resp_n_{k}"]) for k in (1, 2, 3)},
        response_patterns=patterns,
        below_threshold={t: _int(row[f"below_{t}"]) for t in assessments},
        profiles=profiles,
        transitions=transitions,
        profile_cutoffs=cutoffs,
        side_effects={k: (_int(row[f"se_yes_{k}"]), _int(row[f"se_n_{k}"])) for k in assessments if k > 0},
        sae=(_int(row["sae_events"]), _int(row["sae_sessions"])),
        subgroups=subgroups,
        attrition=_collect_attrition(table, protocol, completion=completion),
        warnings=tuple(warnings),
        safety=collect_safety(table, tuple(t for t in assessments if t > 0)),
    )


@dataclass(frozen=True, slots=True)
class _Flow:
    """The patient flow: everyone, the exclusions by reason, who met the threshold, the completers."""

    patients: int
    exclusions: dict[str, int]
    threshold_met: int
    completers: int


def _collect_flow(table: ir.Table) -> _Flow:
    """Patients by exclusion reason (one grouped query); completers are those with none."""
    flow_rows = _rows(table.group_by("exclusion").aggregate(n=table.count()))
    by_reason = {r["exclusion"]: int(r["n"]) for r in flow_rows}
    patients = sum(by_reason.values())
    exclusions = {
        reason: by_reason.get(reason, 0)
        for reason in ("no_baseline", "below_threshold", "missed_sessions", "missed_assessment")
    }
    threshold_met = patients - exclusions["no_baseline"] - exclusions["below_threshold"]
    return _Flow(patients, exclusions, threshold_met, by_reason.get(None, 0))


def _completer_aggs(table: ir.Table, comp: ir.Table, assessments: list[int]) -> dict[str, ir.Value]:
    """The completers' score and change moments, responders, below-threshold and side-effect
    counts, and the serious adverse events over every session: one aggregate query."""
    first, last = assessments[0], assessments[-1]
    aggs: dict[str, ir.Value] = {}
    for s in SUBSCALES:
        for t in assessments:
            aggs |= _moment_aggs(f"score_{s}_{t}", comp[col(s, t)])
            if t != first:
                aggs |= _moment_aggs(f"change_{s}_{t}", comp[col(s, t)] - comp[col(s, first)])
        if len(assessments) >= 3:
            aggs |= _moment_aggs(f"plateau_{s}", comp[col(s, last)] - comp[col(s, assessments[-2])])
        aggs[f"resp_{s}"] = comp[f"response_{s}"].cast("int64").sum()
    for k in (1, 2, 3):
        aggs[f"resp_n_{k}"] = (
            (comp.responses >= k).cast("int64").sum() if k < 3 else (comp.responses == 3).cast("int64").sum()
        )
    for t in assessments:
        aggs[f"below_{t}"] = (~comp[f"threshold_{t}"]).cast("int64").sum()
    for k in assessments:
        if k > 0:
            aggs[f"se_n_{k}"] = comp[f"side_effects_{k}"].count()
            aggs[f"se_yes_{k}"] = comp[f"side_effects_{k}"].sum()
    aggs["sae_events"] = table.sae_count.sum()
    aggs["sae_sessions"] = table.sessions_total.sum()
    return aggs


def _profile_cutoffs(
    protocol: Protocol, scores: dict[tuple[str, int], Moments], first: int
) -> tuple[ProfileCutoffs, list[str]]:
    """The plan's profile cut-offs (z-scores against the completers' baseline or the norms),
    or unclassifiable with the reason as a warning."""
    reference = _profile_reference(protocol, scores, first) if protocol.profiles.method == "zscore" else None
    if protocol.instruments.primary != "mbi_gs":  # profiles are MBI-GS only (results.instruments.notes)
        return ProfileCutoffs.unclassifiable(), []
    if protocol.profiles.method == "zscore" and reference is None:
        # No spread to standardise against: every completer is then classed on raw
        # cut-offs that nobody reaches, and the plan's z boundaries are reported unused.
        warning = (
            "z-score profiles need at least 2 completers with varying baseline scores; "
            'profiles were not classified (set [profiles] method = "raw" for small cohorts)'
        )
        return ProfileCutoffs.unclassifiable(), [warning]
    return ProfileCutoffs.from_plan(protocol, reference=reference), []


def _collect_profiles(
    comp: ir.Table, assessments: list[int], cutoffs: ProfileCutoffs
) -> tuple[dict[int, dict[str, int]], dict[str, dict[str, int]], dict[tuple[bool, bool, bool], int]]:
    """Profiles at every timepoint, transitions first -> last and response patterns: one grouped query."""
    keys = {f"p{i}": profile_expr(comp, t, cutoffs) for i, t in enumerate(assessments)}
    keys |= {f"r_{s}": comp[f"response_{s}"] for s in SUBSCALES}
    cells = _rows(comp.group_by(**keys).aggregate(n=comp.count()))
    profiles = {t: dict.fromkeys(PROFILES, 0) for t in assessments}
    transitions = {a: dict.fromkeys(PROFILES, 0) for a in PROFILES}
    patterns: dict[tuple[bool, bool, bool], int] = {}
    for r in cells:
        n = int(r["n"])
        for i, t in enumerate(assessments):
            profiles[t][r[f"p{i}"]] += n
        transitions[r["p0"]][r[f"p{len(assessments) - 1}"]] += n
        pattern = (bool(r[f"r_{SUBSCALES[0]}"]), bool(r[f"r_{SUBSCALES[1]}"]), bool(r[f"r_{SUBSCALES[2]}"]))
        patterns[pattern] = patterns.get(pattern, 0) + n
    return profiles, transitions, patterns


def _collect_subgroups(
    table: ir.Table, protocol: Protocol
) -> tuple[dict[str, dict[str, dict[str, int]]], dict[str, dict[str, tuple[int, int]]]]:
    """The completers' subgroups (levels with a completer) and completion by subgroup
    (completers, threshold-met) of every level."""
    # one query per level of every variable, over the threshold-met patients (completers
    # are among them): the completers' subgroups and completion by subgroup
    itt = table.filter(table.threshold_met)
    if "pathway" in protocol.subgroups.by:
        itt = _published_pathway(itt, protocol)
    done = itt.completer
    by_level = _by_variable(
        itt,
        protocol.subgroups.by,
        itt_n=itt.count(),
        n=done.cast("int64").sum(),
        at_least_1=(done & (itt.responses >= 1)).cast("int64").sum(),
        **{s: (done & itt[f"response_{s}"]).cast("int64").sum() for s in SUBSCALES},
    )
    subgroups = {
        variable: {
            level: {k: _int(v) for k, v in r.items() if k != "itt_n"} for level, r in rows.items() if _int(r["n"]) > 0
        }
        for variable, rows in by_level.items()
    }
    completion = {
        variable: {level: (_int(r["n"]), _int(r["itt_n"])) for level, r in rows.items()}
        for variable, rows in by_level.items()
    }
    return subgroups, completion


def _collect_attrition(
    table: ir.Table, protocol: Protocol, *, completion: dict[str, dict[str, tuple[int, int]]]
) -> Attrition:
    """Baseline characteristics by completion and reach per session, with ``completion``
    by subgroup (counted with the subgroups).

    All among patients who met the threshold at baseline (the intention-to-treat set).
    """
    first = protocol.schedule.assessments[0]
    itt = table.filter(table.threshold_met)
    has_phq9 = f"phq9_{first}" in table.columns
    variables: dict[str, ir.IntegerValue] = {
        "age": itt.age,
        **{s: itt[col(s, first)] for s in SUBSCALES},
    }
    if has_phq9:
        variables["phq9"] = itt[f"phq9_{first}"]
    binaries: dict[str, ir.IntegerValue] = {
        "female": itt.female,
        "subcutaneous": ibis.cases(
            (itt.route == "subcutaneous", 1), (itt.route == "sublingual", 0), else_=ibis.null("int64")
        ),
    }
    aggs: dict[str, ir.Value] = {}
    for group, flag in (("completers", itt.completer), ("non_completers", ~itt.completer)):
        for name, expr in variables.items():
            aggs |= _moment_aggs(f"{group}_{name}", expr, where=flag)
        for name, expr in binaries.items():
            aggs[f"{group}_{name}__n"] = expr.count(where=flag)
            aggs[f"{group}_{name}__yes"] = expr.sum(where=flag)
    # dropout that depends on early response: the change to the first follow-up by completion
    follow_up = protocol.schedule.assessments[1] if len(protocol.schedule.assessments) > 1 else None
    for group, flag in (("completers", itt.completer), ("non_completers", ~itt.completer)):
        for s in SUBSCALES if follow_up is not None else ():
            aggs |= _moment_aggs(f"early_{group}_{s}", itt[col(s, follow_up)] - itt[col(s, first)], where=flag)
    n_sessions = protocol.schedule.sessions
    for j in range(0, n_sessions + 1):
        aggs[f"reach_{j}"] = (itt.sessions_delivered >= j).cast("int64").sum()
    row = _one_row(itt.aggregate(**aggs))
    continuous = {
        group: {name: _moments(row, f"{group}_{name}") for name in variables}
        for group in ("completers", "non_completers")
    }
    binary = {
        group: {name: (_int(row[f"{group}_{name}__yes"]), _int(row[f"{group}_{name}__n"])) for name in binaries}
        for group in ("completers", "non_completers")
    }
    return Attrition(
        continuous=continuous,
        binary=binary,
        reach={j: _int(row[f"reach_{j}"]) for j in range(0, n_sessions + 1)},
        completion_by_subgroup=completion,
        early_change={
            group: {s: _moments(row, f"early_{group}_{s}") for s in SUBSCALES if follow_up is not None}
            for group in ("completers", "non_completers")
        },
    )


def _published_pathway(itt: ir.Table, protocol: Protocol) -> ir.Table:
    """``itt`` with pathway replaced by what may be published as a subgroup level.

    Pathway is free text (a referral note can hold a name or a date of birth): a value is
    a level of its own only when the plan lists it (``[subgroups] pathway_levels``,
    compared lower-cased and trimmed, as the data are) or when at least
    ``min_cell_count`` threshold-met patients have it; "unknown" (blank) stays; every
    other value becomes "other". Decided in the engine: no value is pulled to Python.
    """
    k = protocol.privacy.min_cell_count
    listed = sorted({v.strip().lower() for v in protocol.subgroups.pathway_levels} | {"unknown"})
    sizes = itt.group_by("pathway").aggregate(_pathway_n=itt.count())
    joined = itt.join(sizes, "pathway")
    keep = joined.pathway.isin(listed) | (joined._pathway_n >= k)
    return joined.mutate(pathway=ibis.cases((keep, joined.pathway), else_="other")).drop("_pathway_n")


def _by_variable(t: ir.Table, variables: Sequence[str], **aggs: ir.Value) -> dict[str, dict[str, dict[str, Any]]]:
    """``aggs`` per level of each variable, in one query: variable -> level (as text, sorted) -> values."""
    out: dict[str, dict[str, dict[str, Any]]] = {v: {} for v in variables}
    if not variables:
        return out
    branches = [t.group_by(_level=t[v].cast("string")).aggregate(_variable=ibis.literal(v), **aggs) for v in variables]
    rows = _rows(ibis.union(*branches, distinct=False))
    for r in sorted(rows, key=lambda r: (r["_variable"], str(r["_level"]))):
        out[r["_variable"]][str(r["_level"])] = {k: v for k, v in r.items() if not k.startswith("_")}
    return out


def _profile_reference(
    protocol: Protocol,
    scores: dict[tuple[str, int], Moments],
    first: int,
) -> dict[str, tuple[float, float]] | None:
    """(mean, sd) per subscale in score points for z-score profiles (None: not computable)."""
    p = protocol.profiles
    if p.reference == "norms":
        return {s: (float(getattr(p.norms, s).mean), float(getattr(p.norms, s).sd)) for s in SUBSCALES}
    ref = {}
    for s in SUBSCALES:
        m = scores[(s, first)]
        if m.n < 2 or m.centered_ss() == 0:
            return None
        mean = m.total / m.n / SCALE
        sd = (m.centered_ss() / (m.n - 1)) ** 0.5 / SCALE
        ref[s] = (mean, sd)
    return ref
