"""Suppression of small counts: single counts, proportions, vectors, joint hiding, chains, cohort size."""

from __future__ import annotations

import operator
from collections.abc import Iterable, Mapping, Sequence
from typing import Literal

from burnout.errors import BurnoutError
from burnout.stats import Proportion

__all__ = [
    "CohortTooSmall",
    "check_cohort_size",
    "hide_jointly",
    "safe_chain",
    "is_small_count",
    "suppress_count",
    "suppress_proportion",
    "suppress_proportions",
    "suppress_vector",
]

SmallN = Literal["raise", "keep"]


# --------------------------------------------------------------------------- helpers
def _check_k(min_cell_count: object) -> int:
    if isinstance(min_cell_count, bool):
        raise ValueError(f"`min_cell_count` must be an int >= 1, got {min_cell_count!r}.")
    try:
        k = operator.index(min_cell_count)  # type: ignore[arg-type]  # any object is tried; TypeError is the answer below
    except TypeError:
        raise ValueError(
            f"`min_cell_count` must be an int >= 1, got {min_cell_count!r}; use 1 to disable suppression."
        ) from None
    if k < 1:
        raise ValueError(f"`min_cell_count` must be an int >= 1, got {k}; use 1 to disable suppression.")
    return int(k)


def _check_count(name: str, value: object) -> int:
    if isinstance(value, bool):
        raise ValueError(f"{name} must be a non-negative int count, got {value!r}.")
    try:
        v = operator.index(value)  # type: ignore[arg-type]  # any object is tried; TypeError is the answer below
    except TypeError:
        raise ValueError(f"{name} must be a non-negative int count, got {value!r}.") from None
    if v < 0:
        raise ValueError(f"{name} must be a non-negative int count, got {v}.")
    return int(v)


def is_small_count(count: int, *, min_cell_count: int) -> bool:
    """True when ``1 <= count <= min_cell_count - 1`` (a count that must not be published).

    Examples
    --------
    >>> [is_small_count(c, min_cell_count=11) for c in (0, 1, 10, 11)]
    [False, True, True, False]
    """
    k = _check_k(min_cell_count)
    return 1 <= _check_count("`count`", count) < k


def suppress_count(count: int, *, min_cell_count: int) -> int | None:
    """A single published count: None when it is in 1..k-1, else the count.

    Only for a count that no published total or other cell can give back; counts that
    add up to a published total go through :func:`suppress_vector` or
    :func:`suppress_matrix` instead.

    Examples
    --------
    >>> [suppress_count(c, min_cell_count=11) for c in (0, 10, 11)]
    [0, None, 11]
    """
    k = _check_k(min_cell_count)
    value = _check_count("`count`", count)
    return None if 1 <= value < k else value


def _suppressed(p: Proportion) -> Proportion:
    return Proportion(count=None, n=p.n, rate=None, ci=None, suppressed=True)


def _check_small_n(p: Proportion, k: int, small_n: SmallN, where: str) -> None:
    if small_n not in ("raise", "keep"):
        raise ValueError(f"`small_n` must be 'raise' or 'keep', got {small_n!r}.")
    if small_n == "raise" and 1 <= p.n < k:
        raise ValueError(
            f"{where}n = {p.n} is itself a small count (1..{k - 1}) and a Proportion always publishes n. "
            "Leave this Proportion out of the output or merge its group into a larger one; "
            "pass small_n='keep' to publish n with count, rate and ci suppressed."
        )


# --------------------------------------------------------------------------- proportions
def suppress_proportion(p: Proportion, *, min_cell_count: int, small_n: SmallN = "raise") -> Proportion:
    """Hide a Proportion's count, rate and CI when they would reveal a small count.

    Suppressed (``count``, ``rate``, ``ci`` None, ``suppressed`` True) when

    - ``count`` is in 1..k-1 (primary suppression), or
    - ``n - count`` is in 1..k-1: the complement is a small count and n is published.

    ``n == 0`` and counts of 0 are published. An already suppressed Proportion is
    returned unchanged.

    The denominator: ``n`` is an int in the results contract and is always published.
    When ``n`` is itself in 1..k-1 the count is always suppressed (either it or its
    complement is small), but ``n`` would still reveal a small group. With
    ``small_n="raise"`` (the default) that is an error telling the caller to leave the
    Proportion out (or merge the group); ``small_n="keep"`` publishes ``n`` with
    everything else suppressed, for callers that have decided ``n`` is not sensitive.

    Examples
    --------
    >>> from burnout.stats import proportion
    >>> suppress_proportion(proportion(7, 395), min_cell_count=11).to_json()
    {'count': None, 'n': 395, 'rate': None, 'ci': None, 'suppressed': True}
    >>> suppress_proportion(proportion(390, 395), min_cell_count=11).suppressed   # 5 did not
    True
    >>> suppress_proportion(proportion(11, 395), min_cell_count=11).count
    11
    """
    k = _check_k(min_cell_count)
    if not isinstance(p, Proportion):
        raise ValueError(f"`p` must be a Proportion, got {type(p).__name__}.")
    _check_small_n(p, k, small_n, "")
    if p.suppressed or p.count is None:
        return p
    if 1 <= p.count < k or 1 <= p.n - p.count < k:
        return _suppressed(p)
    return p


