"""An eligibility rule over subscale names, parsed by a small grammar (never ``eval``).

Grammar (keywords and names lower-case; numbers are decimals, kept exact)::

    rule       := or
    or         := and ("or" and)*
    and        := not ("and" not)*
    not        := "not" not | "(" rule ")" | comparison
    comparison := NAME OP NUMBER | NUMBER OP NAME
    OP         := ">=" | "<=" | ">" | "<" | "==" | "!="

``and`` binds tighter than ``or``. A comparison with an unscored subscale is unknown
and the logic is Kleene's (SQL's): ``unknown and false`` is false, ``unknown or true``
true; a rule that ends unknown does not make a patient eligible. The engine decides the
same rule on integer units (`burnout.scoring.eligibility_expr`).

Examples
--------
>>> rule = parse_rule("exhaustion >= 4.8 and (cynicism >= 3.8 or professional_efficacy <= 4.3)")
>>> rule_text(rule)
'exhaustion >= 4.8 and (cynicism >= 3.8 or professional_efficacy <= 4.3)'
>>> evaluate_exact(rule, {"exhaustion": Fraction(24, 5), "cynicism": None, "professional_efficacy": Fraction(4)})
True
>>> parse_rule("exhaustion >= 4,8")
Traceback (most recent call last):
...
burnout.plan.eligibility.RuleError: eligibility rule "exhaustion >= 4,8": at column 16: unexpected ','; expected a subscale name, a number, an operator or a parenthesis (write decimals with a point: 4.8)
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Literal

from burnout.errors import BurnoutError

__all__ = [
    "All",
    "Any_",
    "Compare",
    "Not",
    "Rule",
    "RuleError",
    "evaluate_exact",
    "parse_rule",
    "rule_names",
    "rule_text",
    "check_rule",
]

Op = Literal[">=", "<=", ">", "<", "==", "!="]
_FLIP: dict[str, Op] = {">=": "<=", "<=": ">=", ">": "<", "<": ">", "==": "==", "!=": "!="}
_TOKEN = re.compile(
    r"\s*(?:(?P<num>[+-]?\d+(?:\.\d+)?)|(?P<name>[a-z_][a-z0-9_]*)|(?P<op>>=|<=|==|!=|>|<)|(?P<paren>[()]))"
)
_MAX_LENGTH = 2000


class RuleError(ValueError, BurnoutError):
    """An eligibility rule that does not parse, or names a subscale the instrument lacks."""


@dataclass(frozen=True, slots=True)
class Compare:
    name: str
    op: Op
    value: Fraction
    text: str  # the number as written


@dataclass(frozen=True, slots=True)
class All:
    parts: tuple[Rule, ...]


@dataclass(frozen=True, slots=True)
class Any_:
    parts: tuple[Rule, ...]


@dataclass(frozen=True, slots=True)
class Not:
    part: Rule


Rule = Compare | All | Any_ | Not


def _tokens(text: str) -> list[tuple[str, str, int]]:
    out, pos = [], 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            start = pos + len(text[pos:]) - len(text[pos:].lstrip())
            hint = " (write decimals with a point: 4.8)" if text[start] == "," else ""
            raise RuleError(
                f'eligibility rule "{text}": at column {start + 1}: unexpected {text[start]!r}; '
                f"expected a subscale name, a number, an operator or a parenthesis{hint}"
            )
        group = m.lastgroup or ""
        value = m.group(group)
        kind = value if group == "name" and value in ("and", "or", "not") else group
        out.append((kind, value, m.start(group) + 1))
        pos = m.end()
    return out


class _Parser:
    def __init__(self, text: str):
        if len(text) > _MAX_LENGTH:
            raise RuleError(f"eligibility rule of {len(text):,} characters: at most {_MAX_LENGTH:,} allowed")
        self.text = text
        self.toks = _tokens(text)
        self.i = 0

    def _peek(self) -> tuple[str, str, int]:
        return self.toks[self.i] if self.i < len(self.toks) else ("end", "", len(self.text) + 1)

    def _fail(self, expected: str) -> RuleError:
        kind, value, col = self._peek()
        got = "the end" if kind == "end" else repr(value)
        return RuleError(f'eligibility rule "{self.text}": at column {col}: unexpected {got}; expected {expected}')

    def parse(self) -> Rule:
        rule = self._or()
        if self._peek()[0] != "end":
            raise self._fail("and, or, ) or the end")
        return rule

    def _or(self) -> Rule:
        parts = [self._and()]
        while self._peek()[0] == "or":
            self.i += 1
            parts.append(self._and())
        return parts[0] if len(parts) == 1 else Any_(tuple(parts))

    def _and(self) -> Rule:
        parts = [self._not()]
        while self._peek()[0] == "and":
            self.i += 1
            parts.append(self._not())
        return parts[0] if len(parts) == 1 else All(tuple(parts))

    def _not(self) -> Rule:
        kind = self._peek()[0]
        if kind == "not":
            self.i += 1
            return Not(self._not())
        if kind == "paren" and self._peek()[1] == "(":
            self.i += 1
            inner = self._or()
            if self._peek()[:2] != ("paren", ")"):
                raise self._fail("and, or or )")
            self.i += 1
            return inner
        return self._compare()

    def _compare(self) -> Compare:
        first = self._take(("name", "num"), "a subscale name, a number, not or (")
        op = self._take(("op",), "an operator (>=, <=, >, <, ==, !=)")
        second = self._take(
            ("num",) if first[0] == "name" else ("name",), "a number" if first[0] == "name" else "a subscale name"
        )
        if first[0] == "name":
            return Compare(first[1], op[1], Fraction(second[1]), second[1])  # type: ignore[arg-type]  # the token pattern only yields these operators
        return Compare(second[1], _FLIP[op[1]], Fraction(first[1]), first[1])

    def _take(self, kinds: tuple[str, ...], expected: str) -> tuple[str, str, int]:
        tok = self._peek()
        if tok[0] not in kinds:
            raise self._fail(expected)
        self.i += 1
        return tok


def parse_rule(text: str) -> Rule:
    """Parse an eligibility rule; `RuleError` says the column and what was expected."""
    return _Parser(text).parse()


def rule_names(rule: Rule) -> tuple[str, ...]:
    """The subscale names a rule reads, in order of first use."""
    if isinstance(rule, Compare):
        return (rule.name,)
    parts = (rule.part,) if isinstance(rule, Not) else rule.parts
    return tuple(dict.fromkeys(n for p in parts for n in rule_names(p)))


def check_rule(
    rule: Rule, subscales: Sequence[str], *, ranges: Mapping[str, tuple[Fraction, Fraction]] | None = None
) -> list[str]:
    """Messages for names the instrument lacks (with a suggestion) and numbers outside a subscale's range."""
    messages = []
    for name in rule_names(rule):
        if name not in subscales:
            close = difflib.get_close_matches(name, subscales, n=1, cutoff=0.6)
            hint = f"; did you mean {close[0]}?" if close else ""
            messages.append(f"unknown subscale {name!r} in the eligibility rule: allowed: {', '.join(subscales)}{hint}")
    for cmp in _compares(rule):
        if ranges and cmp.name in ranges and not ranges[cmp.name][0] <= cmp.value <= ranges[cmp.name][1]:
            low, high = ranges[cmp.name]
            messages.append(
                f"{cmp.name} {cmp.op} {cmp.text} in the eligibility rule: {cmp.text} is outside {cmp.name}'s range {low}..{high}"
            )
    return messages


