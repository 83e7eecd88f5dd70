"""The MMRM (primary longitudinal model) and its delta-adjusted tipping point. (results.mmrm).

``itt.mmrm.<s>``: per-visit model means and change from baseline with Kenward-Roger df
and t intervals; ``itt.mmrm_tipping.<s>``: the change to the last assessment when the
post-dropout scores are worse than MAR predicts by ``delta`` points, on the plan's grid.
Every number passes the publisher: a visit's mean and change are withheld when fewer than
k patients were scored there; the whole model when the threshold-met count is hidden or
small; a tipping table when the count of patients missing at the last assessment is.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Final

from burnout import privacy
from burnout.instrument import GOOD_DIRECTION, SCALE, SUBSCALES, Subscale
from burnout.stats import MMRM, Contrast

if TYPE_CHECKING:
    from burnout.measures.extended import BeyondMeasures
    from burnout.plan import Protocol

__all__ = ["MMRM_ASSUMPTIONS", "TIPPING_METHOD", "fit_mmrm", "mmrm_results", "tipping_results"]

MMRM_ASSUMPTIONS: Final[str] = (
    "Mixed model for repeated measures (MMRM; Mallinckrodt et al. 2008) per subscale on every scheduled "
    "assessment of every patient who met the threshold: a fixed mean per assessment (visit as a categorical "
    "factor) and an unstructured covariance (each assessment its own variance, each pair its own correlation; "
    "Jennrich & Schluchter 1986), fitted by restricted maximum likelihood (REML). Intervals are t intervals with "
    "Kenward-Roger (1997) degrees of freedom and small-sample adjusted standard errors. Missing assessments are "
    "assumed missing at random (MAR): whether a score is missing may depend on the patient's observed scores but "
    "not on the missing score itself; the tipping-point table shows how far from MAR the conclusion survives. "
    "The primary longitudinal model; the random-intercept model (itt.mixed_model) is a sensitivity analysis."
)

TIPPING_METHOD: Final[str] = (
    "Delta-adjusted pattern-mixture sensitivity analysis (Ratitch, O'Kelly & Tosiello 2013; Carpenter, Roger & "
    "Kenward 2013): the scores a patient would have had after dropping out (missing at an assessment and at every "
    "later one) are taken to be delta points worse than the MMRM's MAR prediction (higher exhaustion and cynicism, "
    "lower professional efficacy), once per assessment (not compounded). For the unstructured MMRM the adjusted "
    "change equals the MAR change moved by delta x the share of patients who dropped out before the last "
    "assessment, with the MAR standard error and Kenward-Roger df (the dropout share taken as fixed). The tipping "
    "point is the smallest delta at which the interval of the change includes 0 (no improvement shown)."
)


def fit_mmrm(bm: BeyondMeasures, protocol: Protocol) -> dict[str, MMRM | str]:
    """The MMRM of each subscale, or the reason it could not be fitted."""
    out: dict[str, MMRM | str] = {}
    for s in SUBSCALES:
        try:
            out[s] = MMRM(confidence=protocol.analysis.confidence).fit(bm.mixed[s], scale=SCALE)
        except (ValueError, ArithmeticError) as exc:  # numpy's LinAlgError is a ValueError
            out[s] = str(exc)
    return out


def visit_counts(
    pub: privacy.Publisher, bm: BeyondMeasures, subscale: str, *, whole: bool
) -> tuple[list[int], list[bool]]:
    """Per visit, a model's n (patients with a score there) and whether it is hidden; each hidden
    n is noted. Hidden beside the published threshold-met total and completers: n - completers
    is the non-completers scored at that visit (attrition's early change hides it when small),
    n_all - n those not scored."""
    patterns = bm.mixed[subscale]
    observed = [sum(p.patients for p in patterns if p.pattern[j]) for j in range(len(bm.timepoints))]
    n_all, done = bm.threshold_met, bm.completers
    hidden = [not whole or pub.small(o) or pub.small(n_all - o) or pub.small(o - done) for o in observed]
    if any(hidden):
        pub.note("statistic", sum(hidden))
    return observed, hidden


def _contrast(c: Contrast | None) -> dict[str, Any]:
    if c is None:
        return {"estimate": None, "se": None, "df": None, "ci": None}
    return {"estimate": c.estimate, "se": c.se, "df": c.df, "ci": [c.ci[0], c.ci[1]]}


def _visits(bm: BeyondMeasures, fit: MMRM | None, shown: list[bool], ns: list[int | None]) -> dict[str, Any]:
    """Per visit: n, the model mean and (after baseline) the change from baseline; None where withheld."""
    tps: dict[str, Any] = {}
    for j, t in enumerate(bm.timepoints):
        ok = fit is not None and shown[j] and not math.isnan(fit.means_[j])
        tp: dict[str, Any] = {"n": ns[j], "mean": _contrast(fit.mean(j) if ok and fit is not None else None)}
        if j != 0:
            both = ok and shown[0] and fit is not None and not math.isnan(fit.means_[0])
            tp["change"] = _contrast(fit.change(j) if both and fit is not None else None)
        tps[str(t)] = tp
    return tps


def mmrm_results(
    bm: BeyondMeasures, fits: dict[str, MMRM | str], pub: privacy.Publisher, itt_shown: bool
) -> dict[str, Any]:
    """``itt.mmrm``: per subscale and visit the model mean and the change from baseline.

    A visit's n is hidden when it or its complement (threshold-met patients without a
    score there) is small; its mean and change are withheld when fewer than k patients
    were scored there (or at baseline); the observation count when any n is hidden.
    """
    n_all = bm.threshold_met
    whole = itt_shown and pub.enough(n_all)
    out: dict[str, Any] = {}
    for s in SUBSCALES:
        observed, hidden_n = visit_counts(pub, bm, s, whole=whole)
        fit = fits[s]
        model = fit if isinstance(fit, MMRM) else None
        shown = [whole and pub.enough(o) for o in observed]
        ns = [None if h else o for h, o in zip(hidden_n, observed, strict=True)]
        entry: dict[str, Any] = {"timepoints": _visits(bm, model, shown, ns)}
        if model is not None:
            entry["patients"] = pub.count(model.patients_, hide=not whole or pub.small(n_all - model.patients_))
            entry["observations"] = pub.count(model.observations_, hide=not whole or any(hidden_n))
            sd = [math.sqrt(model.sigma_[i, i]) for i in range(len(model.estimable_))]
            entry["sd"] = {
                str(bm.timepoints[t]): (v if whole else None) for t, v in zip(model.estimable_, sd, strict=True)
            }
            corr = [
                [1.0 if a == b else float(model.sigma_[a, b] / (sd[a] * sd[b])) for b in range(len(sd))]
                for a in range(len(sd))
            ]
            entry["correlation"] = corr if whole else None
            entry["converged"] = model.converged_
        else:
            entry["problem"] = str(fit)
        entry["method"] = "REML, unstructured covariance, Kenward-Roger"
        out[s] = entry
    out["assumptions"] = MMRM_ASSUMPTIONS
    return out


def tipping_results(
    bm: BeyondMeasures,
    fits: dict[str, MMRM | str],
    protocol: Protocol,
    pub: privacy.Publisher,
    itt_shown: bool,
) -> dict[str, Any]:
    """``itt.mmrm_tipping``: the change to the last assessment on the delta grid and the tipping point."""
    grid = tuple(float(d) for d in protocol.sensitivity.delta_grid)
    last = len(bm.timepoints) - 1
    out: dict[str, Any] = {}
    for s in SUBSCALES:
        fit = fits[s]
        n_last = sum(p.patients for p in bm.mixed[s] if p.pattern[last])
        n_base = sum(p.patients for p in bm.mixed[s] if p.pattern[0])
        ok = (
            isinstance(fit, MMRM)
            and itt_shown
            and pub.enough(bm.threshold_met)
            and pub.enough(n_last)
            and pub.enough(n_base)
            and not pub.small(bm.threshold_met - n_last)
            and last > 0
            and n_last > 0
            and n_base > 0
        )
        if not ok or not isinstance(fit, MMRM):
            pub.note("statistic")
            out[s] = {"timepoint": str(bm.timepoints[last]), "dropout_share": None, "rows": [], "tipping_delta": None}
            continue
        out[s] = _tipping(fit, s, last, grid) | {"timepoint": str(bm.timepoints[last])}
    # the grid is the plan's, but a grid beside no published row is a number about nobody
    out["delta_grid"] = list(grid) if any(out[s]["rows"] for s in SUBSCALES) else None
    out["method"] = TIPPING_METHOD
    return out


def _tipping(fit: MMRM, s: Subscale, last: int, grid: tuple[float, ...]) -> dict[str, Any]:
    """Rows on the grid and the exact tipping delta (None when the MAR interval lies on the worse side)."""
    good = GOOD_DIRECTION[s]
    share = fit.dropout_share(last)
    rows = []
    for d in grid:
        c = fit.delta_adjusted_change(last, -good * d)
        rows.append({"delta": d, "change": c.estimate, "ci": [c.ci[0], c.ci[1]], "includes_0": c.ci[0] <= 0 <= c.ci[1]})
    mar = fit.change(last)
    nearest = mar.ci[1] if good < 0 else mar.ci[0]  # the interval's end nearest to "no change"
    margin = good * nearest  # > 0: an improvement shown under MAR
    if mar.ci[0] <= 0 <= mar.ci[1]:
        tip: float | None = 0.0
    elif margin > 0 and share > 0:
        tip = margin / share
    else:
        tip = None
    first = next((r["delta"] for r in rows if r["includes_0"]), None)
    return {"dropout_share": share, "rows": rows, "tipping_delta": tip, "tipping_on_grid": first}
