"""The estimand of the intention-to-treat response and its sensitivity analysis, in words. (results.estimand).

ICH E9(R1) (2019) asks every estimate to say what it estimates: the population, the
variable, how intercurrent events are handled, and the population-level summary. The
multiple-imputation response rate is a treatment-policy estimand under a
missing-at-random assumption, and the delta-adjusted tipping-point table shows how far
that assumption can be wrong before the conclusion changes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from burnout.plan import Protocol

__all__ = ["MAR_CAVEAT", "TIPPING_METHOD", "mi_estimand"]

MAR_CAVEAT: Final[str] = (
    "Missing follow-up scores are assumed missing at random given the patient's observed scores, sessions "
    "attended and covariates. If patients stopped because they were not improving in ways their earlier scores "
    "do not show (missing not at random), this rate is too high; see the tipping-point table."
)

TIPPING_METHOD: Final[str] = (
    "Delta adjustment (missing not at random): in every completed data set, each imputed score at the last "
    "assessment is moved delta points in the bad direction (clipped to 0-6; the observed scores, and the "
    "patients who never had a session, are unchanged), responders are counted again and the rates pooled as "
    "for the primary estimate. A subscale's rate shifts only that subscale; at least one subscale shifts all. "
    "The tipping point is the smallest delta on the grid at which the pooled rate falls below the lower "
    "confidence limit of the missing-at-random estimate (delta = 0); none when no delta on the grid does."
)


def mi_estimand(protocol: Protocol) -> dict[str, Any]:
    """``itt.multiple_imputation.estimand``: the ICH E9(R1) attributes of the pooled response rates."""
    last = protocol.schedule.assessments[-1]
    mc = f"{protocol.response.min_change:g}"
    return {
        "population": "every patient who met the burnout threshold at baseline (intention to treat)",
        "variable": (
            f"response: an improvement of at least {mc} point{'' if mc == '1' else 's'} on the 0-6 scale from the "
            f"baseline assessment to the one after session {last}, on each subscale and on at least one"
        ),
        "intercurrent_events": [
            {
                "event": "stopping sessions early (including withdrawal after a serious adverse event)",
                "strategy": "treatment policy: the outcome counts whatever the number of sessions; the missing "
                "scores are imputed from patients with similar scores and attendance",
            },
            {
                "event": "never starting treatment (no session)",
                "strategy": "treatment policy: counted with their untreated outcome, taken as no change from "
                "baseline (not a responder unless the minimum change is 0)",
            },
        ],
        "summary_measure": "proportion of responders, pooled over the imputations by Rubin's rules on the logit scale",
        "missing_data_assumption": MAR_CAVEAT,
    }
