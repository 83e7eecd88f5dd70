"""The demo: the calibrated synthetic cohort through the real analysis reproduces the study.

References: the published figures of seed-study.md, held in burnout.simulate.published with
the tolerances of the issue (counts within 3/4/2/5 patients, means within 0.03,
side-effect rates within 0.6 percentage points, the published effect-size labels).
"""

from __future__ import annotations

import json
import math

import pytest

from burnout.demo import run_demo
from burnout.simulate.published import PUBLISHED, compare


@pytest.fixture(scope="module")
def default_demo(tmp_path_factory):
    return run_demo(out=tmp_path_factory.mktemp("demo") / "out")


@pytest.mark.slow
def test_default_seed_reproduces_every_published_figure(default_demo):
    rows = compare(default_demo.analysis.results)
    off = [(r["label"], r["published"], r["this_run"]) for r in rows if not r["within_tolerance"]]
    assert not off, off
    # the exact ones, spelled out
    flow = default_demo.analysis.results["flow"]
    assert (flow["threshold_met"], flow["completers"]) == (1642, 395)


@pytest.mark.slow
def test_demo_outputs_say_synthetic(default_demo):
    out = default_demo.out
    tree = json.loads((out / "results.json").read_text())
    assert tree["meta"]["synthetic"] is True
    assert "SYNTHETIC" in (out / "report.html").read_text()
    assert (
        (out / "published-vs-this-run.csv").read_text().startswith("synthetic_data,")
    )  # a column, read by pandas as is


@pytest.mark.slow
def test_another_seed_is_another_cohort_within_sampling_error(default_demo, tmp_path):
    """The model, not the seed, carries the calibration: seed 7 differs but stays close.

    Counts must lie within 3 binomial SDs of the published share of this run's
    completers (or of its burnout-profile patients, for the two figures among them);
    means within 3 standard errors (SD / sqrt(n) from this run); the completer count
    itself within 3 SDs of 395 out of 1,642.
    """
    other = run_demo(out=tmp_path / "other", seed=7).analysis.results
    base = default_demo.analysis.results
    assert other["meta"]["data_fingerprint"] != base["meta"]["data_fingerprint"]
    n_comp = other["flow"]["completers"]
    for fig in PUBLISHED:
        ours = fig.get(other)
        if ours is None:  # suppressed: the hidden count is below 11, which must be plausible
            expected = fig.value * n_comp if fig.kind == "rate" else fig.value
            assert expected - 3 * math.sqrt(expected) <= 11, fig.label
            continue
        if fig.key == "threshold_met":
            assert ours == 1642  # the generator fixes the number who meet the threshold
            continue
        if fig.kind == "count":
            if fig.key == "completers":
                p, n, expected = 395 / 1642, 1642, fig.value
            elif fig.key in ("burnout_resolved", "burnout_to_engaged"):  # among the burnout profile at baseline
                p, n = fig.value / 71, other["profiles"]["burnout_at_baseline"]
                expected = p * n
            else:  # among this cohort's completers, at the published share
                p, n = fig.value / 395, n_comp
                expected = p * n
            assert abs(ours - expected) <= 3 * math.sqrt(n * p * (1 - p)) + 1, (fig.label, ours, expected)
        elif fig.kind == "mean":
            s, t = _subscale_and_time(fig.key)
            se = other["subscales"][s]["timepoints"][t]["sd"] / math.sqrt(n_comp)
            assert abs(ours - fig.value) <= 3 * se + 0.03, (fig.label, ours)
        else:
            assert abs(ours - fig.value) <= 3 * math.sqrt(fig.value * (1 - fig.value) / n_comp) + 0.006, (
                fig.label,
                ours,
            )


def _subscale_and_time(key: str) -> tuple[str, str]:
    """("exhaustion", "2") from a calibration key like "mean_E_2"."""
    _, short, t = key.split("_")
    return {"E": "exhaustion", "C": "cynicism", "PE": "professional_efficacy"}[short], t


@pytest.mark.slow
def test_demo_honest_inference_figures(default_demo):
    """Issue 16 on the demo: the figures its closing note quotes (before -> after)."""
    tree = default_demo.analysis.results
    sae = tree["safety"]["serious_adverse_events"]
    assert (sae["sessions"]["count"], sae["sessions"]["n"]) == (0, 8270)  # was 0 of 2,370 completer sessions
    assert sae["patients"]["n"] == tree["safety"]["patients"] == 2315 and sae["primary"] == "patients"
    nri = tree["itt"]["worst_case"]["responders"]["at_least_1"]
    assert (nri["count"], nri["n"]) == (324, 1642)  # 19.7%, was 275 (16.7%)
    rc = tree["reliable_change"]["exhaustion"]
    assert (
        rc["reliability"] == 0.65
        and abs(rc["sd"] - 0.92) < 0.005
        and "Schaufeli" in rc["source"]
        and "reliability: unverified" in rc["source"]
    )
    rtm = tree["regression_to_mean"]["exhaustion"]
    assert -0.25 < rtm["expected_change"] < -0.1 and 0 < rtm["share_of_observed_change"] < 0.2
    # the threshold and profile headlines with no true change (observed 60.3% and 80.0%)
    joint = tree["regression_to_mean"]
    assert (
        abs(joint["expected_below_threshold"] - 0.234) < 0.01 and abs(joint["expected_leaving_burnout"] - 0.700) < 0.01
    )
    # each share again at the plan's rho_low and rho_high (the default rho is unverified): less reliable
    # scores regress more, so more is expected with no true change at the lower bound
    for s in ("exhaustion", "cynicism", "professional_efficacy"):
        e = tree["regression_to_mean"][s]
        low, high = (e["rho_range"][b]["expected_response_rate"] for b in ("low", "high"))
        assert low > e["expected_response_rate"] > high
    for key in ("expected_below_threshold", "expected_leaving_burnout"):
        spread = joint[f"{key}_range"]
        assert (spread["low"]["rho"], spread["high"]["rho"]) == (0.5, 0.8)
        assert spread["low"]["expected"] > joint[key] > spread["high"]["expected"]
    early = tree["attrition"]["early_change"]["cynicism"]
    assert early["smd"] < -0.3  # non-completers improved less early on
    assert tree["subscales"]["professional_efficacy"]["plateau"]["equivalence"]["equivalent"] is True
