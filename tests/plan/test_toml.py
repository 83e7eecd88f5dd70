"""The plan as TOML (plan/toml.py, parse_protocol): syntax errors with their line, and round trips."""

from __future__ import annotations

import tomllib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from plancase import NORMS_TOML, SUBSCALES, one_error

from burnout.errors import ProtocolError
from burnout.plan import (
    SUBGROUP_VARIABLES,
    Protocol,
    load_protocol,
    parse_protocol,
)

finite = st.floats(min_value=-5124095576028, max_value=5124095576028)  # Z_BOUNDARY_MAX


score = st.floats(min_value=0, max_value=6)


@st.composite
def plans(draw) -> dict:
    sessions = draw(st.integers(1, 40))
    later = draw(st.lists(st.integers(1, sessions), unique=True, max_size=8))
    method = draw(st.sampled_from(["raw", "zscore"]))
    reference = draw(st.sampled_from(["baseline", "norms"]))
    boundary = score if method == "raw" else finite
    profiles = {"method": method, "reference": reference}
    profiles |= {s: draw(boundary) for s in SUBSCALES}
    if reference == "norms" or draw(st.booleans()):
        profiles["norms"] = {
            s: {"mean": draw(score), "sd": draw(st.floats(min_value=0, max_value=3, exclude_min=True))}
            for s in SUBSCALES
        }
    return {
        "title": draw(st.text(max_size=40)),
        "scoring": {"max_missing_items": draw(st.integers(0, 4))},
        "eligibility": {k: draw(score) for k in ("exhaustion_min", "cynicism_min", "efficacy_max")},
        "schedule": {"sessions": sessions, "assessments": [0, *sorted(later)]},
        "response": {"min_change": draw(st.floats(min_value=0, max_value=6, exclude_min=True))},
        "profiles": profiles,
        "subgroups": {
            "age_bands": sorted(draw(st.lists(st.integers(18, 120), unique=True, min_size=1, max_size=6))),
            "by": draw(st.lists(st.sampled_from(SUBGROUP_VARIABLES), unique=True)),
        },
        "privacy": {"min_cell_count": draw(st.integers(1, 10**6))},
        "analysis": {
            "seed": draw(st.integers(0, 2**63 - 1)),
            "confidence": draw(st.floats(min_value=0.5, max_value=1, exclude_min=True, exclude_max=True)),
        },
    }


def test_bad_toml_syntax_names_file_and_line():
    with pytest.raises(ProtocolError) as info:
        parse_protocol('title = "x"\n\n[schedule]\nsessions = = 6\n', source="my/protocol.toml")
    text = str(info.value)
    assert "my/protocol.toml" in text
    assert "line 4, column" in info.value.messages[0]
    assert "not valid TOML" in info.value.messages[0]


def test_bad_toml_syntax_in_a_file_names_the_path(tmp_path):
    path = tmp_path / "protocol.toml"
    path.write_text('[profiles]\nmethod = "raw\n', encoding="utf-8")
    with pytest.raises(ProtocolError) as info:
        load_protocol(path)
    assert info.value.source == str(path)
    assert str(path) in str(info.value)
    assert info.value.messages[0].startswith("line 2")


def test_unterminated_string_at_end_of_document_names_the_last_line():
    assert one_error('title = "x').startswith("line 1 (end of file)")


def test_non_utf8_file_is_an_error_with_line(tmp_path):
    path = tmp_path / "protocol.toml"
    path.write_bytes(b'title = "ok"\ntitle2 = "caf\xe9"\n')
    with pytest.raises(ProtocolError) as info:
        load_protocol(path)
    assert info.value.messages[0].startswith("line 2: not UTF-8")


@settings(max_examples=200, deadline=None)
@given(plans())
def test_to_toml_round_trip_property(data):
    plan = Protocol.from_dict(data)
    text = plan.to_toml()
    again = parse_protocol(text)
    assert again == plan
    assert again.resolved() == plan.resolved()
    assert again.sha256 == plan.sha256
    assert tomllib.loads(text)["title"] == data["title"]  # the writer's TOML is standard TOML


@settings(max_examples=50, deadline=None)
@given(plans(), st.randoms(use_true_random=False))
def test_hash_ignores_key_order_property(data, rnd):
    def shuffled(table):
        items = list(table.items())
        rnd.shuffle(items)
        return {k: shuffled(v) if isinstance(v, dict) else v for k, v in items}

    assert Protocol.from_dict(shuffled(data)).sha256 == Protocol.from_dict(data).sha256


def test_to_toml_round_trip_through_a_file(tmp_path):
    plan = parse_protocol(
        'title = "Tab\\there \\"quoted\\" \\\\ caf\u00e9 \\u0001"\n[profiles]\nreference = "norms"\n' + NORMS_TOML
    )
    path = tmp_path / "resolved.toml"
    path.write_text(plan.to_toml(), encoding="utf-8")
    assert load_protocol(path) == plan
    assert plan.title == 'Tab\there "quoted" \\ caf\u00e9 \x01'
