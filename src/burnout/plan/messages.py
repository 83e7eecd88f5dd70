"""The analysis plan: ``protocol.toml`` read into a frozen, validated `Protocol`. (messages)."""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Mapping
from typing import Any, Final

from pydantic import BaseModel, ValidationError

from burnout.errors import dotted_key as _dotted
from burnout.errors import is_wrong_type, wrong_type
from burnout.errors import show_value as _show
from burnout.instrument import SUBSCALES
from burnout.plan.extensions import ImputationSection, SensitivitySection
from burnout.plan.inference import PlateauSection, RegressionToMeanSection, ReliableChangeSection
from burnout.plan.instruments import InstrumentsSection
from burnout.plan.model import Protocol, _drop_none
from burnout.plan.sections import (
    _SEED_MAX,
    AGE_MAX,
    AGE_MIN,
    ASSESSMENTS_MAX,
    MIN_CELL_COUNT_MAX,
    NORM_SD_MAX,
    SESSIONS_MAX,
    SUBGROUP_VARIABLES,
    Z_BOUNDARY_MAX,
    AnalysisSection,
    EligibilitySection,
    MergeTargets,
    NormEntry,
    Norms,
    PrivacySection,
    ProfilesSection,
    ResponseSection,
    ScheduleSection,
    ScoringSection,
    SubgroupsSection,
)
from burnout.plan.toml import _toml_value

# Error messages -------------------------------------------------------------------

