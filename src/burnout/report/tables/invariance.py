"""The measurement invariance table and its limitation (issue 16)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from burnout.report.format import Ctx, esc, fmt_num, fmt_p
from burnout.report.labels import NDASH, SUBSCALE_LABELS, SUBSCALES
from burnout.report.tables.cells import field
from burnout.report.tables.model import Column, Record, Table

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
            Column("subscale", "Subscale", "left", raw=("subscale", "n", "level"), fmt=_subscale_cell),
            Column("level", "Model", "left", raw=("level",), fmt=lambda r: str(r["level"]).capitalize()),
            Column(
                "chi2", "\u03c7\u00b2 (df)", raw=("chi2", "df"), fmt=lambda r: f"{fmt_num(r['chi2'], 1)}{_df(r['df'])}"
            ),
            Column("cfi", "CFI", raw=("cfi",), fmt=field("cfi", lambda v: fmt_num(v, 3))),
            Column("rmsea", "RMSEA", raw=("rmsea",), fmt=field("rmsea", lambda v: fmt_num(v, 3))),
            Column(
                "diff",
                "\u0394\u03c7\u00b2 (df), p",
                raw=("delta_chi2", "delta_df", "p"),
                fmt=lambda r: _difference(r, ctx),
            ),
            Column(
                "dcfi",
                "\u0394CFI",
                raw=("delta_cfi",),
                fmt=lambda r: fmt_num(r["delta_cfi"], 3) if r["compared"] else NDASH,
            ),
            Column(
                "holds",
                "Holds",
                "left",
                raw=("level",),
                fmt=lambda r: "yes" if _holds(r["holds"], r["level"]) else "no",
            ),
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
    t.notes.append(_NOTE + str(mi.get("method", "")) + ".")
    return t


_NOTE = (
    "Whether the items measure the same thing in the same units at both occasions: configural (the same one-factor "
    "structure), metric (equal loadings: changes in the factor are comparable), scalar (equal intercepts: mean "
    "changes in the scores reflect the factor, not item-specific shifts). A level holds when CFI falls by at most "
    "0.010 from the level below (Cheung & Rensvold 2002); the \u03c7\u00b2 difference test is shown beside it. "
)


def _add_rows(t: Table, s: str, e: Mapping[str, Any], ctx: Ctx) -> None:
    """The three levels of one subscale."""
    for level in _LEVELS:
        fit, d = e[level], (e.get("differences") or {}).get(_DIFF.get(level, ""), {})
        t.add(
            {"subscale": s, "n": e["n"], "level": level, **{k: fit[k] for k in ("chi2", "df", "cfi", "rmsea")}}
            | {"delta_chi2": d.get("chi2"), "delta_df": d.get("df"), "p": d.get("p"), "delta_cfi": d.get("delta_cfi")}
            | {
                "compared": bool(d),
                "holds": e.get("holds"),
            }  # display only: whether the level was compared, the verdict
        )


def _subscale_cell(r: Record) -> str:
    return f"{SUBSCALE_LABELS[r['subscale']]} (n = {r['n']})" if r["level"] == "configural" else ""


def _difference(r: Record, ctx: Ctx) -> str:
    if not r["compared"]:
        return NDASH
    return f"{fmt_num(r['delta_chi2'], 1)}{_df(r['delta_df'])}, {fmt_p(r['p'], ctx)}"


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
