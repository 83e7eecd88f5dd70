"""The survey's results tree: statistics from the engine's integer aggregates, through the Publisher.

Exact where it can be: the mean, SD and covariances are computed as fractions from
integer counts and sums (so results.json is byte-identical run to run whatever the
engine's thread count), then turned into floats once for publication.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import numpy as np

from burnout.instruments import Instrument
from burnout.privacy import Publisher
from burnout.stats import cronbach_alpha, mean_summary
from burnout.stats.omega import OMEGA_METHOD, RMSEA_FIT_MAX, one_factor_omega
from burnout.survey.score import BINS, ScaleAggregates, SurveyAggregates, bin_edges

__all__ = ["SCHEMA", "build_results"]

SCHEMA = "burnout-survey/1"


def _mean_sd(agg: ScaleAggregates) -> tuple[float | None, float | None]:
    """Mean and SD of a scale's scores, exact from the engine's integer moments (`stats.mean_summary`)."""
    summary = mean_summary(agg.n, agg.total, agg.total_sq, scale=agg.units)
    return summary.mean, summary.sd


def _covariance(agg: ScaleAggregates) -> list[list[Fraction]] | None:
    n = agg.complete
    if n < 2:
        return None
    return [
        [Fraction(n * agg.cross[i][j] - agg.sums[i] * agg.sums[j], n * (n - 1)) for j in range(len(agg.sums))]
        for i in range(len(agg.sums))
    ]


def _withheld(pub: Publisher, what: dict[str, Any]) -> dict[str, Any]:
    pub.note("statistic")
    return {**{k: None for k in what}, "withheld": True}


def _reliability(agg: ScaleAggregates, pub: Publisher, rows: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """Alpha and omega over the complete respondents: withheld when they are too few; their n,
    CI and fit statistics (which give n back) hidden when the rest of the respondents are few."""
    k = len(agg.sums)
    cov = _covariance(agg)
    alpha: dict[str, Any] = {"value": None, "ci": None, "n": agg.complete, "k": k}
    omega: dict[str, Any] = {"value": None, "fits": None, "rmsea": None, "chi2": None, "df": None, "n": agg.complete}
    if not pub.enough(agg.complete) or cov is None:
        return _withheld(pub, alpha), _withheld(pub, omega)
    n_shown = not pub.small(rows - agg.complete)
    if k >= 2:
        rel = cronbach_alpha(k, agg.complete, sum(cov[i][i] for i in range(k)), sum(map(sum, cov)), confidence=pub.conf)
        alpha |= {"value": rel.alpha, "ci": list(rel.ci) if rel.ci and n_shown else None}
    fit = one_factor_omega(np.array([[float(c) for c in row] for row in cov]), agg.complete)
    if fit is not None:
        omega |= {"fits": fit.fits, "value": fit.omega if fit.fits else None, "df": fit.df}
        omega |= {"rmsea": fit.rmsea, "chi2": fit.chi2} if n_shown else {}
    if not n_shown:
        pub.note("statistic", 2)
        alpha["n"] = omega["n"] = None
    return alpha, omega


def _banded(
    inst: Instrument, name: str, agg: ScaleAggregates, pub: Publisher, rows: int, n: int
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The cut-off bands and the histogram bins: two families over the same respondents.

    Each is a family of rates over every respondent; those not scored are a cell never
    published (a free complement). The two are linked: bins whose scores lie inside a band
    add up to it (PHQ-9's minimal band 0-4 is histogram bins 0-2 and 3-4), so a band hidden
    in its family could be rebuilt from the bins, and a bin from a band and the other bins.
    The histogram is therefore published only when neither family hides a cell; otherwise
    every bin is hidden (as a complement) and the bands stand alone.
    """
    labels = [b.label for b in inst.scales[name].bands]
    at_band = [agg.at_least_band[label] for label in labels] + [0]
    bands = {label: at_band[i] - at_band[i + 1] for i, label in enumerate(labels)}
    edges = [float(e) for e in bin_edges(inst, name)] + [float(inst.score_range(name)[1])]
    at_edge = [*agg.at_least_edge, 0]
    bins = {str(i): at_edge[i] - at_edge[i + 1] for i in range(BINS)}
    free = {"not_scored": rows - n}
    linked = not pub.small(rows)  # few respondents: `prop` hides every rate with its n anyway
    hidden_bands = pub.protect({**bands, **free}, free=free) & set(bands) if linked else frozenset()
    hidden_bins = pub.protect({**bins, **free}, free=free) & set(bins) if linked else frozenset()
    if hidden_bands or hidden_bins:
        hidden_bins = frozenset(bins)
    band_props = {k: pub.prop(v, rows, hide=k in hidden_bands) for k, v in bands.items()}
    bin_props = {k: pub.prop(v, rows, hide=k in hidden_bins) for k, v in bins.items()}
    return band_props, {"edges": edges, "bins": bin_props}


