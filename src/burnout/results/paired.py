"""The ``instruments`` branch: the paired analysis of any instrument, through the Publisher (results.paired)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from burnout import privacy
from burnout.instruments import Instrument
from burnout.measures.paired import InstrumentMeasures
from burnout.results.phq9 import paired_timepoints
from burnout.results.primary import left_out_note, mbi_gs_primary

if TYPE_CHECKING:
    from burnout.plan import Protocol

__all__ = ["instruments_results", "profiles_note"]


def profiles_note(primary: str) -> str:
    """Why the burnout profiles are not reported for ``primary``, an instrument other than the MBI-GS."""
    return (
        f"burnout profiles (Leiter & Maslach 2016) are defined on the MBI-GS subscales only: not computed "
        f"for the primary instrument {primary}"
    )


def _described(inst: Instrument) -> dict[str, Any]:
    """What the report says of an instrument, from its definition (positions and rules, never
    wording): the report reads only results.json, not the plan's definition files."""
    rules = dict(inst.subscales) | ({"total": inst.total} if inst.total is not None else {})
    return {
        "name": inst.name,
        "title": inst.title,
        "citation": inst.citation,
        "items": inst.items,
        "response": {"min": inst.response.min, "max": inst.response.max},
        "scales": {
            s: {
                "items": list(r.items),
                "scoring": r.scoring,
                "max_blank": r.max_blank,
                "prorate": r.prorate,
                "good": r.good,
            }
            for s, r in rules.items()
        },
    }


def instruments_results(
    measures: dict[str, InstrumentMeasures],
    protocol: Protocol,
    *,
    publisher: privacy.Publisher,
    population: int | None,
    population_published: bool = True,
) -> dict[str, Any]:
    """``instruments``: the primary instrument's name, notes, and per analysed instrument
    (``analyses.<name>``) its role and per scale the ``timepoints`` (as ``phq9.timepoints``,
    in the scale's points) and ``response`` (improved by at least ``min_change`` in the
    scale's good direction, first to last, among completers scored at both).

    ``population`` is the completers' count: an n whose complement in it is small is
    hidden with every statistic beside it, as in the ``phq9`` branch.
    """
    pub = publisher
    conf = protocol.analysis.confidence

    def shown(n: int) -> bool:
        return pub.enough_of(n, population, total_published=population_published)

    analyses: dict[str, Any] = {}
    for name, im in measures.items():
        scales: dict[str, Any] = {}
        for scale, sm in im.scales.items():
            scales[scale] = {
                "good": sm.good,
                "timepoints": paired_timepoints(
                    sm.timepoints, sm.changes, im.first, pub, shown, scale=im.units, confidence=conf
                ),
                "min_change": None if sm.min_change is None else float(sm.min_change),
                "response": None if sm.response is None else pub.prop(*sm.response, n_published=shown(sm.response[1])),
            }
        analyses[name] = {
            "role": im.role,
            "population": "completers",
            "definition": _described(protocol.instruments.definition(name)),
            "scales": scales,
        }
    primary = protocol.instruments.primary
    notes: list[str] = []
    if not mbi_gs_primary(protocol):  # why the profiles and the MBI-GS sections are not in the tree
        notes = [
            profiles_note(primary),
            left_out_note(primary, mbi_secondary="mbi_gs" in (protocol.instruments.secondary or ())),
        ]
    return {
        "primary": primary,
        "notes": notes,
        "analyses": analyses,
    }
