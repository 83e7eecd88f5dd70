"""The instruments the longitudinal analysis knows by name: MBI-GS and PHQ-9, read from their definitions.

The constants below come from ``instruments/data/mbi_gs.toml`` and ``phq9.toml``
(item positions, answer range, good direction, integer units), so the definition
files are the one place these facts live. The MBI-GS item wording is licensed
(Mind Garden) and is never shipped or shown: items are positions 1-16 and integer
scores 0-6.
"""

from __future__ import annotations

from typing import Final, Literal, get_args

from burnout.instruments import load_instrument

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

_MBI_GS = load_instrument("mbi_gs")
_PHQ9 = load_instrument("phq9")
if tuple(_MBI_GS.subscales) != get_args(Subscale):  # a developer's error: the type and the file disagree
    raise RuntimeError(f"mbi_gs.toml subscales {tuple(_MBI_GS.subscales)} differ from {get_args(Subscale)}")

SUBSCALES: Final[tuple[Subscale, ...]] = get_args(Subscale)

SUBSCALE_ITEMS: Final[dict[Subscale, tuple[int, ...]]] = {s: _MBI_GS.subscales[s].items for s in SUBSCALES}

# +1: a higher score is better (efficacy); -1: a lower score is better.
GOOD_DIRECTION: Final[dict[Subscale, int]] = {s: 1 if _MBI_GS.subscales[s].good == "higher" else -1 for s in SUBSCALES}

MBI_ITEMS: Final[int] = _MBI_GS.items
MBI_ITEM_MAX: Final[int] = _MBI_GS.response.max
PHQ9_ITEMS: Final[int] = _PHQ9.items
PHQ9_ITEM_MAX: Final[int] = _PHQ9.response.max

# Scores are held as integers in units of 1/SCALE point (mbi_gs.toml's units = 600000).
# A mean of 1..6 integer items is an exact multiple of 1/60 (lcm(1..6) = 60), and a
# decimal with up to 5 places is an exact multiple of 1/600000, so every score the data
# can express is an integer here and every threshold or change is decided in integers.
SCALE: Final[int] = _MBI_GS.units_per_point
