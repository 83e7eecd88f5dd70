"""Instrument definitions: the shipped files, the published schema, and every definition error."""

from __future__ import annotations

import tomllib
from decimal import Decimal
from importlib import resources
from pathlib import Path

import pytest

from burnout.instruments import (
    InstrumentError,
    is_definition_path,
    load_instrument,
    parse_instrument,
    schema_json,
    shipped_instruments,
)
from burnout.instruments.schema import SCHEMA_PATH

SHIPPED = ("bat12", "bat23", "cbi", "gad7", "mbi_es", "mbi_gs", "mbi_hss", "olbi", "phq9")

# keys whose string values are metadata, never item wording
_META_STRINGS = {
    "name",
    "title",
    "version",
    "licence",
    "citation",
    "notes",
    "bands_citation",
    "label",
    "scoring",
    "good",
    "population",
    "note",
    "panel",
    "loinc",
    "answers",
}


def _strings(node: object, key: str = "") -> list[tuple[str, str]]:
    if isinstance(node, dict):
        return [s for k, v in node.items() for s in _strings(v, str(k))]
    if isinstance(node, list):
        return [s for v in node for s in _strings(v, key)]
    return [(key, node)] if isinstance(node, str) else []


def _raw(name: str) -> dict:
    text = resources.files("burnout.instruments").joinpath("data", f"{name}.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


def test_every_issue_instrument_is_shipped_and_valid():
    assert shipped_instruments() == SHIPPED
    for name in SHIPPED:
        inst = load_instrument(name)
        assert inst.name == name
        assert inst.citation and inst.scales


@pytest.mark.parametrize("name", SHIPPED)
def test_positions_only_files_carry_no_item_text(name):
    raw = _raw(name)
    if raw["licence"] != "positions_only":
        pytest.skip(f"{name} is {raw['licence']}")
    assert "wording" not in raw
    loinc_items = raw.get("loinc", {}).get("items", {})
    stray = [(k, v) for k, v in _strings(raw) if k not in _META_STRINGS and v not in loinc_items.values()]
    assert stray == [], f"{name}.toml holds text outside metadata keys: {stray}"


def test_wording_in_a_positions_only_file_is_refused():
    text = _MINIMAL + '\n[wording]\n"1" = "I feel tired"\n'
    with pytest.raises(InstrumentError, match="wording is licensed for a positions_only instrument"):
        parse_instrument(text, source="mine.toml")
    assert parse_instrument(text.replace("positions_only", "wording_allowed")).wording == {"1": "I feel tired"}


def test_schema_json_is_current():
    assert SCHEMA_PATH.read_text(encoding="utf-8") == schema_json(), (
        "regenerate it: python -m burnout.instruments.schema"
    )


def test_mbi_hss_and_es_keys_are_the_issue_s():
    for name in ("mbi_hss", "mbi_es"):
        inst = load_instrument(name)
        assert inst.items == 22 and (inst.response.min, inst.response.max) == (0, 6)
        assert inst.subscales["emotional_exhaustion"].items == (1, 2, 3, 6, 8, 13, 14, 16, 20)
        assert inst.subscales["depersonalization"].items == (5, 10, 11, 15, 22)
        assert inst.subscales["personal_accomplishment"].items == (4, 7, 9, 12, 17, 18, 19, 21)
        assert inst.subscales["personal_accomplishment"].good == "higher"


def test_loinc_codes_of_phq9_and_gad7():
    phq9, gad7 = load_instrument("phq9"), load_instrument("gad7")
    assert (phq9.loinc.panel, phq9.total.loinc) == ("44249-1", "44261-6")
    assert (gad7.loinc.panel, gad7.total.loinc) == ("69737-5", "70274-6")
    assert phq9.loinc.answers[0] == "LA6568-5" and len(phq9.loinc.items) == 9
    assert [f.item for f in phq9.flags] == [9]


def test_mbi_gs_definition_matches_the_constants_the_analysis_uses():
    from burnout.instrument import GOOD_DIRECTION, SCALE, SUBSCALE_ITEMS

    inst = load_instrument("mbi_gs")
    assert SCALE == 600_000 == inst.units_per_point
    assert SUBSCALE_ITEMS["professional_efficacy"] == (5, 7, 10, 11, 12, 16)
    assert GOOD_DIRECTION == {"exhaustion": -1, "cynicism": -1, "professional_efficacy": 1}


def test_units_hold_every_score_exactly():
    # lcm of the answered counts: BAT-23 total 21..23 answered, subscales 7..8 and 4..5
    assert load_instrument("bat23").units_needed == 212_520
    # unprorated sums are integers: no denominator at all
    assert load_instrument("mbi_es").units_needed == 1
    # PHQ-9 prorated over 7 or 8 of 9 items needs 1/56; the file keeps 504 (lcm(7, 8, 9))
    phq9 = load_instrument("phq9")
    assert (phq9.units_needed, phq9.units_per_point) == (56, 504)


# --------------------------------------------------------------------------- errors
_MINIMAL = """
name = "mine"
title = "My scale"
version = "1"
licence = "positions_only"
citation = "me (2024)"
items = 4
response = { min = 1, max = 5 }

[subscales.strain]
items = [1, 2, 3, 4]
scoring = "mean"
good = "lower"
"""


def _errors(text: str) -> list[str]:
    with pytest.raises(InstrumentError) as info:
        parse_instrument(text, source="mine.toml")
    assert str(info.value).startswith("invalid instrument definition mine.toml:")
    return list(info.value.messages)


def test_a_minimal_user_definition_is_valid():
    inst = parse_instrument(_MINIMAL)
    assert inst.scales["strain"].max_blank == 0 and inst.units_per_point == 4


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (
            ('scoring = "mean"', 'scorng = "mean"'),
            'unknown key subscales.strain.scorng = "mean": allowed here: items, scoring',
        ),
        (
            ('scoring = "mean"', 'scoring = "median"'),
            'impossible value for subscales.strain.scoring: got "median"; allowed: "mean" or "sum"',
        ),
        (
            ("items = 4\n", 'items = "four"\n'),
            'wrong type for items: got "four" (a string), expected a whole number from 1 to 500',
        ),
        (
            ("items = [1, 2, 3, 4]", "items = [1, 2, 3, 9]"),
            "impossible value for the file: item positions [9] exceed items = 4",
        ),
        (
            ("items = [1, 2, 3, 4]", "items = [1, 2, 2, 4]"),
            "impossible value for subscales.strain: items lists a position twice",
        ),
        (
            ('good = "lower"', 'good = "lower"\nmax_blank = 4'),
            "max_blank must leave at least one answered item (at most 3)",
        ),
        (('scoring = "mean"', 'scoring = "sum"\nmax_blank = 1'), "a sum with blanks allowed must be prorated"),
        (
            ("response = { min = 1, max = 5 }", "response = { min = 5, max = 1 }"),
            "impossible value for response: max must exceed min",
        ),
        (
            ('licence = "positions_only"', 'licence = "free"'),
            'impossible value for licence: got "free"; allowed: "wording_allowed" or "positions_only"',
        ),
        (
            ('name = "mine"', 'name = "My Scale"'),
            'impossible value for name: got "My Scale"; allowed: a name of 1 to 40 characters',
        ),
        (('citation = "me (2024)"\n', ""), "missing key citation: expected text of 1 to 2000 characters"),
    ],
)
def test_each_definition_error_names_key_value_and_what_is_allowed(edit, expected):
    old, new = edit
    assert old in _MINIMAL
    messages = _errors(_MINIMAL.replace(old, new, 1))
    assert any(expected in m for m in messages), messages