def _scale(inst: Instrument, name: str, agg: ScaleAggregates, pub: Publisher, rows: int) -> dict[str, Any]:
    rule = inst.scales[name]
    n = agg.n
    # a mean is a fraction over n: published beside a hidden n it gives n back (683/234 -> 39)
    n_hidden = pub.small(rows - n)
    mean, sd = _mean_sd(agg) if pub.enough(n) and not n_hidden else (None, None)
    if mean is None and n:
        pub.note("statistic", 2)
    low, high = inst.score_range(name)
    alpha, omega = _reliability(agg, pub, rows)
    bands, distribution = _banded(inst, name, agg, pub, rows, n)
    return {
        "items": list(rule.items),
        "scoring": rule.scoring,
        "good": rule.good,
        "range": [float(low), float(high)],
        "n": pub.count(n, hide=n_hidden),
        "mean": mean,
        "sd": sd,
        "alpha": alpha,
        "omega": omega,
        "bands": bands,
        "bands_citation": rule.bands_citation,
        "distribution": distribution,
    }


def _items(inst: Instrument, aggs: SurveyAggregates, pub: Publisher) -> dict[str, Any]:
    """Per item: blanks over every respondent; floor and ceiling over those who answered, one
    family with the answers in between (never published, so the free complement)."""
    out = {}
    for pos, c in aggs.items.items():
        answered = aggs.rows - c.blank
        middle = answered - c.floor - c.ceiling
        shown = not pub.small(answered) and not pub.small(c.blank)  # answered gives a small blank count back
        ends = pub.family(
            {"floor": c.floor, "ceiling": c.ceiling, "middle": middle}, answered, n_published=shown, free=("middle",)
        )
        out[str(pos)] = {"blank": pub.prop(c.blank, aggs.rows), **ends}
    return out


def build_results(
    inst: Instrument, aggs: SurveyAggregates, *, pub: Publisher, source: dict[str, Any]
) -> dict[str, Any]:
    """The survey's results.json tree (every count and statistic through ``pub``)."""
    rows = aggs.rows
    flags = {
        f.name: {
            "item": f.item,
            "at_least": f.at_least,
            "note": f.note,
            # its n (those who answered the item) would give a small count of blanks back
            **pub.prop(
                aggs.flags[f.name][1], aggs.flags[f.name][0], n_published=not pub.small(aggs.items[f.item].blank)
            ),
        }
        for f in inst.flags
    }
    return {
        "schema": SCHEMA,
        "instrument": {
            "name": inst.name,
            "title": inst.title,
            "version": inst.version,
            "licence": inst.licence,
            "citation": inst.citation,
        },
        "input": source,
        "respondents": pub.count(rows) if rows else 0,
        "subscales": {name: _scale(inst, name, aggs.scales[name], pub, rows) for name in inst.scales},
        "items": _items(inst, aggs, pub),
        "flags": flags,
        "methods": {
            "alpha": "Cronbach's alpha over the respondents who answered every item of the scale (reverse-keyed items reversed), with Feldt's confidence interval",
            "omega": OMEGA_METHOD,
            "omega_fit": f"omega is published when the one-factor model fits: converged, no Heywood case, RMSEA <= {RMSEA_FIT_MAX} (three items: saturated)",
        },
        "privacy": pub.summary(),
    }
