"""The contracts in docs/spec/ describe the program as it is.

- every results.json path named in a ```paths block of docs/spec/results.md exists in
  the results.json the demo writes, and every top-level section of that file is named;
- every plan key of examples/protocol.toml, and every key of the resolved plan, is in
  the key table of docs/spec/protocol.md, and every key of that table is a real key.

The demo runs through the command line (``burnout demo``), the public surface that
stays put when modules move.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
RESULTS_MD = ROOT / "docs" / "spec" / "results.md"
PROTOCOL_MD = ROOT / "docs" / "spec" / "protocol.md"
EXAMPLE_PLAN = ROOT / "examples" / "protocol.toml"

_PATH_BLOCK = re.compile(r"^```paths\n(.*?)^```", re.MULTILINE | re.DOTALL)
_PLACEHOLDER = re.compile(r"<[a-z_]+>")
_KEY_ROW = re.compile(r"^\| `([a-z_][a-z_.]*)` \|", re.MULTILINE)


def documented_result_paths(text: str) -> list[str]:
    """The first word of every non-blank line of every ```paths block."""
    blocks = _PATH_BLOCK.findall(text)
    return [line.split()[0] for block in blocks for line in block.splitlines() if line.strip()]


def matches(tree: Any, segments: list[str]) -> bool:
    """True when some concrete path fits ``segments`` (a <placeholder> fits any key)."""
    if not segments:
        return True
    if not isinstance(tree, dict):
        return False
    head, rest = segments[0], segments[1:]
    if _PLACEHOLDER.fullmatch(head):
        return any(matches(child, rest) for child in tree.values())
    return head in tree and matches(tree[head], rest)


def leaf_keys(tree: dict[str, Any], prefix: str = "") -> Iterator[str]:
    """Dotted keys of a plan: tables are walked, anything else (a value, an array, null) is a leaf."""
    for key, value in tree.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, dict):
            yield from leaf_keys(value, f"{dotted}.")
        else:
            yield dotted


def is_documented(key: str, documented: set[str]) -> bool:
    """``key`` or a table holding it (``profiles.norms`` covers ``profiles.norms.cynicism.sd``)."""
    parts = key.split(".")
    return any(".".join(parts[:i]) in documented for i in range(1, len(parts) + 1))


@pytest.fixture(scope="module")
def demo_results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """results.json of ``burnout demo`` (the default seed), run once for this module."""
    script = Path(sys.executable).with_name("burnout")
    command = str(script) if script.exists() else shutil.which("burnout")
    assert command, "the burnout command is not installed next to this Python or on PATH"
    out = tmp_path_factory.mktemp("spec") / "demo"
    run = subprocess.run(
        [command, "demo", "--out", str(out), "--quiet"],
        capture_output=True,
        text=True,
        env=os.environ.copy(),
        timeout=600,
    )
    assert run.returncode == 0, run.stderr
    return json.loads((out / "results.json").read_text(encoding="utf-8"))


def test_results_md_has_path_blocks():
    paths = documented_result_paths(RESULTS_MD.read_text(encoding="utf-8"))
    assert len(paths) > 100, f"only {len(paths)} paths found in ```paths blocks of {RESULTS_MD}"
    assert len(paths) == len(set(paths)), sorted({p for p in paths if paths.count(p) > 1})


@pytest.mark.slow
def test_every_documented_path_is_in_the_demo_results(demo_results):
    paths = documented_result_paths(RESULTS_MD.read_text(encoding="utf-8"))
    missing = [p for p in paths if not matches(demo_results, p.split("."))]
    assert not missing, f"named in docs/spec/results.md but in no path of the demo's results.json: {missing}"


@pytest.mark.slow
def test_every_top_level_section_is_documented(demo_results):
    sections = {p.split(".")[0] for p in documented_result_paths(RESULTS_MD.read_text(encoding="utf-8"))}
    undocumented = [key for key in demo_results if key not in sections]
    assert not undocumented, f"top-level keys of results.json missing from docs/spec/results.md: {undocumented}"


def test_every_example_plan_key_is_documented():
    documented = set(_KEY_ROW.findall(PROTOCOL_MD.read_text(encoding="utf-8")))
    example = tomllib.loads(EXAMPLE_PLAN.read_text(encoding="utf-8"))
    keys = list(leaf_keys(example))
    assert len(keys) >= 20, keys  # the example lists every key; a parse that finds few is wrong
    undocumented = [k for k in keys if not is_documented(k, documented)]
    assert not undocumented, f"keys of examples/protocol.toml missing from docs/spec/protocol.md: {undocumented}"


# Keys the resolved plan leaves out while they hold their defaults (so the reference
# plan's sha256 stays put): [instruments], eligibility.rule, response.per_subscale.
_EXTENSION_KEYS = {
    "instruments.primary",
    "instruments.secondary",
    "eligibility.rule",
    "response.per_subscale",
}


def test_extension_keys_are_keys_of_a_plan_that_sets_them():
    from burnout.plan import parse_protocol

    plan = parse_protocol(
        '[instruments]\nprimary = "phq9"\nsecondary = ["gad7"]\n[eligibility]\nrule = "total >= 10"\n'
        "[response.per_subscale]\ntotal = 5\n"
    ).resolved()
    assert set(leaf_keys(plan)) - {"response.per_subscale.total"} >= _EXTENSION_KEYS - {"response.per_subscale"}
    assert plan["response"]["per_subscale"] == {"total": 5.0}


@pytest.mark.slow
def test_protocol_md_documents_exactly_the_resolved_plan(demo_results):
    """results.json's ``protocol`` is the resolved plan, every key with its value."""
    documented = set(_KEY_ROW.findall(PROTOCOL_MD.read_text(encoding="utf-8")))
    plan = {k: v for k, v in demo_results["protocol"].items() if k != "sha256"}
    real = set(leaf_keys(plan)) | _EXTENSION_KEYS
    assert sorted(k for k in real if not is_documented(k, documented)) == []
    assert sorted(documented - real) == [], "documented in protocol.md but not keys of the plan"


def test_matches_needs_a_real_path():
    """The matcher itself: a placeholder stands for a key, not for a missing level."""
    tree = {"subscales": {"exhaustion": {"timepoints": {"0": {"n": 3}, "2": {"n": 3, "change": 1.0}}}}}
    assert matches(tree, "subscales.<s>.timepoints.<t>.change".split("."))
    assert not matches(tree, "subscales.<s>.timepoints.<t>.chnage".split("."))
    assert not matches(tree, "subscales.<s>.timepoints.<t>.n.extra".split("."))
    assert not matches(tree, "flow.completers".split("."))
