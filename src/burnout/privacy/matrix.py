"""Small-cell suppression with complementary suppression: the privacy stage. (matrix)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from scipy import optimize

from burnout.privacy.suppress import _check_count, _check_k, _close_vector

__all__ = ["SuppressedMatrix", "suppress_matrix"]

Cell = tuple[int, int]
"""A (row, column) position in the counts array."""


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
        for ii, j in cells:
            if ii == i:
                a_eq[r_pos, index[(ii, j)]] = 1.0
    for c_pos, j in enumerate(cols):
        b_eq[len(rows) + c_pos] = sum(values[i, jj] for (i, jj) in cells if jj == j)
        for i, jj in cells:
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
    row_keys, col_keys, values = _matrix_values(counts)
    n_rows, n_cols = values.shape
    primary = {(i, j) for i in range(n_rows) for j in range(n_cols) if 1 <= values[i, j] < k}
    suppressed = set(primary)
    # every row, then every column, as a list of its cells: the groups whose totals are published
    groups = [[(i, j) for j in range(n_cols)] for i in range(n_rows)] + [
        [(i, j) for i in range(n_rows)] for j in range(n_cols)
    ]
    _close_groups(values, groups, suppressed, k)
    while primary:
        bad = _unprotected(values, primary, suppressed, k)
        if bad is None:
            break
        extra = _complement_for(bad, values, groups, suppressed)
        if extra is None:  # pragma: no cover - with every cell hidden the audit always passes
            break
        suppressed.add(extra)
        _close_groups(values, groups, suppressed, k)

    return _named(values, row_keys, col_keys, suppressed=suppressed, primary=primary)


def _named(
    values: np.ndarray, row_keys: list[str], col_keys: list[str], *, suppressed: set[Cell], primary: set[Cell]
) -> SuppressedMatrix:
    """The result under the input's row and column names, None in every suppressed cell."""
    out = {
        rk: {ck: (None if (i, j) in suppressed else int(values[i, j])) for j, ck in enumerate(col_keys)}
        for i, rk in enumerate(row_keys)
    }
    return SuppressedMatrix(
        counts=out,
        suppressed=frozenset((row_keys[i], col_keys[j]) for i, j in suppressed),
        primary=frozenset((row_keys[i], col_keys[j]) for i, j in primary),
    )


def _matrix_values(counts: Mapping[str, Mapping[str, int]]) -> tuple[list[str], list[str], np.ndarray]:
    """Row keys, column keys and the checked counts as an int64 array (every row with the first row's columns)."""
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
    return row_keys, col_keys, values


def _close_groups(values: np.ndarray, groups: list[list[Cell]], suppressed: set[Cell], k: int) -> None:
    """Step 2: complementary suppression in every row and column (``suppressed`` grows in place)
    until none has a lone hidden cell or hidden cells summing to 1..k-1."""
    changed = True
    while changed:
        changed = False
        for group in groups:
            local = {pos for pos, cell in enumerate(group) if cell in suppressed}
            if _close_vector([int(values[c]) for c in group], local, k):
                suppressed.update(group[pos] for pos in local)
                changed = True


def _unprotected(values: np.ndarray, primary: set[Cell], suppressed: set[Cell], k: int) -> Cell | None:
    """Step 3's audit: the first primary cell (sorted) whose feasible range gives it away, or None."""
    row_tot = values.sum(axis=1)
    col_tot = values.sum(axis=0)
    grand = int(values.sum())
    for cell in sorted(primary):
        i, j = cell
        low, high = _cell_range(cell, suppressed, values)
        cap = int(min(row_tot[i], col_tot[j]))
        forced = max(0, int(row_tot[i] + col_tot[j]) - grand) == cap  # the totals alone pin it
        if high < min(k, cap) or (low == high and not forced):
            return cell
    return None


def _complement_for(cell: Cell, values: np.ndarray, groups: list[list[Cell]], suppressed: set[Cell]) -> Cell | None:
    """The next cell to hide for an unprotected ``cell``: the smallest non-zero published cell of
    its row or column, else anywhere; a zero only when no non-zero is left."""
    n_rows, n_cols = values.shape
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
