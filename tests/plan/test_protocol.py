"""The analysis plan: defaults, every error, identity (hash), exactness, round trips.

References: the study plan (spec/seed-study.md, spec/protocol.md), an independent
json/hashlib computation of the canonical hash, Python's tomllib reading the written
TOML, fractions.Fraction of the decimal text, and a brute-force age-band scan.
"""

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

from burnout.errors import ProtocolError
from burnout.plan import (
    DEFAULT_PROFILE_BOUNDARIES,
    DEFAULT_PROFILE_METHOD,
    DEFAULT_PROFILE_REFERENCE,
    SUBGROUP_VARIABLES,
    Protocol,
    age_band_label,
    load_protocol,
    parse_protocol,
)

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "protocol.toml"
SUBSCALES = ("exhaustion", "cynicism", "professional_efficacy")
NORMS_TOML = """
[profiles.norms]
exhaustion = {mean = 2.5, sd = 1.3}
cynicism = {mean = 2.0, sd = 1.25}
professional_efficacy = {mean = 4.5, sd = 1.0}
"""


def errors_of(text: str) -> tuple[str, ...]:
    with pytest.raises(ProtocolError) as info:
        parse_protocol(text, source="plan.toml")
    return info.value.messages


def one_error(text: str) -> str:
    messages = errors_of(text)
    assert len(messages) == 1, messages
    return messages[0]


def flat_keys(table: dict, prefix: str = "") -> set[str]:
    keys = set()
    for key, value in table.items():
        if isinstance(value, dict):
            keys |= flat_keys(value, f"{prefix}{key}.")
        elif value is not None:
            keys.add(prefix + key)
    return keys


# ---------------------------------------------------------------------- defaults


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
        "subgroups": {"age_bands": [18, 35, 50], "by": ["age_band", "sex", "route", "pathway"], "pathway_levels": []},
        "privacy": {"min_cell_count": 11, "round_to": 1, "min_cohort": 0},
        "analysis": {"seed": 20240917, "confidence": 0.95},
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


# ---------------------------------------------------------------- plan errors


def test_unknown_top_level_section_is_named_with_allowed_keys():
    message = one_error("[sheduel]\nsessions = 6\n")
    assert "unknown section [sheduel]" in message
    assert "sessions = 6" in message
    assert "title, scoring, eligibility, schedule" in message
    assert "did you mean schedule?" in message


def test_unknown_key_in_section_names_dotted_key_value_allowed_and_suggestion():
    message = one_error('[profiles]\nmetod = "raw"\n')
    assert message.startswith('unknown key profiles.metod = "raw"')
    assert "[profiles] allows method, reference, exhaustion, cynicism, professional_efficacy, norms" in message
    assert "did you mean profiles.method?" in message


def test_unknown_key_that_belongs_to_another_section_points_there():
    message = one_error("sessions = 8\n")
    assert "unknown key sessions = 8" in message
    assert "did you mean schedule.sessions?" in message


def test_unknown_key_without_any_close_match_says_remove_it():
    assert "remove it" in one_error("[privacy]\nzzz = 1\n")


