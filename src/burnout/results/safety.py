"""Safety over everyone treated (the ``safety`` branch of results.json). (results.safety)."""

from __future__ import annotations

from typing import Any

from burnout import privacy
from burnout.measures.safety import SafetyCounts
from burnout.stats import rule_of_three

__all__ = ["safety_results"]

SAFETY_POPULATION = "patients with at least one session delivered"


def safety_results(counts: SafetyCounts, pub: privacy.Publisher, *, enrolled: int) -> dict[str, Any]:
    """The ``safety`` branch: exact (Clopper-Pearson) Proportions over the safety population.

    The per-patient rate of serious adverse events is primary (``primary``): sessions
    cluster within patients, so the per-session interval, which treats sessions as
    independent, is too narrow when events cluster. A zero count carries the rule of
    three (``rule_of_three = 3/n``, the approximate 95% upper bound). A side-effects
    rate is over those asked at that session; its n is a cell of the family "asked /
    not asked" of the safety population, so it is hidden with the rate when either is small;
    so is the population itself a cell of "with / without a session" of the ``enrolled``
    patients. With ``[privacy] round_to``, ``sessions`` and each ``rule_of_three`` come from
    the rounded counts (3 / rule_of_three would give the exact n back).
    """
    # a cell of "with / without a session" of everyone enrolled: published when neither is small.
    # The enrolled total itself may be hidden (as a complement of a small flow cell); the safety
    # population does not give it back, since those without a session are published nowhere.
    shown = pub.enough_of(counts.patients, enrolled)
    population = counts.patients if shown else None
    if not shown:
        pub.note("small" if pub.small(counts.patients) else "complement")

    def exact(count: int, n: int, *, n_published: bool) -> dict[str, Any]:
        out = pub.prop(count, n, n_published=n_published, interval="clopper-pearson")
        if out["count"] == 0:
            # 3/n gives n back: over the n as published ([privacy] round_to rounds it)
            out["rule_of_three"] = rule_of_three(pub.rounded(n))
        return out

    side_effects = {
        str(t): exact(yes, asked, n_published=pub.enough_of(asked, counts.patients, total_published=shown))
        for t, (yes, asked) in counts.side_effects.items()
    }
    return {
        "population": SAFETY_POPULATION,
        "patients": population,
        # not a count of patients (round_tree leaves it): rounded here like one
        "sessions": pub.rounded(counts.sessions) if shown else None,
        "serious_adverse_events": {
            "patients": exact(counts.sae_patients, counts.patients, n_published=shown),
            "sessions": exact(counts.sae_sessions, counts.sessions, n_published=shown),
            "primary": "patients",
        },
        "side_effects": side_effects,
        "interval": "clopper-pearson",
    }
