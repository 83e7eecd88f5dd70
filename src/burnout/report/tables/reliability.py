"""The report's tables of measurement reliability: reliable change and internal consistency."""

from __future__ import annotations

from burnout.report.format import Ctx, fmt_num, get
from burnout.report.labels import NDASH, SUBSCALE_LABELS, SUBSCALES
from burnout.report.tables.cells import field, prop_ci, prop_n_of, prop_pct
from burnout.report.tables.model import PROP_CSV, Column, Record, Table, _prop_raw

__all__ = ["_reliability", "_reliable"]


def _reliable(ctx: Ctx) -> Table | None:
    """One record per subscale and direction (the CSV); the display has the directions side by side."""
    rc = ctx.results.get("reliable_change")
    if not rc:
        return None
    columns = [Column("subscale", "Subscale", "left", raw=("subscale",), fmt=lambda r: SUBSCALE_LABELS[r["subscale"]])]
    for direction, d, spanner in (
        ("improved", "imp", "Reliably improved"),
        ("deteriorated", "det", "Reliably deteriorated"),
    ):
        where = {"direction": direction}
        columns.append(Column(f"{d}_nN", "n/N", spanner=spanner, raw=("count", "n"), fmt=prop_n_of, where=where))
        columns.append(
            Column(f"{d}_pct", "% (95% CI)", spanner=spanner, raw=tuple(PROP_CSV[2:]), fmt=_pct_ci, where=where)
        )
    t = Table(
        key="reliable_change",
        title="Reliable change (Jacobson\u2013Truax)",
        columns=columns,
        csv_columns=["subscale", "direction", *PROP_CSV],
        by=("subscale",),
        stub="subscale",
    )
    for s in SUBSCALES:
        if body := rc.get(s):
            for direction in ("improved", "deteriorated"):
                t.add({"subscale": s, "direction": direction} | _prop_raw(body.get(direction), ctx))
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


def _pct_ci(r: Record) -> str:
    pct = prop_pct(r)
    return NDASH if pct == NDASH else f"{pct} ({prop_ci(r)})"


def _reliability(ctx: Ctx) -> Table | None:
    """One record per subscale and assessment (the CSV); the display has a column per assessment."""
    rel = ctx.results.get("reliability")
    if not rel:
        return None
    tps = [tp for tp in ctx.timepoints if any(get(rel, s, tp) for s in SUBSCALES)]
    t = Table(
        key="reliability",
        title="Internal consistency (Cronbach's \u03b1) of the subscales among completers",
        columns=[
            Column("subscale", "Subscale", "left", raw=("subscale",), fmt=lambda r: SUBSCALE_LABELS[r["subscale"]]),
            *[Column(f"t{tp}", ctx.tp(tp), raw=("alpha",), fmt=field("alpha"), where={"timepoint": tp}) for tp in tps],
        ],
        csv_columns=["subscale", "timepoint", "alpha"],
        by=("subscale",),
        stub="subscale",
    )
    for s in SUBSCALES:
        if s in rel:
            for tp in tps:
                t.add({"subscale": s, "timepoint": tp, "alpha": get(rel, s, tp, "alpha")})
            if not tps:  # a row with no assessment still names the subscale
                t.add({"subscale": s}, csv=False)
    return t
