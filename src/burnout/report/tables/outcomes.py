"""The report's tables of the primary outcomes: response, its paired comparison, below threshold, subgroups."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from burnout.report.format import Ctx, fmt_p, get, merged_note, subgroup_label
from burnout.report.labels import (
    NDASH,
    OUTCOME_LABELS,
    RESPONDER_LABELS,
    SUBSCALE_LABELS,
    SUBSCALES,
    TEST_LABELS,
    VARIABLE_LABELS,
)
from burnout.report.tables.cells import field, prop_columns, rate_ci
from burnout.report.tables.model import (
    HIDDEN_REASON,
    PROP_CSV,
    Column,
    Entry,
    Record,
    Table,
    _prop_raw,
    _test_short,
)
from burnout.report.tables.subgroup_diff import DIFFERENCE_LABEL, difference_cell

__all__ = ["_below", "_comparison", "_heterogeneity_csv", "_response", "_subgroups"]

# ------------------------------------------------------------------------ response


def _response(ctx: Ctx) -> Table | None:
    r = ctx.results
    labels = SUBSCALE_LABELS | RESPONDER_LABELS
    t = Table(
        key="response",
        title="Response, baseline to the last assessment",
        columns=[
            Column("label", "Outcome", "left", raw=("outcome",), fmt=lambda rec: labels[rec["outcome"]]),
            *prop_columns("Responders/completers"),
        ],
        csv_columns=["outcome", *PROP_CSV],
        group="group",
        stub="label",
    )
    for s in SUBSCALES:
        if p := get(r, "subscales", s, "response"):
            t.add({"group": "By subscale", "outcome": s} | _prop_raw(p, ctx))
    for k in RESPONDER_LABELS:
        if p := get(r, "responders", k):
            t.add({"group": "Number of subscales responded on", "outcome": k} | _prop_raw(p, ctx))
    if not t.entries:
        return None
    mc = get(r, "protocol", "response", "min_change")
    t.notes.append(
        f"Response: an improvement of at least {mc if mc is not None else NDASH} point(s) on a subscale, first to last "
        "assessment (a decrease for Exhaustion and Cynicism, an increase for Professional Efficacy). 95% Wilson intervals."
    )
    return t


def _comparison_label(pair: str) -> str:
    if pair == "all":
        return "All three subscales"
    a, _, b = pair.partition("|")
    return f"{SUBSCALE_LABELS.get(a, a)} vs {SUBSCALE_LABELS.get(b, b)}"


def _comparison(ctx: Ctx) -> Table | None:
    cmp_ = ctx.results.get("comparison")
    if not cmp_:
        return None
    t = Table(
        key="response_comparison",
        title="Paired comparison of response rates between subscales",
        columns=[
            Column(
                "comparison",
                "Comparison",
                "left",
                raw=("comparison",),
                fmt=lambda r: _comparison_label(r["comparison"]),
            ),
            Column("test", "Test", "left", raw=("test",), fmt=lambda r: _test_label(r["test"])),
            Column("stat", "Statistic", raw=("statistic",), fmt=_statistic_or_withheld),
            Column("df", "df", raw=("df",), fmt=lambda r: NDASH if r.get("df") is None else str(r["df"])),
            Column("p", "p", raw=("p",), fmt=field("p", lambda p: fmt_p(p, ctx))),
            Column("p_holm", "p (Holm)", raw=("p_holm",), fmt=field("p_holm", lambda p: fmt_p(p, ctx))),
        ],
        csv_columns=["comparison", "test", "statistic", "df", "p", "p_holm"],
        stub="comparison",
    )
    withheld = "withheld (with the published rates it would give back a hidden count)"
    if q := cmp_.get("cochran_q"):
        t.add(
            {"comparison": "all", "test": "cochran-q", "statistic": q.get("statistic"), "df": q.get("df")}
            | {"p": q.get("p"), "p_holm": None}
            | ({HIDDEN_REASON: dict.fromkeys(("statistic", "df", "p"), withheld)} if q.get("withheld") else {})
        )
    for pair, m in (cmp_.get("mcnemar") or {}).items():
        t.add(
            {"comparison": pair, "test": m.get("test", "mcnemar"), "statistic": m.get("statistic")}
            | {"df": 1 if m.get("statistic") is not None else None, "p": m.get("p"), "p_holm": m.get("p_holm")}
            | (
                {HIDDEN_REASON: dict.fromkeys(("statistic", "df", "p", "p_holm"), withheld)}
                if m.get("suppressed")
                else {}
            )
        )
    t.notes.append(
        "The same completers answered every subscale, so rates are compared with paired tests: Cochran's Q across all "
        "three, then McNemar tests for each pair with Holm's correction for three comparisons."
    )
    if any(r.get(HIDDEN_REASON) for r in t.records):
        t.notes.append(
            f"Withheld: a test whose statistic, with the published response rates, would give back a hidden count is "
            f"not shown: a count of 1 to {ctx.k - 1} patients (completers with one pattern of responses across the "
            "subscales, or who responded on only one subscale of a pair) or a count hidden to protect one."
        )
    return t


def _statistic_or_withheld(record: Record) -> str:
    return "withheld" if record.get(HIDDEN_REASON) else field("statistic")(record)


def _test_label(test: str) -> str:
    return "Cochran Q" if test == "cochran-q" else TEST_LABELS.get(test, test)


def _below(ctx: Ctx) -> Table | None:
    below = ctx.results.get("below_threshold")
    if not below:
        return None
    t = Table(
        key="below_threshold",
        title="Completers below the burnout threshold at each assessment",
        columns=[
            Column("tp", "Assessment", "left", raw=("timepoint",), fmt=lambda r: ctx.tp(r["timepoint"])),
            *prop_columns("Below threshold/completers"),
        ],
        csv_columns=["timepoint", *PROP_CSV],
        stub="tp",
    )
    for tp in ctx.timepoints:
        if tp in below:
            t.add({"timepoint": tp} | _prop_raw(below[tp], ctx))
    e = get(ctx.results, "protocol", "eligibility") or {}
    rule = (
        f"not ({e['rule']})"  # [eligibility] rule (issue 14)
        if "rule" in e
        else f"not (Exhaustion \u2265 {e.get('exhaustion_min', NDASH)} and (Cynicism \u2265 "
        f"{e.get('cynicism_min', NDASH)} or Professional Efficacy \u2264 {e.get('efficacy_max', NDASH)}))"
    )
    t.notes.append(
        f"Below the threshold: {rule}. Every completer met the threshold at baseline by definition. 95% Wilson intervals."
    )
    return t


# ----------------------------------------------------------------------- subgroups

_SUBGROUP_OUTCOMES = (*SUBSCALES, "at_least_1")
_DIFF_CSV = ("difference_from_rest", "difference_ci_low", "difference_ci_high")


def _subgroups(ctx: Ctx) -> Table | None:
    """One record per level and outcome (the CSV); the display pivots the outcomes into columns.

    Under a level, a display-only row of its differences from the rest; under each
    variable, a display-only row of the heterogeneity tests, whose records are also the
    rows of ``subgroup_heterogeneity.csv`` (`_heterogeneity_csv`).
    """
    subgroups = ctx.results.get("subgroups")
    if not subgroups:
        return None
    t = Table(
        key="subgroups",
        title="Response by subgroup, % (95% CI)",
        columns=[
            Column("level", "Level", "left", raw=("variable", "level"), fmt=lambda r: _level_cell(ctx, r)),
            Column(
                "n",
                "n",
                fmt=lambda r: ctx.count(r["level_n"], hidden=r["level_hidden"]) if r["kind"] == "level" else "",
            ),
            *[
                Column(
                    o,
                    OUTCOME_LABELS[o],
                    spanner="Responders, % (95% CI)",
                    raw=(*PROP_CSV, *_DIFF_CSV),
                    where={"outcome": o},
                    fmt=lambda r: _outcome_cell(ctx, r),
                )
                for o in _SUBGROUP_OUTCOMES
            ],
        ],
        csv_columns=["variable", "level", "label", "outcome", *PROP_CSV, *_DIFF_CSV],
        by=("variable", "level", "kind"),
        group="variable",
        group_raw=("variable",),
        csv_only=("label",),  # the display says what a merged level holds (subgroup_label)
        group_fmt=lambda r: str(VARIABLE_LABELS.get(r["variable"], r["variable"])),
        stub="level",
    )
    for var, body in subgroups.items():
        for level, entry in body.items():
            if level != "heterogeneity" and isinstance(entry, Mapping):
                _add_level(t, ctx, var, level, entry)
        het = body.get("heterogeneity") or {}
        for o in _SUBGROUP_OUTCOMES:
            h = het.get(o) or {}
            record = {"variable": var, "level": None, "kind": "heterogeneity", "outcome": o, "test": h.get("test")}
            t.add(record | {"statistic": h.get("statistic"), "df": h.get("df"), "p": h.get("p")}, csv=False)
    t.notes.append(
        "Heterogeneity: \u03c7\u00b2 = Pearson \u03c7\u00b2 test of level \u00d7 response; exact = Fisher or Freeman\u2013Halton "
        "exact test, over the known levels (unknown and other levels left out). Not adjusted for multiplicity. "
        "Subgroups are of completers, so they condition on completion: a difference between levels can reflect who "
        "completed as much as who responded. Under each level: its response rate minus that of the rest of the "
        "completers, in percentage points, with Newcombe's hybrid score interval."
    )
    if note := merged_note(ctx.results):
        t.notes.append(note)
    return t


def _add_level(t: Table, ctx: Ctx, var: str, level: str, entry: Mapping[str, Any]) -> None:
    """A level's records, one per outcome, and its display-only row of differences from the rest."""
    reasons = {(entry.get(o) or {}).get("hidden") for o in _SUBGROUP_OUTCOMES}
    shown = {"level_n": entry.get("n"), "level_hidden": "complement" if reasons == {"complement"} else None}
    diffs = entry.get("difference_from_rest") or {}
    records = []
    for o in _SUBGROUP_OUTCOMES:
        diff = diffs.get(o) or {}
        low, high = diff.get("ci") or [None, None]
        records.append(
            {"variable": var, "level": level, "kind": "level", "label": entry.get("label", level), "outcome": o}
            | _prop_raw(entry.get(o), ctx)
            | dict(zip(_DIFF_CSV, (diff.get("estimate"), low, high), strict=True))
            | shown
        )
        t.add(records[-1])
    if any(r["difference_from_rest"] is not None for r in records):
        for r in records:
            t.add(r | {"kind": "difference"}, csv=False)


