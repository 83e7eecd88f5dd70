"""The plan's ``[instruments]`` section and what the plan decides per instrument.

``[instruments] primary`` names the instrument whose scales decide eligibility,
completion and response (default ``"mbi_gs"``, the reference study's);
``secondary`` lists the instruments given the paired first-to-last analysis (default:
every instrument table the cohort folder holds besides the primary). Each is a
shipped instrument's name or the path of a user's definition file (``.toml``,
following ``instruments/schema.json``), relative to the plan file: it is read and
validated with the plan, every problem reported as the plan's are, and its table in
the cohort folder is ``<its name>.csv`` or ``.parquet``. The helpers
below turn a validated plan into the exact rule and minimum changes the engine
decides on; `cross_check` names every conflict between the sections and the
primary instrument's scales.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Final

from pydantic import Field, PrivateAttr, field_validator, model_validator
from pydantic_core import PydanticCustomError

from burnout.errors import show_value
from burnout.instruments import Instrument, InstrumentError, is_definition_path, load_instrument, shipped_instruments
from burnout.plan.eligibility import All, Any_, Compare, Rule, check_rule, parse_rule
from burnout.plan.exact import _Str, exact
from burnout.plan.sections import _impossible, _Section

if TYPE_CHECKING:
    from burnout.plan.model import Protocol

__all__ = [
    "DEFAULT_PRIMARY",
    "InstrumentsSection",
    "cross_check",
    "definitions_relative_to",
    "eligibility_rule",
    "min_changes",
    "primary_instrument",
]

DEFAULT_PRIMARY: Final[str] = "mbi_gs"
# a shipped instrument's name (at most 40 characters) or the path of a definition file
_Ref = Annotated[_Str, Field(min_length=1, max_length=400)]

# The folder a plan's definition paths are relative to, while that plan is validated:
# the plan file's folder (`definitions_relative_to`); the working directory otherwise.
_DEFINITIONS_FOLDER: ContextVar[Path | None] = ContextVar("burnout_plan_definitions_folder", default=None)


@contextmanager
def definitions_relative_to(folder: Path | None) -> Iterator[None]:
    """Read the definition files named by a plan built inside this block relative to ``folder``."""
    token = _DEFINITIONS_FOLDER.set(folder)
    try:
        yield
    finally:
        _DEFINITIONS_FOLDER.reset(token)


def _known(name: str) -> str:
    reasons = _reasons(name)
    if reasons:
        raise _impossible(*reasons)
    return name


class InstrumentsSection(_Section):
    """``[instruments]`` (our extension): the primary instrument and the secondary ones.

    Left out of the resolved plan while both are at their defaults, so the reference
    study's plan (and its sha256) is what it always was.
    """

    primary: _Ref = DEFAULT_PRIMARY
    secondary: Annotated[tuple[_Ref, ...], Field(max_length=20)] | None = None
    _definitions: dict[str, Instrument] = PrivateAttr(default_factory=dict)  # definition path -> definition
    _folder: Path | None = PrivateAttr(default=None)

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

    @model_validator(mode="after")
    def _read_definitions(self) -> InstrumentsSection:
        """Read and validate every definition file named, relative to the plan's folder."""
        folder = _DEFINITIONS_FOLDER.get()
        refs = {"instruments.primary": self.primary}
        refs |= {f"instruments.secondary[{i}]": ref for i, ref in enumerate(self.secondary or ())}
        loaded: dict[str, Instrument] = {}
        problems: list[str] = []
        for key, ref in refs.items():
            if is_definition_path(ref) and ref not in loaded:
                inst, found = _read_definition(key, ref, folder)
                problems += found
                if inst is not None:
                    loaded[ref] = inst
        problems += _name_clashes(loaded)
        if problems:
            raise PydanticCustomError(
                "instrument_definitions", "{reason}", {"reason": "; ".join(problems), "reasons": tuple(problems)}
            )
        # the folder only matters (and only counts in equality) when a file was read from it
        self._definitions, self._folder = loaded, (folder if loaded else None)
        return self

    @property
    def folder(self) -> Path | None:
        """The folder the definition paths were read relative to (None: the working directory)."""
        return self._folder

    @property
    def user_definitions(self) -> tuple[Instrument, ...]:
        """The user's own definitions the section names (their tables are read with the cohort)."""
        return tuple(self._definitions.values())

    @property
    def primary_table(self) -> str:
        """The primary instrument's cohort table: its name (a definition file's own ``name``)."""
        return self.definition(self.primary).name

    def definition(self, ref: str) -> Instrument:
        """The definition of an instrument the section names: a user's file as read with the
        plan, else the shipped one."""
        return self._definitions[ref] if ref in self._definitions else load_instrument(ref)