@pytest.mark.parametrize(
    ("text", "key", "got", "expected"),
    [
        ('[eligibility]\nexhaustion_min = "4.8"\n', "eligibility.exhaustion_min", '"4.8" (a string)', "a number"),
        ('[response]\nmin_change = "1"\n', "response.min_change", '"1" (a string)', "a number"),
        ("[schedule]\nsessions = [6]\n", "schedule.sessions", "[6] (an array)", "an integer"),
        ("[scoring]\nmax_missing_items = true\n", "scoring.max_missing_items", "true (a boolean)", "an integer"),
        ("[privacy]\nmin_cell_count = 11.0\n", "privacy.min_cell_count", "11.0 (a decimal number)", "an integer"),
        ("[eligibility]\ncynicism_min = false\n", "eligibility.cynicism_min", "false (a boolean)", "a number"),
        ("[schedule]\nassessments = 6\n", "schedule.assessments", "6 (an integer)", "an array of integers"),
        ('[schedule]\nassessments = [0, "2"]\n', "schedule.assessments[1]", '"2" (a string)', "an integer"),
        ("[profiles]\nmethod = 1\n", "profiles.method", "1 (an integer)", "a string"),
        ("[subgroups]\nby = [1]\n", "subgroups.by[0]", "1 (an integer)", "a string"),
        ("title = 3\n", "title", "3 (an integer)", "a string"),
        ("scoring = 1\n", "scoring", "1 (an integer)", "a table"),
        ("[analysis]\nseed = 1.5\n", "analysis.seed", "1.5 (a decimal number)", "an integer"),
        ("[schedule]\nsessions = 2024-01-01\n", "schedule.sessions", "2024-01-01 (a date/time)", "an integer"),
    ],
)
def test_wrong_type_names_key_value_and_expected_type(text, key, got, expected):
    message = one_error(text)
    assert message.startswith(f"wrong type for {key}: got {got}, expected {expected}"), message


def test_wrong_type_suggests_the_default_as_a_fix():
    assert one_error('[schedule]\nsessions = "6"\n').endswith("e.g. sessions = 6")


@pytest.mark.parametrize(
    ("text", "key", "got", "allowed"),
    [
        ("[scoring]\nmax_missing_items = -1\n", "scoring.max_missing_items", "-1", "from 0 to 4"),
        ("[scoring]\nmax_missing_items = 5\n", "scoring.max_missing_items", "5", "from 0 to 4"),
        ("[eligibility]\nexhaustion_min = 6.5\n", "eligibility.exhaustion_min", "6.5", "from 0 to 6"),
        ("[eligibility]\ncynicism_min = -0.1\n", "eligibility.cynicism_min", "-0.1", "from 0 to 6"),
        ("[eligibility]\nefficacy_max = 7\n", "eligibility.efficacy_max", "7", "from 0 to 6"),
        ("[eligibility]\nexhaustion_min = nan\n", "eligibility.exhaustion_min", "nan", "from 0 to 6"),
        ("[eligibility]\nexhaustion_min = inf\n", "eligibility.exhaustion_min", "inf", "from 0 to 6"),
        ("[schedule]\nsessions = 0\n", "schedule.sessions", "0", "from 1 to 1,000"),
        # the issue: 1,000,000 sessions ran past 300 s (20,000 took 139 s and 1.2 GB)
        ("[schedule]\nsessions = 1000000\n", "schedule.sessions", "1000000", "from 1 to 1,000"),
        ("[schedule]\nsessions = 1001\n", "schedule.sessions", "1001", "from 1 to 1,000"),
        (
            "[schedule]\nsessions = 100\nassessments = [" + ", ".join(map(str, range(64))) + "]\n",
            "schedule.assessments",
            "[0, 1, 2",
            "at most 63 integers",
        ),
        ("[schedule]\nassessments = []\n", "schedule.assessments", "[]", "non-empty"),
        ("[schedule]\nassessments = [0, -2]\n", "schedule.assessments[1]", "-2", "from 0 (baseline)"),
        ("[response]\nmin_change = -1.0\n", "response.min_change", "-1.0", "> 0 and <= 6"),
        ("[response]\nmin_change = 0\n", "response.min_change", "0", "> 0 and <= 6"),
        ("[response]\nmin_change = 6.01\n", "response.min_change", "6.01", "> 0 and <= 6"),
        ('[profiles]\nmethod = "cluster"\n', "profiles.method", '"cluster"', '"raw" or "zscore"'),
        ('[profiles]\nreference = "population"\n', "profiles.reference", '"population"', '"baseline" or "norms"'),
        ("[profiles]\nexhaustion = inf\n", "profiles.exhaustion", "inf", "from -5124095576028 to 5124095576028"),
        # a larger z boundary crashed the analysis: its raw cut-off overflowed the engine's int64
        ("[profiles]\ncynicism = 1e14\n", "profiles.cynicism", "1e+14", "from -5124095576028 to 5124095576028"),
        ("[profiles]\nprofessional_efficacy = -1e300\n", "profiles.professional_efficacy", "-1e+300", "a z-score"),
        ('[profiles]\nmethod = "raw"\nexhaustion = 4.8\ncynicism = 6.5\nprofessional_efficacy = 4\n', "profiles.cynicism", "6.5", "0 to 6"),
        ('[profiles]\nmethod = "raw"\nexhaustion = 4.8\ncynicism = 3.8\nprofessional_efficacy = -0.5\n', "profiles.professional_efficacy", "-0.5", "0 to 6"),
        ("[subgroups]\nage_bands = []\n", "subgroups.age_bands", "[]", "non-empty"),
        ("[subgroups]\nage_bands = [17, 35]\n", "subgroups.age_bands[0]", "17", "from 18 to 120"),
        ("[subgroups]\nage_bands = [18, 121]\n", "subgroups.age_bands[1]", "121", "from 18 to 120"),
        ("[subgroups]\nage_bands = [18, 50, 35]\n", "subgroups.age_bands", "[18, 50, 35]", "strictly increasing"),
        ("[subgroups]\nage_bands = [18, 35, 35]\n", "subgroups.age_bands", "[18, 35, 35]", "strictly increasing"),
        ('[subgroups]\nby = ["sex", "sex"]\n', "subgroups.by", '["sex", "sex"]', "distinct"),
        ('[subgroups]\nby = ["colour"]\n', "subgroups.by[0]", '"colour"', '"age_band" or "sex"'),
        ("[privacy]\nmin_cell_count = 0\n", "privacy.min_cell_count", "0", "from 1 (no suppression)"),
        ("[analysis]\nseed = -1\n", "analysis.seed", "-1", "from 0 to"),
        ("[analysis]\nconfidence = 0.5\n", "analysis.confidence", "0.5", "strictly between 0.5 and 1"),
        ("[analysis]\nconfidence = 1\n", "analysis.confidence", "1", "strictly between 0.5 and 1"),
    ],
)
def test_impossible_value_names_key_value_and_allowed_range(text, key, got, allowed):
    message = one_error(text)
    assert message.startswith(f"impossible value for {key}: got {got}"), message
    assert "allowed: " in message and allowed in message.split("allowed: ", 1)[1], message


