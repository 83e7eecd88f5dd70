"""Regression to the mean, estimated (the ``regression_to_mean`` branch). (results.inference)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from burnout import privacy
from burnout import stats as est
from burnout.instrument import GOOD_DIRECTION, SCALE, SUBSCALES
from burnout.measures.reliable import BaselineReference

if TYPE_CHECKING:
    from burnout.plan import Protocol

__all__ = ["REGRESSION_TO_MEAN_MODEL", "regression_to_mean_results"]

REGRESSION_TO_MEAN_MODEL: Final[str] = (
    "bivariate normal scores with the same mean and SD at baseline and follow-up and correlation rho (the "
    "test-retest reliability of [reliable_change]); the group selected by the threshold at baseline is expected to "
    "move toward the mean of everyone scored by (1 - rho) x (selected mean - reference mean) with no true change "
    "(Barnett, van der Pols & Dobson 2005, Int J Epidemiol 34:215-220)"
)


def _mean(m: Any) -> float | None:
    return None if m.n == 0 else m.total / m.n / SCALE


def regression_to_mean_results(
    ref: BaselineReference, protocol: Protocol, pub: privacy.Publisher, *, itt_shown: bool, completers_shown: bool
) -> dict[str, Any]:
    """Per subscale: the reference (every patient with a scored baseline), the selected (who met
    the threshold), rho and the expected change, with the completers' observed change and the
    share of it regression to the mean would explain; the completers' response rate expected
    with no true change (bivariate normal, over their baseline scores); the expected change at the plan's
    ``[regression_to_mean]`` rho_low and rho_high. Withheld (a statistic) when any group is
    smaller than k or its size is hidden."""
    plan = protocol.reliable_change
    low, high = protocol.regression_to_mean.rho_low, protocol.regression_to_mean.rho_high
    out: dict[str, Any] = {}
    for s in SUBSCALES:
        reference, selected, change = ref.reference[s], ref.selected[s], ref.completer_change[s]
        shown = (
            itt_shown and completers_shown and all(pub.enough(m.n) and m.n > 1 for m in (reference, selected, change))
        )
        rho = plan.reliability(s)
        if not shown:
            pub.note("statistic")
            out[s] = _withheld(rho, plan.reliability_source(s))
            continue
        ref_mean, sel_mean = _mean(reference), _mean(selected)
        r = est.regression_to_mean(
            reference_mean=ref_mean,  # type: ignore[arg-type]  # n > 1 checked above
            selected_mean=sel_mean,  # type: ignore[arg-type]  # n > 1 checked above
            rho=rho,
            reference_sd=ref.sd(s),
            observed_change=_mean(change),
        )
        baselines = {x / SCALE: n for x, n in ref.completer_baselines.get(s, {}).items()}

        def expected_response(at: float, s: str = s, baselines: dict[float, int] = baselines) -> float | None:
            return est.expected_response_without_change(
                baselines,
                mean=ref_mean,  # type: ignore[arg-type]  # n > 1 checked above
                sd=ref.sd(s) or 0.0,
                rho=at,
                min_change=float(protocol.response.min_change),
                direction=GOOD_DIRECTION[s],  # type: ignore[index]  # a Subscale at run time
            )

        out[s] = r.to_json() | {
            "expected_response_rate": expected_response(rho),
            "rho_range": {
                label: {
                    "rho": bound,
                    "expected_change": _expected_change(ref_mean, sel_mean, bound),  # type: ignore[arg-type]  # both means exist: n > 1 checked above
                    "expected_response_rate": expected_response(bound),
                }
                for label, bound in (("low", low), ("high", high))
            },
            "source": plan.reliability_source(s),
        }
    out["model"] = REGRESSION_TO_MEAN_MODEL
    return out


def _expected_change(reference_mean: float, selected_mean: float, rho: float) -> float:
    """The change expected with no true change at ``rho`` (``stats.regression_to_mean``)."""
    return est.regression_to_mean(reference_mean=reference_mean, selected_mean=selected_mean, rho=rho).expected_change


def _withheld(rho: float, source: str) -> dict[str, Any]:
    """A subscale's entry with every statistic withheld (the plan's rho and its source stay)."""
    return {
        **dict.fromkeys(
            ("reference_mean", "reference_sd", "selected_mean", "expected_change", "observed_change"), None
        ),
        "rho": rho,
        "share_of_observed_change": None,
        "expected_response_rate": None,
        "rho_range": None,
        "source": source,
    }
