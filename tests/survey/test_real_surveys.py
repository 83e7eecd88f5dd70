"""`burnout survey` on real public data (../shared/data/external, see each SOURCE.txt).

MBI-ES teachers (Byrne's SEM-textbook files): the published alphas, to 3 decimals.
Greek BAT (356 respondents, answers 1-5 with NA): alphas equal to an independent
computation here (pandas, complete cases, the textbook formula).
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from burnout.cli import app

EXTERNAL = Path(__file__).resolve().parents[3] / "shared" / "data" / "external"
MBI_ES = EXTERNAL / "mbi_es_teachers"
BAT = EXTERNAL / "bat_greek" / "BATs.csv"
runner = CliRunner()

# Byrne's MBI-ES files; the alphas published for them (SOURCE.txt): EE, DP, PA
PUBLISHED = {
    "MBIELM1.CSV": (580, {"emotional_exhaustion": 0.909, "depersonalization": 0.736, "personal_accomplishment": 0.784}),
    "MBISEC1.CSV": (692, {"emotional_exhaustion": 0.900, "depersonalization": 0.746, "personal_accomplishment": 0.786}),
}
BAT_COLUMNS = (
    [f"ex{i:02d}" for i in range(1, 9)]
    + [f"md{i:02d}" for i in range(9, 14)]
    + [f"ci{i}" for i in range(14, 19)]
    + [f"ei{i}" for i in range(19, 24)]
)


def _survey(args: list[str]) -> dict:
    result = runner.invoke(app, ["survey", *args])
    assert result.exit_code == 0, result.output
    out = Path(args[args.index("--out") + 1])
    return json.loads((out / "results.json").read_text(encoding="utf-8"))


@pytest.mark.skipif(not MBI_ES.is_dir(), reason=f"real MBI-ES data not available at {MBI_ES}")
@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_mbi_es_teachers_reproduce_the_published_alphas(tmp_path, name):
    n, alphas = PUBLISHED[name]
    out = tmp_path / "out"
    results = _survey([str(MBI_ES / name), "--instrument", "mbi_es", "--columns", "ITEM{n}", "--out", str(out)])
    assert results["respondents"] == n
    for scale, published in alphas.items():
        s = results["subscales"][scale]
        assert s["n"] == n and s["alpha"]["n"] == n
        assert round(s["alpha"]["value"], 3) == published, (scale, s["alpha"]["value"])
        low, high = s["alpha"]["ci"]
        assert low < s["alpha"]["value"] < high
    assert (out / "report.html").is_file()


def _alpha(frame: pd.DataFrame) -> float:
    complete = frame.dropna()
    k = frame.shape[1]
    return k / (k - 1) * (1 - complete.var(ddof=1).sum() / complete.sum(axis=1).var(ddof=1))


@pytest.mark.skipif(not BAT.is_file(), reason=f"real BAT data not available at {BAT}")
def test_greek_bat_alphas_equal_an_independent_computation(tmp_path):
    mapping = tmp_path / "map.toml"
    mapping.write_text("[columns]\n" + "".join(f'"{p}" = "{c}"\n' for p, c in enumerate(BAT_COLUMNS, 1)))
    out = tmp_path / "out"
    results = _survey([str(BAT), "--instrument", "bat23", "--columns", str(mapping), "--na", "NA", "--out", str(out)])
    frame = pd.read_csv(BAT, na_values=["NA"])
    assert results["respondents"] == len(frame) == 356
    inst_items = {
        "exhaustion": range(1, 9),
        "mental_distance": range(9, 14),
        "cognitive_impairment": range(14, 19),
        "emotional_impairment": range(19, 24),
        "total": range(1, 24),
    }
    for scale, positions in inst_items.items():
        expected = _alpha(frame[[BAT_COLUMNS[p - 1] for p in positions]])
        assert results["subscales"][scale]["alpha"]["value"] == pytest.approx(expected, abs=1e-12), scale
    # the subscale mean: the mean over respondents of each one's item mean (one blank allowed)
    ex = frame[BAT_COLUMNS[:8]]
    scored = ex[ex.isna().sum(axis=1) <= 1].mean(axis=1)
    assert results["subscales"]["exhaustion"]["mean"] == pytest.approx(scored.mean(), abs=1e-12)
    assert results["subscales"]["exhaustion"]["sd"] == pytest.approx(scored.std(ddof=1), abs=1e-12)


PHQ_GAD = EXTERNAL / "phq9_gad7_two_waves" / "depression_anxiety_t1.csv"


@pytest.mark.skipif(not PHQ_GAD.is_file(), reason=f"real PHQ-9/GAD-7 data not available at {PHQ_GAD}")
@pytest.mark.parametrize(("instrument", "pattern", "cuts"), [("phq9", "PHQ{n}", (5, 10, 15, 20)), ("gad7", "GAD{n}", (5, 10, 15))])
def test_phq9_and_gad7_wave_one_against_pandas(tmp_path, instrument, pattern, cuts):
    out = tmp_path / "out"
    results = _survey([str(PHQ_GAD), "--instrument", instrument, "--columns", pattern, "--out", str(out)])
    frame = pd.read_csv(PHQ_GAD)
    items = frame[[pattern.replace("{n}", str(i)) for i in range(1, 10 if instrument == "phq9" else 8)]]
    total = results["subscales"]["total"]
    assert results["respondents"] == len(frame) == 403
    assert total["alpha"]["value"] == pytest.approx(_alpha(items), abs=1e-12)
    sums = items.sum(axis=1)
    assert total["mean"] == pytest.approx(sums.mean(), abs=1e-12)
    counts = pd.cut(sums, [-1, *[c - 0.5 for c in cuts], 10**6], labels=list(total["bands"])).value_counts()
    for label, p in total["bands"].items():
        assert p["count"] is None or p["count"] == counts[label], label
