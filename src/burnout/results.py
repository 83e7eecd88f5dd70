"""From exact aggregates to the results.json tree (the contract in results.md).

Every statistic is computed here from ``measures.Measures`` by the functions of
``estimates``; every count passes through ``privacy`` before it is placed in the
tree. The tree holds plain JSON types only, in a fixed key order, so that the same
input and plan give byte-identical JSON.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from burnout import estimates as est
from burnout import privacy
from burnout.cohort import EXCLUSION_REASONS, PROFILES
from burnout.instrument import GOOD_DIRECTION, SCALE, SUBSCALES

if TYPE_CHECKING:
    from burnout.beyond import BeyondMeasures
    from burnout.measures import Measures
    from burnout.protocol import Protocol

__all__ = ["SCHEMA_VERSION", "WARNINGS_LOG", "build_results", "dumps", "warnings_log"]

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
    privacy.check_cohort_size(m.patients, min_cohort=protocol.privacy.min_cohort)
    k = protocol.privacy.min_cell_count
    conf = protocol.analysis.confidence
    pub = privacy.Publisher.for_plan(protocol)
    assessments = list(protocol.schedule.assessments)
    first, last = assessments[0], assessments[-1]

    # -- flow --------------------------------------------------------------------
    flow = _flow(m, pub)
    comp_pub = flow["completers"] is not None  # every statistic over the completers needs their n
    itt_pub = flow["threshold_met"] is not None

    def prop(count: int, n: int, *, n_published: bool = True) -> dict[str, Any]:
        return pub.prop(count, n, n_published=n_published)

    def family(counts: dict[str, int], n: int) -> dict[str, dict[str, Any]]:
        """Proportions sharing the completers as denominator whose counts add up to it (profiles)."""
        return pub.family(counts, n, n_published=comp_pub)

    def stats_ok(n: int) -> bool:
        """Statistics over n completers: n published with them, so n must be a safe count of its
        family (completers with vs without the score) and the completers' total published."""
        return comp_pub and pub.enough(n) and not pub.small(m.completers - n)

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
            if not stats_ok(mo.n):
                entry = _withheld(entry, pub)
            timepoints[str(t)] = entry
        subscales[s] = {"timepoints": timepoints, "response": prop(m.responders[s], m.completers, n_published=comp_pub)}
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
            if not stats_ok(pl.n):
                subscales[s]["plateau"] = _withheld(subscales[s]["plateau"], pub, keep=("from", "to", "test"))

    responders = _responder_chain(m.responder_counts, m.completers, pub, comp_pub)

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
        # So are the margins (each subscale's responders): withhold it when one is hidden.
        hidden = (
            pub.small(only_a)
            or pub.small(only_b)
            or subscales[a]["response"]["suppressed"]
            or subscales[b]["response"]["suppressed"]
        )
        if hidden:
            pub.note("test")
        mcn.append((a, b, r, hidden))
    holm = est.holm([None if hidden else r.p for _, _, r, hidden in mcn])
    # Cochran's Q is a function of its margins only (each subscale's responders and the
    # responder chain): with one of them hidden, Q pins it (issue 12), so Q is withheld.
    q_hidden = not comp_pub or any(subscales[s]["response"]["suppressed"] for s in SUBSCALES) or any(
        p["suppressed"] for p in responders.values()
    )
    comparison = {
        "cochran_q": (
            pub.withheld_test(q.test) if q_hidden else {"statistic": q.statistic, "df": q.df, "p": q.p, "test": q.test}
        ),
        "mcnemar": {
            f"{a}|{b}": (
                {"statistic": None, "df": None, "p": None, "p_holm": None, "test": r.test, "suppressed": True}
                if hidden
                else {"statistic": r.statistic, "df": r.df, "p": r.p, "p_holm": ph, "test": r.test, "suppressed": False}
            )
            for (a, b, r, hidden), ph in zip(mcn, holm, strict=True)
        },
    }

    below = {str(t): prop(m.below_threshold[t], m.completers, n_published=comp_pub) for t in assessments}

    # -- profiles -----------------------------------------------------------------
    profiles: dict[str, Any] = {}
    classified = m.profile_cutoffs.description != "not computed"
    for t in assessments:
        if classified:
            profiles[str(t)] = family(dict(m.profiles[t]), m.completers)
        else:
            n_shown = m.completers if comp_pub else None
            profiles[str(t)] = {p: {"count": None, "n": n_shown, "rate": None, "ci": None, "suppressed": False} for p in PROFILES}
    safe_matrix = privacy.suppress_matrix(m.transitions, min_cell_count=k)
    matrix_json: dict[str, Any] | None = safe_matrix.to_json() if classified else None
    if matrix_json is not None and not comp_pub:  # its grand total is the completers
        matrix_json = {a: dict.fromkeys(cols) for a, cols in matrix_json.items()}
        pub.note("complement", sum(len(cols) for cols in matrix_json.values()))
    elif matrix_json is not None:
        pub.note("small", len(safe_matrix.primary))
        pub.note("complement", len(safe_matrix.suppressed - safe_matrix.primary))
    profiles["transitions"] = {"from": str(first), "to": str(last), "counts": matrix_json}
    burnout_base = m.profiles[first]["burnout"]
    row = m.transitions["burnout"]
    profiles["burnout_at_baseline"] = profiles[str(first)]["burnout"]["count"]
    base_shown = profiles["burnout_at_baseline"] is not None
    # Both are cells (or a row total minus a cell) of the transition matrix: hide them
    # wherever the matrix hides what they are made of.
    resolved = prop(
        burnout_base - row["burnout"],
        burnout_base,
        n_published=base_shown and ("burnout", "burnout") not in safe_matrix.suppressed,
    )
    to_engaged = prop(
        row["engaged"], burnout_base, n_published=base_shown and ("burnout", "engaged") not in safe_matrix.suppressed
    )
    if base_shown:  # the denominator is a published cell: keep it on a hidden share
        resolved["n"] = to_engaged["n"] = burnout_base
    profiles["burnout_resolved"] = resolved
    profiles["burnout_to_engaged"] = to_engaged
    cut = m.profile_cutoffs
    profiles["cutoffs"] = {
        "method": protocol.profiles.method,
        "reference": protocol.profiles.reference,
        "raw": cut.raw(),
        "description": cut.description,
    }

    # completers who answered form a family with those who did not (a cell of it): when
    # the non-answers are few, the denominator is every completer so n does not give them away
    side_effects: dict[str, Any] = {
        str(s): prop(yes, m.completers if pub.small(m.completers - n) else n, n_published=comp_pub)
        for s, (yes, n) in m.side_effects.items()
    }
    events, sessions = m.sae
    side_effects["serious_adverse_events"] = prop(events, sessions)

    subgroups: dict[str, Any] = {}
    outcomes = [*SUBSCALES, "at_least_1"]
    hidden_by_variable = _hidden_levels(m, pub, itt_published=itt_pub, completers_published=comp_pub)
    for variable, completer_levels in m.subgroups.items():
        var_out: dict[str, Any] = {}
        # every level of the intention-to-treat set, so a hidden level with no
        # completers still shows as hidden rather than vanishing (which would reveal 0)
        zero = {"n": 0, "at_least_1": 0, **{sub: 0 for sub in SUBSCALES}}
        all_levels = sorted(set(completer_levels) | set(m.attrition.completion_by_subgroup.get(variable, {})))
        levels = {lv: completer_levels.get(lv, zero) for lv in all_levels}
        present = [lv for lv in levels if levels[lv]["n"] > 0]
        hidden_levels = [lv for lv in present if lv in hidden_by_variable[variable]]
        # responders and non-responders of each level add up to published totals (the
        # outcome's responders and non-responders): one family each, per outcome
        per_outcome = {
            o: pub.protect_jointly(
                [{lv: levels[lv][o] for lv in present}, {lv: levels[lv]["n"] - levels[lv][o] for lv in present}],
                hidden=hidden_levels,
            )
            if present
            else frozenset()
            for o in outcomes
        }
        for level in levels:
            if level in present and level not in hidden_levels:
                var_out[level] = {
                    "n": levels[level]["n"],
                    **{o: pub.prop(levels[level][o], levels[level]["n"], hide=level in per_outcome[o]) for o in outcomes},
                }
            elif level in hidden_by_variable[variable]:
                # a small (or complementary-suppressed) group: nothing about it is published
                reason = hidden_by_variable[variable][level]
                pub.note(reason)  # its n
                var_out[level] = {"n": None, **{o: pub.hidden(reason) for o in outcomes}}
            else:
                var_out[level] = {"n": 0, **{o: prop(0, 0) for o in outcomes}}
        # A test on a table with a hidden cell is withheld: an exact or chi-square p-value
        # singles out the hidden cells among the tables consistent with the margins (issue 12).
        var_out["heterogeneity"] = {}
        # So the test is computed over the levels whose every cell is published (a function
        # of published numbers only) and says which levels those are when some are left out.
        for o in outcomes:
            shown = [lv for lv in present if lv not in hidden_levels and lv not in per_outcome[o]]
            if not comp_pub:
                test = pub.withheld_test("not-testable")
            elif len(shown) < len(present):
                test = est.heterogeneity([(levels[lv][o], levels[lv]["n"]) for lv in shown]).to_json()
                test["levels"] = shown
                pub.note("test")
            else:
                test = est.heterogeneity([(c[o], c["n"]) for c in levels.values()]).to_json()
            var_out["heterogeneity"][o] = test
        subgroups[variable] = var_out

    attrition = _attrition(m, protocol, pub, hidden_by_variable, comp_pub=comp_pub, itt_pub=itt_pub)
    extra: dict[str, Any] = {}
    if beyond is not None:
        from burnout.beyond import beyond_results

        extra = beyond_results(
            beyond,
            protocol,
            threshold_met=m.threshold_met,
            completers=m.completers,
            publisher=pub,
            published={
                "threshold_met": itt_pub,
                "completers": comp_pub,
                # the worst case counts the completers' responders over everyone who met the
                # threshold: the same cells, so the same treatment (issue 12)
                **{f"response_{s}": not subscales[s]["response"]["suppressed"] for s in SUBSCALES},
                "at_least_1": not responders["at_least_1"]["suppressed"],
            },
        )

    # [privacy] round_to: every published count to a multiple of it, rates from the rounded counts
    published = pub.round_tree(
        {
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
        }
    )
    return {
        "schema_version": SCHEMA_VERSION,
        "meta": meta,
        "protocol": protocol.resolved() | {"sha256": protocol.sha256},
        **published,
        "privacy": pub.summary(),
        # the messages themselves can hold counts of a few patients and line numbers (issue
        # 12 point 10): they go to the console and the local log (warnings_log), not here
        "warnings": [WARNINGS_PUBLISHED] if warnings else [],
    }


