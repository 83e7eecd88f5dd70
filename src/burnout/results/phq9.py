"""Beyond the reference study: intention to treat, PHQ-9, reliable change and reliability. (results.phq9)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from burnout import privacy
from burnout import stats as est
from burnout.instrument import SCALE
from burnout.scoring import PHQ9_SCALE

if TYPE_CHECKING:
    from burnout.plan import Protocol
from burnout.measures._aggregates import Moments
from burnout.measures.phq9 import PHQ9_REMISSION_BELOW, PHQ9_RESPONSE_MIN_BASELINE, Phq9Measures
from burnout.results.primary import mbi_gs_primary

__all__ = ["paired_timepoints", "phq9_results"]


def paired_timepoints(
    timepoints: Mapping[int, Moments],
    changes: Mapping[int, Moments],
    first: int,
    pub: privacy.Publisher,
    shown: Callable[[int], bool],
    *,
    scale: int,
    confidence: float,
) -> dict[str, Any]:
    """``timepoints.<t>``: n, mean, sd and after ``first`` the mean change with its CI and dz,
    from exact moments in units of ``1/scale`` point; hidden when ``shown(n)`` is false."""
    out: dict[str, Any] = {}
    for t, mo in timepoints.items():
        if not shown(mo.n):
            pub.note("statistic")
            entry: dict[str, Any] = {"n": None, "mean": None, "sd": None}
        else:
            ms = est.mean_summary(mo.n, mo.total, mo.total_sq, scale=scale, confidence=confidence)
            entry = {"n": ms.n, "mean": ms.mean, "sd": ms.sd}
        if t != first:
            ch = changes[t]
            if not shown(ch.n) or ch.n == 0:
                entry |= {"change": None, "change_ci": None, "effect_size": None}
            else:
                pc = est.paired_change(ch.n, ch.total, ch.total_sq, scale=scale, confidence=confidence)
                entry |= {
                    "change": pc.mean,
                    "change_ci": None if pc.ci is None else [pc.ci[0], pc.ci[1]],
                    "effect_size": pc.effect_size_json(),
                }
        out[str(t)] = entry
    return out


def phq9_results(
    pm: Phq9Measures,
    protocol: Protocol,
    *,
    publisher: privacy.Publisher | None = None,
    population: int | None = None,
    population_published: bool = True,
) -> dict[str, Any]:
    """The ``phq9`` branch from :func:`collect_phq9`'s aggregates (totals in points, 0-27).

    ``timepoints.<t>``: ``n``, ``mean``, ``sd``, and after the first assessment the
    mean ``change`` with its CI and ``effect_size`` (dz with noncentral-t CI, from
    ``estimates.paired_change``), among patients with a total at the first assessment
    and at t. ``response``, ``remission``: Proportions. ``adjusted.<s>``: OLS of the
    subscale change (points) on the PHQ-9 change (points), and
    ``subscale_responders_not_phq9_responders``: for the MBI-GS primary only. A count below the plan's
    ``min_cell_count`` hides the statistics computed on it.

    ``population`` is the size of the population (the completers' count) when it is
    published: an n whose complement in it (patients without the totals) is small is
    hidden with every statistic beside it (the change's CI and dz would give n back).
    ``population_published`` False (its size is hidden) withholds every statistic.
    """
    pub = publisher if publisher is not None else privacy.Publisher.for_plan(protocol)
    conf = protocol.analysis.confidence

    def shown(n: int) -> bool:
        return pub.enough_of(n, population, total_published=population_published)

    timepoints = paired_timepoints(pm.timepoints, pm.changes, pm.first, pub, shown, scale=PHQ9_SCALE, confidence=conf)
    out: dict[str, Any] = {
        "population": pm.population,
        "timepoints": timepoints,
        "response": pub.prop(*pm.response, n_published=shown(pm.response[1])),
        "remission": pub.prop(*pm.remission, n_published=shown(pm.remission[1])),
    }
    definitions = {
        "response": f"PHQ-9 total fell by at least 50% from the first to the last assessment, among "
        f"{pm.population} with a first total >= {PHQ9_RESPONSE_MIN_BASELINE} and a last total",
        "remission": f"last PHQ-9 total < {PHQ9_REMISSION_BELOW}, same denominator",
    }
    if mbi_gs_primary(protocol):  # else the MBI-GS subscales are not analysed (results.primary)
        out["adjusted"] = _adjusted(pm, pub, shown, confidence=conf)
        out["subscale_responders_not_phq9_responders"] = _not_phq9_responders(pm, pub, population_published)
        definitions["subscale_responders_not_phq9_responders"] = (
            "share of the subscale's responders who were not PHQ-9 responders, within the PHQ-9 response denominator"
        )
    return out | {"definitions": definitions}


def _not_phq9_responders(pm: Phq9Measures, pub: privacy.Publisher, population_published: bool) -> dict[str, Any]:
    """``subscale_responders_not_phq9_responders.<s>``: with the subscale's responders, the PHQ-9
    response margins and the completers, the count and its n give back every cell of subscale
    response x PHQ-9 status (e.g. subscale responders outside the PHQ-9 denominator = R - n):
    withheld, n too, when any of those cells is small."""
    out: dict[str, Any] = {}
    for s, (count, n) in pm.subscale_not_phq9.items():
        small_cell = any(pub.small(c) for c in pm.subscale_cells[s].values())
        out[s] = pub.prop(count, n, n_published=population_published and not small_cell)
    return out


def _adjusted(
    pm: Phq9Measures, pub: privacy.Publisher, shown: Callable[[int], bool], *, confidence: float
) -> dict[str, Any]:
    """``adjusted.<s>``: OLS of the subscale change on the PHQ-9 change, withheld over too few patients."""
    adjusted: dict[str, Any] = {}
    for s, cm in pm.adjusted.items():
        if not shown(cm.n):
            pub.note("statistic")
            adjusted[s] = {"intercept": None, "intercept_ci": None, "slope": None, "slope_ci": None, "n": None}
            continue
        fit = est.ols_from_moments(
            cm.n, cm.sx, cm.sy, cm.sxx, cm.syy, cm.sxy, x_scale=PHQ9_SCALE, y_scale=SCALE, confidence=confidence
        )
        adjusted[s] = fit.to_json()
    return adjusted
