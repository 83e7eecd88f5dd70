"""The report's tables: one definition, two renderings. (mmrm: the primary longitudinal model and its tipping point)."""

from __future__ import annotations

from burnout.report.format import Ctx, fmt_ci, fmt_num, fmt_pct, fmt_signed, get
from burnout.report.labels import NDASH, SUBSCALE_LABELS, SUBSCALES
from burnout.report.tables.model import Column, Table

_MMRM_NOTE = (
    "MMRM: a mean per assessment and an unstructured covariance, REML, on every available assessment of everyone "
    "who met the threshold, assuming scores are missing at random. 95% t intervals with Kenward-Roger degrees of "
    "freedom (df, of the change) and small-sample adjusted standard errors."
)


def _mmrm(ctx: Ctx) -> Table | None:
    """Per subscale and assessment: n, the MMRM mean and change from baseline with KR df."""
    mm = get(ctx.results, "itt", "mmrm")
    if not mm:
        return None
    t = Table(
        key="itt_mmrm",
        title="Mean scores at each assessment: the MMRM (primary) of everyone who met the threshold",
        columns=[
            Column("tp", "Assessment", "left"),
            Column("n", "Assessed, n"),
            Column("mean", "Mean (95% CI)"),
            Column("change", "Change from baseline (95% CI)"),
            Column("df", "df"),
        ],
        csv_columns=["subscale", "timepoint", "n", "mean", "mean_ci_low", "mean_ci_high", "mean_se"]
        + ["change", "change_ci_low", "change_ci_high", "change_se", "change_df"],
        group="subscale",
        stub="tp",
    )
    for s in SUBSCALES:
        for tp in ctx.timepoints:
            e = get(mm, s, "timepoints", tp)
            if not e:
                continue
            mean, change = e.get("mean") or {}, e.get("change") or {}
            mci, cci = mean.get("ci") or [None, None], change.get("ci") or [None, None]
            has_change = change.get("estimate") is not None
            t.rows.append(
                {
                    "subscale": SUBSCALE_LABELS[s],
                    "tp": ctx.tp(tp),
                    "n": ctx.n_beside(e.get("n"), statistic=mean.get("estimate")),
                    "mean": f"{fmt_num(mean.get('estimate'))} ({fmt_ci(mean.get('ci'))})",
                    "change": f"{fmt_signed(change['estimate'])} ({fmt_ci(cci)})" if has_change else NDASH,
                    "df": fmt_num(change.get("df"), 0) if has_change else NDASH,
                }
            )
            t.csv_rows.append(
                {
                    "subscale": s,
                    "timepoint": tp,
                    "n": ctx.suppressed if e.get("n") is None else e["n"],
                    "mean": mean.get("estimate"),
                    "mean_ci_low": mci[0],
                    "mean_ci_high": mci[1],
                    "mean_se": mean.get("se"),
                    "change": change.get("estimate"),
                    "change_ci_low": cci[0],
                    "change_ci_high": cci[1],
                    "change_se": change.get("se"),
                    "change_df": change.get("df"),
                }
            )
    if not t.rows:
        return None
    t.notes.append(_MMRM_NOTE)
    return t


def _tipping(ctx: Ctx) -> Table | None:
    """Per subscale: MAR change to the last assessment, dropout share, tipping delta, change there."""
    tip = get(ctx.results, "itt", "mmrm_tipping")
    if not tip:
        return None
    t = Table(
        key="itt_mmrm_tipping",
        title="How far from missing at random the MMRM's change survives (delta-adjusted tipping point)",
        columns=[
            Column("label", "Subscale", "left"),
            Column("mar", "Change under MAR (95% CI)"),
            Column("share", "Dropped out"),
            Column("tip", "Tipping point \u03b4, points"),
        ],
        csv_columns=["subscale", "timepoint", "delta", "change", "ci_low", "ci_high", "includes_0", "dropout_share"],
        stub="label",
    )
    for s in SUBSCALES:
        e = tip.get(s)
        if not isinstance(e, dict):
            continue
        rows = e.get("rows") or []
        mar = rows[0] if rows and rows[0].get("delta") == 0 else None
        tipping = e.get("tipping_delta")
        t.rows.append(
            {
                "label": SUBSCALE_LABELS[s],
                "mar": f"{fmt_signed(mar['change'])} ({fmt_ci(mar['ci'])})" if mar else NDASH,
                "share": fmt_pct(e.get("dropout_share")),
                "tip": fmt_num(tipping) if tipping is not None else NDASH,
            }
        )
        for r in rows:
            ci = r.get("ci") or [None, None]
            t.csv_rows.append(
                {
                    "subscale": s,
                    "timepoint": e.get("timepoint"),
                    "delta": r.get("delta"),
                    "change": r.get("change"),
                    "ci_low": ci[0],
                    "ci_high": ci[1],
                    "includes_0": r.get("includes_0"),
                    "dropout_share": e.get("dropout_share"),
                }
            )
    if not t.rows:
        return None
    t.notes.append(
        "Change from baseline to the last assessment when the scores patients would have had after dropping out are "
        "\u03b4 points worse than the missing-at-random prediction (higher exhaustion and cynicism, lower professional "
        "efficacy). Tipping point: the smallest \u03b4 at which the 95% CI includes no change (0 if it already does); "
        "a dash when the change is not an improvement. Dropped out: share of the model's patients with no score at "
        "the last assessment or after. The change at every \u03b4 of the plan's grid is in the CSV."
    )
    return t
