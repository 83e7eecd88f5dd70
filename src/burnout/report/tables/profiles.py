"""The report's tables of the burnout profiles: at each assessment, transitions, and the Burnout profile's resolution."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from burnout.report.format import Ctx, get, severe_profile
from burnout.report.labels import PROFILE_LABELS, PROFILES
from burnout.report.tables.cells import count_pct, prop_columns
from burnout.report.tables.model import PROP_CSV, Column, Table, _prop_raw

__all__ = ["_profiles", "_severe", "_transitions"]


def _profiles(ctx: Ctx) -> Table | None:
    """One record per assessment and profile (the CSV); the display has a column per assessment."""
    prof = ctx.results.get("profiles") or {}
    tps = [tp for tp in ctx.timepoints if isinstance(prof.get(tp), Mapping)]
    if not tps:
        return None
    t = Table(
        key="profiles",
        title="Burnout profiles at each assessment",
        columns=[
            Column("profile", "Profile", "left", raw=("profile",), fmt=lambda r: PROFILE_LABELS[r["profile"]]),
            *[
                Column(f"t{tp}", ctx.tp(tp), raw=("count", "rate"), where={"timepoint": tp}, fmt=count_pct())
                for tp in tps
            ],
        ],
        csv_columns=["timepoint", "profile", *PROP_CSV],
        by=("profile",),
        csv_only=("n", "ci_low", "ci_high"),  # the display is n (%); the note points to the CSV for the CIs
        stub="profile",
    )
    for tp in tps:
        for p in PROFILES:
            t.add({"timepoint": tp, "profile": p} | _prop_raw(prof[tp].get(p), ctx))
    t.notes.append("n (%) of completers. 95% Wilson intervals are in the CSV file.")
    return t


def _transitions(ctx: Ctx) -> Table | None:
    tr = get(ctx.results, "profiles", "transitions")
    if not tr or not tr.get("counts"):
        return None
    counts = tr["counts"]
    t = Table(
        key="profile_transitions",
        title=f"Profile transitions, {ctx.tp(str(tr.get('from'))).lower()} to {ctx.tp(str(tr.get('to'))).lower()}",
        columns=[Column("from", "From \\ to", "left"), *[Column(p, PROFILE_LABELS[p]) for p in PROFILES]],
        csv_columns=["from_profile", *[f"to_{p}" for p in PROFILES]],
        stub="from",
        html=False,  # shown as the heat map figure
    )
    for fp in PROFILES:
        if fp in counts:
            to = {f"to_{p}": _cell(ctx, tr, fp, p) for p in PROFILES}
            t.add({"from_profile": fp} | to, shown=False)
    return t


def _cell(ctx: Ctx, tr: Mapping[str, Any], row: str, col: str) -> int | str | None:
    """A transition count, or the truthful mark of why it is hidden (``transitions.hidden``)."""
    v = tr["counts"][row].get(col)
    return v if v is not None else ctx.mark((tr.get("hidden") or {}).get(f"{row}.{col}"))


def _severe(ctx: Ctx) -> Table | None:
    prof = ctx.results.get("profiles") or {}
    if "burnout_at_baseline" not in prof:
        return None
    last = ctx.tp(ctx.last).lower()
    labels = {
        "burnout_at_baseline": "In the Burnout profile at baseline",
        "burnout_resolved": f"No longer in the Burnout profile {last}",
        "burnout_to_engaged": f"Engaged {last}",
    }
    t = Table(
        key="burnout_profile_resolution",
        title="Completers in the Burnout profile at baseline",
        columns=[
            Column("label", "Outcome", "left", raw=("outcome",), fmt=lambda r: labels[r["outcome"]]),
            *prop_columns("n/N"),
        ],
        csv_columns=["outcome", *PROP_CSV],
        stub="label",
    )
    base, sev = severe_profile(ctx)
    at_first = get(ctx.results, "profiles", ctx.first, "burnout")  # its own reason for being hidden
    t.add({"outcome": "burnout_at_baseline", "count": base if base is not None else ctx.hidden_mark(at_first)})
    for key in ("burnout_resolved", "burnout_to_engaged"):
        if key in sev:
            t.add({"outcome": key} | _prop_raw(sev[key], ctx))
    t.notes.append(
        "Denominator: completers in the Burnout profile (Exhaustion and Cynicism critical) at baseline. 95% Wilson intervals."
    )
    return t
