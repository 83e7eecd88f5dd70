"""A hand-built results tree with the shape of ``results.build_results`` (results.md).

The report renders only a results tree, so its tests need one whose every number is
known. The true counts follow the reference study (seed-study.md); statistics are
computed from them with scipy so the tree is internally consistent. A few cells are
"suppressed" on purpose with the distinctive true values in `SECRET_VALUES` (7 and 8):
no other count in the tree is 1..10 and no text the report writes contains the token 7
or 8, so finding one of them in an output means a suppressed count leaked.

Suppression here is deliberately *not* complementary (one hidden cell in a row whose
total is shown): a renderer that derived a hidden cell by subtraction would print it,
and the tests would catch that.

`make_results` returns ``(tree, secrets)``; ``secrets`` lists where each hidden value is.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from typing import Any

from scipy import stats

from burnout.privacy import hide_jointly

__all__ = ["SECRET_VALUES", "Secret", "make_results"]

SECRET_VALUES = (7, 8)
SUBSCALES = ("exhaustion", "cynicism", "professional_efficacy")
PROFILES = ("burnout", "overextended", "disengaged", "ineffective", "engaged")
TIMEPOINTS = ("0", "2", "4", "6")
GOOD = {"exhaustion": -1, "cynicism": -1, "professional_efficacy": 1}


def _contrast(estimate: float, se: float, df: float) -> dict[str, object]:
    """An itt.mmrm estimate with a t interval (1.963 ~ t_0.975 at several hundred df)."""
    return {"estimate": estimate, "se": se, "df": df, "ci": [estimate - 1.963 * se, estimate + 1.963 * se]}


K = 11  # min_cell_count


@dataclass(frozen=True)
class Secret:
    """A hidden count: where it is in the tree (a path of keys) and its true value."""

    path: tuple[str, ...]
    value: int


def _wilson(count: int, n: int, z: float = 1.959963984540054) -> tuple[float, float]:
    p = count / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


def _tost(mean: float, sd: float, n: int, margin: float) -> dict[str, Any]:
    """TOST by hand: the 90% t interval inside +/-margin (Schuirmann 1987)."""
    se = sd / math.sqrt(n)
    q = float(stats.t.ppf(0.95, n - 1))
    t_lower, t_upper = (mean + margin) / se, (mean - margin) / se
    p = max(float(stats.t.sf(t_lower, n - 1)), float(stats.t.cdf(t_upper, n - 1)))
    ci = [mean - q * se, mean + q * se]
    equivalent = -margin < ci[0] and ci[1] < margin
    return {
        "margin": margin, "t_lower": t_lower, "t_upper": t_upper, "df": n - 1, "p": p, "ci": ci, "ci_level": 0.9,
        "equivalent": equivalent, "conclusion": f"equivalent within +/-{margin:g}" if equivalent else "not shown",
    }  # fmt: skip


def _exact(count: int, n: int) -> dict[str, Any]:
    """An exact (Clopper-Pearson) Proportion, from the beta quantiles, with the rule of three at 0."""
    lo = 0.0 if count == 0 else float(stats.beta.ppf(0.025, count, n - count + 1))
    hi = 1.0 if count == n else float(stats.beta.ppf(0.975, count + 1, n - count))
    out = {
        "count": count,
        "n": n,
        "rate": count / n,
        "ci": [lo, hi],
        "suppressed": False,
        "interval": "clopper-pearson",
    }
    return out | ({"rule_of_three": 3 / n} if count == 0 else {})


def _prop(count: int | None, n: int | None) -> dict[str, Any]:
    """A Proportion; counts 1..K-1 are passed as None by the caller (suppressed)."""
    if count is None or n is None:
        return {"count": None, "n": n, "rate": None, "ci": None, "suppressed": True}
    if n == 0:
        return {"count": count, "n": n, "rate": None, "ci": None, "suppressed": False}
    lo, hi = _wilson(count, n)
    return {"count": count, "n": n, "rate": count / n, "ci": [lo, hi], "suppressed": False}


def _tci(mean: float, sd: float, n: int) -> list[float]:
    h = stats.t.ppf(0.975, n - 1) * sd / math.sqrt(n)
    return [mean - h, mean + h]


def _label(dz: float) -> str:
    a = abs(dz)
    return "negligible" if a < 0.2 else "small" if a < 0.5 else "medium" if a < 0.8 else "large"


def _hetero(counts: list[tuple[int, int]]) -> dict[str, Any]:
    table = [[c, n - c] for c, n in counts]
    chi2, p, df, _ = stats.chi2_contingency(table, correction=False)
    return {"statistic": float(chi2), "df": int(df), "p": float(p), "test": "chi-square"}


PROTOCOL: dict[str, Any] = {
    "title": "At-home ketamine-assisted therapy for burnout",
    "scoring": {"max_missing_items": 1},
    "eligibility": {"exhaustion_min": 4.8, "cynicism_min": 3.8, "efficacy_max": 4.3},
    "schedule": {"sessions": 6, "assessments": [0, 2, 4, 6]},
    "response": {"min_change": 1.0},
    "profiles": {
        "method": "zscore",
        "reference": "baseline",
        "exhaustion": 0.0,
        "cynicism": 0.0,
        "professional_efficacy": -0.5,
        "norms": None,
    },
    "subgroups": {"age_bands": [18, 35, 50], "by": ["age_band", "sex", "route", "pathway"]},
    "privacy": {"min_cell_count": K},
    "analysis": {"seed": 20240917, "confidence": 0.95},
    "sha256": "3f2a9c41b0d6e1f75a8c2b94d07e6f13a5c8b2e4d91f0a6c7b3e5d2f8a1c4b96",
}

# (mean, sd) per timepoint; change sd per follow-up
MEANS = {
    "exhaustion": [(5.57, 0.52), (4.95, 0.98), (4.32, 1.21), (4.09, 1.38)],
    "cynicism": [(4.89, 0.91), (4.38, 1.12), (3.98, 1.29), (3.82, 1.40)],
    "professional_efficacy": [(3.78, 0.97), (3.98, 1.02), (4.06, 1.05), (4.03, 1.08)],
}
CHANGE_SD = {
    "exhaustion": [1.05, 1.30, 1.42],
    "cynicism": [1.08, 1.27, 1.35],
    "professional_efficacy": [0.95, 1.02, 1.06],
}

# transitions first -> last: rows from, columns to (order PROFILES); * marks secrets
TRANSITIONS = {
    "burnout": [17, 12, 11, 8, 23],
    "overextended": [0, 45, 14, 16, 75],
    "disengaged": [0, 13, 15, 12, 45],
    "ineffective": [0, 0, 0, 15, 7],
    "engaged": [0, 0, 7, 17, 43],
}
PROFILE_COUNTS = {
    "0": [71, 150, 85, 22, 67],
    "2": [52, 118, 71, 8, 146],
    "4": [30, 88, 58, 54, 165],
    "6": [17, 70, 47, 68, 193],
}

# subgroup level -> n and responders per outcome (E, C, PE, at_least_1)
SUBGROUPS: dict[str, dict[str, tuple[int, int, int, int, int]]] = {
    "age_band": {
        "18-34": (99, 57, 51, 24, 70),
        "35-49": (170, 93, 82, 47, 119),
        "50+": (118, 62, 55, 30, 80),
        "unknown": (8, 7, 5, 3, 6),
    },
    "sex": {
        "female": (214, 121, 104, 60, 150),
        "male": (170, 91, 81, 44, 117),
        "unknown": (11, 7, 8, 0, 8),
    },
    "route": {
        "sublingual": (250, 141, 120, 64, 176),
        "subcutaneous": (145, 78, 73, 40, 99),
    },
    "pathway": {
        "burnout": (180, 99, 86, 46, 124),
        "depression": (120, 66, 60, 33, 84),
        "general": (95, 54, 47, 25, 67),
    },
}


def make_results(
    *,
    synthetic: bool = True,
    extensions: bool = True,
    table1: bool = True,
) -> tuple[dict[str, Any], list[Secret]]:
    """A results tree for 2,710 patients, 1,642 meeting the threshold, 395 completers.

    Parameters
    ----------
    synthetic
        ``meta.synthetic``.
    extensions
        Include ``itt``, ``phq9``, ``reliable_change``, ``reliability`` and
        ``attrition.baseline_smd`` (results.md, second half).
    table1
        Include ``attrition.table1``.
    """
    secrets: list[Secret] = []
    n = 395

    def hide(path: tuple[str, ...], value: int) -> None:
        assert value in SECRET_VALUES, value
        secrets.append(Secret(path, value))

    # flow: no_baseline is small and hidden, nothing else is (not complementary, on purpose)
    exclusions = {"no_baseline": 7, "below_threshold": 1061, "missed_sessions": 987, "missed_assessment": 260}
    hide(("flow", "exclusions", "no_baseline"), 7)
    flow = {
        "patients": 2710,
        "threshold_met": 1642,
        "completers": n,
        "completion": _prop(n, 1642),
        "exclusions": {k: (None if v < K else v) for k, v in exclusions.items()},
    }

    subscales: dict[str, Any] = {}
    responses = {"exhaustion": 219, "cynicism": 193, "professional_efficacy": 104}
    for s in SUBSCALES:
        tps: dict[str, Any] = {}
        base = MEANS[s][0][0]
        for i, t in enumerate(TIMEPOINTS):
            mean, sd = MEANS[s][i]
            e: dict[str, Any] = {"n": n, "mean": mean, "sd": sd, "ci": _tci(mean, sd, n)}
            if i:
                ch = mean - base
                csd = CHANGE_SD[s][i - 1]
                tstat = ch / (csd / math.sqrt(n))
                dz = ch / csd
                se = math.sqrt(1 / n + dz * dz / (2 * n))
                e |= {
                    "change": ch,
                    "change_sd": csd,
                    "change_ci": _tci(ch, csd, n),
                    "percent_change": 100 * ch / base,
                    "t": tstat,
                    "df": n - 1,
                    "p": float(2 * stats.t.sf(abs(tstat), n - 1)),
                    "effect_size": {
                        "dz": dz,
                        "ci": [dz - 1.96 * se, dz + 1.96 * se],
                        "label": _label(dz),
                        "method": "noncentral t",
                        "d_av": ch / ((MEANS[s][0][1] + sd) / 2),
                    },
                    "improved": ch * (1 if s == "professional_efficacy" else -1) > 0,
                }
            tps[t] = e
        plateau_diff = MEANS[s][3][0] - MEANS[s][2][0]
        sd_pl = 0.8
        tpl = plateau_diff / (sd_pl / math.sqrt(n))
        ppl = float(2 * stats.t.sf(abs(tpl), n - 1))
        subscales[s] = {
            "timepoints": tps,
            "response": _prop(responses[s], n),
            "plateau": {
                "from": "4",
                "to": "6",
                "mean_difference": plateau_diff,
                "ci": _tci(plateau_diff, sd_pl, n),
                "t": tpl,
                "df": n - 1,
                "p": ppl,
                "test": "paired t",
                "plateaued": bool(ppl >= 0.05 or plateau_diff * (1 if s == "professional_efficacy" else -1) <= 0),
                "equivalence": _tost(plateau_diff, sd_pl, n, 0.2),
            },
        }

    responders = {"at_least_1": _prop(275, n), "at_least_2": _prop(182, n), "all_3": _prop(59, n)}
    comparison = {
        "cochran_q": {"statistic": 96.43, "df": 2, "p": 1.15e-21},
        "mcnemar": {
            "exhaustion|cynicism": {"statistic": 3.56, "p": 0.0592, "p_holm": 0.0592, "test": "mcnemar-chi-square"},
            "exhaustion|professional_efficacy": {
                "statistic": 71.2,
                "p": 3.2e-17,
                "p_holm": 9.6e-17,
                "test": "mcnemar-chi-square",
            },
            "cynicism|professional_efficacy": {
                "statistic": 48.9,
                "p": 2.7e-12,
                "p_holm": 5.4e-12,
                "test": "mcnemar-chi-square",
            },
        },
    }
    below = {"0": _prop(0, n), "2": _prop(121, n), "4": _prop(203, n), "6": _prop(235, n)}

    profiles: dict[str, Any] = {}
    for t, counts in PROFILE_COUNTS.items():
        row = {}
        for p, c in zip(PROFILES, counts, strict=True):
            if 0 < c < K:
                hide(("profiles", t, p, "count"), c)
                row[p] = _prop(None, n)
            else:
                row[p] = _prop(c, n)
        profiles[t] = row
    matrix: dict[str, dict[str, int | None]] = {}
    for fp, counts in TRANSITIONS.items():
        matrix[fp] = {}
        for tp, c in zip(PROFILES, counts, strict=True):
            if 0 < c < K:
                hide(("profiles", "transitions", "counts", fp, tp), c)
                matrix[fp][tp] = None
            else:
                matrix[fp][tp] = c
    profiles["transitions"] = {"from": "0", "to": "6", "counts": matrix}
    profiles["burnout_at_baseline"] = 71
    profiles["burnout_resolved"] = _prop(54, 71)
    profiles["burnout_to_engaged"] = _prop(23, 71)
    profiles["cutoffs"] = {
        "method": "zscore",
        "reference": "baseline",
        "raw": {"exhaustion": 5.57, "cynicism": 4.89, "professional_efficacy": 3.295},
        "description": "exhaustion z >= 0 (raw >= 5.570), cynicism z >= 0 (raw >= 4.890), "
        "professional_efficacy z <= -0.5 (raw <= 3.295)",
    }

    side_effects: dict[str, Any] = {"2": _prop(17, n), "4": _prop(14, n), "6": _prop(16, n)}
    side_effects["serious_adverse_events"] = _prop(0, n * 6)

    subgroups: dict[str, Any] = {}
    outcomes = (*SUBSCALES, "at_least_1")
    for var, levels in SUBGROUPS.items():
        out: dict[str, Any] = {}
        for level, (ln, *counts) in levels.items():
            level_hidden = 0 < ln < K
            if level_hidden:
                hide(("subgroups", var, level, "n"), ln)
            entry: dict[str, Any] = {"n": None if level_hidden else ln}
            for o, c in zip(outcomes, counts, strict=True):
                if level_hidden:
                    entry[o] = _prop(None, None)
                elif 0 < c < K:
                    hide(("subgroups", var, level, o, "count"), c)
                    entry[o] = _prop(None, ln)
                else:
                    entry[o] = _prop(c, ln)
            out[level] = entry
        out["heterogeneity"] = {
            o: _hetero([(cs[i], cs[0]) for cs in levels.values()]) for i, o in enumerate(outcomes, start=1)
        }
        subgroups[var] = out

    tree: dict[str, Any] = {
        "schema_version": 1,
        "meta": {
            "tool": "burnout",
            "version": "0.1.0",
            "synthetic": synthetic,
            "data_fingerprint": "sha256:c0ffee2b1d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8",
            "backend": "duckdb",
        },
        "protocol": copy.deepcopy(PROTOCOL),
        "flow": flow,
        "subscales": subscales,
        "responders": responders,
        "comparison": comparison,
        "below_threshold": below,
        "profiles": profiles,
        "side_effects": side_effects,
        "safety": {
            "population": "patients with at least one session delivered",
            "patients": 1500,
            "sessions": 5400,
            "serious_adverse_events": {"patients": _exact(0, 1500), "sessions": _exact(0, 5400), "primary": "patients"},
            "side_effects": {"2": _exact(60, 1200), "4": _exact(30, 800), "6": _exact(20, 600)},
            "interval": "clopper-pearson",
        },
        "subgroups": subgroups,
        "warnings": ["12 assessments at unscheduled timepoints were ignored (after_session not in the plan)"],
    }
    attrition: dict[str, Any] = {}
    if table1:
        attrition["early_change"] = {
            "from": "0",
            "to": "2",
            **{
                s: {
                    "completers": {"n": n, "mean": mc, "sd": 0.85},
                    "non_completers": {"n": 663, "mean": mn, "sd": 0.75},
                    "smd": (mc - mn) / ((0.85**2 + 0.75**2) / 2) ** 0.5,
                }
                for s, mc, mn in zip(SUBSCALES, (-0.64, -0.50, 0.20), (-0.40, -0.17, 0.04), strict=True)
            },
        }
        nc = 1642 - n
        attrition["table1"] = {
            "age": {
                "label": "Age, years",
                "kind": "continuous",
                "completers": {"n": 390, "mean": 42.1, "sd": 10.4},
                "non_completers": {"n": 1230, "mean": 40.6, "sd": 11.2},
                "smd": 0.139,
            },
            "female": {
                "label": "Female",
                "kind": "binary",
                "completers": _prop(214, 395),
                "non_completers": _prop(640, nc),
                "smd": 0.023,
            },
            "route_subcutaneous": {
                "label": "Subcutaneous route",
                "kind": "binary",
                "completers": _prop(145, 395),
                "non_completers": _prop(None, nc),
                "smd": None,
            },
            **{
                s: {
                    "label": f"{s.replace('_', ' ').capitalize()} at baseline",
                    "kind": "continuous",
                    "completers": {"n": n, "mean": MEANS[s][0][0], "sd": MEANS[s][0][1]},
                    "non_completers": {"n": nc, "mean": MEANS[s][0][0] + d, "sd": MEANS[s][0][1] * 1.05},
                    "smd": -d / MEANS[s][0][1],
                }
                for s, d in zip(SUBSCALES, (0.04, 0.11, -0.06), strict=True)
            },
        }
    if extensions:
        attrition["baseline_smd"] = {
            "age": 0.139,
            "female": 0.023,
            "exhaustion": -0.077,
            "cynicism": -0.121,
            "professional_efficacy": 0.062,
        }
        # share of the 1,642 attending at least k sessions; at k = 1 the complement (8 attended
        # none) is small, so the Proportion is suppressed as privacy.suppress_proportion does
        reach_counts = {"1": 1642 - 8, "2": 1180, "3": 900, "4": 700, "5": 560, "6": 460}
        attrition["reach"] = {
            k: (_prop(None, 1642) if 1642 - c < K else _prop(c, 1642)) for k, c in reach_counts.items()
        }
        # completers / threshold met per level; the age band "unknown" has 8 completers and 4
        # non-completers, so it is hidden whole, with a complementary level, as results.py does
        completion = {
            "age_band": {"18-34": (99, 400), "35-49": (170, 790), "50+": (118, 440), "unknown": (8, 12)},
            "sex": {"female": (214, 880), "male": (170, 730), "unknown": (11, 32)},
            "route": {"sublingual": (250, 1150), "subcutaneous": (145, 492)},
            "pathway": {"burnout": (180, 800), "depression": (120, 500), "general": (95, 342)},
        }
        hidden_whole = {"count": None, "n": None, "rate": None, "ci": None, "suppressed": True}
        attrition["completion_by_subgroup"] = {}
        for var, levels in completion.items():
            hidden_levels = hide_jointly(
                [
                    {lv: n for lv, (_, n) in levels.items()},
                    {lv: c for lv, (c, _) in levels.items()},
                    {lv: n - c for lv, (c, n) in levels.items()},
                ],
                min_cell_count=K,
            )
            attrition["completion_by_subgroup"][var] = {
                level: (dict(hidden_whole) if level in hidden_levels else _prop(c, ln))
                for level, (c, ln) in levels.items()
            }
        hide(("attrition", "completion_by_subgroup", "age_band", "unknown", "count"), 8)
        mi_rates = {"exhaustion": 0.49, "cynicism": 0.43, "professional_efficacy": 0.24, "at_least_1": 0.66}
        mi = {
            o: {"rate": r, "ci": [r - 0.045, r + 0.045], "imputations": 50, "suppressed": False}
            for o, r in mi_rates.items()
        }
        observed = {"0": 1642, "2": 1050, "4": 611, "6": 460}
        tree["itt"] = {
            "threshold_met": 1642,
            "worst_case": {
                **{s: {"response": _prop(responses[s], 1642)} for s in SUBSCALES},
                "responders": {"at_least_1": _prop(275, 1642)},
            },
            "multiple_imputation": {
                **{s: {"response": mi[s]} for s in SUBSCALES},
                "responders": {"at_least_1": mi["at_least_1"]},
                "method": "chained equations, Bayesian linear regression imputation of every missing subscale score; "
                "m = 50 imputations; rates pooled by Rubin's rules on the logit scale",
            },
            "mixed_model": {
                **{
                    s: {
                        "timepoints": {
                            t: {
                                "mean": MEANS[s][i][0] + 0.05 * i,
                                "ci": [MEANS[s][i][0] + 0.05 * i - 0.09, MEANS[s][i][0] + 0.05 * i + 0.09],
                                "n": observed[t],
                                **(
                                    {
                                        "change": MEANS[s][i][0] - MEANS[s][0][0] + 0.05 * i,
                                        "change_ci": [
                                            MEANS[s][i][0] - MEANS[s][0][0] + 0.05 * i - 0.06,
                                            MEANS[s][i][0] - MEANS[s][0][0] + 0.05 * i + 0.06,
                                        ],
                                    }
                                    if i
                                    else {}
                                ),
                            }
                            for i, t in enumerate(TIMEPOINTS)
                        },
                        "patients": 1642,
                        "observations": sum(observed.values()),
                        "variance": {"between_patients": 0.41, "within_patient": 0.36},
                        "method": "REML",
                    }
                    for s in SUBSCALES
                },
                "assumptions": "Linear mixed model per subscale with a random intercept per patient, fitted by REML; "
                "missing assessments are assumed missing at random (MAR).",
            },
        }
        tree["itt"]["mmrm"] = {
            **{
                s: {
                    "timepoints": {
                        t: {
                            "n": observed[t],
                            "mean": _contrast(MEANS[s][i][0] + 0.03 * i, 0.05, 800.0 - 20 * i),
                            **({"change": _contrast(MEANS[s][i][0] - MEANS[s][0][0] + 0.03 * i, 0.05, 750.0 - 20 * i)} if i else {}),
                        }
                        for i, t in enumerate(TIMEPOINTS)
                    },
                    "patients": 1642,
                    "observations": sum(observed.values()),
                    "sd": {t: 0.4 + 0.35 * i for i, t in enumerate(TIMEPOINTS)},
                    "correlation": [[1.0 if a == b else 0.5 for b in range(4)] for a in range(4)],
                    "converged": True,
                    "method": "REML, unstructured covariance, Kenward-Roger",
                }
                for s in SUBSCALES
            },
            "assumptions": "MMRM per subscale: unstructured covariance, REML, Kenward-Roger; missing at random (MAR).",
        }
        tree["itt"]["mmrm_tipping"] = {
            **{
                s: {
                    "timepoint": "6",
                    "dropout_share": 0.72,
                    "rows": [
                        {"delta": d, "change": c, "ci": [c - 0.1, c + 0.1], "includes_0": c - 0.1 <= 0 <= c + 0.1}
                        for d in (0.0, 0.5, 1.0, 1.5, 2.0)
                        for c in [tree["itt"]["mmrm"][s]["timepoints"]["6"]["change"]["estimate"] + GOOD[s] * -0.72 * d]
                    ],
                    "tipping_delta": 1.6,
                    "tipping_on_grid": 2.0,
                }
                for s in SUBSCALES
            },
            "delta_grid": [0.0, 0.5, 1.0, 1.5, 2.0],
            "method": "Delta-adjusted pattern-mixture sensitivity analysis; post-dropout scores delta points worse than MAR.",
        }
        tree["phq9"] = {
            "timepoints": {
                t: {"n": 352, "mean": m, "sd": sd}
                for t, m, sd in zip(TIMEPOINTS, (15.2, 12.1, 10.4, 9.8), (4.9, 5.6, 6.0, 6.3), strict=True)
            },
            "response": _prop(128, 301),
            "remission": _prop(61, 301),
            "adjusted": {
                s: {
                    "intercept": b0,
                    "intercept_ci": [b0 - 0.12, b0 + 0.12],
                    "slope": b1,
                    "slope_ci": [b1 - 0.02, b1 + 0.02],
                    "n": 352,
                }
                for s, b0, b1 in zip(SUBSCALES, (-0.91, -0.62, 0.15), (0.11, 0.09, -0.03), strict=True)
            },
        }
        tree["reliable_change"] = {
            s: {
                "improved": _prop(i, n),
                "deteriorated": _prop(None if d < K else d, n),
                "sd": sd,
                "reliability": rel,
                "source": "reliability: a published test-retest study; SD: this cohort",
                "se_difference": sd * math.sqrt(2 * (1 - rel)),
                "critical_change": 1.96 * sd * math.sqrt(2 * (1 - rel)),
            }
            for s, i, d, sd, rel in zip(
                SUBSCALES, (171, 139, 52), (12, 14, 8), (0.92, 0.81, 1.16), (0.65, 0.6, 0.67), strict=True
            )
        }
        secrets.append(Secret(("reliable_change", "professional_efficacy", "deteriorated", "count"), 8))
        tree["regression_to_mean"] = {
            s: {
                "reference_mean": ref,
                "reference_sd": sd,
                "selected_mean": sel,
                "rho": rho,
                "expected_change": -(1 - rho) * (sel - ref),
                "observed_change": obs,
                "share_of_observed_change": -(1 - rho) * (sel - ref) / obs,
                "expected_response_rate": exp_resp,
                "rho_range": {
                    "low": {"rho": 0.5, "expected_change": -0.5 * (sel - ref)},
                    "high": {"rho": 0.8, "expected_change": -0.2 * (sel - ref)},
                },
                "source": "a published test-retest study",
            }
            for s, ref, sd, sel, rho, obs, exp_resp in zip(
                SUBSCALES,
                (5.07, 4.68, 4.05),
                (0.92, 0.81, 1.16),
                (5.59, 4.87, 3.80),
                (0.65, 0.6, 0.67),
                (-1.50, -1.06, 0.27),
                (0.126, 0.094, 0.166),
                strict=True,
            )
        }
        tree["regression_to_mean"]["model"] = "bivariate normal"
        tree["reliability"] = {
            s: {t: {"alpha": a + 0.01 * i} for i, t in enumerate(TIMEPOINTS)}
            for s, a in zip(SUBSCALES, (0.86, 0.81, 0.78), strict=True)
        }
    if attrition:
        tree["attrition"] = attrition
    return tree, secrets


def pipeline_results(
    workdir: Any, *, threshold_met: int | None = 400, seed: int = 20240917
) -> tuple[dict[str, Any], Any, Any]:
    """The real thing: simulate a cohort, run ``analyze`` with ``out``, return (tree, cohort_dir, out_dir).

    ``analyze(..., out=...)`` writes results.json and the report itself (through
    ``write_outputs``), so the report under test is the one users get.
    """
    from pathlib import Path

    from burnout.analysis import analyze
    from burnout.simulate import simulate_cohort, write_cohort

    workdir = Path(workdir)
    cohort_dir, out_dir = workdir / "cohort", workdir / "out"
    write_cohort(simulate_cohort(threshold_met=threshold_met, seed=seed), cohort_dir)
    result = analyze(cohort_dir, out=out_dir, synthetic=True)
    return result.results, cohort_dir, out_dir
