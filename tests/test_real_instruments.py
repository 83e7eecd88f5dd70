"""The longitudinal analysis with PHQ-9 as the primary instrument, on real data (issue 14 point 4).

403 people answered the PHQ-9 and the GAD-7 twice (BGGM's depression_anxiety_t1/t2;
``../shared/data/external/phq9_gad7_two_waves``, see its SOURCE.txt). The data are a
panel, not a treatment cohort, and are never copied into this repository: an adapter
writes a cohort folder in ``tmp_path`` and ``burnout.analyze`` runs on it with a plan
whose primary instrument is the PHQ-9 and whose secondary one is the GAD-7. Every
number is checked against pandas on the raw item files.

Adapter decisions (the least invention the data format allows):

- ``patients.csv``: ``patient_id`` = ``row<row_id>``; age, sex, route, pathway blank.
- ``phq9.csv`` and ``gad7.csv``: wave 1 as ``after_session`` 0, wave 2 as 1; items
  ``PHQ1..9`` and ``GAD1..7`` -> ``item_1..`` unchanged.
- ``sessions.csv``: one row per person, session 1: the interval between the waves
  stands for the one "session" the schedule needs (``sessions = 1``); no dose, no
  side effects (blank). Nothing was delivered; completion then means both waves.
- no ``mbi_gs.csv``: with another primary instrument the MBI-GS table is optional.

Plan: ``primary = "phq9"``, ``secondary = ["gad7"]``, eligibility ``total >= 10``
(the PHQ-9's moderate band, Kroenke et al. 2001), response by the definition's
minimal important change (PHQ-9 5 points, Loewe et al. 2004; GAD-7 4 points,
Toussaint et al. 2020).
"""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from burnout import analyze
from burnout.plan import parse_protocol
from burnout.results.primary import MBI_GS_SECTIONS

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "external" / "phq9_gad7_two_waves"
WAVES = {0: "depression_anxiety_t1.csv", 1: "depression_anxiety_t2.csv"}

pytestmark = pytest.mark.skipif(
    not all((DATA / f).is_file() for f in WAVES.values()),
    reason=f"real PHQ-9/GAD-7 data not available at {DATA} (the shared data folder beside the repository)",
)

PLAN = """
[instruments]
primary = "phq9"
secondary = ["gad7"]

[eligibility]
rule = "total >= 10"

[schedule]
sessions = 1
assessments = [0, 1]

[privacy]
min_cell_count = {k}
"""