@pytest.mark.parametrize(
    ("assessments", "reason"),
    [
        ("[2, 4, 6]", "starts with 2, not 0 (baseline)"),
        ("[0, 4, 2, 6]", "2 follows 4, so it is not strictly increasing"),
        ("[0, 2, 2, 6]", "2 follows 2, so it is not strictly increasing"),
        ("[0, 2, 4, 8]", "8 is after the last session (schedule.sessions = 6)"),
    ],
)
def test_assessments_rules_each_named(assessments, reason):
    message = one_error(f"[schedule]\nassessments = {assessments}\n")
    assert message.startswith(f"impossible value for schedule.assessments: got {assessments}")
    assert reason in message


def test_assessments_checked_against_sessions_given_in_the_same_plan():
    message = one_error("[schedule]\nsessions = 3\n")  # default assessments [0, 2, 4, 6]
    assert "4, 6 are after the last session (schedule.sessions = 3)" in message
    assert parse_protocol("[schedule]\nsessions = 3\nassessments = [0, 3]\n").schedule.assessments == (0, 3)


def test_assessments_with_several_faults_give_one_message_each():
    messages = errors_of("[schedule]\nassessments = [1, 0, 9]\n")
    assert len(messages) == 3
    assert all(m.startswith("impossible value for schedule.assessments") for m in messages)


