"""The report of a plan whose primary instrument is not the MBI-GS (issue 14 point 4).

A small synthetic cohort with no MBI-GS table at all: PHQ-9 (primary, eligibility
``total >= 10``) and GAD-7 (secondary) at every assessment. results.json leaves the
MBI-GS sections out (``results.primary``); the page leads with the PHQ-9's paired
analysis, and neither the page nor any CSV names an MBI-GS subscale or shows a table
for a section that was never computed. The primary instrument's numbers are checked
against pandas and scipy on the item rows written here. The same checks on real data:
tests/test_real_instruments.py (skipped when the data are absent).
"""

from __future__ import annotations

import csv
import html
import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from rich.console import Console
from scipy import stats

from burnout import analyze
from burnout.plan import parse_protocol
from burnout.report import write_report
from burnout.report.terminal import summary_table
from burnout.results.primary import MBI_GS_SECTIONS
from cohortfactory import patient_ids, patients_rows, phq9_rows, sessions_rows, write_cohort

RESULTS_MD = Path(__file__).resolve().parents[2] / "docs" / "spec" / "results.md"
N = 80
TIMEPOINTS = (0, 2, 4, 6)
PLAN = """
[instruments]
primary = "phq9"
secondary = ["gad7"]

[eligibility]
rule = "total >= 10"

[privacy]
min_cell_count = 5
"""
MBI_WORDS = ("Exhaustion", "Cynicism", "Professional Efficacy", "Professional efficacy")
# the files a PHQ-9 plan without MBI-GS data can have: no table or figure of a section never computed
KEPT_TABLES = {
    "analysis_plan",
    "participant_flow",
    "baseline_characteristics",
    "side_effects",
    "completion_by_subgroup",
    "reach",
    "phq9",
    "instruments",
}


def _gad7_rows(ids: list[str], *, seed: int = 4) -> list[dict[str, str]]:
    rng = np.random.default_rng(seed)
    return [
        {"patient_id": pid, "after_session": str(t)}
        | {f"item_{i}": str(int(v)) for i, v in enumerate(rng.integers(0, 4, size=7), start=1)}
        for pid in ids
        for t in TIMEPOINTS
    ]


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    ids = patient_ids(N)
    missed = set(ids[40:50])  # ten miss the last PHQ-9: non-completers, enough not to hide the completers' count
    phq = [r for r in phq9_rows(ids) if not (r["patient_id"] in missed and r["after_session"] == "6")]
    folder = write_cohort(
        tmp_path_factory.mktemp("primary") / "cohort",
        patients=patients_rows(N),
        mbi_gs=None,  # another primary instrument: the cohort has no MBI-GS data at all
        sessions=sessions_rows(ids),
        phq9=phq,
    )
    gad = _gad7_rows(ids)
    with (folder / "gad7.csv").open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(gad[0]))
        w.writeheader()
        w.writerows(gad)
    out = tmp_path_factory.mktemp("primary") / "out"
    result = analyze(folder, protocol=parse_protocol(PLAN), out=out)
    page = (out / "report.html").read_text(encoding="utf-8")
    return {
        "results": json.loads(result.to_json()),
        "out": out,
        "page": page,
        "text": html.unescape(re.sub(r"<[^>]+>", " ", re.sub(r"<svg.*?</svg>", "", page, flags=re.S))),
        "folder": folder,
        "phq": _totals(phq, 9),
        "gad": _totals(gad, 7),
    }


def _totals(rows: list[dict[str, str]], k: int) -> pd.DataFrame:
    """Totals by patient (rows) and assessment (columns), summed by pandas from the item rows (no blanks)."""
    df = pd.DataFrame(rows)
    items = df[[f"item_{i}" for i in range(1, k + 1)]].astype(int)
    df = df.assign(total=items.sum(axis=1), t=df.after_session.astype(int))
    return df.pivot(index="patient_id", columns="t", values="total").astype(float)


def _completers(phq: pd.DataFrame) -> pd.Index:
    """Eligible at baseline (total >= 10) and scored at every assessment (every session is in the data)."""
    return phq.index[(phq[0] >= 10) & phq[list(TIMEPOINTS)].notna().all(axis=1)]