WARNINGS_LOG = "warnings-NOT-FOR-PUBLICATION.txt"
"""The local log of the analysis warnings, in the output folder beside results.json."""

WARNINGS_PUBLISHED = (
    f"the input data raised warnings; they were printed to the console and written to {WARNINGS_LOG} "
    "in the output folder, which is not for publication (warnings can hold counts of a few patients "
    "and line numbers)"
)


def warnings_log(warnings: Sequence[str]) -> dict[str, str]:
    """``write_outputs`` extras: the warnings with their counts and line numbers, in a file
    marked as not for publication ({} when there are none)."""
    if not warnings:
        return {}
    head = (
        "NOT FOR PUBLICATION. These warnings describe the input files and can name line numbers "
        "and counts of a few patients. Keep this file with the data, not with the results.\n\n"
    )
    return {WARNINGS_LOG: head + "".join(f"- {w}\n" for w in warnings)}


TABLE1_LABELS = {
    "age": "Age, years",
    "female": "Female",
    "subcutaneous": "Subcutaneous route",
    "exhaustion": "Exhaustion (0-6)",
    "cynicism": "Cynicism (0-6)",
    "professional_efficacy": "Professional Efficacy (0-6)",
    "phq9": "PHQ-9 total (0-27)",
}


TABLE1_LEVELS = {"female": ("sex", "female"), "subcutaneous": ("route", "subcutaneous")}
"""The subgroup level each binary Table 1 row counts."""


