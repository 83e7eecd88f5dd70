"""Calibration targets (seed-study.md) and a fast numpy evaluator of the simulator.

Calibration tooling, outside the package (the package draws cohorts; it does not fit
them): used by benchmarks/calibrate.py to fit ``simulate.ModelParams``. The
evaluator works on the simulator's internal arrays (no tables, no engine) so that
one evaluation of the default-size cohort takes milliseconds. It follows the
default analysis plan: completers met the threshold at baseline, had sessions 1-6,
and have all three subscales scored (at most one blank item each) at 0, 2, 4 and 6.
tests/simulate/test_simulate.py checks the same figures with an evaluator written separately
(pandas and fractions on the written tables).
"""

from __future__ import annotations

from typing import Final

import numpy as np

from burnout.instrument import SCALE
from burnout.simulate.draw import _meets_threshold, _subscale_units
from burnout.simulate.published import EFFECT_SIZE_LABELS, PUBLISHED
from burnout.stats import EFFECT_SIZE_BOUNDS

SUBSCALE_KEYS: Final[tuple[str, ...]] = ("E", "C", "PE")

# The published figures (burnout.simulate.published) and the tolerance the default seed must meet.
TARGETS: Final[dict[str, tuple[float, float]]] = {f.key: (f.value, f.tolerance) for f in PUBLISHED}

# The published effect-size labels as dz ranges (Cohen's bands): key -> [low, high).
_SUBSCALE_KEY: Final[dict[str, str]] = dict(
    zip(("exhaustion", "cynicism", "professional_efficacy"), SUBSCALE_KEYS, strict=True)
)
DZ_RANGES: Final[dict[str, tuple[float, float]]] = {
    f"dz_{_SUBSCALE_KEY[s]}_{t}": (
        min(EFFECT_SIZE_BOUNDS[label][0] for label in labels),
        max(EFFECT_SIZE_BOUNDS[label][1] for label in labels),
    )
    for (s, t), labels in EFFECT_SIZE_LABELS.items()
}

PROFILES: Final[tuple[str, ...]] = ("burnout", "overextended", "disengaged", "ineffective", "engaged")


