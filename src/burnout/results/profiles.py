"""Burnout profiles at every assessment, their transitions first -> last, and the shares
leaving the Burnout profile (``profiles``). (results.profiles)."""

from __future__ import annotations

from typing import Any

from burnout import privacy
from burnout.cohort import PROFILES, zscore_cutoff_words
from burnout.instrument import SUBSCALES
from burnout.results._common import BuildContext

__all__ = ["profile_results"]


def profile_results(ctx: BuildContext) -> dict[str, Any]:
    """``profiles``: each assessment's profile shares (a family over the completers), the
    transition matrix, who was in Burnout at baseline and where they went, the cut-offs."""
    m, protocol = ctx.m, ctx.protocol
    assessments = list(protocol.schedule.assessments)
    first, last = assessments[0], assessments[-1]
    profiles: dict[str, Any] = {}
    classified = m.profile_cutoffs.description != "not computed"
    for t in assessments:
        if classified:
            profiles[str(t)] = ctx.pub.family(dict(m.profiles[t]), m.completers, n_published=ctx.comp_pub)
        else:
            n_shown = m.completers if ctx.comp_pub else None
            profiles[str(t)] = {
                p: {"count": None, "n": n_shown, "rate": None, "ci": None, "suppressed": False} for p in PROFILES
            }
    safe_matrix = privacy.suppress_matrix(m.transitions, min_cell_count=ctx.protocol.privacy.min_cell_count)
    counts, reasons = _transitions(ctx, safe_matrix, classified)
    profiles["transitions"] = {"from": str(first), "to": str(last), "counts": counts}
    if counts is not None:
        profiles["transitions"]["hidden"] = reasons
    profiles["burnout_at_baseline"] = profiles[str(first)]["burnout"]["count"]
    profiles |= _leaving_burnout(ctx, safe_matrix, base_shown=profiles["burnout_at_baseline"] is not None)
    profiles["cutoffs"] = _cutoffs(ctx, classified=classified)
    return profiles


def _cutoffs(ctx: BuildContext, *, classified: bool) -> dict[str, Any]:
    """``cutoffs``: the plan's method and the raw cut-offs, in numbers and in words.

    Z-score cut-offs against the baseline are the completers' mean + z SD, a statistic
    over the completers: withheld (raw and description null) when their size is hidden.
    With ``[privacy] round_to`` the description prints the raw cut-offs as published
    (rounded like every statistic over the completers), never more digits than they have.
    """
    p, pub, cut = ctx.protocol.profiles, ctx.pub, ctx.m.profile_cutoffs
    out: dict[str, Any] = {"method": p.method, "reference": p.reference}
    zscores = p.method == "zscore" and classified
    if zscores and p.reference == "baseline" and not ctx.comp_pub:
        pub.note("statistic", len(SUBSCALES))
        return out | {"raw": None, "description": None}
    raw = cut.raw()
    if zscores and pub.round_to > 1:
        # round_tree rounds raw with the completers' grid (the nearest group size above it)
        raw = {s: pub.coarse(v, pub.rounded(ctx.m.completers)) for s, v in raw.items()}
        bounds: dict[str, Any] = {s: getattr(ctx.protocol.profiles, s) for s in SUBSCALES}
        return out | {"raw": raw, "description": zscore_cutoff_words(bounds, raw, raw_format="g")}
    return out | {"raw": raw, "description": cut.description}


def _transitions(
    ctx: BuildContext, safe_matrix: privacy.SuppressedMatrix, classified: bool
) -> tuple[dict[str, Any] | None, dict[str, str]]:
    """The suppressed transition counts (every cell hidden when the completers' total, their
    grand total, is) and why each hidden cell is hidden, keyed "<from>.<to>": "small" (1..k-1)
    or "complement" (hidden to protect a small cell)."""
    matrix_json: dict[str, Any] | None = safe_matrix.to_json() if classified else None
    if matrix_json is None:
        return None, {}
    if not ctx.comp_pub:  # its grand total is the completers
        matrix_json = {a: dict.fromkeys(cols) for a, cols in matrix_json.items()}
    reasons = {
        f"{a}.{b}": "small" if (a, b) in safe_matrix.primary else "complement"
        for a, cols in matrix_json.items()
        for b, v in cols.items()
        if v is None
    }
    small = sum(reason == "small" for reason in reasons.values())
    ctx.pub.note("small", small)
    ctx.pub.note("complement", len(reasons) - small)
    return matrix_json, reasons


def _leaving_burnout(ctx: BuildContext, safe_matrix: privacy.SuppressedMatrix, *, base_shown: bool) -> dict[str, Any]:
    """``burnout_resolved`` and ``burnout_to_engaged``: shares of those in Burnout at baseline."""
    burnout_base = ctx.m.profiles[ctx.protocol.schedule.assessments[0]]["burnout"]
    row = ctx.m.transitions["burnout"]
    # Both are cells (or a row total minus a cell) of the transition matrix: hide them
    # wherever the matrix hides what they are made of.
    resolved = ctx.prop(
        burnout_base - row["burnout"],
        burnout_base,
        n_published=base_shown and ("burnout", "burnout") not in safe_matrix.suppressed,
    )
    to_engaged = ctx.prop(
        row["engaged"], burnout_base, n_published=base_shown and ("burnout", "engaged") not in safe_matrix.suppressed
    )
    if base_shown:  # the denominator is a published cell: keep it on a hidden share
        resolved["n"] = to_engaged["n"] = burnout_base
    return {"burnout_resolved": resolved, "burnout_to_engaged": to_engaged}
