"""Exact scoring of every shipped instrument: hand-computed values, the missing-item rule at its
boundary, exact band thresholds, and the engine and the exact scorer against a scorer written
out by hand in the test helpers (tests/instrumentreference.py; hypothesis)."""

from __future__ import annotations

from fractions import Fraction
from importlib import resources

import ibis
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from burnout.instruments import (
    band_of,
    load_instrument,
    parse_instrument,
    reverse_keyed,
    score_exact,
    shipped_instruments,
    to_units,
)
from burnout.scoring import at_least, scale_units_expr, to_units_ceil
from instrumentreference import reference_score, rules_of


def _answers(values):
    return dict(enumerate(values, start=1))


def test_olbi_reverse_keying_by_hand():
    olbi = load_instrument("olbi")
    # exhaustion items 2,4,5,8,10,12,14,16; 5,10,14,16 reversed (5 - x on a 1-4 scale)
    answers = {p: 4 for p in range(1, 17)}
    # 4 negatively worded items at 4, 4 positively worded reversed to 1: (4*4 + 4*1) / 8
    assert score_exact(olbi, "exhaustion", answers) == Fraction(20, 8)
    answers[5] = 1  # reversed -> 4
    assert score_exact(olbi, "exhaustion", answers) == Fraction(23, 8)


def test_cbi_steps_and_reversed_item_by_hand():
    cbi = load_instrument("cbi")
    work = {7: 75, 8: 50, 9: 50, 10: 25, 11: 75, 12: 50, 13: 100}  # item 13 reversed: 100 -> 0
    assert score_exact(cbi, "work_related", work) == Fraction(325, 7)
    # PUMA document: work-related burnout needs four answered items of 7 (3 blanks scored, 4 not)
    assert score_exact(cbi, "work_related", {7: 75, 8: 50, 9: 50, 10: 25}) == Fraction(200, 4)
    assert score_exact(cbi, "work_related", {7: 75, 8: 50, 9: 50}) is None
    # personal burnout needs three of 6
    assert score_exact(cbi, "personal", {1: 100, 2: 50, 3: 0}) == 50
    assert score_exact(cbi, "personal", {1: 100, 2: 50}) is None


def test_mbi_es_sums_by_hand():
    es = load_instrument("mbi_es")
    answers = _answers([1, 1, 0, 6, 1, 0, 6, 1, 6, 0, 0, 3, 1, 1, 0, 0, 6, 3, 5, 0, 5, 0])  # MBIELM1 row 1
    assert score_exact(es, "emotional_exhaustion", answers) == 1 + 1 + 0 + 0 + 1 + 1 + 1 + 0 + 0
    assert score_exact(es, "personal_accomplishment", answers) == 6 + 6 + 6 + 3 + 6 + 3 + 5 + 5
    assert band_of(es, "personal_accomplishment", Fraction(40)) == "high"
    answers[1] = None  # a sum without proration allows no blank
    assert score_exact(es, "emotional_exhaustion", answers) is None


def test_phq9_and_gad7_proration_boundary():
    phq9, gad7 = load_instrument("phq9"), load_instrument("gad7")
    assert score_exact(phq9, "total", _answers([1, 2, 3, 0, 1, 2, None, None, 1])) == Fraction(90, 7)
    assert score_exact(phq9, "total", _answers([1, None, 3, 0, 1, 2, None, None, 1])) is None
    assert score_exact(gad7, "total", _answers([3, 3, 3, 3, 3, 3, None])) == 21
    assert score_exact(gad7, "total", _answers([3, 3, 3, 3, 3, None, None])) is None


def _bat23_with_user_bands():
    # no cut-offs ship with bat23 (unverified, issue 14): a user adds them in their own file
    text = (resources.files("burnout.instruments") / "data" / "bat23.toml").read_text(encoding="utf-8")
    bands = (
        'bands = [{ label = "no_risk", at_least = 1 }, { label = "at_risk", at_least = 2.59 },'
        ' { label = "very_high_risk", at_least = 3.02 }]\nbands_citation = "my checked copy of the manual"\n'
    )
    assert text.rstrip().endswith('good = "lower"')  # [total] is the file's last table
    return parse_instrument(text + bands, source="mine.toml")


