"""A scorer written out by hand from the instruments' published rules, for tests.

The engine (`burnout.scoring.scale_units_expr`) and the package's own exact scorer
(`burnout.instruments.score_exact`) are checked against this, never against each
other: a mean of the answered items, a sum prorated as ``sum * k / answered``, a
reverse-keyed answer ``low + high - a``, unscored past ``max_blank`` blanks. Plain
fractions, no code shared with the package.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from fractions import Fraction
from typing import Any, Literal


def reference_score(
    answers: Sequence[int | None],
    *,
    items: Sequence[int],
    low: int,
    high: int,
    scoring: Literal["mean", "sum"],
    max_blank: int,
    reverse: Sequence[int] = (),
) -> Fraction | None:
    """One scale's score from answers by position (``answers[0]`` is item 1; None = blank)."""
    given = []
    for pos in items:
        answer = answers[pos - 1]
        if answer is not None:
            given.append(low + high - answer if pos in reverse else answer)
    if not given or len(items) - len(given) > max_blank:
        return None
    if scoring == "mean":
        return Fraction(sum(given), len(given))
    return Fraction(sum(given) * len(items), len(given))


def rules_of(definition: Any, scale: str) -> Mapping[str, Any]:
    """The keyword arguments of `reference_score` for a scale, read from a definition's data
    (positions, answer range, reversed items, scoring, blanks allowed)."""
    rule = definition.scales[scale]
    return {
        "items": rule.items,
        "low": definition.response.min,
        "high": definition.response.max,
        "scoring": rule.scoring,
        "max_blank": rule.max_blank,
        "reverse": definition.reverse,
    }
