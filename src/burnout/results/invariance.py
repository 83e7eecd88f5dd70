"""Longitudinal measurement invariance (the ``measurement_invariance`` branch). (results.invariance)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from burnout import privacy
from burnout.instrument import SUBSCALES
from burnout.stats.invariance import DELTA_CFI_MAX, longitudinal_invariance

if TYPE_CHECKING:
    from burnout.measures.items import ItemPairs

__all__ = ["INVARIANCE_METHOD", "invariance_results"]

INVARIANCE_METHOD: Final[str] = (
    "longitudinal confirmatory factor analysis of each subscale's items at baseline and the last assessment "
    "(completers who answered every item at both), one factor per occasion, an item's residuals correlated across "
    "occasions; configural (loadings and intercepts free), metric (loadings equal), scalar (loadings and intercepts "
    "equal); maximum likelihood on the item means and covariances (burnout's numpy/scipy implementation, no SEM "
    f"library), chi2 = (n - 1) F_ML; a level holds when CFI falls by at most {DELTA_CFI_MAX:.3f} (Cheung & "
    "Rensvold 2002)"
)
_EMPTY: Final[dict[str, Any]] = {
    "n": None,
    "configural": None,
    "metric": None,
    "scalar": None,
    "differences": None,
    "holds": None,
}


def invariance_results(
    pairs: dict[str, ItemPairs] | None, pub: privacy.Publisher, *, completers: int, completers_shown: bool
) -> dict[str, Any]:
    """Per subscale the three fits (``chi2, df, cfi, rmsea``), the difference tests and ``holds``;
    null with ``reason`` when there are no item data, or the patients with items at both
    occasions are fewer than k, hidden, or so close to the completers that the rest is small."""
    out: dict[str, Any] = {}
    for s in SUBSCALES:
        pair = None if pairs is None else pairs.get(s)
        if pair is None or pair.n == 0:
            out[s] = _EMPTY | {"reason": "no item data at both baseline and the last assessment"}
            continue
        if not pub.enough_of(pair.n, completers, total_published=completers_shown):
            pub.note("statistic")
            out[s] = _EMPTY | {"reason": "too few patients with every item at both occasions (privacy)"}
            continue
        fit = longitudinal_invariance(pair.mean(), pair.cov(), pair.n, p=pair.p)
        if fit is None:
            out[s] = _EMPTY | {"reason": "the item covariance matrix is singular or the patients too few"}
            continue
        out[s] = fit.to_json() | {"reason": None}
    out["method"] = INVARIANCE_METHOD
    return out
