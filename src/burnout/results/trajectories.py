"""Per subscale: scores at every assessment, change from baseline with its effect sizes,
response, and the plateau between the last two assessments (``subscales``). (results.trajectories)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from burnout import stats as est
from burnout.instrument import GOOD_DIRECTION, SCALE, SUBSCALES, Subscale
from burnout.results._common import BuildContext, _pair, _withheld

if TYPE_CHECKING:
    from burnout.measures import Moments
    from burnout.plan import Protocol

__all__ = ["subscale_results"]


def subscale_results(ctx: BuildContext) -> dict[str, Any]:
    """``subscales.<s>``: timepoints, response over the completers and (with 3+ assessments) the plateau."""
    out: dict[str, Any] = {}
    for s in SUBSCALES:
        out[s] = {"timepoints": _timepoints(ctx, s), "response": ctx.completers_prop(ctx.m.responders[s])}
        if s in ctx.m.plateau:
            out[s]["plateau"] = _plateau(ctx, s)
    return out


def _timepoints(ctx: BuildContext, s: Subscale) -> dict[str, Any]:
    """Each assessment's n, mean, SD and CI, and after baseline the change with its test and effect sizes."""
    m, conf = ctx.m, ctx.protocol.analysis.confidence
    assessments = list(ctx.protocol.schedule.assessments)
    first = assessments[0]
    summaries = {t: _summary(m.scores[(s, t)], conf) for t in assessments}
    base = m.scores[(s, first)]
    base_mean = _points(base.total / base.n) if base.n else None
    base_sd = summaries[first].sd
    timepoints: dict[str, Any] = {}
    for t in assessments:
        sc = summaries[t]
        entry: dict[str, Any] = {"n": sc.n, "mean": sc.mean, "sd": sc.sd, "ci": _pair(sc.ci)}
        if t != first:
            ch = m.changes[(s, t)]
            pc = est.paired_change(ch.n, ch.total, ch.total_sq, scale=SCALE, confidence=conf)
            entry |= {
                "change": pc.mean,
                "change_sd": pc.sd,
                "change_ci": _pair(pc.ci),
                "percent_change": (100 * pc.mean / base_mean) if (pc.mean is not None and base_mean) else None,
                "t": pc.t,
                "df": pc.df,
                "p": pc.p,
                "effect_size": {
                    "dz": pc.dz,
                    "ci": _pair(pc.dz_ci),
                    "label": pc.dz_label,
                    "method": "noncentral t",
                    # comparable with between-group d, unlike dz (Lakens 2013)
                    "d_av": None
                    if pc.mean is None or base_sd is None or sc.sd is None
                    else est.cohen_d_av(pc.mean, base_sd, sc.sd),
                },
                # the good direction, so a reader needn't recall which way each subscale improves
                "improved": None if pc.mean is None else (pc.mean * GOOD_DIRECTION[s] > 0),
            }
        if not ctx.stats_ok(m.scores[(s, t)].n):
            entry = _withheld(entry, ctx.pub)
        timepoints[str(t)] = entry
    return timepoints


def _summary(mo: Moments, confidence: float) -> est.MeanSummary:
    return est.mean_summary(mo.n, mo.total, mo.total_sq, scale=SCALE, confidence=confidence)


def _plateau(ctx: BuildContext, s: Subscale) -> dict[str, Any]:
    """The paired change between the last two assessments, and its equivalence test."""
    assessments = list(ctx.protocol.schedule.assessments)
    pl = ctx.m.plateau[s]
    pp = est.paired_change(pl.n, pl.total, pl.total_sq, scale=SCALE, confidence=ctx.protocol.analysis.confidence)
    plateau = {
        "from": str(assessments[-2]),
        "to": str(assessments[-1]),
        "mean_difference": pp.mean,
        "ci": _pair(pp.ci),
        "t": pp.t,
        "df": pp.df,
        "p": pp.p,
        "test": "paired t",
        "plateaued": None
        if pp.p is None or pp.mean is None
        else bool(pp.p >= 0.05 or pp.mean * GOOD_DIRECTION[s] <= 0),
        "equivalence": _equivalence(pp, ctx.protocol),
    }
    if not ctx.stats_ok(pl.n):
        return _withheld(plateau, ctx.pub, keep=("from", "to", "test"))
    return plateau


def _points(units: float) -> float:
    return units / SCALE


def _equivalence(pp: est.PairedChange, protocol: Protocol) -> dict[str, Any]:
    """TOST of the last interval against the plan's ``[plateau] margin``: "equivalent" (both
    one-sided tests reject a change of at least the margin) or "not shown", with the
    1 - 2 alpha CI (alpha = 1 - confidence)."""
    margin = float(protocol.plateau.margin)
    tost = (
        None
        if pp.mean is None or pp.sd is None
        else est.paired_tost(pp.mean, pp.sd, pp.n, margin=margin, alpha=1 - protocol.analysis.confidence)
    )
    if tost is None:
        return {"margin": margin, "t_lower": None, "t_upper": None, "df": None, "p": None, "ci": None,
                "ci_level": None, "equivalent": None, "conclusion": "not testable"}  # fmt: skip
    conclusion = f"equivalent within +/-{margin:g}" if tost.equivalent else "not shown"
    return tost.to_json() | {"conclusion": conclusion}
