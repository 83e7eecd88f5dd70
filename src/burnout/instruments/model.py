"""An instrument definition: the pydantic model a TOML file is validated against.

The model is the contract; ``schema.json`` beside it is generated from it
(:func:`burnout.instruments.schema_json`) and a test keeps the two equal.
"""

from __future__ import annotations

import math
from decimal import Decimal
from fractions import Fraction
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, Strict, WithJsonSchema, model_validator
from pydantic_core import PydanticCustomError

__all__ = ["Band", "Flag", "Instrument", "Loinc", "Norm", "Response", "Scale"]


def _number(value: object) -> object:
    """A TOML integer or decimal (read as Decimal) or a Python float; never a string or a
    boolean, which pydantic's lax Decimal would coerce ("0.5" -> 0.5, true -> 1)."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise PydanticCustomError("wrong_type", "expected a number")
    return value


# Integers, booleans and strings are strict (as the plan's): a definition that writes
# items = "6" or max_blank = true has a mistake in it, which coercion would hide.
Int = Annotated[int, Strict()]
Str = Annotated[str, Strict()]
Name = Annotated[Str, Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")]
Text = Annotated[Str, Field(min_length=1, max_length=2000)]
Position = Annotated[Int, Field(ge=1, le=500)]
# the JSON Schema says "number" only: strings are refused, whatever pydantic's Decimal allows
Cut = Annotated[Decimal, BeforeValidator(_number), Field(allow_inf_nan=False), WithJsonSchema({"type": "number"})]
PositiveNumber = Annotated[
    Decimal,
    BeforeValidator(_number),
    Field(gt=0, allow_inf_nan=False),
    WithJsonSchema({"exclusiveMinimum": 0, "type": "number"}),
]
LoincCode = Annotated[Str, Field(pattern=r"^\d{1,7}-\d$")]
AnswerCode = Annotated[Str, Field(pattern=r"^LA\d{1,7}-\d$")]


def _impossible(reason: str) -> PydanticCustomError:
    return PydanticCustomError("impossible_value", "{reason}", {"reason": reason})


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=False)


class Response(_Frozen):
    """The integer answers an item takes: ``min, min + step, ..., max``."""

    min: Annotated[Int, Field(ge=-10_000, le=10_000)]  # answers are held as 16-bit integers
    max: Annotated[Int, Field(ge=-10_000, le=10_000)]
    step: Annotated[Int, Field(ge=1)] = 1

    @model_validator(mode="after")
    def _range(self) -> Response:
        if self.max <= self.min or (self.max - self.min) % self.step:
            raise _impossible("max must exceed min by a whole number of steps")
        return self

    @property
    def values(self) -> tuple[int, ...]:
        """Every allowed answer, lowest first."""
        return tuple(range(self.min, self.max + 1, self.step))


class Band(_Frozen):
    """A cut-off band: scores from ``at_least`` up to the next band's ``at_least`` (exclusive)."""

    label: Name
    at_least: Cut


class Norm(_Frozen):
    """A published reference mean and SD of a scale in a named population."""

    population: Text
    mean: Cut
    sd: PositiveNumber
    n: Annotated[Int, Field(ge=1)] | None = None
    citation: Text


class Scale(_Frozen):
    """A subscale or total: its item positions and how they are scored."""

    items: Annotated[tuple[Position, ...], Field(min_length=1)]
    scoring: Literal["mean", "sum"]
    max_blank: Annotated[Int, Field(ge=0)] = 0
    prorate: Annotated[bool, Strict()] = False
    good: Literal["lower", "higher"]
    bands: tuple[Band, ...] = ()
    bands_citation: Text | None = None
    norms: tuple[Norm, ...] = ()
    loinc: LoincCode | None = None
    min_change: PositiveNumber | None = None
    min_change_citation: Text | None = None

    @model_validator(mode="after")
    def _rules(self) -> Scale:
        reasons = []
        if self.min_change is not None and not self.min_change_citation:
            reasons.append("min_change needs min_change_citation (where the minimal important change was published)")
        if len(set(self.items)) != len(self.items):
            reasons.append("items lists a position twice")
        if self.max_blank >= len(self.items):
            reasons.append(f"max_blank must leave at least one answered item (at most {len(self.items) - 1})")
        if self.scoring == "sum" and self.max_blank > 0 and not self.prorate:
            reasons.append("a sum with blanks allowed must be prorated (prorate = true), or set max_blank = 0")
        if self.scoring == "mean" and self.prorate:
            reasons.append("prorate applies to sums only (a mean of the answered items needs none)")
        cuts = [b.at_least for b in self.bands]
        if cuts != sorted(set(cuts)):
            reasons.append("bands must be listed with strictly increasing at_least")
        if len({b.label for b in self.bands}) != len(self.bands):
            reasons.append("band labels must be distinct")
        if self.bands and not self.bands_citation:
            reasons.append("bands need bands_citation (where the cut-offs were published)")
        if reasons:
            raise PydanticCustomError("impossible_value", "{reason}", {"reason": reasons[0], "reasons": reasons})
        return self

    @property
    def answered_counts(self) -> range:
        """How many items a scored respondent may have answered."""
        return range(len(self.items) - self.max_blank, len(self.items) + 1)


