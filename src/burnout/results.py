"""From exact aggregates to the results.json tree (the contract in results.md).

Every statistic is computed here from ``measures.Measures`` by the functions of
``estimates``; every count passes through ``privacy`` before it is placed in the
tree. The tree holds plain JSON types only, in a fixed key order, so that the same
input and plan give byte-identical JSON.
"""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING, Any

from burnout import estimates as est
from burnout import privacy
from burnout.cohort import EXCLUSION_REASONS, PROFILES
from burnout.instrument import GOOD_DIRECTION, SCALE, SUBSCALES

if TYPE_CHECKING:
    from burnout.measures import Measures, Moments
    from burnout.protocol import Protocol

__all__ = ["SCHEMA_VERSION", "build_results", "dumps"]

SCHEMA_VERSION = 1


def dumps(tree: dict[str, Any]) -> str:
    """Canonical JSON text of a results tree (NaN is never written: it becomes null)."""
    return json.dumps(_clean(tree), indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def _clean(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


def _label(dz: float | None) -> str | None:
    if dz is None:
        return None
    a = abs(dz)
    return "negligible" if a < 0.2 else "small" if a < 0.5 else "medium" if a < 0.8 else "large"


def _points(units: float) -> float:
    return units / SCALE


def build_results(
    m: Measures,
    protocol: Protocol,
    *,
    meta: dict[str, Any],
    warnings: list[str],
) -> dict[str, Any]:
    """Assemble the results tree from the aggregates, with privacy suppression applied."""
    k = protocol.privacy.min_cell_count
    conf = protocol.analysis.confidence
    assessments = list(protocol.schedule.assessments)
    first, last = assessments[0], assessments[-1]

    def prop(count: int, n: int) -> dict[str, Any]:
        p = privacy.suppress_proportion(est.proportion(count, n, confidence=conf), min_cell_count=k)
        return p.to_json()

    def prop_from(count: int | None, n: int) -> dict[str, Any]:
        if count is None:
            return est.Proportion(count=None, n=n, rate=None, ci=None, suppressed=True).to_json()
        return prop(count, n)

    # -- flow --------------------------------------------------------------------
    flow_counts = privacy.suppress_vector(dict(m.exclusions) | {"completers": m.completers}, min_cell_count=k)
    flow = {
        "patients": privacy.suppress_count(m.patients, min_cell_count=k),
        "threshold_met": privacy.suppress_count(m.threshold_met, min_cell_count=k),
        "completers": flow_counts["completers"],
        "completion": prop(m.completers, m.threshold_met),
        "exclusions": {reason: flow_counts[reason] for reason in EXCLUSION_REASONS},
    }

    # -- trajectories, effect sizes, response -------------------------------------
    subscales: dict[str, Any] = {}
    for s in SUBSCALES:
        base = m.scores[(s, first)]
        base_mean = _points(base.total / base.n) if base.n else None
        timepoints: dict[str, Any] = {}
        for t in assessments:
            sc = est.mean_summary(m.scores[(s, t)].n, _points_moments(m.scores[(s, t)]), confidence=conf)
            entry: dict[str, Any] = {"n": sc.n, "mean": sc.mean, "sd": sc.sd, "ci": _pair(sc.ci)}
            if t != first:
                ch = m.changes[(s, t)]
                pc = est.paired_change(ch.n, *_points_moments(ch), confidence=conf)
                entry |= {
                    "change": pc.mean,
                    "change_sd": pc.sd,
                    "change_ci": _pair(pc.ci),
                    "percent_change": (100 * pc.mean / base_mean) if (pc.mean is not None and base_mean) else None,
                    "t": pc.t,
                    "df": pc.df,
                    "p": pc.p,
                    "effect_size": {"dz": pc.dz, "ci": _pair(pc.dz_ci), "label": _label(pc.dz), "method": "noncentral t"},
                    # the good direction, so a reader needn't recall which way each subscale improves
                    "improved": None if pc.mean is None else (pc.mean * GOOD_DIRECTION[s] > 0),  # type: ignore[index]
                }
            timepoints[str(t)] = entry
        subscales[s] = {"timepoints": timepoints, "response": prop(m.responders[s], m.completers)}
        if s in m.plateau:
            pl = m.plateau[s]
            pp = est.paired_change(pl.n, *_points_moments(pl), confidence=conf)
            subscales[s]["plateau"] = {
                "from": str(assessments[-2]),
                "to": str(last),
                "mean_difference": pp.mean,
                "ci": _pair(pp.ci),
                "t": pp.t,
                "df": pp.df,
                "p": pp.p,
                "test": "paired t",
                "plateaued": None if pp.p is None else bool(pp.p >= 0.05 or pp.mean * GOOD_DIRECTION[s] <= 0),  # type: ignore[index]
            }

    responders = {
        "at_least_1": prop(m.responder_counts[1], m.completers),
        "at_least_2": prop(m.responder_counts[2], m.completers),
        "all_3": prop(m.responder_counts[3], m.completers),
    }

    q = est.cochran_q(m.response_patterns)
    pairs = [(a, b) for i, a in enumerate(SUBSCALES) for b in SUBSCALES[i + 1 :]]
    mcn = []
    for a, b in pairs:
        ia, ib = SUBSCALES.index(a), SUBSCALES.index(b)
        only_a = sum(n for pat, n in m.response_patterns.items() if pat[ia] and not pat[ib])
        only_b = sum(n for pat, n in m.response_patterns.items() if pat[ib] and not pat[ia])
        r = est.mcnemar(only_a, only_b)
        mcn.append((a, b, r))
    holm = est.holm([r.p for _, _, r in mcn])
    comparison = {
        "cochran_q": {"statistic": q.statistic, "df": q.df, "p": q.p},
        "mcnemar": {
            f"{a}|{b}": {"statistic": r.statistic, "p": r.p, "p_holm": ph, "test": r.method}
            for (a, b, r), ph in zip(mcn, holm, strict=True)
        },
    }

    below = {str(t): prop(m.below_threshold[t], m.completers) for t in assessments}

    # -- profiles -----------------------------------------------------------------
    profiles: dict[str, Any] = {}
    for t in assessments:
        safe = privacy.suppress_vector(m.profiles[t], min_cell_count=k)
        profiles[str(t)] = {p: prop_from(safe[p], m.completers) for p in PROFILES}
    safe_matrix = privacy.suppress_matrix(m.transitions, min_cell_count=k)
    profiles["transitions"] = {"from": str(first), "to": str(last), "counts": safe_matrix}
    burnout_base = m.profiles[first]["burnout"]
    row = m.transitions["burnout"]
    profiles["burnout_at_baseline"] = privacy.suppress_count(burnout_base, min_cell_count=k)
    profiles["burnout_resolved"] = prop(burnout_base - row["burnout"], burnout_base)
    profiles["burnout_to_engaged"] = prop(row["engaged"], burnout_base)
    cut = m.profile_cutoffs
    profiles["cutoffs"] = {
        "method": protocol.profiles.method,
        "reference": protocol.profiles.reference,
        "raw": cut.raw(),
        "description": cut.description,
    }

    side_effects: dict[str, Any] = {str(s): prop(yes, n) for s, (yes, n) in m.side_effects.items()}
    events, sessions = m.sae
    side_effects["serious_adverse_events"] = prop(events, sessions)

    subgroups: dict[str, Any] = {}
    for variable, levels in m.subgroups.items():
        var_out: dict[str, Any] = {}
        outcomes = [*SUBSCALES, "at_least_1"]
        safe_n = privacy.suppress_vector({lv: c["n"] for lv, c in levels.items()}, min_cell_count=k)
        safe_out = {
            o: privacy.suppress_vector({lv: c[o] for lv, c in levels.items()}, min_cell_count=k) for o in outcomes
        }
        for level, counts in levels.items():
            entry: dict[str, Any] = {"n": safe_n[level]}
            for o in outcomes:
                entry[o] = prop_from(None if safe_n[level] is None else safe_out[o][level], counts["n"])
                if safe_n[level] is None:
                    entry[o]["n"] = None
            var_out[level] = entry
        het = {}
        for o in outcomes:
            h = est.heterogeneity([(c[o], c["n"]) for c in levels.values()])
            het[o] = {"statistic": h.statistic, "df": h.df, "p": h.p, "test": h.test}
        var_out["heterogeneity"] = het
        subgroups[variable] = var_out

    return {
        "schema_version": SCHEMA_VERSION,
        "meta": meta,
        "protocol": protocol.resolved() | {"sha256": protocol.sha256},
        "flow": flow,
        "subscales": subscales,
        "responders": responders,
        "comparison": comparison,
        "below_threshold": below,
        "profiles": profiles,
        "side_effects": side_effects,
        "subgroups": subgroups,
        "warnings": list(warnings),
    }


def _points_moments(mo: Moments) -> tuple[float, float]:
    """(sum, centred sum of squares) in score points."""
    return mo.total / SCALE, mo.centered_ss() / (SCALE * SCALE)


def _pair(ci: tuple[float, float] | None) -> list[float] | None:
    return None if ci is None else [ci[0], ci[1]]
