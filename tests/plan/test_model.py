"""The plan (plan/model.py): defaults, loading, the resolved plan and its hash, cut-offs, age bands."""

from __future__ import annotations

import hashlib
import json
import tomllib
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from plancase import SUBSCALES

from burnout.errors import ProtocolError
from burnout.plan import (
    DEFAULT_PROFILE_BOUNDARIES,
    DEFAULT_PROFILE_METHOD,
    DEFAULT_PROFILE_REFERENCE,
    Protocol,
    age_band_label,
    load_protocol,
    parse_protocol,
)

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "protocol.toml"


def flat_keys(table: dict, prefix: str = "") -> set[str]:
    keys = set()
    for key, value in table.items():
        if isinstance(value, dict):
            keys |= flat_keys(value, f"{prefix}{key}.")
        elif value is not None:
            keys.add(prefix + key)
    return keys


CHANGES = {
    "title": "Another program",
    "scoring.max_missing_items": 0,
    "eligibility.exhaustion_min": 4.9,
    "eligibility.cynicism_min": 3.7,
    "eligibility.efficacy_max": 4.4,
    "schedule.sessions": 8,
    "schedule.assessments": [0, 3, 6],
    "response.min_change": 0.5,
    "profiles.method": "raw",
    "profiles.reference": "norms",
    "profiles.exhaustion": 0.1,
    "profiles.cynicism": -0.1,
    "profiles.professional_efficacy": -0.4,
    "subgroups.age_bands": [18, 40, 60],
    "subgroups.by": ["sex", "route"],
    "privacy.min_cell_count": 5,
    "analysis.seed": 1,
    "analysis.confidence": 0.9,
    "reliable_change.exhaustion_reliability": 0.8,
    "reliable_change.cynicism_sd": 1.2,
    "reliable_change.source": "a local retest study",
    "regression_to_mean.rho_low": 0.4,
    "plateau.margin": 0.3,
}


# what else a change needs to stay a valid plan
NEEDS = {
    "profiles.reference": {"profiles.norms": {s: {"mean": 3.0, "sd": 1.0} for s in SUBSCALES}},
    "profiles.method": {"profiles.exhaustion": 4.8, "profiles.cynicism": 3.8, "profiles.professional_efficacy": 3.8},
}


def brute_force_label(age: int, bands: list[int]) -> str:
    """Scan every age 18..120 to find the band's first and last age."""
    lowers = [18, *bands] if bands[0] > 18 else list(bands)
    lower = max(b for b in lowers if b <= age)
    following = [b for b in lowers if b > lower]
    if not following:
        return f"{lower}+"
    upper = max(a for a in range(18, 121) if a < following[0])
    return f"{lower}-{upper}"


def test_defaults_against_seed_study_plan():
    plan = load_protocol(None)
    assert plan == Protocol() == parse_protocol("")
    assert plan.title == "At-home ketamine-assisted therapy for burnout"
    assert plan.scoring.max_missing_items == 1
    assert (plan.eligibility.exhaustion_min, plan.eligibility.cynicism_min, plan.eligibility.efficacy_max) == (
        4.8,
        3.8,
        4.3,
    )
    assert plan.schedule.sessions == 6
    assert plan.schedule.assessments == (0, 2, 4, 6)
    assert plan.response.min_change == 1.0
    assert plan.subgroups.age_bands == (18, 35, 50)
    assert plan.subgroups.by == ("age_band", "sex", "route", "pathway")
    assert plan.privacy.min_cell_count == 11
    assert plan.analysis.seed == 20240917
    assert plan.analysis.confidence == 0.95


def test_profile_defaults_come_from_the_named_constants():
    profiles = load_protocol().profiles
    assert profiles.method == DEFAULT_PROFILE_METHOD == "zscore"
    assert profiles.reference == DEFAULT_PROFILE_REFERENCE == "baseline"
    assert {s: getattr(profiles, s) for s in SUBSCALES} == dict(DEFAULT_PROFILE_BOUNDARIES)
    assert profiles.norms is None


def test_example_file_against_defaults_with_every_key_explicit():
    plan = load_protocol(EXAMPLE)
    assert plan == Protocol()
    assert plan.sha256 == Protocol().sha256
    written = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
    assert flat_keys(written) == flat_keys(Protocol().resolved())