def test_norms_reference_without_norms_is_an_error():
    message = one_error('[profiles]\nreference = "norms"\n')
    assert message.startswith("missing key profiles.norms")
    assert 'reference = "baseline"' in message  # the alternative fix


def test_norms_reference_with_norms_is_valid_and_exact():
    plan = parse_protocol('[profiles]\nreference = "norms"\n' + NORMS_TOML)
    assert plan.profiles.norms is not None
    assert plan.profiles.norms.cynicism.sd_exact == Fraction(5, 4)
    assert plan.cutoff("profiles.norms.exhaustion.mean") == Fraction(5, 2)
    assert plan.resolved()["profiles"]["norms"] == {
        "exhaustion": {"mean": 2.5, "sd": 1.3},
        "cynicism": {"mean": 2.0, "sd": 1.25},
        "professional_efficacy": {"mean": 4.5, "sd": 1.0},
    }


@pytest.mark.parametrize("sd", ["0", "-1.3", "0.0", "3.01", "1000000"])
def test_norms_sd_must_be_positive_and_at_most_half_the_scale(sd):
    text = NORMS_TOML.replace("sd = 1.3", f"sd = {sd}")
    message = one_error('[profiles]\nreference = "norms"\n' + text)
    assert message.startswith(f"impossible value for profiles.norms.exhaustion.sd: got {sd}")
    assert "a number > 0 and <= 3" in message


def test_plan_bounds_against_what_the_analysis_can_honour():
    """Each bound is derived, not chosen: recompute it from its reason."""
    from burnout.instrument import SCALE
    from burnout.plan import ASSESSMENTS_MAX, MIN_CELL_COUNT_MAX, NORM_SD_MAX, SESSIONS_MAX, Z_BOUNDARY_MAX

    assert ASSESSMENTS_MAX == 63  # one bit per assessment in a signed 64-bit mask
    assert NORM_SD_MAX == 3  # the SD of values in [0, 6] is largest (3) with half at each end
    # the raw cut-off of the largest z boundary, in score units, still fits int64; one more does not
    assert 6 * SCALE + Z_BOUNDARY_MAX * NORM_SD_MAX * SCALE <= 2**63 - 1 < 6 * SCALE + (Z_BOUNDARY_MAX + 1) * NORM_SD_MAX * SCALE
    assert MIN_CELL_COUNT_MAX == 2**63 - 1 and SESSIONS_MAX == 1000
    edge = Protocol.from_dict(
        {
            "schedule": {"sessions": SESSIONS_MAX, "assessments": list(range(ASSESSMENTS_MAX))},
            "profiles": {"exhaustion": Z_BOUNDARY_MAX, "professional_efficacy": -Z_BOUNDARY_MAX},
            "privacy": {"min_cell_count": MIN_CELL_COUNT_MAX},
        }
    )
    assert edge.schedule.sessions == SESSIONS_MAX and len(edge.schedule.assessments) == ASSESSMENTS_MAX


def test_norms_missing_subscale_and_unknown_entry_key():
    text = '[profiles]\nreference = "norms"\n[profiles.norms]\nexhaustion = {mean = 2.5, sd = 1.3, n = 100}\n'
    messages = errors_of(text)
    assert any(m.startswith("unknown key profiles.norms.exhaustion.n = 100") for m in messages)
    assert any(m.startswith("missing key profiles.norms.cynicism") for m in messages)
    assert any(m.startswith("missing key profiles.norms.professional_efficacy") for m in messages)
    assert len(messages) == 3


def test_decimal_with_more_digits_than_a_double_keeps_is_rejected():
    message = one_error("[eligibility]\nexhaustion_min = 4.80000000000000000001\n")
    assert "impossible value for eligibility.exhaustion_min: got 4.80000000000000000001" in message
    assert "kept exactly" in message


