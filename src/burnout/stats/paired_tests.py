"""Statistics from aggregates: the estimates stage. (paired_tests)."""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Literal

import numpy as np
from scipy import stats

from burnout.stats._common import _as_count

__all__ = ["HypothesisTest", "cochran_q", "holm", "mcnemar"]


# --------------------------------------------------------------------------- tests
@dataclass(frozen=True, slots=True)
class HypothesisTest:
    """A significance test: its name, statistic, degrees of freedom, p-value and n.

    ``statistic`` is the chi-square (or Q) statistic and is None for exact tests;
    ``df`` is None for exact tests; ``statistic`` and ``p`` are None when the test is
    undefined (e.g. ``test == "not-testable"``). ``n`` is the number of subjects
    entering the test (for McNemar: the discordant pairs b + c).
    """

    test: str
    statistic: float | None
    df: int | None
    p: float | None
    n: int

    def to_json(self) -> dict[str, Any]:
        """``{"statistic", "df", "p", "test"}`` (results.md ``heterogeneity``)."""
        return {"statistic": self.statistic, "df": self.df, "p": self.p, "test": self.test}


def cochran_q(pattern_counts: Mapping[tuple[bool, ...], int]) -> HypothesisTest:
    r"""Cochran's Q test that k related binary outcomes share one success rate.

    From the number of subjects with each response pattern (e.g. ``(True, False, True)``:
    responded on the first and third subscale), with column totals ``C_j``, row totals
    ``R_i`` and ``N = sum C_j``:

    .. math::

        Q = (k - 1)\,\frac{k \sum_j C_j^2 - N^2}{k N - \sum_i R_i^2},
        \qquad Q \sim \chi^2_{k-1}

    Computed in exact integer arithmetic. If every subject has an all-same pattern the
    denominator is 0 and ``statistic``/``p`` are None.

    Parameters
    ----------
    pattern_counts : mapping of tuple of bool to int
        Count of subjects per pattern; all patterns have the same length k >= 2.
        Absent patterns count 0.

    Returns
    -------
    HypothesisTest
        ``test="cochran-q"``, ``df=k-1``, ``n`` = number of subjects.

    Notes
    -----
    Validated against ``statsmodels.stats.contingency_tables.cochrans_q`` on the
    expanded raw 0/1 matrix (1e-9).

    References
    ----------
    - Cochran WG (1950). The comparison of percentages in matched samples. Biometrika 37:256-266.

    Examples
    --------
    >>> r = cochran_q({(True, True, False): 10, (True, False, False): 5, (False, False, False): 3})
    >>> r.df, round(r.statistic, 4)
    (2, 23.3333)
    """
    col, n_subjects, big_n, sum_r2 = _pattern_margins(pattern_counts)
    k = len(col)
    denom = k * big_n - sum_r2
    if denom == 0:
        return HypothesisTest(test="cochran-q", statistic=None, df=k - 1, p=None, n=n_subjects)
    q = Fraction((k - 1) * (k * sum(cj * cj for cj in col) - big_n * big_n), denom)
    statistic = float(q)
    return HypothesisTest(
        test="cochran-q", statistic=statistic, df=k - 1, p=float(stats.chi2.sf(statistic, k - 1)), n=n_subjects
    )


def _pattern_margins(pattern_counts: Mapping[tuple[bool, ...], int]) -> tuple[list[int], int, int, int]:
    """Check the patterns; return the column totals ``C_j``, the subjects, ``N = sum C_j`` and ``sum R_i^2``."""
    if not isinstance(pattern_counts, Mapping) or not pattern_counts:
        raise ValueError(
            f"`pattern_counts` must be a non-empty mapping {{(bool, ...): count}}, got {pattern_counts!r}."
        )
    k: int | None = None
    col = []
    n_subjects = 0
    big_n = 0
    sum_r2 = 0
    for pattern, count in pattern_counts.items():
        if not isinstance(pattern, tuple) or not all(
            isinstance(v, (bool, np.bool_)) or (isinstance(v, numbers.Integral) and int(v) in (0, 1)) for v in pattern
        ):
            raise ValueError(f"each pattern must be a tuple of bools, got {pattern!r}.")
        if k is None:
            k = len(pattern)
            if k < 2:
                raise ValueError(f"Cochran's Q needs k >= 2 outcomes per subject, got patterns of length {k}.")
            col = [0] * k
        elif len(pattern) != k:
            raise ValueError(f"every pattern must have length {k}, got {pattern!r} of length {len(pattern)}.")
        c = _as_count(f"pattern_counts[{pattern!r}]", count)
        r = sum(bool(v) for v in pattern)
        for j, v in enumerate(pattern):
            if v:
                col[j] += c
        n_subjects += c
        big_n += c * r
        sum_r2 += c * r * r
    return col, n_subjects, big_n, sum_r2


