"""Terminal rendering of a results tree (Rich tables). Display-only rounding lives here."""

from __future__ import annotations

from typing import Any

from rich.table import Table

from burnout.instrument import SUBSCALES
from burnout.report.labels import SUBSCALE_LABELS

__all__ = ["fmt_count", "fmt_proportion", "summary_table"]


def fmt_count(value: int | None) -> str:
    """A count with thousands separators, or a mark for a suppressed cell."""
    return "<supp.>" if value is None else f"{value:,}"


def fmt_proportion(p: dict[str, Any]) -> str:
    """'55.4% (219/395) [50.5, 60.2]' or a suppression mark."""
    if p.get("suppressed") or p.get("count") is None:
        return f"suppressed (n={fmt_count(p.get('n'))})"
    if p["rate"] is None:
        return f"- (n={p['n']:,})"
    lo, hi = p["ci"]
    return f"{100 * p['rate']:.1f}% ({p['count']:,}/{p['n']:,}) [{100 * lo:.1f}, {100 * hi:.1f}]"


def summary_table(results: dict[str, Any]) -> Table:
    """Flow, response and threshold figures in one table."""
    synthetic = results.get("meta", {}).get("synthetic")
    title = "burnout analysis" + (" - SYNTHETIC DATA" if synthetic else "")
    table = Table(title=title)
    table.add_column("measure")
    table.add_column("value", justify="right")
    flow = results["flow"]
    table.add_row("patients", fmt_count(flow["patients"]))
    table.add_row("met the threshold at baseline", fmt_count(flow["threshold_met"]))
    table.add_row("completers", fmt_proportion(flow["completion"]))
    if "subscales" in results:
        _mbi_rows(table, results)
    else:  # another primary instrument: its scales' response, primary first (results.primary)
        _instrument_rows(table, results)
    safety = (results.get("safety") or {}).get("serious_adverse_events")
    sae = safety["sessions"] if safety else results.get("side_effects", {}).get("serious_adverse_events")
    if sae:
        from burnout.report.format import Ctx, fmt_sae

        if safety:  # the safety population: everyone with a session, per patient first
            table.add_row("serious adverse events, patients", fmt_proportion(safety["patients"]))
        table.add_row("serious adverse events", fmt_sae(sae, Ctx(results)))
    return table


def _mbi_rows(table: Table, results: dict[str, Any]) -> None:
    """Response per MBI-GS subscale, the responder chain and the last assessment below the threshold."""
    for s in SUBSCALES:
        table.add_row(f"responded: {SUBSCALE_LABELS[s]}", fmt_proportion(results["subscales"][s]["response"]))
    for key, label in (
        ("at_least_1", "at least 1 subscale"),
        ("at_least_2", "at least 2 subscales"),
        ("all_3", "all 3 subscales"),
    ):
        table.add_row(f"responded on {label}", fmt_proportion(results["responders"][key]))
    last = list(results["below_threshold"])[-1]
    table.add_row(f"below threshold after session {last}", fmt_proportion(results["below_threshold"][last]))


def _instrument_rows(table: Table, results: dict[str, Any]) -> None:
    """Response per scale of each analysed instrument, in its good direction (``instruments.analyses``)."""
    analyses = (results.get("instruments") or {}).get("analyses") or {}
    ordered = sorted(analyses.items(), key=lambda kv: kv[1].get("role") != "primary")
    for name, analysis in ordered:
        for scale, body in (analysis.get("scales") or {}).items():
            if body.get("response"):
                label = f"responded: {name} {scale} ({analysis.get('role')})"
                table.add_row(label, fmt_proportion(body["response"]))