# dotted key (list items: "key[]") -> (what type is expected, what values are allowed)
_NUMBER_0_6 = ("a number", "a number from 0 to 6 (subscale points)")
_KEYS: Final[dict[str, tuple[str, str]]] = {
    "title": ("a string", "any text"),
    "scoring.max_missing_items": (
        "an integer",
        "an integer from 0 to 4 (a 5-item subscale needs at least one answered item)",
    ),
    "eligibility.exhaustion_min": _NUMBER_0_6,
    "eligibility.cynicism_min": _NUMBER_0_6,
    "eligibility.efficacy_max": _NUMBER_0_6,
    "schedule.sessions": (
        "an integer",
        f"an integer from 1 to {SESSIONS_MAX:,} (the reach curve costs one engine aggregate per session)",
    ),
    "schedule.assessments": (
        "an array of integers",
        f"a non-empty, strictly increasing array of at most {ASSESSMENTS_MAX} integers starting with 0 (baseline), "
        f"none greater than schedule.sessions (missing-data patterns are a {ASSESSMENTS_MAX}-bit mask)",
    ),
    "schedule.assessments[]": ("an integer", "an integer from 0 (baseline) to schedule.sessions"),
    "response.min_change": ("a number", "a number > 0 and <= 6 (points)"),
    "response.per_subscale": ("a table", "a table [response.per_subscale] of scale name = points > 0"),
    "instruments.primary": (
        "a string",
        'the name of a shipped instrument, e.g. "mbi_gs" or "phq9", or the path of a definition file relative to '
        'the plan, e.g. "instruments/my_scale.toml"',
    ),
    "instruments.secondary": (
        "an array of strings",
        'distinct names of shipped instruments or paths of definition files, e.g. ["phq9", "gad7"]',
    ),
    "instruments.secondary[]": ("a string", "the name of a shipped instrument or the path of a definition .toml file"),
    "eligibility.rule": (
        "a string",
        "a rule over the primary instrument's scales, e.g. \"exhaustion >= 4.8 and (cynicism >= 3.8 or "
        'professional_efficacy <= 4.3)" (and, or, not, parentheses, >= <= > < == !=)',
    ),
    "profiles.method": ("a string", '"raw" or "zscore"'),
    "profiles.reference": ("a string", '"baseline" or "norms"'),
    "profiles.norms": (
        "a table",
        "a table [profiles.norms] with exhaustion, cynicism and professional_efficacy, "
        f'each {{mean = <0 to 6>, sd = <above 0, at most {NORM_SD_MAX}>}}; required when reference = "norms"',
    ),
    "subgroups.age_bands": (
        "an array of integers",
        f"a non-empty, strictly increasing array of integers from {AGE_MIN} to {AGE_MAX} "
        "(lower bounds of the age bands)",
    ),
    "subgroups.age_bands[]": ("an integer", f"an integer from {AGE_MIN} to {AGE_MAX}"),
    "subgroups.by": (
        "an array of strings",
        "distinct values among " + ", ".join(f'"{v}"' for v in SUBGROUP_VARIABLES),
    ),
    "subgroups.by[]": ("a string", " or ".join(f'"{v}"' for v in SUBGROUP_VARIABLES)),
    "privacy.min_cell_count": (
        "an integer",
        f"an integer from 1 (no suppression) to {MIN_CELL_COUNT_MAX} (counts are 64-bit integers)",
    ),
    "privacy.round_to": ("an integer", "an integer from 1 (exact counts) to 1000, e.g. 5"),
    "privacy.min_cohort": ("an integer", "an integer >= 0 (0: no minimum)"),
    "subgroups.pathway_levels": ("an array of strings", "an array of pathway values to publish as levels"),
    "subgroups.pathway_levels[]": ("a string", "a pathway value of 1 to 80 characters"),
    "subgroups.merge_small": (
        "a boolean",
        "true (merge small unknown/other levels into a real level) or false (hide them with complements)",
    ),
    "subgroups.merge_small_into.age_band": ("a string", 'one of the age bands, e.g. "35-49"'),
    "subgroups.merge_small_into.sex": ("a string", '"female" or "male"'),
    "subgroups.merge_small_into.route": ("a string", '"sublingual" or "subcutaneous"'),
    "subgroups.merge_small_into.pathway": ("a string", "a pathway listed in subgroups.pathway_levels"),
    "analysis.seed": ("an integer", f"an integer from 0 to {_SEED_MAX}"),
    "analysis.confidence": ("a number", "a number strictly between 0.5 and 1"),
    "sensitivity.delta_grid": ("an array of numbers", "1 to 50 numbers from 0 to 6, strictly increasing"),
    "sensitivity.delta_grid[]": ("a number", "a number from 0 to 6 (subscale points)"),
    "imputation.m": ("an integer", "an integer from 2 to 1000 (imputations; 100 by default)"),
    "imputation.donors": ("an integer", "an integer from 1 to 50 (predictive-mean-matching donors; 5 by default)"),
    "reliable_change.source": ("a string", "a citation of 1 to 400 characters"),
    "regression_to_mean.rho_low": ("a number", "a correlation strictly between 0 and 1, at most rho_high"),
    "regression_to_mean.rho_high": ("a number", "a correlation strictly between 0 and 1, at least rho_low"),
    "plateau.margin": ("a number", "a number > 0 and <= 6 (points)"),
}
for _s in SUBSCALES:
    _KEYS[f"profiles.{_s}"] = (
        "a number",
        f"a number from -{Z_BOUNDARY_MAX} to {Z_BOUNDARY_MAX} (a z-score; its raw cut-off must fit a 64-bit "
        'integer of score units); with method = "raw" a score from 0 to 6',
    )
    _KEYS[f"profiles.norms.{_s}"] = ("a table", f"{{mean = <0 to 6>, sd = <above 0, at most {NORM_SD_MAX}>}}")
    _KEYS[f"profiles.norms.{_s}.mean"] = _NUMBER_0_6
    _KEYS[f"profiles.norms.{_s}.sd"] = (
        "a number",
        f"a number > 0 and <= {NORM_SD_MAX} (the largest SD of scores on the 0-6 scale)",
    )

    _KEYS[f"reliable_change.{_s}_reliability"] = ("a number", "a reliability strictly between 0 and 1")
    _KEYS[f"reliable_change.{_s}_sd"] = ("a number", f"a number > 0 and <= {NORM_SD_MAX} (an SD on the 0-6 scale)")

# section path -> the model whose keys are allowed there
_SECTION_MODELS: Final[dict[str, type[BaseModel]]] = {
    "": Protocol,
    "instruments": InstrumentsSection,
    "scoring": ScoringSection,
    "eligibility": EligibilitySection,
    "schedule": ScheduleSection,
    "response": ResponseSection,
    "profiles": ProfilesSection,
    "subgroups": SubgroupsSection,
    "subgroups.merge_small_into": MergeTargets,
    "privacy": PrivacySection,
    "analysis": AnalysisSection,
    "sensitivity": SensitivitySection,
    "imputation": ImputationSection,
    "reliable_change": ReliableChangeSection,
    "regression_to_mean": RegressionToMeanSection,
    "plateau": PlateauSection,
    "profiles.norms": Norms,
    **{f"profiles.norms.{s}": NormEntry for s in SUBSCALES},
}
for _name in _SECTION_MODELS:
    if _name:
        _KEYS.setdefault(_name, ("a table", f"a table [{_name}]"))

