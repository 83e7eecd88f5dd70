"""The cohort file layout from the data contract (docs/spec/data-format.md).

Private: the loader uses it to know which columns to keep, the validator to know
which rules apply. Item wording is never here, only positions.
"""

from __future__ import annotations

from typing import Final

from burnout.instrument import MBI_ITEMS, PHQ9_ITEMS, SUBSCALES
from burnout.instruments import load_instrument, shipped_instruments

__all__ = [
    "COLUMNS",
    "INSTRUMENT_TABLES",
    "MBI_ITEM_COLUMNS",
    "PHQ9_ITEM_COLUMNS",
    "REQUIRED_TABLES",
    "TABLES",
    "item_range",
    "required_tables",
]

# Every shipped instrument but the MBI-GS (whose table also takes subscale columns) may
# have a table of its own, ``<name>.csv`` or ``.parquet``: patient_id, after_session,
# completed_on, item_1..item_k (docs/spec/data-format.md). PHQ-9 first, as it always was.
INSTRUMENT_TABLES: Final[tuple[str, ...]] = (
    "phq9",
    *(n for n in shipped_instruments() if n not in ("mbi_gs", "phq9")),
)

# Canonical table order: the order files are hashed, read and reported.
TABLES: Final[tuple[str, ...]] = ("patients", "mbi_gs", "sessions", *INSTRUMENT_TABLES)
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
    **{
        name: ("patient_id", "after_session", "completed_on", *(f"item_{i}" for i in range(1, items + 1)))
        for name, items in ((n, load_instrument(n).items) for n in INSTRUMENT_TABLES)
    },
}


def required_tables(primary: str = "mbi_gs") -> frozenset[str]:
    """The tables a cohort must hold when ``primary`` is the plan's primary instrument:
    patients, sessions and that instrument's table (mbi_gs by default)."""
    return frozenset({"patients", "sessions", primary})


def item_range(name: str) -> tuple[int, int, int]:
    """An instrument table's answers: (min, max, step), from its definition."""
    r = load_instrument(name).response
    return r.min, r.max, r.step
