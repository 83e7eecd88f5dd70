"""Issue 13: each report table is declared once and both renderings come from that declaration.

For every table built from the demo's results (and from the results factory, whose
suppression hides more cells): each CSV column is declared (a column's raw field, a
pivot key, the group's field, or declared CSV-only detail); each displayed cell is its
column's formatter applied to the very record its CSV row is, restricted to the raw
fields the column declares (so a formatter that reads an undeclared field fails); and the
CSV text, read back, holds the records' values unrounded.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import math
from collections.abc import Mapping
from typing import Any

import pytest

from burnout.report.format import Ctx
from burnout.report.tables import Column, Table, build_tables, to_csv
from burnout.report.tables.render import HIDDEN_COLUMN, SYNTHETIC_COLUMN, _count_column
from resultsfactory import make_results

FREE_FORM = {"analysis_plan"}  # settings joined per plan section on screen, one per CSV row: no common record


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    from burnout.analysis import analyze
    from burnout.simulate import simulate_cohort, write_cohort

    folder = tmp_path_factory.mktemp("demo")
    write_cohort(simulate_cohort(), folder, fmt="parquet")
    return analyze(folder, synthetic=True).results


@pytest.fixture(params=["demo", "factory"])
def built(request: pytest.FixtureRequest) -> tuple[Ctx, dict[str, Table]]:
    tree = request.getfixturevalue("demo") if request.param == "demo" else make_results()[0]
    ctx = Ctx(tree)
    return ctx, build_tables(ctx)


def _declared(t: Table) -> set[str]:
    """The raw fields a table's declaration accounts for."""
    fields = {f for c in t.columns for f in c.raw} | {k for c in t.columns for k in (c.where or {})}
    return fields | set(t.by or ()) | set(t.group_raw) | set(t.csv_only)


def _only(record: Mapping[str, Any], raw: tuple[str, ...], t: Table) -> dict[str, Any]:
    """The record as a formatter may see it: its declared raw fields and the display-only ones."""
    return {k: v for k, v in record.items() if k in raw or k not in t.csv_columns}


def _mismatches(t: Table) -> list[str]:
    """Every display cell that is not its column's formatter of the record's declared fields."""
    out = []
    rows = t.rows
    groups = t.display_groups()
    if len(rows) != len(groups):
        return [f"{len(rows)} rows for {len(groups)} records"]
    for row, records in zip(rows, groups, strict=True):
        if t.group:
            label = t.group_label(_only(records[0], t.group_raw, t))
            if row[t.group] != label:
                out.append(f"group {row[t.group]!r} != {label!r}")
        for c in t.columns:
            record = next((r for r in records if c.picks(r)), None)
            want = c.cell(None if record is None else _only(record, c.raw, t))
            if row[c.key] != want:
                out.append(f"{c.key}: {row[c.key]!r} != {want!r}")
    return out


def test_only_the_analysis_plan_is_free_form(built: tuple[Ctx, dict[str, Table]]) -> None:
    _, tables = built
    assert {k for k, t in tables.items() if not t.entries} == FREE_FORM
    assert all(not t.free_rows and not t.free_csv_rows for k, t in tables.items() if k not in FREE_FORM)


def test_every_csv_column_is_declared(built: tuple[Ctx, dict[str, Table]]) -> None:
    _, tables = built
    for key, t in tables.items():
        if key in FREE_FORM or not t.html:  # a figure's CSV has no display to declare
            continue
        raw = {f for c in t.columns for f in c.raw} | set(t.group_raw) | set(t.csv_only)
        assert raw <= set(t.csv_columns), key  # no raw field the CSV lacks (pivot keys may be display-only)
        assert [f for f in t.csv_columns if f not in _declared(t)] == [], key


def test_every_cell_is_its_declared_formatter_of_the_csv_record(built: tuple[Ctx, dict[str, Table]]) -> None:
    _, tables = built
    checked = 0
    for key, t in tables.items():
        if key in FREE_FORM or not t.html:
            continue
        assert _mismatches(t) == [], key
        checked += sum(len(g) for g in t.display_groups())
    assert checked > 100