def completer_arrays(a: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Scores (units, shape (n, 4, 3)) and side effects of the completers."""
    units, scored = _subscale_units(a["items"], a["blank"])
    complete = a["threshold_met"] & (a["n_sessions"] == 6) & a["present"].all(axis=1) & scored.all(axis=(1, 2))
    return {
        "units": units[complete],
        "scored": scored[complete],
        "side_effects": a["side_effects"][complete],
        "se_not_asked": a["se_not_asked"][complete],
        "threshold_met": np.asarray(int(a["threshold_met"].sum())),
        "sae": a["sae"][complete],
    }


def profile_codes(
    units: np.ndarray, ref_mean: np.ndarray, ref_sd: np.ndarray, b: tuple[float, float, float]
) -> np.ndarray:
    """Profile index (PROFILES order) from z-scores against the reference."""
    z = (units / SCALE - ref_mean) / ref_sd
    return codes_from_flags(z[..., 0] >= b[0], z[..., 1] >= b[1], z[..., 2] <= b[2])


def codes_from_flags(ce: np.ndarray, cc: np.ndarray, cp: np.ndarray) -> np.ndarray:
    """Profile index (PROFILES order) from high exhaustion, high cynicism and low efficacy flags."""
    code = np.full(ce.shape, 4)
    code[~ce & ~cc & cp] = 3
    code[~ce & cc] = 2
    code[ce & ~cc] = 1
    code[ce & cc] = 0
    return code


def figures(c: dict[str, np.ndarray], boundaries: tuple[float, float, float]) -> dict[str, float]:
    """Every calibrated figure from completer arrays (see ``completer_arrays``)."""
    u = c["units"]
    n = u.shape[0]
    f: dict[str, float] = {"threshold_met": int(c["threshold_met"]), "completers": n}
    if n < 3:
        return f
    sign = np.array([-1, -1, 1])
    for ti, t in enumerate((0, 2, 4, 6)):
        for s, key in enumerate(SUBSCALE_KEYS):
            f[f"mean_{key}_{t}"] = u[:, ti, s].mean() / SCALE
            f[f"sd_{key}_{t}"] = u[:, ti, s].std(ddof=1) / SCALE
            if t:
                d = (u[:, ti, s] - u[:, 0, s]) / SCALE
                f[f"dz_{key}_{t}"] = sign[s] * d.mean() / d.std(ddof=1)
    improved = (u[:, 3] - u[:, 0]) * sign >= SCALE
    for s, key in enumerate(SUBSCALE_KEYS):
        f[f"respond_{key}"] = int(improved[:, s].sum())
    k = improved.sum(axis=1)
    f["at_least_1"], f["at_least_2"], f["all_3"] = int((k >= 1).sum()), int((k >= 2).sum()), int((k == 3).sum())
    f["below_threshold_6"] = int((~_meets_threshold(u[:, 3], c["scored"][:, 3])).sum())
    for sess in (2, 4, 6):
        asked = ~c["se_not_asked"][:, sess - 1]
        f[f"side_effects_{sess}"] = float((c["side_effects"][:, sess - 1] & asked).sum() / max(asked.sum(), 1))
    ref_mean = u[:, 0].mean(axis=0) / SCALE
    ref_sd = u[:, 0].std(axis=0, ddof=1) / SCALE
    p0 = profile_codes(u[:, 0], ref_mean, ref_sd, boundaries)
    p6 = profile_codes(u[:, 3], ref_mean, ref_sd, boundaries)
    for i, name in enumerate(PROFILES):
        f[f"{name}_0"], f[f"{name}_6"] = int((p0 == i).sum()), int((p6 == i).sum())
    f["burnout_resolved"] = int(((p0 == 0) & (p6 != 0)).sum())
    f["burnout_to_engaged"] = int(((p0 == 0) & (p6 == 4)).sum())
    f["sae_completers"] = int(c["sae"].sum())
    return f


def sampling_sd(key: str, f: dict[str, float]) -> float:
    """Sampling SD of figure ``key`` around the published value, for a cohort like ``f``.

    Counts over completers: binomial with the published proportion and this cohort's
    completers; burnout_resolved/_to_engaged: binomial over this cohort's baseline
    burnout count; means: SD / sqrt(n); side-effect rates: binomial proportion;
    completers: binomial over the 1,642 who met the threshold.
    """
    n = f["completers"]
    target = TARGETS[key][0]
    if key == "completers":
        q = 395 / 1642
        return float(np.sqrt(1642 * q * (1 - q)))
    if key in ("burnout_resolved", "burnout_to_engaged"):
        q = target / 71
        return float(np.sqrt(f["burnout_0"] * q * (1 - q)))
    if key.startswith("mean_"):
        return f["sd_" + key[5:]] / float(np.sqrt(n))
    if key.startswith("side_effects_"):
        return float(np.sqrt(target * (1 - target) / n))
    q = target / 395
    return float(np.sqrt(n * q * (1 - q)))


def expected_value(key: str, f: dict[str, float]) -> float:
    """The published figure rescaled to this cohort (counts scale with its denominator)."""
    target = TARGETS[key][0]
    if key in ("burnout_resolved", "burnout_to_engaged"):
        return target / 71 * f["burnout_0"]
    if key in ("completers", "threshold_met") or key.startswith(("mean_", "side_effects_")):
        return target
    return target / 395 * f["completers"]


def label_ok(f: dict[str, float]) -> bool:
    """Effect sizes carry the published labels and efficacy plateaus by session 4."""
    ok = all(lo <= f[k] < hi for k, (lo, hi) in DZ_RANGES.items())
    return ok and abs(f["mean_PE_6"] - f["mean_PE_4"]) < 0.05