class Flag(_Frozen):
    """An item answer that is counted on its own (e.g. PHQ-9 item 9 >= 1)."""

    name: Name
    item: Position
    at_least: Int
    note: Text


class Loinc(_Frozen):
    """LOINC codes of the panel, the items (by position) and the answers (lowest first)."""

    panel: LoincCode
    items: dict[Str, LoincCode] = {}
    answers: tuple[AnswerCode, ...] = ()


class Instrument(_Frozen):
    """One questionnaire: items, response range, scales, cut-offs, codes. Never licensed wording."""

    name: Name
    title: Text
    version: Text
    licence: Literal["wording_allowed", "positions_only"]
    citation: Text
    items: Annotated[Int, Field(ge=1, le=500)]
    response: Response
    reverse: tuple[Position, ...] = ()
    subscales: dict[Name, Scale] = {}
    total: Scale | None = None
    units: Annotated[Int, Field(ge=1, le=10**15)] | None = None
    flags: tuple[Flag, ...] = ()
    loinc: Loinc | None = None
    wording: dict[Str, Text] = {}
    notes: Text | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Instrument:
        reasons = [*self._position_reasons(), *self._scale_reasons()]
        if self.licence == "positions_only" and self.wording:
            reasons.append(
                'wording is licensed for a positions_only instrument: remove [wording] (licence = "positions_only")'
            )
        if reasons:
            raise PydanticCustomError("impossible_value", "{reason}", {"reason": reasons[0], "reasons": reasons})
        return self

    def _position_reasons(self) -> list[str]:
        k = self.items
        reasons = []
        used = [p for s in self.scales.values() for p in s.items] + list(self.reverse) + [f.item for f in self.flags]
        bad = sorted({p for p in used if p > k})
        if bad:
            reasons.append(f"item positions {bad} exceed items = {k}")
        keyed = [*self.wording, *(self.loinc.items if self.loinc else {})]
        odd = sorted({p for p in keyed if not (p.isdigit() and 1 <= int(p) <= k)})
        if odd:
            reasons.append(f'keys {odd} are not item positions ("1" to "{k}")')
        if len(set(self.reverse)) != len(self.reverse):
            reasons.append("reverse lists a position twice")
        if self.loinc and self.loinc.answers and len(self.loinc.answers) != len(self.response.values):
            reasons.append(f"loinc.answers needs one code per answer ({len(self.response.values)})")
        return reasons

    def _scale_reasons(self) -> list[str]:
        reasons = []
        if not self.scales:
            reasons.append("an instrument needs at least one [subscales.NAME] or a [total]")
        if "total" in self.subscales:
            reasons.append('"total" is reserved for [total]; name the subscale otherwise')
        for name, scale in self.scales.items():
            low, high = self.score_range(name)
            for band in scale.bands:
                if not low <= Fraction(band.at_least) <= high:
                    reasons.append(f"{name}: band {band.label} at_least = {band.at_least} is outside {low}..{high}")
            if scale.bands and Fraction(scale.bands[0].at_least) != low:
                reasons.append(f"{name}: the first band must start at the lowest score ({low})")
        if self.units is not None and self.units % self.units_needed:
            reasons.append(f"units = {self.units} must be a multiple of {self.units_needed} for exact scores")
        for flag in self.flags:
            if flag.at_least not in self.response.values:
                reasons.append(f"flag {flag.name}: at_least = {flag.at_least} is not an answer")
        return reasons

    # -- derived ---------------------------------------------------------------------
    @property
    def scales(self) -> dict[str, Scale]:
        """Subscales then the total (named ``total``), in file order."""
        return {**self.subscales, **({"total": self.total} if self.total is not None else {})}

    def score_range(self, name: str) -> tuple[Fraction, Fraction]:
        """Lowest and highest score of a scale."""
        scale = self.scales[name]
        factor = 1 if scale.scoring == "mean" else len(scale.items)
        return Fraction(self.response.min * factor), Fraction(self.response.max * factor)

    @property
    def units_needed(self) -> int:
        """Smallest units per point that hold every score exactly: a mean over ``a`` answered
        items is a multiple of ``1/a`` and a sum of k items prorated over ``a`` of
        ``1/(a / gcd(a, k))`` (an unprorated sum is an integer), so the lcm of those."""

        def denominators(s: Scale) -> list[int]:
            k = len(s.items)
            return [a if s.scoring == "mean" else a // math.gcd(a, k) for a in s.answered_counts]

        return math.lcm(*(d for s in self.scales.values() for d in denominators(s)))

    @property
    def units_per_point(self) -> int:
        """Integer units per score point (``units`` when given, else :attr:`units_needed`)."""
        return self.units if self.units is not None else self.units_needed
