"""The report's multiple-imputation additions, read back from the rendered page and CSVs:
the imputation column's n when a sample was imputed, the estimand and MAR caveat beside
the pooled rates, the tipping-point table, and the demo's "Truth (synthetic)" column."""

from __future__ import annotations

import csv
import re
from pathlib import Path

from burnout.report import write_report
from resultsfactory import make_results

SUBSCALES = ("exhaustion", "cynicism", "professional_efficacy")


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).replace("&amp;", "&")


def test_sampled_imputation_shows_its_own_n(tmp_path: Path) -> None:
    tree, _ = make_results()
    tree["itt"]["multiple_imputation"]["patients_imputed"] = 1000
    write_report(tree, tmp_path)
    text = _text((tmp_path / "report.html").read_text(encoding="utf-8"))
    assert "Multiple imputation (n = 1,000)" in text
    assert "Worst case (n = 1,642)" in text


def test_truth_column_estimand_and_tipping_table(tmp_path: Path) -> None:
    tree, _ = make_results()
    mi = tree["itt"]["multiple_imputation"]
    mi["estimand"] = {
        "population": "P-TEXT",
        "variable": "V-TEXT",
        "intercurrent_events": [{"event": "E-TEXT", "strategy": "S-TEXT"}],
        "summary_measure": "SUM-TEXT",
        "missing_data_assumption": "MAR-CAVEAT-TEXT",
    }
    deltas = [0.0, 0.5, 1.0]
    mi["tipping"] = {"deltas": deltas, "method": "TIPPING-METHOD-TEXT"}
    for i, o in enumerate((*SUBSCALES, "at_least_1")):
        rates = [0.5 - 0.01 * i, 0.4, 0.3]
        mi["tipping"][o] = {
            "rate": rates,
            "ci": [[r - 0.05, r + 0.05] for r in rates],
            "tipping_point": 0.5,
            "suppressed": False,
        }
    prop = {"count": 930, "n": 1642, "rate": 930 / 1642, "ci": [0.54, 0.59], "suppressed": False}
    tree["synthetic_truth"] = {
        "note": "TRUTH-NOTE",
        "threshold_met": 1642,
        **{s: {"response": dict(prop), "change": -1.054} for s in SUBSCALES},
        "responders": {"at_least_1": prop},
        "tipping_delta": {o: 1.0 for o in (*SUBSCALES, "at_least_1")},
    }
    write_report(tree, tmp_path)
    text = _text((tmp_path / "report.html").read_text(encoding="utf-8"))
    assert "Truth (synthetic)" in text and "TRUTH-NOTE" in text
    assert "56.6% (54.0\u201359.0) 930/1,642" in text
    assert "(\u22121.05)" in text  # the true mean change
    assert "MAR-CAVEAT-TEXT" in text and "Population: P-TEXT" in text and "E-TEXT: S-TEXT" in text
    assert "TIPPING-METHOD-TEXT" in text
    assert "Tipping point (points): Exhaustion 0.5" in text
    assert "reaches the simulator's truth: Exhaustion 1.0" in text
    with open(tmp_path / "tables" / "itt_tipping_point.csv", encoding="utf-8") as fh:
        rows = [r for r in csv.DictReader(fh)]
    assert len(rows) == 4 * len(deltas)
    at_least = [float(r["rate"]) for r in rows if r["outcome"] == "at_least_1"]
    assert at_least == [0.47, 0.4, 0.3]
    with open(tmp_path / "tables" / "beyond_completers.csv", encoding="utf-8") as fh:
        truth = [r for r in csv.DictReader(fh) if r["analysis"] == "synthetic_truth"]
    assert {r["outcome"] for r in truth} == {*SUBSCALES, "at_least_1"}
    assert {r["count"] for r in truth} == {"930"}