def _compares(rule: Rule) -> list[Compare]:
    if isinstance(rule, Compare):
        return [rule]
    parts = (rule.part,) if isinstance(rule, Not) else rule.parts
    return [c for p in parts for c in _compares(p)]


def _decide(cmp: Compare, score: Fraction) -> bool:
    v = cmp.value
    return {">=": score >= v, "<=": score <= v, ">": score > v, "<": score < v, "==": score == v, "!=": score != v}[
        cmp.op
    ]


def evaluate_exact(rule: Rule, scores: Mapping[str, Fraction | None]) -> bool | None:
    """The rule on one patient's exact scores (None = unscored), in Kleene logic; None = unknown."""
    if isinstance(rule, Compare):
        score = scores.get(rule.name)
        return None if score is None else _decide(rule, score)
    if isinstance(rule, Not):
        inner = evaluate_exact(rule.part, scores)
        return None if inner is None else not inner
    values = [evaluate_exact(p, scores) for p in rule.parts]
    decisive = isinstance(rule, Any_)  # True decides an or, False an and
    if decisive in values:
        return decisive
    return None if None in values else not decisive


def rule_text(rule: Rule, *, top: bool = True) -> str:
    """The rule written back canonically (numbers as the user wrote them)."""
    if isinstance(rule, Compare):
        return f"{rule.name} {rule.op} {rule.text}"
    if isinstance(rule, Not):
        return f"not {rule_text(rule.part, top=False)}"
    joiner = " and " if isinstance(rule, All) else " or "
    text = joiner.join(rule_text(p, top=False) for p in rule.parts)
    return text if top else f"({text})"
