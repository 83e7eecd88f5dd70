"""Beyond the reference study: intention to treat, PHQ-9, reliable change and reliability. (results.reliability)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from burnout import privacy
from burnout import stats as est
from burnout.instrument import SUBSCALES

if TYPE_CHECKING:
    from burnout.plan import Protocol
from burnout.measures.extended import BeyondMeasures


def _reliable_change(bm: BeyondMeasures, pub: privacy.Publisher, *, completers_published: bool) -> dict[str, Any]:
    """Improved / deteriorated / neither: one family under n; "neither" is never published, so
    it is the free complement of a small cell (issue 12: "Cynicism reliably improved" was hidden
    to protect a small "deteriorated"). The inputs (reliability, SD and their source) are the
    plan's or published values and an SD over every patient scored at baseline: the SD is
    withheld (with the critical change, which gives it back) when that group is smaller than k."""
    out: dict[str, Any] = {}
    for s in SUBSCALES:
        rc = bm.reliable_change[s]
        n_shown = pub.enough_of(rc.n, bm.completers, total_published=completers_published)
        # the SD (and the critical change that gives it back) is a statistic of the cohort:
        # published with the completers it classifies, and over at least k patients
        sd_shown = n_shown and (rc.sd_n is None or pub.enough(rc.sd_n))
        inputs = {"sd": rc.sd if sd_shown else None, "reliability": rc.reliability, "source": rc.source}
        if rc.cutoff_units is None or rc.sd is None or rc.critical_change is None:
            none = {"count": None, "n": rc.n if n_shown else None, "rate": None, "ci": None, "suppressed": False}
            out[s] = {"improved": none, "deteriorated": dict(none), **inputs, "reason": rc.reason}
            continue
        fam = pub.family(
            {
                "improved": rc.improved,
                "deteriorated": rc.deteriorated,
                "neither": rc.n - rc.improved - rc.deteriorated,
            },
            rc.n,
            n_published=n_shown,
            free=("neither",),
        )
        if not n_shown:
            pub.note("statistic")
        if not sd_shown and n_shown:
            pub.note("statistic", 3)
        out[s] = {
            "improved": fam["improved"],
            "deteriorated": fam["deteriorated"],
            **inputs,
            "se_difference": est.rci_se_diff(rc.sd, rc.reliability) if sd_shown else None,
            "critical_change": rc.critical_change if sd_shown else None,
        }
    return out


def _reliability(
    bm: BeyondMeasures, protocol: Protocol, pub: privacy.Publisher, *, completers_published: bool
) -> dict[str, Any]:
    """Cronbach's alpha per subscale and assessment; n is the completers with every item
    answered, a family with those without: withheld (with alpha) when either is small."""
    conf = protocol.analysis.confidence
    out: dict[str, Any] = {}
    for s in SUBSCALES:
        per_t: dict[str, Any] = {}
        for t in bm.timepoints:
            im = bm.reliability[(s, t)]
            if not (completers_published and pub.enough(im.n)):
                pub.note("statistic")
                per_t[str(t)] = {"alpha": None, "ci": None, "n": None, "items": len(im.item_sums)}
                continue
            r = im.reliability(confidence=conf)
            # n with few completers left out would give those few away; the Feldt CI gives n back
            n_shown = not pub.small(bm.completers - im.n)
            if not n_shown:
                pub.note("statistic", 2)
            per_t[str(t)] = {
                "alpha": r.alpha,
                "ci": None if r.ci is None or not n_shown else [r.ci[0], r.ci[1]],
                "n": r.n if n_shown else None,
                "items": r.k,
            }
        out[s] = per_t
    return out
