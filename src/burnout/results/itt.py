"""Beyond the reference study: intention to treat, PHQ-9, reliable change and reliability. (results.itt)."""

from __future__ import annotations

from fractions import Fraction
from typing import TYPE_CHECKING, Any, Final

import numpy as np

from burnout import privacy
from burnout import stats as est
from burnout.instrument import SCALE, SUBSCALES
from burnout.stats import ImputationSummary, RandomInterceptModel

if TYPE_CHECKING:
    from burnout.plan import Protocol
from burnout.measures.extended import ITERATIONS, MI_MAX_PATIENTS, BeyondMeasures
from burnout.results.estimand import TIPPING_METHOD, mi_estimand
from burnout.results.mmrm import fit_mmrm, mmrm_results, tipping_results, visit_counts

__all__ = ["MIXED_MODEL_ASSUMPTIONS"]

MIXED_MODEL_ASSUMPTIONS: Final[str] = (
    "Linear mixed model per subscale on every scheduled assessment of every patient who met the "
    "threshold (completers and non-completers): a fixed mean per timepoint (time as a categorical "
    "factor), a normal random intercept per patient and independent normal residuals with the same "
    "variance at every timepoint (so any two assessments of a patient are equally correlated), "
    "fitted by restricted maximum likelihood (REML). Missing assessments are assumed missing at "
    "random (MAR): whether a score is missing may depend on the patient's observed scores (and "
    "the model's terms) but not on the missing score itself; if patients dropped out because they "
    "were not improving in ways their earlier scores do not show, the means are too optimistic. "
    "Intervals are Wald intervals given the estimated variance components. A sensitivity analysis: the "
    "primary longitudinal model is the MMRM with an unstructured covariance (itt.mmrm)."
)

_OUTCOMES = (*SUBSCALES, "at_least_1")


def _itt(bm: BeyondMeasures, protocol: Protocol, pub: privacy.Publisher, shown: dict[str, bool]) -> dict[str, Any]:
    n = bm.threshold_met
    itt_shown = shown["threshold_met"]

    def worst_case(key: str, outcome: str) -> dict[str, Any]:
        # published beside the completers' responders, the count gives away the difference
        # (non-completers who responded): hidden when that is small or the completers' cell is
        count = bm.worst_case[outcome]
        completers = (bm.completer_responders or {}).get(outcome, count)
        hide = not shown.get(key, True) or pub.small(count - completers)
        return pub.prop(count, n, n_published=itt_shown, hide=hide)

    worst: dict[str, Any] = {s: {"response": worst_case(f"response_{s}", s)} for s in SUBSCALES}
    worst["responders"] = {"at_least_1": worst_case("at_least_1", "at_least_1")}
    fits = fit_mmrm(bm, protocol)
    # the MI rate at the largest delta can equal the worst case (every missing a responder):
    # same cell, same treatment, so a hidden worst case withholds the outcome's MI and tipping rates
    withheld = frozenset(s for s in SUBSCALES if worst[s]["response"]["suppressed"]) | (
        {"at_least_1"} if worst["responders"]["at_least_1"]["suppressed"] else set()
    )
    return {
        "threshold_met": pub.count(n, hide=not itt_shown),
        "worst_case": worst,
        "multiple_imputation": _multiple_imputation(bm, protocol, pub, itt_shown, withheld=withheld),
        "mmrm": mmrm_results(bm, fits, pub, itt_shown),  # primary longitudinal model
        "mmrm_tipping": tipping_results(bm, fits, protocol, pub, itt_shown),
        "mixed_model": _mixed_model(bm, protocol, pub, itt_shown),  # random intercept: sensitivity
    }


def _multiple_imputation(
    bm: BeyondMeasures, protocol: Protocol, pub: privacy.Publisher, itt_shown: bool, *, withheld: frozenset[str]
) -> dict[str, Any]:
    """The pooled MI rates and their tipping analysis; an outcome in ``withheld`` (its worst case
    hidden) has neither (its tipping rates follow the pooled rate, hidden with it)."""
    imp = bm.imputation
    out: dict[str, Any] = {}
    for o in _OUTCOMES:
        entry = (
            {"rate": None, "ci": None, "imputations": 0, "suppressed": False}
            if imp is None
            else _pooled(imp, o, pub, itt_shown and o not in withheld)
        )
        if o == "at_least_1":
            out["responders"] = {"at_least_1": entry}
        else:
            out[o] = {"response": entry}
    out["method"] = _mi_method(imp, bm.threshold_met, protocol)
    out["estimand"] = mi_estimand(protocol)
    # all of them when no sample was drawn: then it is threshold_met, hidden with it
    out["patients_imputed"] = None if imp is None else pub.count(imp.n, hide=not itt_shown)
    out["never_treated"] = (
        None
        if imp is None
        else pub.count(imp.fixed, hide=not itt_shown or pub.small(imp.fixed) or pub.small(imp.n - imp.fixed))
    )
    out["tipping"] = _tipping(imp, pub, itt_shown, out) if imp is not None else None
    if bm.imputation_problem is not None:
        out["problem"] = bm.imputation_problem
    return out


