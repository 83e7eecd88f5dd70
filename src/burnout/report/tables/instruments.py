"""The report's table of the plan's instruments (``instruments`` in results.json). (instruments)."""

from __future__ import annotations

from collections.abc import Callable

from burnout.report.format import Ctx, fmt_ci, fmt_num, fmt_signed, get
from burnout.report.labels import NDASH
from burnout.report.tables.cells import n_beside, prop_ci, prop_n_of, prop_pct
from burnout.report.tables.model import Column, Record, Table, _prop_raw

__all__ = ["_instruments"]


def _instruments(ctx: Ctx) -> Table | None:
    """Per instrument and scale: mean (SD) at each assessment, the change and response."""
    section = ctx.results.get("instruments")
    if not section or not section.get("analyses"):
        return None
    t = Table(
        key="instruments",
        title=f"Instruments of the plan among completers (primary: {section.get('primary')})",
        columns=[
            Column("label", "Measure", "left", raw=("measure", "timepoint"), fmt=lambda r: _measure_label(ctx, r)),
            Column("n", "n", raw=("measure", "n", "mean", "count"), fmt=_by_measure(n_beside(ctx), prop_n_of)),
            Column(
                "value",
                "Value",
                raw=("measure", "mean", "sd", "change", "rate"),
                fmt=_by_measure(_mean_change, prop_pct),
            ),
            Column(
                "ci", "95% CI", raw=("measure", "change", "ci_low", "ci_high"), fmt=_by_measure(_change_ci, prop_ci)
            ),
        ],
        csv_columns=["instrument", "scale", "measure", "timepoint", "n", "mean", "sd", "change", "count", "rate"]
        + ["ci_low", "ci_high"],
        group="group",
        stub="label",
    )
    for name, analysis in section["analyses"].items():
        for scale, body in (analysis.get("scales") or {}).items():
            shown = {"group": f"{name} {scale} ({analysis.get('role')}; better when {body.get('good')})"}
            for tp in ctx.timepoints:
                if e := get(body, "timepoints", tp):
                    t.add(
                        {"instrument": name, "scale": scale, "measure": "mean", "timepoint": tp}
                        | {k: e.get(k) for k in ("n", "mean", "sd", "change")}
                        | {"change_ci": e.get("change_ci")}  # display only: the CSV has the change, not its CI
                        | shown
                    )
            if p := body.get("response"):
                raw = _prop_raw(p, ctx)
                t.add(
                    {"instrument": name, "scale": scale, "measure": "response", "timepoint": f"{ctx.first}-{ctx.last}"}
                    | {k: raw[k] for k in ("n", "count", "rate", "ci_low", "ci_high")}
                    | shown
                    | {"min_change": body.get("min_change")}  # display only, in the label
                )
    if not t.entries:
        return None
    t.notes.extend(section.get("notes") or [])
    t.notes.append(
        "Scores in each scale's own points; change from baseline with its 95% CI; response: n is "
        "responders/completers scored first and last, 95% Wilson intervals."
    )
    return t


def _by_measure(mean: Callable[[Record], str], response: Callable[[Record], str]) -> Callable[[Record], str]:
    """A column that formats mean rows one way and response rows (Proportions) the other."""
    return lambda r: mean(r) if r["measure"] == "mean" else response(r)


def _measure_label(ctx: Ctx, r: Record) -> str:
    if r["measure"] == "mean":
        return ctx.tp(r["timepoint"])
    return f"Response (improved by \u2265 {fmt_num(r.get('min_change'))})"


def _mean_change(r: Record) -> str:
    change = r.get("change")
    return f"{fmt_num(r.get('mean'))} ({fmt_num(r.get('sd'))})" + (
        "" if change is None else f"; change {fmt_signed(change)}"
    )


def _change_ci(r: Record) -> str:
    return NDASH if r.get("change") is None else fmt_ci(r.get("change_ci"))