def test_bad_toml_syntax_names_file_and_line():
    with pytest.raises(ProtocolError) as info:
        parse_protocol('title = "x"\n\n[schedule]\nsessions = = 6\n', source="my/protocol.toml")
    text = str(info.value)
    assert "my/protocol.toml" in text
    assert "line 4, column" in info.value.messages[0]
    assert "not valid TOML" in info.value.messages[0]


def test_bad_toml_syntax_in_a_file_names_the_path(tmp_path):
    path = tmp_path / "protocol.toml"
    path.write_text('[profiles]\nmethod = "raw\n', encoding="utf-8")
    with pytest.raises(ProtocolError) as info:
        load_protocol(path)
    assert info.value.source == str(path)
    assert str(path) in str(info.value)
    assert info.value.messages[0].startswith("line 2")


def test_unterminated_string_at_end_of_document_names_the_last_line():
    assert one_error('title = "x').startswith("line 1 (end of file)")


def test_non_utf8_file_is_an_error_with_line(tmp_path):
    path = tmp_path / "protocol.toml"
    path.write_bytes(b'title = "ok"\ntitle2 = "caf\xe9"\n')
    with pytest.raises(ProtocolError) as info:
        load_protocol(path)
    assert info.value.messages[0].startswith("line 2: not UTF-8")


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


# ------------------------------------------------------------------ exactness


def test_exact_fractions_against_the_written_decimal():
    plan = load_protocol()
    assert plan.eligibility.exhaustion_min_exact == Fraction(24, 5)
    assert plan.eligibility.cynicism_min_exact == Fraction(19, 5)
    assert plan.eligibility.efficacy_max_exact == Fraction(43, 10)
    assert plan.response.min_change_exact == Fraction(1)
    assert plan.cutoff("eligibility.exhaustion_min") == Fraction(str(plan.eligibility.exhaustion_min)) == Fraction(24, 5)
    assert plan.cutoff("profiles.professional_efficacy") == plan.profiles.boundary("professional_efficacy")
    assert plan.profiles.professional_efficacy_exact == Fraction(str(DEFAULT_PROFILE_BOUNDARIES["professional_efficacy"]))


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


def test_toml_int_accepted_where_a_number_is_expected():
    as_int = parse_protocol("[eligibility]\nexhaustion_min = 5\n[response]\nmin_change = 2\n")
    as_float = parse_protocol("[eligibility]\nexhaustion_min = 5.0\n[response]\nmin_change = 2.00\n")
    assert as_int.eligibility.exhaustion_min == 5.0 and isinstance(as_int.eligibility.exhaustion_min, float)
    assert as_int == as_float and as_int.sha256 == as_float.sha256


# ---------------------------------------------------------------- identity


def test_hash_stable_across_key_order_int_vs_float_and_explicit_defaults():
    a = parse_protocol("[schedule]\nsessions = 6\nassessments = [0, 2, 4, 6]\n[response]\nmin_change = 1\n")
    b = parse_protocol("[response]\nmin_change = 1.0\n[schedule]\nassessments = [0, 2, 4, 6]\nsessions = 6\n")
    c = parse_protocol("")
    d = load_protocol(EXAMPLE)
    assert a.sha256 == b.sha256 == c.sha256 == d.sha256 == Protocol().sha256
    # -0.0 and 0 are the same boundary
    assert parse_protocol("[profiles]\nexhaustion = -0.0\n").sha256 == parse_protocol("[profiles]\nexhaustion = 0\n").sha256
    assert a.canonical_json() == c.canonical_json()


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


# -------------------------------------------------------------- round trips

finite = st.floats(min_value=-5124095576028, max_value=5124095576028)  # Z_BOUNDARY_MAX
score = st.floats(min_value=0, max_value=6)