def _reasons(name: str) -> list[str]:
    if is_definition_path(name):
        return []  # read by _read_definitions, once the plan's folder is known
    names = shipped_instruments()
    if name in names:
        return []
    return [
        f"{name!r} is not a shipped instrument; allowed: {', '.join(names)}, or the path of a definition .toml file"
    ]


def _read_definition(key: str, ref: str, folder: Path | None) -> tuple[Instrument | None, list[str]]:
    """A user's definition file and every problem with it, each naming the plan's key and the file."""
    path = Path(ref) if folder is None else folder / ref
    try:
        inst = load_instrument(path)
    except InstrumentError as exc:
        head = f"invalid instrument definition for {key} = {show_value(ref)} (file {path})"
        return None, [f"{head}: {m}" for m in exc.messages]
    if inst.name in shipped_instruments():
        return inst, [
            f"impossible value for {key}: {path} has name = {show_value(inst.name)}, a shipped instrument's; "
            "give your definition a name of its own (its cohort table is <name>.csv)"
        ]
    return inst, []


def _name_clashes(loaded: dict[str, Instrument]) -> list[str]:
    """Two definition files with one name would share a cohort table and the same columns."""
    first: dict[str, str] = {}
    problems = []
    for ref, inst in loaded.items():
        if inst.name in first:
            problems.append(
                f"impossible value for instruments: {show_value(first[inst.name])} and {show_value(ref)} both define "
                f"name = {show_value(inst.name)}; each instrument needs a name of its own"
            )
        first.setdefault(inst.name, ref)
    return problems


def primary_instrument(protocol: Protocol) -> Instrument:
    """The primary instrument's definition (shipped, or the user's file the plan names)."""
    return protocol.instruments.definition(protocol.instruments.primary)


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
    return {name: change.value for name, change in _min_change_sources(protocol).items()}


@dataclass(frozen=True)
class _MinChange:
    """A scale's minimum change, the key it was read from and the value as written there."""

    value: Fraction
    key: str
    written: str


def _min_change_sources(protocol: Protocol) -> dict[str, _MinChange]:
    """Per scale of the primary instrument, its minimum change and where it comes from (`min_changes`' order)."""
    inst = primary_instrument(protocol)
    given = protocol.response.per_subscale or {}
    primary = protocol.instruments.primary
    out = {}
    for name, scale in inst.scales.items():
        if name in given:
            out[name] = _MinChange(exact(given[name]), f"response.per_subscale.{name}", str(given[name]))
        elif primary != DEFAULT_PRIMARY and scale.min_change is not None:
            key = f"{_scale_key(name)}.min_change in {show_value(primary)} (instruments.primary)"
            out[name] = _MinChange(Fraction(scale.min_change), key, show_value(scale.min_change))
        else:
            given_min = protocol.response.min_change
            out[name] = _MinChange(exact(given_min), "response.min_change", str(given_min))
    return out


def _scale_key(name: str) -> str:
    return "total" if name == "total" else f"subscales.{name}"


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
    for name in protocol.response.per_subscale or {}:
        if name not in scales:
            messages.append(f"unknown key response.per_subscale.{name}: {inst.name} has the scales {', '.join(scales)}")
    return messages + _min_change_problems(protocol, ranges)


def _min_change_problems(protocol: Protocol, ranges: dict[str, tuple[Fraction, Fraction]]) -> list[str]:
    """A minimum change above a scale's range could never be reached: no one would respond.

    One message per key; [response] min_change, shared by several scales, is bounded by
    the narrowest of them. The MBI-GS's 0-6 scales already bound it by [response]'s own limit.
    """
    by_key: dict[str, tuple[_MinChange, str, Fraction]] = {}
    for name, change in _min_change_sources(protocol).items():
        span = ranges[name][1] - ranges[name][0]
        if not 0 < change.value <= span and (change.key not in by_key or span < by_key[change.key][2]):
            by_key[change.key] = (change, name, span)
    messages = []
    for key, (change, name, span) in by_key.items():
        whose = "the scale's range" if key != "response.min_change" else f"the range of scale {name}, which takes it"
        messages.append(
            f"impossible value for {key}: got {change.written}; allowed: a number > 0 and <= {_number(span)} ({whose})"
        )
    return messages


def _number(value: Fraction) -> str:
    return str(value.numerator) if value.denominator == 1 else f"{float(value):g}"
