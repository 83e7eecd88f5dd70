"""`burnout survey` on files made here: hand-checked scores, bands, privacy, bad input, a user instrument."""

from __future__ import annotations

import json
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from burnout.cli import app
from instrumentreference import reference_score

runner = CliRunner()


def _phq9_frame(n: int, seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    severity = rng.normal(size=n)
    items = np.clip(np.round(1.2 + 0.9 * severity[:, None] + rng.normal(scale=0.7, size=(n, 9))), 0, 3).astype(int)
    frame = pd.DataFrame(items, columns=[f"q{i}" for i in range(1, 10)])
    frame.insert(0, "staff_id", [f"s{i}" for i in range(n)])
    return frame


def _run(*args: str):
    return runner.invoke(app, ["survey", *args])


def test_phq9_survey_scores_bands_and_flag_against_pandas(tmp_path):
    frame = _phq9_frame(400)
    frame.loc[3, "q2"] = None  # one blank: prorated
    frame.loc[5:16, ["q1", "q2", "q3"]] = None  # three blanks: 12 respondents not scored
    path = tmp_path / "phq.csv"
    frame.to_csv(path, index=False)
    out = tmp_path / "out"
    result = _run(str(path), "--instrument", "phq9", "--columns", "q{n}", "--out", str(out))
    assert result.exit_code == 0, result.output
    res = json.loads((out / "results.json").read_text())
    answers = frame[[f"q{i}" for i in range(1, 10)]]
    # the PHQ-9 total written out: a sum of items 1-9 (0-3), up to two blanks prorated
    phq9_total = {"items": range(1, 10), "low": 0, "high": 3, "scoring": "sum", "max_blank": 2}
    totals = [
        reference_score([None if pd.isna(v) else int(v) for v in row], **phq9_total)
        for row in answers.itertuples(index=False)
    ]
    scored = [t for t in totals if t is not None]
    total = res["subscales"]["total"]
    assert res["respondents"] == 400
    assert total["n"] == len(scored) == 388  # 12 unscored: enough to publish n, and the mean beside it
    assert total["mean"] == pytest.approx(float(sum(scored) / len(scored)), abs=1e-12)
    assert total["sd"] == pytest.approx(float(np.std([float(t) for t in scored], ddof=1)), abs=1e-12)
    cuts = [0, 5, 10, 15, 20, 10**6]
    expected = {
        label: sum(1 for t in scored if cuts[i] <= t < cuts[i + 1])
        for i, label in enumerate(["minimal", "mild", "moderate", "moderately_severe", "severe"])
    }
    for label, p in total["bands"].items():
        assert p["count"] is None or p["count"] == expected[label], label
        assert p["n"] == 400
    flag = res["flags"]["item9_positive"]
    assert flag["count"] == int((answers["q9"] >= 1).sum())
    assert "staff_id" not in (out / "results.json").read_text()  # the id column is never read
    html = (out / "report.html").read_text()
    assert "<script" not in html and "http" not in html.replace("http://www.w3.org", "")


def test_same_input_gives_byte_identical_results(tmp_path):
    path = tmp_path / "phq.csv"
    _phq9_frame(300).to_csv(path, index=False)
    texts = []
    for name in ("a", "b"):
        assert (
            _run(str(path), "--instrument", "phq9", "--columns", "q{n}", "--out", str(tmp_path / name)).exit_code == 0
        )
        texts.append((tmp_path / name / "results.json").read_bytes())
    assert texts[0] == texts[1]


def test_parquet_input_gives_the_same_results(tmp_path):
    frame = _phq9_frame(300)
    frame.to_csv(tmp_path / "phq.csv", index=False)
    frame.to_parquet(tmp_path / "phq.parquet", index=False)
    for name in ("phq.csv", "phq.parquet"):
        assert (
            _run(str(tmp_path / name), "-i", "phq9", "--columns", "q{n}", "--out", str(tmp_path / name[-3:])).exit_code
            == 0
        )
    a, b = (json.loads((tmp_path / d / "results.json").read_text()) for d in ("csv", "uet"))
    a["input"].pop("file"), b["input"].pop("file")
    assert a == b


def test_few_respondents_withhold_every_statistic(tmp_path):
    path = tmp_path / "phq.csv"
    _phq9_frame(6).to_csv(path, index=False)
    out = tmp_path / "out"
    assert _run(str(path), "-i", "phq9", "--columns", "q{n}", "--out", str(out)).exit_code == 0
    res = json.loads((out / "results.json").read_text())
    total = res["subscales"]["total"]
    assert res["respondents"] is None
    assert total["mean"] is None and total["alpha"]["value"] is None and total["n"] is None
    assert all(p["count"] is None for p in total["bands"].values())
    assert res["privacy"]["hidden"]["statistic"] >= 2


def test_bad_cells_are_all_reported_with_line_column_value_and_nothing_is_written(tmp_path):
    frame = _phq9_frame(30)
    frame = frame.astype({f"q{i}": object for i in range(1, 10)})
    frame.loc[2, "q4"] = "4"
    frame.loc[7, "q1"] = "two"
    frame.loc[9, "q9"] = "1.5"
    frame.loc[11, "q3"] = "NA"
    path = tmp_path / "phq.csv"
    frame.to_csv(path, index=False)
    out = tmp_path / "out"
    result = _run(str(path), "-i", "phq9", "--columns", "q{n}", "--out", str(out))
    assert result.exit_code == 2
    text = result.output
    assert "phq.csv:4, column 'q4', value '4': an answer 0 to 3, or empty (item 4)" in text
    assert "phq.csv:9, column 'q1', value 'two'" in text
    assert "phq.csv:11, column 'q9', value '1.5'" in text
    assert "phq.csv:13, column 'q3', value 'NA'" in text
    assert "Nothing was written" in text and "Traceback" not in text
    assert "problems in the survey file:" in text and "cohort" not in text  # a survey is not a cohort
    assert not out.exists()
    # NA named as a blank marker: only the three real problems remain
    again = _run(str(path), "-i", "phq9", "--columns", "q{n}", "--na", "NA", "--out", str(out))
    assert again.exit_code == 2 and "value 'NA'" not in again.output and "3 problems" in again.output


def test_missing_columns_and_bad_column_specs(tmp_path):
    path = tmp_path / "phq.csv"
    _phq9_frame(30).drop(columns=["q7"]).to_csv(path, index=False)
    result = _run(str(path), "-i", "phq9", "--columns", "q{n}", "--out", str(tmp_path / "o"))
    assert result.exit_code == 2
    assert "phq.csv:1, column 'q7': a column with item 7's answers (see --columns)" in result.output
    result = _run(str(path), "-i", "phq9", "--columns", "q", "--out", str(tmp_path / "o"))
    assert result.exit_code == 2 and "neither a pattern with {n}" in result.output
    mapping = tmp_path / "map.toml"
    mapping.write_text('[columns]\n"1" = "q1"\n"10" = "q10"\n')
    result = _run(str(path), "-i", "phq9", "--columns", str(mapping), "--out", str(tmp_path / "o"))
    assert result.exit_code == 2
    assert "key columns.'10': not an item position" in result.output
    assert "missing positions [2, 3, 4, 5, 6, 7, 8, 9] in [columns]" in result.output
    bad = _run(str(path), "-i", "phq_9", "--out", str(tmp_path / "o"))
    assert bad.exit_code == 2 and "did you mean phq9?" in bad.output
    assert not (tmp_path / "o").exists()


USER_SCALE = """
name = "team_strain"
title = "Team strain (a user's own scale)"
version = "0.1"
licence = "wording_allowed"
citation = "our staff survey team (2024)"
items = 4
response = { min = 1, max = 5 }
reverse = [4]

[wording]
"1" = "<b>I feel drained</b>"

[subscales.strain]
items = [1, 2, 3, 4]
scoring = "mean"
max_blank = 1
good = "lower"
bands = [{ label = "ok", at_least = 1 }, { label = "high", at_least = 3.5 }]
bands_citation = "our pilot (2023)"
"""


def test_a_user_instrument_file_end_to_end(tmp_path):
    definition = tmp_path / "team.toml"
    definition.write_text(USER_SCALE)
    rng = np.random.default_rng(3)
    items = rng.integers(1, 6, size=(120, 4))
    frame = pd.DataFrame(items, columns=[f"item_{i}" for i in range(1, 5)])
    path = tmp_path / "team.csv"
    frame.to_csv(path, index=False)
    out = tmp_path / "out"
    result = _run(str(path), "--instrument", str(definition), "--out", str(out))
    assert result.exit_code == 0, result.output
    res = json.loads((out / "results.json").read_text())
    keyed = frame.copy()
    keyed["item_4"] = 6 - keyed["item_4"]
    means = keyed.mean(axis=1)
    assert res["subscales"]["strain"]["mean"] == pytest.approx(means.mean(), abs=1e-12)
    high = int(sum(Fraction(int(a + b + c + d), 4) >= Fraction(7, 2) for a, b, c, d in keyed.itertuples(index=False)))
    assert res["subscales"]["strain"]["bands"]["high"]["count"] == high
    assert res["instrument"]["name"] == "team_strain"


def test_a_bad_user_instrument_exits_2_with_the_file_and_key(tmp_path):
    definition = tmp_path / "team.toml"
    definition.write_text(USER_SCALE.replace('scoring = "mean"', 'scoring = "average"'))
    (tmp_path / "team.csv").write_text("item_1,item_2,item_3,item_4\n1,2,3,4\n")
    result = _run(str(tmp_path / "team.csv"), "--instrument", str(definition), "--out", str(tmp_path / "o"))
    assert result.exit_code == 2
    assert f"invalid instrument definition {definition}" in result.output
    assert 'impossible value for subscales.strain.scoring: got "average"; allowed: "mean" or "sum"' in result.output


def test_survey_help():
    result = runner.invoke(app, ["survey", "--help"])
    assert result.exit_code == 0 and "--instrument" in result.output and "--na" in result.output
    for placeholder in ("<bool>", "<str>", "<path>", "<int>", "{file}"):
        assert placeholder not in result.output


def test_parquet_integer_cells_out_of_range_are_reported_by_row(tmp_path):
    frame = _phq9_frame(40).drop(columns=["staff_id"])
    frame.loc[6, "q5"] = 7
    frame.to_parquet(tmp_path / "phq.parquet", index=False)
    result = _run(str(tmp_path / "phq.parquet"), "-i", "phq9", "--columns", "q{n}", "--out", str(tmp_path / "o"))
    assert result.exit_code == 2
    assert "phq.parquet:7, column 'q5', value '7': an answer 0 to 3, or empty (item 5)" in result.output
    assert not (tmp_path / "o").exists()


def test_user_text_is_escaped_in_the_report(tmp_path):
    path = tmp_path / "<b>team & co.csv"
    _phq9_frame(60).to_csv(path, index=False)
    out = tmp_path / "out"
    assert _run(str(path), "-i", "phq9", "--columns", "q{n}", "--out", str(out)).exit_code == 0
    html = (out / "report.html").read_text()
    assert "&lt;b&gt;team &amp; co.csv" in html and "<b>team" not in html
    assert json.loads((out / "results.json").read_text())["input"]["file"] == "<b>team & co.csv"


def test_item_floor_and_ceiling_never_give_away_a_small_middle(tmp_path):
    # item 1: 50 at 0, 47 at 3, 3 in between: publishing both ends would reveal the 3
    frame = _phq9_frame(100)
    frame["q1"] = [0] * 50 + [3] * 47 + [1, 2, 1]
    frame.to_csv(tmp_path / "phq.csv", index=False)
    out = tmp_path / "out"
    assert _run(str(tmp_path / "phq.csv"), "-i", "phq9", "--columns", "q{n}", "--out", str(out)).exit_code == 0
    item = json.loads((out / "results.json").read_text())["items"]["1"]
    shown = [item[k]["count"] for k in ("floor", "ceiling") if item[k]["count"] is not None]
    assert len(shown) == 1 and item["blank"]["count"] == 0


def test_a_hidden_n_hides_the_mean_and_sd_that_would_give_it_back(tmp_path):
    # 40 respondents, one left unscored (3 blanks > max_blank): n = 39 is hidden (its complement 1 is
    # small), and a mean published at full precision is a fraction over 39 x units that names n.
    frame = _phq9_frame(40)
    frame = frame.astype({f"q{i}": "object" for i in range(1, 10)})
    frame.loc[0, ["q1", "q2", "q3"]] = ""
    path = tmp_path / "phq.csv"
    frame.to_csv(path, index=False)
    out = tmp_path / "out"
    result = _run(str(path), "-i", "phq9", "--columns", "q{n}", "--out", str(out))
    assert result.exit_code == 0, result.output
    total = json.loads((out / "results.json").read_text())["subscales"]["total"]
    assert total["n"] is None
    assert total["mean"] is None and total["sd"] is None


def test_a_user_instrument_named_as_a_shipped_one_is_refused_as_analyze_refuses_it(tmp_path):
    definition = tmp_path / "dupname.toml"
    definition.write_text(USER_SCALE.replace('name = "team_strain"', 'name = "olbi"'))
    (tmp_path / "team.csv").write_text("item_1,item_2,item_3,item_4\n1,2,3,4\n")
    out = tmp_path / "o"
    result = _run(str(tmp_path / "team.csv"), "--instrument", str(definition), "--out", str(out))
    assert result.exit_code == 2, result.output
    assert f"invalid instrument definition {definition}" in result.output
    assert 'impossible value for name: got "olbi", a shipped instrument\'s name' in result.output
    assert not out.exists()


def test_bands_hidden_as_complements_are_not_rebuilt_from_the_histogram(tmp_path):
    # PHQ-9, 198 scored and 3 not: the unscored 3 are protected by hiding a band as their
    # complement (minimal, 0-4). Histogram bins 0 (0-2) and 1 (3-4) lie inside that band: published,
    # they would add up to it and give back n = 198 and the 3 (found by a review of this code).
    scores = [1] * 13 + [3] * 13 + [5] * 20 + [7] * 20 + [9] * 20 + [12] * 20 + [14] * 20 + [16] * 20
    scores += [18] * 15 + [20] * 12 + [23] * 11 + [26] * 14

    def items(total: int) -> list[object]:
        return [min(3, max(0, total - 3 * i)) for i in range(9)]

    rows = [items(s) for s in scores] + [["", "", "", 1, 1, 1, 1, 1, 1]] * 3
    frame = pd.DataFrame(rows, columns=[f"q{i}" for i in range(1, 10)])
    path = tmp_path / "phq.csv"
    frame.to_csv(path, index=False)
    out = tmp_path / "out"
    assert _run(str(path), "-i", "phq9", "--columns", "q{n}", "--out", str(out)).exit_code == 0
    total = json.loads((out / "results.json").read_text())["subscales"]["total"]
    assert total["n"] is None and total["bands"]["minimal"]["count"] is None
    shown = sum(p["count"] for p in total["bands"].values() if p["count"] is not None)
    bins = [p["count"] for p in total["distribution"]["bins"].values()]
    assert shown == 198 - 26  # the other bands are published
    assert all(c is None for c in bins)  # and no bin is left to rebuild the hidden one