def _level_cell(ctx: Ctx, r: Record) -> str:
    if r["kind"] == "difference":
        return DIFFERENCE_LABEL
    if r["kind"] == "heterogeneity":
        return "Heterogeneity, p"
    return subgroup_label(ctx.results, r["variable"], r["level"])  # a merged level says what it holds


def _outcome_cell(ctx: Ctx, r: Record) -> str:
    """A level's rate (95% CI), its difference from the rest, or the heterogeneity test's p."""
    if r["kind"] == "difference":
        return difference_cell(r)
    if r["kind"] == "heterogeneity":
        return NDASH if r.get("p") is None else f"{fmt_p(r['p'], ctx)} ({_test_short(r.get('test'))})"
    return rate_ci(r)


def _heterogeneity_csv(ctx: Ctx, sub: Table | None) -> Table | None:
    """The heterogeneity tests of the subgroups table, as their own CSV (the display shows them as a row)."""
    if sub is None:
        return None
    tests = [Entry(e.record, shown=False) for e in sub.entries if e.record.get("kind") == "heterogeneity"]
    return Table(
        key="subgroup_heterogeneity",
        title="Subgroup heterogeneity tests",
        columns=[],
        csv_columns=["variable", "outcome", "test", "statistic", "df", "p"],
        entries=tests,
        html=False,
    )
