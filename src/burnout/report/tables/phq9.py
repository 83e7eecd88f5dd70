"""The report's tables of depressive symptoms (PHQ-9) and the subscale change adjusted for them."""

from __future__ import annotations

from collections.abc import Callable

from burnout.report.format import Ctx, fmt_ci, fmt_signed, get
from burnout.report.labels import NDASH, SUBSCALE_LABELS, SUBSCALES
from burnout.report.tables.cells import ci_of, mean_sd, n_beside, prop_ci, prop_n_of, prop_pct
from burnout.report.tables.model import Column, Record, Table, _prop_raw

__all__ = ["_phq9", "_phq9_adjusted"]

_OUTCOMES = {"response": "Response (\u2265 50% fall)", "remission": "Remission (last total < 5)"}


def _phq9(ctx: Ctx) -> Table | None:
    """Totals at each assessment (mean rows) and response and remission (Proportions)."""
    ph = ctx.results.get("phq9")
    if not ph:
        return None
    t = Table(
        key="phq9",
        title="Depressive symptoms (PHQ-9) among completers",
        columns=[
            Column("label", "Measure", "left", raw=("measure", "timepoint"), fmt=lambda r: _measure_label(ctx, r)),
            Column("n", "n", raw=("measure", "n", "mean", "count"), fmt=_by_measure(n_beside(ctx), prop_n_of)),
            Column("value", "Value", raw=("measure", "mean", "sd", "rate"), fmt=_by_measure(mean_sd(), prop_pct)),
            Column("ci", "95% CI", raw=("measure", "ci_low", "ci_high"), fmt=_by_measure(lambda r: NDASH, prop_ci)),
        ],
        csv_columns=["measure", "timepoint", "n", "mean", "sd", "count", "rate", "ci_low", "ci_high"],
        group="group",
        group_raw=("measure",),
        group_fmt=lambda r: "PHQ-9 total, mean (SD)" if r["measure"] == "total" else "Among baseline total \u2265 10",
        stub="label",
    )
    for tp in ctx.timepoints:
        if e := get(ph, "timepoints", tp):
            t.add({"measure": "total", "timepoint": tp, "n": e.get("n"), "mean": e.get("mean"), "sd": e.get("sd")})
    for key in _OUTCOMES:
        if p := ph.get(key):
            raw = _prop_raw(p, ctx)
            t.add(
                {"measure": key, "timepoint": f"{ctx.first}-{ctx.last}"}
                | {k: raw[k] for k in ("n", "count", "rate", "ci_low", "ci_high")}
            )
    if not t.entries:
        return None
    t.notes.append(
        "PHQ-9 totals range 0\u201327. Response and remission: n is responders/denominator; 95% Wilson intervals."
    )
    return t


def _by_measure(total: Callable[[Record], str], proportion: Callable[[Record], str]) -> Callable[[Record], str]:
    """A column that formats the totals one way and response and remission (Proportions) the other."""
    return lambda r: total(r) if r["measure"] == "total" else proportion(r)


def _measure_label(ctx: Ctx, r: Record) -> str:
    return ctx.tp(r["timepoint"]) if r["measure"] == "total" else _OUTCOMES[r["measure"]]


_INTERCEPT = ("intercept", "intercept_ci_low", "intercept_ci_high")
_SLOPE = ("slope", "slope_ci_low", "slope_ci_high")


def _phq9_adjusted(ctx: Ctx) -> Table | None:
    adj = get(ctx.results, "phq9", "adjusted")
    if not adj:
        return None
    t = Table(
        key="phq9_adjusted",
        title="Subscale change regressed on PHQ-9 change (descriptive)",
        columns=[
            Column("subscale", "Subscale", "left", raw=("subscale",), fmt=lambda r: SUBSCALE_LABELS[r["subscale"]]),
            Column("n", "n", raw=("n", "intercept"), fmt=n_beside(ctx, "n", "intercept")),
            Column("intercept", "Change at no PHQ-9 change (95% CI)", raw=_INTERCEPT, fmt=_estimate_ci(*_INTERCEPT)),
            Column("slope", "Per 1-point PHQ-9 change (95% CI)", raw=_SLOPE, fmt=_estimate_ci(*_SLOPE, digits=3)),
        ],
        csv_columns=["subscale", "n", *_INTERCEPT, *_SLOPE],
        stub="subscale",
    )
    for s in SUBSCALES:
        if a := adj.get(s):
            ic, sc = a.get("intercept_ci") or [None, None], a.get("slope_ci") or [None, None]
            t.add(
                {"subscale": s, "n": a.get("n"), "intercept": a.get("intercept")}
                | {"intercept_ci_low": ic[0], "intercept_ci_high": ic[1]}
                | {"slope": a.get("slope"), "slope_ci_low": sc[0], "slope_ci_high": sc[1]}
            )
    t.notes.append(
        "Ordinary least squares of the change in each subscale on the change in PHQ-9 total, first to last assessment. "
        "Descriptive only: the intercept is the fitted subscale change at a PHQ-9 change of 0. PHQ-9 change is "
        "measured with error, which attenuates the slope toward 0 and pulls the intercept toward the mean subscale "
        "change, so it is not the burnout change that would remain had depression not changed; nor is the "
        "association causal in either direction."
    )
    return t


def _estimate_ci(value: str, low: str, high: str, *, digits: int = 2) -> Callable[[Record], str]:
    """ "\u22120.41 (\u22120.52 to \u22120.30)", dashes for what is missing."""
    return lambda r: f"{fmt_signed(r.get(value), digits)} ({fmt_ci(ci_of(r, low, high), digits)})"
