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


# A user's own definition (not shipped), used by the plan, cohort and report tests: 6 items 1-5,
# two mean subscales with a reversed item each and one blank allowed, a prorated sum total.
STRAIN_TOML = """\
name = "strain"
title = "Test strain scale"
version = "1"
licence = "positions_only"
citation = "Written for this test."
items = 6
response = { min = 1, max = 5 }
reverse = [3, 6]

[subscales.tension]
items = [1, 2, 3]
scoring = "mean"
max_blank = 1
good = "lower"

[subscales.fatigue]
items = [4, 5, 6]
scoring = "mean"
max_blank = 1
good = "lower"

[total]
items = [1, 2, 3, 4, 5, 6]
scoring = "sum"
max_blank = 1
prorate = true
good = "lower"
"""


def phq9_primary_plan(*, min_cell_count: int) -> str:
    """A plan analysing the PHQ-9 as primary (threshold total >= 10) with the MBI-GS as secondary."""
    return (
        '[instruments]\nprimary = "phq9"\nsecondary = ["mbi_gs"]\n\n[eligibility]\nrule = "total >= 10"\n\n'
        f"[privacy]\nmin_cell_count = {min_cell_count}\n"
    )
