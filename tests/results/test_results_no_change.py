"""results.no_change: the joint shares expected with no change, and what they withhold."""

from __future__ import annotations

import numpy as np
import pytest

from burnout import privacy
from burnout.cohort import ProfileCutoffs
from burnout.instrument import SCALE
from burnout.measures.joint import JointBaseline
from burnout.plan import load_protocol
from burnout.results.no_change import no_change_results
from burnout.stats.no_change import expected_leaving_burnout, no_change_model

SD = np.array([1.1, 1.3, 1.0])
COV = np.array([[1.0, 0.5, -0.3], [0.5, 1.0, -0.35], [-0.3, -0.35, 1.0]]) * np.outer(SD, SD)
CUT = ProfileCutoffs(exhaustion=4 * SCALE, cynicism=3 * SCALE, professional_efficacy=2 * SCALE, description="raw")


def _joint(completers: dict[tuple[int, int, int], int], n: int = 500) -> JointBaseline:
    return JointBaseline(n=n, mean=(3.2, 2.4, 4.1), cov=tuple(tuple(r) for r in COV), completers=completers)


def _u(*points: float) -> tuple[int, int, int]:
    return tuple(round(p * SCALE) for p in points)  # type: ignore[return-value]


def test_leaving_burnout_is_over_those_in_the_profile_at_baseline_only() -> None:
    plan = load_protocol()
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
    ref = expected_leaving_burnout(
        {(5.0, 4.0, 3.0): 1}, no_change_model((3.2, 2.4, 4.1), COV, rho), exhaustion_cut=4.0, cynicism_cut=3.0
    )
    assert got["expected_leaving_burnout"] == pytest.approx(ref, abs=1e-12)
    assert 0 < got["expected_below_threshold"] < 1 and got["no_change_problem"] is None


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
