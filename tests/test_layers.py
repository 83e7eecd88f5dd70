"""The layers contract in pyproject.toml bites: a module importing upward fails `lint-imports`.

The check runs import-linter on a copy of the source tree, first as it is (the contract
is kept), then with one upward import added (stats importing results), which must break it.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _lint_imports() -> str:
    found = shutil.which("lint-imports") or shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    if found is None:
        if os.environ.get("BURNOUT_CI"):
            pytest.fail("lint-imports is not installed; `make lint` installs it from requirements.lock")
        pytest.skip("lint-imports is not installed (pip install -e '.[lint]')")
    return found


def _run(tool: str, tree: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(tree / "src")}
    return subprocess.run(
        [tool, "--config", str(tree / "pyproject.toml"), "--no-cache"],
        cwd=tree, env=env, capture_output=True, text=True, timeout=120,
    )


@pytest.mark.slow
def test_an_upward_import_breaks_the_layers_contract(tmp_path: Path) -> None:
    tool = _lint_imports()
    tree = tmp_path / "repo"
    shutil.copytree(ROOT / "src", tree / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    shutil.copy(ROOT / "pyproject.toml", tree / "pyproject.toml")

    kept = _run(tool, tree)
    assert kept.returncode == 0, kept.stdout + kept.stderr
    assert "1 kept, 0 broken" in kept.stdout

    common = tree / "src" / "burnout" / "stats" / "_common.py"
    common.write_text(common.read_text() + "\nfrom burnout.results import build_results  # upward: stats -> results\n")
    broken = _run(tool, tree)
    assert broken.returncode != 0
    assert "BROKEN" in broken.stdout
    assert "burnout.stats._common -> burnout.results" in broken.stdout, broken.stdout