def _hidden_levels(
    m: Measures, pub: privacy.Publisher, *, itt_published: bool, completers_published: bool
) -> dict[str, dict[str, privacy.HiddenReason]]:
    """Subgroup levels hidden everywhere (subgroups, completion by subgroup), with the reason.

    Per level three counts are published somewhere (threshold-met patients,
    completers, hence non-completers), each family with a published total; a level
    is hidden in all outputs when any of them needs it (Publisher.protect_jointly:
    unknown/other levels are the preferred complements). With the threshold-met or
    completers' total hidden, every level is hidden.
    """
    out: dict[str, dict[str, privacy.HiddenReason]] = {}
    for variable, levels in m.attrition.completion_by_subgroup.items():
        itt_n = {lv: n for lv, (_, n) in levels.items()}
        done = {lv: c for lv, (c, _) in levels.items()}
        not_done = {lv: n - c for lv, (c, n) in levels.items()}
        if not (itt_published and completers_published):
            hidden = frozenset(levels)
        else:
            hidden = pub.protect_jointly([itt_n, done, not_done]) if levels else frozenset()
        out[variable] = {
            lv: ("small" if any(pub.small(v[lv]) for v in (itt_n, done, not_done)) else "complement")
            for lv in levels
            if lv in hidden
        }
    return out


