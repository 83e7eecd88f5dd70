"""What the results publish when the plan's primary instrument is not the MBI-GS (results.primary).

The reference study's sections are MBI-GS analyses: its three subscales, the responders
on them, the burnout profiles, the models over the subscale scores. With another
primary instrument the cohort need not hold an MBI-GS table at all, and those sections
would be computed over no scores (n = 0, "0/120 responders": completers without MBI-GS
scores counted as MBI-GS non-responders). They are left out of the tree instead, and
``instruments.notes`` says which and why; the primary instrument's own results are
``instruments.analyses``. What is about the flow, safety, attrition and the PHQ-9 stays.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from burnout.instrument import SUBSCALES
from burnout.plan.instruments import DEFAULT_PRIMARY

if TYPE_CHECKING:
    from burnout.plan import Protocol

__all__ = ["MBI_GS_SECTIONS", "for_primary_instrument", "left_out_note"]

MBI_GS_SECTIONS: Final[tuple[str, ...]] = (
    "subscales",
    "responders",
    "comparison",
    "below_threshold",
    "profiles",
    "subgroups",
    "itt",
    "reliable_change",
    "reliability",
    "measurement_invariance",
    "regression_to_mean",
)
"""Top-level sections that are MBI-GS analyses through and through (left out for another primary)."""

# inside sections that are kept: the parts computed on the MBI-GS subscales
_PHQ9_MBI_PARTS: Final[tuple[str, ...]] = ("adjusted", "subscale_responders_not_phq9_responders")


def left_out_note(primary: str, *, mbi_secondary: bool = False) -> str:
    """The sentence of ``instruments.notes`` that names the sections left out, and how to get them."""
    how = (
        "The MBI-GS, a secondary instrument of this plan, has the paired analysis in instruments.analyses.mbi_gs"
        if mbi_secondary
        else "To analyse the MBI-GS over these completers, name it a secondary instrument "
        '(secondary = ["mbi_gs"]): it then gets the paired analysis in instruments.analyses.mbi_gs'
    )
    return (
        f"the primary instrument is {primary}, so the MBI-GS analyses are not published: "
        f"{', '.join(MBI_GS_SECTIONS)}; the MBI-GS rows of attrition (table1, baseline_smd, early_change) "
        "and the PHQ-9's regressions on the MBI-GS subscales (phq9.adjusted, "
        "phq9.subscale_responders_not_phq9_responders). Completion and response are decided by the primary "
        "instrument's scales, so over these completers the MBI-GS sections would count every completer "
        "without MBI-GS scores as an MBI-GS non-responder. The primary instrument's results are "
        f"instruments.analyses. {how}; for the MBI-GS sections, run again with "
        'primary = "mbi_gs" (the default)'
    )


def for_primary_instrument(tree: dict[str, Any], protocol: Protocol) -> dict[str, Any]:
    """The results tree as published for the plan's primary instrument.

    The default plan (primary ``mbi_gs``) gets ``tree`` itself, unchanged. Any other
    primary: a new tree without `MBI_GS_SECTIONS`, without the MBI-GS parts of
    ``attrition`` and ``phq9``, and with `left_out_note` in ``instruments.notes``. Nothing
    is recomputed, so nothing hidden is revealed (leaving cells out can only hide more).
    """
    primary = protocol.instruments.primary
    if primary == DEFAULT_PRIMARY:
        return tree
    out = {key: value for key, value in tree.items() if key not in MBI_GS_SECTIONS}
    if "attrition" in out:
        out["attrition"] = _attrition_without_mbi(out["attrition"])
    if "phq9" in out:
        phq9 = {k: v for k, v in out["phq9"].items() if k not in _PHQ9_MBI_PARTS}
        if "definitions" in phq9:
            phq9["definitions"] = {k: v for k, v in phq9["definitions"].items() if k not in _PHQ9_MBI_PARTS}
        out["phq9"] = phq9
    if "instruments" in out:
        instruments = dict(out["instruments"])
        instruments["notes"] = [
            *instruments.get("notes", []),
            left_out_note(primary, mbi_secondary="mbi_gs" in (protocol.instruments.secondary or ())),
        ]
        out["instruments"] = instruments
    return out


def _attrition_without_mbi(attrition: dict[str, Any]) -> dict[str, Any]:
    """``attrition`` without the MBI-GS baseline rows and the early change (MBI-GS subscales only)."""
    out = {k: v for k, v in attrition.items() if k != "early_change"}
    for key in ("table1", "baseline_smd"):
        if key in out:
            out[key] = {row: v for row, v in out[key].items() if row not in SUBSCALES}
    return out
