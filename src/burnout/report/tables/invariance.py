"""The measurement invariance table and its limitation (issue 16)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from burnout.report.format import Ctx, esc, fmt_num, fmt_p
from burnout.report.labels import NDASH, SUBSCALE_LABELS, SUBSCALES
from burnout.report.tables.model import Column, Table

__all__ = ["_invariance", "invariance_limitation"]

_LEVELS = ("configural", "metric", "scalar")
_DIFF = {"metric": "metric_vs_configural", "scalar": "scalar_vs_metric"}


def _invariance(ctx: Ctx) -> Table | None:
    mi = ctx.results.get("measurement_invariance")
    if not mi or not any(isinstance(mi.get(s), dict) and mi[s].get("configural") for s in SUBSCALES):
        return None
    t = Table(
        key="measurement_invariance",
        title="Measurement invariance, baseline to the last assessment (completers)",
        columns=[
            Column("subscale", "Subscale", "left"),
            Column("level", "Model", "left"),
            Column("chi2", "\u03c7\u00b2 (df)"),
            Column("cfi", "CFI"),
            Column("rmsea", "RMSEA"),
            Column("diff", "\u0394\u03c7\u00b2 (df), p"),
            Column("dcfi", "\u0394CFI"),
            Column("holds", "Holds", "left"),
        ],
        csv_columns=[
            "subscale",
            "n",
            "level",
            "chi2",
            "df",
            "cfi",
            "rmsea",
            "delta_chi2",
            "delta_df",
            "p",
            "delta_cfi",
        ],
        stub="subscale",
    )
    for s in SUBSCALES:
        e = mi.get(s) or {}
        if e.get("configural"):
            _add_rows(t, s, e, ctx)
    t.notes.append(
        "Whether the items measure the same thing in the same units at both occasions: configural (the same one-factor "
        "structure), metric (equal loadings: changes in the factor are comparable), scalar (equal intercepts: mean "
        "changes in the scores reflect the factor, not item-specific shifts). A level holds when CFI falls by at most "
        "0.010 from the level below (Cheung & Rensvold 2002); the \u03c7\u00b2 difference test is shown beside it. "
        + str(mi.get("method", ""))
        + "."
    )
    return t


def _add_rows(t: Table, s: str, e: Mapping[str, Any], ctx: Ctx) -> None:
    """The three levels of one subscale, displayed and raw."""
    for level in _LEVELS:
        fit, d = e[level], (e.get("differences") or {}).get(_DIFF.get(level, ""), {})
        t.rows.append(
            {
                "subscale": f"{SUBSCALE_LABELS[s]} (n = {e['n']})" if level == "configural" else "",
                "level": level.capitalize(),
                "chi2": f"{fmt_num(fit['chi2'], 1)}{_df(fit['df'])}",
                "cfi": fmt_num(fit["cfi"], 3),
                "rmsea": fmt_num(fit["rmsea"], 3),
                "diff": f"{fmt_num(d['chi2'], 1)}{_df(d['df'])}, {fmt_p(d['p'], ctx)}" if d else NDASH,
                "dcfi": fmt_num(d["delta_cfi"], 3) if d else NDASH,
                "holds": "yes" if _holds(e.get("holds"), level) else "no",
            }
        )
        t.csv_rows.append(
            {
                "subscale": s,
                "n": e["n"],
                "level": level,
                **{k: fit[k] for k in ("chi2", "df", "cfi", "rmsea")},
                "delta_chi2": d.get("chi2"),
                "delta_df": d.get("df"),
                "p": d.get("p"),
                "delta_cfi": d.get("delta_cfi"),
            }
        )


def _df(df: Any) -> str:
    """ " (29)", or nothing when round_to withheld the degrees of freedom."""
    return "" if df is None else f" ({df})"


def _holds(verdict: Any, level: str) -> bool:
    order = ("none", *_LEVELS)
    return verdict in order and order.index(verdict) >= order.index(level)


def invariance_limitation(results: Mapping[str, Any]) -> str | None:
    """The limitations bullet: the invariance verdicts and why the baseline is range restricted."""
    mi = results.get("measurement_invariance")
    if not mi:
        return None
    verdicts = [
        f"{SUBSCALE_LABELS[s]} {mi[s]['holds']}"
        for s in SUBSCALES
        if isinstance(mi.get(s), dict) and mi[s].get("holds") is not None
    ]
    found = (
        "Invariance from baseline to the last assessment (highest level that holds): " + esc(", ".join(verdicts)) + ". "
        if verdicts
        else "Measurement invariance could not be tested (no item data at both occasions, or too few patients). "
    )
    return (
        "<strong>Measurement invariance and range restriction.</strong> "
        + found
        + "Patients were selected for high baseline scores, so baseline item variances and loadings are range "
        "restricted and the baseline factor is measured less precisely than the last one; invariance tests on a "
        "selected group have little power to detect non-invariance, and apparent differences in loadings or "
        "reliability between occasions can come from the selection rather than from a change in what the items "
        "measure. Only completers with every item at both occasions enter the test."
    )
