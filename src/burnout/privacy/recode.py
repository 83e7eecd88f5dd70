"""Global recoding of small residual levels: the privacy stage's remedy beside suppression.

A subgroup variable's residual levels (unknown, other, not recorded) are of little
analytic value, but when they are few they force a large real level to be hidden: with
two real levels and a small residual under a published total, publishing both real
levels gives the residual back by subtraction, so complementary suppression must hide
one of them (all 164 men of the demo). Statistical disclosure control has a second
standard remedy, *global recoding*: merge the small category into another one in every
output, so that no published table has it as a cell at all (Hundepool et al. 2012,
*Statistical Disclosure Control*, Wiley, section 3.4; sdcMicro's ``globalRecode`` and
``groupAndRename``). The merged level is labelled with what it holds
("Female, other or not recorded"), never with a count.

Rule (:func:`plan_merges`): when a variable's residual levels together hold 1..k-1
patients in ANY population where the variable's levels are published (threshold-met,
completers, non-completers), every residual level is merged into one real level, in
every population, so the same cell gets the same treatment in every section. The
target is the plan's ``[subgroups.merge_small_into]`` level when given and present,
else the largest real level among the threshold-met patients (the residual then
distorts it least, relative to its size; ties: the first in sorted order).
"""

from __future__ import annotations

from collections.abc import Mapping

from burnout.privacy.suppress import _check_k

__all__ = ["RESIDUAL_WORDS", "is_residual", "merged_label", "plan_merges"]

RESIDUAL_WORDS: dict[str, str] = {
    "unknown": "not recorded",
    "missing": "not recorded",
    "none": "not recorded",
    "null": "not recorded",
    "nan": "not recorded",
    "": "not recorded",
    "other": "other",
}
"""Residual level names (the unknown/other/missing family) and how a merged label reads them."""


def is_residual(level: str) -> bool:
    """Whether ``level`` is unknown/other/missing (a residual, not a real category).

    >>> [is_residual(x) for x in ("unknown", "Other", "female")]
    [True, True, False]
    """
    return level.strip().lower() in RESIDUAL_WORDS


def plan_merges(
    populations: Mapping[str, Mapping[str, int]], *, min_cell_count: int, into: str | None = None
) -> dict[str, str]:
    """Which residual levels to merge, and into which real level: ``{residual: target}``.

    ``populations`` maps a population name (``"threshold_met"``, ``"completers"``, ...)
    to the count of each level in it (the same levels in each; the first population
    chooses the default target). Empty when the residuals are together 0 or at least
    ``min_cell_count`` in every population, or when there is no real level to merge into.

    Examples
    --------
    >>> pops = {"threshold_met": {"female": 880, "male": 740, "other": 12, "unknown": 10},
    ...         "completers": {"female": 224, "male": 164, "other": 3, "unknown": 4}}
    >>> plan_merges(pops, min_cell_count=11)
    {'other': 'female', 'unknown': 'female'}
    >>> plan_merges(pops, min_cell_count=11, into="male")
    {'other': 'male', 'unknown': 'male'}
    >>> plan_merges(pops, min_cell_count=5)
    {}
    """
    k = _check_k(min_cell_count)
    if not populations:
        return {}
    first = next(iter(populations.values()))
    residual = [lv for lv in first if is_residual(lv)]
    real = [lv for lv in first if not is_residual(lv)]
    if not residual or not real:
        return {}
    held = [sum(counts.get(lv, 0) for lv in residual) for counts in populations.values()]
    if not any(1 <= h < k for h in held):
        return {}
    target = into if into in real else min(sorted(real), key=lambda lv: -first[lv])
    return {lv: target for lv in residual}


def merged_label(target: str, residuals: list[str] | tuple[str, ...]) -> str:
    """The truthful label of a level that received residual levels (never a count).

    >>> merged_label("female", ["other", "unknown"])
    'Female, other or not recorded'
    >>> merged_label("35-49", ["unknown"])
    '35-49 or not recorded'
    """
    words = list(dict.fromkeys(RESIDUAL_WORDS[r.strip().lower()] for r in sorted(residuals)))
    head = target[:1].upper() + target[1:]
    if not words:
        return head
    if len(words) == 1:
        return f"{head} or {words[0]}"
    return f"{head}, {', '.join(words[:-1])} or {words[-1]}"
