"""Tables of the honest-inference analyses (issue 16): early change by completion, regression to the mean."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from burnout.report.format import Ctx, fmt_ci, fmt_num, fmt_p, fmt_plain, fmt_signed, get
from burnout.report.labels import NDASH, SUBSCALE_LABELS, SUBSCALES
from burnout.report.tables.cells import ci_of, field, mean_sd, n_beside
from burnout.report.tables.model import Column, Record, Table

__all__ = ["_early_change", "_plateau", "_regression_to_mean"]


_RTM_RAW = ("reference_mean", "reference_sd", "selected_mean", "rho", "expected_change")
_RTM_OBSERVED = ("observed_change", "share_of_observed_change", "expected_response_rate")


def _regression_to_mean(ctx: Ctx) -> Table | None:
    rtm = ctx.results.get("regression_to_mean")
    if not rtm:
        return None
    t = Table(
        key="regression_to_mean",
        title="Change expected from regression to the mean alone",
        columns=[
            Column("subscale", "Subscale", "left", raw=("subscale",), fmt=lambda r: SUBSCALE_LABELS[r["subscale"]]),
            Column("reference", "Everyone scored, mean (SD)", raw=_RTM_RAW[:2], fmt=mean_sd(*_RTM_RAW[:2])),
            Column("selected", "Met the threshold, mean", raw=("selected_mean",), fmt=field("selected_mean")),
            Column("rho", "Test-retest \u03c1", raw=("rho",), fmt=field("rho")),
            Column(
                "expected", "Expected change with no true change", raw=_RTM_RAW[4:], fmt=field(_RTM_RAW[4], fmt_signed)
            ),
            Column("range", "over \u03c1 range", raw=_RHO_RANGE, fmt=_rho_range),
            Column(
                "observed",
                "Observed change (completers)",
                raw=_RTM_OBSERVED[:1],
                fmt=field(_RTM_OBSERVED[0], fmt_signed),
            ),
            Column("share", "Share explained", raw=_RTM_OBSERVED[1:2], fmt=field(_RTM_OBSERVED[1], _percent)),
            Column(
                "response",
                "Response expected with no true change",
                raw=_RTM_OBSERVED[2:],
                fmt=field(_RTM_OBSERVED[2], _percent),
            ),
        ],
        csv_columns=["subscale", *_RTM_RAW, *_RHO_RANGE, *_RTM_OBSERVED],
        stub="subscale",
    )
    for s in SUBSCALES:
        if e := rtm.get(s):
            low, high = get(e, "rho_range", "low", "expected_change"), get(e, "rho_range", "high", "expected_change")
            t.add(
                {"subscale": s, **{k: e.get(k) for k in _RTM_RAW}}
                | dict(zip(_RHO_RANGE, (low, high), strict=True))
                | {k: e.get(k) for k in _RTM_OBSERVED}
            )
    t.notes.extend(_regression_to_mean_notes(ctx, rtm))
    return t


_RHO_RANGE = ("expected_change_rho_low", "expected_change_rho_high")


def _rho_range(r: Record) -> str:
    low, high = (r.get(k) for k in _RHO_RANGE)
    return NDASH if low is None else f"{fmt_signed(low)} to {fmt_signed(high)}"


def rho_spread(results: Mapping[str, Any], *path: str) -> list[str]:
    """["28.3% at ρ = 0.5", "16.9% at ρ = 0.8"]: a share expected with no true change
    (``regression_to_mean.<path>``) at the plan's rho_low and rho_high, i.e. how much it leans on
    the test-retest correlations. A subscale's share (``<s>, key``) reads ``<s>.rho_range.<bound>.<key>``,
    a joint one (``key``) ``<key>_range.<bound>.expected``; empty when absent."""
    if len(path) == 2:
        spread, field_name = get(results, "regression_to_mean", path[0], "rho_range") or {}, path[1]
    else:
        spread, field_name = get(results, "regression_to_mean", f"{path[0]}_range") or {}, "expected"
    return [
        f"{fmt_num(100 * e[field_name], 1)}% at ρ = {fmt_plain(e['rho'])}"
        for bound in ("low", "high")
        if (e := spread.get(bound)) and e.get(field_name) is not None
    ]


def _percent(share: Any) -> str:
    return NDASH if share is None else f"{fmt_num(100 * share, 1)}%"


def _regression_to_mean_notes(ctx: Ctx, rtm: Mapping[str, Any]) -> list[str]:
    notes = []
    rho = get(ctx.results, "protocol", "regression_to_mean")
    span = f" (\u03c1 from {rho['rho_low']} to {rho['rho_high']})" if rho else ""
    notes.append(
        "Patients were selected for high burnout at baseline, so part of any fall is expected from measurement "
        "error and day-to-day fluctuation alone. Expected change = \u2212(1 \u2212 \u03c1) \u00d7 (selected mean "
        "\u2212 mean of everyone scored), under a bivariate normal model (Barnett, van der Pols & Dobson 2005); the "
        f"range column repeats it over the plan's sensitivity range{span}. Response expected with no true change: "
        "the share of completers whose change would pass the response criterion from regression to the mean and "
        "measurement error alone, averaged over their baseline scores (scores treated as continuous). \u03c1: "
        + " | ".join(sorted({str(rtm[s].get("source")) for s in SUBSCALES if rtm.get(s)}))
        + "."
    )
    joint = [
        f"{label} {fmt_num(100 * rtm[key], 1)}%"
        + (f" ({', '.join(bits)})" if (bits := rho_spread(ctx.results, key)) else "")
        for key, label in (
            ("expected_below_threshold", "below the threshold at the end"),
            ("expected_leaving_burnout", "left the Burnout profile (of those in it at baseline)"),
        )
        if rtm.get(key) is not None
    ]
    if joint:
        notes.append(
            "Completers expected with no true change, from the three subscales jointly (trivariate normal, "
            "classical test theory with the same \u03c1): " + "; ".join(joint) + "."
        )
    return notes


def _early_change(ctx: Ctx) -> Table | None:
    """One record per subscale and group (the CSV); the display has the groups side by side."""
    early = get(ctx.results, "attrition", "early_change")
    if not early:
        return None
    comp, non = {"group": "completers"}, {"group": "non_completers"}
    t = Table(
        key="early_change",
        title=f"Early change, {ctx.tp(early['from']).lower()} to {ctx.tp(early['to']).lower()}, by completion",
        columns=[
            Column("subscale", "Subscale", "left", raw=("subscale",), fmt=lambda r: SUBSCALE_LABELS[r["subscale"]]),
            Column("comp", "Completers, mean (SD)", raw=("mean", "sd"), where=comp, fmt=_signed_mean_sd),
            Column("comp_n", "n", raw=("n", "mean"), where=comp, fmt=n_beside(ctx)),
            Column("non", "Non-completers, mean (SD)", raw=("mean", "sd"), where=non, fmt=_signed_mean_sd),
            Column("non_n", "n", raw=("n", "mean"), where=non, fmt=n_beside(ctx)),
            Column("smd", "SMD", raw=("smd",), fmt=field("smd", fmt_signed)),
        ],
        csv_columns=["subscale", "group", "n", "mean", "sd", "smd"],
        by=("subscale",),
        stub="subscale",
    )
    for s in SUBSCALES:
        if e := early.get(s):
            for g in ("completers", "non_completers"):
                grp = e.get(g) or {}
                t.add({"subscale": s, "group": g, **{k: grp.get(k) for k in ("n", "mean", "sd")}, "smd": e.get("smd")})
    t.notes.append(
        "Change from baseline to the first follow-up among those scored at both, by whether they went on to complete. "
        "A difference here means dropout depended on early response, so completers' results are not those of "
        "everyone treated (missing not at random is plausible). SMD: completers minus non-completers over the pooled SD."
    )
    return t


def _signed_mean_sd(r: Record) -> str:
    return NDASH if r.get("mean") is None else f"{fmt_signed(r['mean'])} ({fmt_num(r.get('sd'))})"


_EQUIVALENCE = ("equivalence_margin", "equivalence_p", "equivalence_ci_low", "equivalence_ci_high", "equivalent")


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
            Column("subscale", "Subscale", "left", raw=("subscale",), fmt=lambda r: SUBSCALE_LABELS[r["subscale"]]),
            Column("diff", "Mean difference (95% CI)", raw=_DIFFERENCE, fmt=_difference_cell),
            Column("p", "p", raw=("p",), fmt=field("p", lambda p: fmt_p(p, ctx))),
            Column("equivalence", "Equivalent to no change? (90% CI)", "left", raw=_EQUIVALENCE, fmt=_equivalence_cell),
            Column(
                "plateau",
                "Study's reading (p \u2265 0.05)",
                "left",
                raw=("plateaued", "mean_difference"),
                fmt=_plateau_cell,
            ),
        ],
        csv_columns=["subscale", "from", "to", *_DIFFERENCE, "t", "df", "p", "test", "plateaued", *_EQUIVALENCE],
        csv_only=("from", "to", "t", "df", "test"),  # the title names the two assessments
        stub="subscale",
    )
    for s, pl in rows:
        ci, eq = pl.get("ci") or [None, None], pl.get("equivalence") or {}
        eq_ci = eq.get("ci") or [None, None]
        t.add(
            {"subscale": s, "from": pl.get("from"), "to": pl.get("to"), "mean_difference": pl.get("mean_difference")}
            | {"ci_low": ci[0], "ci_high": ci[1], **{k: pl.get(k) for k in ("t", "df", "p", "test", "plateaued")}}
            | {"equivalence_margin": eq.get("margin"), "equivalence_p": eq.get("p")}
            | {"equivalence_ci_low": eq_ci[0], "equivalence_ci_high": eq_ci[1], "equivalent": eq.get("equivalent")}
        )
    t.notes.append(
        'Equivalence: two one-sided paired t tests (TOST) against the plan\'s margin; "equivalent" when both reject '
        'a change of at least the margin either way (the 90% CI lies inside \u00b1margin), otherwise "not shown". '
        "The study's reading (plateaued when the paired t test finds no significant further improvement) treats "
        "absence of evidence as evidence of absence; it is kept for comparison with the published figures."
    )
    return t


_DIFFERENCE = ("mean_difference", "ci_low", "ci_high")


def _difference_cell(r: Record) -> str:
    return f"{fmt_signed(r.get('mean_difference'))} ({fmt_ci(ci_of(r))})"


def _equivalence_cell(r: Record) -> str:
    """ "equivalent within +/-0.2 (-0.05 to 0.04)", "not shown (...)" or a dash."""
    if r.get("equivalent") is None:
        return NDASH
    ci = ci_of(r, "equivalence_ci_low", "equivalence_ci_high")
    margin = fmt_num(r.get("equivalence_margin"), 2)
    head = f"equivalent within \u00b1{margin}" if r["equivalent"] else f"not shown (margin \u00b1{margin})"
    return head if ci == [None, None] else f"{head} ({fmt_ci(ci)})"


def _plateau_cell(r: Record) -> str:
    """ "yes", "no, still improving", or why there is no test.

    With every patient's change exactly 0 the paired t test is undefined (SD 0), so the
    tree's ``plateaued`` is None; a zero mean change is still no further improvement.
    """
    plateaued, mean_difference = r.get("plateaued"), r.get("mean_difference")
    if plateaued is not None:
        return "yes" if plateaued else "no, still improving"
    if mean_difference == 0:
        return "yes (no change at all)"
    return "not tested" if mean_difference is None else "not tested (too few completers)"
