"""The report's "beyond completers" table: completer estimates beside the intention-to-treat analyses.

One record per outcome and analysis (the CSV); the display has a row per outcome and a
column per analysis. A cell an analysis does not estimate (the mixed models' response, the
imputations' mean) is a display-only record, so it says why rather than being blank.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from burnout.report.format import Ctx, fmt_ci, fmt_num, fmt_pct, fmt_pct_ci, fmt_plain, fmt_signed, get
from burnout.report.labels import NDASH, OUTCOME_LABELS, SUBSCALES
from burnout.report.tables.cells import ci_of, is_hidden, n_or_mark
from burnout.report.tables.model import NOT_ESTIMATED, Column, Record, Table, _cell, _prop_raw, join_ints

__all__ = ["_beyond", "mmrm_as_mean"]

_OUTCOMES: Final = (*SUBSCALES, "at_least_1")
_RAW: Final = ("count", "n", "estimate", "ci_low", "ci_high", "change", "change_ci_low", "change_ci_high")
_CSV: Final = ["measure", "outcome", "analysis", "timepoint", *_RAW, "imputations"]


def _beyond(ctx: Ctx) -> Table | None:
    """Completers | worst case | multiple imputation | MMRM (primary) | random intercept (sensitivity)."""
    itt = ctx.results.get("itt")
    if not itt:
        return None
    mc = get(ctx.results, "protocol", "response", "min_change")
    response_group = f"Response (\u2265 {fmt_plain(mc)} points, first to last assessment)"
    last_session = ctx.sessions is not None and str(ctx.sessions) == ctx.last
    mean_group = (
        "Mean after the last session (change from baseline)"
        if last_session
        else f"Mean {ctx.tp(ctx.last).lower()} (change from baseline)"
    )
    t = Table(
        key="beyond_completers",
        title="Beyond completers: completer estimates beside four intention-to-treat analyses",
        columns=_columns(ctx, itt),
        csv_columns=_CSV,
        by=("measure", "outcome"),
        group="group",
        group_raw=("measure",),
        csv_only=("timepoint", "imputations"),
        group_fmt=lambda r: response_group if r["measure"] == "response" else mean_group,
        stub="label",
        rich=True,
    )
    _response_records(t, ctx, itt)
    _mean_records(t, ctx, itt)
    if not t.entries:
        return None
    t.notes.extend(_notes(ctx, itt))
    return t


def _columns(ctx: Ctx, itt: Mapping[str, Any]) -> list[Column]:
    itt_span = "Everyone who met the threshold (intention to treat)"
    imputed = get(itt, "multiple_imputation", "patients_imputed")
    met = ctx.flow_count("threshold_met")
    mi_n = met if imputed in (None, itt.get("threshold_met")) else f"{imputed:,}"
    shown = [
        ("completers", f"Completers\n(n = {ctx.flow_count('completers')})", None),
        ("worst_case", f"Worst case\n(n = {met})", itt_span),
        ("multiple_imputation", f"Multiple imputation\n(n = {mi_n})", itt_span),
        ("mmrm", f"MMRM, primary\n(n = {met})", itt_span),
        ("mixed_model", "Random intercept,\nsensitivity", itt_span),
    ]
    if ctx.results.get("synthetic_truth"):  # the demo only
        shown.append(("synthetic_truth", "Truth (synthetic)", None))
    keys = {"worst_case": "worst", "multiple_imputation": "mi", "mixed_model": "mm", "synthetic_truth": "truth"}
    return [
        Column("label", "Outcome", "left", raw=("outcome",), fmt=lambda r: OUTCOME_LABELS[r["outcome"]]),
        *[
            Column(
                keys.get(a, a),
                label,
                "center",
                spanner,
                raw=("measure", "analysis", *_RAW),
                fmt=_analysis_cell,
                where={"analysis": a},
                missing=_cell(NDASH),
            )
            for a, label, spanner in shown
        ],
    ]


def _response_records(t: Table, ctx: Ctx, itt: Mapping[str, Any]) -> None:
    """Per outcome: completers, worst case, multiple imputation (pooled, no count) and the synthetic truth."""
    r, wc, mi = ctx.results, itt.get("worst_case") or {}, itt.get("multiple_imputation") or {}
    truth = r.get("synthetic_truth")
    met = itt.get("threshold_met")
    period = f"{ctx.first}-{ctx.last}"
    for o in _OUTCOMES:
        comp = _outcome_rate(r.get("subscales") if o in SUBSCALES else r, o)
        worst, pooled = _outcome_rate(wc, o), _outcome_rate(mi, o)
        if not any((comp, worst, pooled)):
            continue
        key = {"measure": "response", "outcome": o, "timepoint": period}
        for name, p in (("completers", comp), ("worst_case", worst)):
            if p:
                t.add(key | {"analysis": name} | _as_estimate(_prop_raw(p, ctx)))
        if pooled:
            hidden = bool(pooled.get("suppressed"))
            ci = (None if hidden else pooled.get("ci")) or [None, None]
            t.add(
                key
                | {"analysis": "multiple_imputation", "count": ctx.suppressed if hidden else None}
                | {"n": met if met is not None else ctx.flow_count("threshold_met")}
                | {"estimate": None if hidden else pooled.get("rate"), "ci_low": ci[0], "ci_high": ci[1]}
                | {"imputations": pooled.get("imputations")}
            )
        if tp := _outcome_rate(truth, o):
            t.add(key | {"analysis": "synthetic_truth"} | _as_estimate(_prop_raw(tp, ctx)))
        for name in ("mmrm", "mixed_model"):  # the mixed models estimate means, not responder rates
            t.add(key | {"analysis": name, "estimated": False}, csv=False)


def _as_estimate(raw: Mapping[str, Any]) -> dict[str, Any]:
    """A Proportion's CSV fields with its rate as the table's ``estimate``."""
    return {
        "count": raw["count"],
        "n": raw["n"],
        "estimate": raw["rate"],
        "ci_low": raw["ci_low"],
        "ci_high": raw["ci_high"],
    }


def _mean_records(t: Table, ctx: Ctx, itt: Mapping[str, Any]) -> None:
    """Per subscale at the last assessment: completers, the MMRM and the random-intercept model."""
    r, mm, mmrm = ctx.results, itt.get("mixed_model") or {}, itt.get("mmrm") or {}
    truth = r.get("synthetic_truth")
    for s in SUBSCALES:
        c = get(r, "subscales", s, "timepoints", ctx.last)
        m = get(mm, s, "timepoints", ctx.last)
        u = mmrm_as_mean(get(mmrm, s, "timepoints", ctx.last))
        if not c and not m and not u:
            continue
        key = {"measure": "mean", "outcome": s, "timepoint": ctx.last}
        for name, e, n in (
            ("completers", c, (c or {}).get("n")),
            ("mmrm", u, get(mmrm, s, "patients")),
            ("mixed_model", m, get(mm, s, "patients")),
        ):
            if e:
                ci, cci = e.get("ci") or [None, None], e.get("change_ci") or [None, None]
                t.add(
                    key
                    | {"analysis": name, "n": n_or_mark(ctx, n, statistic=e.get("mean")), "estimate": e.get("mean")}
                    | {"ci_low": ci[0], "ci_high": ci[1], "change": e.get("change")}
                    | {"change_ci_low": cci[0], "change_ci_high": cci[1]}
                )
        for name in ("worst_case", "multiple_imputation"):  # applied to response only
            t.add(key | {"analysis": name, "estimated": False}, csv=False)
        if truth:
            t.add(key | {"analysis": "synthetic_truth", "change": get(truth, s, "change")}, csv=False)


def _analysis_cell(r: Record) -> str:
    """One analysis's rich cell: a rate over its count, a pooled rate, or a mean (change) over their CIs."""
    if r.get("estimated") is False:
        return _cell(NOT_ESTIMATED, mark="a" if r["measure"] == "response" else "b")
    if r["measure"] == "mean":
        return _cell(f"({fmt_signed(r.get('change'))})") if r["analysis"] == "synthetic_truth" else _mean_cell(r)
    if is_hidden(r.get("count")):
        return _cell(str(r["count"]))
    pooled = r["analysis"] == "multiple_imputation"  # a pooled rate has no count
    if r.get("estimate") is None:
        return _cell(NDASH if pooled else f"{r['count']:,}/{r['n']:,}")
    rate = f"{fmt_pct(r['estimate'])} ({fmt_pct_ci(ci_of(r))})"
    return _cell(rate) if pooled else _cell(rate, f"{r['count']:,}/{r['n']:,}")