def _close_vector(values: Sequence[int], suppressed: set[int], k: int, cost: Sequence[int] | None = None) -> bool:
    """Add complementary cells to ``suppressed`` (in place) until the group is safe.

    Safe: no suppressed cell, or at least two whose sum is not in 1..k-1. A complement is
    the cheapest non-zero published cell: lowest ``cost`` rank first (0 for a cell that
    is never published anyway, 1 for unknown/other/missing, 2 otherwise; all 2 when
    ``cost`` is None), then the smallest count, then the first in order; when only
    zeros are left and a single cell is suppressed, a zero is added so that the total
    no longer pins that cell. Returns whether anything was added.
    """
    rank = cost if cost is not None else [2] * len(values)
    changed = False
    while True:
        supp = [i for i in range(len(values)) if i in suppressed]
        if not supp:
            return changed
        held = sum(values[i] for i in supp)
        if len(supp) >= 2 and not 1 <= held < k:
            return changed
        open_ = [i for i in range(len(values)) if i not in suppressed]
        nonzero = [i for i in open_ if values[i] > 0]
        if nonzero:
            pick = min(nonzero, key=lambda i: (rank[i], values[i], i))
        elif len(supp) == 1 and open_:
            pick = open_[0]
        else:
            return changed  # everything non-zero is suppressed: the published total itself is < k
        suppressed.add(pick)
        changed = True


def suppress_vector(counts: Mapping[str, int], *, min_cell_count: int) -> dict[str, int | None]:
    """Suppress a set of counts whose total is published (e.g. the 5 profiles at one timepoint).

    Primary suppression hides every count in 1..k-1. Because ``total - published cells``
    gives back the sum of the suppressed cells, complementary suppression then adds the
    smallest non-zero published cell (ties: mapping order) until at least two cells are
    hidden and together they hold at least k. Zeros are published, except that a zero is
    hidden as a complement when nothing non-zero is left to hide. If the total itself is
    below k the suppressed cells cannot reach k; they are still at least two (when the
    vector has two cells), so none is pinned, but the caller must not publish that total.

    Returns the same keys in the same order, with None for a suppressed count.

    Examples
    --------
    >>> suppress_vector({"burnout": 71, "overextended": 120, "disengaged": 5,
    ...                  "ineffective": 22, "engaged": 67}, min_cell_count=11)
    {'burnout': 71, 'overextended': 120, 'disengaged': None, 'ineffective': None, 'engaged': 67}
    """
    k = _check_k(min_cell_count)
    if not isinstance(counts, Mapping):
        raise ValueError(f"`counts` must be a mapping of name to count, got {type(counts).__name__}.")
    keys = list(counts)
    values = [_check_count(f"counts[{key!r}]", counts[key]) for key in keys]
    suppressed = {i for i, v in enumerate(values) if 1 <= v < k}
    _close_vector(values, suppressed, k)
    return {key: (None if i in suppressed else values[i]) for i, key in enumerate(keys)}


def suppress_proportions(
    proportions: Mapping[str, Proportion],
    *,
    min_cell_count: int,
    small_n: SmallN = "raise",
    hidden: Iterable[str] = (),
) -> dict[str, Proportion]:
    """Suppress a family of Proportions whose counts and denominators add up to published totals.

    For the levels of a subgroup variable (counts sum to the cohort's count, ``n`` to
    the cohort's n) or the profiles at one timepoint (counts sum to ``n``). Each
    Proportion gets :func:`suppress_proportion`'s rule; then complementary suppression
    runs on the vector of counts and on the vector of complements ``n - count`` (both
    totals are published) until neither lets a suppressed count be recovered by
    subtraction. Input Proportions must not be suppressed yet (their counts are needed).
    ``hidden`` names members the caller hides anyway (e.g. subgroup levels whose size is
    itself suppressed): they start out suppressed, so the complements account for them.

    Examples
    --------
    >>> from burnout.stats import proportion
    >>> out = suppress_proportions({"female": proportion(150, 214), "male": proportion(120, 176),
    ...                             "other": proportion(5, 16)}, min_cell_count=11)
    >>> [key for key, p in out.items() if p.suppressed]
    ['male', 'other']
    """
    k = _check_k(min_cell_count)
    if not isinstance(proportions, Mapping):
        raise ValueError(f"`proportions` must be a mapping of name to Proportion, got {type(proportions).__name__}.")
    keys = list(proportions)
    for key in keys:
        p = proportions[key]
        if not isinstance(p, Proportion):
            raise ValueError(f"proportions[{key!r}] must be a Proportion, got {type(p).__name__}.")
        if p.suppressed or p.count is None:
            raise ValueError(
                f"proportions[{key!r}] is already suppressed; pass the unsuppressed Proportions so "
                "complementary suppression can see every count."
            )
        _check_small_n(p, k, small_n, f"proportions[{key!r}]: ")
    counts = {key: int(proportions[key].count) for key in keys}  # type: ignore[arg-type]  # suppressed counts were refused above
    complements = {key: proportions[key].n - c for key, c in counts.items()}
    hidden = tuple(hidden)
    unknown = set(hidden) - set(keys)
    if unknown:
        raise ValueError(f"`hidden` names {sorted(unknown)!r}, which are not among the proportions {keys!r}.")
    suppressed = hide_jointly([counts, complements], min_cell_count=k, hidden=hidden)
    return {key: (_suppressed(p) if key in suppressed else p) for key, p in proportions.items()}