@st.composite
def plans(draw) -> dict:
    sessions = draw(st.integers(1, 40))
    later = draw(st.lists(st.integers(1, sessions), unique=True, max_size=8))
    method = draw(st.sampled_from(["raw", "zscore"]))
    reference = draw(st.sampled_from(["baseline", "norms"]))
    boundary = score if method == "raw" else finite
    profiles = {"method": method, "reference": reference}
    profiles |= {s: draw(boundary) for s in SUBSCALES}
    if reference == "norms" or draw(st.booleans()):
        profiles["norms"] = {
            s: {"mean": draw(score), "sd": draw(st.floats(min_value=0, max_value=3, exclude_min=True))}
            for s in SUBSCALES
        }
    return {
        "title": draw(st.text(max_size=40)),
        "scoring": {"max_missing_items": draw(st.integers(0, 4))},
        "eligibility": {k: draw(score) for k in ("exhaustion_min", "cynicism_min", "efficacy_max")},
        "schedule": {"sessions": sessions, "assessments": [0, *sorted(later)]},
        "response": {"min_change": draw(st.floats(min_value=0, max_value=6, exclude_min=True))},
        "profiles": profiles,
        "subgroups": {
            "age_bands": sorted(draw(st.lists(st.integers(18, 120), unique=True, min_size=1, max_size=6))),
            "by": draw(st.lists(st.sampled_from(SUBGROUP_VARIABLES), unique=True)),
        },
        "privacy": {"min_cell_count": draw(st.integers(1, 10**6))},
        "analysis": {
            "seed": draw(st.integers(0, 2**63 - 1)),
            "confidence": draw(st.floats(min_value=0.5, max_value=1, exclude_min=True, exclude_max=True)),
        },
    }


@settings(max_examples=200, deadline=None)
@given(plans())
def test_to_toml_round_trip_property(data):
    plan = Protocol.from_dict(data)
    text = plan.to_toml()
    again = parse_protocol(text)
    assert again == plan
    assert again.resolved() == plan.resolved()
    assert again.sha256 == plan.sha256
    assert tomllib.loads(text)["title"] == data["title"]  # the writer's TOML is standard TOML


@settings(max_examples=50, deadline=None)
@given(plans(), st.randoms(use_true_random=False))
def test_hash_ignores_key_order_property(data, rnd):
    def shuffled(table):
        items = list(table.items())
        rnd.shuffle(items)
        return {k: shuffled(v) if isinstance(v, dict) else v for k, v in items}

    assert Protocol.from_dict(shuffled(data)).sha256 == Protocol.from_dict(data).sha256


def test_to_toml_round_trip_through_a_file(tmp_path):
    plan = parse_protocol('title = "Tab\\there \\"quoted\\" \\\\ caf\u00e9 \\u0001"\n[profiles]\nreference = "norms"\n' + NORMS_TOML)
    path = tmp_path / "resolved.toml"
    path.write_text(plan.to_toml(), encoding="utf-8")
    assert load_protocol(path) == plan
    assert plan.title == 'Tab\there "quoted" \\ caf\u00e9 \x01'


# --------------------------------------------------------------------- age bands


def brute_force_label(age: int, bands: list[int]) -> str:
    """Scan every age 18..120 to find the band's first and last age."""
    lowers = [18, *bands] if bands[0] > 18 else list(bands)
    lower = max(b for b in lowers if b <= age)
    following = [b for b in lowers if b > lower]
    if not following:
        return f"{lower}+"
    upper = max(a for a in range(18, 121) if a < following[0])
    return f"{lower}-{upper}"


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


def test_raw_method_with_default_z_boundaries_is_an_error():
    message = one_error('[profiles]\nmethod = "raw"\nexhaustion = 4.8\ncynicism = 3.8\n')
    assert message.startswith("impossible value for profiles.professional_efficacy: got -0.35")
    assert "give raw ones" in message
    plan = parse_protocol('[profiles]\nmethod = "raw"\nexhaustion = 4.5\ncynicism = 3.5\nprofessional_efficacy = 3.8\n')
    assert plan.profiles.boundary("cynicism") == Fraction(7, 2)
