"""The plan's ``[instruments]`` section and what the plan decides per instrument.

``[instruments] primary`` names the instrument whose scales decide eligibility,
completion and response (default ``"mbi_gs"``, the reference study's);
``secondary`` lists the instruments given the paired first-to-last analysis (default:
every instrument table the cohort folder holds besides the primary). The helpers
below turn a validated plan into the exact rule and minimum changes the engine
decides on; `cross_check` names every conflict between the sections and the
primary instrument's scales.
"""

from __future__ import annotations

from fractions import Fraction
from typing import TYPE_CHECKING, Annotated, Final

from pydantic import Field, field_validator

from burnout.instruments import Instrument, load_instrument, shipped_instruments
from burnout.plan.eligibility import All, Any_, Compare, Rule, check_rule, parse_rule
from burnout.plan.exact import _Str, exact
from burnout.plan.sections import _impossible, _Section

if TYPE_CHECKING:
    from burnout.plan.model import Protocol

__all__ = [
    "DEFAULT_PRIMARY",
    "InstrumentsSection",
    "cross_check",
    "eligibility_rule",
    "min_changes",
    "primary_instrument",
]

DEFAULT_PRIMARY: Final[str] = "mbi_gs"
_Name = Annotated[_Str, Field(min_length=1, max_length=40)]


def _known(name: str) -> str:
    names = shipped_instruments()
    if name not in names:
        raise _impossible(f"not a shipped instrument; allowed: {', '.join(names)}")
    return name


class InstrumentsSection(_Section):
    """``[instruments]`` (our extension): the primary instrument and the secondary ones.

    Left out of the resolved plan while both are at their defaults, so the reference
    study's plan (and its sha256) is what it always was.
    """

    primary: _Name = DEFAULT_PRIMARY
    secondary: Annotated[tuple[_Name, ...], Field(max_length=20)] | None = None

    @field_validator("primary")
    @classmethod
    def _check_primary(cls, value: str) -> str:
        return _known(value)

    @field_validator("secondary")
    @classmethod
    def _check_secondary(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        if value is None:
            return value
        reasons = [r for v in value for r in _reasons(v)]
        if len(set(value)) != len(value):
            reasons.append("an instrument is listed twice")
        if reasons:
            raise _impossible(*reasons)
        return value


def _reasons(name: str) -> list[str]:
    names = shipped_instruments()
    return [] if name in names else [f"{name!r} is not a shipped instrument; allowed: {', '.join(names)}"]


def primary_instrument(protocol: Protocol) -> Instrument:
    """The primary instrument's definition."""
    return load_instrument(protocol.instruments.primary)


def eligibility_rule(protocol: Protocol) -> Rule:
    """The eligibility rule the engine decides: ``[eligibility] rule`` when given, else the
    reference study's threshold written as a rule over the MBI-GS subscales."""
    elig = protocol.eligibility
    if elig.rule is not None:
        return parse_rule(elig.rule)

    def cmp(name: str, op: str, value: float) -> Compare:
        return Compare(name, op, exact(value), repr(value))  # type: ignore[arg-type]  # op is one of the literals

    return All(
        (
            cmp("exhaustion", ">=", elig.exhaustion_min),
            Any_((cmp("cynicism", ">=", elig.cynicism_min), cmp("professional_efficacy", "<=", elig.efficacy_max))),
        )
    )


def min_changes(protocol: Protocol) -> dict[str, Fraction]:
    """The smallest improvement that makes a responder, per scale of the primary instrument.

    ``[response.per_subscale]`` first; then, for an instrument other than the MBI-GS, the
    scale's ``min_change`` in its definition; then ``[response] min_change``.
    """
    inst = primary_instrument(protocol)
    given = protocol.response.per_subscale or {}
    out = {}
    for name, scale in inst.scales.items():
        if name in given:
            out[name] = exact(given[name])
        elif protocol.instruments.primary != DEFAULT_PRIMARY and scale.min_change is not None:
            out[name] = Fraction(scale.min_change)
        else:
            out[name] = exact(protocol.response.min_change)
    return out


def cross_check(protocol: Protocol) -> list[str]:
    """Every conflict between the plan's sections and the primary instrument's scales."""
    inst = primary_instrument(protocol)
    scales = list(inst.scales)
    ranges = {s: inst.score_range(s) for s in scales}
    messages = []
    rule = protocol.eligibility.rule
    if rule is None and protocol.instruments.primary != DEFAULT_PRIMARY:
        first = scales[0]
        low, high = ranges[first]
        messages.append(
            f"missing key eligibility.rule: the primary instrument {inst.name} has scales {', '.join(scales)}, "
            f"not the MBI-GS threshold keys; give a rule over them, e.g. "
            f'rule = "{first} >= {_number(low + (high - low) / 2)}"'
        )
    elif rule is not None:
        messages += [
            f"impossible value for eligibility.rule: {m}" for m in check_rule(parse_rule(rule), scales, ranges=ranges)
        ]
    for name, value in (protocol.response.per_subscale or {}).items():
        if name not in scales:
            messages.append(f"unknown key response.per_subscale.{name}: {inst.name} has the scales {', '.join(scales)}")
        elif not 0 < exact(value) <= ranges[name][1] - ranges[name][0]:
            span = ranges[name][1] - ranges[name][0]
            messages.append(
                f"impossible value for response.per_subscale.{name}: got {value}; allowed: a number > 0 and "
                f"<= {_number(span)} (the scale's range)"
            )
    return messages


def _number(value: Fraction) -> str:
    return str(value.numerator) if value.denominator == 1 else f"{float(value):g}"