def _mi_method(imp: ImputationSummary | None, threshold_met: int, protocol: Protocol) -> str:
    """The imputation model in words (``itt.multiple_imputation.method``)."""
    m = imp.imputations if imp else protocol.imputation.m
    method = (
        "fully conditional specification (chained equations) with predictive mean matching "
        f"({imp.donors if imp else protocol.imputation.donors} donors; parameters drawn from their posterior): "
        "every missing subscale score of a patient who had at least one session takes the observed score of a "
        "patient with a similar predicted score, predicted from the other scores, sessions attended, age, sex, "
        "route, pathway and baseline PHQ-9 (when recorded; blank age and PHQ-9 mean-filled with a blank "
        f"indicator); m = {m} imputations of {imp.iterations if imp else ITERATIONS} iterations, seed "
        f"{protocol.analysis.seed}; patients who never had a session are not imputed and count as unchanged "
        "(see the estimand); response decided on integer scores, observed or imputed; rates pooled by Rubin's "
        "rules on the logit scale with Barnard-Rubin (1999) degrees of freedom"
    )
    if imp is not None and imp.n < threshold_met:
        method += (
            f"; imputed on a seeded simple random sample of {imp.n:,} of the {threshold_met:,} "
            f"threshold-met patients (at most {MI_MAX_PATIENTS:,}), so the CI carries the sample's precision"
        )
    return method


def _pooled(
    imp: ImputationSummary, outcome: str, pub: privacy.Publisher, itt_shown: bool, *, delta_index: int | None = None
) -> dict[str, Any]:
    """Rubin-pooled response rate (logit scale, Barnard-Rubin df with nu_com = n - 1); hidden when
    the average count (or its complement) is a small count, or when the number of patients it is
    over is hidden."""
    counts = imp.responders[outcome] if delta_index is None else imp.shifted[delta_index][outcome]
    mean_count = sum(counts) / len(counts)
    if not itt_shown or pub.small(imp.n) or 0 < mean_count < pub.k or 0 < imp.n - mean_count < pub.k:
        pub.note("statistic")
        return {"rate": None, "ci": None, "imputations": imp.imputations, "suppressed": True}
    pooled = est.pool_proportions(
        imp.rates(outcome, delta_index=delta_index),
        [imp.n] * imp.imputations,
        df_complete=imp.n - 1,
        confidence=pub.conf,
    )
    return pooled.to_json() | {"suppressed": False}


def _tipping(
    imp: ImputationSummary, pub: privacy.Publisher, itt_shown: bool, primary: dict[str, Any]
) -> dict[str, Any]:
    """The delta-adjusted (MNAR) response rates and each outcome's tipping point (TIPPING_METHOD)."""
    deltas = [float(Fraction(d, SCALE)) for d in imp.deltas]
    out: dict[str, Any] = {"deltas": deltas, "method": TIPPING_METHOD}
    for o in _OUTCOMES:
        entries = [_pooled(imp, o, pub, itt_shown, delta_index=i) for i in range(len(deltas))]
        ref = primary["responders"]["at_least_1"] if o == "at_least_1" else primary[o]["response"]
        hidden = any(e["suppressed"] for e in entries) or ref["ci"] is None
        low = None if hidden else ref["ci"][0]
        point = None
        if low is not None:
            point = next((d for d, e in zip(deltas, entries, strict=True) if e["rate"] < low), None)
        out[o] = {
            "rate": None if hidden else [e["rate"] for e in entries],
            "ci": None if hidden else [e["ci"] for e in entries],
            "tipping_point": point,
            "suppressed": hidden,
        }
    if all(out[o]["suppressed"] for o in _OUTCOMES):
        out["deltas"] = []  # nothing published: not even the grid (no float without a statistic)
    return out


def _mixed_model(bm: BeyondMeasures, protocol: Protocol, pub: privacy.Publisher, itt_shown: bool) -> dict[str, Any]:
    """Model means per timepoint over every threshold-met patient.

    A timepoint's n (patients with a score there) is a count of the family "with / without
    a score" under threshold_met: hidden when either is small; its mean and CI are withheld
    when fewer than k patients were observed there. The observation count is withheld
    when any n is (it is their sum); with threshold_met hidden or small the whole model
    (means, variances, counts) is withheld.
    """
    conf = protocol.analysis.confidence
    first_index = 0
    n_all = bm.threshold_met
    whole = itt_shown and pub.enough(n_all)
    out: dict[str, Any] = {}
    for s in SUBSCALES:
        patterns = bm.mixed[s]
        observed, n_hidden = visit_counts(pub, bm, s, whole=whole)
        ns = [None if hidden else o for hidden, o in zip(n_hidden, observed, strict=True)]
        entry: dict[str, Any]
        try:
            model = RandomInterceptModel(method="reml", confidence=conf).fit(patterns, scale=SCALE)
        except ValueError as exc:
            entry = {
                "timepoints": {str(t): {"mean": None, "ci": None, "n": ns[j]} for j, t in enumerate(bm.timepoints)},
                "problem": str(exc),
            }
            out[s] = entry
            continue
        tps: dict[str, Any] = {}
        for j, t in enumerate(bm.timepoints):
            mean = model.means_[j]
            show = whole and pub.enough(observed[j]) and not np.isnan(mean)
            tp: dict[str, Any] = {
                "mean": float(mean) if show else None,
                "ci": [float(model.ci_[j, 0]), float(model.ci_[j, 1])] if show else None,
                "n": ns[j],
            }
            if j != first_index:
                diff = model.difference(j, first_index) if show else None
                tp["change"] = None if diff is None else diff[0]
                tp["change_ci"] = None if diff is None else [diff[2][0], diff[2][1]]
            tps[str(t)] = tp
        out[s] = {
            "timepoints": tps,
            "patients": pub.count(model.patients_, hide=not whole or pub.small(n_all - model.patients_)),
            "observations": pub.count(model.observations_, hide=not whole or any(n_hidden)),
            "variance": (
                {"between_patients": model.tau2_, "within_patient": model.sigma2_}
                if whole
                else {"between_patients": None, "within_patient": None}
            ),
            "method": "REML",
        }
    out["assumptions"] = MIXED_MODEL_ASSUMPTIONS
    return out
