"""stats.paired_tests (Cochran's Q, McNemar, Holm) against statsmodels on expanded raw data.

Every reference works on raw simulated data or a different algorithm; the tolerance of
each comparison is written in the test.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from statsmodels.stats.contingency_tables import cochrans_q as sm_cochrans_q
from statsmodels.stats.contingency_tables import mcnemar as sm_mcnemar
from statsmodels.stats.multitest import multipletests

from burnout.stats import (
    cochran_q,
    holm,
    mcnemar,
)


# --------------------------------------------------------------------------- Cochran, McNemar, Holm
def test_cochran_q_against_statsmodels_on_expanded_raw_data() -> None:
    rng = np.random.default_rng(6)
    for k in (2, 3, 4):
        patterns = list(itertools.product((False, True), repeat=k))
        for _ in range(5):
            counts = {p: int(c) for p, c in zip(patterns, rng.integers(0, 40, size=len(patterns)), strict=True)}
            raw = np.array([p for p, c in counts.items() for _ in range(c)], dtype=float)
            ref = sm_cochrans_q(raw)
            r = cochran_q(counts)
            assert r.test == "cochran-q" and r.df == k - 1 == ref.df and r.n == len(raw)
            assert r.statistic == pytest.approx(ref.statistic, rel=1e-9)
            assert r.p == pytest.approx(ref.pvalue, rel=1e-9, abs=1e-300)


def test_cochran_q_undefined_when_no_subject_varies() -> None:
    r = cochran_q({(True, True, True): 5, (False, False, False): 9})
    assert (r.statistic, r.p, r.df) == (None, None, 2)


def test_mcnemar_against_statsmodels() -> None:
    for b in range(0, 41):
        for c in range(0, 41):
            exact = b + c < 25
            r = mcnemar(b, c)
            ref = sm_mcnemar(np.array([[0, b], [c, 0]]), exact=exact, correction=True)
            assert r.test == ("mcnemar-exact" if exact else "mcnemar-chi-square")
            assert r.p == pytest.approx(ref.pvalue, abs=1e-12)
            if not exact:
                assert r.statistic == pytest.approx(ref.statistic, abs=1e-12)


def test_mcnemar_forced_methods() -> None:
    ref = sm_mcnemar(np.array([[0, 40], [60, 0]]), exact=True)
    assert mcnemar(40, 60, method="exact").p == pytest.approx(ref.pvalue, rel=1e-12)
    ref = sm_mcnemar(np.array([[0, 3], [9, 0]]), exact=False, correction=True)
    assert mcnemar(3, 9, method="chi-square").p == pytest.approx(ref.pvalue, abs=1e-12)


def test_holm_against_multipletests() -> None:
    rng = np.random.default_rng(7)
    for m in (1, 2, 3, 7, 20):
        p = rng.uniform(0, 0.2, size=m)
        p[rng.integers(0, m)] = p[0]  # a tie
        ref = multipletests(p, method="holm")[1]
        assert holm(list(p)) == pytest.approx(tuple(ref), abs=1e-12)


def test_holm_passes_none_through() -> None:
    out = holm([0.01, None, 0.04, 0.03])
    ref = multipletests([0.01, 0.04, 0.03], method="holm")[1]
    assert out[1] is None
    assert (out[0], out[2], out[3]) == pytest.approx(tuple(ref), abs=1e-12)
