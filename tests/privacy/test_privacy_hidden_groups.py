"""Statistics over a group whose size is hidden, and numbers that give a rounded count back
(issue 12's second privacy audit, its leaks 1, 5, 8 and 9).

Each test builds one section from hand-made aggregates, so the leak and its fix are read
off a few numbers: a Table 1 mean/SD beside a hidden n, the completers' serious adverse
events beside hidden completers, ``rule_of_three`` and ``safety.sessions`` under
``[privacy] round_to``, and the profile cut-offs (a statistic over the completers).
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from burnout.cohort import ProfileCutoffs
from burnout.measures._aggregates import Moments
from burnout.measures.safety import SafetyCounts
from burnout.plan import load_protocol
from burnout.privacy import Publisher
from burnout.results._common import BuildContext
from burnout.results.attrition import _two_groups
from burnout.results.build import _side_effects
from burnout.results.profiles import _cutoffs
from burnout.results.safety import safety_results

K = 11


def _moments(values: list[int]) -> Moments:
    return Moments(n=len(values), total=sum(values), total_sq=sum(v * v for v in values))


def test_table1_mean_and_sd_withheld_with_a_hidden_n() -> None:
    """One age blank among 60 non-completers hides their n (59 of 60): the mean and SD would
    rebuild it (integer sum and sum of squares), so they go too, and the SMD with them."""
    completers = _moments([30 + i % 20 for i in range(40)])  # every completer has an age
    non_completers = _moments([25 + i % 30 for i in range(59)])  # one of 60 blank
    pub = Publisher(min_cell_count=K)
    groups, smd = _two_groups(
        {"completers": completers, "non_completers": non_completers},
        1,
        {"completers": 40, "non_completers": 60},
        {"completers": True, "non_completers": True},
        pub,
    )
    assert groups["non_completers"] == {"n": None, "mean": None, "sd": None, "hidden_because": "complement"}
    assert smd is None
    assert groups["completers"]["n"] == 40 and groups["completers"]["mean"] is not None
    assert pub.hidden_counts["statistic"] == 3
    few, _ = _two_groups(  # only 5 completers with an age: n itself is small
        {"completers": _moments([30, 31, 32, 33, 34]), "non_completers": non_completers},
        1,
        {"completers": 40, "non_completers": 60},
        {"completers": True, "non_completers": True},
        Publisher(min_cell_count=K),
    )
    assert few["completers"] == {"n": None, "mean": None, "sd": None, "hidden_because": "small"}


def _ctx(*, completers: int, comp_pub: bool, pub: Publisher, cutoffs: Any = None) -> BuildContext:
    m = SimpleNamespace(
        completers=completers,
        side_effects={2: (5 * completers // 10, completers)},
        sae=(0, 6 * completers),  # every completer had the schedule's 6 sessions
        profile_cutoffs=cutoffs,
    )
    return BuildContext(m, load_protocol(), pub, {}, comp_pub=comp_pub, itt_pub=True, hidden_levels={})  # type: ignore[arg-type]  # a stand-in for Measures: only the fields read


def test_completers_serious_adverse_events_hidden_with_the_completers() -> None:
    """side_effects.serious_adverse_events.n is 6 x completers: hidden when they are."""
    sae = _side_effects(_ctx(completers=41, comp_pub=False, pub=Publisher(min_cell_count=K)), {})
    assert sae["serious_adverse_events"]["n"] is None and sae["serious_adverse_events"]["suppressed"]
    shown = _side_effects(_ctx(completers=41, comp_pub=True, pub=Publisher(min_cell_count=K)), {})
    assert shown["serious_adverse_events"]["n"] == 246


def test_safety_rule_of_three_and_sessions_from_rounded_counts() -> None:
    """With round_to = 5, 3 / rule_of_three and safety.sessions are multiples of 5 (not 273, 967)."""
    pub = Publisher(min_cell_count=K, round_to=5)
    counts = SafetyCounts(patients=273, sae_patients=0, sessions=967, sae_sessions=0, side_effects={2: (0, 252)})
    tree = pub.round_tree(safety_results(counts, pub, enrolled=300), n=40)
    sae = tree["serious_adverse_events"]
    assert tree["patients"] == 275 and tree["sessions"] == 965
    assert round(3 / sae["patients"]["rule_of_three"]) == 275
    assert round(3 / sae["sessions"]["rule_of_three"]) == 965
    assert round(3 / tree["side_effects"]["2"]["rule_of_three"]) == 250


def _zscore_cutoffs(protocol: Any) -> ProfileCutoffs:
    reference = {
        "exhaustion": (4.9871, 0.6789),
        "cynicism": (4.7123, 0.8765),
        "professional_efficacy": (3.8111, 1.2345),
    }
    return ProfileCutoffs.from_plan(protocol, reference=reference)


def test_zscore_cutoffs_withheld_with_the_completers() -> None:
    """Cut-offs at the completers' mean + z SD are a statistic over the completers."""
    pub = Publisher(min_cell_count=K)
    ctx = _ctx(completers=41, comp_pub=False, pub=pub, cutoffs=_zscore_cutoffs(load_protocol()))
    assert ctx.protocol.profiles.method == "zscore" and ctx.protocol.profiles.reference == "baseline"
    cut = _cutoffs(ctx, classified=True)
    assert cut["raw"] is None and cut["description"] is None
    assert pub.hidden_counts["statistic"] == 3


def test_cutoff_description_says_no_more_than_the_rounded_raw() -> None:
    """With round_to = 5 the description prints the published (rounded) raw cut-offs, not 3 decimals."""
    pub = Publisher(min_cell_count=K, round_to=5)
    ctx = _ctx(completers=41, comp_pub=True, pub=pub, cutoffs=_zscore_cutoffs(load_protocol()))
    cut = pub.round_tree({"cutoffs": _cutoffs(ctx, classified=True)}, n=pub.rounded(41))["cutoffs"]
    for s, value in cut["raw"].items():
        assert f"{s} z" in cut["description"]
        assert f" {value:g})" in cut["description"], (s, value, cut["description"])
    unrounded = _cutoffs(
        _ctx(completers=41, comp_pub=True, pub=Publisher(min_cell_count=K), cutoffs=ctx.m.profile_cutoffs),
        classified=True,
    )
    assert unrounded["description"] == ctx.m.profile_cutoffs.description  # round_to = 1: as before
