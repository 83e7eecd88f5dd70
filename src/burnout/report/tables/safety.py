"""The report's table of side effects and serious adverse events."""

from __future__ import annotations

from typing import Any

from burnout.report.format import Ctx, fmt_num, sae_rate_cells
from burnout.report.labels import NDASH
from burnout.report.tables.cells import ci_of, prop_ci, prop_n_of, prop_pct
from burnout.report.tables.model import PROP_CSV, Column, Record, Table, _prop_raw

__all__ = ["_safety"]

_POPULATIONS = {
    "safety": "Safety population (everyone with a session)",
    "completers": "Completers (as the study published)",
}


def _safety(ctx: Ctx) -> Table | None:
    se = ctx.results.get("side_effects")
    safety = ctx.results.get("safety")
    if not se and not safety:
        return None
    t = Table(
        key="side_effects",
        title="Side effects and serious adverse events",
        columns=[
            Column("label", "Event", "left", raw=("event", "session"), fmt=_event_label),
            Column("nN", "n/N", raw=("count", "n"), fmt=prop_n_of),
            Column("pct", "%", raw=_PER_SESSION, fmt=lambda r: _per_session(r)[0]),
            Column("ci", "95% CI", raw=_PER_SESSION, fmt=lambda r: _per_session(r)[1]),
        ],
        csv_columns=["population", "event", "session", *PROP_CSV],
        group="group",
        group_fmt=lambda r: _POPULATIONS[r["population"]],
        group_raw=("population",),
        stub="label",
    )
    if safety:
        _safety_population_rows(t, safety, ctx)
    for k, p in (se or {}).items():
        if k != "serious_adverse_events":
            t.add({"population": "completers", "event": "side_effects", "session": k} | _prop_raw(p, ctx))
    t.notes.append(
        "Safety population: every patient with at least one session delivered, so an event that ended treatment "
        "is counted (among completers it could not be). The per-patient rate is primary: sessions cluster within "
        "patients. Exact (Clopper-Pearson) intervals; with 0 events the rule of three (3/n) gives the approximate "
        "upper 95% bound. Side effects: those reporting any at that session among those asked. The completers' "
        "rates (95% Wilson intervals) are the ones the reference study published, kept for comparison."
    )
    return t


def _safety_population_rows(t: Table, safety: dict[str, Any], ctx: Ctx) -> None:
    sae = safety.get("serious_adverse_events") or {}
    rows = [("serious_adverse_events", "patients", sae.get("patients"))]
    rows += [("side_effects", k, p) for k, p in safety["side_effects"].items()]
    if sae.get("sessions"):
        rows.append(("serious_adverse_events", "all", sae["sessions"]))
    for event, session, p in rows:
        three = (p or {}).get("rule_of_three") if session != "all" else None  # display only: not in the CSV
        t.add({"population": "safety", "event": event, "session": session, "rule_of_three": three} | _prop_raw(p, ctx))


def _event_label(r: Record) -> str:
    if r["event"] == "side_effects":
        return f"Side effects reported, session {r['session']}"
    return "Serious adverse events, " + ("per 1,000 sessions delivered" if r["session"] == "all" else "patients")


_PER_SESSION = ("event", "session", "rate", "ci_low", "ci_high")


def _per_session(r: Record) -> tuple[str, str]:
    """The % and CI cells; serious adverse events per session in the unit of the key findings: per 1,000."""
    pct, ci = prop_pct(r), prop_ci(r)
    if r["event"] == "serious_adverse_events" and r["session"] == "all" and pct != NDASH:
        rate, ci_ = sae_rate_cells({"rate": r.get("rate"), "ci": ci_of(r)})
        return f"{rate} per 1,000", f"{ci_} per 1,000"
    if r.get("rule_of_three") is not None:
        ci += f" (rule of three: \u2264{fmt_num(100 * r['rule_of_three'], 2)})"
    return pct, ci
