"""Scoring: hand-computed values, exact boundaries, and properties (hypothesis)."""

from __future__ import annotations

from fractions import Fraction

import ibis
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from burnout.instrument import SCALE, SUBSCALE_ITEMS, SUBSCALES
from burnout.scoring import (
    PHQ9_SCALE,
    at_least,
    at_most,
    phq9_total_exact,
    score_mbi,
    score_phq9,
    subscale_score_exact,
    to_units_ceil,
    to_units_floor,
)

item = st.one_of(st.none(), st.integers(min_value=0, max_value=6))


def _mbi_table(con, rows: list[dict[int, int | None]]):
    data = {"patient_id": [f"p{i}" for i in range(len(rows))], "after_session": [0] * len(rows)}
    for pos in range(1, 17):
        data[f"item_{pos}"] = pa.array([r.get(pos) for r in rows], type=pa.int64())
    return con.create_table("mbi", pa.table(data), overwrite=True)


@pytest.fixture(scope="module")
def con():
    return ibis.duckdb.connect()


def test_subscale_score_hand_computed():
    # exhaustion items 5,5,5,4,5 -> 24/5 = 4.8 exactly
    assert subscale_score_exact([5, 5, 5, 4, 5], max_missing_items=1) == Fraction(24, 5)
    # one blank: mean of the four answered, 19/4 = 4.75
    assert subscale_score_exact([5, 5, None, 4, 5], max_missing_items=1) == Fraction(19, 4)
    # two blanks with max 1 -> not scored; with max 2 -> scored
    assert subscale_score_exact([5, None, None, 4, 5], max_missing_items=1) is None
    assert subscale_score_exact([5, None, None, 4, 5], max_missing_items=2) == Fraction(14, 3)
    # efficacy (6 items) 4,4,5,4,4,5 -> 26/6 = 13/3
    assert subscale_score_exact([4, 4, 5, 4, 4, 5], max_missing_items=1) == Fraction(13, 3)


def test_phq9_total_hand_computed():
    assert phq9_total_exact([3] * 9) == 27
    assert phq9_total_exact([1, 2, 3, 0, 1, 2, 1, 1, 1]) == 12
    # one blank: 11 * 9 / 8 = 12.375, not rounded
    assert phq9_total_exact([1, 2, 3, 0, 1, 2, None, 1, 1]) == Fraction(99, 8)
    # two blanks: 10 * 9 / 7
    assert phq9_total_exact([1, 2, 3, 0, 1, 2, None, None, 1]) == Fraction(90, 7)
    assert phq9_total_exact([1, None, 3, 0, 1, 2, None, None, 1]) is None


def test_engine_scores_match_exact_reference(con):
    rows = [
        {1: 5, 2: 5, 3: 5, 4: 4, 6: 5, 8: 4, 9: 4, 13: 4, 14: 3, 15: 4, 5: 4, 7: 4, 10: 5, 11: 4, 12: 4, 16: 5},
        {1: 5, 2: None, 3: 5, 4: 4, 6: 5, 8: None, 9: None, 13: 4, 14: 3, 15: 4},  # cynicism unscored, efficacy blank
    ]
    out = score_mbi(_mbi_table(con, rows), max_missing_items=1).order_by("patient_id").to_pyarrow().to_pylist()
    assert out[0]["exhaustion"] == 24 * SCALE // 5  # 4.8
    assert out[0]["cynicism"] == 19 * SCALE // 5  # 3.8
    assert out[0]["professional_efficacy"] == 13 * SCALE // 3
    assert out[1]["exhaustion"] == 19 * SCALE // 4
    assert out[1]["cynicism"] is None
    assert out[1]["professional_efficacy"] is None


def test_thresholds_are_exact_at_the_boundary(con):
    # 4.8 as a float is 4.79999...; the decimal cut-off must still admit exactly 4.8.
    t = con.create_table(
        "u", pa.table({"u": [24 * SCALE // 5, 24 * SCALE // 5 - 1, 43 * SCALE // 10, 43 * SCALE // 10 + 1]}), overwrite=True
    )
    res = t.select(ge=at_least(t.u, Fraction("4.8")), le=at_most(t.u, Fraction("4.3"))).to_pyarrow().to_pylist()
    assert [r["ge"] for r in res] == [True, False, False, False]
    assert [r["le"] for r in res] == [False, False, True, False]
    assert to_units_ceil("4.8") == 2_880_000
    assert to_units_floor("4.3") == 2_580_000
    # a change from 4.8 to 3.8 is exactly 1.0 point
    assert to_units_ceil("4.8") - to_units_ceil("3.8") == to_units_ceil("1.0")


def test_phq9_engine_matches_exact_reference(con):
    rows = [[1, 2, 3, 0, 1, 2, None, 1, 1], [3] * 9, [None, None, None, 0, 0, 0, 0, 0, 0]]
    data = {"patient_id": ["a", "b", "c"], "after_session": [0, 0, 0]}
    for i in range(9):
        data[f"item_{i + 1}"] = pa.array([r[i] for r in rows], type=pa.int64())
    t = con.create_table("phq", pa.table(data), overwrite=True)
    out = score_phq9(t).order_by("patient_id").to_pyarrow().to_pylist()
    assert Fraction(out[0]["phq9"], PHQ9_SCALE) == Fraction(99, 8)
    assert Fraction(out[1]["phq9"], PHQ9_SCALE) == 27
    assert out[2]["phq9"] is None


@settings(max_examples=60, deadline=None)
@given(rows=st.lists(st.fixed_dictionaries({pos: item for pos in range(1, 17)}), min_size=1, max_size=12),
       max_missing=st.integers(min_value=0, max_value=3))
def test_engine_equals_reference_and_stays_in_range(con, rows, max_missing):
    out = score_mbi(_mbi_table(con, rows), max_missing_items=max_missing).to_pyarrow().to_pylist()
    by_id = {r["patient_id"]: r for r in out}
    for i, row in enumerate(rows):
        for s in SUBSCALES:
            expected = subscale_score_exact([row[p] for p in SUBSCALE_ITEMS[s]], max_missing_items=max_missing)
            got = by_id[f"p{i}"][s]
            if expected is None:
                assert got is None
            else:
                assert Fraction(got, SCALE) == expected
                assert 0 <= got <= 6 * SCALE


@settings(max_examples=30, deadline=None)
@given(rows=st.lists(st.fixed_dictionaries({pos: item for pos in range(1, 17)}), min_size=2, max_size=10),
       seed=st.randoms())
def test_scores_do_not_depend_on_row_order(con, rows, seed):
    first = score_mbi(_mbi_table(con, rows), max_missing_items=1).to_pyarrow().to_pylist()
    order = list(range(len(rows)))
    seed.shuffle(order)
    shuffled = [rows[i] for i in order]
    second = score_mbi(_mbi_table(con, shuffled), max_missing_items=1).to_pyarrow().to_pylist()
    a = {r["patient_id"]: r for r in first}
    b = {f"p{order.index(i)}": r for i, r in enumerate(first)}  # original index i now sits at position order.index(i)
    assert {k: {s: v[s] for s in SUBSCALES} for k, v in b.items()} == {
        r["patient_id"]: {s: r[s] for s in SUBSCALES} for r in second
    }
    assert len(a) == len(rows)
