"""The cohort file layout from the data contract (docs/spec/data-format.md).

Private: the loader uses it to know which columns to keep, the validator to know
which rules apply. Item wording is never here, only positions.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from types import MappingProxyType
from typing import Final

from burnout.instrument import MBI_ITEMS, PHQ9_ITEMS, SUBSCALES
from burnout.instruments import Instrument, load_instrument, shipped_instruments

__all__ = [
    "COLUMNS",
    "INSTRUMENT_TABLES",
    "MBI_ITEM_COLUMNS",
    "PHQ9_ITEM_COLUMNS",
    "REQUIRED_TABLES",
    "TABLES",
    "cohort_tables",
    "instrument_tables",
    "item_range",
    "required_tables",
    "table_columns",
    "user_instrument_tables",
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
    user = _USER_TABLES.get()
    r = (user[name] if name in user else load_instrument(name)).response
    return r.min, r.max, r.step


# A user's own definitions (named by the analysis plan) add a table each, laid out as a
# shipped instrument's: patient_id, after_session, completed_on, item_1..item_k. They are
# known only while a cohort is read for that plan (`user_instrument_tables`).
_USER_TABLES: ContextVar[Mapping[str, Instrument]] = ContextVar(
    "burnout_user_instrument_tables", default=MappingProxyType({})
)


@contextmanager
def user_instrument_tables(definitions: Iterable[Instrument]) -> Iterator[None]:
    """Within the block, each definition's table ``<name>.csv`` or ``.parquet`` is an
    instrument table like a shipped one: read, validated by its items and answer range."""
    token = _USER_TABLES.set(MappingProxyType({inst.name: inst for inst in definitions}))
    try:
        yield
    finally:
        _USER_TABLES.reset(token)


def instrument_tables() -> tuple[str, ...]:
    """`INSTRUMENT_TABLES` and the tables of the user definitions in scope."""
    return (*INSTRUMENT_TABLES, *_USER_TABLES.get())


def cohort_tables() -> tuple[str, ...]:
    """`TABLES` (canonical order) and then the tables of the user definitions in scope."""
    return (*TABLES, *_USER_TABLES.get())


def table_columns(name: str) -> tuple[str, ...]:
    """Every documented column of a table (`COLUMNS`, or a user definition's in scope)."""
    if name in COLUMNS:
        return COLUMNS[name]
    items = _USER_TABLES.get()[name].items
    return ("patient_id", "after_session", "completed_on", *(f"item_{i}" for i in range(1, items + 1)))
