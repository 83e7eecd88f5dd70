"""Beyond the reference study: intention to treat, PHQ-9, reliable change and reliability. (results.extended)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from burnout import privacy

if TYPE_CHECKING:
    from burnout.plan import Protocol
from burnout.measures.extended import BeyondMeasures
from burnout.plan.instruments import InstrumentsSection
from burnout.results.inference import regression_to_mean_results
from burnout.results.invariance import invariance_results
from burnout.results.itt import _itt
from burnout.results.paired import instruments_results
from burnout.results.phq9 import phq9_results
from burnout.results.primary import mbi_gs_primary
from burnout.results.reliability import _reliability, _reliable_change

__all__ = ["beyond_results"]


# --------------------------------------------------------------------------- results
def beyond_results(
    bm: BeyondMeasures,
    protocol: Protocol,
    *,
    threshold_met: int,
    completers: int,
    publisher: privacy.Publisher | None = None,
    published: dict[str, bool] | None = None,
) -> dict[str, Any]:
    """The ``itt``, ``phq9`` (when PHQ-9 data exist), ``reliable_change`` and ``reliability`` branches.

    For a primary instrument other than the MBI-GS only ``phq9`` (without its MBI-GS parts)
    and ``instruments`` are built: the others are MBI-GS analyses (results.primary).

    Parameters
    ----------
    bm
        From :func:`collect_beyond` on the same patient table.
    protocol
        The plan (confidence, privacy, response).
    threshold_met, completers
        The flow counts of the main analysis (``Measures``); they must equal those
        the beyond queries counted.
    publisher
        The publication layer of the whole results tree (``privacy.Publisher``; one
        for the plan when None), so its tally covers these sections too.
    published
        What the main sections published of the cells these sections share:
        ``threshold_met``, ``completers`` (their totals), ``response_<subscale>`` and
        ``at_least_1`` (the completers' responders, which the worst case counts again):
        a cell hidden there is hidden here. All True when None.

    Returns
    -------
    dict
        Plain JSON types in a fixed order, counts suppressed per the plan's
        ``min_cell_count`` (results.md, second part).

    Raises
    ------
    ValueError
        When ``threshold_met``/``completers`` disagree with ``bm`` (the measures come
        from different patient tables).
    """
    _check_same_table(bm, threshold_met=threshold_met, completers=completers)
    pub = publisher if publisher is not None else privacy.Publisher.for_plan(protocol)
    shown = {"threshold_met": True, "completers": True} | dict(published or {})
    mbi_gs = mbi_gs_primary(protocol)
    out: dict[str, Any] = {"itt": _itt(bm, protocol, pub, shown)} if mbi_gs else {}
    out |= _completer_sections(bm, protocol, pub, completers_shown=shown["completers"])
    if mbi_gs and bm.baseline_reference is not None:
        out["regression_to_mean"] = regression_to_mean_results(
            bm.baseline_reference, protocol, pub, itt_shown=shown["threshold_met"], completers_shown=shown["completers"]
        )
    if protocol.instruments != InstrumentsSection():  # the default plan's tree stays as it was
        out["instruments"] = instruments_results(
            bm.instruments, protocol, publisher=pub, population=bm.completers, population_published=shown["completers"]
        )
    return out


def _completer_sections(
    bm: BeyondMeasures, protocol: Protocol, pub: privacy.Publisher, *, completers_shown: bool
) -> dict[str, Any]:
    """The sections over the completers: ``phq9`` (with PHQ-9 data), ``reliable_change``,
    ``reliability`` and ``measurement_invariance`` (the last three for the MBI-GS primary only)."""
    out: dict[str, Any] = {}
    if bm.phq9 is not None:
        out["phq9"] = phq9_results(
            bm.phq9, protocol, publisher=pub, population=bm.completers, population_published=completers_shown
        )
    if not mbi_gs_primary(protocol):
        return out
    out["reliable_change"] = _reliable_change(bm, pub, completers_published=completers_shown)
    out["reliability"] = _reliability(bm, protocol, pub, completers_published=completers_shown)
    out["measurement_invariance"] = invariance_results(
        bm.item_pairs, pub, completers=bm.completers, completers_shown=completers_shown
    )
    return out


def _check_same_table(bm: BeyondMeasures, *, threshold_met: int, completers: int) -> None:
    """The main measures' flow counts must be the beyond measures' own (one patient table)."""
    if (threshold_met, completers) != (bm.threshold_met, bm.completers):
        raise ValueError(
            f"beyond_results: threshold_met={threshold_met}, completers={completers} from the main measures "
            f"but the beyond measures counted {bm.threshold_met} and {bm.completers}; collect both from the "
            "same patient table."
        )
