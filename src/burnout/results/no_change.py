"""The threshold and profile headlines expected with no true change (``regression_to_mean.
expected_below_threshold`` and ``.expected_leaving_burnout``). (results.no_change)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from burnout import privacy
from burnout.instrument import SCALE, SUBSCALES
from burnout.stats.no_change import expected_below_threshold, expected_leaving_burnout, no_change_model

if TYPE_CHECKING:
    from burnout.cohort import ProfileCutoffs
    from burnout.measures.joint import JointBaseline
    from burnout.plan import Protocol

__all__ = ["NO_CHANGE_MODEL", "no_change_results"]

NO_CHANGE_MODEL: Final[str] = (
    "classical test theory with no true change: baseline and follow-up are a stable true score plus independent "
    "error, trivariate normal with the mean and covariance of everyone scored on all three subscales at baseline "
    "and each subscale's test-retest correlation rho ([reliable_change]); the follow-up given a completer's baseline "
    "is normal with mean mu + Sigma_T Sigma^-1 (x - mu), averaged over the completers' baseline scores (scores "
    "treated as continuous)"
)


def no_change_results(
    joint: JointBaseline,
    cutoffs: ProfileCutoffs,
    protocol: Protocol,
    pub: privacy.Publisher,
    *,
    completers_shown: bool,
    burnout_shown: bool,
) -> dict[str, Any]:
    """``expected_below_threshold`` over the completers (beside ``below_threshold.<last>``) and
    ``expected_leaving_burnout`` over the completers in the Burnout profile at baseline (beside
    ``profiles.burnout_resolved``); null when its group is hidden or smaller than k, when the
    reference has fewer than k patients, or when the model cannot be formed (``no_change_problem``
    says why)."""
    out: dict[str, Any] = {"expected_below_threshold": None, "expected_leaving_burnout": None}
    out["no_change_model"] = NO_CHANGE_MODEL
    out["no_change_problem"] = None
    if not pub.enough(joint.n):
        pub.note("statistic", 2)
        return out
    try:
        model = no_change_model(joint.mean, joint.cov, [protocol.reliable_change.reliability(s) for s in SUBSCALES])
    except ValueError as exc:
        out["no_change_problem"] = str(exc)
        return out
    points = {tuple(u / SCALE for u in x): n for x, n in joint.completers.items()}
    if completers_shown and pub.enough(sum(points.values())):
        elig = protocol.eligibility
        out["expected_below_threshold"] = expected_below_threshold(
            points,
            model,
            exhaustion_min=float(elig.exhaustion_min),
            cynicism_min=float(elig.cynicism_min),
            efficacy_max=float(elig.efficacy_max),
        )
    else:
        pub.note("statistic")
    # in the profile at baseline: decided on integer units, as the profiles are
    burnout = {x: n for x, n in joint.completers.items() if x[0] >= cutoffs.exhaustion and x[1] >= cutoffs.cynicism}
    classified = cutoffs.description != "not computed"
    if classified and burnout_shown and pub.enough(sum(burnout.values())):
        out["expected_leaving_burnout"] = expected_leaving_burnout(
            {tuple(u / SCALE for u in x): n for x, n in burnout.items()},
            model,
            exhaustion_cut=cutoffs.exhaustion / SCALE,
            cynicism_cut=cutoffs.cynicism / SCALE,
        )
    else:
        pub.note("statistic")
    return out