def _adapt(folder: Path) -> dict[int, pd.DataFrame]:
    folder.mkdir(parents=True)
    waves = {t: pd.read_csv(DATA / name) for t, name in WAVES.items()}
    ids = [f"row{r}" for r in waves[0].row_id]
    with (folder / "patients.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["patient_id", "age", "sex", "route", "pathway"])
        w.writerows([pid, "", "", "", ""] for pid in ids)
    for name, prefix, k in (("phq9", "PHQ", 9), ("gad7", "GAD", 7)):
        with (folder / f"{name}.csv").open("w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["patient_id", "after_session", *(f"item_{i}" for i in range(1, k + 1))])
            for t, df in waves.items():
                for r in df.itertuples():
                    w.writerow([f"row{r.row_id}", t, *(getattr(r, f"{prefix}{i}") for i in range(1, k + 1))])
    with (folder / "sessions.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["patient_id", "session"])
        w.writerows([pid, 1] for pid in ids)
    return waves


def _totals(waves: dict[int, pd.DataFrame], prefix: str, k: int) -> tuple[np.ndarray, np.ndarray]:
    first, last = (waves[t].sort_values("row_id")[[f"{prefix}{i}" for i in range(1, k + 1)]] for t in (0, 1))
    assert not first.isna().any().any() and not last.isna().any().any()  # no blanks: no proration
    return first.sum(axis=1).to_numpy(float), last.sum(axis=1).to_numpy(float)


@pytest.fixture(scope="module")
def panel(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, dict[int, pd.DataFrame], Path]:
    folder = tmp_path_factory.mktemp("panel") / "cohort"
    waves = _adapt(folder)
    out = tmp_path_factory.mktemp("out") / "report"
    result = analyze(folder, protocol=parse_protocol(PLAN.format(k=1)), out=out)
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "Instruments of the plan" in page and "total &gt;= 10" in page  # the rule, escaped
    assert "Exhaustion \u2265 4.8" not in page  # not the MBI-GS threshold it replaced
    return json.loads(result.to_json()), waves, out


def test_flow_decided_by_the_phq9_rule_against_pandas(panel) -> None:
    results, waves, _ = panel
    phq_first, _ = _totals(waves, "PHQ", 9)
    eligible = phq_first >= 10
    assert results["flow"]["patients"] == 403
    assert results["flow"]["threshold_met"] == results["flow"]["completers"] == int(eligible.sum()) == 120
    assert results["flow"]["exclusions"]["below_threshold"] == int((~eligible).sum())
    assert results["protocol"]["instruments"] == {"primary": "phq9", "secondary": ["gad7"]}


@pytest.mark.parametrize(("name", "prefix", "k", "least"), [("phq9", "PHQ", 9, 5), ("gad7", "GAD", 7, 4)])
def test_paired_change_and_response_against_pandas_and_scipy(panel, name, prefix, k, least) -> None:
    results, waves, out = panel
    phq_first, _ = _totals(waves, "PHQ", 9)
    completers = phq_first >= 10  # the population: completers by the primary rule
    first, last = (x[completers] for x in _totals(waves, prefix, k))
    got = results["instruments"]["analyses"][name]
    assert got["role"] == ("primary" if name == "phq9" else "secondary")
    total = got["scales"]["total"]
    t0, t1 = total["timepoints"]["0"], total["timepoints"]["1"]
    assert t0["n"] == t1["n"] == 120
    assert t0["mean"] == pytest.approx(first.mean(), abs=1e-12)
    assert t1["sd"] == pytest.approx(np.std(last, ddof=1), rel=1e-12)
    assert t1["change"] == pytest.approx((last - first).mean(), abs=1e-12)
    ttest = stats.ttest_rel(last, first)
    assert t1["effect_size"]["dz"] == pytest.approx(ttest.statistic / np.sqrt(len(first)), abs=1e-12)
    low, high = stats.t.interval(0.95, len(first) - 1, loc=(last - first).mean(), scale=stats.sem(last - first))
    assert t1["change_ci"] == pytest.approx([low, high], abs=1e-10)
    improved = int((first - last >= least).sum())
    assert total["min_change"] == least
    assert (total["response"]["count"], total["response"]["n"]) == (improved, 120)
    # the report's table of the instruments: the same numbers, unrounded in its CSV
    table = pd.read_csv(out / "tables" / "instruments.csv")
    rows = table[table.instrument == name]
    end = rows[(rows.measure == "mean") & (rows.timepoint.astype(str) == "1")].iloc[0]
    assert (end["n"], end["mean"], end["change"]) == (120, pytest.approx(last.mean()), pytest.approx(t1["change"]))
    response = rows[rows.measure == "response"].iloc[0]
    assert (response["count"], response["n"]) == (improved, 120)


# the sections the primary instrument leaves out: the list results.md documents
# (tests/report/test_report_primary.py checks the two agree)
MBI_GS_KEYS = MBI_GS_SECTIONS


def test_mbi_gs_sections_left_out_with_a_note_for_a_primary_other_than_mbi_gs(panel) -> None:
    results, _, _ = panel
    missing = [key for key in MBI_GS_KEYS if key in results]
    assert not missing, f"MBI-GS sections published over a cohort with no MBI-GS data: {missing}"
    notes = results["instruments"]["notes"]
    assert any("MBI-GS subscales only" in n for n in notes)  # the profiles
    assert any(all(key in n for key in MBI_GS_KEYS) for n in notes)  # every section left out, named
    assert "early_change" not in results["attrition"] and "adjusted" not in results["phq9"]
    assert set(results["attrition"]["table1"]) == {"age", "phq9", "female", "subcutaneous"}


def test_report_names_no_mbi_gs_subscale_and_leads_with_the_phq9(panel) -> None:
    _, _, out = panel
    page = (out / "report.html").read_text(encoding="utf-8")
    texts = {"report.html": page} | {p.name: p.read_text(encoding="utf-8") for p in (out / "tables").glob("*.csv")}
    for where, text in texts.items():
        for word in ("Exhaustion", "Cynicism", "Professional Efficacy"):
            assert word not in text, (where, word)
    assert not {"profiles", "subgroups", "trajectories", "response", "reliability"} & {
        p.stem for p in (out / "tables").glob("*.csv")
    }  # no table for a section never computed
    headings = re.findall(r"<h2>(.*?)</h2>", page)
    assert headings[headings.index("Baseline characteristics") + 1] == "Main outcome: PHQ-9"
    assert "Burnout profiles" not in headings and "suppressed" not in page.split("Main outcome: PHQ-9")[0]


def test_small_counts_hidden_with_the_default_min_cell_count(tmp_path: Path) -> None:
    waves = _adapt(tmp_path / "cohort")
    results = json.loads(analyze(tmp_path / "cohort", protocol=parse_protocol(PLAN.format(k=11))).to_json())
    phq_first, phq_last = _totals(waves, "PHQ", 9)
    assert int(((phq_first >= 10) & (phq_last < 5)).sum()) == 7  # the remission count, small
    remission = results["phq9"]["remission"]
    assert remission["suppressed"] and remission["count"] is None
    assert results["instruments"]["analyses"]["phq9"]["scales"]["total"]["response"]["count"] == 49


def test_every_documented_instruments_path_is_in_the_results(panel) -> None:
    from test_spec import RESULTS_MD, matches

    block = re.search(r"^```instrument-paths\n(.*?)^```", RESULTS_MD.read_text(encoding="utf-8"), re.M | re.S)
    assert block is not None
    paths = [line.split()[0] for line in block.group(1).splitlines() if line.strip()]
    assert len(paths) >= 10
    results, _, _ = panel
    missing = [p for p in paths if not matches(results, p.split("."))]
    assert not missing, f"named in docs/spec/results.md but not in the results: {missing}"
    # and nothing in the section goes undocumented
    documented = {p.split(".")[3] for p in paths if p.startswith("instruments.analyses.<name>.")}
    assert set(results["instruments"]["analyses"]["phq9"]) == documented