def _flow(m: Measures, pub: privacy.Publisher) -> dict[str, Any]:
    """Patients, threshold, completers and exclusions: two families of counts.

    patients = no_baseline + below_threshold + threshold_met, and
    threshold_met = missed_sessions + missed_assessment + completers. Complements go to
    the exclusions after the threshold first (not to completers); in the first family a
    small exclusion is protected by hiding the grand total ``patients`` (one figure no
    rate or analysis uses) rather than the below-threshold exclusion or threshold_met.
    """
    ex = m.exclusions
    if pub.small(m.patients):  # a tiny cohort: nothing about it is published
        return {
            "patients": pub.count(m.patients),
            "threshold_met": pub.count(m.threshold_met, hide=not pub.small(m.threshold_met)),
            "completers": pub.count(m.completers, hide=not pub.small(m.completers)),
            "completion": pub.hidden("small"),
            "exclusions": {r: pub.count(ex[r], hide=not pub.small(ex[r])) for r in EXCLUSION_REASONS},
        }
    after_family = {"missed_sessions": ex["missed_sessions"], "missed_assessment": ex["missed_assessment"], "completers": m.completers}
    after = (
        frozenset(after_family) | {"threshold_met"}
        if pub.small(m.threshold_met)
        else pub.protect(after_family, prefer=("missed_sessions", "missed_assessment"))
    )
    before_family = {"no_baseline": ex["no_baseline"], "below_threshold": ex["below_threshold"], "threshold_met": m.threshold_met}
    # primary cells of the first family; when they do not protect each other (one alone, or
    # together a small count), the grand total is the complement: the other cells stay published
    before = {key for key, v in before_family.items() if pub.small(v)} | ({"threshold_met"} & set(after))
    held = sum(before_family[key] for key in before)
    hide_total = len(before) == 1 or (len(before) >= 2 and pub.small(held))
    counts = {**before_family, **after_family}
    hidden = before | set(after)

    def shown(key: str) -> int | None:
        return pub.count(counts[key], hide=key in hidden)

    return {
        "patients": pub.count(m.patients, hide=hide_total),
        "threshold_met": shown("threshold_met"),
        "completers": shown("completers"),
        "completion": pub.prop(
            m.completers, m.threshold_met, n_published="threshold_met" not in hidden, hide="completers" in hidden
        ),
        "exclusions": {r: shown(r) for r in EXCLUSION_REASONS},
    }


