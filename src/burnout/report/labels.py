"""Display formatting and generated prose for the report.

Every number of the results tree arrives unrounded; it is rounded here, once, when it
is turned into text: percentages to 1 decimal, means, SDs, changes and effect sizes
to 2, test statistics to 2, p values to 3 (or "<0.001"). A suppressed count arrives as
None and is only ever written as ``suppressed (<k)``; nothing here derives it.
"""

from __future__ import annotations

from typing import Any, Final

__all__ = ["MINUS", "OUTCOME_LABELS", "PROFILE_LABELS", "SUBSCALE_LABELS", "SUBSCALES", "PROFILES"]

MINUS: Final[str] = "\u2212"
NDASH: Final[str] = "\u2013"

SUBSCALES: Final[tuple[str, ...]] = ("exhaustion", "cynicism", "professional_efficacy")
PROFILES: Final[tuple[str, ...]] = ("burnout", "overextended", "disengaged", "ineffective", "engaged")
SUBSCALE_LABELS: Final[dict[str, str]] = {
    "exhaustion": "Exhaustion",
    "cynicism": "Cynicism",
    "professional_efficacy": "Professional Efficacy",
}
OUTCOME_LABELS: Final[dict[str, str]] = SUBSCALE_LABELS | {"at_least_1": "At least 1 subscale"}
PROFILE_LABELS: Final[dict[str, str]] = {p: p.capitalize() for p in PROFILES}
VARIABLE_LABELS: Final[dict[str, str]] = {
    "age_band": "Age band",
    "sex": "Sex",
    "route": "Route",
    "pathway": "Program pathway",
}
RESPONDER_LABELS: Final[dict[str, str]] = {
    "at_least_1": "At least 1 subscale",
    "at_least_2": "At least 2 subscales",
    "all_3": "All 3 subscales",
}
TEST_LABELS: Final[dict[str, str]] = {
    "chi-square": "Pearson \u03c7\u00b2",
    "fisher-exact": "Fisher exact",
    "freeman-halton-exact": "Freeman\u2013Halton exact",
    "not-testable": "not testable",
    "mcnemar-chi-square": "McNemar \u03c7\u00b2",
    "mcnemar-exact": "McNemar exact",
    "cochran-q": "Cochran Q",
    "paired t": "paired t",
}


COMPLEMENT_MARK = "hidden to protect a small cell"


NEUTRAL_TITLE: Final[str] = "Burnout program outcomes"


SAE_PER: Final[int] = 1000  # serious adverse events are rare: a rate per 1,000 sessions keeps 2 decimals meaningful
SAE_UNIT: Final[str] = f"per {SAE_PER:,} sessions"


HIDDEN: Final[dict[str, Any]] = {"count": None, "n": None, "rate": None, "ci": None, "suppressed": True}
