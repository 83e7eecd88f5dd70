"""The instruments: MBI-GS item positions and PHQ-9 layout, never item wording.

The MBI-GS item wording is licensed (Mind Garden) and is never shipped or shown:
items are positions 1-16 and integer scores 0-6. The position-to-subscale mapping
is public. PHQ-9 is public domain, but we only need its layout here too.
"""

from __future__ import annotations

from typing import Final, Literal

__all__ = [
    "GOOD_DIRECTION",
    "MBI_ITEM_MAX",
    "MBI_ITEMS",
    "PHQ9_ITEMS",
    "PHQ9_ITEM_MAX",
    "SCALE",
    "SUBSCALES",
    "SUBSCALE_ITEMS",
    "Subscale",
]

Subscale = Literal["exhaustion", "cynicism", "professional_efficacy"]

SUBSCALES: Final[tuple[Subscale, ...]] = ("exhaustion", "cynicism", "professional_efficacy")

SUBSCALE_ITEMS: Final[dict[Subscale, tuple[int, ...]]] = {
    "exhaustion": (1, 2, 3, 4, 6),
    "cynicism": (8, 9, 13, 14, 15),
    "professional_efficacy": (5, 7, 10, 11, 12, 16),
}

# +1: a higher score is better (efficacy); -1: a lower score is better.
GOOD_DIRECTION: Final[dict[Subscale, int]] = {
    "exhaustion": -1,
    "cynicism": -1,
    "professional_efficacy": 1,
}

MBI_ITEMS: Final[int] = 16
MBI_ITEM_MAX: Final[int] = 6
PHQ9_ITEMS: Final[int] = 9
PHQ9_ITEM_MAX: Final[int] = 3

# Scores are held as integers in units of 1/SCALE point. A mean of 1..6 integer items
# is an exact multiple of 1/60 (lcm(1..6) = 60), and a decimal with up to 5 places is
# an exact multiple of 1/600000, so every score the data can express is an integer
# here and every threshold or change is decided in integer arithmetic.
SCALE: Final[int] = 600_000
