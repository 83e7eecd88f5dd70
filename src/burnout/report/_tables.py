"""The report's tables: one definition, two renderings.

Each builder returns a `Table`: display strings (rounded here, at display time) for the
HTML table made with great_tables, and unrounded values for the CSV. A suppressed count
is None in the tree and is written as ``suppressed (<k)`` in the HTML; in the CSV its cell
is empty and the ``hidden`` column says why (`to_csv`). Its rate and interval are left
blank. Nothing is derived from a hidden cell.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from burnout.report._text import (
    COMPLEMENT_MARK,
    NDASH,
    OUTCOME_LABELS,
    PROFILE_LABELS,
    PROFILES,
    RESPONDER_LABELS,
    SUBSCALE_LABELS,
    SUBSCALES,
    TEST_LABELS,
    VARIABLE_LABELS,
    Ctx,
    fmt_ci,
    fmt_num,
    fmt_p,
    fmt_pct,
    fmt_pct_ci,
    fmt_plain,
    fmt_prop,
    fmt_signed,
    get,
    level_label,
    literal,
    sae_rate_cells,
    severe_profile,
)

__all__ = ["Column", "Table", "build_tables", "to_csv", "to_gt_html"]


@dataclass(frozen=True)
class Column:
    """A displayed column: row key, header label (may hold <sub>), alignment, spanner."""

    key: str
    label: str
    align: str = "right"
    spanner: str | None = None


@dataclass
class Table:
    """One table: display rows for HTML, raw rows for CSV."""

    key: str
    title: str
    columns: list[Column]
    rows: list[dict[str, str]] = field(default_factory=list)
    csv_columns: list[str] = field(default_factory=list)
    csv_rows: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    group: str | None = None
    stub: str | None = None
    html: bool = True
    rich: bool = False  # display cells are HTML already (escaped, with marks and detail lines)


def _prop_cells(p: Mapping[str, Any] | None, ctx: Ctx) -> dict[str, str]:
    """n/N, % and CI display cells of a Proportion."""
    p = p or {}
    n = p.get("n")
    if p.get("suppressed") or p.get("count") is None:
        return {"nN": ctx.hidden_mark(p) + ("" if n is None else f" of {n:,}"), "pct": NDASH, "ci": NDASH}
    return {
        "nN": f"{p['count']:,}/{n:,}" if n is not None else f"{p['count']:,}",
        "pct": fmt_pct(p.get("rate")),
        "ci": fmt_pct_ci(p.get("ci")),
    }


def _prop_raw(p: Mapping[str, Any] | None, ctx: Ctx) -> dict[str, Any]:
    """count, n, rate, ci_low, ci_high for CSV; a hidden count is the suppression mark."""
    p = p or {}
    ci = p.get("ci") or [None, None]
    hidden = bool(p.get("suppressed")) or p.get("count") is None
    return {
        "count": ctx.hidden_mark(p) if hidden else p.get("count"),
        "n": ctx.hidden_mark(p) if p.get("n") is None and hidden else p.get("n"),
        "rate": None if hidden else p.get("rate"),
        "ci_low": None if hidden else ci[0],
        "ci_high": None if hidden else ci[1],
    }


PROP_CSV: Final[list[str]] = ["count", "n", "rate", "ci_low", "ci_high"]


def _pct_ci_cell(p: Mapping[str, Any] | None, ctx: Ctx) -> str:
    """"57.6 (47.7\u201366.8)" or the suppression mark."""
    p = p or {}
    if p.get("suppressed") or p.get("rate") is None:
        return ctx.hidden_mark(p) if (p.get("suppressed") or p.get("count") is None) else NDASH
    return f"{fmt_num(100 * p['rate'], 1)} ({fmt_pct_ci(p.get('ci'))})"


# ----------------------------------------------------------------------------- plan


def _plan(ctx: Ctx) -> Table | None:
    r = ctx.results
    protocol = r.get("protocol") or {}
    meta = r.get("meta") or {}
    t = Table(
        key="analysis_plan",
        title="Analysis plan and run",
        columns=[Column("setting", "Setting", "left"), Column("value", "Value", "left")],
        csv_columns=["section", "setting", "value"],
        group="section",
        stub="setting",
    )

    def add(section: str, setting: str, value: Any) -> None:
        shown = _plain_value(value)
        t.rows.append({"section": section, "setting": setting, "value": shown})
        t.csv_rows.append({"section": section, "setting": setting, "value": shown})

    add("Run", "plan sha256", protocol.get("sha256", NDASH))
    add("Run", "tool", f"{meta.get('tool', 'burnout')} {meta.get('version', '')}".strip())
    add("Run", "data fingerprint", meta.get("data_fingerprint", NDASH))
    if "backend" in meta:
        add("Run", "engine", meta["backend"])
    add("Run", "synthetic data", "yes" if meta.get("synthetic") else "no")
    add("Run", "schema version", r.get("schema_version", NDASH))
    for section, body in protocol.items():
        if section == "sha256":
            continue
        if isinstance(body, Mapping):
            shown = []
            for key, value in body.items():
                if isinstance(value, Mapping):
                    for k2, v2 in value.items():
                        shown.append(f"{key}.{k2} = {_plain_value(v2)}")
                        t.csv_rows.append({"section": section, "setting": f"{key}.{k2}", "value": _plain_value(v2)})
                else:
                    shown.append(f"{key} = {_plain_value(value)}")
                    t.csv_rows.append({"section": section, "setting": key, "value": _plain_value(value)})
            t.rows.append({"section": "Plan (protocol.toml, resolved)", "setting": f"[{section}]", "value": " \u00b7 ".join(shown)})
        else:
            t.rows.append({"section": "Plan (protocol.toml, resolved)", "setting": section, "value": _plain_value(body)})
            t.csv_rows.append({"section": "plan", "setting": section, "value": _plain_value(body)})
    t.notes.append("The resolved plan: every setting, with defaults filled in, as protocol.toml keys.")
    return t


def _plain_value(value: Any) -> str:
    if value is None:
        return "not set"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return ", ".join(_plain_value(v) for v in value)
    if isinstance(value, Mapping):
        return "; ".join(f"{k} = {_plain_value(v)}" for k, v in value.items())
    return str(value)


# ------------------------------------------------------------------------- flow


def _flow(ctx: Ctx) -> Table | None:
    flow = ctx.results.get("flow")
    if not flow:
        return None
    ex = flow.get("exclusions") or {}
    hidden_derived = "not shown (would reveal a suppressed count)"

    def minus(a: Any, b: Any) -> Any:
        return hidden_derived if a is None or b is None else a - b

    t = Table(
        key="participant_flow",
        title="Participant flow",
        columns=[],
        csv_columns=["step", "count", "rate"],
        html=False,  # shown as the flow diagram
    )
    steps: list[tuple[str, Any]] = [("patients", flow.get("patients"))]
    if ex:
        steps += [
            ("excluded_no_baseline", ex.get("no_baseline")),
            ("baseline_scored", minus(flow.get("patients"), ex.get("no_baseline"))),
            ("excluded_below_threshold", ex.get("below_threshold")),
        ]
    steps.append(("threshold_met", flow.get("threshold_met")))
    if ex:
        steps += [
            ("excluded_missed_sessions", ex.get("missed_sessions")),
            ("received_all_sessions", minus(flow.get("threshold_met"), ex.get("missed_sessions"))),
            ("excluded_missed_assessment", ex.get("missed_assessment")),
        ]
    steps.append(("completers", flow.get("completers")))
    rate = get(flow, "completion", "rate")  # completers / threshold_met, on the completers' row
    for step, count in steps:
        t.csv_rows.append(
            {"step": step, "count": ctx.suppressed if count is None else count, "rate": rate if step == "completers" else None}
        )
    return t


# ----------------------------------------------------------------------- table 1


def _baseline(ctx: Ctx) -> Table | None:
    r = ctx.results
    t1 = get(r, "attrition", "table1")
    flow = r.get("flow") or {}
    comp, met = flow.get("completers"), flow.get("threshold_met")
    non = None if comp is None or met is None else met - comp
    if t1:
        t = Table(
            key="baseline_characteristics",
            title="Baseline characteristics of completers and non-completers",
            columns=[
                Column("label", "Characteristic", "left"),
                Column("completers", f"Completers\n(n = {ctx.count(comp)})"),
                Column("non_completers", f"Non-completers\n(n = {ctx.count(non)})"),
                Column("smd", "SMD"),
            ],
            csv_columns=[
                "variable", "label", "kind",
                *[f"{g}_{c}" for g in ("completers", "non_completers") for c in ("n", "mean", "sd", "count", "rate")],
                "smd",
            ],
            stub="label",
        )
        for var, body in t1.items():
            kind = body.get("kind")
            row = {"label": str(body.get("label", var)) + (", mean (SD)" if kind == "continuous" else ", n (%)")}
            raw: dict[str, Any] = {"variable": var, "label": body.get("label", var), "kind": kind}
            for g in ("completers", "non_completers"):
                cell = body.get(g) or {}
                if kind == "continuous":
                    row[g] = f"{fmt_num(cell.get('mean'))} ({fmt_num(cell.get('sd'))})"
                    raw |= {f"{g}_n": cell.get("n"), f"{g}_mean": cell.get("mean"), f"{g}_sd": cell.get("sd")}
                else:
                    hidden = cell.get("suppressed") or cell.get("count") is None
                    row[g] = ctx.hidden_mark(cell) if hidden else f"{cell['count']:,} ({fmt_pct(cell.get('rate'))})"
                    raw |= {
                        f"{g}_n": cell.get("n"),
                        f"{g}_count": ctx.hidden_mark(cell) if hidden else cell.get("count"),
                        f"{g}_rate": None if hidden else cell.get("rate"),
                    }
            row["smd"] = fmt_num(body.get("smd"))
            raw["smd"] = body.get("smd")
            t.rows.append(row)
            t.csv_rows.append(raw)
        t.notes.append(
            "Non-completers met the burnout threshold at baseline but missed a session or an assessment. SMD: "
            "standardized mean difference, completers minus non-completers (pooled SD); |SMD| > 0.1 is commonly read "
            "as a meaningful imbalance. Continuous variables: mean (SD) among those with a value."
        )
        return t
    smd = get(r, "attrition", "baseline_smd")
    if smd:
        t = Table(
            key="baseline_characteristics",
            title="Baseline differences between completers and non-completers",
            columns=[Column("label", "Characteristic", "left"), Column("smd", "SMD")],
            csv_columns=["variable", "smd"],
            stub="label",
        )
        for var, v in smd.items():
            t.rows.append({"label": _var_label(var), "smd": fmt_num(v)})
            t.csv_rows.append({"variable": var, "smd": v})
        t.notes.append("SMD: standardized mean difference, completers minus non-completers.")
        return t
    return None


def _var_label(var: str) -> str:
    if var in SUBSCALE_LABELS:
        return f"{SUBSCALE_LABELS[var]} at baseline"
    return {"female": "Female", "age": "Age"}.get(var, var.replace("_", " ").capitalize())


# ------------------------------------------------------------------ trajectories


def _trajectories(ctx: Ctx) -> Table | None:
    subs = ctx.results.get("subscales") or {}
    if not subs:
        return None
    t = Table(
        key="trajectories",
        title="MBI-GS subscale scores by assessment (completers)",
        columns=[
            Column("tp", "Assessment", "left"),
            Column("n", "n", spanner="Score"),
            Column("mean_sd", "Mean (SD)", spanner="Score"),
            Column("ci", "95% CI", spanner="Score"),
            Column("change", "Mean (95% CI)", spanner="Change from baseline"),
            Column("pct", "% change", spanner="Change from baseline"),
            Column("p", "p", spanner="Change from baseline"),
        ],
        csv_columns=[
            "subscale", "timepoint", "n", "mean", "sd", "ci_low", "ci_high",
            "change", "change_sd", "change_ci_low", "change_ci_high", "percent_change", "t", "df", "p",
        ],
        group="subscale",
        stub="tp",
    )
    for s in SUBSCALES:
        tps = get(subs, s, "timepoints") or {}
        for tp in ctx.timepoints:
            e = tps.get(tp)
            if not e:
                continue
            ci = e.get("ci") or [None, None]
            cci = e.get("change_ci") or [None, None]
            has_change = e.get("change") is not None
            t.rows.append(
                {
                    "subscale": SUBSCALE_LABELS[s],
                    "tp": ctx.tp(tp),
                    "n": ctx.count(e.get("n")),
                    "mean_sd": f"{fmt_num(e.get('mean'))} ({fmt_num(e.get('sd'))})",
                    "ci": fmt_ci(e.get("ci")),
                    "change": f"{fmt_signed(e['change'])} ({fmt_ci(e.get('change_ci'))})" if has_change else NDASH,
                    "pct": (fmt_signed(e.get("percent_change"), 1) + "%") if e.get("percent_change") is not None else NDASH,
                    "p": fmt_p(e.get("p")) if has_change else NDASH,
                }
            )
            t.csv_rows.append(
                {
                    "subscale": s, "timepoint": tp, "n": ctx.suppressed if e.get("n") is None else e.get("n"),
                    "mean": e.get("mean"), "sd": e.get("sd"), "ci_low": ci[0], "ci_high": ci[1],
                    "change": e.get("change"), "change_sd": e.get("change_sd"),
                    "change_ci_low": cci[0], "change_ci_high": cci[1],
                    "percent_change": e.get("percent_change"), "t": e.get("t"), "df": e.get("df"), "p": e.get("p"),
                }
            )
    t.notes.append(
        "Scores are subscale means of items scored 0\u20136. Intervals are 95% t intervals; p is the paired t test of the "
        "change from baseline. % change = 100 \u00d7 mean change / baseline mean."
    )
    return t


def _effect_sizes(ctx: Ctx) -> Table | None:
    subs = ctx.results.get("subscales") or {}
    t = Table(
        key="effect_sizes",
        title="Effect sizes of the change from baseline",
        columns=[
            Column("tp", "Assessment", "left"),
            Column("dz", "d_z"),
            Column("ci", "95% CI"),
            Column("label", "Magnitude", "left"),
        ],
        csv_columns=["subscale", "timepoint", "dz", "ci_low", "ci_high", "label", "method"],
        group="subscale",
        stub="tp",
    )
    for s in SUBSCALES:
        tps = get(subs, s, "timepoints") or {}
        for tp in ctx.timepoints:
            es = get(tps, tp, "effect_size")
            if not es:
                continue
            ci = es.get("ci") or [None, None]
            t.rows.append(
                {
                    "subscale": SUBSCALE_LABELS[s],
                    "tp": ctx.tp(tp),
                    "dz": fmt_num(es.get("dz")),
                    "ci": fmt_ci(es.get("ci")),
                    "label": str(es.get("label") or NDASH),
                }
            )
            t.csv_rows.append(
                {
                    "subscale": s, "timepoint": tp, "dz": es.get("dz"), "ci_low": ci[0], "ci_high": ci[1],
                    "label": es.get("label"), "method": es.get("method", "noncentral t"),
                }
            )
    if not t.rows:
        return None
    t.notes.append(
        "d_z = mean change / SD of the change (within-patient); negative values are decreases. Intervals "
        "from the noncentral t distribution. Magnitude by |d_z|: < 0.2 negligible, < 0.5 small, < 0.8 "
        "medium, otherwise large (Cohen)."
    )
    return t


def _plateau(ctx: Ctx) -> Table | None:
    subs = ctx.results.get("subscales") or {}
    rows = [(s, subs[s]["plateau"]) for s in SUBSCALES if get(subs, s, "plateau")]
    if not rows:
        return None
    f, to = rows[0][1].get("from"), rows[0][1].get("to")
    t = Table(
        key="plateau",
        title=f"Change between the last two assessments ({ctx.tp(str(f)).lower()} to {ctx.tp(str(to)).lower()})",
        columns=[
            Column("subscale", "Subscale", "left"),
            Column("diff", "Mean difference (95% CI)"),
            Column("p", "p"),
            Column("plateau", "Plateaued", "left"),
        ],
        csv_columns=["subscale", "from", "to", "mean_difference", "ci_low", "ci_high", "t", "df", "p", "test", "plateaued"],
        stub="subscale",
    )
    for s, pl in rows:
        ci = pl.get("ci") or [None, None]
        plat = pl.get("plateaued")
        t.rows.append(
            {
                "subscale": SUBSCALE_LABELS[s],
                "diff": f"{fmt_signed(pl.get('mean_difference'))} ({fmt_ci(pl.get('ci'))})",
                "p": fmt_p(pl.get("p")),
                "plateau": _plateau_cell(plat, pl.get("mean_difference")),
            }
        )
        t.csv_rows.append(
            {
                "subscale": s, "from": pl.get("from"), "to": pl.get("to"), "mean_difference": pl.get("mean_difference"),
                "ci_low": ci[0], "ci_high": ci[1], "t": pl.get("t"), "df": pl.get("df"), "p": pl.get("p"),
                "test": pl.get("test"), "plateaued": plat,
            }
        )
    t.notes.append(
        "Paired t test. A subscale is read as plateaued when the last interval shows no significant further "
        "improvement (p \u2265 0.05, or a change in the worse direction)."
    )
    return t


def _plateau_cell(plateaued: bool | None, mean_difference: Any) -> str:
    """"yes", "no, still improving", or why there is no test.

    With every patient's change exactly 0 the paired t test is undefined (SD 0), so the
    tree's ``plateaued`` is None; a zero mean change is still no further improvement.
    """
    if plateaued is not None:
        return "yes" if plateaued else "no, still improving"
    if mean_difference == 0:
        return "yes (no change at all)"
    return "not tested" if mean_difference is None else "not tested (too few completers)"


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
                "comparison": "All three subscales", "test": "Cochran Q", "stat": fmt_num(q.get("statistic")),
                "df": NDASH if q.get("df") is None else str(q["df"]), "p": fmt_p(q.get("p")), "p_holm": NDASH,
            }
        )
        t.csv_rows.append(
            {"comparison": "all", "test": "cochran-q", "statistic": q.get("statistic"), "df": q.get("df"), "p": q.get("p"), "p_holm": None}
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
                "p": fmt_p(m.get("p")),
                "p_holm": fmt_p(m.get("p_holm")),
            }
        )
        t.csv_rows.append(
            {"comparison": pair, "test": test, "statistic": m.get("statistic"), "df": 1 if m.get("statistic") is not None else None,
             "p": m.get("p"), "p_holm": m.get("p_holm")}
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
        columns=[Column("tp", "Assessment", "left"), Column("nN", "Below threshold/completers"), Column("pct", "%"), Column("ci", "95% CI")],
        csv_columns=["timepoint", *PROP_CSV],
        stub="tp",
    )
    for tp in ctx.timepoints:
        if tp in below:
            t.rows.append({"tp": ctx.tp(tp)} | _prop_cells(below[tp], ctx))
            t.csv_rows.append({"timepoint": tp} | _prop_raw(below[tp], ctx))
    e = get(ctx.results, "protocol", "eligibility") or {}
    t.notes.append(
        f"Below the threshold: not (Exhaustion \u2265 {e.get('exhaustion_min', NDASH)} and (Cynicism \u2265 "
        f"{e.get('cynicism_min', NDASH)} or Professional Efficacy \u2264 {e.get('efficacy_max', NDASH)})). Every completer "
        "met the threshold at baseline by definition. 95% Wilson intervals."
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
    for key, label in (("burnout_resolved", f"No longer in the Burnout profile {last}"), ("burnout_to_engaged", f"Engaged {last}")):
        if key in sev:
            t.rows.append({"label": label} | _prop_cells(sev[key], ctx))
            t.csv_rows.append({"outcome": key} | _prop_raw(sev[key], ctx))
    t.notes.append("Denominator: completers in the Burnout profile (Exhaustion and Cynicism critical) at baseline. 95% Wilson intervals.")
    return t


# -------------------------------------------------------------------------- safety


def _safety(ctx: Ctx) -> Table | None:
    se = ctx.results.get("side_effects")
    if not se:
        return None
    t = Table(
        key="side_effects",
        title="Side effects and serious adverse events",
        columns=[Column("label", "Event", "left"), Column("nN", "n/N"), Column("pct", "%"), Column("ci", "95% CI")],
        csv_columns=["event", "session", *PROP_CSV],
        stub="label",
    )
    for k, p in se.items():
        if k == "serious_adverse_events":
            continue
        t.rows.append({"label": f"Side effects reported, session {k}"} | _prop_cells(p, ctx))
        t.csv_rows.append({"event": "side_effects", "session": k} | _prop_raw(p, ctx))
    sae = se.get("serious_adverse_events")
    if sae:
        cells = _prop_cells(sae, ctx)
        if cells["pct"] != NDASH:  # the same unit as the key findings and the terminal: per 1,000 sessions
            rate, ci = sae_rate_cells(sae)
            cells |= {"pct": f"{rate} per 1,000", "ci": f"{ci} per 1,000"}
        t.rows.append({"label": "Serious adverse events, per 1,000 sessions delivered"} | cells)
        t.csv_rows.append({"event": "serious_adverse_events", "session": "all"} | _prop_raw(sae, ctx))
    t.notes.append(
        "Side effects: completers reporting any side effect at that session (denominator: those asked). Serious "
        "adverse events: events per 1,000 sessions delivered to completers (n/N: events/sessions). 95% Wilson "
        "intervals."
    )
    return t


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
        csv_columns=["variable", "level", "outcome", *PROP_CSV],
        group="variable",
        stub="level",
    )
    het_rows = []
    for var, body in subgroups.items():
        vlabel = VARIABLE_LABELS.get(var, var)
        for level, entry in body.items():
            if level == "heterogeneity" or not isinstance(entry, Mapping):
                continue
            shown = str(level) if var == "pathway" else level_label(level)  # pathways: the program's own names
            row = {"variable": vlabel, "level": shown, "n": ctx.count(entry.get("n"))}
            for o in outcomes:
                row[o] = _pct_ci_cell(entry.get(o), ctx)
                t.csv_rows.append({"variable": var, "level": level, "outcome": o} | _prop_raw(entry.get(o), ctx))
            t.rows.append(row)
        het = body.get("heterogeneity") or {}
        hrow = {"variable": vlabel, "level": "Heterogeneity, p", "n": ""}
        for o in outcomes:
            h = het.get(o) or {}
            test = h.get("test")
            hrow[o] = NDASH if h.get("p") is None else f"{fmt_p(h.get('p'))} ({_test_short(test)})"
            het_rows.append({"variable": var, "outcome": o, "test": test, "statistic": h.get("statistic"), "df": h.get("df"), "p": h.get("p")})
        t.rows.append(hrow)
    t.notes.append(
        "Heterogeneity: \u03c7\u00b2 = Pearson \u03c7\u00b2 test of level \u00d7 response; exact = Fisher or Freeman\u2013Halton "
        "exact test. Not adjusted for multiplicity."
    )
    t._het_rows = het_rows  # type: ignore[attr-defined]
    return t


def _test_short(test: str | None) -> str:
    return {"chi-square": "\u03c7\u00b2", "fisher-exact": "exact", "freeman-halton-exact": "exact"}.get(test or "", test or NDASH)


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


# ---------------------------------------------------------------------- extensions


def _esc_cell(text: str) -> str:
    import html as _html

    return _html.escape(literal(text), quote=False)


NOT_ESTIMATED: Final[str] = "\u2014"


def _cell(main: str, detail: str | None = None, *, mark: str | None = None) -> str:
    """A rich cell: the estimate, a footnote mark, and a smaller detail line beneath."""
    out = f'<span class="na">{main}</span>' if main == NOT_ESTIMATED else _esc_cell(main)
    if mark:
        out += f"<sup>{mark}</sup>"
    if detail:
        out += f'<span class="detail">{_esc_cell(detail)}</span>'
    return out


def _rate_cell(p: Mapping[str, Any] | None, ctx: Ctx) -> str:
    """A Proportion: "55.4% (50.5\u201360.2)" over "219/395"; the suppression mark when hidden."""
    if not p:
        return _cell(NDASH)
    if p.get("suppressed") or p.get("count") is None:
        return _cell(ctx.hidden_mark(p))
    if p.get("rate") is None:
        return _cell(f"{p['count']:,}/{p['n']:,}")
    return _cell(f"{fmt_pct(p['rate'])} ({fmt_pct_ci(p.get('ci'))})", f"{p['count']:,}/{p['n']:,}")


def _pooled_cell(p: Mapping[str, Any] | None, ctx: Ctx) -> str:
    """A pooled rate (no count): "69.0% (65.4\u201372.3)"."""
    if not p:
        return _cell(NDASH)
    if p.get("suppressed"):
        return _cell(ctx.suppressed)
    if p.get("rate") is None:
        return _cell(NDASH)
    return _cell(f"{fmt_pct(p['rate'])} ({fmt_pct_ci(p.get('ci'))})")


def _mean_cell(e: Mapping[str, Any] | None) -> str:
    """"4.09 (\u22121.48)" over "3.95 to 4.23 (\u22121.62 to \u22121.34)": mean (change) and their CIs."""
    if not e or e.get("mean") is None:
        return _cell(NDASH)
    if e.get("change") is None:
        return _cell(fmt_num(e["mean"]), fmt_ci(e.get("ci")) if e.get("ci") else None)
    main = f"{fmt_num(e['mean'])} ({fmt_signed(e['change'])})"
    detail = None
    if e.get("ci") or e.get("change_ci"):
        detail = f"{fmt_ci(e.get('ci'))} ({fmt_ci(e.get('change_ci'))})"
    return _cell(main, detail)


def _beyond(ctx: Ctx) -> Table | None:
    """Completers | worst case | multiple imputation | mixed model, side by side."""
    r = ctx.results
    itt = r.get("itt")
    if not itt:
        return None
    flow = r.get("flow") or {}
    met = itt.get("threshold_met")
    wc, mi, mm = itt.get("worst_case") or {}, itt.get("multiple_imputation") or {}, itt.get("mixed_model") or {}
    itt_span = "Everyone who met the threshold (intention to treat)"
    t = Table(
        key="beyond_completers",
        title="Beyond completers: completer estimates beside three intention-to-treat analyses",
        columns=[
            Column("label", "Outcome", "left"),
            Column("completers", f"Completers\n(n = {ctx.count(flow.get('completers'))})", "center"),
            Column("worst", f"Worst case\n(n = {ctx.count(met)})", "center", spanner=itt_span),
            Column("mi", f"Multiple imputation\n(n = {ctx.count(met)})", "center", spanner=itt_span),
            Column("mm", f"Mixed model\n(n = {ctx.count(met)})", "center", spanner=itt_span),
        ],
        csv_columns=[
            "measure", "outcome", "analysis", "timepoint", "count", "n", "estimate", "ci_low", "ci_high",
            "change", "change_ci_low", "change_ci_high", "imputations",
        ],
        group="group",
        stub="label",
        rich=True,
    )
    mc = get(r, "protocol", "response", "min_change")
    response_group = f"Response (\u2265 {fmt_plain(mc)} points, first to last assessment)"
    last = ctx.last
    last_session = ctx.sessions is not None and str(ctx.sessions) == last
    mean_group = (
        "Mean after the last session (change from baseline)" if last_session
        else f"Mean {ctx.tp(last).lower()} (change from baseline)"
    )
    period = f"{ctx.first}-{last}"
    for o in (*SUBSCALES, "at_least_1"):
        comp = get(r, "subscales", o, "response") if o in SUBSCALES else get(r, "responders", o)
        worst = get(wc, o, "response") if o in SUBSCALES else get(wc, "responders", o)
        pooled = get(mi, o, "response") if o in SUBSCALES else get(mi, "responders", o)
        if not any((comp, worst, pooled)):
            continue
        t.rows.append(
            {
                "group": response_group,
                "label": OUTCOME_LABELS[o],
                "completers": _rate_cell(comp, ctx),
                "worst": _rate_cell(worst, ctx),
                "mi": _pooled_cell(pooled, ctx),
                "mm": _cell(NOT_ESTIMATED, mark="a"),
            }
        )
        for name, p in (("completers", comp), ("worst_case", worst)):
            if p:
                raw = _prop_raw(p, ctx)
                t.csv_rows.append(
                    {"measure": "response", "outcome": o, "analysis": name, "timepoint": period, "count": raw["count"],
                     "n": raw["n"], "estimate": raw["rate"], "ci_low": raw["ci_low"], "ci_high": raw["ci_high"]}
                )
        if pooled:
            hidden = bool(pooled.get("suppressed"))
            ci = (None if hidden else pooled.get("ci")) or [None, None]
            t.csv_rows.append(
                {"measure": "response", "outcome": o, "analysis": "multiple_imputation", "timepoint": period,
                 "count": ctx.suppressed if hidden else None, "n": met if met is not None else ctx.suppressed,
                 "estimate": None if hidden else pooled.get("rate"), "ci_low": ci[0], "ci_high": ci[1],
                 "imputations": pooled.get("imputations")}
            )
    for s in SUBSCALES:
        c = get(r, "subscales", s, "timepoints", last)
        m = get(mm, s, "timepoints", last)
        if not c and not m:
            continue
        t.rows.append(
            {
                "group": mean_group,
                "label": SUBSCALE_LABELS[s],
                "completers": _mean_cell(c),
                "worst": _cell(NOT_ESTIMATED, mark="b"),
                "mi": _cell(NOT_ESTIMATED, mark="b"),
                "mm": _mean_cell(m),
            }
        )
        for name, e, n in (("completers", c, (c or {}).get("n")), ("mixed_model", m, get(mm, s, "patients"))):
            if not e:
                continue
            ci, cci = e.get("ci") or [None, None], e.get("change_ci") or [None, None]
            t.csv_rows.append(
                {"measure": "mean", "outcome": s, "analysis": name, "timepoint": last,
                 "n": ctx.suppressed if n is None else n, "estimate": e.get("mean"), "ci_low": ci[0], "ci_high": ci[1],
                 "change": e.get("change"), "change_ci_low": cci[0], "change_ci_high": cci[1]}
            )
    if not t.rows:
        return None
    imps = {p.get("imputations") for o in (*SUBSCALES, "at_least_1")
            if (p := (get(mi, o, "response") if o in SUBSCALES else get(mi, "responders", o)))} - {None, 0}
    m_txt = f" (m = {join_ints(imps)})" if imps else ""
    t.notes.append(
        "Response rows: % of the column's n (95% Wilson CI; multiple imputation: pooled estimate and CI), with "
        "responders/n beneath. Mean rows: mean score (0\u20136) and, in parentheses, mean change from baseline; "
        "beneath, the 95% CI of each. Completers met the threshold and had every session and every assessment. The "
        "worst case counts every non-completer as a non-responder. Multiple imputation imputes the missing follow-up "
        f"scores{m_txt} and pools with Rubin's rules. The mixed model estimates means from every available assessment "
        "of everyone who met the threshold, assuming scores are missing at random (see the model's assumptions below)."
    )
    t.notes.append("<sup>a</sup> The mixed model estimates mean scores, not responder rates.")
    t.notes.append(
        "<sup>b</sup> Not estimated: the worst case and multiple imputation were applied to response; the mean of "
        "everyone who met the threshold is the mixed model's."
    )
    return t


def _completion(ctx: Ctx) -> Table | None:
    cbs = get(ctx.results, "attrition", "completion_by_subgroup")
    if not cbs:
        return None
    t = Table(
        key="completion_by_subgroup",
        title="Completion by subgroup among patients who met the threshold",
        columns=[
            Column("level", "Level", "left"),
            Column("nN", "Completers/met threshold"),
            Column("pct", "%"),
            Column("ci", "95% CI"),
        ],
        csv_columns=["variable", "level", *PROP_CSV],
        group="variable",
        stub="level",
    )
    for var, levels in cbs.items():
        if not isinstance(levels, Mapping):
            continue
        vlabel = VARIABLE_LABELS.get(var, var.replace("_", " ").capitalize())
        for level, p in levels.items():
            if not isinstance(p, Mapping):
                continue
            shown = str(level) if var == "pathway" else level_label(level)  # pathways: the program's own names
            t.rows.append({"variable": vlabel, "level": shown} | _prop_cells(p, ctx))
            t.csv_rows.append({"variable": var, "level": level} | _prop_raw(p, ctx))
    if not t.rows:
        return None
    overall = get(ctx.results, "flow", "completion")
    t.notes.append(
        "Completion: completers (every session and every assessment) among the patients of the level who met the "
        f"burnout threshold at baseline; overall {fmt_prop(overall, ctx)}. 95% Wilson intervals."
    )
    return t


def _reach(ctx: Ctx) -> Table | None:
    reach = get(ctx.results, "attrition", "reach")
    if not reach:
        return None
    t = Table(
        key="reach",
        title="Patients who attended at least each number of sessions",
        columns=[],
        csv_columns=["sessions_at_least", *PROP_CSV],
        html=False,  # shown as the figure "How far patients got"
    )
    for j, p in sorted(reach.items(), key=lambda kv: int(kv[0])):
        t.csv_rows.append({"sessions_at_least": j} | _prop_raw(p, ctx))
    return t


def join_ints(values: set[int]) -> str:
    return ", ".join(str(v) for v in sorted(values))


def _mixed(ctx: Ctx) -> Table | None:
    mm = get(ctx.results, "itt", "mixed_model")
    if not mm:
        return None
    comp_n = ctx.count(get(ctx.results, "flow", "completers"))
    t = Table(
        key="itt_mixed_model",
        title="Mean scores at each assessment: completers and the mixed model of everyone who met the threshold",
        columns=[
            Column("tp", "Assessment", "left"),
            Column("completers", "Mean (95% CI)", spanner=f"Completers (n = {comp_n})"),
            Column("n", "Assessed, n", spanner="Mixed model"),
            Column("model", "Mean (95% CI)", spanner="Mixed model"),
            Column("change", "Change from baseline (95% CI)", spanner="Mixed model"),
        ],
        csv_columns=[
            "subscale", "timepoint", "completers_mean", "completers_ci_low", "completers_ci_high", "model_n",
            "model_mean", "model_ci_low", "model_ci_high", "model_change", "model_change_ci_low", "model_change_ci_high",
        ],
        group="subscale",
        stub="tp",
    )
    for s in SUBSCALES:
        for tp in ctx.timepoints:
            m = get(mm, s, "timepoints", tp)
            c = get(ctx.results, "subscales", s, "timepoints", tp)
            if not m and not c:
                continue
            m, c = m or {}, c or {}
            mci, cci, chci = m.get("ci") or [None, None], c.get("ci") or [None, None], m.get("change_ci") or [None, None]
            has_change = m.get("change") is not None
            t.rows.append(
                {
                    "subscale": SUBSCALE_LABELS[s], "tp": ctx.tp(tp),
                    "completers": f"{fmt_num(c.get('mean'))} ({fmt_ci(c.get('ci'))})",
                    "n": ctx.count(m.get("n")) if "n" in m else NDASH,
                    "model": f"{fmt_num(m.get('mean'))} ({fmt_ci(m.get('ci'))})",
                    "change": f"{fmt_signed(m['change'])} ({fmt_ci(m.get('change_ci'))})" if has_change else NDASH,
                }
            )
            t.csv_rows.append(
                {"subscale": s, "timepoint": tp, "completers_mean": c.get("mean"), "completers_ci_low": cci[0],
                 "completers_ci_high": cci[1], "model_n": ctx.suppressed if "n" in m and m["n"] is None else m.get("n"),
                 "model_mean": m.get("mean"), "model_ci_low": mci[0], "model_ci_high": mci[1],
                 "model_change": m.get("change"), "model_change_ci_low": chci[0], "model_change_ci_high": chci[1]}
            )
    if not t.rows:
        return None
    t.notes.append(
        "Assessed: patients who met the threshold with a score at that assessment; the model uses all of them. "
        "Model-based means and changes with 95% Wald intervals (missing at random; see the model's assumptions)."
    )
    return t


def _phq9(ctx: Ctx) -> Table | None:
    ph = ctx.results.get("phq9")
    if not ph:
        return None
    t = Table(
        key="phq9",
        title="Depressive symptoms (PHQ-9) among completers",
        columns=[Column("label", "Measure", "left"), Column("n", "n"), Column("value", "Value"), Column("ci", "95% CI")],
        csv_columns=["measure", "timepoint", "n", "mean", "sd", "count", "rate", "ci_low", "ci_high"],
        group="group",
        stub="label",
    )
    for tp in ctx.timepoints:
        e = get(ph, "timepoints", tp)
        if not e:
            continue
        t.rows.append(
            {"group": "PHQ-9 total, mean (SD)", "label": ctx.tp(tp), "n": ctx.count(e.get("n")),
             "value": f"{fmt_num(e.get('mean'))} ({fmt_num(e.get('sd'))})", "ci": NDASH}
        )
        t.csv_rows.append({"measure": "total", "timepoint": tp, "n": e.get("n"), "mean": e.get("mean"), "sd": e.get("sd")})
    for key, label in (("response", "Response (\u2265 50% fall)"), ("remission", "Remission (last total < 5)")):
        p = ph.get(key)
        if not p:
            continue
        cells = _prop_cells(p, ctx)
        t.rows.append({"group": "Among baseline total \u2265 10", "label": label, "n": cells["nN"], "value": cells["pct"], "ci": cells["ci"]})
        raw = _prop_raw(p, ctx)
        t.csv_rows.append({"measure": key, "timepoint": f"{ctx.first}-{ctx.last}", "n": raw["n"], "count": raw["count"],
                           "rate": raw["rate"], "ci_low": raw["ci_low"], "ci_high": raw["ci_high"]})
    if not t.rows:
        return None
    t.notes.append("PHQ-9 totals range 0\u201327. Response and remission: n is responders/denominator; 95% Wilson intervals.")
    return t


def _phq9_adjusted(ctx: Ctx) -> Table | None:
    adj = get(ctx.results, "phq9", "adjusted")
    if not adj:
        return None
    t = Table(
        key="phq9_adjusted",
        title="Subscale change with depression change held at zero",
        columns=[
            Column("subscale", "Subscale", "left"),
            Column("n", "n"),
            Column("intercept", "Change at no PHQ-9 change (95% CI)"),
            Column("slope", "Per 1-point PHQ-9 change (95% CI)"),
        ],
        csv_columns=["subscale", "n", "intercept", "intercept_ci_low", "intercept_ci_high", "slope", "slope_ci_low", "slope_ci_high"],
        stub="subscale",
    )
    for s in SUBSCALES:
        a = adj.get(s)
        if not a:
            continue
        ic, sc = a.get("intercept_ci") or [None, None], a.get("slope_ci") or [None, None]
        t.rows.append(
            {"subscale": SUBSCALE_LABELS[s], "n": ctx.count(a.get("n")),
             "intercept": f"{fmt_signed(a.get('intercept'))} ({fmt_ci(a.get('intercept_ci'))})",
             "slope": f"{fmt_signed(a.get('slope'), 3)} ({fmt_ci(a.get('slope_ci'), 3)})"}
        )
        t.csv_rows.append(
            {"subscale": s, "n": a.get("n"), "intercept": a.get("intercept"), "intercept_ci_low": ic[0], "intercept_ci_high": ic[1],
             "slope": a.get("slope"), "slope_ci_low": sc[0], "slope_ci_high": sc[1]}
        )
    t.notes.append(
        "Ordinary least squares of the change in each subscale on the change in PHQ-9 total, first to last assessment. "
        "The intercept estimates the subscale change not accompanied by any change in depressive symptoms."
    )
    return t


def _reliable(ctx: Ctx) -> Table | None:
    rc = ctx.results.get("reliable_change")
    if not rc:
        return None
    t = Table(
        key="reliable_change",
        title="Reliable change (Jacobson\u2013Truax)",
        columns=[
            Column("subscale", "Subscale", "left"),
            Column("imp_nN", "n/N", spanner="Reliably improved"),
            Column("imp_pct", "% (95% CI)", spanner="Reliably improved"),
            Column("det_nN", "n/N", spanner="Reliably deteriorated"),
            Column("det_pct", "% (95% CI)", spanner="Reliably deteriorated"),
        ],
        csv_columns=["subscale", "direction", *PROP_CSV],
        stub="subscale",
    )
    for s in SUBSCALES:
        body = rc.get(s)
        if not body:
            continue
        row = {"subscale": SUBSCALE_LABELS[s]}
        for key, d in (("improved", "imp"), ("deteriorated", "det")):
            cells = _prop_cells(body.get(key), ctx)
            row[f"{d}_nN"] = cells["nN"]
            row[f"{d}_pct"] = NDASH if cells["pct"] == NDASH else f"{cells['pct']} ({cells['ci']})"
            t.csv_rows.append({"subscale": s, "direction": key} | _prop_raw(body.get(key), ctx))
        t.rows.append(row)
    t.notes.append("|RCI| > 1.96 in the good (improved) or bad (deteriorated) direction. 95% Wilson intervals.")
    return t


def _reliability(ctx: Ctx) -> Table | None:
    rel = ctx.results.get("reliability")
    if not rel:
        return None
    tps = [tp for tp in ctx.timepoints if any(get(rel, s, tp) for s in SUBSCALES)]
    t = Table(
        key="reliability",
        title="Internal consistency (Cronbach's \u03b1) of the subscales among completers",
        columns=[Column("subscale", "Subscale", "left"), *[Column(f"t{tp}", ctx.tp(tp)) for tp in tps]],
        csv_columns=["subscale", "timepoint", "alpha"],
        stub="subscale",
    )
    for s in SUBSCALES:
        if s not in rel:
            continue
        row = {"subscale": SUBSCALE_LABELS[s]}
        for tp in tps:
            a = get(rel, s, tp, "alpha")
            row[f"t{tp}"] = fmt_num(a)
            t.csv_rows.append({"subscale": s, "timepoint": tp, "alpha": a})
        t.rows.append(row)
    return t


BUILDERS: Final[dict[str, Callable[[Ctx], Table | None]]] = {
    "analysis_plan": _plan,
    "participant_flow": _flow,
    "baseline_characteristics": _baseline,
    "trajectories": _trajectories,
    "effect_sizes": _effect_sizes,
    "plateau": _plateau,
    "response": _response,
    "response_comparison": _comparison,
    "below_threshold": _below,
    "profiles": _profiles,
    "profile_transitions": _transitions,
    "burnout_profile_resolution": _severe,
    "side_effects": _safety,
    "subgroups": _subgroups,
    "beyond_completers": _beyond,
    "itt_mixed_model": _mixed,
    "completion_by_subgroup": _completion,
    "reach": _reach,
    "phq9": _phq9,
    "phq9_adjusted": _phq9_adjusted,
    "reliable_change": _reliable,
    "reliability": _reliability,
}


def build_tables(ctx: Ctx) -> dict[str, Table]:
    """Every table whose numbers are present, keyed by CSV file stem."""
    out: dict[str, Table] = {}
    for key, build in BUILDERS.items():
        table = build(ctx)
        if table is not None:
            out[key] = table
    het = _heterogeneity_csv(ctx, out.get("subgroups"))
    if het is not None:
        out[het.key] = het
    return out


# ----------------------------------------------------------------------- rendering


def _csv_value(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return "" if not math.isfinite(v) else repr(float(v))  # float(): numpy scalars repr as "np.float64(...)"
    if isinstance(v, int):
        return str(v)
    return neutralise_formula(literal(v))  # control characters as \xNN: a quoted CR splits the rows pandas reads


SYNTHETIC_COLUMN: Final[str] = "synthetic_data"
HIDDEN_COLUMN: Final[str] = "hidden"
_FORMULA_START: Final[tuple[str, ...]] = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER: Final = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def neutralise_formula(text: str) -> str:
    """A text cell a spreadsheet cannot run: a leading ``'`` when it starts with = + - @, tab or CR (OWASP).

    Applied to text cells only; a number written as text ("-0.5", a plan's cut-off) is
    left alone, since a spreadsheet reads it as the number it is, not as a formula.
    """
    if text.startswith(_FORMULA_START) and not _PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text


def _count_column(name: str) -> bool:
    """Columns that hold counts of patients (or sessions): numeric, blank when hidden."""
    return name in ("count", "n") or name.endswith(("_count", "_n")) or name.startswith("to_")


def to_csv(table: Table, ctx: Ctx) -> str:
    """CSV text that ``pandas.read_csv`` reads with no options: one header line, numeric count columns.

    Columns: ``synthetic_data`` (true on every row of a synthetic run, so a file copied
    on its own still says so), the table's own columns with unrounded values, then
    ``hidden`` (every table but the plan): a hidden count is an empty cell and
    ``hidden`` names it and why ("count: suppressed (<11)"). Text cells that a
    spreadsheet would run as a formula are neutralised (`neutralise_formula`).
    """
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    with_hidden = table.key != "analysis_plan"
    w.writerow([SYNTHETIC_COLUMN, *table.csv_columns, *([HIDDEN_COLUMN] if with_hidden else [])])
    synthetic = _csv_value(ctx.synthetic)
    for row in table.csv_rows:
        cells, hidden = [], []
        for c in table.csv_columns:
            v = row.get(c)
            if _count_column(c) and isinstance(v, str):  # a suppression mark, never a number
                hidden.append(f"{c}: {v}")
                v = None
            cells.append(_csv_value(v))
        w.writerow([synthetic, *cells, *([_csv_value("; ".join(hidden))] if with_hidden else [])])
    return buf.getvalue()


TABLE_CSS: Final[str] = """
#{id} .gt_table {{ font-variant-numeric: tabular-nums; }}
#{id} .gt_col_heading {{ vertical-align: bottom; }}
#{id} .gt_row.gt_right, #{id} .gt_row.gt_center {{ white-space: nowrap; }}
#{id} .gt_stub {{ white-space: normal; min-width: 8.5em; }}
#{id} .gt_sourcenote {{ white-space: normal; line-height: 1.35; }}
"""


def to_gt_html(table: Table, ctx: Ctx, number: int | None) -> str:
    """The table as great_tables HTML: three rules, left-aligned caption, notes underneath."""
    from great_tables import GT, html, loc, style

    keys = [c.key for c in table.columns]
    cols = ([table.group] if table.group else []) + keys
    shown = str if table.rich else literal  # rich cells were made printable when built (_esc_cell)
    df = _frame({k: [shown(row.get(k, "")) for row in table.rows] for k in cols})
    gid = f"tbl-{table.key.replace('_', '-')}"
    gt = GT(df, rowname_col=table.stub, groupname_col=table.group, id=gid)
    if table.rich:
        gt = gt.fmt(_as_html, columns=[k for k in keys if k != table.stub])
    label = f"Table {number}. " if number is not None else ""
    gt = gt.tab_header(title=html(f"<strong>{label}</strong>{_esc(table.title)}"))
    if table.stub:
        stub_col = next(c for c in table.columns if c.key == table.stub)
        gt = gt.tab_stubhead(label=html(_rich(stub_col.label)))
    gt = gt.cols_label(**{c.key: html(_rich(c.label)) for c in table.columns if c.key != table.stub})
    spanners: dict[str, list[str]] = {}
    for c in table.columns:
        if c.spanner:
            spanners.setdefault(c.spanner, []).append(c.key)
    for label_, keys_ in spanners.items():
        gt = gt.tab_spanner(label=html(_rich(label_)), columns=keys_)
    for c in table.columns:
        if c.key != table.stub:
            gt = gt.cols_align(align=c.align, columns=c.key)
    marks = (ctx.suppressed, _esc(ctx.suppressed), COMPLEMENT_MARK)  # plain, and as a rich (escaped) cell starts
    for c in table.columns:
        rows_hidden = [i for i, row in enumerate(table.rows) if str(row.get(c.key, "")).startswith(marks)]
        if rows_hidden:
            gt = gt.tab_style(style=[style.text(color="#555555", style="italic"), style.fill(color="#F1F1F1")], locations=loc.body(columns=c.key, rows=rows_hidden))
    notes = list(table.notes) if table.rich else [_rich(n) for n in table.notes]
    if any(str(v).startswith(marks) for row in table.rows for v in row.values()):
        notes.append(_rich(ctx.suppression_note))
    if ctx.synthetic:
        notes.append("<strong>SYNTHETIC DATA:</strong> simulated patients, not real outcomes.")
    for note in notes:
        gt = gt.tab_source_note(html(note))
    gt = gt.opt_align_table_header(align="left").tab_options(
        table_font_names=["Helvetica Neue", "Helvetica", "Arial", "Liberation Sans", "sans-serif"],
        table_font_size="13px",
        table_font_color="#1A1A1A",
        table_width="100%",
        table_border_top_style="solid",
        table_border_top_width="0px",
        table_border_bottom_color="#1A1A1A",
        table_border_bottom_width="1.5px",
        heading_title_font_size="14px",
        heading_padding="2px",
        heading_border_bottom_color="#1A1A1A",
        heading_border_bottom_width="1.5px",
        column_labels_font_weight="bold",
        column_labels_border_top_color="#1A1A1A",
        column_labels_border_top_width="1.5px",
        column_labels_border_bottom_color="#1A1A1A",
        column_labels_border_bottom_width="1px",
        column_labels_padding="4px",
        row_group_font_weight="bold",
        row_group_border_top_color="#BBBBBB",
        row_group_border_top_width="1px",
        row_group_border_bottom_color="#DDDDDD",
        row_group_border_bottom_width="0px",
        row_group_padding="4px",
        table_body_hlines_color="#EEEEEE",
        table_body_border_bottom_color="#1A1A1A",
        table_body_border_bottom_width="1.5px",
        stub_border_color="#FFFFFF",
        stub_border_width="0px",
        data_row_padding="3px",
        source_notes_font_size="12px",
        source_notes_padding="3px",
        container_padding_y="0px",
        quarto_disable_processing=True,
    ).opt_css(TABLE_CSS.format(id=gid))
    return gt.as_raw_html()


def _frame(columns: dict[str, list[str]], *, backend: str | None = None) -> Any:
    """The display strings as a data frame for great_tables: polars when installed, else pandas.

    great_tables writes every cell into its frame one at a time while rendering, which
    costs about 1 ms per cell in pandas and microseconds in polars; importing polars also
    takes a third of the time pandas takes. The HTML is the same either way
    (test_report.py: test_gt_html_against_both_frame_backends). pyarrow, the other frame
    great_tables takes, imports pandas as soon as it builds an array.
    """
    if backend in (None, "polars"):
        try:
            import polars as pl
        except ImportError:
            if backend == "polars":
                raise
        else:
            return pl.DataFrame(columns, schema={k: pl.String for k in columns})
    import pandas as pd

    return pd.DataFrame(columns, columns=list(columns), dtype=object)


def _as_html(cell: Any) -> str:
    """great_tables formatter for a rich table: the cell is HTML already (escaped when it was built)."""
    return str(cell)


def _rich(text: str) -> str:
    """Plain text to HTML: escaped, with "d_z" as d<sub>z</sub> and newlines as line breaks."""
    return _esc(text).replace("d_z", "d<sub>z</sub>").replace("\n", "<br>")


def _esc(text: str) -> str:
    import html as _html

    return _html.escape(text, quote=False)
