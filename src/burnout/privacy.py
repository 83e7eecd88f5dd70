"""Small-cell suppression with complementary suppression: the privacy stage.

Rule
----
With ``k = min_cell_count`` (protocol ``[privacy]``, default 11), every count from
1 to k - 1 is a *small count* and is never published, neither directly nor in a form
from which it can be worked out. 0 is published (an empty cell is not a person);
``k = 1`` disables suppression.

Threat model
------------
The attacker sees everything we publish and knows how the numbers relate:

- every published cell, and every published total: the denominator ``n`` of a
  :class:`~burnout.estimates.Proportion`, the total of a vector of counts (e.g. the five
  profiles at one timepoint sum to the completers), and the row and column totals of a
  table (the transition matrix: its row totals are the profile counts at "from", its
  column totals those at "to"; we assume both are published even when another part of
  the output suppresses them, which is conservative);
- rates and confidence intervals, which give ``count = rate * n`` back, so a
  suppressed Proportion hides ``count``, ``rate`` and ``ci`` together;
- that counts are non-negative integers.

What we guarantee, for the objects handled here:

- a suppressed cell is never the only suppressed cell of a vector, row or column
  (otherwise ``total - published cells`` gives it back);
- the suppressed cells of a vector, row or column together hold 0 or at least k,
  so their combined count (which the total reveals) is not itself a small count,
  unless the published total is itself below k (then no suppression inside the group
  can help: the caller must not publish that total);
- for a matrix, beyond those per-row/column rules, an exact audit: for every primary
  (small) cell, the largest value consistent with all published numbers is at least
  ``min(k, row total, column total)`` - nobody can tell the cell is small - and the
  cell's value is not pinned down unless the row and column totals alone pin it.
  The audit solves the two linear programmes ``min/max x_ij`` subject to the
  published totals and ``x >= 0``; the constraint matrix of a two-way table is
  totally unimodular, so these bounds are the exact integer bounds.

Not covered: an attacker who reasons about the suppression algorithm itself (e.g. that
a complement is the smallest eligible cell), and relations between different outputs
that this module is not shown together. If the same cell appears in two outputs (the
transition matrix's ``burnout -> engaged`` cell is also ``profiles.burnout_to_engaged``),
suppress it in both: use :attr:`SuppressedMatrix.suppressed`. Test statistics and
p-values are functions of the counts too: with the margins published, a McNemar
statistic gives back b and c, and an exact p-value can single out one table, so a test
on a table with a suppressed cell should be published coarsely rounded or not at all.
These primitives keep a Proportion's ``n`` (see :func:`suppress_proportion`); the
publication layer below (:class:`Publisher`) hides ``n`` too where it is itself small or
would give a small cell of its family away, and withholds tests beside hidden cells.

Validated in ``tests/test_privacy.py`` against an independent attacker that finds the
exact range of every suppressed cell by max-flow feasibility checks.

The publication layer
---------------------
:class:`Publisher` is the one place the results tree gets its numbers from
(``results.build_results`` and every ``beyond``/``phq9`` section share one instance),
so the same cell gets the same treatment in every section and the tree's ``privacy``
section can say how many positions each rule hid. Its rules, beyond the cell rules
above: a denominator is a count of its family (missing/unknown is a cell of it); a
statistic over fewer than k patients, or over a group whose size is hidden, is
withheld; a test on a table with a hidden cell is withheld or computed over the
published levels only. docs/privacy.md lists where each rule applies.

Least-loss complementary suppression
------------------------------------
Choosing the complements is the *secondary cell suppression problem* of statistical
disclosure control: hide a set of extra cells, of least total cost, such that no
primary cell can be recovered (or bounded to a small range) from the published
cells and totals. τ-ARGUS (Statistics Netherlands; de Wolf, Hundepool, Giessing,
Salazar & Castro, *τ-ARGUS 4.1 User's Manual*, 2014) and R's sdcTable (Meindl,
``protectTable``: "OPT", "HITAS", "HYPERCUBE", "SIMPLEHEURISTIC") solve it with a
cost per cell; the optimal method is the mixed-integer programme of Fischetti &
Salazar (2000, *JASA* 95:916-928), the heuristics protect one sub-table at a time
and then audit the result by solving the attacker's problem (sdcTable's
SIMPLEHEURISTIC; the audit of :func:`suppress_matrix` here). Hundepool et al. (2012,
*Statistical Disclosure Control*, Wiley, ch. 4-5) describe both and the usual costs.

Our tables are small one- and two-way frequency tables, so we use the heuristic with
a lexicographic cost per candidate cell (:func:`_close_vector`):

1. cells that are never published (a residual such as "neither improved nor
   deteriorated", "not female"): hiding them loses nothing;
2. unknown/other/missing levels (:data:`UNKNOWN_LEVELS`): least analytic value;
3. then the smallest count (τ-ARGUS's "frequency" cost: hide as few patients as
   possible), ties by order, so the result is deterministic.

A structural total is never chosen while a cheaper cell protects the same primary:
in the flow, a small exclusion before the threshold is protected by the grand total
of patients, not by the below-threshold exclusion. When the only candidates left are
whole levels (two routes and a small unknown one under a published total), one level
must be hidden: no choice of complements can avoid it, since the total minus the
published levels would give the small one back.
"""

