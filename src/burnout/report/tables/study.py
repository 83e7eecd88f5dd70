"""The report's tables: one definition, two renderings. (study)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from burnout.report.format import Ctx, fmt_ci, fmt_num, fmt_p, fmt_pct, fmt_signed, get
from burnout.report.labels import NDASH, SUBSCALE_LABELS, SUBSCALES
from burnout.report.tables.model import Column, Table, _plain_value, _var_label

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
            t.rows.append(
                {
                    "section": "Plan (protocol.toml, resolved)",
                    "setting": f"[{section}]",
                    "value": " \u00b7 ".join(shown),
                }
            )
        else:
            t.rows.append(
                {"section": "Plan (protocol.toml, resolved)", "setting": section, "value": _plain_value(body)}
            )
            t.csv_rows.append({"section": "plan", "setting": section, "value": _plain_value(body)})
    t.notes.append("The resolved plan: every setting, with defaults filled in, as protocol.toml keys.")
    return t


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
            {
                "step": step,
                "count": ctx.suppressed if count is None else count,
                "rate": rate if step == "completers" else None,
            }
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
                "variable",
                "label",
                "kind",
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
            "subscale",
            "timepoint",
            "n",
            "mean",
            "sd",
            "ci_low",
            "ci_high",
            "change",
            "change_sd",
            "change_ci_low",
            "change_ci_high",
            "percent_change",
            "t",
            "df",
            "p",
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
                    "n": ctx.n_beside(e.get("n"), statistic=e.get("mean")),
                    "mean_sd": f"{fmt_num(e.get('mean'))} ({fmt_num(e.get('sd'))})",
                    "ci": fmt_ci(e.get("ci")),
                    "change": f"{fmt_signed(e['change'])} ({fmt_ci(e.get('change_ci'))})" if has_change else NDASH,
                    "pct": (fmt_signed(e.get("percent_change"), 1) + "%")
                    if e.get("percent_change") is not None
                    else NDASH,
                    "p": fmt_p(e.get("p"), ctx) if has_change else NDASH,
                }
            )
            t.csv_rows.append(
                {
                    "subscale": s,
                    "timepoint": tp,
                    "n": ctx.suppressed if e.get("n") is None else e.get("n"),
                    "mean": e.get("mean"),
                    "sd": e.get("sd"),
                    "ci_low": ci[0],
                    "ci_high": ci[1],
                    "change": e.get("change"),
                    "change_sd": e.get("change_sd"),
                    "change_ci_low": cci[0],
                    "change_ci_high": cci[1],
                    "percent_change": e.get("percent_change"),
                    "t": e.get("t"),
                    "df": e.get("df"),
                    "p": e.get("p"),
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
            Column("label", "Magnitude of d_z", "left"),
            Column("dav", "d_av"),
        ],
        csv_columns=["subscale", "timepoint", "dz", "ci_low", "ci_high", "label", "method", "d_av"],
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
                    "dav": fmt_num(es.get("d_av")),
                }
            )
            t.csv_rows.append(
                {
                    "subscale": s,
                    "timepoint": tp,
                    "dz": es.get("dz"),
                    "ci_low": ci[0],
                    "ci_high": ci[1],
                    "label": es.get("label"),
                    "method": es.get("method", "noncentral t"),
                    "d_av": es.get("d_av"),
                }
            )
    if not t.rows:
        return None
    t.notes.append(
        "d_z = mean change / SD of the change (within-patient); negative values are decreases. Intervals "
        "from the noncentral t distribution. Magnitude by |d_z|: < 0.2 negligible, < 0.5 small, < 0.8 "
        "medium, otherwise large (Cohen). Cohen's benchmarks were set for differences between groups; d_z grows "
        "with the correlation between the two assessments, so it is not comparable with them or with other "
        "studies' d (Lakens 2013). d_av = mean change / the average of the two assessments' SDs is, and is shown "
        "beside it."
    )
    return t