def mcnemar(b: int, c: int, *, method: Literal["auto", "exact", "chi-square"] = "auto") -> HypothesisTest:
    r"""McNemar's test for two paired binary outcomes from the discordant counts.

    ``b`` = subjects positive on the first outcome only, ``c`` = on the second only.

    - exact (``method="auto"`` when ``b + c < 25``): two-sided binomial test,
      ``p = min(1, 2 P(X <= min(b, c)))`` with ``X ~ Binomial(b + c, 1/2)``, summed in
      exact integer arithmetic; ``statistic`` and ``df`` are None.
    - chi-square (``b + c >= 25``): with continuity correction,
      ``(|b - c| - 1)^2 / (b + c)`` on 1 df, the formula of R's ``mcnemar.test`` and of
      statsmodels (no truncation at 0 when ``b == c``).

    ``b + c == 0`` gives the exact p = 1.

    Notes
    -----
    Validated against ``statsmodels.stats.contingency_tables.mcnemar(table,
    exact=(b + c < 25), correction=True)`` (1e-12).

    References
    ----------
    - McNemar Q (1947). Note on the sampling error of the difference between correlated proportions or percentages. Psychometrika 12:153-157.
    - Edwards AL (1948). Note on the "correction for continuity" in testing the significance of the difference between correlated proportions. Psychometrika 13:185-187.

    Examples
    --------
    >>> mcnemar(3, 12).test, round(mcnemar(3, 12).p, 6)
    ('mcnemar-exact', 0.035156)
    """
    bb = _as_count("b", b)
    cc = _as_count("c", c)
    if method not in ("auto", "exact", "chi-square"):
        raise ValueError(f"`method` must be one of 'auto', 'exact', 'chi-square', got {method!r}.")
    total = bb + cc
    exact = total < 25 if method == "auto" else method == "exact"
    if exact:
        tail = sum(math.comb(total, i) for i in range(min(bb, cc) + 1))
        p = min(Fraction(1), Fraction(2 * tail, 2**total))
        return HypothesisTest(test="mcnemar-exact", statistic=None, df=None, p=float(p), n=total)
    if total == 0:
        raise ValueError("the chi-square McNemar test needs b + c > 0; use method='exact' (p = 1).")
    statistic = float(Fraction((abs(bb - cc) - 1) ** 2, total))
    return HypothesisTest(
        test="mcnemar-chi-square", statistic=statistic, df=1, p=float(stats.chi2.sf(statistic, 1)), n=total
    )


def holm(pvalues: Sequence[float | None]) -> tuple[float | None, ...]:
    r"""Holm's step-down adjustment of p-values for multiple comparisons.

    With the m p-values sorted ascending, ``p_(1) <= ... <= p_(m)``:

    .. math:: \tilde p_{(i)} = \max_{j \le i} \min\{1, (m - j + 1)\, p_{(j)}\}

    returned in the input order. None entries (an undefined test) are passed through as
    None and do not count in m. Ties keep their input order (stable sort).

    Notes
    -----
    Validated against ``statsmodels.stats.multitest.multipletests(method="holm")``
    (1e-12).

    References
    ----------
    - Holm S (1979). A simple sequentially rejective multiple test procedure. Scand J Stat 6:65-70.

    Examples
    --------
    >>> holm([0.01, 0.04, 0.03])
    (0.03, 0.06, 0.06)
    """
    values: list[float | None] = []
    for i, p in enumerate(pvalues):
        if p is None:
            values.append(None)
            continue
        if isinstance(p, bool) or not isinstance(p, numbers.Real) or not 0.0 <= float(p) <= 1.0:
            raise ValueError(f"p-value {i} must be a number in [0, 1] or None, got {p!r}.")
        values.append(float(p))
    present = sorted((p, i) for i, p in enumerate(values) if p is not None)  # ties: input order
    m = len(present)
    out: list[float | None] = [None] * len(values)
    running = 0.0
    for rank, (p, i) in enumerate(present):
        running = max(running, min(1.0, (m - rank) * p))
        out[i] = running
    return tuple(out)
