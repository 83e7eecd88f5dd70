"""A plan naming a user's own instrument definition file in [instruments] (issue 14, gap 1).

The file is read relative to the plan file, validated like a shipped definition and
reported like the plan's own keys (the key, the file, what is wrong, every problem at
once); licensed wording never appears in a message.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest

from burnout.errors import ProtocolError
from burnout.plan import eligibility_rule, load_protocol, min_changes, parse_protocol, primary_instrument
from burnout.plan.eligibility import evaluate_exact
from instrumentreference import STRAIN_TOML

# The tests' own "strain" scale (instrumentreference.STRAIN_TOML), with a minimum change of
# its own on tension.
STRAIN = STRAIN_TOML.replace(
    'max_blank = 1\ngood = "lower"\n',
    'max_blank = 1\ngood = "lower"\nmin_change = 0.5\nmin_change_citation = "This test."\n',
    1,
)
assert STRAIN != STRAIN_TOML

PLAN = """\
[instruments]
primary = "defs/strain.toml"

[eligibility]
rule = "tension >= 3.5 or total > 20"
"""


def _plan_folder(tmp_path: Path, definition: str = STRAIN, plan: str = PLAN) -> Path:
    (tmp_path / "defs").mkdir(parents=True)
    (tmp_path / "defs" / "strain.toml").write_text(definition, encoding="utf-8")
    (tmp_path / "protocol.toml").write_text(plan, encoding="utf-8")
    return tmp_path / "protocol.toml"


def _messages(path: Path) -> list[str]:
    with pytest.raises(ProtocolError) as info:
        load_protocol(path)
    return list(info.value.messages)


def test_a_definition_file_is_read_relative_to_the_plan_not_the_working_directory(tmp_path, monkeypatch):
    path = _plan_folder(tmp_path)
    monkeypatch.chdir(Path(__file__).parent)  # anywhere but the plan's folder
    plan = load_protocol(path)
    inst = primary_instrument(plan)
    assert (inst.name, list(inst.scales)) == ("strain", ["tension", "fatigue", "total"])
    assert plan.resolved()["instruments"] == {"primary": "defs/strain.toml", "secondary": None}
    # the rule is checked against the definition's scales and decided on them
    assert evaluate_exact(eligibility_rule(plan), {"tension": Fraction(7, 2), "fatigue": None, "total": None})
    assert min_changes(plan) == {"tension": Fraction(1, 2), "fatigue": Fraction(1), "total": Fraction(1)}
    # replace() keeps reading the file from the plan's folder
    assert primary_instrument(plan.replace({"analysis.seed": 7})) == inst


def test_the_plan_identity_covers_the_definition_content_not_only_its_path(tmp_path):
    first = load_protocol(_plan_folder(tmp_path / "a"))
    same = load_protocol(_plan_folder(tmp_path / "b"))
    edited = load_protocol(
        _plan_folder(tmp_path / "c", definition=STRAIN.replace("max_blank = 1\ngood", "max_blank = 0\ngood", 1))
    )
    assert first.canonical_json() == edited.canonical_json()  # the plan's text names the same path
    assert first.sha256 == same.sha256 != edited.sha256  # but a changed scoring rule is another plan


def test_a_definition_file_can_be_a_secondary_instrument(tmp_path):
    path = _plan_folder(tmp_path, plan='[instruments]\nsecondary = ["phq9", "defs/strain.toml"]\n')
    plan = load_protocol(path)
    assert plan.instruments.definition("defs/strain.toml").name == "strain"
    assert plan.instruments.definition("phq9").name == "phq9"


def test_the_rule_is_checked_against_the_definition_scales(tmp_path):
    path = _plan_folder(tmp_path, plan=PLAN.replace("tension >= 3.5", "tensoin >= 3.5"))
    assert any("did you mean tension?" in m for m in _messages(path))
    path.write_text(PLAN.replace("total > 20", "total > 31"), encoding="utf-8")
    assert any("outside total's range 6..30" in m for m in _messages(path))


@pytest.mark.parametrize(
    ("change", "needles"),
    [
        ((STRAIN, STRAIN + "colour = 3\n"), ["unknown key total.colour = 3", "remove it"]),
        (("items = 6\n", "items = 5\n"), ["item positions [6] exceed items = 5"]),
        (('scoring = "sum"\n', 'scoring = "median"\n'), ["total.scoring", '"median"', '"mean" or "sum"']),
        (('max_blank = 1\ngood = "lower"\nmin_change', 'max_blank = 3\ngood = "lower"\nmin_change'), ["max_blank"]),
        (("prorate = true\n", ""), ["must be prorated"]),
        (('name = "strain"', 'name = "Strain Scale"'), ["impossible value for name", "lower-case letters"]),
        (('name = "strain"', 'name = "phq9"'), ["a shipped instrument's", "a name of its own"]),
        (('title = "Test strain scale"\n', ""), ["missing key title"]),
        (("response = { min = 1, max = 5 }", "response = { min = 5, max = 1 }"), ["max must exceed min"]),
        (("reverse = [3, 6]", "reverse = [3, 3]"), ["reverse lists a position twice"]),
        (('version = "1"', "version = "), ["line 3, column 11: not valid TOML"]),
    ],
)
def test_each_kind_of_bad_definition_is_refused_naming_the_key_and_the_file(tmp_path, change, needles):
    old, new = change
    assert old in STRAIN
    path = _plan_folder(tmp_path, definition=STRAIN.replace(old, new, 1))
    messages = _messages(path)
    assert all(
        m.startswith('invalid instrument definition for instruments.primary = "defs/strain.toml"')
        or m.startswith("impossible value for instruments.primary")
        for m in messages
    ), messages
    assert all(str(tmp_path / "defs" / "strain.toml") in m for m in messages), messages
    text = "\n".join(messages)
    assert all(n in text for n in needles), messages


def test_every_problem_of_a_definition_is_reported_at_once(tmp_path):
    bad = STRAIN.replace("items = 6\n", "items = 5\n").replace('scoring = "sum"', 'scoring = "median"')
    bad = bad.replace('title = "Test strain scale"\n', "")
    messages = _messages(_plan_folder(tmp_path, definition=bad))
    assert len(messages) == 2  # every key's problem; cross-key checks (positions <= items) once keys are valid
    assert any("missing key title" in m for m in messages)
    assert any("total.scoring" in m for m in messages)


def test_a_missing_definition_file_names_the_path_it_looked_at(tmp_path):
    path = _plan_folder(tmp_path, plan=PLAN.replace("defs/strain.toml", "defs/stress.toml"))
    (message,) = _messages(path)
    assert str(tmp_path / "defs" / "stress.toml") in message and "cannot read the file" in message


def test_two_definition_files_with_one_name_are_refused(tmp_path):
    both = PLAN.replace("\n\n[eligibility]", '\nsecondary = ["defs/copy.toml"]\n\n[eligibility]')
    path = _plan_folder(tmp_path, plan=both)
    (tmp_path / "defs" / "copy.toml").write_text(STRAIN, encoding="utf-8")
    (message,) = _messages(path)
    assert 'both define name = "strain"' in message


def test_licensed_wording_is_refused_and_never_shown(tmp_path):
    secret = "I feel the secret licensed wording of item one"
    bad = STRAIN.replace("reverse = [3, 6]\n", f'reverse = [3, 6]\nwording = {{ "1" = "{secret}" }}\n')
    messages = _messages(_plan_folder(tmp_path, definition=bad))
    assert any("wording is licensed for a positions_only instrument" in m for m in messages)
    assert all(secret not in m and "secret" not in m for m in messages)
    # a misspelt [wording] table is an unknown key: named, its text still not shown
    typo = STRAIN.replace("reverse = [3, 6]\n", f'reverse = [3, 6]\nwordings = {{ "1" = "{secret}" }}\n')
    messages = _messages(_plan_folder(tmp_path / "typo", definition=typo))
    assert any("unknown key wordings" in m for m in messages)
    assert all("secret" not in m for m in messages)


def test_a_shipped_name_that_is_not_one_still_says_what_is_allowed():
    with pytest.raises(ProtocolError) as info:
        parse_protocol('[instruments]\nprimary = "phq"\n')
    assert "or the path of a definition .toml file" in str(info.value)


def test_a_plan_given_as_text_reads_definitions_from_the_folder_it_is_given(tmp_path):
    _plan_folder(tmp_path)
    plan = parse_protocol(PLAN, folder=tmp_path)
    assert primary_instrument(plan).name == "strain"
    with pytest.raises(ProtocolError, match="cannot read the file"):
        parse_protocol(PLAN, folder=tmp_path / "defs")


def test_analyze_with_a_bad_definition_exits_2_and_writes_nothing(tmp_path):
    from typer.testing import CliRunner

    from burnout.cli import app
    from cohortfactory import write_cohort

    folder = write_cohort(tmp_path / "c")
    path = _plan_folder(tmp_path / "plan", definition=STRAIN.replace("items = 6\n", "items = 5\n"))
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["analyze", str(folder), "--protocol", str(path), "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert "item positions [6] exceed items = 5" in result.output and "Traceback" not in result.output
    assert not out.exists()


def test_a_min_change_beyond_a_scale_s_range_is_refused_wherever_it_is_given(tmp_path):
    # fatigue (a 1-5 mean: range 4) takes [response] min_change; 5.5 could never be reached
    plan = PLAN + "\n[response]\nmin_change = 5.5\n"
    (message,) = _messages(_plan_folder(tmp_path / "plan", plan=plan))
    assert message.startswith("impossible value for response.min_change: got 5.5; allowed: a number > 0 and <= 4")
    assert "fatigue" in message
    # the definition's own min_change is checked as well, naming its file
    bad = STRAIN.replace("min_change = 0.5", "min_change = 4.5")
    (message,) = _messages(_plan_folder(tmp_path / "def", definition=bad))
    assert message.startswith(
        'impossible value for subscales.tension.min_change in "defs/strain.toml" (instruments.primary): got 4.5; '
        "allowed: a number > 0 and <= 4"
    )
    # per_subscale keeps its own message
    per = PLAN + "\n[response.per_subscale]\ntotal = 25\n"
    (message,) = _messages(_plan_folder(tmp_path / "per", plan=per))
    assert message.startswith(
        "impossible value for response.per_subscale.total: got 25.0; allowed: a number > 0 and <= 24"
    )


def test_a_min_change_equal_to_the_scale_range_is_allowed(tmp_path):
    plan = PLAN + "\n[response]\nmin_change = 4\n"
    changes = min_changes(load_protocol(_plan_folder(tmp_path, plan=plan)))
    assert changes == {"tension": Fraction(1, 2), "fatigue": Fraction(4), "total": Fraction(4)}
