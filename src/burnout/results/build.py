"""From exact aggregates to the results.json tree (the contract in results.md). (build)."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from burnout import privacy
from burnout import stats as est
from burnout.cohort import PROFILES
from burnout.instrument import GOOD_DIRECTION, SCALE, SUBSCALES

if TYPE_CHECKING:
    from burnout.measures import BeyondMeasures, Measures
    from burnout.plan import Protocol
from burnout.results._common import _pair, _responder_chain, _withheld
from burnout.results.attrition import _attrition
from burnout.results.flow import _flow, _hidden_levels
from burnout.results.recode import plan_recoding, recode
from burnout.results.safety import safety_results
from burnout.results.subgroups import _subgroups

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


def _equivalence(pp: est.PairedChange, protocol: Protocol) -> dict[str, Any]:
    """TOST of the last interval against the plan's ``[plateau] margin``: "equivalent" (both
    one-sided tests reject a change of at least the margin) or "not shown", with the
    1 - 2 alpha CI (alpha = 1 - confidence)."""
    margin = float(protocol.plateau.margin)
    tost = (
        None
        if pp.mean is None or pp.sd is None
        else est.paired_tost(pp.mean, pp.sd, pp.n, margin=margin, alpha=1 - protocol.analysis.confidence)
    )
    if tost is None:
        return {"margin": margin, "t_lower": None, "t_upper": None, "df": None, "p": None, "ci": None,
                "ci_level": None, "equivalent": None, "conclusion": "not testable"}  # fmt: skip
    conclusion = f"equivalent within +/-{margin:g}" if tost.equivalent else "not shown"
    return tost.to_json() | {"conclusion": conclusion}


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
    # global recoding: small residual subgroup levels merged into a real level, in every section
    merges = plan_recoding(m, protocol)
    m = recode(m, merges)
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
        return pub.enough_of(n, m.completers, total_published=comp_pub)

    # -- trajectories, effect sizes, response -------------------------------------
    subscales: dict[str, Any] = {}
    for s in SUBSCALES:
        base = m.scores[(s, first)]
        base_mean = _points(base.total / base.n) if base.n else None
        base_sc = est.mean_summary(base.n, base.total, base.total_sq, scale=SCALE, confidence=conf)
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
                    "effect_size": {
                        "dz": pc.dz,
                        "ci": _pair(pc.dz_ci),
                        "label": pc.dz_label,
                        "method": "noncentral t",
                        # comparable with between-group d, unlike dz (Lakens 2013)
                        "d_av": None
                        if pc.mean is None or base_sc.sd is None or sc.sd is None
                        else est.cohen_d_av(pc.mean, base_sc.sd, sc.sd),
                    },
                    # the good direction, so a reader needn't recall which way each subscale improves
                    "improved": None if pc.mean is None else (pc.mean * GOOD_DIRECTION[s] > 0),  # type: ignore[index]  # s is a Subscale at run time; the loop variable is typed str
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
                "plateaued": None if pp.p is None else bool(pp.p >= 0.05 or pp.mean * GOOD_DIRECTION[s] <= 0),  # type: ignore[index]  # s is a Subscale at run time; the loop variable is typed str
                "equivalence": _equivalence(pp, protocol),
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
    q_hidden = (
        not comp_pub
        or any(subscales[s]["response"]["suppressed"] for s in SUBSCALES)
        or any(p["suppressed"] for p in responders.values())
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
            profiles[str(t)] = {
                p: {"count": None, "n": n_shown, "rate": None, "ci": None, "suppressed": False} for p in PROFILES
            }
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

    hidden_by_variable = _hidden_levels(m, pub, itt_published=itt_pub, completers_published=comp_pub)
    totals: dict[str, int | None] = {s: subscales[s]["response"]["count"] for s in SUBSCALES}
    totals["at_least_1"] = responders["at_least_1"]["count"]
    subgroups = _subgroups(m, pub, hidden_by_variable, merges, comp_pub=comp_pub, totals=totals)

    attrition = _attrition(m, protocol, pub, hidden_by_variable, merges, comp_pub=comp_pub, itt_pub=itt_pub)
    safety = {} if m.safety is None else {"safety": safety_results(m.safety, pub, enrolled=m.patients)}
    extra: dict[str, Any] = {}
    if beyond is not None:
        from burnout.results.extended import beyond_results

        extra = beyond_results(
            beyond,
            protocol,
            threshold_met=m.threshold_met,
            completers=m.completers,
            publisher=pub,
            published={
                "threshold_met": itt_pub,
                "completers": comp_pub,
                # the worst case counts the completers' responders (and the non-completers') over everyone who met the
                # threshold: the same cells, so the same treatment (issue 12)
                **{f"response_{s}": not subscales[s]["response"]["suppressed"] for s in SUBSCALES},
                "at_least_1": not responders["at_least_1"]["suppressed"],
            },
        )
        reference = beyond.baseline_reference
        if reference is not None and reference.joint is not None and "regression_to_mean" in extra:
            from burnout.results.no_change import no_change_results

            extra["regression_to_mean"] |= no_change_results(
                reference.joint, m.profile_cutoffs, protocol, pub, completers_shown=comp_pub, burnout_shown=base_shown
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
            **safety,
            "subgroups": subgroups,
            "attrition": attrition,
            **extra,
        },
        n=pub.rounded(m.completers),  # statistics without a group size of their own: over the completers (or more)
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