def test_results_leave_out_every_mbi_gs_section(run) -> None:
    results = run["results"]
    for key in MBI_GS_SECTIONS:
        assert key not in results, key
    assert {"flow", "side_effects", "safety", "attrition", "phq9", "instruments"} <= set(results)
    assert "early_change" not in results["attrition"]
    assert not {"exhaustion", "cynicism", "professional_efficacy"} & set(results["attrition"]["table1"])
    assert "adjusted" not in results["phq9"] and "subscale_responders_not_phq9_responders" not in results["phq9"]
    note = results["instruments"]["notes"][-1]
    assert all(key in note for key in MBI_GS_SECTIONS) and 'primary = "mbi_gs"' in note
    # the MBI-GS imputation model is not run for another primary, so no warning about it either
    assert not any("imputation" in w for w in results.get("warnings") or [])
    assert not (run["out"] / "warnings-NOT-FOR-PUBLICATION.txt").exists()


def test_the_left_out_sections_are_the_documented_ones() -> None:
    block = re.search(r"^```mbi-gs-only\n(.*?)^```", RESULTS_MD.read_text(encoding="utf-8"), re.M | re.S)
    assert block is not None
    assert tuple(block.group(1).split()) == MBI_GS_SECTIONS


def test_flow_decided_by_the_phq9_rule_against_pandas(run) -> None:
    flow, phq = run["results"]["flow"], run["phq"]
    assert flow["threshold_met"] == int((phq[0] >= 10).sum())
    assert flow["completers"] == len(_completers(phq)) < flow["threshold_met"]


@pytest.mark.parametrize(("name", "least"), [("phq", 5), ("gad", 4)])
def test_instrument_table_numbers_against_results_and_pandas(run, name, least) -> None:
    phq = run["phq"]
    who = _completers(phq)
    first, last = (run[name].loc[who, t].to_numpy() for t in (0, 6))
    got = run["results"]["instruments"]["analyses"]["phq9" if name == "phq" else "gad7"]["scales"]["total"]
    end = got["timepoints"]["6"]
    assert end["n"] == len(who)
    assert end["mean"] == pytest.approx(last.mean(), abs=1e-12)
    assert end["sd"] == pytest.approx(np.std(last, ddof=1), rel=1e-12)
    assert end["change"] == pytest.approx((last - first).mean(), abs=1e-12)
    low, high = stats.t.interval(0.95, len(who) - 1, loc=(last - first).mean(), scale=stats.sem(last - first))
    assert end["change_ci"] == pytest.approx([low, high], abs=1e-10)
    ttest = stats.ttest_rel(last, first)
    assert end["effect_size"]["dz"] == pytest.approx(ttest.statistic / np.sqrt(len(who)), abs=1e-12)
    assert got["response"]["count"] == int((first - last >= least).sum())
    # the CSV the report writes holds the same numbers, unrounded
    table = pd.read_csv(run["out"] / "tables" / "instruments.csv")
    rows = table[table.instrument == ("phq9" if name == "phq" else "gad7")]
    mean_row = rows[(rows.measure == "mean") & (rows.timepoint.astype(str) == "6")].iloc[0]
    assert mean_row["mean"] == pytest.approx(end["mean"], rel=1e-12)
    assert mean_row["change"] == pytest.approx(end["change"], rel=1e-12)
    response = rows[rows.measure == "response"].iloc[0]
    assert (response["count"], response["n"]) == (got["response"]["count"], len(who))


def test_page_leads_with_the_primary_instrument(run) -> None:
    text = run["text"]
    headings = re.findall(r"<h2>(.*?)</h2>", run["page"])
    assert headings.index("Main outcome: PHQ-9") < headings.index("Side effects and serious adverse events")
    assert "Instruments of the plan" not in headings  # placed once, as the main outcome
    assert "Patient Health Questionnaire-9 (PHQ-9)" in text and "total >= 10" in text
    findings = re.search(r'<ul class="findings">(.*?)</ul>', run["page"], re.S)
    assert findings is not None
    points = re.findall(r"<li>(.*?)</li>", findings.group(1), re.S)
    assert points[1].startswith("<strong>Primary outcome.</strong> PHQ-9 total (lower is better)")
    assert "GAD-7 total" in points[2]
    assert "met the eligibility threshold" in text and "burnout threshold" not in text


