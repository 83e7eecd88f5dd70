"""burnout: a burnout treatment program's real-world outcomes, analysed like a published study.

The public surface is small: ``analyze`` runs the whole analysis plan on a cohort
and returns a frozen ``Analysis``; ``load_protocol`` reads an analysis plan;
``simulate_cohort`` makes the calibrated synthetic cohort. Heavy modules are
imported on first use so that importing the package stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from burnout._version import __version__

__all__ = ["Analysis", "__version__", "analyze", "load_cohort", "load_protocol", "simulate_cohort"]

if TYPE_CHECKING:
    from burnout.analysis import Analysis, analyze
    from burnout.ingest import load_cohort
    from burnout.plan import load_protocol
    from burnout.simulate import simulate_cohort

_LAZY = {
    "Analysis": "burnout.analysis",
    "analyze": "burnout.analysis",
    "load_cohort": "burnout.ingest",
    "load_protocol": "burnout.plan",
    "simulate_cohort": "burnout.simulate",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'burnout' has no attribute {name!r}")


def __dir__() -> list[str]:
    # the public names, lazy ones included (they are not in globals() until first used)
    return sorted({*__all__, *(n for n in globals() if n.startswith("__"))})