def test_user_bat23_total_band_thresholds_are_exact():
    bat = _bat23_with_user_bands()
    # 2.59 is reached exactly by no mean of 21-23 items; 59.57/23 < 2.59 <= 60/23
    assert band_of(bat, "total", Fraction(259, 100)) == "at_risk"
    assert band_of(bat, "total", Fraction(259, 100) - Fraction(1, 10**9)) == "no_risk"
    assert band_of(bat, "total", Fraction(302, 100)) == "very_high_risk"
    u = bat.units_per_point
    # the engine's integer decision agrees on the two sides of the cut
    assert to_units_ceil("2.59", scale=u) == -(-259 * u // 100)
    assert to_units(bat, Fraction(60, 23)) >= to_units_ceil("2.59", scale=u) > to_units(bat, Fraction(59, 23))


def test_phq9_bands_at_their_edges():
    phq9 = load_instrument("phq9")
    edges = {4: "minimal", 5: "mild", 9: "mild", 10: "moderate", 14: "moderate", 15: "moderately_severe", 20: "severe"}
    for total, label in edges.items():
        assert band_of(phq9, "total", Fraction(total)) == label
    assert band_of(phq9, "total", Fraction(99, 8)) == "moderate"


@given(st.integers(min_value=1, max_value=4))
def test_reversing_twice_is_identity(x):
    resp = load_instrument("olbi").response
    assert reverse_keyed(reverse_keyed(x, resp), resp) == x
    assert resp.min <= reverse_keyed(x, resp) <= resp.max


@pytest.fixture(scope="module")
def con():
    return ibis.duckdb.connect()


def _rows(inst, draw_rows):
    answer = st.one_of(st.none(), st.sampled_from(inst.response.values))
    return draw_rows(st.lists(st.lists(answer, min_size=inst.items, max_size=inst.items), min_size=1, max_size=8))


@pytest.mark.parametrize("name", shipped_instruments())
@settings(max_examples=10, deadline=None)
@given(data=st.data())
def test_engine_units_equal_the_exact_rule_and_stay_in_range(con, name, data):
    inst = load_instrument(name)
    rows = _rows(inst, data.draw)
    table = pa.table({f"c{p}": pa.array([r[p - 1] for r in rows], type=pa.int64()) for p in range(1, inst.items + 1)})
    t = con.create_table("answers", table, overwrite=True)
    columns = {p: f"c{p}" for p in range(1, inst.items + 1)}
    exprs = {s: scale_units_expr(t, inst, s, columns=columns) for s in inst.scales}
    got = t.select(**exprs).to_pyarrow().to_pylist()
    for row, out in zip(rows, got):
        for s in inst.scales:
            score = reference_score(row, **rules_of(inst, s))
            assert score_exact(inst, s, _answers(row)) == score, (name, s, row)
            assert out[s] == (None if score is None else score * inst.units_per_point), (name, s, row)
            if score is not None:
                low, high = inst.score_range(s)
                assert low <= score <= high


def test_engine_band_decision_at_the_cut(con):
    phq9 = load_instrument("phq9")
    t = con.create_table(
        "p", pa.table({f"c{p}": pa.array([1, 1], type=pa.int64()) for p in range(1, 10)}), overwrite=True
    )
    units = scale_units_expr(t, phq9, "total", columns={p: f"c{p}" for p in range(1, 10)})
    # total 9: below 10, at 9
    got = t.select(ten=at_least(units, 10, scale=504), nine=at_least(units, 9, scale=504)).to_pyarrow().to_pylist()
    assert got[0] == {"ten": False, "nine": True}
