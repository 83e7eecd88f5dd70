"""The report's tables: one definition, two renderings. (build)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from burnout.report.format import Ctx
from burnout.report.tables.beyond import _beyond
from burnout.report.tables.extended import _completion, _mixed, _reach
from burnout.report.tables.inference import _early_change, _plateau, _regression_to_mean
from burnout.report.tables.instruments import _instruments
from burnout.report.tables.invariance import _invariance
from burnout.report.tables.mmrm import _mmrm
from burnout.report.tables.mmrm import _tipping as _mmrm_tipping
from burnout.report.tables.model import Table
from burnout.report.tables.outcomes import _below, _comparison, _heterogeneity_csv, _response, _subgroups
from burnout.report.tables.phq9 import _phq9, _phq9_adjusted
from burnout.report.tables.profiles import _profiles, _severe, _transitions
from burnout.report.tables.reliability import _reliability, _reliable
from burnout.report.tables.safety import _safety
from burnout.report.tables.study import _baseline, _effect_sizes, _flow, _plan, _trajectories
from burnout.report.tables.tipping import _tipping as _mi_tipping

__all__ = ["build_tables"]


BUILDERS: Final[dict[str, Callable[[Ctx], Table | None]]] = {
    "analysis_plan": _plan,
    "participant_flow": _flow,
    "baseline_characteristics": _baseline,
    "early_change": _early_change,
    "trajectories": _trajectories,
    "effect_sizes": _effect_sizes,
    "plateau": _plateau,
    "response": _response,
    "response_comparison": _comparison,
    "below_threshold": _below,
    "profiles": _profiles,
    "profile_transitions": _transitions,
    "burnout_profile_resolution": _severe,
    "side_effects": _safety,
    "subgroups": _subgroups,
    "beyond_completers": _beyond,
    "itt_mmrm": _mmrm,
    "itt_mmrm_tipping": _mmrm_tipping,
    "itt_mixed_model": _mixed,
    "itt_tipping_point": _mi_tipping,
    "completion_by_subgroup": _completion,
    "reach": _reach,
    "phq9": _phq9,
    "phq9_adjusted": _phq9_adjusted,
    "instruments": _instruments,
    "reliable_change": _reliable,
    "reliability": _reliability,
    "measurement_invariance": _invariance,
    "regression_to_mean": _regression_to_mean,
}


def build_tables(ctx: Ctx) -> dict[str, Table]:
    """Every table whose numbers are present, keyed by CSV file stem."""
    out: dict[str, Table] = {}
    for key, build in BUILDERS.items():
        table = build(ctx)
        if table is not None:
            out[key] = table
    het = _heterogeneity_csv(ctx, out.get("subgroups"))
    if het is not None:
        out[het.key] = het
    return out
