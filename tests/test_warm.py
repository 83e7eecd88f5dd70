"""_warm: modules imported in a background thread; failures left to the main thread."""

from __future__ import annotations

import sys

from burnout._warm import REPORT_MODULES, STATISTICS_MODULES, warm_imports


def test_warm_imports_loads_the_modules_and_skips_a_failure() -> None:
    for name in ("colorsys", "burnout_no_such_module"):
        sys.modules.pop(name, None)
    thread = warm_imports("colorsys", "burnout_no_such_module", "wave")
    thread.join(timeout=30)
    assert not thread.is_alive() and thread.daemon
    assert "colorsys" in sys.modules
    assert "burnout_no_such_module" not in sys.modules  # the error stayed in the thread


def test_warmed_module_names_exist() -> None:
    import importlib.util

    for name in (*STATISTICS_MODULES, *REPORT_MODULES):
        assert importlib.util.find_spec(name) is not None, name
