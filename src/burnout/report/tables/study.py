"""The report's tables of the study itself: the plan, participant flow, Table 1, trajectories and effect sizes."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from burnout.report.format import Ctx, fmt_p, fmt_signed, get
from burnout.report.labels import NDASH, SUBSCALE_LABELS, SUBSCALES
from burnout.report.primary import threshold_words
from burnout.report.tables.cells import count_pct, field, interval, mean_sd, n_beside, n_or_mark, signed_ci
from burnout.report.tables.model import HIDDEN_REASON, Column, Record, Table, _plain_value, _var_label

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
        t.free_rows.append({"section": section, "setting": setting, "value": shown})
        t.free_csv_rows.append({"section": section, "setting": setting, "value": shown})

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
                        t.free_csv_rows.append(
                            {"section": section, "setting": f"{key}.{k2}", "value": _plain_value(v2)}
                        )
                else:
                    shown.append(f"{key} = {_plain_value(value)}")
                    t.free_csv_rows.append({"section": section, "setting": key, "value": _plain_value(value)})
            t.free_rows.append(
                {
                    "section": "Plan (protocol.toml, resolved)",
                    "setting": f"[{section}]",
                    "value": " \u00b7 ".join(shown),
                }
            )
        else:
            t.free_rows.append(
                {"section": "Plan (protocol.toml, resolved)", "setting": section, "value": _plain_value(body)}
            )
            t.free_csv_rows.append({"section": "plan", "setting": section, "value": _plain_value(body)})
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
    # a hidden step's mark says why, as results.json does (flow.hidden): a small cell or its complement
    reasons = flow.get("hidden") or {}
    for step, count in steps:
        key = step.replace("excluded_", "exclusions.")
        t.add(
            {"step": step, "count": ctx.mark(reasons.get(key)) if count is None else count}
            | {"rate": rate if step == "completers" else None},
            shown=False,
        )
    return t


# ----------------------------------------------------------------------- table 1

_GROUPS = ("completers", "non_completers")


def _baseline(ctx: Ctx) -> Table | None:
    if get(ctx.results, "attrition", "table1"):
        return _table1(ctx)
    smd = get(ctx.results, "attrition", "baseline_smd")
    if not smd:
        return None
    t = Table(
        key="baseline_characteristics",
        title="Baseline differences between completers and non-completers",
        columns=[
            Column("label", "Characteristic", "left", raw=("variable",), fmt=lambda r: _var_label(r["variable"])),
            Column("smd", "SMD", raw=("smd",), fmt=field("smd")),
        ],
        csv_columns=["variable", "smd"],
        stub="label",
    )
    for var, v in smd.items():
        t.add({"variable": var, "smd": v})
    t.notes.append("SMD: standardized mean difference, completers minus non-completers.")
    return t


def _table1(ctx: Ctx) -> Table:
    """Table 1: each characteristic of completers and non-completers, mean (SD) or n (%), and the SMD."""
    flow = ctx.results.get("flow") or {}
    comp, met = flow.get("completers"), flow.get("threshold_met")
    non = None if comp is None or met is None else met - comp
    t = Table(
        key="baseline_characteristics",
        title="Baseline characteristics of completers and non-completers",
        columns=[
            Column("label", "Characteristic", "left", raw=("label", "kind"), fmt=_characteristic),
            *[
                Column(g, f"{name}\n(n = {ctx.count(n)})", raw=("kind", *(f"{g}_{c}" for c in _T1)), fmt=_group_cell(g))
                for g, name, n in (("completers", "Completers", comp), ("non_completers", "Non-completers", non))
            ],
            Column("smd", "SMD", raw=("smd",), fmt=field("smd")),
        ],
        csv_only=("variable",),  # the tree's key: the display shows its label
        csv_columns=["variable", "label", "kind", *[f"{g}_{c}" for g in _GROUPS for c in _T1], "smd"],
        stub="label",
    )
    for var, body in get(ctx.results, "attrition", "table1").items():
        kind = body.get("kind")
        raw: dict[str, Any] = {"variable": var, "label": body.get("label", var), "kind": kind}
        for g in _GROUPS:
            cell = body.get(g) or {}
            if kind == "continuous":
                n = ctx.mark(cell["hidden_because"]) if cell.get("hidden_because") else cell.get("n")
                raw |= {f"{g}_n": n, f"{g}_mean": cell.get("mean"), f"{g}_sd": cell.get("sd")}
            else:
                hidden = cell.get("suppressed") or cell.get("count") is None
                raw |= {
                    f"{g}_n": cell.get("n"),
                    f"{g}_count": ctx.hidden_mark(cell) if hidden else cell.get("count"),
                    f"{g}_rate": None if hidden else cell.get("rate"),
                }
        withheld = [g for g in _GROUPS if kind == "continuous" and isinstance(raw.get(f"{g}_n"), str)]
        if withheld:  # the mean and SD (and so the SMD) would give the hidden n back
            raw[HIDDEN_REASON] = {
                **{f"{g}_{c}": f"hidden with {g}_n" for g in withheld for c in ("mean", "sd")},
                "smd": f"hidden with {withheld[0]}_n",
            }
        t.add(raw | {"smd": body.get("smd")})
    t.notes.append(
        f"Non-completers met the {threshold_words(ctx.results)} at baseline but missed a session or an assessment. SMD: "
        "standardized mean difference, completers minus non-completers (pooled SD); |SMD| > 0.1 is commonly read "
        "as a meaningful imbalance. Continuous variables: mean (SD) among those with a value."
    )
    return t


_T1 = ("n", "mean", "sd", "count", "rate")


def _characteristic(r: Record) -> str:
    return str(r["label"]) + (", mean (SD)" if r["kind"] == "continuous" else ", n (%)")


def _group_cell(g: str) -> Callable[[Record], str]:
    """A group's mean (SD) of a continuous characteristic, n (%) of the others."""
    continuous, categorical = mean_sd(f"{g}_mean", f"{g}_sd"), count_pct(f"{g}_count", f"{g}_rate")

    def cell(r: Record) -> str:
        if r["kind"] != "continuous":
            return categorical(r)
        n = r.get(f"{g}_n")
        return n if isinstance(n, str) else continuous(r)  # hidden: the mark says why

    return cell


