"""Exact scoring of one respondent by an instrument's rules, in plain Python fractions.

The engine (``burnout.scoring.scale_units_expr``) applies the same rules to a table
in integer units; these functions are the reference the tests compare it with.

>>> from burnout.instruments import load_instrument
>>> olbi = load_instrument("olbi")
>>> reverse_keyed(1, olbi.response)
4
>>> phq9 = load_instrument("phq9")
>>> score_exact(phq9, "total", dict(enumerate([1, 2, 3, 0, 1, 2, None, 1, 1], start=1)))
Fraction(99, 8)
>>> band_of(phq9, "total", Fraction(99, 8))
'moderate'
"""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction
from typing import TypeVar

from burnout.instruments.model import Instrument, Response

__all__ = ["band_of", "keyed", "keyed_answers", "reverse_keyed", "score_exact", "to_units"]


Answer = TypeVar("Answer")  # an int here; an engine column (ibis integer expression) for the engine


def reverse_keyed(value: Answer, response: Response) -> Answer:
    """A reverse-keyed answer: ``max + min - value`` (so reversing twice is the identity).

    The one place this rule is written: ``value`` is an int or an engine expression (the
    engine's scores and the survey's item statistics key their columns with it too).
    """
    return response.max + response.min - value  # type: ignore[operator,return-value]  # int or ibis integer


def keyed(inst: Instrument, pos: int, value: Answer) -> Answer:
    """The answer to item ``pos`` as scored: reversed when the instrument reverse-keys that item."""
    return reverse_keyed(value, inst.response) if pos in inst.reverse else value


def keyed_answers(inst: Instrument, answers: Mapping[int, int | None]) -> dict[int, int | None]:
    """Answers by position with the reverse-keyed items reversed (blanks stay blank)."""
    return {pos: (None if v is None else keyed(inst, pos, v)) for pos, v in answers.items()}


def score_exact(
    inst: Instrument, scale: str, answers: Mapping[int, int | None], *, max_blank: int | None = None
) -> Fraction | None:
    """The scale's score as an exact fraction, or None when more than ``max_blank`` items are blank.

    ``answers`` maps item positions to raw answers (None = blank). A mean is the mean
    of the answered (keyed) items; a sum is their sum, prorated as ``sum * k / answered``
    when the scale allows blanks. ``max_blank`` overrides the definition's rule (the
    analysis plan's ``max_missing_items`` does so for the MBI-GS).
    """
    rule = inst.scales[scale]
    most = rule.max_blank if max_blank is None else max_blank
    keyed = keyed_answers(inst, {p: answers.get(p) for p in rule.items})
    given = [v for v in keyed.values() if v is not None]
    k = len(rule.items)
    if not given or k - len(given) > most:
        return None
    if rule.scoring == "mean":
        return Fraction(sum(given), len(given))
    return Fraction(sum(given) * k, len(given))


def to_units(inst: Instrument, score: Fraction) -> int:
    """A score in integer units of ``1 / inst.units_per_point`` (exact: raises if it is not)."""
    units = score * inst.units_per_point
    if units.denominator != 1:
        raise ValueError(f"{score} is not a multiple of 1/{inst.units_per_point}")
    return int(units)


def band_of(inst: Instrument, scale: str, score: Fraction) -> str | None:
    """The label of the published band holding ``score`` (None when the scale has no bands)."""
    label = None
    for band in inst.scales[scale].bands:
        if score >= Fraction(band.at_least):
            label = band.label
    return label
