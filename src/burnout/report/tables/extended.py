"""The report's tables: one definition, two renderings. (extended)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from burnout.report.format import Ctx, fmt_ci, fmt_num, fmt_plain, fmt_prop, fmt_signed, get, subgroup_label
from burnout.report.labels import NDASH, OUTCOME_LABELS, SUBSCALE_LABELS, SUBSCALES, VARIABLE_LABELS
from burnout.report.tables.model import (
    NOT_ESTIMATED,
    PROP_CSV,
    Column,
    Table,
    _cell,
    _mean_cell,
    _pooled_cell,
    _prop_cells,
    _prop_raw,
    _rate_cell,
    join_ints,
)


def _beyond(ctx: Ctx) -> Table | None:
    """Completers | worst case | multiple imputation | MMRM (primary) | random intercept (sensitivity)."""
    r = ctx.results
    itt = r.get("itt")
    if not itt:
        return None
    met = itt.get("threshold_met")
    wc, mi, mm = itt.get("worst_case") or {}, itt.get("multiple_imputation") or {}, itt.get("mixed_model") or {}
    mmrm = itt.get("mmrm") or {}
    itt_span = "Everyone who met the threshold (intention to treat)"
    truth = r.get("synthetic_truth")  # the demo only
    imputed = mi.get("patients_imputed")
    mi_n = ctx.flow_count("threshold_met") if imputed in (None, met) else f"{imputed:,}"
    t = Table(
        key="beyond_completers",
        title="Beyond completers: completer estimates beside four intention-to-treat analyses",
        columns=[
            Column("label", "Outcome", "left"),
            Column("completers", f"Completers\n(n = {ctx.flow_count('completers')})", "center"),
            Column("worst", f"Worst case\n(n = {ctx.flow_count('threshold_met')})", "center", spanner=itt_span),
            Column("mi", f"Multiple imputation\n(n = {mi_n})", "center", spanner=itt_span),
            Column("mmrm", f"MMRM, primary\n(n = {ctx.flow_count('threshold_met')})", "center", spanner=itt_span),
            Column("mm", "Random intercept,\nsensitivity", "center", spanner=itt_span),
            *([Column("truth", "Truth (synthetic)", "center")] if truth else []),
        ],
        csv_columns=[
            "measure",
            "outcome",
            "analysis",
            "timepoint",
            "count",
            "n",
            "estimate",
            "ci_low",
            "ci_high",
            "change",
            "change_ci_low",
            "change_ci_high",
            "imputations",
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
        "Mean after the last session (change from baseline)"
        if last_session
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
                "mmrm": _cell(NOT_ESTIMATED, mark="a"),
                "mm": _cell(NOT_ESTIMATED, mark="a"),
            }
            | ({"truth": _rate_cell(_truth_rate(truth, o), ctx)} if truth else {})
        )
        for name, p in (("completers", comp), ("worst_case", worst)):
            if p:
                raw = _prop_raw(p, ctx)
                t.csv_rows.append(
                    {
                        "measure": "response",
                        "outcome": o,
                        "analysis": name,
                        "timepoint": period,
                        "count": raw["count"],
                        "n": raw["n"],
                        "estimate": raw["rate"],
                        "ci_low": raw["ci_low"],
                        "ci_high": raw["ci_high"],
                    }
                )
        if pooled:
            hidden = bool(pooled.get("suppressed"))
            ci = (None if hidden else pooled.get("ci")) or [None, None]
            t.csv_rows.append(
                {
                    "measure": "response",
                    "outcome": o,
                    "analysis": "multiple_imputation",
                    "timepoint": period,
                    "count": ctx.suppressed if hidden else None,
                    "n": met if met is not None else ctx.flow_count("threshold_met"),
                    "estimate": None if hidden else pooled.get("rate"),
                    "ci_low": ci[0],
                    "ci_high": ci[1],
                    "imputations": pooled.get("imputations"),
                }
            )
        tp = _truth_rate(truth, o)
        if tp:
            raw = _prop_raw(tp, ctx)
            t.csv_rows.append(
                {"measure": "response", "outcome": o, "analysis": "synthetic_truth", "timepoint": period}
                | {"count": raw["count"], "n": raw["n"], "estimate": raw["rate"]}
                | {"ci_low": raw["ci_low"], "ci_high": raw["ci_high"]}
            )
    for s in SUBSCALES:
        c = get(r, "subscales", s, "timepoints", last)
        m = get(mm, s, "timepoints", last)
        u = mmrm_as_mean(get(mmrm, s, "timepoints", last))
        if not c and not m and not u:
            continue
        t.rows.append(
            {
                "group": mean_group,
                "label": SUBSCALE_LABELS[s],
                "completers": _mean_cell(c),
                "worst": _cell(NOT_ESTIMATED, mark="b"),
                "mi": _cell(NOT_ESTIMATED, mark="b"),
                "mmrm": _mean_cell(u),
                "mm": _mean_cell(m),
            }
            | ({"truth": _cell(f"({fmt_signed(get(truth, s, 'change'))})")} if truth else {})
        )
        for name, e, n in (
            ("completers", c, (c or {}).get("n")),
            ("mmrm", u, get(mmrm, s, "patients")),
            ("mixed_model", m, get(mm, s, "patients")),
        ):
            if not e:
                continue
            ci, cci = e.get("ci") or [None, None], e.get("change_ci") or [None, None]
            t.csv_rows.append(
                {
                    "measure": "mean",
                    "outcome": s,
                    "analysis": name,
                    "timepoint": last,
                    "n": ctx.suppressed if n is None else n,
                    "estimate": e.get("mean"),
                    "ci_low": ci[0],
                    "ci_high": ci[1],
                    "change": e.get("change"),
                    "change_ci_low": cci[0],
                    "change_ci_high": cci[1],
                }
            )
    if not t.rows:
        return None
    imps = {
        p.get("imputations")
        for o in (*SUBSCALES, "at_least_1")
        if (p := (get(mi, o, "response") if o in SUBSCALES else get(mi, "responders", o)))
    } - {None, 0}
    m_txt = f" (m = {join_ints(imps)})" if imps else ""
    t.notes.append(
        "Response rows: % of the column's n (95% Wilson CI; multiple imputation: pooled estimate and CI), with "
        "responders/n beneath. Mean rows: mean score (0\u20136) and, in parentheses, mean change from baseline; "
        "beneath, the 95% CI of each. Completers met the threshold and had every session and every assessment. The "
        "worst case (non-responder imputation) keeps every observed response, completer or not, and counts a "
        "missing one as non-response. Multiple imputation imputes the missing follow-up "
        f"scores{m_txt} and pools with Rubin's rules. The mixed models estimate means from every available assessment "
        "of everyone who met the threshold, assuming scores are missing at random (see the models' assumptions "
        "below): the MMRM (primary) with an unstructured covariance and Kenward-Roger t intervals; the random-intercept "
        "model (a sensitivity analysis) forces one variance and one correlation on every assessment."
    )
    caveat = get(mi, "estimand", "missing_data_assumption")
    if caveat:
        t.notes.append(
            "Multiple imputation estimates a treatment-policy estimand: everyone who met the threshold, whatever "
            "happened after enrolment; patients who never had a session count as unchanged. " + str(caveat)
        )
    if truth:
        t.notes.append(f"Truth (synthetic): {truth.get('note')} Mean rows: the true mean change.")
    t.notes.append("<sup>a</sup> The mixed models estimate mean scores, not responder rates.")
    t.notes.append(
        "<sup>b</sup> Not estimated: the worst case and multiple imputation were applied to response; the mean of "
        "everyone who met the threshold is the mixed models'."
    )
    return t


def mmrm_as_mean(tp: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """An ``itt.mmrm`` visit in the shape of a mean row: mean, ci, change, change_ci."""
    if not tp:
        return None
    mean, change = tp.get("mean") or {}, tp.get("change") or {}
    return {
        "mean": mean.get("estimate"),
        "ci": mean.get("ci"),
        "change": change.get("estimate"),
        "change_ci": change.get("ci"),
    }


def _truth_rate(truth: Mapping[str, object] | None, outcome: str) -> Mapping[str, object] | None:
    """The synthetic truth's Proportion of one outcome (a subscale or at_least_1)."""
    path = ("responders", "at_least_1") if outcome == "at_least_1" else (outcome, "response")
    return get(truth, *path) if truth else None


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
            shown = subgroup_label(ctx.results, var, level)  # a merged level says what it holds
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