def test_no_mbi_gs_subscale_and_no_table_for_a_section_never_computed(run) -> None:
    out = run["out"]
    tables = {p.stem for p in (out / "tables").glob("*.csv")}
    assert tables == KEPT_TABLES
    assert {p.stem for p in (out / "figures").glob("*.svg")} == {"flow", "reach"}
    for where, text in [("report.html", run["text"])] + [
        (p.name, p.read_text(encoding="utf-8")) for p in sorted((out / "tables").glob("*.csv"))
    ]:
        for word in MBI_WORDS:
            assert word not in text, (where, word)
    # the findings and methods describe the PHQ-9 analysis; only the notes say what was left out and why
    for css in ('<ul class="findings">', '<div class="methods">'):
        part = run["page"].split(css, 1)[1].split("</section>", 1)[0]
        assert len(part) > 500 and "MBI-GS" not in part and "subscale" not in part, css
    # a suppression mark only where a count was computed and is small: never for the MBI-GS sections
    for heading in ("Burnout profiles", "Resolution of the Burnout profile", "Response by subgroup", "Effect sizes"):
        assert heading not in run["text"]


def test_terminal_summary_shows_the_instruments_response(run) -> None:
    console = Console(width=200, record=True, color_system=None)
    console.print(summary_table(run["results"]))
    text = console.export_text()
    count = run["results"]["instruments"]["analyses"]["phq9"]["scales"]["total"]["response"]["count"]
    assert "responded: phq9 total (primary)" in text and f"({count}/" in text
    assert "Exhaustion" not in text and "subscale" not in text


def test_write_report_needs_the_flow_but_not_the_subscales(run, tmp_path) -> None:
    assert write_report(run["results"], tmp_path / "again").is_file()
    with pytest.raises(ValueError, match="'flow'"):
        write_report({"subscales": {}}, tmp_path / "bad")


def test_validate_summary_counts_the_primary_instrument(run, tmp_path) -> None:
    from burnout.summary import validate_and_summarize

    plan = tmp_path / "protocol.toml"
    plan.write_text(PLAN, encoding="utf-8")
    summary = validate_and_summarize(run["folder"], protocol=plan)
    assert (
        summary.primary == "phq9" and summary.scored == {} and summary.threshold_met == int((run["phq"][0] >= 10).sum())
    )
    assert summary.assessments == {0: N, 2: N, 4: N, 6: N - 10}
    console = Console(width=200, record=True, color_system=None)
    console.print(summary.to_rich())
    text = console.export_text()
    assert "phq9 assessments, after session 6" in text and "met the eligibility threshold" in text
    assert "MBI-GS" not in text and "exhaustion" not in text


def test_instrument_label_takes_an_abbreviation_not_a_remark() -> None:
    from burnout.report.primary import instrument_label

    def tree(**titles: str) -> dict[str, Any]:
        return {"instruments": {"analyses": {n: {"definition": {"title": t}} for n, t in titles.items()}}}

    shipped = tree(
        phq9="Patient Health Questionnaire-9 (PHQ-9)",
        bat23="Burnout Assessment Tool (BAT-23, core symptoms)",
        own="Work Strain Short Form (trial)",
    )
    assert [instrument_label(shipped, n) for n in ("phq9", "bat23")] == ["PHQ-9", "BAT-23"]
    assert instrument_label(shipped, "own") == "Work Strain Short Form (trial)"  # "(trial)" is no short name
    assert instrument_label(shipped, "gad7") == "gad7"  # not described: its plan name
    assert instrument_label({}, "mbi_gs") == "MBI-GS"  # the reference plan describes no instrument


def test_the_report_describes_a_user_definition_from_results_not_from_the_working_directory(
    run, tmp_path, monkeypatch
) -> None:
    # a decoy definition file named like the instrument in the working directory must not be read
    decoy = tmp_path / "phq9"
    decoy.write_text('name = "decoy"\ntitle = "Decoy Instrument (DECOY)"\n', encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    described = run["results"]["instruments"]["analyses"]["phq9"]["definition"]
    assert described["title"] == "Patient Health Questionnaire-9 (PHQ-9)" and described["items"] == 9
    assert described["scales"]["total"] == {
        "items": list(range(1, 10)), "scoring": "sum", "max_blank": 2, "prorate": True, "good": "lower"
    }
    out = tmp_path / "again"
    out.mkdir()
    write_report(run["results"], out)
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "Decoy" not in page and "Patient Health Questionnaire-9 (PHQ-9)" in page
    import burnout.report.primary as described_from_results

    assert not hasattr(described_from_results, "load_instrument")  # no definition file is read by the report


def test_privacy_paragraph_says_nothing_is_suppressed_at_k_1() -> None:
    from burnout.report.format import Ctx
    from burnout.report.methods import _privacy_paragraph
    from resultsfactory import make_results

    tree, _ = make_results()
    tree["protocol"]["privacy"]["min_cell_count"] = 1
    text = _privacy_paragraph(Ctx(tree))
    assert "from 1 to 0" not in text and "No count is suppressed" in text