def _mean_cell(r: Record) -> str:
    """ "4.09 (\u22121.48)" over "3.95 to 4.23 (\u22121.62 to \u22121.34)": mean (change) and their CIs."""
    mean, change = r.get("estimate"), r.get("change")
    if mean is None:
        return _cell(NDASH)
    ci, change_ci = ci_of(r), ci_of(r, "change_ci_low", "change_ci_high")
    has_ci, has_change_ci = ci != [None, None], change_ci != [None, None]
    if change is None:
        return _cell(fmt_num(mean), fmt_ci(ci) if has_ci else None)
    detail = f"{fmt_ci(ci)} ({fmt_ci(change_ci)})" if has_ci or has_change_ci else None
    return _cell(f"{fmt_num(mean)} ({fmt_signed(change)})", detail)


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


def _outcome_rate(tree: Mapping[str, Any] | None, outcome: str) -> Any:
    """One outcome's response Proportion in a branch laid out as ``<subscale>.response`` and
    ``responders.<outcome>`` (worst case, multiple imputation, the synthetic truth)."""
    path = (outcome, "response") if outcome in SUBSCALES else ("responders", outcome)
    return get(tree, *path) if tree else None


def _notes(ctx: Ctx, itt: Mapping[str, Any]) -> list[str]:
    mi, truth = itt.get("multiple_imputation") or {}, ctx.results.get("synthetic_truth")
    imps = {p.get("imputations") for o in _OUTCOMES if (p := _outcome_rate(mi, o))} - {None, 0}
    m_txt = f" (m = {join_ints(imps)})" if imps else ""
    notes = [
        "Response rows: % of the column's n (95% Wilson CI; multiple imputation: pooled estimate and CI), with "
        "responders/n beneath. Mean rows: mean score (0\u20136) and, in parentheses, mean change from baseline; "
        "beneath, the 95% CI of each. Completers met the threshold and had every session and every assessment. The "
        "worst case (non-responder imputation) keeps every observed response, completer or not, and counts a "
        "missing one as non-response. Multiple imputation imputes the missing follow-up "
        f"scores{m_txt} and pools with Rubin's rules. The mixed models estimate means from every available assessment "
        "of everyone who met the threshold, assuming scores are missing at random (see the models' assumptions "
        "below): the MMRM (primary) with an unstructured covariance and Kenward-Roger t intervals; the random-intercept "
        "model (a sensitivity analysis) forces one variance and one correlation on every assessment."
    ]
    if caveat := get(mi, "estimand", "missing_data_assumption"):
        notes.append(
            "Multiple imputation estimates a treatment-policy estimand: everyone who met the threshold, whatever "
            "happened after enrolment; patients who never had a session count as unchanged. " + str(caveat)
        )
    if truth:
        notes.append(f"Truth (synthetic): {truth.get('note')} Mean rows: the true mean change.")
    notes.append("<sup>a</sup> The mixed models estimate mean scores, not responder rates.")
    notes.append(
        "<sup>b</sup> Not estimated: the worst case and multiple imputation were applied to response; the mean of "
        "everyone who met the threshold is the mixed models'."
    )
    return notes
