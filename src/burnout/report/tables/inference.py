"""Tables of the honest-inference analyses (issue 16): early change by completion, regression to the mean."""

from __future__ import annotations

from typing import Any

from burnout.report.format import Ctx, fmt_ci, fmt_num, fmt_p, fmt_signed, get
from burnout.report.labels import NDASH, SUBSCALE_LABELS, SUBSCALES
from burnout.report.tables.model import Column, Table

__all__ = ["_early_change", "_plateau", "_regression_to_mean"]


def _regression_to_mean(ctx: Ctx) -> Table | None:
    rtm = ctx.results.get("regression_to_mean")
    if not rtm:
        return None
    t = Table(
        key="regression_to_mean",
        title="Change expected from regression to the mean alone",
        columns=[
            Column("subscale", "Subscale", "left"),
            Column("reference", "Everyone scored, mean (SD)"),
            Column("selected", "Met the threshold, mean"),
            Column("rho", "Test-retest \u03c1"),
            Column("expected", "Expected change with no true change"),
            Column("range", "over \u03c1 range"),
            Column("observed", "Observed change (completers)"),
            Column("share", "Share explained"),
            Column("response", "Response expected with no true change"),
        ],
        csv_columns=[
            "subscale",
            "reference_mean",
            "reference_sd",
            "selected_mean",
            "rho",
            "expected_change",
            "expected_change_rho_low",
            "expected_change_rho_high",
            "observed_change",
            "share_of_observed_change",
            "expected_response_rate",
        ],
        stub="subscale",
    )
    for s in SUBSCALES:
        e = rtm.get(s)
        if not e:
            continue
        low, high = get(e, "rho_range", "low", "expected_change"), get(e, "rho_range", "high", "expected_change")
        share = e.get("share_of_observed_change")
        t.rows.append(
            {
                "subscale": SUBSCALE_LABELS[s],
                "reference": f"{fmt_num(e.get('reference_mean'))} ({fmt_num(e.get('reference_sd'))})",
                "selected": fmt_num(e.get("selected_mean")),
                "rho": fmt_num(e.get("rho")),
                "expected": fmt_signed(e.get("expected_change")),
                "range": NDASH if low is None else f"{fmt_signed(low)} to {fmt_signed(high)}",
                "observed": fmt_signed(e.get("observed_change")),
                "share": NDASH if share is None else f"{fmt_num(100 * share, 1)}%",
                "response": NDASH
                if e.get("expected_response_rate") is None
                else f"{fmt_num(100 * e['expected_response_rate'], 1)}%",
            }
        )
        t.csv_rows.append(
            {
                "subscale": s,
                **{k: e.get(k) for k in ("reference_mean", "reference_sd", "selected_mean", "rho", "expected_change")},
                "expected_change_rho_low": low,
                "expected_change_rho_high": high,
                **{k: e.get(k) for k in ("observed_change", "share_of_observed_change", "expected_response_rate")},
            }
        )
    rho = get(ctx.results, "protocol", "regression_to_mean")
    span = f" (\u03c1 from {rho['rho_low']} to {rho['rho_high']})" if rho else ""
    t.notes.append(
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
        for key, label in (
            ("expected_below_threshold", "below the threshold at the end"),
            ("expected_leaving_burnout", "left the Burnout profile (of those in it at baseline)"),
        )
        if rtm.get(key) is not None
    ]
    if joint:
        t.notes.append(
            "Completers expected with no true change, from the three subscales jointly (trivariate normal, "
            "classical test theory with the same \u03c1): " + "; ".join(joint) + "."
        )
    return t


