"""Import the modules a later stage needs while the engine works on an earlier one.

The analysis spends its first seconds in DuckDB, which releases the GIL, while the
statistics and report modules (scipy, statsmodels, matplotlib, great_tables) take
about 2.5 s of pure-Python importing that no engine work depends on. A daemon thread
imports them meanwhile; the main thread's own ``import`` then finds them loaded, or
waits on Python's per-module import lock for the one in progress. An import that
fails in the thread is ignored: the main thread raises the same error where it
imports the module.
"""

from __future__ import annotations

import importlib
import threading

__all__ = ["REPORT_MODULES", "STATISTICS_MODULES", "warm_imports"]

STATISTICS_MODULES = ("burnout.measures", "burnout.results", "burnout.stats")
REPORT_MODULES = ("burnout.report.figures", "burnout.report.tables", "burnout.report.html")


def warm_imports(*modules: str) -> threading.Thread:
    """Start importing ``modules`` in a daemon thread; return the thread (already started)."""

    def run() -> None:
        # ibis first, whole: a thread that starts at a submodule (ibis.expr.types) while the
        # main thread runs ibis/__init__ deadlocks on the two module locks.
        for name in ("ibis", *modules):
            try:
                importlib.import_module(name)
            except Exception:  # noqa: BLE001 - re-raised by the main thread's own import
                return

    thread = threading.Thread(target=run, name="burnout-warm-imports", daemon=True)
    thread.start()
    return thread
