"""From exact aggregates to the results.json tree (the contract in results.md). (subgroups).

Response by subgroup level among the completers: each level's Proportions, its difference
from the rest of the completers (Newcombe's hybrid score interval), and a heterogeneity
test over the known levels whose every cell is published. Small residual levels have
already been merged into a real level (results.recode); the test says which in ``merged``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from burnout import privacy
from burnout import stats as est
from burnout.instrument import SUBSCALES
from burnout.results.recode import Merges, level_label, merged_into

if TYPE_CHECKING:
    from burnout.measures import Measures

OUTCOMES = (*SUBSCALES, "at_least_1")

CONDITIONING_NOTE = (
    "subgroups are of completers: completing is itself an outcome of treatment, so a difference "
    "between levels can reflect who completed as much as who responded"
)
DIFFERENCE_METHOD = "newcombe-hybrid-score"


def _subgroups(
    m: Measures,
    pub: privacy.Publisher,
    hidden_by_variable: dict[str, dict[str, privacy.HiddenReason]],
    merges: Merges,
    *,
    comp_pub: bool,
    totals: dict[str, int | None],
) -> dict[str, Any]:
    """``subgroups``: per variable, its levels and one heterogeneity test per outcome.

    ``totals[o]`` is the completers' published responder count for outcome ``o`` (None
    when hidden): each level is compared with the rest of the completers only when that
    rest is a function of published numbers.
    """
    out: dict[str, Any] = {}
    for variable, completer_levels in m.subgroups.items():
        out[variable] = _variable(
            variable, m, completer_levels, pub, hidden_by_variable[variable], merges, comp_pub=comp_pub, totals=totals
        )
    return out


def _variable(
    variable: str,
    m: Measures,
    completer_levels: dict[str, dict[str, int]],
    pub: privacy.Publisher,
    hidden_here: dict[str, privacy.HiddenReason],
    merges: Merges,
    *,
    comp_pub: bool,
    totals: dict[str, int | None],
) -> dict[str, Any]:
    var_out: dict[str, Any] = {}
    # every level of the intention-to-treat set, so a hidden level with no completers
    # still shows as hidden rather than vanishing (which would reveal 0)
    zero = {"n": 0, **dict.fromkeys(OUTCOMES, 0)}
    all_levels = sorted(set(completer_levels) | set(m.attrition.completion_by_subgroup.get(variable, {})))
    levels = {lv: completer_levels.get(lv, zero) for lv in all_levels}
    present = [lv for lv in levels if levels[lv]["n"] > 0]
    hidden_levels = [lv for lv in present if lv in hidden_here]
    # responders and non-responders of each level add up to published totals (the
    # outcome's responders and non-responders): one family each, per outcome
    per_outcome = {
        o: pub.protect_jointly(
            [{lv: levels[lv][o] for lv in present}, {lv: levels[lv]["n"] - levels[lv][o] for lv in present}],
            hidden=hidden_levels,
        )
        if present
        else frozenset()
        for o in OUTCOMES
    }
    for level in levels:
        head = {"label": level_label(merges, variable, level), "merged": merged_into(merges, variable, level)}
        if level in present and level not in hidden_levels:
            n = levels[level]["n"]
            props = {o: pub.prop(levels[level][o], n, hide=level in per_outcome[o]) for o in OUTCOMES}
            diffs = {o: _difference(levels[level][o], n, props[o], totals[o], m.completers, pub) for o in OUTCOMES}
            var_out[level] = {**head, "n": n, **props, "difference_from_rest": diffs}
        elif level in hidden_here:
            # a small (or complementary-suppressed) group: nothing about it is published
            reason = hidden_here[level]
            pub.note(reason)  # its n
            var_out[level] = {
                **head,
                "n": None,
                **{o: pub.hidden(reason) for o in OUTCOMES},
                "difference_from_rest": {o: _no_difference() for o in OUTCOMES},
            }
        else:
            var_out[level] = {
                **head,
                "n": 0,
                **{o: pub.prop(0, 0) for o in OUTCOMES},
                "difference_from_rest": {o: _no_difference() for o in OUTCOMES},
            }
    var_out["heterogeneity"] = {
        o: _heterogeneity(variable, levels, present, hidden_levels, per_outcome[o], o, pub, merges, comp_pub=comp_pub)
        for o in OUTCOMES
    }
    return var_out


def _heterogeneity(
    variable: str,
    levels: dict[str, dict[str, int]],
    present: list[str],
    hidden_levels: list[str],
    hidden_for_outcome: frozenset[str],
    o: str,
    pub: privacy.Publisher,
    merges: Merges,
    *,
    comp_pub: bool,
) -> dict[str, Any]:
    """The test over the known levels whose every cell is published (issue 16 item 5: an
    unknown/other level is not a subgroup; issue 12: a p-value over a hidden cell pins it).
    Computed from published numbers only, it lists its levels when some were left out."""
    published = [lv for lv in present if lv not in hidden_levels and lv not in hidden_for_outcome]
    shown = [lv for lv in published if not privacy.is_residual(lv)]
    if not comp_pub:
        test = pub.withheld_test("not-testable")
    else:
        test = est.heterogeneity([(levels[lv][o], levels[lv]["n"]) for lv in shown]).to_json()
        if len(published) < len(present):
            pub.note("test")  # levels left out for privacy
    if comp_pub and len(shown) < len(present):
        test["levels"] = shown
    test["known_levels_only"] = True
    if variable in merges:
        test["merged"] = dict(sorted(merges[variable].items()))
    test["note"] = CONDITIONING_NOTE
    return test


def _difference(
    count: int, n: int, prop: dict[str, Any], total: int | None, completers: int, pub: privacy.Publisher
) -> dict[str, Any]:
    """The level's response rate minus the rest of the completers', with Newcombe's interval.

    Published when the level's Proportion and the outcome's total are (the rest is then
    their difference, a published number) and the rest holds at least k patients.
    """
    rest_n = completers - n
    if prop["suppressed"] or total is None or not pub.enough(rest_n) or rest_n == 0:
        return _no_difference()
    d, ci = est.newcombe_difference(count, n, total - count, rest_n, confidence=pub.conf)
    return {"estimate": d, "ci": [ci[0], ci[1]], "method": DIFFERENCE_METHOD}


def _no_difference() -> dict[str, Any]:
    return {"estimate": None, "ci": None, "method": DIFFERENCE_METHOD}