# ------------------------------------------------------------------ trajectories


def _trajectories(ctx: Ctx) -> Table | None:
    subs = ctx.results.get("subscales") or {}
    if not subs:
        return None
    t = Table(
        key="trajectories",
        title="MBI-GS subscale scores by assessment (completers)",
        columns=[
            Column("tp", "Assessment", "left", raw=("timepoint",), fmt=lambda r: ctx.tp(r["timepoint"])),
            Column("n", "n", spanner="Score", raw=("n", "mean"), fmt=n_beside(ctx)),
            Column("mean_sd", "Mean (SD)", spanner="Score", raw=("mean", "sd"), fmt=mean_sd()),
            Column("ci", "95% CI", spanner="Score", raw=("ci_low", "ci_high"), fmt=interval()),
            Column("change", "Mean (95% CI)", spanner=_SINCE, raw=_CHANGE, fmt=signed_ci(*_CHANGE)),
            Column("pct", "% change", spanner=_SINCE, raw=("percent_change",), fmt=_percent_change),
            Column("p", "p", spanner=_SINCE, raw=("change", "p"), fmt=lambda r: _p_of_change(r, ctx)),
        ],
        csv_only=("change_sd", "t", "df"),
        csv_columns=["subscale", "timepoint", "n", "mean", "sd", "ci_low", "ci_high", "change", "change_sd"]
        + ["change_ci_low", "change_ci_high", "percent_change", "t", "df", "p"],
        group="subscale",
        group_fmt=lambda r: SUBSCALE_LABELS[r["subscale"]],
        group_raw=("subscale",),
        stub="tp",
    )
    for s in SUBSCALES:
        tps = get(subs, s, "timepoints") or {}
        for tp in ctx.timepoints:
            if e := tps.get(tp):
                ci, cci = e.get("ci") or [None, None], e.get("change_ci") or [None, None]
                t.add(
                    {"subscale": s, "timepoint": tp, "n": n_or_mark(ctx, e.get("n"), statistic=e.get("mean"))}
                    | {k: e.get(k) for k in ("mean", "sd")}
                    | {"ci_low": ci[0], "ci_high": ci[1], "change": e.get("change"), "change_sd": e.get("change_sd")}
                    | {"change_ci_low": cci[0], "change_ci_high": cci[1]}
                    | {k: e.get(k) for k in ("percent_change", "t", "df", "p")}
                )
    t.notes.append(
        "Scores are subscale means of items scored 0\u20136. Intervals are 95% t intervals; p is the paired t test of the "
        "change from baseline. % change = 100 \u00d7 mean change / baseline mean."
    )
    return t


_CHANGE = ("change", "change_ci_low", "change_ci_high")
_SINCE = "Change from baseline"


def _percent_change(r: Record) -> str:
    return NDASH if r.get("percent_change") is None else fmt_signed(r["percent_change"], 1) + "%"


def _p_of_change(r: Record, ctx: Ctx) -> str:
    return fmt_p(r.get("p"), ctx) if r.get("change") is not None else NDASH


def _effect_sizes(ctx: Ctx) -> Table | None:
    subs = ctx.results.get("subscales") or {}
    t = Table(
        key="effect_sizes",
        title="Effect sizes of the change from baseline",
        columns=[
            Column("tp", "Assessment", "left", raw=("timepoint",), fmt=lambda r: ctx.tp(r["timepoint"])),
            Column("dz", "d_z", raw=("dz",), fmt=field("dz")),
            Column("ci", "95% CI", raw=("ci_low", "ci_high"), fmt=interval()),
            Column("label", "Magnitude of d_z", "left", raw=("label",), fmt=lambda r: str(r.get("label") or NDASH)),
            Column("dav", "d_av", raw=("d_av",), fmt=field("d_av")),
        ],
        csv_columns=["subscale", "timepoint", "dz", "ci_low", "ci_high", "label", "method", "d_av"],
        csv_only=("method",),
        group="subscale",
        group_fmt=lambda r: SUBSCALE_LABELS[r["subscale"]],
        group_raw=("subscale",),
        stub="tp",
    )
    for s in SUBSCALES:
        tps = get(subs, s, "timepoints") or {}
        for tp in ctx.timepoints:
            if es := get(tps, tp, "effect_size"):
                ci = es.get("ci") or [None, None]
                t.add(
                    {"subscale": s, "timepoint": tp, "dz": es.get("dz"), "ci_low": ci[0], "ci_high": ci[1]}
                    | {"label": es.get("label"), "method": es.get("method", "noncentral t"), "d_av": es.get("d_av")}
                )
    if not t.entries:
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