_EXAMPLES: Final[dict[str, str]] = {
    "profiles.norms": "[profiles.norms] exhaustion = {mean = 2.5, sd = 1.3} ...",
    **{f"profiles.norms.{s}": f"{s} = {{mean = 2.5, sd = 1.3}}" for s in SUBSCALES},
    **{f"profiles.norms.{s}.mean": "mean = 2.5" for s in SUBSCALES},
    **{f"profiles.norms.{s}.sd": "sd = 1.3" for s in SUBSCALES},
}


def _default_example(key: str) -> str | None:
    if key in _EXAMPLES:
        return _EXAMPLES[key]
    node: Any = _drop_none(Protocol.model_construct().model_dump(mode="json"))
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    last = key.rsplit(".", 1)[-1]
    if isinstance(node, dict):
        return f"[{key}]"
    return f"{last} = {_toml_value(node)}"


def _spec_key(loc: tuple[Any, ...]) -> str:
    text = ""
    for part in loc:
        text += "[]" if isinstance(part, int) else ("." if text else "") + str(part)
    return text


def _allowed_keys(section: str) -> list[str]:
    return list(_SECTION_MODELS[section].model_fields)


def _suggest_key(name: str, section: str) -> str | None:
    # A key that exists verbatim in another section was most likely put in the wrong
    # place (``sessions = 6`` above ``[schedule]``); otherwise look for a typo.
    for other, model in _SECTION_MODELS.items():
        if other != section and name in model.model_fields and not other.startswith("profiles.norms."):
            return f"{other}.{name}" if other else name
    close = difflib.get_close_matches(name, _allowed_keys(section), n=1, cutoff=0.6)
    if close:
        return f"{section}.{close[0]}" if section else close[0]
    return None


def _unknown_key(loc: tuple[Any, ...], value: object) -> str:
    section = ".".join(str(p) for p in loc[:-1])
    name = str(loc[-1])
    key = _dotted(loc)
    where = f"[{section}]" if section else "the top level"
    allowed = ", ".join(_allowed_keys(section))
    suggestion = _suggest_key(name, section)
    hint = f"did you mean {suggestion}?" if suggestion else "remove it"
    if isinstance(value, Mapping):
        return f"unknown section [{key}] (holding {_show(value)}): {where} allows {allowed}; {hint}"
    return f"unknown key {key} = {_show(value)}: {where} allows {allowed}; {hint}"


def _messages(exc: ValidationError) -> list[str]:
    """One message per pydantic error, in our words."""
    messages: list[str] = []
    for err in exc.errors(include_url=False):
        loc = tuple(err["loc"])
        kind = err["type"]
        value = err.get("input")
        key = _dotted(loc) or "the plan"
        expected, allowed = _KEYS.get(_spec_key(loc), ("a valid value", "see protocol.md"))
        ctx = err.get("ctx") or {}
        if kind == "extra_forbidden":
            messages.append(_unknown_key(loc, value))
        elif kind == "instrument_definitions":  # whole messages, each naming its key and file
            messages.extend(ctx["reasons"])
        elif kind == "missing":
            example = _default_example(_spec_key(loc))
            fix = f"; e.g. {example}" if example else ""
            messages.append(f"missing key {key}: expected {expected}{fix}")
        elif kind == "norms_missing":
            messages.append(
                f'missing key {key}: reference = "norms" needs population norms; add {_EXAMPLES["profiles.norms"]} '
                'for every subscale, or set reference = "baseline"'
            )
        elif is_wrong_type(kind, value):
            example = _default_example(_spec_key(loc).removesuffix("[]"))
            fix = f"; e.g. {example}" if example else ""
            messages.append(wrong_type(key, value, expected=f"{expected}{fix}"))
        elif kind == "literal_error":
            close = difflib.get_close_matches(value, _literal_choices(allowed), n=1, cutoff=0.6)
            hint = f"; did you mean {json.dumps(close[0])}?" if close else ""
            messages.append(f"impossible value for {key}: got {_show(value)}; allowed: {allowed}{hint}")
        elif kind == "impossible_value":
            for reason in ctx.get("reasons") or (ctx.get("reason", ""),):
                messages.append(f"impossible value for {key}: got {_show(value)} ({reason}); allowed: {allowed}")
        elif kind in {
            "greater_than",
            "greater_than_equal",
            "less_than",
            "less_than_equal",
            "too_short",
            "too_long",
            "finite_number",
        }:
            messages.append(f"impossible value for {key}: got {_show(value)}; allowed: {allowed}")
        else:  # not expected; still no traceback
            messages.append(f"invalid value for {key}: got {_show(value)} ({err['msg']}); allowed: {allowed}")
    return messages


def _literal_choices(allowed: str) -> list[str]:
    return re.findall(r'"([^"]+)"', allowed)