def test_resolved_and_hash_against_independent_json_and_hashlib():
    expected = {
        "title": "At-home ketamine-assisted therapy for burnout",
        "scoring": {"max_missing_items": 1},
        "eligibility": {"exhaustion_min": 4.8, "cynicism_min": 3.8, "efficacy_max": 4.3},
        "schedule": {"sessions": 6, "assessments": [0, 2, 4, 6]},
        "response": {"min_change": 1.0},
        "profiles": {
            "method": DEFAULT_PROFILE_METHOD,
            "reference": DEFAULT_PROFILE_REFERENCE,
            **{s: DEFAULT_PROFILE_BOUNDARIES[s] for s in SUBSCALES},
            "norms": None,
        },
        "subgroups": {
            "age_bands": [18, 35, 50],
            "by": ["age_band", "sex", "route", "pathway"],
            "pathway_levels": [],
            "merge_small": True,
            "merge_small_into": {"age_band": None, "sex": None, "route": None, "pathway": None},
        },
        "privacy": {"min_cell_count": 11, "round_to": 1, "min_cohort": 0},
        "analysis": {"seed": 20240917, "confidence": 0.95},
        "imputation": {"m": 100, "donors": 5},
        "sensitivity": {"delta_grid": [0.0, 0.2, 0.4, 0.6, 0.8, 1.0, 1.2, 1.4, 1.6, 1.8, 2.0]},
        "reliable_change": {
            "exhaustion_reliability": 0.65,
            "cynicism_reliability": 0.6,
            "professional_efficacy_reliability": 0.67,
            "exhaustion_sd": None,
            "cynicism_sd": None,
            "professional_efficacy_sd": None,
            "source": None,
        },
        "regression_to_mean": {"rho_low": 0.5, "rho_high": 0.8},
        "plateau": {"margin": 0.2},
    }
    plan = Protocol()
    resolved = plan.resolved()
    assert resolved == expected
    assert list(resolved) == list(expected)  # deterministic, protocol.md order
    assert json.loads(json.dumps(resolved)) == resolved  # plain JSON types only
    canonical = json.dumps(expected, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert plan.canonical_json() == canonical
    assert plan.sha256 == hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def test_missing_file_names_the_path(tmp_path):
    path = tmp_path / "nowhere" / "protocol.toml"
    with pytest.raises(ProtocolError) as info:
        load_protocol(path)
    assert str(path) in info.value.messages[0]
    assert "file not found" in info.value.messages[0]


def test_directory_instead_of_file_is_a_protocol_error(tmp_path):
    with pytest.raises(ProtocolError) as info:
        load_protocol(tmp_path)
    assert str(tmp_path) in str(info.value)


def test_all_errors_collected_in_one_protocol_error_without_pydantic():
    text = """
colour = "blue"
[scoring]
max_missing_items = 9
[eligibility]
exhaustion_min = "high"
[schedule]
sessions = true
[response]
min_change = -1
[profiles]
metod = "raw"
method = "cluster"
[subgroups]
age_bands = [50, 35]
[privacy]
min_cell_count = 0
[analysis]
confidence = 2
"""
    with pytest.raises(ProtocolError) as info:
        parse_protocol(text, source="plan.toml")
    error = info.value
    expected_keys = [
        "scoring.max_missing_items",
        "eligibility.exhaustion_min",
        "schedule.sessions",
        "response.min_change",
        "profiles.method",
        "profiles.metod",
        "subgroups.age_bands",
        "privacy.min_cell_count",
        "analysis.confidence",
        "colour",
    ]
    assert len(error.messages) == len(expected_keys), error.messages
    for key in expected_keys:
        assert sum(f" {key} " in m or f" {key}:" in m for m in error.messages) == 1, key
    assert isinstance(error, ValueError)
    assert error.__cause__ is None and error.__suppress_context__
    assert "pydantic" not in str(error).lower() and "Input should" not in str(error)


def test_constructor_raises_protocol_error_too():
    with pytest.raises(ProtocolError) as info:
        Protocol(schedule={"sessions": 0}, privacy={"min_cell_count": True})
    assert info.value.source == "<arguments>"
    assert len(info.value.messages) == 2


def test_unknown_cutoff_name_lists_the_allowed_names():
    with pytest.raises(ValueError, match="eligibility.exhaustion_min"):
        load_protocol().cutoff("schedule.sessions")


@settings(max_examples=150, deadline=None)
@given(
    st.integers(0, 10).flatmap(lambda places: st.decimals(min_value=0, max_value=6, places=places)),
    st.sampled_from(["eligibility.exhaustion_min", "eligibility.cynicism_min", "eligibility.efficacy_max"]),
)
def test_cutoff_fraction_against_decimal_text(value, key):
    section, name = key.split(".")
    text = format(value, "f")
    plan = parse_protocol(f"[{section}]\n{name} = {text}\n")
    assert plan.cutoff(key) == Fraction(Decimal(text))
    assert Fraction(str(getattr(getattr(plan, section), name))) == Fraction(Decimal(text))


def test_hash_stable_across_key_order_int_vs_float_and_explicit_defaults():
    a = parse_protocol("[schedule]\nsessions = 6\nassessments = [0, 2, 4, 6]\n[response]\nmin_change = 1\n")
    b = parse_protocol("[response]\nmin_change = 1.0\n[schedule]\nassessments = [0, 2, 4, 6]\nsessions = 6\n")
    c = parse_protocol("")
    d = load_protocol(EXAMPLE)
    assert a.sha256 == b.sha256 == c.sha256 == d.sha256 == Protocol().sha256
    # -0.0 and 0 are the same boundary
    assert (
        parse_protocol("[profiles]\nexhaustion = -0.0\n").sha256
        == parse_protocol("[profiles]\nexhaustion = 0\n").sha256
    )
    assert a.canonical_json() == c.canonical_json()


@pytest.mark.parametrize("key", sorted(CHANGES))
def test_hash_changes_when_any_value_changes(key):
    base = Protocol()
    changed = base.replace({key: CHANGES[key], **NEEDS.get(key, {})})
    assert changed != base
    assert changed.sha256 != base.sha256


def test_hashes_of_all_single_changes_are_distinct():
    base = Protocol()
    hashes = {base.replace({key: value, **NEEDS.get(key, {})}).sha256 for key, value in CHANGES.items()}
    assert len(hashes | {base.sha256}) == len(CHANGES) + 1


def test_plan_is_frozen_and_hashable():
    plan = Protocol()
    with pytest.raises(ValueError):
        plan.title = "x"  # type: ignore[misc]
    assert isinstance(plan.schedule.assessments, tuple)
    assert len({plan, load_protocol(EXAMPLE)}) == 1


def test_replace_validates_and_reports_unknown_keys():
    with pytest.raises(ProtocolError, match="did you mean profiles.method"):
        Protocol().replace({"profiles.metod": "raw"})


def test_repr_says_threshold_schedule_and_hash():
    plan = Protocol()
    assert repr(plan) == (
        "<Protocol 'At-home ketamine-assisted therapy for burnout': threshold E>=4.8 & "
        f"(C>=3.8 | PE<=4.3), 6 sessions, assessments [0, 2, 4, 6], sha256 {plan.sha256[:8]}\u2026>"
    )
    assert "E>=5 &" in repr(plan.replace({"eligibility.exhaustion_min": 5}))


def test_age_band_labels_against_study_bands():
    assert Protocol().age_band_labels() == ["18-34", "35-49", "50+"]
    assert Protocol().replace({"subgroups.age_bands": [18]}).age_band_labels() == ["18+"]
    assert Protocol().replace({"subgroups.age_bands": [18, 19, 65]}).age_band_labels() == ["18-18", "19-64", "65+"]


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(18, 120), unique=True, min_size=1, max_size=6).map(sorted), st.integers(18, 120))
def test_age_band_label_against_brute_force(bands, age):
    label = age_band_label(age, bands)
    assert label == brute_force_label(age, bands)
    plan = Protocol().replace({"subgroups.age_bands": bands})
    assert label in plan.age_band_labels()


def test_age_band_label_unknown_and_out_of_range():
    assert age_band_label(None, [18, 35, 50]) == "unknown"
    with pytest.raises(ValueError, match="17"):
        age_band_label(17, [18, 35, 50])
