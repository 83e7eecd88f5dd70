"""Exact plan numbers (plan/exact.py): every cut-off is the decimal written, as a Fraction."""

from __future__ import annotations

from fractions import Fraction

from plancase import one_error

from burnout.plan import (
    DEFAULT_PROFILE_BOUNDARIES,
    load_protocol,
    parse_protocol,
)


def test_exact_fractions_against_the_written_decimal():
    plan = load_protocol()
    assert plan.eligibility.exhaustion_min_exact == Fraction(24, 5)
    assert plan.eligibility.cynicism_min_exact == Fraction(19, 5)
    assert plan.eligibility.efficacy_max_exact == Fraction(43, 10)
    assert plan.response.min_change_exact == Fraction(1)
    assert (
        plan.cutoff("eligibility.exhaustion_min") == Fraction(str(plan.eligibility.exhaustion_min)) == Fraction(24, 5)
    )
    assert plan.cutoff("profiles.professional_efficacy") == plan.profiles.boundary("professional_efficacy")
    assert plan.profiles.professional_efficacy_exact == Fraction(
        str(DEFAULT_PROFILE_BOUNDARIES["professional_efficacy"])
    )


def test_decimal_with_more_digits_than_a_double_keeps_is_rejected():
    message = one_error("[eligibility]\nexhaustion_min = 4.80000000000000000001\n")
    assert "impossible value for eligibility.exhaustion_min: got 4.80000000000000000001" in message
    assert "kept exactly" in message


def test_toml_int_accepted_where_a_number_is_expected():
    as_int = parse_protocol("[eligibility]\nexhaustion_min = 5\n[response]\nmin_change = 2\n")
    as_float = parse_protocol("[eligibility]\nexhaustion_min = 5.0\n[response]\nmin_change = 2.00\n")
    assert as_int.eligibility.exhaustion_min == 5.0 and isinstance(as_int.eligibility.exhaustion_min, float)
    assert as_int == as_float and as_int.sha256 == as_float.sha256
