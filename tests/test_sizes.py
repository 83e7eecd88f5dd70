"""The size limits (no module over 400 lines, no function over 60) hold for the whole package.

tools/sizes.py measures; every top-level package and module of src/burnout is a case,
so a new one is covered without being listed.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "src" / "burnout"

ENTRIES = sorted(
    p.name for p in PACKAGE.iterdir() if (p.is_dir() and any(p.rglob("*.py"))) or p.suffix == ".py"
)


def _sizes_tool():
    spec = importlib.util.spec_from_file_location("burnout_tools_sizes", ROOT / "tools" / "sizes.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


sizes = _sizes_tool()


def _files(entry: str) -> list[Path]:
    path = PACKAGE / entry
    return sorted(path.rglob("*.py")) if path.is_dir() else [path]


@pytest.mark.parametrize("entry", ENTRIES)
def test_every_entry_is_within_the_limits(entry: str) -> None:
    files = _files(entry)
    assert files, entry
    too_long = [f"{p.relative_to(PACKAGE)} ({n} lines)" for p in files if (n := sizes.module_lines(p)) > 400]
    functions = [f"{s.where} ({s.lines} lines)" for p in files for s in sizes.function_sizes(p) if s.lines > 60]
    assert not too_long, f"modules over 400 lines: {too_long}"
    assert not functions, f"functions over 60 lines: {functions}"


def test_function_size_counts_def_to_last_line(tmp_path: Path) -> None:
    # A decorated function with a nested one: the decorator is not counted, the nested
    # function counts inside its parent and on its own, methods are named by class.
    source = tmp_path / "m.py"
    source.write_text(
        "import functools\n"  # 1
        "@functools.cache\n"  # 2
        "def outer():\n"  # 3
        "    def inner():\n"  # 4
        "        return 1\n"  # 5
        "\n"  # 6
        "    return inner()\n"  # 7
        "class K:\n"  # 8
        "    def method(self):\n"  # 9
        "        pass\n",  # 10
        encoding="utf-8",
    )
    found = {s.where.rsplit(":", 1)[1]: s.lines for s in sizes.function_sizes(source)}
    assert found == {"outer": 5, "outer.inner": 2, "K.method": 2}
    assert sizes.module_lines(source) == 10


def test_oversized_reports_a_long_module_and_function(tmp_path: Path) -> None:
    body = "".join(f"    x{i} = {i}\n" for i in range(61))  # def line + 61 = 62 lines
    (tmp_path / "big.py").write_text("def f():\n" + body + "\n" * 340, encoding="utf-8")
    (tmp_path / "small.py").write_text("def g():\n    return 1\n", encoding="utf-8")
    modules, functions = sizes.oversized(tmp_path)
    assert [(Path(s.where).name, s.lines) for s in modules] == [("big.py", 402)]
    assert [(s.where.rsplit(":", 1)[1], s.lines) for s in functions] == [("f", 62)]
