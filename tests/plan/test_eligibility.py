"""The eligibility rule grammar: parsing, messages, Kleene logic, and the engine's integer decision."""

from __future__ import annotations

from fractions import Fraction

import ibis
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from burnout.instruments import load_instrument
from burnout.plan.eligibility import (
    All,
    Any_,
    Compare,
    Not,
    RuleError,
    check_rule,
    evaluate_exact,
    parse_rule,
    rule_names,
    rule_text,
)
from burnout.scoring import eligibility_expr
from test_cohort import reference_threshold

ISSUE_RULE = "exhaustion >= 4.8 and (cynicism >= 3.8 or professional_efficacy <= 4.3)"
SCALE = 600_000


def test_precedence_and_flipped_comparisons():
    rule = parse_rule("a > 1 or b < 2 and not 3 <= c")
    assert rule == Any_(
        (Compare("a", ">", Fraction(1), "1"), All((Compare("b", "<", Fraction(2), "2"), Not(Compare("c", ">=", Fraction(3), "3")))))
    )
    assert rule_text(rule) == "a > 1 or (b < 2 and not c >= 3)"
    assert rule_names(parse_rule(ISSUE_RULE)) == ("exhaustion", "cynicism", "professional_efficacy")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("exhaustion >= ", "at column 15: unexpected the end; expected a number"),
        ("exhaustion => 4", "at column 12: unexpected '='"),
        ("(exhaustion >= 4", "at column 17: unexpected the end; expected and, or or )"),
        ("exhaustion >= 4 cynicism >= 3", "at column 17: unexpected 'cynicism'; expected and, or, ) or the end"),
        ("4 >= 5", "at column 6: unexpected '5'; expected a subscale name"),
        ("__import__('os')", "at column 12: unexpected"),  # the quote: never evaluated, only tokenised
        ("Exhaustion >= 4", "at column 1: unexpected 'E'"),
    ],
)
def test_parse_errors_say_where_and_what_was_expected(text, message):
    with pytest.raises(RuleError) as info:
        parse_rule(text)
    assert message in str(info.value)


def test_names_and_ranges_checked_against_the_instrument():
    inst = load_instrument("mbi_gs")
    ranges = {s: inst.score_range(s) for s in inst.subscales}
    messages = check_rule(parse_rule("exhaustio >= 4.8 and cynicism >= 7"), list(inst.subscales), ranges=ranges)
    assert messages[0].startswith("unknown subscale 'exhaustio' in the eligibility rule: allowed: exhaustion, cynicism")
    assert messages[0].endswith("did you mean exhaustion?")
    assert messages[1] == "cynicism >= 7 in the eligibility rule: 7 is outside cynicism's range 0..6"
    assert check_rule(parse_rule(ISSUE_RULE), list(inst.subscales), ranges=ranges) == []


def test_kleene_logic_by_hand():
    rule = parse_rule(ISSUE_RULE)
    assert evaluate_exact(rule, {"exhaustion": Fraction(24, 5), "cynicism": Fraction(19, 5), "professional_efficacy": None})
    assert evaluate_exact(rule, {"exhaustion": Fraction(23, 5), "cynicism": None, "professional_efficacy": None}) is False
    assert evaluate_exact(rule, {"exhaustion": Fraction(5), "cynicism": None, "professional_efficacy": Fraction(5)}) is None
    assert evaluate_exact(parse_rule("not exhaustion >= 1"), {"exhaustion": None}) is None


NAMES = ("exhaustion", "cynicism", "professional_efficacy")
units = st.one_of(st.none(), st.integers(min_value=0, max_value=6 * SCALE))
cut = st.sampled_from(["4.8", "3.8", "4.3", "0", "6", "2.5", "1.23457", "4"])


def _rules():
    leaf = st.builds(lambda n, o, c: f"{n} {o} {c}", st.sampled_from(NAMES), st.sampled_from([">=", "<=", ">", "<", "==", "!="]), cut)
    return st.recursive(
        leaf,
        lambda inner: st.one_of(
            st.builds(lambda a, b: f"({a} and {b})", inner, inner),
            st.builds(lambda a, b: f"({a} or {b})", inner, inner),
            st.builds(lambda a: f"not {a}", inner),
        ),
        max_leaves=5,
    )


@settings(max_examples=60, deadline=None)
@given(text=_rules(), rows=st.lists(st.tuples(units, units, units), min_size=1, max_size=6))
def test_engine_decides_every_rule_as_the_exact_evaluation(text, rows):
    rule = parse_rule(text)
    table = pa.table({n: pa.array([r[i] for r in rows], type=pa.int64()) for i, n in enumerate(NAMES)})
    t = ibis.memtable(table)
    got = t.select(ok=eligibility_expr(rule, {n: t[n] for n in NAMES}, scale=SCALE)).to_pyarrow()["ok"].to_pylist()
    for row, value in zip(rows, got):
        scores = {n: None if u is None else Fraction(u, SCALE) for n, u in zip(NAMES, row)}
        assert value == evaluate_exact(rule, scores), (text, row)


def test_the_issue_rule_is_the_reference_threshold():
    edges = [to for c in ("4.8", "3.8", "4.3") for to in (int(Fraction(c) * SCALE) - 1, int(Fraction(c) * SCALE), int(Fraction(c) * SCALE) + 1)]
    rows = [(e, c, p) for e in edges[:3] + [None] for c in edges[3:6] + [None] for p in edges[6:] + [None]]
    table = pa.table({f"{n}_0": pa.array([r[i] for r in rows], type=pa.int64()) for i, n in enumerate(NAMES)})
    t = ibis.memtable(table)
    rule = parse_rule(ISSUE_RULE)
    ours = eligibility_expr(rule, {n: t[f"{n}_0"] for n in NAMES}, scale=SCALE)
    got = t.select(ours=ours).to_pyarrow()["ours"].to_pylist()
    assert got == [reference_threshold(*r) for r in rows]
