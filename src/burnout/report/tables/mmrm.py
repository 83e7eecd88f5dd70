"""The report's tables: one definition, two renderings. (mmrm: the primary longitudinal model and its tipping point)."""

from __future__ import annotations

from burnout.report.format import Ctx, fmt_ci, fmt_num, fmt_pct, fmt_signed, get
from burnout.report.labels import NDASH, SUBSCALE_LABELS, SUBSCALES
from burnout.report.tables.cells import ci_of, field, mean_ci, n_beside, n_or_mark, signed_ci
from burnout.report.tables.model import Column, Record, Table

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
            Column("tp", "Assessment", "left", raw=("timepoint",), fmt=lambda r: ctx.tp(r["timepoint"])),
            Column("n", "Assessed, n", raw=("n", "mean"), fmt=n_beside(ctx)),
            Column("mean", "Mean (95% CI)", raw=_MEAN, fmt=mean_ci(*_MEAN)),
            Column("change", "Change from baseline (95% CI)", raw=_CHANGE, fmt=signed_ci(*_CHANGE)),
            Column("df", "df", raw=("change", "change_df"), fmt=_change_df),
        ],
        csv_columns=["subscale", "timepoint", "n", *_MEAN, "mean_se", *_CHANGE, "change_se", "change_df"],
        group="subscale",
        group_fmt=lambda r: SUBSCALE_LABELS[r["subscale"]],
        group_raw=("subscale",),
        csv_only=("mean_se", "change_se"),
        stub="tp",
    )
    for s in SUBSCALES:
        for tp in ctx.timepoints:
            if e := get(mm, s, "timepoints", tp):
                mean, change = e.get("mean") or {}, e.get("change") or {}
                mci, cci = mean.get("ci") or [None, None], change.get("ci") or [None, None]
                t.add(
                    {"subscale": s, "timepoint": tp, "n": n_or_mark(ctx, e.get("n"), statistic=mean.get("estimate"))}
                    | {
                        "mean": mean.get("estimate"),
                        "mean_ci_low": mci[0],
                        "mean_ci_high": mci[1],
                        "mean_se": mean.get("se"),
                    }
                    | {"change": change.get("estimate"), "change_ci_low": cci[0], "change_ci_high": cci[1]}
                    | {"change_se": change.get("se"), "change_df": change.get("df")}
                )
    if not t.entries:
        return None
    t.notes.append(_MMRM_NOTE)
    return t


_MEAN = ("mean", "mean_ci_low", "mean_ci_high")
_CHANGE = ("change", "change_ci_low", "change_ci_high")


def _change_df(r: Record) -> str:
    return fmt_num(r.get("change_df"), 0) if r.get("change") is not None else NDASH


def _tipping(ctx: Ctx) -> Table | None:
    """Per subscale: MAR change to the last assessment, dropout share, tipping delta, change there."""
    tip = get(ctx.results, "itt", "mmrm_tipping")
    if not tip:
        return None
    t = Table(
        key="itt_mmrm_tipping",
        title="How far from missing at random the MMRM's change survives (delta-adjusted tipping point)",
        columns=[
            Column("label", "Subscale", "left", raw=("subscale",), fmt=lambda r: SUBSCALE_LABELS[r["subscale"]]),
            Column(
                "mar", "Change under MAR (95% CI)", raw=("change", "ci_low", "ci_high"), where={"mar": True}, fmt=_mar
            ),
            Column("share", "Dropped out", raw=("dropout_share",), fmt=field("dropout_share", fmt_pct)),
            Column(
                "tip",
                "Tipping point \u03b4, points",
                fmt=lambda r: NDASH if r["tipping"] is None else fmt_num(r["tipping"]),
            ),
        ],
        csv_columns=["subscale", "timepoint", "delta", "change", "ci_low", "ci_high", "includes_0", "dropout_share"],
        csv_only=("timepoint", "delta", "includes_0"),  # the display shows the row at delta 0 (MAR)
        by=("subscale",),
        stub="label",
    )
    for s in SUBSCALES:
        e = tip.get(s)
        if not isinstance(e, dict):
            continue
        shown = {"subscale": s, "dropout_share": e.get("dropout_share"), "tipping": e.get("tipping_delta")}
        rows = e.get("rows") or []
        if not rows:  # the subscale's row still says what is known
            t.add(shown, csv=False)
        for i, r in enumerate(rows):
            ci = r.get("ci") or [None, None]
            t.add(
                shown
                | {"timepoint": e.get("timepoint"), "delta": r.get("delta"), "change": r.get("change")}
                | {"ci_low": ci[0], "ci_high": ci[1], "includes_0": r.get("includes_0")}
                | {"mar": i == 0 and r.get("delta") == 0}  # display only: the first row of the grid, at delta 0
            )
    if not t.entries:
        return None
    t.notes.append(
        "Change from baseline to the last assessment when the scores patients would have had after dropping out are "
        "\u03b4 points worse than the missing-at-random prediction (higher exhaustion and cynicism, lower professional "
        "efficacy). Tipping point: the smallest \u03b4 at which the 95% CI includes no change (0 if it already does); "
        "a dash when the change is not an improvement. Dropped out: share of the model's patients with no score at "
        "the last assessment or after. The change at every \u03b4 of the plan's grid is in the CSV."
    )
    return t


def _mar(r: Record) -> str:
    return f"{fmt_signed(r.get('change'))} ({fmt_ci(ci_of(r))})"
