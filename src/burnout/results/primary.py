"""What the results publish when the plan's primary instrument is not the MBI-GS (results.primary).

The reference study's sections are MBI-GS analyses: its three subscales, the responders
on them, the burnout profiles, the models over the subscale scores. With another
primary instrument the cohort need not hold an MBI-GS table at all, and those sections
would be computed over no scores (n = 0, "0/120 responders": completers without MBI-GS
scores counted as MBI-GS non-responders). They are not built at all (each builder asks
`mbi_gs_primary`), so the Publisher's tally of hidden positions (``privacy.hidden``)
counts only what is published, and ``instruments.notes`` says which and why
(`left_out_note`); the primary instrument's own results are ``instruments.analyses``.
What is about the flow, safety, attrition and the PHQ-9 stays.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from burnout.plan.instruments import DEFAULT_PRIMARY

if TYPE_CHECKING:
    from burnout.plan import Protocol

__all__ = ["MBI_GS_SECTIONS", "left_out_note", "mbi_gs_primary"]

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


def mbi_gs_primary(protocol: Protocol) -> bool:
    """Whether the plan's primary instrument is the MBI-GS: only then are `MBI_GS_SECTIONS` built,
    with the MBI-GS rows of ``attrition`` and the PHQ-9's regressions on the MBI-GS subscales
    (the parts `left_out_note` names)."""
    return protocol.instruments.primary == DEFAULT_PRIMARY


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
