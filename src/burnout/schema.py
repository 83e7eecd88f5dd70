"""The cohort file layout from the data contract (docs/spec/data-format.md).

Private: the loader uses it to know which columns to keep, the validator to know
which rules apply. Item wording is never here, only positions.
"""

from __future__ import annotations

from typing import Final

from burnout.instrument import MBI_ITEMS, PHQ9_ITEMS, SUBSCALES

__all__ = [
    "COLUMNS",
    "MBI_ITEM_COLUMNS",
    "PHQ9_ITEM_COLUMNS",
    "REQUIRED_TABLES",
    "TABLES",
]

# Canonical table order: the order files are hashed, read and reported.
TABLES: Final[tuple[str, ...]] = ("patients", "mbi_gs", "sessions", "phq9")
REQUIRED_TABLES: Final[frozenset[str]] = frozenset({"patients", "mbi_gs", "sessions"})

MBI_ITEM_COLUMNS: Final[tuple[str, ...]] = tuple(f"item_{i}" for i in range(1, MBI_ITEMS + 1))
PHQ9_ITEM_COLUMNS: Final[tuple[str, ...]] = tuple(f"item_{i}" for i in range(1, PHQ9_ITEMS + 1))

# Every documented column of each table, in the contract's order.
COLUMNS: Final[dict[str, tuple[str, ...]]] = {
    "patients": ("patient_id", "age", "sex", "route", "pathway"),
    "mbi_gs": ("patient_id", "after_session", "completed_on", *MBI_ITEM_COLUMNS, *SUBSCALES),
    "sessions": (
        "patient_id",
        "session",
        "held_on",
        "dose_mg",
        "monitor_present",
        "side_effects",
        "serious_adverse_event",
    ),
    "phq9": ("patient_id", "after_session", "completed_on", *PHQ9_ITEM_COLUMNS),
}
