"""results.no_change: the joint shares expected with no change, and what they withhold."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate, stats

from burnout import privacy
from burnout.cohort import ProfileCutoffs
from burnout.instrument import SCALE
from burnout.measures.joint import JointBaseline
from burnout.plan import load_protocol, parse_protocol
from burnout.results.no_change import no_change_results

SD = np.array([1.1, 1.3, 1.0])
COV = np.array([[1.0, 0.5, -0.3], [0.5, 1.0, -0.35], [-0.3, -0.35, 1.0]]) * np.outer(SD, SD)
CUT = ProfileCutoffs(exhaustion=4 * SCALE, cynicism=3 * SCALE, professional_efficacy=2 * SCALE, description="raw")


def _joint(completers: dict[tuple[int, int, int], int], n: int = 500) -> JointBaseline:
    return JointBaseline(n=n, mean=(3.2, 2.4, 4.1), cov=tuple(tuple(r) for r in COV), completers=completers)


def _u(*points: float) -> tuple[int, int, int]:
    return tuple(round(p * SCALE) for p in points)  # type: ignore[return-value]


def _leaving_burnout_by_hand(x: tuple[float, float, float], rho: list[float], *, e_cut: float, c_cut: float) -> float:
    """1 - P(E >= e_cut, C >= c_cut) at follow-up given baseline ``x``, written out from the
    classical test theory model (true-score covariance Sigma - diag((1 - rho) sigma^2)) and
    integrated over E by quadrature of the normal density times P(C >= c | E): no QMC, no
    stats.no_change code."""
    mu = np.array([3.2, 2.4, 4.1])
    true = COV - np.diag((1 - np.array(rho)) * np.diag(COV))
    # Y | x ~ N(mu + T S^-1 (x - mu), S - T S^-1 T), keeping (E, C) only
    mean = mu + true @ np.linalg.solve(COV, np.array(x) - mu)
    cov = COV - true @ np.linalg.solve(COV, true)
    (m_e, m_c), (v_e, v_c, c_ec) = mean[:2], (cov[0, 0], cov[1, 1], cov[0, 1])
    sd_c_given_e = math.sqrt(v_c - c_ec**2 / v_e)

    def integrand(e: float) -> float:
        m_c_given_e = m_c + c_ec / v_e * (e - m_e)
        return float(stats.norm.pdf(e, m_e, math.sqrt(v_e)) * stats.norm.sf(c_cut, m_c_given_e, sd_c_given_e))

    stay, _ = integrate.quad(integrand, e_cut, m_e + 12 * math.sqrt(v_e), epsabs=1e-12)
    return 1.0 - stay


def test_leaving_burnout_against_a_hand_formula_over_those_in_the_profile_at_baseline_only() -> None:
    plan = parse_protocol("[regression_to_mean]\nrho_low = 0.55\n")  # at 0.5 COV's true scores correlate 1
    inside, outside = _u(5.0, 4.0, 3.0), _u(3.9, 5.0, 3.0)  # E just below its cut: not in burnout
    got = no_change_results(
        _joint({inside: 30, outside: 30}),
        CUT,
        plan,
        privacy.Publisher(min_cell_count=11),
        completers_shown=True,
        burnout_shown=True,
    )
    rho = [plan.reliable_change.reliability(s) for s in ("exhaustion", "cynicism", "professional_efficacy")]
    # Only the triple inside the profile counts. The product takes scipy's bivariate normal
    # probability (close to machine precision in two dimensions), the reference adaptive quadrature.
    ref = _leaving_burnout_by_hand((5.0, 4.0, 3.0), rho, e_cut=4.0, c_cut=3.0)
    assert got["expected_leaving_burnout"] == pytest.approx(ref, abs=1e-8)
    assert 0 < got["expected_below_threshold"] < 1 and got["no_change_problem"] is None
    # the sensitivity range: every subscale's rho at the plan's bounds, the same hand formula
    bounds = plan.regression_to_mean
    for label, value in (("low", bounds.rho_low), ("high", bounds.rho_high)):
        entry = got["expected_leaving_burnout_range"][label]
        assert entry["rho"] == float(value)
        ref = _leaving_burnout_by_hand((5.0, 4.0, 3.0), [float(value)] * 3, e_cut=4.0, c_cut=3.0)
        assert entry["expected"] == pytest.approx(ref, abs=1e-8)
    # less reliable scores regress more: more expected to leave the profile and to fall below the threshold
    low, high = (got[f"expected_{k}_range"] for k in ("leaving_burnout", "below_threshold"))
    assert low["low"]["expected"] > got["expected_leaving_burnout"] > low["high"]["expected"]
    assert high["low"]["expected"] > got["expected_below_threshold"] > high["high"]["expected"]


@pytest.mark.parametrize(
    ("completers", "shown", "below", "leaving"),
    [
        ({_u(5.0, 4.0, 3.0): 5, _u(3.9, 5.0, 3.0): 20}, True, True, False),  # 5 in burnout < k
        ({_u(5.0, 4.0, 3.0): 20}, False, False, True),  # completers hidden elsewhere
        ({_u(5.0, 4.0, 3.0): 6}, True, False, False),  # 6 completers < k
    ],
)
def test_small_or_hidden_groups_withhold_their_share(completers, shown, below, leaving) -> None:
    got = no_change_results(
        _joint(completers),
        CUT,
        load_protocol(),
        privacy.Publisher(min_cell_count=11),
        completers_shown=shown,
        burnout_shown=True,
    )
    assert (got["expected_below_threshold"] is not None) is below
    assert (got["expected_leaving_burnout"] is not None) is leaving
    assert (got["expected_below_threshold_range"] is not None) is below  # withheld with its point value
    assert (got["expected_leaving_burnout_range"] is not None) is leaving


def test_a_small_reference_withholds_both() -> None:
    got = no_change_results(
        _joint({_u(5.0, 4.0, 3.0): 20}, n=8),
        CUT,
        load_protocol(),
        privacy.Publisher(min_cell_count=11),
        completers_shown=True,
        burnout_shown=True,
    )
    assert got["expected_below_threshold"] is None and got["expected_leaving_burnout"] is None


def test_a_bound_whose_model_cannot_be_formed_says_why_and_keeps_the_plan_value() -> None:
    # rho_low = 0.5 on COV: Exhaustion and Cynicism correlate 0.5, so their true scores would correlate 1
    got = no_change_results(
        _joint({_u(5.0, 4.0, 3.0): 20}),
        CUT,
        load_protocol(),
        privacy.Publisher(min_cell_count=11),
        completers_shown=True,
        burnout_shown=True,
    )
    assert got["no_change_problem"] is None and got["expected_leaving_burnout"] is not None
    low = got["expected_leaving_burnout_range"]["low"]
    assert low["rho"] == 0.5 and low["expected"] is None and low["problem"]
    assert got["expected_leaving_burnout_range"]["high"]["expected"] is not None