from __future__ import annotations

import operator
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from scipy import optimize

from burnout.errors import BurnoutError
from burnout.estimates import Proportion, proportion

__all__ = [
    "COUNT_KEYS",
    "CohortTooSmall",
    "Publisher",
    "check_cohort_size",
    "RULES",
    "UNKNOWN_LEVELS",
    "hide_jointly",
    "safe_chain",
    "SuppressedMatrix",
    "is_small_count",
    "suppress_count",
    "suppress_matrix",
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
        k = operator.index(min_cell_count)  # type: ignore[arg-type]
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
        v = operator.index(value)  # type: ignore[arg-type]
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
    >>> from burnout.estimates import proportion
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
    >>> from burnout.estimates import proportion
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
    counts = {key: int(proportions[key].count) for key in keys}  # type: ignore[arg-type]
    complements = {key: proportions[key].n - c for key, c in counts.items()}
    hidden = tuple(hidden)
    unknown = set(hidden) - set(keys)
    if unknown:
        raise ValueError(f"`hidden` names {sorted(unknown)!r}, which are not among the proportions {keys!r}.")
    suppressed = hide_jointly([counts, complements], min_cell_count=k, hidden=hidden)
    return {key: (_suppressed(p) if key in suppressed else p) for key, p in proportions.items()}


def hide_jointly(vectors: Sequence[Mapping[str, int]], *, min_cell_count: int, hidden: Iterable[str] = ()) -> frozenset[str]:
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


# --------------------------------------------------------------------------- matrices
@dataclass(frozen=True, slots=True)
class SuppressedMatrix:
    """A table of counts after suppression.

    ``counts`` has the input's rows and columns, in order, with None for a suppressed
    cell; ``suppressed`` holds every hidden (row, column) and ``primary`` the ones hidden
    for being small (the rest are complements).
    """

    counts: dict[str, dict[str, int | None]]
    suppressed: frozenset[tuple[str, str]]
    primary: frozenset[tuple[str, str]]

    def to_json(self) -> dict[str, dict[str, int | None]]:
        """``{row: {column: int | None}}`` (results.md ``profiles.transitions.counts``), a fresh copy."""
        return {row: dict(cols) for row, cols in self.counts.items()}


def _cell_range(
    cell: tuple[int, int],
    suppressed: set[tuple[int, int]],
    values: np.ndarray,
) -> tuple[int, int]:
    """Exact min and max of a suppressed cell given the published cells and the row/column totals."""
    cells = sorted(suppressed)
    index = {c: i for i, c in enumerate(cells)}
    rows = sorted({i for i, _ in cells})
    cols = sorted({j for _, j in cells})
    a_eq = np.zeros((len(rows) + len(cols), len(cells)))
    b_eq = np.zeros(len(rows) + len(cols))
    for r_pos, i in enumerate(rows):
        b_eq[r_pos] = sum(values[i, j] for (ii, j) in cells if ii == i)  # = row total - published part
        for (ii, j) in cells:
            if ii == i:
                a_eq[r_pos, index[(ii, j)]] = 1.0
    for c_pos, j in enumerate(cols):
        b_eq[len(rows) + c_pos] = sum(values[i, jj] for (i, jj) in cells if jj == j)
        for (i, jj) in cells:
            if jj == j:
                a_eq[len(rows) + c_pos, index[(i, jj)]] = 1.0
    objective = np.zeros(len(cells))
    objective[index[cell]] = 1.0
    bounds = []
    for sign in (1.0, -1.0):
        res = optimize.linprog(sign * objective, A_eq=a_eq, b_eq=b_eq, bounds=(0, None), method="highs")
        if res.status != 0:  # pragma: no cover - the true table is always feasible and the range bounded
            raise RuntimeError(f"suppression audit LP failed: {res.message}")
        bounds.append(int(round(sign * res.fun)))
    return bounds[0], bounds[1]


def suppress_matrix(counts: Mapping[str, Mapping[str, int]], *, min_cell_count: int) -> SuppressedMatrix:
    """Suppress a two-way table whose row and column totals are published (the transition matrix).

    1. Primary: every cell in 1..k-1 is hidden.
    2. Complementary, per row and column: wherever a row or column has exactly one
       hidden cell, or hidden cells summing to 1..k-1, the smallest non-zero published
       cell of that row/column is hidden too (ties: row order, then column order); a zero
       only if nothing non-zero is left. Repeated until every row and column is safe.
    3. Audit: for each primary cell the exact range of values consistent with everything
       published is computed (two linear programmes over the hidden cells, constrained
       by the row/column totals, cells >= 0; exact because a two-way table's constraint
       matrix is totally unimodular). If the largest feasible value is below
       ``min(k, row total, column total)``, or the range is a single value that the totals
       alone do not force, the smallest published cell of its row or column is hidden and
       steps 2-3 repeat. Hiding every cell always passes, so this terminates.

    Deterministic: the same input gives the same cells, whatever the platform.

    Parameters
    ----------
    counts : mapping row -> (mapping column -> int)
        Every row has the same columns. Row and column order are kept.
    min_cell_count : int, keyword-only
        k; counts 1..k-1 are small. 1 disables suppression.

    Examples
    --------
    >>> m = suppress_matrix({"a": {"x": 30, "y": 3}, "b": {"x": 40, "y": 50}}, min_cell_count=11)
    >>> m.counts
    {'a': {'x': None, 'y': None}, 'b': {'x': None, 'y': None}}
    >>> sorted(m.primary)
    [('a', 'y')]
    """
    k = _check_k(min_cell_count)
    if not isinstance(counts, Mapping) or not counts:
        raise ValueError("`counts` must be a non-empty mapping row -> {column: count}.")
    row_keys = list(counts)
    first = counts[row_keys[0]]
    if not isinstance(first, Mapping) or not first:
        raise ValueError(f"row {row_keys[0]!r} must be a non-empty mapping column -> count.")
    col_keys = list(first)
    for rk in row_keys:
        row = counts[rk]
        if not isinstance(row, Mapping) or set(row) != set(col_keys):
            got = sorted(row) if isinstance(row, Mapping) else type(row).__name__
            raise ValueError(
                f"row {rk!r} must have exactly the columns {col_keys!r} (as row {row_keys[0]!r}), got {got!r}; "
                "give 0 for an empty cell."
            )
    values = np.array(
        [[_check_count(f"counts[{rk!r}][{ck!r}]", counts[rk][ck]) for ck in col_keys] for rk in row_keys],
        dtype=np.int64,
    )
    n_rows, n_cols = values.shape
    primary = {(i, j) for i in range(n_rows) for j in range(n_cols) if 1 <= values[i, j] < k}
    suppressed = set(primary)
    groups = [[(i, j) for j in range(n_cols)] for i in range(n_rows)] + [
        [(i, j) for i in range(n_rows)] for j in range(n_cols)
    ]
    row_tot = values.sum(axis=1)
    col_tot = values.sum(axis=0)
    grand = int(values.sum())

    def close_groups() -> None:
        changed = True
        while changed:
            changed = False
            for group in groups:
                local = {pos for pos, cell in enumerate(group) if cell in suppressed}
                if _close_vector([int(values[c]) for c in group], local, k):
                    suppressed.update(group[pos] for pos in local)
                    changed = True

    def unprotected() -> tuple[int, int] | None:
        for cell in sorted(primary):
            i, j = cell
            low, high = _cell_range(cell, suppressed, values)
            cap = int(min(row_tot[i], col_tot[j]))
            forced = max(0, int(row_tot[i] + col_tot[j]) - grand) == cap  # the totals alone pin it
            if high < min(k, cap) or (low == high and not forced):
                return cell
        return None

    def complement_for(cell: tuple[int, int]) -> tuple[int, int] | None:
        i, j = cell
        near = [c for c in groups[i] + groups[n_rows + j] if c not in suppressed]
        anywhere = [(a, b) for a in range(n_rows) for b in range(n_cols) if (a, b) not in suppressed]
        for pool in (near, anywhere):
            nonzero = [c for c in pool if values[c] > 0]
            if nonzero:
                return min(nonzero, key=lambda c: (int(values[c]), c))
            if pool:
                return min(pool)
        return None

    close_groups()
    while primary:
        bad = unprotected()
        if bad is None:
            break
        extra = complement_for(bad)
        if extra is None:  # pragma: no cover - with every cell hidden the audit always passes
            break
        suppressed.add(extra)
        close_groups()

    out = {
        rk: {ck: (None if (i, j) in suppressed else int(values[i, j])) for j, ck in enumerate(col_keys)}
        for i, rk in enumerate(row_keys)
    }
    return SuppressedMatrix(
        counts=out,
        suppressed=frozenset((row_keys[i], col_keys[j]) for i, j in suppressed),
        primary=frozenset((row_keys[i], col_keys[j]) for i, j in primary),
    )


# --------------------------------------------------------------------------- the publication layer
HiddenReason = Literal["small", "complement"]

COUNT_KEYS: frozenset[str] = frozenset(
    {"n", "patients", "threshold_met", "completers", "observations", "patients_imputed", "burnout_at_baseline"}
)
"""Keys whose int values are counts of patients (rounded by ``[privacy] round_to``)."""

_ROW_KEYS = frozenset({"burnout", "overextended", "disengaged", "ineffective", "engaged"})  # transition rows


def _is_count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


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

RULES: tuple[str, ...] = ("small", "complement", "statistic", "test")
"""What :attr:`Publisher.hidden_counts` counts: cells hidden for being small (primary),
cells hidden to protect a small cell (complementary), statistics withheld for being over
fewer than k patients (or over a group whose size is hidden), and tests withheld for
resting on a table with a hidden cell."""

UNKNOWN_LEVELS: frozenset[str] = frozenset({"unknown", "other", "missing", "none", "null", "", "nan"})
"""Level names that are preferred as complements (they carry the least analytic value)."""


class Publisher:
    """The one publication layer: every count and statistic of the results tree passes it.

    Rules (``k = min_cell_count``):

    - a count in 1..k-1 is hidden (primary, ``"hidden": "small"``, read "<k");
    - counts that add up to a published total form a *family*; a hidden cell is never
      alone in its family and the hidden cells together hold 0 or >= k. Complements
      are chosen to lose least (:func:`_close_vector`): first cells that are never
      published anyway (a residual such as "neither improved nor deteriorated", or
      "not female"), then unknown/other/missing levels, then the smallest count; they
      read ``"hidden": "complement"`` ("hidden to protect a small cell");
    - a denominator is a count of its family (missing/unknown is a cell of it): a
      Proportion whose ``n`` is hidden or small is hidden whole;
    - a statistic (mean, SD, CI, dz, test, model summary, observation count) over
      fewer than k patients, or over a group whose size is hidden, is withheld;
    - a test on a table with a hidden cell is withheld (never computed on part of it).

    :attr:`hidden_counts` tallies how many published positions each rule hid (the
    ``privacy`` section of results.json).

    Examples
    --------
    >>> pub = Publisher(min_cell_count=11)
    >>> pub.prop(4, 395)["hidden"], pub.prop(390, 395)["hidden"], pub.prop(40, 395)["count"]
    ('small', 'complement', 40)
    >>> pub.hidden_counts
    {'small': 1, 'complement': 1, 'statistic': 0, 'test': 0}
    """

    def __init__(self, *, min_cell_count: int, confidence: float = 0.95, round_to: int = 1) -> None:
        self.k = _check_k(min_cell_count)
        self.conf = confidence
        self.round_to = _check_k(round_to)
        self.hidden_counts: dict[str, int] = dict.fromkeys(RULES, 0)

    @classmethod
    def for_plan(cls, protocol: object) -> Publisher:
        """A publisher with the plan's ``[privacy] min_cell_count`` and ``round_to`` and ``[analysis] confidence``."""
        return cls(
            min_cell_count=protocol.privacy.min_cell_count,  # type: ignore[attr-defined]
            confidence=protocol.analysis.confidence,  # type: ignore[attr-defined]
            round_to=protocol.privacy.round_to,  # type: ignore[attr-defined]
        )

    # -- rounding (differencing) -------------------------------------------------------
    def rounded(self, count: int) -> int:
        """``count`` to the nearest multiple of ``round_to`` (halves up); 0 stays 0.

        >>> Publisher(min_cell_count=11, round_to=5).rounded(392)
        390
        >>> Publisher(min_cell_count=11, round_to=5).rounded(13)
        15
        """
        base = self.round_to
        return base * ((count + base // 2) // base)

    def round_tree(self, node: Any, *, key: str = "") -> Any:
        """Every published count of a results (sub)tree rounded to a multiple of ``round_to``.

        Proportions get rounded ``count`` and ``n`` and a rate and CI recomputed from them
        (as statistics offices publish rounded tables); other counts (keys in
        :data:`COUNT_KEYS`, the flow's exclusions, the transition cells) are rounded.
        Means, SDs and tests are left as computed: their df and t still carry the exact
        n, so rounding limits differencing of counts, not of every statistic (docs/privacy.md).
        """
        if self.round_to == 1:
            return node
        if isinstance(node, dict):
            if {"count", "n", "rate", "ci", "suppressed"} <= node.keys() and not node["suppressed"]:
                if node["count"] is None or node["n"] is None:
                    return node
                again = proportion(self.rounded(node["count"]), self.rounded(node["n"]), confidence=self.conf)
                return {**node, **again.to_json()}
            counts_below = key in ("exclusions", "counts") or key in _ROW_KEYS
            return {
                k: (self.rounded(v) if _is_count(v) and (k in COUNT_KEYS or counts_below) else self.round_tree(v, key=k))
                for k, v in node.items()
            }
        if isinstance(node, list):
            return [self.round_tree(v, key=key) for v in node]
        return node

    def __repr__(self) -> str:
        return f"<Publisher: min_cell_count={self.k}, hidden {self.hidden_counts}>"

    # -- single numbers --------------------------------------------------------------
    def small(self, count: int | None) -> bool:
        """A count in 1..k-1 (None, a hidden count, is not small: it is already hidden)."""
        return count is not None and 1 <= count < self.k

    def enough(self, n: int | None) -> bool:
        """Whether a statistic over ``n`` patients may be published (n known and not in 1..k-1)."""
        return n is not None and not 1 <= n < self.k

    def note(self, rule: str, cells: int = 1) -> None:
        """Count ``cells`` positions hidden by ``rule`` (one of :data:`RULES`)."""
        self.hidden_counts[rule] += cells

    def count(self, count: int, *, hide: bool = False) -> int | None:
        """A count on its own: None when small (or when ``hide``: a complement)."""
        if self.small(count):
            self.note("small")
            return None
        if hide:
            self.note("complement")
            return None
        return count

    def hidden(self, reason: HiddenReason, *, n: int | None = None) -> dict[str, Any]:
        """A hidden Proportion: count, rate and CI blank together, with the reason."""
        self.note(reason)
        return {"count": None, "n": n, "rate": None, "ci": None, "suppressed": True, "hidden": reason}

    def prop(self, count: int, n: int, *, n_published: bool = True, hide: bool = False) -> dict[str, Any]:
        """A Proportion ``count / n`` through the rules.

        Hidden whole (n too) when ``n`` is small or not published; hidden with ``n`` kept
        when ``count`` or ``n - count`` is small, or when ``hide`` (a complement chosen
        by the caller's family).
        """
        if not n_published or self.small(n):
            return self.hidden("small" if self.small(count) or self.small(n) else "complement")
        if self.small(count):
            return self.hidden("small", n=n)
        if hide or self.small(n - count):
            return self.hidden("complement", n=n)
        return proportion(count, n, confidence=self.conf).to_json()

    # -- families --------------------------------------------------------------------
    def protect(
        self,
        counts: Mapping[str, int],
        *,
        free: Iterable[str] = (),
        prefer: Iterable[str] = (),
        hidden: Iterable[str] = (),
    ) -> frozenset[str]:
        """Keys to hide in a family of counts whose total is published (least-loss complements).

        ``free`` keys are never published (hiding them costs nothing, so they are the
        first complements); ``prefer`` keys (unknown/other/missing) come next; then
        the smallest count. ``hidden`` keys start hidden.
        """
        return self.protect_jointly([counts], free=free, prefer=prefer, hidden=hidden)

    def protect_jointly(
        self,
        vectors: Sequence[Mapping[str, int]],
        *,
        free: Iterable[str] = (),
        prefer: Iterable[str] = (),
        hidden: Iterable[str] = (),
    ) -> frozenset[str]:
        """:meth:`protect` over several families with the same keys (a level hidden in all)."""
        keys = list(vectors[0])
        free, prefer = set(free), set(prefer) | {key for key in keys if key.strip().lower() in UNKNOWN_LEVELS}
        cost = [0 if key in free else 1 if key in prefer else 2 for key in keys]
        values = [[_check_count(f"counts[{key!r}]", v[key]) for key in keys] for v in vectors]
        forced = set(hidden)
        suppressed = {i for i, key in enumerate(keys) if key in forced or any(1 <= row[i] < self.k for row in values)}
        while any([_close_vector(row, suppressed, self.k, cost) for row in values]):
            pass
        return frozenset(keys[i] for i in suppressed)

    def family(
        self,
        counts: Mapping[str, int],
        n: int,
        *,
        n_published: bool = True,
        free: Iterable[str] = (),
        prefer: Iterable[str] = (),
    ) -> dict[str, dict[str, Any]]:
        """Proportions sharing the denominator ``n`` whose counts (with ``free`` ones) add up to it.

        Returns the non-free keys only.
        """
        free = set(free)
        shown = [key for key in counts if key not in free]
        if not n_published or self.small(n):
            return {key: self.hidden("small" if self.small(counts[key]) or self.small(n) else "complement") for key in shown}
        hide = self.protect(counts, free=free, prefer=prefer)
        return {key: self.prop(counts[key], n, hide=key in hide) for key in shown}

    def withheld_test(self, test: str) -> dict[str, Any]:
        """A test withheld because its table has a hidden cell (or too few patients)."""
        self.note("test")
        return {"statistic": None, "df": None, "p": None, "test": test, "withheld": True}

    def summary(self) -> dict[str, Any]:
        """The ``privacy`` section of results.json: the rule's k, the rounding base and how many
        positions each rule hid."""
        return {"min_cell_count": self.k, "round_to": self.round_to, "hidden": dict(self.hidden_counts)}