def _mixed(ctx: Ctx) -> Table | None:
    mm = get(ctx.results, "itt", "mixed_model")
    if not mm:
        return None
    comp_n = ctx.flow_count("completers")
    t = Table(
        key="itt_mixed_model",
        title=(
            "Mean scores at each assessment: completers and the random-intercept model (a sensitivity analysis) "
            "of everyone who met the threshold"
        ),
        columns=[
            Column("tp", "Assessment", "left"),
            Column("completers", "Mean (95% CI)", spanner=f"Completers (n = {comp_n})"),
            Column("n", "Assessed, n", spanner="Mixed model"),
            Column("model", "Mean (95% CI)", spanner="Mixed model"),
            Column("change", "Change from baseline (95% CI)", spanner="Mixed model"),
        ],
        csv_columns=[
            "subscale",
            "timepoint",
            "completers_mean",
            "completers_ci_low",
            "completers_ci_high",
            "model_n",
            "model_mean",
            "model_ci_low",
            "model_ci_high",
            "model_change",
            "model_change_ci_low",
            "model_change_ci_high",
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
            mci, cci, chci = (
                m.get("ci") or [None, None],
                c.get("ci") or [None, None],
                m.get("change_ci") or [None, None],
            )
            has_change = m.get("change") is not None
            t.rows.append(
                {
                    "subscale": SUBSCALE_LABELS[s],
                    "tp": ctx.tp(tp),
                    "completers": f"{fmt_num(c.get('mean'))} ({fmt_ci(c.get('ci'))})",
                    "n": ctx.n_beside(m.get("n"), statistic=m.get("mean")) if "n" in m else NDASH,
                    "model": f"{fmt_num(m.get('mean'))} ({fmt_ci(m.get('ci'))})",
                    "change": f"{fmt_signed(m['change'])} ({fmt_ci(m.get('change_ci'))})" if has_change else NDASH,
                }
            )
            t.csv_rows.append(
                {
                    "subscale": s,
                    "timepoint": tp,
                    "completers_mean": c.get("mean"),
                    "completers_ci_low": cci[0],
                    "completers_ci_high": cci[1],
                    "model_n": ctx.suppressed if "n" in m and m["n"] is None else m.get("n"),
                    "model_mean": m.get("mean"),
                    "model_ci_low": mci[0],
                    "model_ci_high": mci[1],
                    "model_change": m.get("change"),
                    "model_change_ci_low": chci[0],
                    "model_change_ci_high": chci[1],
                }
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
        columns=[
            Column("label", "Measure", "left"),
            Column("n", "n"),
            Column("value", "Value"),
            Column("ci", "95% CI"),
        ],
        csv_columns=["measure", "timepoint", "n", "mean", "sd", "count", "rate", "ci_low", "ci_high"],
        group="group",
        stub="label",
    )
    for tp in ctx.timepoints:
        e = get(ph, "timepoints", tp)
        if not e:
            continue
        t.rows.append(
            {
                "group": "PHQ-9 total, mean (SD)",
                "label": ctx.tp(tp),
                "n": ctx.n_beside(e.get("n"), statistic=e.get("mean")),
                "value": f"{fmt_num(e.get('mean'))} ({fmt_num(e.get('sd'))})",
                "ci": NDASH,
            }
        )
        t.csv_rows.append(
            {"measure": "total", "timepoint": tp, "n": e.get("n"), "mean": e.get("mean"), "sd": e.get("sd")}
        )
    for key, label in (("response", "Response (\u2265 50% fall)"), ("remission", "Remission (last total < 5)")):
        p = ph.get(key)
        if not p:
            continue
        cells = _prop_cells(p, ctx)
        t.rows.append(
            {
                "group": "Among baseline total \u2265 10",
                "label": label,
                "n": cells["nN"],
                "value": cells["pct"],
                "ci": cells["ci"],
            }
        )
        raw = _prop_raw(p, ctx)
        t.csv_rows.append(
            {
                "measure": key,
                "timepoint": f"{ctx.first}-{ctx.last}",
                "n": raw["n"],
                "count": raw["count"],
                "rate": raw["rate"],
                "ci_low": raw["ci_low"],
                "ci_high": raw["ci_high"],
            }
        )
    if not t.rows:
        return None
    t.notes.append(
        "PHQ-9 totals range 0\u201327. Response and remission: n is responders/denominator; 95% Wilson intervals."
    )
    return t


def _phq9_adjusted(ctx: Ctx) -> Table | None:
    adj = get(ctx.results, "phq9", "adjusted")
    if not adj:
        return None
    t = Table(
        key="phq9_adjusted",
        title="Subscale change regressed on PHQ-9 change (descriptive)",
        columns=[
            Column("subscale", "Subscale", "left"),
            Column("n", "n"),
            Column("intercept", "Change at no PHQ-9 change (95% CI)"),
            Column("slope", "Per 1-point PHQ-9 change (95% CI)"),
        ],
        csv_columns=[
            "subscale",
            "n",
            "intercept",
            "intercept_ci_low",
            "intercept_ci_high",
            "slope",
            "slope_ci_low",
            "slope_ci_high",
        ],
        stub="subscale",
    )
    for s in SUBSCALES:
        a = adj.get(s)
        if not a:
            continue
        ic, sc = a.get("intercept_ci") or [None, None], a.get("slope_ci") or [None, None]
        t.rows.append(
            {
                "subscale": SUBSCALE_LABELS[s],
                "n": ctx.n_beside(a.get("n"), statistic=a.get("intercept")),
                "intercept": f"{fmt_signed(a.get('intercept'))} ({fmt_ci(a.get('intercept_ci'))})",
                "slope": f"{fmt_signed(a.get('slope'), 3)} ({fmt_ci(a.get('slope_ci'), 3)})",
            }
        )
        t.csv_rows.append(
            {
                "subscale": s,
                "n": a.get("n"),
                "intercept": a.get("intercept"),
                "intercept_ci_low": ic[0],
                "intercept_ci_high": ic[1],
                "slope": a.get("slope"),
                "slope_ci_low": sc[0],
                "slope_ci_high": sc[1],
            }
        )
    t.notes.append(
        "Ordinary least squares of the change in each subscale on the change in PHQ-9 total, first to last assessment. "
        "Descriptive only: the intercept is the fitted subscale change at a PHQ-9 change of 0. PHQ-9 change is "
        "measured with error, which attenuates the slope toward 0 and pulls the intercept toward the mean subscale "
        "change, so it is not the burnout change that would remain had depression not changed; nor is the "
        "association causal in either direction."
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
    t.notes.append("|RCI| \u2265 1.96 in the good (improved) or bad (deteriorated) direction. 95% Wilson intervals.")
    inputs = [
        f"{SUBSCALE_LABELS[s]}: SD {fmt_num(rc[s].get('sd'))}, reliability {fmt_num(rc[s].get('reliability'))}, "
        f"critical change {fmt_num(rc[s].get('critical_change'))} points"
        for s in SUBSCALES
        if rc.get(s) and rc[s].get("reliability") is not None
    ]
    sources = sorted({str(rc[s]["source"]) for s in SUBSCALES if rc.get(s) and rc[s].get("source")})
    if inputs:
        t.notes.append("Inputs. " + "; ".join(inputs) + ". Source: " + " | ".join(sources) + ".")
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
