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
    from burnout.beyond import BeyondMeasures
    from burnout.measures import Measures
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


def _points(units: float) -> float:
    return units / SCALE


def build_results(
    m: Measures,
    protocol: Protocol,
    *,
    meta: dict[str, Any],
    warnings: list[str],
    beyond: BeyondMeasures | None = None,
) -> dict[str, Any]:
    """Assemble the results tree from the aggregates, with privacy suppression applied.

    ``beyond`` adds the analyses beyond the reference study (itt, phq9,
    reliable_change, reliability; results.md, second part).
    """
    k = protocol.privacy.min_cell_count
    conf = protocol.analysis.confidence
    assessments = list(protocol.schedule.assessments)
    first, last = assessments[0], assessments[-1]

    def prop(count: int, n: int) -> dict[str, Any]:
        if 1 <= n < k:  # the denominator is itself a small count: hide it too
            return _hidden()
        p = privacy.suppress_proportion(est.proportion(count, n, confidence=conf), min_cell_count=k, small_n="keep")
        return p.to_json()

    def family(counts: dict[str, int], n: int) -> dict[str, dict[str, Any]]:
        """Proportions sharing one denominator whose counts add up to it (profiles at a timepoint)."""
        if 1 <= n < k:
            return {key: _hidden() for key in counts}
        safe = privacy.suppress_vector(counts, min_cell_count=k)
        out = {}
        for key, c in counts.items():
            p = est.proportion(c, n, confidence=conf)
            if safe[key] is None:
                p = _suppress(p)
            out[key] = privacy.suppress_proportion(p, min_cell_count=k, small_n="keep").to_json()
        return out

    # -- flow --------------------------------------------------------------------
    # patients, threshold_met and completers are all published, so the exclusions
    # form two families with known totals: before the threshold and after it.
    before = privacy.suppress_vector(
        {r: m.exclusions[r] for r in ("no_baseline", "below_threshold")}, min_cell_count=k
    )
    after = privacy.suppress_vector(
        {r: m.exclusions[r] for r in ("missed_sessions", "missed_assessment")}, min_cell_count=k
    )
    flow = {
        "patients": privacy.suppress_count(m.patients, min_cell_count=k),
        "threshold_met": privacy.suppress_count(m.threshold_met, min_cell_count=k),
        "completers": privacy.suppress_count(m.completers, min_cell_count=k),
        "completion": prop(m.completers, m.threshold_met),
        "exclusions": {reason: (before | after)[reason] for reason in EXCLUSION_REASONS},
    }

    # -- trajectories, effect sizes, response -------------------------------------
    subscales: dict[str, Any] = {}
    for s in SUBSCALES:
        base = m.scores[(s, first)]
        base_mean = _points(base.total / base.n) if base.n else None
        timepoints: dict[str, Any] = {}
        for t in assessments:
            mo = m.scores[(s, t)]
            sc = est.mean_summary(mo.n, mo.total, mo.total_sq, scale=SCALE, confidence=conf)
            entry: dict[str, Any] = {"n": sc.n, "mean": sc.mean, "sd": sc.sd, "ci": _pair(sc.ci)}
            if t != first:
                ch = m.changes[(s, t)]
                pc = est.paired_change(ch.n, ch.total, ch.total_sq, scale=SCALE, confidence=conf)
                entry |= {
                    "change": pc.mean,
                    "change_sd": pc.sd,
                    "change_ci": _pair(pc.ci),
                    "percent_change": (100 * pc.mean / base_mean) if (pc.mean is not None and base_mean) else None,
                    "t": pc.t,
                    "df": pc.df,
                    "p": pc.p,
                    "effect_size": {"dz": pc.dz, "ci": _pair(pc.dz_ci), "label": pc.dz_label, "method": "noncentral t"},
                    # the good direction, so a reader needn't recall which way each subscale improves
                    "improved": None if pc.mean is None else (pc.mean * GOOD_DIRECTION[s] > 0),  # type: ignore[index]
                }
            timepoints[str(t)] = entry
        subscales[s] = {"timepoints": timepoints, "response": prop(m.responders[s], m.completers)}
        if s in m.plateau:
            pl = m.plateau[s]
            pp = est.paired_change(pl.n, pl.total, pl.total_sq, scale=SCALE, confidence=conf)
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

    responders = _responder_chain(m.responder_counts, m.completers, prop, k)

    q = (
        est.cochran_q(m.response_patterns)
        if m.response_patterns
        else est.HypothesisTest(test="not-testable", statistic=None, df=None, p=None, n=0)
    )
    pairs = [(a, b) for i, a in enumerate(SUBSCALES) for b in SUBSCALES[i + 1 :]]
    mcn = []
    for a, b in pairs:
        ia, ib = SUBSCALES.index(a), SUBSCALES.index(b)
        only_a = sum(n for pat, n in m.response_patterns.items() if pat[ia] and not pat[ib])
        only_b = sum(n for pat, n in m.response_patterns.items() if pat[ib] and not pat[ia])
        r = est.mcnemar(only_a, only_b)
        # The discordant counts are not published, but with the margins they could be
        # solved back from the statistic: withhold the test when either is small.
        hidden = privacy.is_small_count(only_a, min_cell_count=k) or privacy.is_small_count(only_b, min_cell_count=k)
        mcn.append((a, b, r, hidden))
    holm = est.holm([None if hidden else r.p for _, _, r, hidden in mcn])
    comparison = {
        "cochran_q": {"statistic": q.statistic, "df": q.df, "p": q.p, "test": q.test},
        "mcnemar": {
            f"{a}|{b}": (
                {"statistic": None, "df": None, "p": None, "p_holm": None, "test": r.test, "suppressed": True}
                if hidden
                else {"statistic": r.statistic, "df": r.df, "p": r.p, "p_holm": ph, "test": r.test, "suppressed": False}
            )
            for (a, b, r, hidden), ph in zip(mcn, holm, strict=True)
        },
    }

    below = {str(t): prop(m.below_threshold[t], m.completers) for t in assessments}

    # -- profiles -----------------------------------------------------------------
    profiles: dict[str, Any] = {}
    classified = m.profile_cutoffs.description != "not computed"
    for t in assessments:
        if classified:
            profiles[str(t)] = family(dict(m.profiles[t]), m.completers)
        else:
            profiles[str(t)] = {p: {"count": None, "n": m.completers, "rate": None, "ci": None, "suppressed": False} for p in PROFILES}
    safe_matrix = privacy.suppress_matrix(m.transitions, min_cell_count=k)
    profiles["transitions"] = {"from": str(first), "to": str(last), "counts": safe_matrix.to_json() if classified else None}
    burnout_base = m.profiles[first]["burnout"]
    row = m.transitions["burnout"]
    profiles["burnout_at_baseline"] = profiles[str(first)]["burnout"]["count"]
    resolved = prop(burnout_base - row["burnout"], burnout_base)
    to_engaged = prop(row["engaged"], burnout_base)
    # Both are cells (or a row total minus a cell) of the transition matrix: hide them
    # wherever the matrix hides what they are made of.
    if profiles["burnout_at_baseline"] is None or ("burnout", "burnout") in safe_matrix.suppressed:
        resolved = _hidden() | {"n": resolved["n"]} if profiles["burnout_at_baseline"] is not None else _hidden()
    if profiles["burnout_at_baseline"] is None or ("burnout", "engaged") in safe_matrix.suppressed:
        to_engaged = _hidden() | {"n": to_engaged["n"]} if profiles["burnout_at_baseline"] is not None else _hidden()
    profiles["burnout_resolved"] = resolved
    profiles["burnout_to_engaged"] = to_engaged
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
    outcomes = [*SUBSCALES, "at_least_1"]
    hidden_by_variable = _hidden_levels(m, k)
    for variable, completer_levels in m.subgroups.items():
        var_out: dict[str, Any] = {}
        # every level of the intention-to-treat set, so a hidden level with no
        # completers still shows as hidden rather than vanishing (which would reveal 0)
        zero = {"n": 0, "at_least_1": 0, **{sub: 0 for sub in SUBSCALES}}
        all_levels = sorted(set(completer_levels) | set(m.attrition.completion_by_subgroup.get(variable, {})))
        levels = {lv: completer_levels.get(lv, zero) for lv in all_levels}
        present = [lv for lv in levels if levels[lv]["n"] > 0]
        hidden_levels = [lv for lv in present if lv in hidden_by_variable[variable]]
        per_outcome = {
            o: privacy.suppress_proportions(
                {lv: est.proportion(levels[lv][o], levels[lv]["n"], confidence=conf) for lv in present},
                min_cell_count=k,
                small_n="keep",
                hidden=hidden_levels,
            )
            for o in outcomes
        }
        for level in levels:
            if level in present and level not in hidden_levels:
                var_out[level] = {"n": levels[level]["n"], **{o: per_outcome[o][level].to_json() for o in outcomes}}
            elif level in hidden_by_variable[variable]:
                # a small (or complementary-suppressed) group: nothing about it is published
                var_out[level] = {"n": None, **{o: _hidden() for o in outcomes}}
            else:
                var_out[level] = {"n": 0, **{o: prop(0, 0) for o in outcomes}}
        var_out["heterogeneity"] = {
            o: est.heterogeneity([(c[o], c["n"]) for c in levels.values()]).to_json() for o in outcomes
        }
        subgroups[variable] = var_out

    attrition = _attrition(m, protocol, prop, hidden_by_variable)
    extra: dict[str, Any] = {}
    if beyond is not None:
        from burnout.beyond import beyond_results

        extra = beyond_results(beyond, protocol, threshold_met=m.threshold_met, completers=m.completers)

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
        "attrition": attrition,
        **extra,
        "warnings": list(warnings),
    }