def hide_jointly(
    vectors: Sequence[Mapping[str, int]], *, min_cell_count: int, hidden: Iterable[str] = ()
) -> frozenset[str]:
    """Keys to hide in several count vectors over the same keys, each with a published total.

    For the levels of a subgroup variable, several counts are published per level
    (e.g. patients who met the threshold, completers, and so non-completers), each
    family adding up to a published total. A level is hidden in all of them at once.
    Primary: any count of a level in 1..k-1. Then each vector is closed as in
    :func:`suppress_vector` (at least two hidden, together not in 1..k-1), and the
    closure repeats across the vectors until none adds a key. ``hidden`` starts hidden.

    Examples
    --------
    >>> sorted(hide_jointly([{"a": 40, "b": 30, "c": 5}, {"a": 20, "b": 12, "c": 2}], min_cell_count=11))
    ['b', 'c']
    """
    k = _check_k(min_cell_count)
    if not vectors:
        return frozenset(hidden)
    keys = list(vectors[0])
    for v in vectors:
        if list(v) != keys:
            raise ValueError(f"every vector must have the same keys in the same order: {list(v)!r} vs {keys!r}")
    values = [[_check_count(f"counts[{key!r}]", v[key]) for key in keys] for v in vectors]
    forced = set(hidden)
    unknown = forced - set(keys)
    if unknown:
        raise ValueError(f"`hidden` names {sorted(unknown)!r}, which are not among the keys {keys!r}.")
    suppressed = {i for i, key in enumerate(keys) if key in forced or any(1 <= row[i] < k for row in values)}
    while any([_close_vector(row, suppressed, k) for row in values]):
        pass
    return frozenset(keys[i] for i in suppressed)


def safe_chain(top: int, counts: Mapping[str, int], *, min_cell_count: int) -> frozenset[str]:
    """Which of a non-increasing chain of counts can be published under a published ``top``.

    For counts like "responders on at least 1 / 2 / 3 subscales" or "patients reaching
    session 1 / 2 / ... / 6": publishing a set of them reveals every difference between
    consecutive published values (and ``top`` above, 0 below). Counts are withheld, the
    upper end of the offending gap first, until every such gap is 0 or at least k.
    Returns the keys that can be published.

    Examples
    --------
    >>> sorted(safe_chain(395, {"1": 275, "2": 182, "3": 176}, min_cell_count=11))
    ['1', '3']
    """
    k = _check_k(min_cell_count)
    if 1 <= top < k:  # a small top is itself hidden, and every count under it with it
        return frozenset()
    keys = list(counts)
    shown = [key for key in keys if not (1 <= counts[key] < k or 1 <= top - counts[key] < k)]
    while True:
        chain = [(None, top), *((key, counts[key]) for key in shown), (None, 0)]
        gap = next((i for i in range(len(chain) - 1) if 1 <= chain[i][1] - chain[i + 1][1] < k), None)
        if gap is None:
            return frozenset(shown)
        upper, lower = chain[gap][0], chain[gap + 1][0]
        shown.remove(lower if upper is None else upper)


class CohortTooSmall(ValueError, BurnoutError):
    """The cohort has fewer patients than the plan's ``[privacy] min_cohort``."""


def check_cohort_size(patients: int, *, min_cohort: int) -> None:
    """Refuse an analysis of fewer than ``min_cohort`` patients (``[privacy] min_cohort``).

    Raises
    ------
    CohortTooSmall
        With what to do. The message is for the console only (it is never published).
    """
    if patients < min_cohort:
        raise CohortTooSmall(
            f"the cohort has {patients:,} patients and the plan's [privacy] min_cohort is {min_cohort:,}: "
            "nothing was analysed or written. Analyse a larger cohort, or lower min_cohort in the plan "
            "if publishing results on so few patients is acceptable."
        )