def test_band_errors_are_all_reported_at_once():
    text = (
        _MINIMAL
        + 'bands = [{ label = "hi", at_least = 3 }, { label = "lo", at_least = 2 }, { label = "x", at_least = 9 }]\n'
    )
    messages = _errors(text)
    joined = "\n".join(messages)
    assert "bands must be listed with strictly increasing at_least" in joined
    assert "bands need bands_citation" in joined
    # checks across the file (score ranges) run once each scale is valid on its own
    cited = 'bands_citation = "x"\nbands = [{ label = "hi", at_least = 3 }, { label = "x", at_least = 9 }]\n'
    joined = "\n".join(_errors(_MINIMAL + cited))
    assert "strain: band x at_least = 9 is outside 1..5" in joined
    assert "strain: the first band must start at the lowest score (1)" in joined


def test_invalid_toml_gives_its_line():
    messages = _errors(_MINIMAL.replace('title = "My scale"', "title = My scale"))
    assert messages[0].startswith("line 3, column 9: not valid TOML")


def test_missing_file_and_unknown_name(tmp_path: Path):
    with pytest.raises(InstrumentError, match="cannot read the file: No such file"):
        load_instrument(tmp_path / "nope.toml")
    with pytest.raises(InstrumentError, match=r'no shipped instrument named "phq_9".*did you mean phq9\?'):
        load_instrument("phq_9")