TABLE1_LABELS = {
    "age": "Age, years",
    "female": "Female",
    "subcutaneous": "Subcutaneous route",
    "exhaustion": "Exhaustion (0-6)",
    "cynicism": "Cynicism (0-6)",
    "professional_efficacy": "Professional Efficacy (0-6)",
    "phq9": "PHQ-9 total (0-27)",
}


def _hidden_levels(m: Measures, k: int) -> dict[str, frozenset[str]]:
    """Subgroup levels hidden everywhere: in subgroups and in completion by subgroup.

    Per level three counts are published somewhere (threshold-met patients,
    completers, hence non-completers), each family with a published total; a level
    is hidden in all outputs when any of them needs it (privacy.hide_jointly).
    """
    out = {}
    for variable, levels in m.attrition.completion_by_subgroup.items():
        itt_n = {lv: n for lv, (_, n) in levels.items()}
        done = {lv: c for lv, (c, _) in levels.items()}
        not_done = {lv: n - c for lv, (c, n) in levels.items()}
        out[variable] = privacy.hide_jointly([itt_n, done, not_done], min_cell_count=k)
    return out


def _attrition(m: Measures, protocol: Protocol, prop: Any, hidden_levels: dict[str, frozenset[str]]) -> dict[str, Any]:
    """Table 1 (completers vs non-completers at baseline), reach per session, completion by subgroup."""
    from burnout.scoring import PHQ9_SCALE

    a = m.attrition
    scale = {"age": 1, "phq9": PHQ9_SCALE} | {s: SCALE for s in SUBSCALES}
    table1: dict[str, Any] = {}
    smd: dict[str, float | None] = {}
    for name in a.continuous["completers"]:
        groups = {}
        stats = []
        for g in ("completers", "non_completers"):
            mo = a.continuous[g][name]
            mean = mo.total / mo.n / scale[name] if mo.n else None
            sd = (mo.centered_ss() / (mo.n - 1)) ** 0.5 / scale[name] if mo.n > 1 else None
            groups[g] = {"n": mo.n, "mean": mean, "sd": sd}
            stats.append((mean, sd))
        (m1, s1), (m2, s2) = stats
        d = None
        if None not in (m1, m2, s1, s2) and (s1**2 + s2**2) > 0:  # type: ignore[operator]
            d = (m1 - m2) / ((s1**2 + s2**2) / 2) ** 0.5  # type: ignore[operator]
        smd[name] = d
        table1[name] = {"label": TABLE1_LABELS[name], "kind": "continuous", **groups, "smd": d}
    for name in a.binary["completers"]:
        groups = {}
        rates = []
        for g in ("completers", "non_completers"):
            yes, n = a.binary[g][name]
            groups[g] = prop(yes, n)
            rates.append(yes / n if n else None)
        p1, p2 = rates
        d = None
        if p1 is not None and p2 is not None:
            pooled = (p1 * (1 - p1) + p2 * (1 - p2)) / 2
            d = (p1 - p2) / pooled**0.5 if pooled > 0 else None
        smd[name] = d
        table1[name] = {"label": TABLE1_LABELS[name], "kind": "binary", **groups, "smd": d}
    # consecutive differences are patients who stopped after exactly j sessions
    reach = _chain({str(j): c for j, c in a.reach.items() if j > 0}, m.threshold_met, prop, protocol.privacy.min_cell_count)
    completion = {
        var: {
            level: (_hidden() if level in hidden_levels.get(var, ()) else prop(c, n))
            for level, (c, n) in levels.items()
        }
        for var, levels in a.completion_by_subgroup.items()
    }
    return {"table1": table1, "baseline_smd": smd, "reach": reach, "completion_by_subgroup": completion}


