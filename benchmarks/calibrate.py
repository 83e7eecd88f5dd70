"""Calibrate the synthetic-cohort model (burnout.simulate.ModelParams) to the published figures.

    .venv/bin/python benchmarks/calibrate.py check              # figures of the current defaults
    .venv/bin/python benchmarks/calibrate.py scan               # profile cut-offs that fit the model
    .venv/bin/python benchmarks/calibrate.py fit --reuse-stage1 # stage 2 from calibration_stage1.json:
                                                                # reproduces the committed defaults (3 min)
    .venv/bin/python benchmarks/calibrate.py fit                # stage 1 (from the defaults) + stage 2 (15 min)
    .venv/bin/python benchmarks/calibrate.py fit --from-scratch # from the uncalibrated guess (30 min)
    add --write-defaults to rewrite ModelParams' defaults and PROFILE_BOUNDARIES in simulate.py

Method (docs/synthetic-cohort.md has the full account):

Stage 1, expected figures. A large cohort (32 blocks = 262,144 enrolled patients,
seed 12345, about 40,000 completers) is drawn once; its random numbers are held
fixed while the parameters move (common random numbers), so the figures are smooth,
deterministic functions of the parameters. Counts are rescaled to 395 completers.
``scipy.optimize.least_squares`` fits 36 parameters to the residuals
(figure - published) / scale, with finite differences of fixed absolute step, under
plausibility bounds (e.g. subscale correlations and reliabilities typical of the
MBI-GS). Profile cut-offs are held at score values (exhaustion >= 5.4, cynicism >=
5.6, efficacy <= 10/3), the combination ``scan`` finds best; the side-effect
intercepts are solved exactly (bisection) for the published rates.

Stage 2, the default seed. The published figures are one sample of 395 patients; a
model that matches them in expectation misses them at any single seed by sampling
error (about 10 patients on a count near 50%). With the default seed and size held
fixed, a (1+1) random search moves the parameters by small steps, accepting a step
when a loss (squared misses in units of the tolerance, steep outside it, plus a
penalty on the distance from the stage-1 solution) does not increase; then each
side-effect intercept is set to give the published rate at the default seed. The
z-score profile boundaries used in stage 2 are read off the stage-1 model: for the
default seed and seeds 1-30, the z-gap between the attainable scores either side of
each stage-1 cut-off; the median midpoint, rounded to 0.05.

``check`` prints target | achieved at the default seed and at other seeds, and how
often 50 other seeds land within 3 binomial SDs of each published count.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import sys
import time
from pathlib import Path

import numpy as np
from scipy.optimize import least_squares
from scipy.special import expit

from burnout.instrument import SCALE
from burnout.simulate import DEFAULT_SEED, PROFILE_BOUNDARIES, ModelParams
from burnout.simulate.draw import _arrays, _concat, _draw_noise, _model, _subscale_units

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tools"))  # the calibration tooling
import calibration as cal

# (field, index, lower, upper): the parameters calibrated in stage 1 and 2, with
# plausibility bounds.
SPEC: list[tuple[str, int | tuple[int, int] | None, float, float]] = (
    [("baseline_mean", i, lo, hi) for i, (lo, hi) in enumerate([(4.0, 6.5), (3.0, 6.0), (2.5, 5.5)])]
    + [("baseline_sd", i, lo, hi) for i, (lo, hi) in enumerate([(0.8, 1.4), (0.8, 1.5), (0.7, 1.3)])]
    + [("baseline_corr", i, lo, hi) for i, (lo, hi) in enumerate([(0.3, 0.75), (-0.5, 0.0), (-0.6, -0.1)])]
    + [("class_probs", i, 0.05, 0.8) for i in (1, 2)]
    + [("class_change", (k, s), -4.0, 3.0) for k in range(3) for s in range(3)]
    + [("slope_sd", i, 0.2, 1.5) for i in range(3)]
    + [("shape", (s, j), 0.1, 1.3) for s in range(3) for j in range(2)]
    + [("occasion_sd", i, 0.15, 0.6) for i in range(3)]
    + [("item_sd", i, 0.65, 1.1) for i in range(3)]
    + [("continue_logit", None, -3.0, 5.0)]
)
LOWER = np.array([s[2] for s in SPEC])
UPPER = np.array([s[3] for s in SPEC])

STAGE1_SEED, STAGE1_BLOCKS = 12345, 32
STAGE1_CUTS = (5.4, 5.6, 10 / 3)  # exhaustion >=, cynicism >=, efficacy <= (score values)
PUBLISHED_SIDE_EFFECTS = {2: 0.043, 4: 0.035, 6: 0.041}

# residual scales in stage 1 (counts are per 395 completers)
SCALES: dict[str, float] = {
    **{k: 2.0 for k in ("respond_E", "respond_C", "respond_PE", "at_least_1", "at_least_2", "all_3", "below_threshold_6")},
    **{f"mean_{s}_{t}": 0.01 for s in cal.SUBSCALE_KEYS for t in (0, 2, 4, 6)},
    **{k: 1.5 for k in ("burnout_0", "burnout_resolved", "burnout_to_engaged")},
    **{k: 3.0 for k in ("engaged_0", "engaged_6", "ineffective_0", "ineffective_6")},
}
# effect sizes: aim inside the published label with a margin
DZ_AIM = {"dz_E_2": (0.6, 0.72), "dz_E_6": (0.9, 1.6), "dz_C_2": (0.42, 0.6), "dz_C_6": (0.72, 0.95)}
MEET_RATE_AIM = (0.55, 0.65)  # share of enrolled patients meeting the threshold (not published)


# --------------------------------------------------------------------------- parameter vector


def get_vector(p: ModelParams) -> np.ndarray:
    out = []
    for name, idx, _, _ in SPEC:
        v = getattr(p, name)
        out.append(v if idx is None else v[idx[0]][idx[1]] if isinstance(idx, tuple) else v[idx])
    return np.array(out, dtype=float)


def with_vector(x: np.ndarray, base: ModelParams) -> ModelParams:
    vals: dict[str, object] = {}
    for (name, idx, _, _), xi in zip(SPEC, x):
        cur = vals.get(name, getattr(base, name))
        xi = round(float(xi), 4)  # what the defaults in simulate.py will hold
        if idx is None:
            cur = xi
        elif isinstance(idx, tuple):
            rows = [list(r) for r in cur]  # type: ignore[union-attr]
            rows[idx[0]][idx[1]] = xi
            cur = tuple(tuple(r) for r in rows)
        else:
            lst = list(cur)  # type: ignore[call-overload]
            lst[idx] = xi
            cur = tuple(lst)
        vals[name] = cur
    cp = list(vals["class_probs"])  # type: ignore[call-overload]
    rest = cp[1] + cp[2]
    if rest > 0.95:
        cp[1], cp[2] = cp[1] * 0.95 / rest, cp[2] * 0.95 / rest
    cp[1], cp[2] = round(cp[1], 4), round(cp[2], 4)
    cp[0] = round(1.0 - cp[1] - cp[2], 4)
    vals["class_probs"] = tuple(cp)
    return dataclasses.replace(base, **vals)  # type: ignore[arg-type]


def with_side_effects(p: ModelParams, s2: float, s4: float, s6: float) -> ModelParams:
    """Intercepts at sessions 2, 4, 6; session 1 a little higher, 3 and 5 in between."""
    logits = (s2 + 0.15, s2, (s2 + s4) / 2, s4, (s4 + s6) / 2, s6)
    return dataclasses.replace(p, side_effect_logit=tuple(round(v, 4) for v in logits))


# --------------------------------------------------------------------------- stage 1


def cut_profiles(u: np.ndarray, cuts: tuple[float, float, float]) -> np.ndarray:
    ce = u[..., 0] >= math.ceil(cuts[0] * SCALE - 1e-6)
    cc = u[..., 1] >= math.ceil(cuts[1] * SCALE - 1e-6)
    cp = u[..., 2] <= math.floor(cuts[2] * SCALE + 1e-6)
    return cal.codes_from_flags(ce, cc, cp)


def expected_figures(a: dict[str, np.ndarray], cuts: tuple[float, float, float]) -> dict[str, float]:
    """Figures of a large cohort, counts rescaled to 395 completers, profiles at score cuts."""
    c = cal.completer_arrays(a)
    f = cal.figures(c, (0.0, 0.0, 0.0))
    n, met = f["completers"], int(c["threshold_met"])
    out = dict(f)
    k = 395 / n
    for key in ("respond_E", "respond_C", "respond_PE", "at_least_1", "at_least_2", "all_3", "below_threshold_6"):
        out[key] = f[key] * k
    out["completion"] = n / met
    out["meet_rate"] = met / a["threshold_met"].shape[0]
    u = c["units"]
    p0, p6 = cut_profiles(u[:, 0], cuts), cut_profiles(u[:, 3], cuts)
    out["burnout_0"] = (p0 == 0).sum() * k
    out["burnout_resolved"] = ((p0 == 0) & (p6 != 0)).sum() * k
    out["burnout_to_engaged"] = ((p0 == 0) & (p6 == 4)).sum() * k
    for i, name in ((4, "engaged"), (3, "ineffective")):
        out[f"{name}_0"], out[f"{name}_6"] = (p0 == i).sum() * k, (p6 == i).sum() * k
    return out


def hinge(v: float, lo: float, hi: float) -> float:
    return min(v - lo, 0.0) + max(v - hi, 0.0)


def stage1_residuals(f: dict[str, float]) -> np.ndarray:
    r = [(f[k] - cal.TARGETS[k][0]) / s for k, s in SCALES.items()]
    r.append((f["completion"] - 395 / 1642) / 0.002)
    r += [hinge(f[k], lo, hi) / 0.02 for k, (lo, hi) in DZ_AIM.items()]
    r.append(hinge(f["meet_rate"], *MEET_RATE_AIM) / 0.01)
    return np.array(r)


def stage1(base: ModelParams, *, max_nfev: int, cuts: tuple[float, float, float] = STAGE1_CUTS) -> ModelParams:
    noise = _draw_noise(STAGE1_SEED, 0, STAGE1_BLOCKS)
    x0 = np.clip(get_vector(base), LOWER + 1e-6, UPPER - 1e-6)
    n_res = len(SCALES) + 1 + len(DZ_AIM) + 1
    calls = [0]

    def fun(x: np.ndarray) -> np.ndarray:
        calls[0] += 1
        try:
            return stage1_residuals(expected_figures(_model(noise, with_vector(x, base)), cuts))
        except (ValueError, np.linalg.LinAlgError):
            return np.full(n_res, 50.0)

    memo: dict[bytes, np.ndarray] = {}

    def fun_memo(x: np.ndarray) -> np.ndarray:
        key = x.tobytes()
        if key not in memo:
            memo.clear()
            memo[key] = fun(x)
        return memo[key]

    def jac(x: np.ndarray) -> np.ndarray:
        r0 = fun_memo(x)
        J = np.empty((r0.size, x.size))
        for i in range(x.size):
            h = 0.02 if x[i] + 0.02 <= UPPER[i] else -0.02
            xi = x.copy()
            xi[i] += h
            J[:, i] = (fun(xi) - r0) / h
        r = r0 @ r0
        print(f"  stage 1: {calls[0]} evaluations, sum of squared residuals {r:.2f}", flush=True)
        return J

    t = time.perf_counter()
    res = least_squares(fun_memo, x0, jac=jac, bounds=(LOWER, UPPER), max_nfev=max_nfev, x_scale=1.0)
    print(f"  stage 1 done in {time.perf_counter() - t:.0f} s: sum of squared residuals {2 * res.cost:.2f}")
    p = with_vector(res.x, base)

    # side-effect intercepts: bisection on the expected rate among completers
    a = _model(noise, p)
    units, scored = _subscale_units(a["items"], a["blank"])
    done = a["threshold_met"] & (a["n_sessions"] == 6) & a["present"].all(axis=1) & scored.all(axis=(1, 2))
    subcut = (a["route"] == 1)[done]
    z = noise["z_patient"][done, 0]
    solved = []
    for k, rate in PUBLISHED_SIDE_EFFECTS.items():
        lo, hi = -8.0, 0.0
        for _ in range(60):
            mid = (lo + hi) / 2
            r = expit(mid + p.side_effect_subcutaneous * subcut + p.side_effect_patient_sd * z).mean()
            lo, hi = (mid, hi) if r < rate else (lo, mid)
        solved.append((lo + hi) / 2)
    return with_side_effects(p, *solved)


# --------------------------------------------------------------------------- stage 2


def default_figures(p: ModelParams, boundaries: tuple[float, float, float], seed: int = DEFAULT_SEED) -> dict[str, float]:
    a = _concat(_arrays(seed, p, patients=None, threshold_met=1642))
    return cal.figures(cal.completer_arrays(a), boundaries)


def stage2_loss(f: dict[str, float]) -> float:
    if f["completers"] < 50:
        return 1e9
    loss = 100.0 * (f["completers"] - 395) ** 2
    for key, (target, tol) in cal.TARGETS.items():
        if key in ("completers", "threshold_met"):
            continue
        d = abs(f[key] - target) / tol
        loss += d * d + 50.0 * max(d - 0.75, 0.0) ** 2
    for key, (lo, hi) in {"dz_E_2": (0.55, 0.75), "dz_E_6": (0.85, 9), "dz_C_2": (0.3, 0.7), "dz_C_6": (0.6, 9)}.items():
        loss += 1000.0 * hinge(f[key], lo, hi) ** 2
    return loss


GRID = (1 / 5, 1 / 5, 1 / 6)  # spacing of subscale scores with no blank item (5, 5, 6 items)


def boundaries_from_cuts(p: ModelParams, cuts: tuple[float, float, float], seeds: range = range(1, 31)) -> tuple[float, float, float]:
    """z boundaries in the gaps around the score cuts, rounded to 0.05.

    For each seed (the default and ``seeds``) the z-scores of the two scores (with
    no blank item) either side of the cut are computed against that cohort's
    completers at baseline; the boundary is the median midpoint, so it sits inside
    the gap at the default seed and at as many other seeds as possible.
    """
    mids, gaps = [], []
    for seed in (DEFAULT_SEED, *seeds):
        a = _concat(_arrays(seed, p, patients=None, threshold_met=1642))
        u = cal.completer_arrays(a)["units"][:, 0] / SCALE
        m, s = u.mean(axis=0), u.std(axis=0, ddof=1)
        row = []
        for i, cut in enumerate(cuts):
            lo, hi = (cut - GRID[i], cut) if i < 2 else (cut, cut + GRID[i])
            row.append(((lo - m[i]) / s[i], (hi - m[i]) / s[i]))
        gaps.append(row)
    g = np.array(gaps)  # (seeds, 3, 2)
    out = []
    for i in range(3):
        mid = float(np.median(g[:, i].mean(axis=1)))
        b = round(round(mid / 0.05) * 0.05, 2)
        inside = int(((g[:, i, 0] < b) & (b < g[:, i, 1])).sum())
        print(f"  {cal.SUBSCALE_KEYS[i]}: default-seed z gap ({g[0, i, 0]:.3f}, {g[0, i, 1]:.3f}), "
              f"median midpoint {mid:.3f} -> {b} (inside the gap at {inside} of {len(g)} seeds)")
        out.append(b)
    return tuple(out)  # type: ignore[return-value]


def fit_side_effects(p: ModelParams) -> ModelParams:
    """Intercepts at sessions 2, 4, 6 that give the published rates at the default seed.

    Side effects do not feed back into anything else the figures depend on, so each
    intercept is found on its own: the rate among completers is a step function of
    the intercept (common random numbers); take the middle of the interval where the
    count is nearest the published rate.
    """
    a = _concat(_arrays(DEFAULT_SEED, p, patients=None, threshold_met=1642))
    units, scored = _subscale_units(a["items"], a["blank"])
    done = a["threshold_met"] & (a["n_sessions"] == 6) & a["present"].all(axis=1) & scored.all(axis=(1, 2))
    n = int(a["n_sessions"].shape[0])
    noise = _draw_noise(DEFAULT_SEED, 0, -(-n // 8192))
    u_se = noise["u_session"][:n][done][:, :, 0].astype(np.float64)
    asked = ~a["se_not_asked"][done]
    shift = p.side_effect_subcutaneous * (a["route"] == 1)[done] + p.side_effect_patient_sd * noise["z_patient"][:n][done, 0]
    found = []
    for k, rate in PUBLISHED_SIDE_EFFECTS.items():
        want = round(rate * asked[:, k - 1].sum())
        grid = np.linspace(-6.0, -1.0, 5001)
        counts = np.array([((u_se[:, k - 1] < expit(g + shift).astype(np.float32)) & asked[:, k - 1]).sum() for g in grid])
        best = np.abs(counts - want).min()
        ok = grid[np.abs(counts - want) == best]
        found.append(float((ok.min() + ok.max()) / 2))
    return with_side_effects(p, *found)


def stage2(p1: ModelParams, boundaries: tuple[float, float, float], *, iterations: int, seed: int = 1) -> ModelParams:
    rng = np.random.default_rng(seed)
    x1 = get_vector(p1)
    se1 = np.array(p1.side_effect_logit)[[1, 3, 5]]
    names = [f"{s[0]}{list(s[1]) if isinstance(s[1], tuple) else '' if s[1] is None else [s[1]]}" for s in SPEC]
    step = np.full(x1.size + 3, 0.03)

    def params(y: np.ndarray) -> ModelParams:
        return with_side_effects(with_vector(y[: x1.size], p1), *y[x1.size :])

    def loss(y: np.ndarray) -> float:
        prior = float((((y[: x1.size] - x1) / 0.1) ** 2).sum() + (((y[x1.size :] - se1) / 0.2) ** 2).sum())
        try:
            return stage2_loss(default_figures(params(y), boundaries)) + 0.2 * prior
        except (ValueError, np.linalg.LinAlgError):
            return 1e12

    y = np.concatenate([x1, se1])
    lo = np.concatenate([LOWER, [-8.0] * 3])
    hi = np.concatenate([UPPER, [0.0] * 3])
    best = loss(y)
    print(f"  stage 2 start: loss {best:.1f}")
    t = time.perf_counter()
    for it in range(iterations):
        k = rng.integers(1, 4)
        idx = rng.choice(y.size, size=k, replace=False)
        cand = y.copy()
        cand[idx] = np.clip(cand[idx] + rng.normal(0, step[idx]), lo[idx], hi[idx])
        val = loss(cand)
        if val <= best:
            y, best = cand, val
        if (it + 1) % 500 == 0:
            print(f"  stage 2: {it + 1} steps, loss {best:.1f} ({time.perf_counter() - t:.0f} s)", flush=True)
    moved = sorted(zip(np.abs(y[: x1.size] - x1), names), reverse=True)[:6]
    print("  largest moves from stage 1: " + ", ".join(f"{n} {d:+.3f}" for d, n in moved))
    return params(y)


# --------------------------------------------------------------------------- check and report


def table(p: ModelParams, boundaries: tuple[float, float, float], seeds: list[int]) -> str:
    """Markdown: published | tolerance | the default seed | other seeds.

    At the default seed * marks a figure outside its tolerance; at other seeds !
    marks one more than 3 sampling SDs from the published figure (rescaled to that
    cohort's completers), see ``calibration.sampling_sd`` (tools/calibration.py).
    """
    figs = {s: default_figures(p, boundaries, s) for s in seeds}
    lines = ["| figure | published | tolerance | " + " | ".join(f"seed {s}" for s in seeds) + " |"]
    lines.append("|---|---|---|" + "---|" * len(seeds))
    for key, (target, tol) in cal.TARGETS.items():
        if key.startswith("side_effects"):
            fmt = lambda v: f"{100 * v:.1f}%"  # noqa: E731
        elif key.startswith("mean"):
            fmt = lambda v: f"{v:.2f}"  # noqa: E731
        else:
            fmt = lambda v: f"{v:.0f}"  # noqa: E731
        cells = []
        for s in seeds:
            f, v = figs[s], figs[s][key]
            if s == DEFAULT_SEED:
                mark = "" if abs(v - target) <= tol + 1e-12 else " *"
            elif key == "threshold_met":
                mark = ""
            else:
                mark = "" if abs(v - cal.expected_value(key, f)) <= 3 * cal.sampling_sd(key, f) else " !"
            cells.append(fmt(v) + mark)
        tol_text = f"{100 * tol:.1f} pp" if key.startswith("side_effects") else ("exact" if tol == 0 else f"{tol:g}")
        lines.append(f"| {key} | {fmt(target)} | {tol_text} | " + " | ".join(cells) + " |")
    labels = {"dz_E_2": "medium", "dz_E_6": "large", "dz_C_2": "small-medium", "dz_C_6": "medium-large"}
    for key, lab in labels.items():
        lines.append(f"| {key} | {lab} | {cal.DZ_RANGES[key]} | " + " | ".join(f"{figs[s][key]:.2f}" for s in seeds) + " |")
    lines.append("| mean_PE_6 - mean_PE_4 | plateau | < 0.05 | " + " | ".join(f"{figs[s]['mean_PE_6'] - figs[s]['mean_PE_4']:+.3f}" for s in seeds) + " |")
    lines.append("| serious adverse events (completers) | 0 | exact | " + " | ".join(str(figs[s]["sae_completers"]) for s in seeds) + " |")
    return "\n".join(lines)


def sampling_check(p: ModelParams, boundaries: tuple[float, float, float], seeds: range) -> str:
    """How many seeds land within 3 sampling SDs of each published figure."""
    keys = [k for k in cal.TARGETS if k != "threshold_met"]
    inside = {k: 0 for k in keys}
    all_ok = labels = 0
    for s in seeds:
        f = default_figures(p, boundaries, s)
        ok = [abs(f[k] - cal.expected_value(k, f)) <= 3 * cal.sampling_sd(k, f) for k in keys]
        for k, o in zip(keys, ok):
            inside[k] += o
        all_ok += all(ok)
        labels += cal.label_ok(f)
    lines = [f"  {k:20s} {v}/{len(seeds)}" for k, v in inside.items() if v < len(seeds)]
    lines.append(f"  (every other figure: {len(seeds)}/{len(seeds)})")
    lines.append(f"  all figures at once   {all_ok}/{len(seeds)}")
    lines.append(f"  effect-size labels and plateau as published: {labels}/{len(seeds)}")
    return "\n".join(lines)


def params_json(p: ModelParams) -> dict[str, object]:
    return {n: getattr(p, n) for n in sorted({s[0] for s in SPEC} | {"class_probs", "side_effect_logit"})}


def params_from_json(d: dict[str, object], base: ModelParams | None = None) -> ModelParams:
    def tup(v: object) -> object:
        return tuple(tup(x) for x in v) if isinstance(v, list) else v

    return dataclasses.replace(base or ModelParams(), **{k: tup(v) for k, v in d.items()})  # type: ignore[arg-type]


def params_source(p: ModelParams) -> str:
    """The calibrated fields as Python, to paste into ModelParams' defaults."""
    names = sorted({s[0] for s in SPEC} | {"class_probs", "side_effect_logit"})

    def fmt(v: object) -> str:
        if isinstance(v, tuple):
            return "(" + ", ".join(fmt(x) for x in v) + ("," if len(v) == 1 else "") + ")"
        if isinstance(v, float):
            return f"{v:.4f}"
        return repr(v)

    return "\n".join(f"    {n} = {fmt(getattr(p, n))}" for n in names)


SIMULATE_PY = Path(__file__).resolve().parents[1] / "src" / "burnout" / "simulate.py"
STAGE1_JSON = Path(__file__).resolve().parent / "calibration_stage1.json"  # the stage-1 solution behind the defaults


def write_defaults(p: ModelParams, boundaries: tuple[float, float, float], path: Path = SIMULATE_PY) -> None:
    """Rewrite the calibrated defaults of ModelParams (and PROFILE_BOUNDARIES) in simulate.py."""
    text = path.read_text()
    names = sorted({s[0] for s in SPEC} | {"class_probs", "side_effect_logit"})

    def fmt(v: object) -> str:
        if isinstance(v, tuple) and v and isinstance(v[0], tuple):
            return "(\n" + "".join(f"        {fmt(r)},\n" for r in v) + "    )"
        if isinstance(v, tuple):
            return "(" + ", ".join(fmt(x) for x in v) + ")"
        return f"{v:.4f}".rstrip("0").rstrip(".") if isinstance(v, float) else repr(v)

    for name in names:
        head = f"\n    {name}: "
        start = text.index(head) + 1
        eq = text.index(" = ", start) + 3
        depth, end = 0, eq
        while True:  # the value ends at the first newline outside parentheses
            ch = text[end]
            depth += ch in "([" 
            depth -= ch in ")]"
            if ch == "\n" and depth == 0:
                break
            end += 1
        value = text[eq:end]
        comment = ""
        if "#" in value and "(" not in value.split("#", 1)[1]:
            value, comment = value.split("#", 1)
            comment = "  #" + comment
        text = text[:eq] + fmt(getattr(p, name)) + comment + text[end:]
    start = text.index("PROFILE_BOUNDARIES: Final[tuple[float, float, float]] = ")
    end = text.index("\n", start)
    text = text[:start] + f"PROFILE_BOUNDARIES: Final[tuple[float, float, float]] = {boundaries!r}" + text[end:]
    path.write_text(text)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("command", choices=["check", "scan", "fit"])
    ap.add_argument("--from-scratch", action="store_true", help="fit from the uncalibrated guess in this script")
    ap.add_argument("--stage1-evaluations", type=int, default=40)
    ap.add_argument("--stage2-steps", type=int, default=4000)
    ap.add_argument("--seeds", type=int, nargs="*", default=[DEFAULT_SEED, 1, 2, 3])
    ap.add_argument("--json", type=Path, help="write the fitted parameters and boundaries here")
    ap.add_argument("--write-defaults", action="store_true", help="rewrite ModelParams' defaults in simulate.py")
    ap.add_argument("--reuse-stage1", action="store_true", help=f"start stage 2 from {STAGE1_JSON.name} (reproduces the defaults)")
    ap.add_argument("--boundaries", type=float, nargs=3, help="z boundaries to use instead of deriving them")
    args = ap.parse_args(argv)

    p = ModelParams()
    if args.command == "check":
        print(f"profile boundaries (z): {PROFILE_BOUNDARIES}")
        print(table(p, PROFILE_BOUNDARIES, args.seeds))
        print("seeds 1-50 within 3 binomial SDs of the published proportions:")
        print(sampling_check(p, PROFILE_BOUNDARIES, range(1, 51)))
        return 0
    if args.command == "scan":
        c = cal.completer_arrays(_model(_draw_noise(STAGE1_SEED, 0, STAGE1_BLOCKS), p))
        u, k = c["units"], 395 / c["units"].shape[0]
        results = []
        for ce in np.arange(5.0, 6.01, 0.2):
            for cc in np.arange(3.4, 6.01, 0.2):
                for cp in np.arange(2.5, 4.6, 1 / 6):
                    p0, p6 = cut_profiles(u[:, 0], (ce, cc, cp)), cut_profiles(u[:, 3], (ce, cc, cp))
                    f = {
                        "burnout_0": (p0 == 0).sum() * k,
                        "burnout_resolved": ((p0 == 0) & (p6 != 0)).sum() * k,
                        "burnout_to_engaged": ((p0 == 0) & (p6 == 4)).sum() * k,
                        "engaged_0": (p0 == 4).sum() * k,
                        "engaged_6": (p6 == 4).sum() * k,
                        "ineffective_0": (p0 == 3).sum() * k,
                        "ineffective_6": (p6 == 3).sum() * k,
                    }
                    r = sum(((v - cal.TARGETS[key][0]) / SCALES[key]) ** 2 for key, v in f.items())
                    results.append((r, round(ce, 2), round(cc, 2), round(cp, 3)))
        print("profile cut-offs on the stage-1 cohort with the current parameters (best 10):")
        for r in sorted(results)[:10]:
            print(f"  sum of squared residuals {r[0]:8.1f}  exhaustion >= {r[1]}, cynicism >= {r[2]}, efficacy <= {r[3]}")
        return 0

    if args.from_scratch:
        p = dataclasses.replace(p, **UNCALIBRATED)
    if args.reuse_stage1:
        p1 = params_from_json(json.loads(STAGE1_JSON.read_text())["stage1"])
        print(f"stage 1: reused from {STAGE1_JSON.name}")
    else:
        print("stage 1: expected figures on a large common-random-number cohort")
        p1 = stage1(p, max_nfev=args.stage1_evaluations)
    if args.boundaries:
        b = tuple(args.boundaries)
    else:
        print("profile boundaries:")
        b = boundaries_from_cuts(p1, STAGE1_CUTS)
    print("stage 2: the default seed")
    p2 = fit_side_effects(stage2(p1, b, iterations=args.stage2_steps))
    print("check: the boundaries with the final parameters")
    boundaries_from_cuts(p2, STAGE1_CUTS)
    print(table(p2, b, args.seeds))
    print("\nparameters to paste into ModelParams:\n" + params_source(p2))
    print(f"PROFILE_BOUNDARIES = {b}")
    if args.write_defaults:
        write_defaults(p2, b)
        if not args.reuse_stage1:
            STAGE1_JSON.write_text(json.dumps({"stage1": params_json(p1)}, indent=1) + "\n")
        print(f"wrote the defaults into {SIMULATE_PY} (stage-1 solution: {STAGE1_JSON})")
    if args.json:
        args.json.write_text(json.dumps({"stage1": params_json(p1), "params": params_json(p2), "boundaries": b}, indent=1))
    return 0


# The starting guess before any calibration (reasoned from the published means and
# response overlaps; docs/synthetic-cohort.md), used by --from-scratch.
UNCALIBRATED: dict[str, object] = {
    "baseline_mean": (5.2, 4.45, 4.15),
    "baseline_sd": (1.1, 1.25, 1.0),
    "baseline_corr": (0.45, -0.25, -0.4),
    "item_sd": (0.85, 0.9, 0.85),
    "occasion_sd": (0.35, 0.4, 0.35),
    "class_probs": (0.56, 0.24, 0.2),
    "class_change": ((-0.05, -0.05, -0.25), (-2.3, -1.8, -0.1), (-2.4, -1.9, 1.3)),
    "slope_sd": (0.6, 0.8, 0.8),
    "shape": ((0.3, 0.8), (0.35, 0.8), (0.75, 1.1)),
    "continue_logit": 1.0,
    "side_effect_logit": (-2.9, -3.1, -3.2, -3.3, -3.2, -3.2),
}

if __name__ == "__main__":
    sys.exit(main())
