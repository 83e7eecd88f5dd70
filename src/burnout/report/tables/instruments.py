"""The report's table of the plan's instruments (``instruments`` in results.json). (instruments)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from burnout.report.format import Ctx, fmt_ci, fmt_num, fmt_signed, get
from burnout.report.labels import NDASH
from burnout.report.tables.model import Column, Table, _prop_cells, _prop_raw

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
            Column("label", "Measure", "left"),
            Column("n", "n"),
            Column("value", "Value"),
            Column("ci", "95% CI"),
        ],
        csv_columns=[
            "instrument",
            "scale",
            "measure",
            "timepoint",
            "n",
            "mean",
            "sd",
            "change",
            "count",
            "rate",
            "ci_low",
            "ci_high",
        ],
        group="group",
        stub="label",
    )
    for name, analysis in section["analyses"].items():
        for scale, body in (analysis.get("scales") or {}).items():
            group = f"{name} {scale} ({analysis.get('role')}; better when {body.get('good')})"
            _timepoint_rows(t, ctx, name, scale, group, body)
            _response_row(t, ctx, name, scale, group, body)
    if not t.rows:
        return None
    t.notes.extend(section.get("notes") or [])
    t.notes.append(
        "Scores in each scale's own points; change from baseline with its 95% CI; response: n is "
        "responders/completers scored first and last, 95% Wilson intervals."
    )
    return t


def _timepoint_rows(t: Table, ctx: Ctx, name: str, scale: str, group: str, body: Mapping[str, Any]) -> None:
    for tp in ctx.timepoints:
        e = get(body, "timepoints", tp)
        if not e:
            continue
        change = e.get("change")
        t.rows.append(
            {
                "group": group,
                "label": ctx.tp(tp),
                "n": ctx.n_beside(e.get("n"), statistic=e.get("mean")),
                "value": f"{fmt_num(e.get('mean'))} ({fmt_num(e.get('sd'))})"
                + ("" if change is None else f"; change {fmt_signed(change)}"),
                "ci": NDASH if change is None else fmt_ci(e.get("change_ci")),
            }
        )
        t.csv_rows.append(
            {
                "instrument": name,
                "scale": scale,
                "measure": "mean",
                "timepoint": tp,
                "n": e.get("n"),
                "mean": e.get("mean"),
                "sd": e.get("sd"),
                "change": change,
            }
        )


def _response_row(t: Table, ctx: Ctx, name: str, scale: str, group: str, body: Mapping[str, Any]) -> None:
    p = body.get("response")
    if not p:
        return
    cells = _prop_cells(p, ctx)
    t.rows.append(
        {
            "group": group,
            "label": f"Response (improved by \u2265 {fmt_num(body.get('min_change'))})",
            "n": cells["nN"],
            "value": cells["pct"],
            "ci": cells["ci"],
        }
    )
    raw = _prop_raw(p, ctx)
    t.csv_rows.append(
        {"instrument": name, "scale": scale, "measure": "response", "timepoint": f"{ctx.first}-{ctx.last}"}
        | {k: raw[k] for k in ("n", "count", "rate", "ci_low", "ci_high")}
    )