def _responder_chain(counts: dict[int, int], n: int, prop: Any, k: int) -> dict[str, Any]:
    """Responders on at least 1 / 2 / all 3 subscales."""
    keys = {1: "at_least_1", 2: "at_least_2", 3: "all_3"}
    return _chain({keys[j]: counts[j] for j in keys}, n, prop, k)


def _chain(counts: dict[str, int], n: int, prop: Any, k: int) -> dict[str, Any]:
    """Proportions of a non-increasing chain of counts under ``n``, safe against subtraction
    (privacy.safe_chain): a withheld step keeps its denominator."""
    shown = privacy.safe_chain(n, counts, min_cell_count=k)
    out = {}
    for key, c in counts.items():
        p = prop(c, n)
        if key not in shown and p["n"] is not None:
            p = _hidden() | {"n": p["n"]}
        out[key] = p
    return out


def _hidden() -> dict[str, Any]:
    """A Proportion whose denominator is itself a small count: nothing is published."""
    return {"count": None, "n": None, "rate": None, "ci": None, "suppressed": True}


def _suppress(p: est.Proportion) -> est.Proportion:
    return est.Proportion(count=None, n=p.n, rate=None, ci=None, suppressed=True)


def _pair(ci: tuple[float, float] | None) -> list[float] | None:
    return None if ci is None else [ci[0], ci[1]]
