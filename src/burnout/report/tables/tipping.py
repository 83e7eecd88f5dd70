"""The report's tables: one definition, two renderings. (tipping: the MNAR sensitivity of the MI response)."""

from __future__ import annotations

from burnout.report.format import Ctx, fmt_pct, fmt_pct_ci, fmt_plain, get
from burnout.report.labels import NDASH, OUTCOME_LABELS, SUBSCALES
from burnout.report.tables.cells import ci_of, field
from burnout.report.tables.model import Column, Record, Table

_OUTCOMES = (*SUBSCALES, "at_least_1")


def _tipping(ctx: Ctx) -> Table | None:
    """Delta | pooled response rate (CI) per outcome, with each outcome's tipping point beneath."""
    tip = get(ctx.results, "itt", "multiple_imputation", "tipping")
    if not tip or not tip.get("deltas"):
        return None
    truth = get(ctx.results, "synthetic_truth")
    t = Table(
        key="itt_tipping_point",
        title="Sensitivity of the multiple-imputation response to missing not at random (delta adjustment)",
        columns=[
            Column(
                "delta",
                "Imputed scores moved (points, bad direction)",
                "left",
                raw=("delta",),
                fmt=field("delta", fmt_plain),
            ),
            *[
                Column(
                    o,
                    OUTCOME_LABELS[o],
                    "center",
                    raw=("rate", "ci_low", "ci_high"),
                    fmt=_rate_ci,
                    where={"outcome": o},
                    missing=ctx.suppressed if get(tip, o, "suppressed") else NDASH,
                )
                for o in _OUTCOMES
            ],
        ],
        csv_columns=["delta", "outcome", "rate", "ci_low", "ci_high"],
        by=("delta",),
        stub="delta",
    )
    for i, d in enumerate(tip["deltas"]):
        published = [o for o in _OUTCOMES if get(tip, o, "rate")]
        for o in published:
            rates, cis = get(tip, o, "rate"), get(tip, o, "ci")
            t.add({"delta": d, "outcome": o, "rate": rates[i], "ci_low": cis[i][0], "ci_high": cis[i][1]})
        if not published:  # the row of dashes and marks still shows the delta
            t.add({"delta": d}, csv=False)
    points = [
        f"{OUTCOME_LABELS[o]} {NDASH if get(tip, o, 'tipping_point') is None else fmt_plain(get(tip, o, 'tipping_point'))}"
        for o in _OUTCOMES
    ]
    t.notes.append(str(tip.get("method", "")))
    t.notes.append("Tipping point (points): " + "; ".join(points) + ".")
    if truth:
        reach = [
            f"{OUTCOME_LABELS[o]} {NDASH if get(truth, 'tipping_delta', o) is None else fmt_plain(get(truth, 'tipping_delta', o))}"
            for o in _OUTCOMES
        ]
        t.notes.append(
            "SYNTHETIC demo: smallest delta at which the rate reaches the simulator's truth: " + "; ".join(reach) + "."
        )
    return t


def _rate_ci(r: Record) -> str:
    """ "55.4% (50.5\u201360.2)"."""
    return f"{fmt_pct(r.get('rate'))} ({fmt_pct_ci(ci_of(r))})"
