"""The report's tables: one definition, two renderings. (outcomes)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from burnout.report.format import (
    Ctx,
    fmt_num,
    fmt_p,
    fmt_pct,
    get,
    merged_note,
    sae_rate_cells,
    severe_profile,
    subgroup_label,
)
from burnout.report.labels import (
    NDASH,
    OUTCOME_LABELS,
    PROFILE_LABELS,
    PROFILES,
    RESPONDER_LABELS,
    SUBSCALE_LABELS,
    SUBSCALES,
    TEST_LABELS,
    VARIABLE_LABELS,
)
from burnout.report.tables.model import PROP_CSV, Column, Table, _pct_ci_cell, _prop_cells, _prop_raw, _test_short
from burnout.report.tables.subgroup_diff import difference_row

# ------------------------------------------------------------------------ response


def _response(ctx: Ctx) -> Table | None:
    r = ctx.results
    t = Table(
        key="response",
        title="Response, baseline to the last assessment",
        columns=[
            Column("label", "Outcome", "left"),
            Column("nN", "Responders/completers"),
            Column("pct", "%"),
            Column("ci", "95% CI"),
        ],
        csv_columns=["outcome", *PROP_CSV],
        group="group",
        stub="label",
    )
    for s in SUBSCALES:
        p = get(r, "subscales", s, "response")
        if p:
            t.rows.append({"group": "By subscale", "label": SUBSCALE_LABELS[s]} | _prop_cells(p, ctx))
            t.csv_rows.append({"outcome": s} | _prop_raw(p, ctx))
    for k, label in RESPONDER_LABELS.items():
        p = get(r, "responders", k)
        if p:
            t.rows.append({"group": "Number of subscales responded on", "label": label} | _prop_cells(p, ctx))
            t.csv_rows.append({"outcome": k} | _prop_raw(p, ctx))
    if not t.rows:
        return None
    mc = get(r, "protocol", "response", "min_change")
    t.notes.append(
        f"Response: an improvement of at least {mc if mc is not None else NDASH} point(s) on a subscale, first to last "
        "assessment (a decrease for Exhaustion and Cynicism, an increase for Professional Efficacy). 95% Wilson intervals."
    )
    return t


def _comparison(ctx: Ctx) -> Table | None:
    cmp_ = ctx.results.get("comparison")
    if not cmp_:
        return None
    t = Table(
        key="response_comparison",
        title="Paired comparison of response rates between subscales",
        columns=[
            Column("comparison", "Comparison", "left"),
            Column("test", "Test", "left"),
            Column("stat", "Statistic"),
            Column("df", "df"),
            Column("p", "p"),
            Column("p_holm", "p (Holm)"),
        ],
        csv_columns=["comparison", "test", "statistic", "df", "p", "p_holm"],
        stub="comparison",
    )
    q = cmp_.get("cochran_q")
    if q:
        t.rows.append(
            {
                "comparison": "All three subscales",
                "test": "Cochran Q",
                "stat": fmt_num(q.get("statistic")),
                "df": NDASH if q.get("df") is None else str(q["df"]),
                "p": fmt_p(q.get("p"), ctx),
                "p_holm": NDASH,
            }
        )
        t.csv_rows.append(
            {
                "comparison": "all",
                "test": "cochran-q",
                "statistic": q.get("statistic"),
                "df": q.get("df"),
                "p": q.get("p"),
                "p_holm": None,
            }
        )
    for pair, m in (cmp_.get("mcnemar") or {}).items():
        a, _, b = pair.partition("|")
        test = m.get("test", "mcnemar")
        t.rows.append(
            {
                "comparison": f"{SUBSCALE_LABELS.get(a, a)} vs {SUBSCALE_LABELS.get(b, b)}",
                "test": TEST_LABELS.get(test, test),
                "stat": fmt_num(m.get("statistic")),
                "df": "1" if m.get("statistic") is not None else NDASH,
                "p": fmt_p(m.get("p"), ctx),
                "p_holm": fmt_p(m.get("p_holm"), ctx),
            }
        )
        t.csv_rows.append(
            {
                "comparison": pair,
                "test": test,
                "statistic": m.get("statistic"),
                "df": 1 if m.get("statistic") is not None else None,
                "p": m.get("p"),
                "p_holm": m.get("p_holm"),
            }
        )
    t.notes.append(
        "The same completers answered every subscale, so rates are compared with paired tests: Cochran's Q across all "
        "three, then McNemar tests for each pair with Holm's correction for three comparisons."
    )
    return t


def _below(ctx: Ctx) -> Table | None:
    below = ctx.results.get("below_threshold")
    if not below:
        return None
    t = Table(
        key="below_threshold",
        title="Completers below the burnout threshold at each assessment",
        columns=[
            Column("tp", "Assessment", "left"),
            Column("nN", "Below threshold/completers"),
            Column("pct", "%"),
            Column("ci", "95% CI"),
        ],
        csv_columns=["timepoint", *PROP_CSV],
        stub="tp",
    )
    for tp in ctx.timepoints:
        if tp in below:
            t.rows.append({"tp": ctx.tp(tp)} | _prop_cells(below[tp], ctx))
            t.csv_rows.append({"timepoint": tp} | _prop_raw(below[tp], ctx))
    e = get(ctx.results, "protocol", "eligibility") or {}
    rule = (
        f"not ({e['rule']})"  # [eligibility] rule (issue 14)
        if "rule" in e
        else f"not (Exhaustion \u2265 {e.get('exhaustion_min', NDASH)} and (Cynicism \u2265 "
        f"{e.get('cynicism_min', NDASH)} or Professional Efficacy \u2264 {e.get('efficacy_max', NDASH)}))"
    )
    t.notes.append(
        f"Below the threshold: {rule}. Every completer met the threshold at baseline by definition. 95% Wilson intervals."
    )
    return t


# ------------------------------------------------------------------------ profiles


def _profiles(ctx: Ctx) -> Table | None:
    prof = ctx.results.get("profiles") or {}
    tps = [tp for tp in ctx.timepoints if isinstance(prof.get(tp), Mapping)]
    if not tps:
        return None
    t = Table(
        key="profiles",
        title="Burnout profiles at each assessment",
        columns=[Column("profile", "Profile", "left"), *[Column(f"t{tp}", ctx.tp(tp)) for tp in tps]],
        csv_columns=["timepoint", "profile", *PROP_CSV],
        stub="profile",
    )
    for p in PROFILES:
        row = {"profile": PROFILE_LABELS[p]}
        for tp in tps:
            cell = prof[tp].get(p) or {}
            hidden = cell.get("suppressed") or cell.get("count") is None
            row[f"t{tp}"] = ctx.hidden_mark(cell) if hidden else f"{cell['count']:,} ({fmt_pct(cell.get('rate'))})"
        t.rows.append(row)
    for tp in tps:
        for p in PROFILES:
            t.csv_rows.append({"timepoint": tp, "profile": p} | _prop_raw(prof[tp].get(p), ctx))
    t.notes.append("n (%) of completers. 95% Wilson intervals are in the CSV file.")
    return t


def _transitions(ctx: Ctx) -> Table | None:
    tr = get(ctx.results, "profiles", "transitions")
    if not tr or not tr.get("counts"):
        return None
    counts = tr["counts"]
    t = Table(
        key="profile_transitions",
        title=f"Profile transitions, {ctx.tp(str(tr.get('from'))).lower()} to {ctx.tp(str(tr.get('to'))).lower()}",
        columns=[Column("from", "From \\ to", "left"), *[Column(p, PROFILE_LABELS[p]) for p in PROFILES]],
        csv_columns=["from_profile", *[f"to_{p}" for p in PROFILES]],
        stub="from",
        html=False,  # shown as the heat map figure
    )
    for fp in PROFILES:
        if fp not in counts:
            continue
        row: dict[str, Any] = {"from_profile": fp}
        for p in PROFILES:
            v = counts[fp].get(p)
            row[f"to_{p}"] = ctx.suppressed if v is None else v
        t.csv_rows.append(row)
    return t


def _severe(ctx: Ctx) -> Table | None:
    prof = ctx.results.get("profiles") or {}
    if "burnout_at_baseline" not in prof:
        return None
    last = ctx.tp(ctx.last).lower()
    t = Table(
        key="burnout_profile_resolution",
        title="Completers in the Burnout profile at baseline",
        columns=[Column("label", "Outcome", "left"), Column("nN", "n/N"), Column("pct", "%"), Column("ci", "95% CI")],
        csv_columns=["outcome", *PROP_CSV],
        stub="label",
    )
    base, sev = severe_profile(ctx)
    t.rows.append({"label": "In the Burnout profile at baseline", "nN": ctx.count(base), "pct": NDASH, "ci": NDASH})
    t.csv_rows.append({"outcome": "burnout_at_baseline", "count": ctx.suppressed if base is None else base})
    for key, label in (
        ("burnout_resolved", f"No longer in the Burnout profile {last}"),
        ("burnout_to_engaged", f"Engaged {last}"),
    ):
        if key in sev:
            t.rows.append({"label": label} | _prop_cells(sev[key], ctx))
            t.csv_rows.append({"outcome": key} | _prop_raw(sev[key], ctx))
    t.notes.append(
        "Denominator: completers in the Burnout profile (Exhaustion and Cynicism critical) at baseline. 95% Wilson intervals."
    )
    return t


# -------------------------------------------------------------------------- safety


def _safety(ctx: Ctx) -> Table | None:
    se = ctx.results.get("side_effects")
    safety = ctx.results.get("safety")
    if not se and not safety:
        return None
    t = Table(
        key="side_effects",
        title="Side effects and serious adverse events",
        columns=[Column("label", "Event", "left"), Column("nN", "n/N"), Column("pct", "%"), Column("ci", "95% CI")],
        csv_columns=["population", "event", "session", *PROP_CSV],
        group="group",
        stub="label",
    )
    if safety:
        _safety_population_rows(t, safety, ctx)
    group = "Completers (as the study published)"
    for k, p in (se or {}).items():
        if k == "serious_adverse_events":
            continue
        t.rows.append({"group": group, "label": f"Side effects reported, session {k}"} | _prop_cells(p, ctx))
        t.csv_rows.append({"population": "completers", "event": "side_effects", "session": k} | _prop_raw(p, ctx))
    t.notes.append(
        "Safety population: every patient with at least one session delivered, so an event that ended treatment "
        "is counted (among completers it could not be). The per-patient rate is primary: sessions cluster within "
        "patients. Exact (Clopper-Pearson) intervals; with 0 events the rule of three (3/n) gives the approximate "
        "upper 95% bound. Side effects: those reporting any at that session among those asked. The completers' "
        "rates (95% Wilson intervals) are the ones the reference study published, kept for comparison."
    )
    return t


def _safety_population_rows(t: Table, safety: dict[str, Any], ctx: Ctx) -> None:
    group = "Safety population (everyone with a session)"
    sae = safety.get("serious_adverse_events") or {}
    rows = [("Serious adverse events, patients", "serious_adverse_events", "patients", sae.get("patients"))]
    rows += [(f"Side effects reported, session {k}", "side_effects", k, p) for k, p in safety["side_effects"].items()]
    for label, event, session, p in rows:
        cells = _prop_cells(p, ctx)
        if p and p.get("rule_of_three") is not None:
            cells["ci"] += f" (rule of three: \u2264{fmt_num(100 * p['rule_of_three'], 2)})"
        t.rows.append({"group": group, "label": label} | cells)
        t.csv_rows.append({"population": "safety", "event": event, "session": session} | _prop_raw(p, ctx))
    per_session = sae.get("sessions")
    if per_session:
        cells = _prop_cells(per_session, ctx)
        if cells["pct"] != NDASH:  # the same unit as the key findings and the terminal: per 1,000 sessions
            rate, ci = sae_rate_cells(per_session)
            cells |= {"pct": f"{rate} per 1,000", "ci": f"{ci} per 1,000"}
        t.rows.append({"group": group, "label": "Serious adverse events, per 1,000 sessions delivered"} | cells)
        t.csv_rows.append(
            {"population": "safety", "event": "serious_adverse_events", "session": "all"} | _prop_raw(per_session, ctx)
        )


# ----------------------------------------------------------------------- subgroups


def _subgroups(ctx: Ctx) -> Table | None:
    subgroups = ctx.results.get("subgroups")
    if not subgroups:
        return None
    outcomes = [*SUBSCALES, "at_least_1"]
    t = Table(
        key="subgroups",
        title="Response by subgroup, % (95% CI)",
        columns=[
            Column("level", "Level", "left"),
            Column("n", "n"),
            *[Column(o, OUTCOME_LABELS[o], spanner="Responders, % (95% CI)") for o in outcomes],
        ],
        csv_columns=[
            "variable",
            "level",
            "label",
            "outcome",
            *PROP_CSV,
            "difference_from_rest",
            "difference_ci_low",
            "difference_ci_high",
        ],
        group="variable",
        stub="level",
    )
    het_rows = []
    for var, body in subgroups.items():
        vlabel = VARIABLE_LABELS.get(var, var)
        for level, entry in body.items():
            if level == "heterogeneity" or not isinstance(entry, Mapping):
                continue
            shown = subgroup_label(ctx.results, var, level)  # a merged level says what it holds
            row = {"variable": vlabel, "level": shown, "n": ctx.level_n(entry, outcomes)}
            for o in outcomes:
                row[o] = _pct_ci_cell(entry.get(o), ctx)
                diff = (entry.get("difference_from_rest") or {}).get(o) or {}
                low, high = diff.get("ci") or [None, None]
                t.csv_rows.append(
                    {"variable": var, "level": level, "label": entry.get("label", level), "outcome": o}
                    | _prop_raw(entry.get(o), ctx)
                    | {
                        "difference_from_rest": diff.get("estimate"),
                        "difference_ci_low": low,
                        "difference_ci_high": high,
                    }
                )
            t.rows.append(row)
            if (diff_row := difference_row(vlabel, entry, outcomes)) is not None:
                t.rows.append(diff_row)
        het = body.get("heterogeneity") or {}
        hrow = {"variable": vlabel, "level": "Heterogeneity, p", "n": ""}
        for o in outcomes:
            h = het.get(o) or {}
            test = h.get("test")
            hrow[o] = NDASH if h.get("p") is None else f"{fmt_p(h.get('p'), ctx)} ({_test_short(test)})"
            het_rows.append(
                {
                    "variable": var,
                    "outcome": o,
                    "test": test,
                    "statistic": h.get("statistic"),
                    "df": h.get("df"),
                    "p": h.get("p"),
                }
            )
        t.rows.append(hrow)
    t.notes.append(
        "Heterogeneity: \u03c7\u00b2 = Pearson \u03c7\u00b2 test of level \u00d7 response; exact = Fisher or Freeman\u2013Halton "
        "exact test, over the known levels (unknown and other levels left out). Not adjusted for multiplicity. "
        "Subgroups are of completers, so they condition on completion: a difference between levels can reflect who "
        "completed as much as who responded. Under each level: its response rate minus that of the rest of the "
        "completers, in percentage points, with Newcombe's hybrid score interval."
    )
    if note := merged_note(ctx.results):
        t.notes.append(note)
    t._het_rows = het_rows  # type: ignore[attr-defined]  # the CSV rows ride on the Table until the tables are declared once (issue 13)
    return t


def _heterogeneity_csv(ctx: Ctx, sub: Table | None) -> Table | None:
    if sub is None:
        return None
    t = Table(
        key="subgroup_heterogeneity",
        title="Subgroup heterogeneity tests",
        columns=[],
        csv_columns=["variable", "outcome", "test", "statistic", "df", "p"],
        csv_rows=list(getattr(sub, "_het_rows", [])),
        html=False,
    )
    return t
