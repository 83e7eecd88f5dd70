"""Plan errors in plain words (plan/messages.py): the key, the value, what is allowed and a fix."""

from __future__ import annotations

import pytest
from plancase import one_error


def test_unknown_top_level_section_is_named_with_allowed_keys():
    message = one_error("[sheduel]\nsessions = 6\n")
    assert "unknown section [sheduel]" in message
    assert "sessions = 6" in message
    assert "title, instruments, scoring, eligibility, schedule" in message
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