def _attrition(
    m: Measures,
    protocol: Protocol,
    pub: privacy.Publisher,
    hidden_levels: dict[str, dict[str, privacy.HiddenReason]],
    *,
    comp_pub: bool,
    itt_pub: bool,
) -> dict[str, Any]:
    """Table 1 (completers vs non-completers at baseline), reach per session, completion by subgroup.

    A group's size is published only when both flow totals are (non-completers are
    their difference). A continuous row's n is the group minus those with the value
    missing, a family: with few missing, n is hidden (mean and SD stay, they do not give
    n back). A binary row's denominator is the group when few are unknown (unknown is a
    cell of the family, never published), else those with a known value.
    """
    from burnout.scoring import PHQ9_SCALE

    a = m.attrition
    group_n = {"completers": m.completers, "non_completers": m.threshold_met - m.completers}
    group_pub = {"completers": comp_pub, "non_completers": comp_pub and itt_pub}
    scale = {"age": 1, "phq9": PHQ9_SCALE} | {s: SCALE for s in SUBSCALES}
    table1: dict[str, Any] = {}
    smd: dict[str, float | None] = {}
    for name in a.continuous["completers"]:
        groups = {}
        stats = []
        for g in ("completers", "non_completers"):
            mo = a.continuous[g][name]
            if not (group_pub[g] and pub.enough(mo.n) and mo.n > 0):
                pub.note("statistic", 3)
                groups[g] = {"n": None, "mean": None, "sd": None}
                stats.append((None, None))
                continue
            mean = mo.total / mo.n / scale[name]
            sd = (mo.centered_ss() / (mo.n - 1)) ** 0.5 / scale[name] if mo.n > 1 else None
            n_shown = pub.count(mo.n, hide=pub.small(group_n[g] - mo.n))
            groups[g] = {"n": n_shown, "mean": mean, "sd": sd}
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
            denominator = group_n[g] if pub.small(group_n[g] - n) else n
            # the same cell as a subgroup level (female of sex, subcutaneous of route): the same treatment
            variable, level = TABLE1_LEVELS[name]
            if level in hidden_levels.get(variable, {}):
                groups[g] = pub.hidden(hidden_levels[variable][level], n=denominator if group_pub[g] else None)
            else:
                groups[g] = pub.prop(yes, denominator, n_published=group_pub[g])
            # the SMD comes from the published shares only (issue 12: an SMD beside a hidden count solved it)
            rates.append(groups[g]["rate"])
        p1, p2 = rates
        d = None
        if p1 is not None and p2 is not None:
            pooled = (p1 * (1 - p1) + p2 * (1 - p2)) / 2
            d = (p1 - p2) / pooled**0.5 if pooled > 0 else None
        smd[name] = d
        table1[name] = {"label": TABLE1_LABELS[name], "kind": "binary", **groups, "smd": d}
    # consecutive differences are patients who stopped after exactly j sessions
    reach = _chain({str(j): c for j, c in a.reach.items() if j > 0}, m.threshold_met, pub, itt_pub)
    completion = {
        var: {
            level: (
                pub.hidden(hidden_levels[var][level])
                if level in hidden_levels.get(var, {})
                else pub.prop(c, n, n_published=itt_pub)
            )
            for level, (c, n) in levels.items()
        }
        for var, levels in a.completion_by_subgroup.items()
    }
    return {"table1": table1, "baseline_smd": smd, "reach": reach, "completion_by_subgroup": completion}


def _responder_chain(counts: dict[int, int], n: int, pub: privacy.Publisher, n_published: bool) -> dict[str, Any]:
    """Responders on at least 1 / 2 / all 3 subscales."""
    keys = {1: "at_least_1", 2: "at_least_2", 3: "all_3"}
    return _chain({keys[j]: counts[j] for j in keys}, n, pub, n_published)


def _chain(counts: dict[str, int], n: int, pub: privacy.Publisher, n_published: bool) -> dict[str, Any]:
    """Proportions of a non-increasing chain of counts under ``n``, safe against subtraction
    (privacy.safe_chain): a withheld step keeps its denominator."""
    shown = privacy.safe_chain(n, counts, min_cell_count=pub.k)
    return {key: pub.prop(c, n, n_published=n_published, hide=key not in shown) for key, c in counts.items()}


def _withheld(entry: dict[str, Any], pub: privacy.Publisher, *, keep: tuple[str, ...] = ()) -> dict[str, Any]:
    """The same keys with every value blank: statistics over too few (or an unpublished number of) patients."""
    pub.note("statistic")
    return {key: (value if key in keep else _blank(value)) for key, value in entry.items()}


def _blank(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: (v if key == "method" else _blank(v)) for key, v in value.items()}
    return None


def _pair(ci: tuple[float, float] | None) -> list[float] | None:
    return None if ci is None else [ci[0], ci[1]]