def _early_change(ctx: Ctx) -> Table | None:
    early = get(ctx.results, "attrition", "early_change")
    if not early:
        return None
    t = Table(
        key="early_change",
        title=f"Early change, {ctx.tp(early['from']).lower()} to {ctx.tp(early['to']).lower()}, by completion",
        columns=[
            Column("subscale", "Subscale", "left"),
            Column("comp", "Completers, mean (SD)"),
            Column("comp_n", "n"),
            Column("non", "Non-completers, mean (SD)"),
            Column("non_n", "n"),
            Column("smd", "SMD"),
        ],
        csv_columns=["subscale", "group", "n", "mean", "sd", "smd"],
        stub="subscale",
    )
    for s in SUBSCALES:
        e = early.get(s)
        if not e:
            continue
        row = {"subscale": SUBSCALE_LABELS[s], "smd": fmt_signed(e.get("smd"))}
        for g, key in (("completers", "comp"), ("non_completers", "non")):
            grp = e.get(g) or {}
            row[key] = NDASH if grp.get("mean") is None else f"{fmt_signed(grp['mean'])} ({fmt_num(grp.get('sd'))})"
            row[f"{key}_n"] = ctx.n_beside(grp.get("n"), statistic=grp.get("mean"))
            t.csv_rows.append(
                {"subscale": s, "group": g, **{k: grp.get(k) for k in ("n", "mean", "sd")}, "smd": e.get("smd")}
            )
        t.rows.append(row)
    t.notes.append(
        "Change from baseline to the first follow-up among those scored at both, by whether they went on to complete. "
        "A difference here means dropout depended on early response, so completers' results are not those of "
        "everyone treated (missing not at random is plausible). SMD: completers minus non-completers over the pooled SD."
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
            Column("equivalence", "Equivalent to no change? (90% CI)", "left"),
            Column("plateau", "Study's reading (p \u2265 0.05)", "left"),
        ],
        csv_columns=[
            "subscale",
            "from",
            "to",
            "mean_difference",
            "ci_low",
            "ci_high",
            "t",
            "df",
            "p",
            "test",
            "plateaued",
            "equivalence_margin",
            "equivalence_p",
            "equivalence_ci_low",
            "equivalence_ci_high",
            "equivalent",
        ],
        stub="subscale",
    )
    for s, pl in rows:
        ci = pl.get("ci") or [None, None]
        plat = pl.get("plateaued")
        t.rows.append(
            {
                "subscale": SUBSCALE_LABELS[s],
                "diff": f"{fmt_signed(pl.get('mean_difference'))} ({fmt_ci(pl.get('ci'))})",
                "p": fmt_p(pl.get("p"), ctx),
                "plateau": _plateau_cell(plat, pl.get("mean_difference")),
                "equivalence": _equivalence_cell(pl.get("equivalence")),
            }
        )
        eq = pl.get("equivalence") or {}
        eq_ci = eq.get("ci") or [None, None]
        t.csv_rows.append(
            {
                "subscale": s,
                "from": pl.get("from"),
                "to": pl.get("to"),
                "mean_difference": pl.get("mean_difference"),
                "ci_low": ci[0],
                "ci_high": ci[1],
                "t": pl.get("t"),
                "df": pl.get("df"),
                "p": pl.get("p"),
                "test": pl.get("test"),
                "plateaued": plat,
                "equivalence_margin": eq.get("margin"),
                "equivalence_p": eq.get("p"),
                "equivalence_ci_low": eq_ci[0],
                "equivalence_ci_high": eq_ci[1],
                "equivalent": eq.get("equivalent"),
            }
        )
    t.notes.append(
        'Equivalence: two one-sided paired t tests (TOST) against the plan\'s margin; "equivalent" when both reject '
        'a change of at least the margin either way (the 90% CI lies inside \u00b1margin), otherwise "not shown". '
        "The study's reading (plateaued when the paired t test finds no significant further improvement) treats "
        "absence of evidence as evidence of absence; it is kept for comparison with the published figures."
    )
    return t


def _equivalence_cell(eq: Any) -> str:
    """ "equivalent within +/-0.2 (-0.05 to 0.04)", "not shown (...)" or a dash."""
    if not eq or eq.get("equivalent") is None:
        return NDASH
    ci = eq.get("ci")
    margin = fmt_num(eq.get("margin"), 2)
    head = f"equivalent within \u00b1{margin}" if eq["equivalent"] else f"not shown (margin \u00b1{margin})"
    return f"{head} ({fmt_ci(ci)})" if ci else head


def _plateau_cell(plateaued: bool | None, mean_difference: Any) -> str:
    """ "yes", "no, still improving", or why there is no test.

    With every patient's change exactly 0 the paired t test is undefined (SD 0), so the
    tree's ``plateaued`` is None; a zero mean change is still no further improvement.
    """
    if plateaued is not None:
        return "yes" if plateaued else "no, still improving"
    if mean_difference == 0:
        return "yes (no change at all)"
    return "not tested" if mean_difference is None else "not tested (too few completers)"
