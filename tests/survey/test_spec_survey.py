"""docs/spec/survey.md's paths exist in a survey's results.json, and every top-level key is named."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
from typer.testing import CliRunner

from burnout.cli import app
from test_spec import documented_result_paths, matches

SPEC = Path(__file__).resolve().parents[2] / "docs" / "spec" / "survey.md"
def test_every_documented_path_exists(tmp_path):
    rng = np.random.default_rng(2)
    frame = pd.DataFrame(rng.integers(0, 4, size=(200, 9)), columns=[f"item_{i}" for i in range(1, 10)])
    frame.to_csv(tmp_path / "phq.csv", index=False)
    result = CliRunner().invoke(app, ["survey", str(tmp_path / "phq.csv"), "-i", "phq9", "--out", str(tmp_path / "o")])
    assert result.exit_code == 0, result.output
    results = json.loads((tmp_path / "o" / "results.json").read_text())
    paths = documented_result_paths(SPEC.read_text())
    assert len(paths) > 30
    missing = [p for p in paths if not matches(results, p.split("."))]
    assert missing == []
    assert set(results) <= {p.split(".")[0] for p in paths}
