"""docs/spec/survey.md's paths exist in a survey's results.json, and every top-level key is named."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from typer.testing import CliRunner

from burnout.cli import app

SPEC = Path(__file__).resolve().parents[2] / "docs" / "spec" / "survey.md"
_BLOCK = re.compile(r"^```paths\n(.*?)^```", re.MULTILINE | re.DOTALL)
_PLACEHOLDER = re.compile(r"<[a-z_]+>")


def _matches(tree: Any, segments: list[str]) -> bool:
    if not segments:
        return True
    if not isinstance(tree, dict):
        return False
    head, rest = segments[0], segments[1:]
    if _PLACEHOLDER.fullmatch(head):
        return any(_matches(child, rest) for child in tree.values())
    return head in tree and _matches(tree[head], rest)


def test_every_documented_path_exists(tmp_path):
    rng = np.random.default_rng(2)
    frame = pd.DataFrame(rng.integers(0, 4, size=(200, 9)), columns=[f"item_{i}" for i in range(1, 10)])
    frame.to_csv(tmp_path / "phq.csv", index=False)
    result = CliRunner().invoke(app, ["survey", str(tmp_path / "phq.csv"), "-i", "phq9", "--out", str(tmp_path / "o")])
    assert result.exit_code == 0, result.output
    results = json.loads((tmp_path / "o" / "results.json").read_text())
    paths = [line.split()[0] for block in _BLOCK.findall(SPEC.read_text()) for line in block.splitlines() if line.strip()]
    assert len(paths) > 30
    missing = [p for p in paths if not _matches(results, p.split("."))]
    assert missing == []
    assert set(results) <= {p.split(".")[0] for p in paths}