def _csv_cell(value: Any) -> str | float:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return float(value)
    return str(value)


def test_the_csv_holds_the_same_records_unrounded(built: tuple[Ctx, dict[str, Table]]) -> None:
    """to_csv read back with the csv module: the records' values, hidden counts named in ``hidden``."""
    ctx, tables = built
    for key, t in tables.items():
        if key in FREE_FORM:
            continue
        header, *lines = list(csv.reader(io.StringIO(to_csv(t, ctx))))
        assert header == [SYNTHETIC_COLUMN, *t.csv_columns, HIDDEN_COLUMN], key
        records = t.csv_rows
        assert len(lines) == len(records), key
        for line, record in zip(lines, records, strict=True):
            cells = dict(zip(header, line, strict=True))
            for f in t.csv_columns:
                want = _csv_cell(record.get(f))
                if isinstance(want, str) and _count_column(f) and want:  # a suppression mark
                    assert cells[f] == "" and f"{f}: {want}" in cells[HIDDEN_COLUMN], (key, f)
                elif isinstance(want, float):
                    got = float(cells[f]) if cells[f] else math.nan
                    assert got == want or (math.isnan(want) and math.isnan(got)), (key, f, cells[f], want)
                else:
                    assert cells[f].lstrip("'") == want, (key, f, cells[f], want)


def test_a_formatter_reading_an_undeclared_field_is_caught(built: tuple[Ctx, dict[str, Table]]) -> None:
    """The check above can fail: the response table's % column made to read the count too."""
    _, tables = built
    t = tables["response"]
    assert _mismatches(t) == []
    pct = next(c for c in t.columns if c.key == "pct")
    leaky = dataclasses.replace(pct, fmt=lambda r: f"{r.get('count')}: {pct.cell(r)}")  # raw still ("rate",)
    drifted = dataclasses.replace(t, columns=[leaky if c is pct else c for c in t.columns])
    assert _mismatches(drifted)
    honest = dataclasses.replace(leaky, raw=(*pct.raw, "count"))
    assert _mismatches(dataclasses.replace(t, columns=[honest if c is pct else c for c in t.columns])) == []


def test_a_pivoted_table_shows_each_record_once_in_its_own_column(built: tuple[Ctx, dict[str, Table]]) -> None:
    """profiles: a CSV row per assessment and profile, a display row per profile, a column per assessment."""
    ctx, tables = built
    t = tables["profiles"]
    assessments = [c for c in t.columns if c.where]
    assert len(t.rows) == len(t.display_groups()) == 5
    assert len(t.csv_rows) == 5 * len(assessments)
    for row, records in zip(t.rows, t.display_groups(), strict=True):
        assert len(records) == len(assessments)
        for c in assessments:
            (record,) = [r for r in records if r["timepoint"] == (c.where or {})["timepoint"]]
            count = record["count"]
            assert row[c.key] == count if isinstance(count, str) else row[c.key].startswith(f"{count:,} (")


def test_column_without_a_formatter_shows_its_own_field() -> None:
    c = Column("label", "Label", "left")
    assert c.cell({"label": "Baseline"}) == "Baseline" and c.cell(None) == "\u2013"


def test_a_hidden_flow_step_says_why_in_the_csv() -> None:
    """A step hidden to protect a small cell is labelled so, not "suppressed (<k)": that label on a
    cell of 36 is false, and a reviewer disproves it by subtraction (results.json flow.hidden)."""
    from burnout.report.labels import COMPLEMENT_MARK

    tree, _ = make_results()
    flow = tree["flow"]
    flow["completers"], flow["exclusions"]["missed_sessions"] = None, None
    flow["hidden"] = {"completers": "complement", "exclusions.missed_sessions": "small"}
    ctx = Ctx(tree)
    rows = {r["step"]: r for r in build_tables(ctx)["participant_flow"].csv_rows}
    assert rows["completers"]["count"] == COMPLEMENT_MARK
    assert rows["excluded_missed_sessions"]["count"] == ctx.suppressed != COMPLEMENT_MARK
