"""The threshold and profile headlines expected with no true change (``regression_to_mean.
expected_below_threshold`` and ``.expected_leaving_burnout``). (results.no_change)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from burnout import privacy
from burnout.instrument import SCALE, SUBSCALES
from burnout.stats.no_change import (
    NoChangeModel,
    expected_below_threshold,
    expected_leaving_burnout,
    no_change_model,
)

if TYPE_CHECKING:
    from burnout.cohort import ProfileCutoffs
    from burnout.measures.joint import JointBaseline
    from burnout.plan import Protocol

__all__ = ["NO_CHANGE_MODEL", "no_change_results"]

_SHARES: Final = (
    "expected_below_threshold",
    "expected_below_threshold_range",
    "expected_leaving_burnout",
    "expected_leaving_burnout_range",
)

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
    out: dict[str, Any] = dict.fromkeys(_SHARES)
    out["no_change_model"] = NO_CHANGE_MODEL
    out["no_change_problem"] = None
    if not pub.enough(joint.n):
        pub.note("statistic", 2)
        return out
    bounds = protocol.regression_to_mean
    rhos = {
        "plan": [protocol.reliable_change.reliability(s) for s in SUBSCALES],
        "low": [float(bounds.rho_low)] * len(SUBSCALES),
        "high": [float(bounds.rho_high)] * len(SUBSCALES),
    }
    models = {label: _model_or_problem(joint, r) for label, r in rhos.items()}
    if isinstance(models["plan"], str):
        out["no_change_problem"] = models["plan"]
        return out
    points = {tuple(u / SCALE for u in x): n for x, n in joint.completers.items()}
    if completers_shown and pub.enough(sum(points.values())):
        below = {label: _below_threshold(points, m, protocol) for label, m in models.items()}
        out["expected_below_threshold"], out["expected_below_threshold_range"] = _with_range(below, rhos, models)
    else:
        pub.note("statistic")
    # in the profile at baseline: decided on integer units, as the profiles are
    burnout = {x: n for x, n in joint.completers.items() if x[0] >= cutoffs.exhaustion and x[1] >= cutoffs.cynicism}
    classified = cutoffs.description != "not computed"
    if classified and burnout_shown and pub.enough(sum(burnout.values())):
        in_profile = {tuple(u / SCALE for u in x): n for x, n in burnout.items()}
        cuts = {"exhaustion_cut": cutoffs.exhaustion / SCALE, "cynicism_cut": cutoffs.cynicism / SCALE}
        leaving = {
            label: None if isinstance(model, str) else expected_leaving_burnout(in_profile, model, **cuts)
            for label, model in models.items()
        }
        out["expected_leaving_burnout"], out["expected_leaving_burnout_range"] = _with_range(leaving, rhos, models)
    else:
        pub.note("statistic")
    return out


def _below_threshold(
    points: dict[tuple[float, ...], int], model: NoChangeModel | str, protocol: Protocol
) -> float | None:
    """The share of ``points`` expected below the plan's threshold with no change (None: no model)."""
    if isinstance(model, str):
        return None
    elig = protocol.eligibility
    return expected_below_threshold(
        points,
        model,
        exhaustion_min=float(elig.exhaustion_min),
        cynicism_min=float(elig.cynicism_min),
        efficacy_max=float(elig.efficacy_max),
    )


def _model_or_problem(joint: JointBaseline, rho: list[float]) -> NoChangeModel | str:
    """The no-change model at these reliabilities, or why it cannot be formed (e.g. a rho so low that
    the true scores would correlate beyond 1)."""
    try:
        return no_change_model(joint.mean, joint.cov, rho)
    except ValueError as exc:
        return str(exc)


def _with_range(
    shares: dict[str, float | None], rhos: dict[str, list[float]], models: dict[str, NoChangeModel | str]
) -> tuple[float | None, dict[str, Any]]:
    """The share at the plan's reliabilities, and at ``[regression_to_mean]`` rho_low and rho_high (``low``, ``high``)
    (every subscale's rho set to the bound): how much the expectation leans on the test-retest
    correlations, which are not verified against their source. A bound whose model cannot be
    formed has no share and says why."""
    spread = {
        label: {"rho": rhos[label][0], "expected": shares[label]}
        | ({"problem": m} if isinstance(m := models[label], str) else {})
        for label in ("low", "high")
    }
    return shares["plan"], spread