def test_a_user_file_loads_by_path(tmp_path: Path):
    path = tmp_path / "mine.toml"
    path.write_text(_MINIMAL, encoding="utf-8")
    assert load_instrument(str(path)).name == "mine"


def test_a_definition_file_is_a_path_or_a_toml_name_as_the_plan_and_the_cli_say(tmp_path: Path):
    """One rule for load_instrument and a plan's [instruments] (docs/spec/instruments.md: "any value ending in .toml")."""
    assert is_definition_path("defs/strain.toml") and is_definition_path(tmp_path / "strain")
    assert not is_definition_path("phq9") and not is_definition_path("defs/strain")
    with pytest.raises(InstrumentError, match='no shipped instrument named "defs/strain".*a path to a .toml file'):
        load_instrument("defs/strain")


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (("items = 4\n", 'items = "6"\n'), 'wrong type for items: got "6" (a string), expected a whole number'),
        (
            ("response = { min = 1, max = 5 }", 'response = { min = 1, max = "5" }'),
            'wrong type for response.max: got "5" (a string), expected an integer',
        ),
        (
            ("response = { min = 1, max = 5 }", "response = { min = 1.0, max = 5 }"),
            "wrong type for response.min: got 1.0 (a decimal number), expected an integer",
        ),
        (
            ("response = { min = 1, max = 5 }", 'response = { min = 1, max = 5 }\nreverse = ["3"]'),
            'wrong type for reverse[0]: got "3" (a string), expected an array of item positions',
        ),
        (
            ("items = [1, 2, 3, 4]", "items = [1, 2, true, 4]"),
            "wrong type for subscales.strain.items[2]: got true (a boolean)",
        ),
        (
            ('good = "lower"', 'good = "lower"\nmax_blank = true'),
            "wrong type for subscales.strain.max_blank: got true (a boolean), expected an integer",
        ),
        (
            ('good = "lower"', 'good = "lower"\nprorate = "false"'),
            'wrong type for subscales.strain.prorate: got "false" (a string), expected true or false',
        ),
        (
            ('good = "lower"', 'good = "lower"\nmin_change = "0.5"\nmin_change_citation = "x"'),
            'wrong type for subscales.strain.min_change: got "0.5" (a string), expected a number > 0',
        ),
        (
            ('good = "lower"', 'good = "lower"\nmin_change = true\nmin_change_citation = "x"'),
            "wrong type for subscales.strain.min_change: got true (a boolean), expected a number > 0",
        ),
        (
            ('good = "lower"', 'good = "lower"\nbands_citation = "x"\nbands = [{ label = "lo", at_least = "1" }]'),
            'wrong type for subscales.strain.bands[0].at_least: got "1" (a string), expected a number',
        ),
        (('title = "My scale"', "title = 7"), "wrong type for title: got 7 (an integer), expected text"),
        # the kind as the plan's messages name it (one helper: burnout.errors.toml_kind)
        (
            ('title = "My scale"', "title = 1979-05-27"),
            "wrong type for title: got 1979-05-27 (a date/time), expected text",
        ),
    ],
)
def test_a_value_of_the_wrong_type_is_refused_not_coerced(edit, expected):
    old, new = edit
    assert old in _MINIMAL
    messages = _errors(_MINIMAL.replace(old, new, 1))
    assert any(expected in m for m in messages), messages


def test_fractional_numbers_may_be_written_as_integers_or_decimals():
    cited = 'good = "lower"\nmin_change_citation = "x"\nbands_citation = "x"\n'
    for change, cut in (("1", "1"), ("0.5", "1.0")):
        text = _MINIMAL.replace(
            'good = "lower"', cited + f"min_change = {change}\nbands = [{{ label = 'lo', at_least = {cut} }}]"
        )
        scale = parse_instrument(text).scales["strain"]
        assert scale.min_change == Decimal(change) and scale.bands[0].at_least == Decimal(cut)
