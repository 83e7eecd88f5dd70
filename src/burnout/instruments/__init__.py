"""Instruments as data: one TOML definition per questionnaire, validated, scored exactly.

A definition (``data/<name>.toml``, or a user's file) declares the items and answer
range, the subscales and optional total with their item positions, reverse-keyed
items, mean or sum scoring, the most blank items a scored scale may have (prorated
for sums), the good direction, published cut-off bands and norms with citations,
and LOINC codes. Licensed wording is never shipped: a ``positions_only`` definition
that carries item text is refused. ``schema.json`` is the published JSON Schema
(generated from `Instrument`; ``python -m burnout.instruments.schema`` rewrites it).

Examples
--------
>>> mbi = load_instrument("mbi_gs")
>>> mbi.subscales["exhaustion"].items, mbi.units_per_point
((1, 2, 3, 4, 6), 600000)
>>> sorted(shipped_instruments())[:3]
['bat12', 'bat23', 'cbi']
"""

from burnout.instruments.exact import band_of, keyed, keyed_answers, reverse_keyed, score_exact, to_units
from burnout.instruments.load import (
    InstrumentError,
    is_definition_path,
    load_instrument,
    parse_instrument,
    shipped_instruments,
)
from burnout.instruments.model import Band, Flag, Instrument, Loinc, Norm, Response, Scale
from burnout.instruments.schema import schema_json

__all__ = [
    "Band",
    "Flag",
    "Instrument",
    "InstrumentError",
    "Loinc",
    "Norm",
    "Response",
    "Scale",
    "band_of",
    "is_definition_path",
    "keyed",
    "keyed_answers",
    "load_instrument",
    "parse_instrument",
    "reverse_keyed",
    "schema_json",
    "score_exact",
    "shipped_instruments",
    "to_units",
]
