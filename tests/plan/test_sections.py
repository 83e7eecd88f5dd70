"""The plan's sections (plan/sections.py): each value's allowed range and the rules across values."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest
from plancase import NORMS_TOML, errors_of, one_error

from burnout.errors import ProtocolError
from burnout.plan import (
    Protocol,
    load_protocol,
    parse_protocol,
)


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
        (
            '[profiles]\nmethod = "raw"\nexhaustion = 4.8\ncynicism = 6.5\nprofessional_efficacy = 4\n',
            "profiles.cynicism",
            "6.5",
            "0 to 6",
        ),
        (
            '[profiles]\nmethod = "raw"\nexhaustion = 4.8\ncynicism = 3.8\nprofessional_efficacy = -0.5\n',
            "profiles.professional_efficacy",
            "-0.5",
            "0 to 6",
        ),
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
        ("[imputation]\nm = 1\n", "imputation.m", "1", "from 2 to 1000"),
        ("[analysis]\nconfidence = 1\n", "analysis.confidence", "1", "strictly between 0.5 and 1"),
        ("[sensitivity]\ndelta_grid = []\n", "sensitivity.delta_grid", "[]", "1 to 50 numbers"),
        ("[sensitivity]\ndelta_grid = [0, 6.5]\n", "sensitivity.delta_grid[1]", "6.5", "from 0 to 6"),
        ("[sensitivity]\ndelta_grid = [0, 1, 0.5]\n", "sensitivity.delta_grid", "[0, 1, 0.5]", "strictly increasing"),
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
    assert (
        6 * SCALE + Z_BOUNDARY_MAX * NORM_SD_MAX * SCALE
        <= 2**63 - 1
        < 6 * SCALE + (Z_BOUNDARY_MAX + 1) * NORM_SD_MAX * SCALE
    )
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


def test_raw_method_with_default_z_boundaries_is_an_error():
    message = one_error('[profiles]\nmethod = "raw"\nexhaustion = 4.8\ncynicism = 3.8\n')
    assert message.startswith("impossible value for profiles.professional_efficacy: got -0.35")
    assert "give raw ones" in message
    plan = parse_protocol('[profiles]\nmethod = "raw"\nexhaustion = 4.5\ncynicism = 3.5\nprofessional_efficacy = 3.8\n')
    assert plan.profiles.boundary("cynicism") == Fraction(7, 2)


# ---------------------------------------------------------------------- global recoding targets
def test_merge_small_into_accepts_real_levels_and_lists_what_is_allowed(tmp_path: Path) -> None:
    good = tmp_path / "good.toml"
    good.write_text(
        '[subgroups]\npathway_levels = ["PTSD"]\n[subgroups.merge_small_into]\n'
        'sex = "male"\nroute = "subcutaneous"\nage_band = "50+"\npathway = "ptsd"\n'
    )
    into = load_protocol(good).subgroups.merge_small_into
    assert (into.sex, into.route, into.age_band, into.pathway) == ("male", "subcutaneous", "50+", "ptsd")
    assert load_protocol(good) == parse_protocol(load_protocol(good).to_toml())
    bad = tmp_path / "bad.toml"
    bad.write_text(
        '[subgroups]\nmerge_small = "yes"\n[subgroups.merge_small_into]\n'
        'sex = "nonbinary"\ncolour = "red"\nage_band = "20-30"\npathway = "ptsd"\n'
    )
    with pytest.raises(ProtocolError) as info:
        load_protocol(bad)
    text = str(info.value)
    for part in (
        'subgroups.merge_small: got "yes"',
        'subgroups.merge_small_into.sex: got "nonbinary"; allowed: "female" or "male"',
        "unknown key subgroups.merge_small_into.colour",
        "allows age_band, sex, route, pathway",
    ):
        assert part in text, text
    ok_types = tmp_path / "targets.toml"
    ok_types.write_text('[subgroups.merge_small_into]\nage_band = "20-30"\npathway = "ptsd"\n')
    with pytest.raises(ProtocolError) as info:
        load_protocol(ok_types)
    text = str(info.value)
    assert "not one of the age bands ['18-34', '35-49', '50+']" in text
    assert 'merge_small_into.pathway = "ptsd" is not among pathway_levels []' in text
