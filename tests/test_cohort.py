"""cohort.py: the patient table's threshold, completion and response decided on the plan's primary instrument and eligibility rule (issue 14 point 4).

References are computed another way: a scorer written out by hand from the published
rules (tests/instrumentreference.py, with the rules as literals here) and the rule
evaluator (``evaluate_exact``) on each patient's items, against the engine's integer
decisions in ``build_patient_table``.
"""

from __future__ import annotations

import csv
import json
from fractions import Fraction
from pathlib import Path

import ibis
import pyarrow as pa
import pytest

from burnout.cohort import PRIMARY_PREFIX, build_patient_table, rule_met_expr
from burnout.errors import DataError, ProtocolError
from burnout.ingest import load_cohort
from burnout.instrument import SCALE, SUBSCALES
from burnout.instruments import load_instrument
from burnout.plan import eligibility_rule, load_protocol, min_changes, parse_protocol
from burnout.plan.eligibility import evaluate_exact, rule_text
from instrumentreference import STRAIN_TOML, reference_score

REFERENCE_SHA256 = "f3edfb4bfdda66361755c2b10905d9e14dab81d433888bb520e935bb35db0465"  # main before issue 14 point 4 (with issue 16's plan sections)


def test_default_plan_keeps_its_sha256_and_leaves_the_new_keys_out():
    plan = load_protocol()
    assert plan.sha256 == REFERENCE_SHA256  # the reference study's plan as before issue 14
    resolved = plan.resolved()
    assert "instruments" not in resolved and "rule" not in resolved["eligibility"]
    assert "per_subscale" not in resolved["response"]
    assert (
        rule_text(eligibility_rule(plan)) == "exhaustion >= 4.8 and (cynicism >= 3.8 or professional_efficacy <= 4.3)"
    )


def test_default_rule_decides_as_the_threshold_keys_on_every_edge():
    plan = load_protocol()
    cuts = [Fraction(c) * SCALE for c in ("4.8", "3.8", "4.3")]
    edges = [[int(c) - 1, int(c), int(c) + 1, None] for c in cuts]
    rows = [(e, c, p) for e in edges[0] for c in edges[1] for p in edges[2]]
    table = pa.table({f"{n}_0": pa.array([r[i] for r in rows], type=pa.int64()) for i, n in enumerate(SUBSCALES)})
    t = ibis.memtable(table)
    got = t.select(ours=rule_met_expr(t, 0, plan)).to_pyarrow()["ours"].to_pylist()
    assert len(got) == 64 and got == [reference_threshold(*r) for r in rows]


def reference_threshold(e: int | None, c: int | None, p: int | None) -> bool | None:
    """The reference study's threshold written out by hand in exact fractions, with SQL's
    three-valued logic for a blank subscale: E >= 4.8 and (C >= 3.8 or PE <= 4.3)."""

    def cmp(units: int | None, cut: str, at_least: bool) -> bool | None:
        if units is None:
            return None
        x = Fraction(units, SCALE)
        return x >= Fraction(cut) if at_least else x <= Fraction(cut)

    def or3(a: bool | None, b: bool | None) -> bool | None:
        return True if a is True or b is True else (None if a is None or b is None else False)

    def and3(a: bool | None, b: bool | None) -> bool | None:
        return False if a is False or b is False else (None if a is None or b is None else True)

    return and3(cmp(e, "4.8", True), or3(cmp(c, "3.8", True), cmp(p, "4.3", False)))


def test_a_plan_rule_replaces_the_threshold_keys():
    plan = parse_protocol('[eligibility]\nrule = "exhaustion >= 5 or cynicism > 4"\n')
    rows = [(5 * SCALE, 0, 0), (5 * SCALE - 1, 4 * SCALE, 0), (0, 4 * SCALE + 1, 0), (None, 4 * SCALE + 1, 6 * SCALE)]
    table = pa.table({f"{n}_0": pa.array([r[i] for r in rows], type=pa.int64()) for i, n in enumerate(SUBSCALES)})
    t = ibis.memtable(table)
    assert t.select(ok=rule_met_expr(t, 0, plan)).to_pyarrow()["ok"].to_pylist() == [True, False, True, True]


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ('[instruments]\nprimary = "phq9"\n', "missing key eligibility.rule"),
        ('[instruments]\nprimary = "phq"\n', "not a shipped instrument"),
        ('[instruments]\nsecondary = ["gad7", "gad7"]\n', "listed twice"),
        ('[instruments]\nsecondary = ["gad8"]\n', "'gad8' is not a shipped instrument"),
        ('[eligibility]\nrule = "exhaustion >= 4.8 and cynicsm >= 3"\n', "did you mean cynicism?"),
        ('[eligibility]\nrule = "exhaustion >= 7"\n', "outside exhaustion's range 0..6"),
        ('[eligibility]\nrule = "exhaustion >= "\n', "at column 15"),
        ('[instruments]\nprimary = "phq9"\n[eligibility]\nrule = "total >= 28"\n', "range 0..27"),
        (
            '[instruments]\nprimary = "gad7"\n[eligibility]\nrule = "total >= 10"\n[response.per_subscale]\ntotal = 22\n',
            "<= 21",
        ),
        (
            '[instruments]\nprimary = "gad7"\n[eligibility]\nrule = "total >= 10"\n[response.per_subscale]\ntotl = 2\n',
            "gad7 has the scales total",
        ),
        ("[instruments]\nprimry = 1\n", "did you mean instruments.primary?"),
    ],
)
def test_plan_errors_name_the_key_and_the_fix(text, needle):
    with pytest.raises(ProtocolError) as err:
        parse_protocol(text)
    assert needle in str(err.value)


def test_min_changes_per_scale_come_from_the_plan_then_the_definition():
    phq = parse_protocol('[instruments]\nprimary = "phq9"\n[eligibility]\nrule = "total >= 10"\n')
    assert min_changes(phq) == {"total": Fraction(5)}  # Loewe et al. 2004, in phq9.toml
    given = parse_protocol(
        phq.to_toml().replace("[response]\n", "[response.per_subscale]\ntotal = 6.5\n\n[response]\n")
    )
    assert min_changes(given) == {"total": Fraction(13, 2)}
    assert parse_protocol(given.to_toml()) == given
    assert min_changes(load_protocol()) == dict.fromkeys(SUBSCALES, Fraction(1))


# The PHQ-9 total (Kroenke 2001; proration of up to two blanks, Kroenke's scoring notes) and the
# OLBI subscales (Demerouti & Bakker 2008: positively worded items reversed; one blank ours),
# written out here rather than read from the definitions.
PHQ9_TOTAL = {"items": range(1, 10), "low": 0, "high": 3, "scoring": "sum", "max_blank": 2}
OLBI_REVERSED = (1, 5, 7, 10, 13, 14, 15, 16)
OLBI = {
    "exhaustion": {"items": (2, 4, 5, 8, 10, 12, 14, 16)},
    "disengagement": {"items": (1, 3, 6, 7, 9, 11, 13, 15)},
}
OLBI_RULE = {"low": 1, "high": 4, "scoring": "mean", "max_blank": 1, "reverse": OLBI_REVERSED}

# A PHQ-9-primary cohort with totals on the boundaries: prorated totals (one or two blanks),
# exactly 10 at baseline, a drop of exactly 5 and of 5 - 1/8, three blanks (unscored).
PHQ = {
    "a": ([1, 1, 1, 1, 1, 1, 2, 1, 1], [0, 0, 0, 0, 0, 0, 0, 0, 5 - 5]),  # 10 -> 0
    "b": ([2, 2, 1, 1, 1, 1, 1, 1, None], [1, 1, 1, 0, 0, 0, 0, 0, 0]),  # 10 * 9/8 = 11.25 -> 3
    "c": ([1, 1, 1, 1, 1, 1, 1, 1, 1], [0, 0, 0, 0, 0, 0, 0, 0, 0]),  # 9: below the threshold
    "d": ([2, 2, 1, 1, 1, 1, 1, None, None], [1, 1, 1, 1, 0, 0, 0, 0, 0]),  # 9 * 9/7 = 11.57 -> 4
    "e": ([3, 3, 3, 1, None, None, None, 0, 0], [0] * 9),  # unscored baseline
    "f": ([2, 2, 2, 2, 2, 0, 0, 0, 0], [1, 1, 1, 1, 1, 0, 0, 0, 0]),  # 10 -> 5: drop exactly 5
    "g": ([2, 2, 2, 2, 2, 0, 0, 0, None], [1, 1, 1, 1, 1, 0, 0, 0, 0]),  # 11.25 -> 5: drop 6.25
    "h": ([3, 3, 3, 0, 0, 0, 0, 1, None], [2, 2, 1, 0, 0, 0, 0, 0, 0]),  # 11.25 -> 5
    "i": ([2, 2, 2, 2, 1, 1, 0, 0, 0], [1, 1, 1, 1, 1, 0, 0, 0, 1]),  # 10 -> 6: drop 4
}


def _write_csv(path: Path, header: list[str], rows: list[list[object]]) -> None:
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)


def _write(folder: Path) -> None:
    folder.mkdir()

    def write(name: str, header: list[str], rows: list[list[object]]) -> None:
        _write_csv(folder / f"{name}.csv", header, rows)

    write("patients", ["patient_id"], [[p] for p in PHQ])
    write("sessions", ["patient_id", "session"], [[p, 1] for p in PHQ])
    write(
        "mbi_gs",
        ["patient_id", "after_session", *(f"item_{i}" for i in range(1, 17))],
        [[p, 0, *[""] * 16] for p in PHQ],
    )
    rows = [
        [p, t, *("" if v is None else v for v in items)] for p, waves in PHQ.items() for t, items in enumerate(waves)
    ]
    write("phq9", ["patient_id", "after_session", *(f"item_{i}" for i in range(1, 10))], rows)


def test_phq9_primary_decides_threshold_completion_and_response_exactly(tmp_path):
    _write(tmp_path / "c")
    plan = parse_protocol(
        '[instruments]\nprimary = "phq9"\n[eligibility]\nrule = "total >= 10"\n'
        "[schedule]\nsessions = 1\nassessments = [0, 1]\n"
    )
    cohort = load_cohort(tmp_path / "c", scheduled_assessments=(0, 1), scheduled_sessions=1, con=ibis.duckdb.connect())
    got = {
        r["patient_id"]: r
        for r in build_patient_table(cohort, plan).to_pyarrow().to_pylist()  # per-patient rows: test only
    }
    rule = eligibility_rule(plan)
    for pid, (first, last) in PHQ.items():
        a, b = (reference_score(w, **PHQ9_TOTAL) for w in (first, last))
        assert got[pid][f"{PRIMARY_PREFIX}total_0"] == (None if a is None else a * 504)  # units of 1/504
        met = evaluate_exact(rule, {"total": a})
        assert got[pid]["threshold_met"] is bool(met), pid
        assert got[pid]["completer"] is bool(met and b is not None), pid
        responded = a is not None and b is not None and a - b >= 5
        assert got[pid][f"response_{PRIMARY_PREFIX}total"] is responded, pid
    assert [p for p in PHQ if got[p]["completer"]] == ["a", "b", "d", "f", "g", "h", "i"]
    assert [p for p in PHQ if got[p][f"response_{PRIMARY_PREFIX}total"]] == [
        "a",
        "b",
        "c",
        "d",
        "f",
        "g",
        "h",
    ]  # c: not eligible, yet improved
    assert got["e"]["exclusion"] == "no_baseline" and got["c"]["exclusion"] == "below_threshold"


def test_mbi_gs_is_optional_and_the_primary_table_required_when_the_primary_is_another(tmp_path):
    _write(tmp_path / "c")
    (tmp_path / "c" / "mbi_gs.csv").unlink()
    con = ibis.duckdb.connect()
    with pytest.raises(DataError) as err:  # the reference study's plan: mbi_gs required as always
        load_cohort(tmp_path / "c", scheduled_assessments=(0, 1), scheduled_sessions=1, con=con)
    assert [p.file for p in err.value.problems] == ["mbi_gs.csv"]
    assert "a required file: put mbi_gs.csv or mbi_gs.parquet" in err.value.problems[0].allowed
    with pytest.raises(DataError) as err:
        load_cohort(tmp_path / "c", scheduled_assessments=(0, 1), scheduled_sessions=1, con=con, primary="gad7")
    assert [p.file for p in err.value.problems] == ["gad7.csv"]
    cohort = load_cohort(tmp_path / "c", scheduled_assessments=(0, 1), scheduled_sessions=1, con=con, primary="phq9")
    assert cohort.mbi_gs.count().to_pyarrow().as_py() == 0 and cohort.rows["phq9"] == 2 * len(PHQ)
    plan = parse_protocol(
        '[instruments]\nprimary = "phq9"\n[eligibility]\nrule = "total >= 10"\n'
        "[schedule]\nsessions = 1\nassessments = [0, 1]\n"
    )
    table = build_patient_table(cohort, plan)
    flags = table.aggregate(met=table.threshold_met.sum(), mbi=table.exhaustion_0.count()).to_pyarrow().to_pylist()
    assert flags == [{"met": 7, "mbi": 0}]


def test_a_primary_instrument_without_its_table_is_a_data_error(tmp_path):
    _write(tmp_path / "c")
    (tmp_path / "c" / "phq9.csv").unlink()
    plan = parse_protocol(
        '[instruments]\nprimary = "gad7"\n[eligibility]\nrule = "total >= 10"\n'
        "[schedule]\nsessions = 1\nassessments = [0, 1]\n"
    )
    cohort = load_cohort(tmp_path / "c", scheduled_assessments=(0, 1), scheduled_sessions=1, con=ibis.duckdb.connect())
    with pytest.raises(DataError, match="gad7.csv or gad7.parquet"):
        build_patient_table(cohort, plan)


@pytest.mark.parametrize(("name", "low", "high"), [("gad7", 0, 3), ("bat23", 1, 5), ("olbi", 1, 4)])
def test_any_instrument_table_is_validated_by_its_definition(tmp_path, name, low, high):
    _write(tmp_path / "c")
    k = load_instrument(name).items
    good = [low] * k
    bad = [high + 1] + [low] * (k - 1)
    rows = [["a", 0, *good], ["b", 0, *bad], ["c", 0, low - 1, *good[1:]]]
    with (tmp_path / "c" / f"{name}.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["patient_id", "after_session", *(f"item_{i}" for i in range(1, k + 1))])
        w.writerows(rows)
    with pytest.raises(DataError) as err:
        load_cohort(tmp_path / "c", scheduled_assessments=(0, 1), scheduled_sessions=1, con=ibis.duckdb.connect())
    problems = [p for p in err.value.problems if p.file == f"{name}.csv"]
    assert {(p.line, p.column, p.value) for p in problems} == {
        (3, "item_1", str(high + 1)),
        (4, "item_1", str(low - 1)),
    }
    assert all(f"an integer {low}-{high}" in p.allowed for p in problems)


def test_a_secondary_instrument_with_reversed_items_against_the_exact_scorer(tmp_path):
    """OLBI (8 reversed items, one blank allowed per scale) as a secondary instrument: the
    completers' means and changes per scale equal the plain-Python exact scores; without a
    minimal change in its definition its response is not computed (null)."""
    import json
    import random

    from burnout import analyze

    _write(tmp_path / "c")
    rng = random.Random(20240917)
    olbi = {
        pid: [[rng.choice([1, 2, 3, 4] * 4 + [None] if t else [1, 2, 3, 4]) for _ in range(16)] for t in (0, 1)]
        for pid in PHQ
    }
    with (tmp_path / "c" / "olbi.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["patient_id", "after_session", *(f"item_{i}" for i in range(1, 17))])
        for pid, waves in olbi.items():
            for t, items in enumerate(waves):
                w.writerow([pid, t, *("" if v is None else v for v in items)])
    plan = parse_protocol(
        '[instruments]\nprimary = "phq9"\nsecondary = ["olbi"]\n[eligibility]\nrule = "total >= 10"\n'
        "[schedule]\nsessions = 1\nassessments = [0, 1]\n[privacy]\nmin_cell_count = 1\n"
    )
    results = json.loads(analyze(tmp_path / "c", protocol=plan).to_json())
    got = results["instruments"]["analyses"]["olbi"]
    assert got["role"] == "secondary"
    completers = ["a", "b", "d", "f", "g", "h", "i"]
    for scale in ("exhaustion", "disengagement"):
        rules = {**OLBI[scale], **OLBI_RULE}
        pairs = []
        for pid in completers:
            first, last = (reference_score(w, **rules) for w in olbi[pid])
            if first is not None and last is not None:
                pairs.append((first, last))
        body = got["scales"][scale]
        assert body["timepoints"]["1"]["n"] == len(pairs) >= 4
        firsts = [reference_score(olbi[pid][0], **rules) for pid in completers]
        assert body["timepoints"]["0"]["n"] == len(completers)  # at baseline: every completer scored there
        assert body["timepoints"]["0"]["mean"] == pytest.approx(float(sum(firsts) / len(firsts)), abs=1e-12)
        change = sum(b - a for a, b in pairs) / len(pairs)
        assert body["timepoints"]["1"]["change"] == pytest.approx(float(change), abs=1e-12)
        assert body["good"] == "lower" and body["min_change"] is None and body["response"] is None


def test_a_definition_min_change_needs_its_citation():
    from burnout.instruments import InstrumentError, parse_instrument

    text = (Path(__file__).parents[1] / "src" / "burnout" / "instruments" / "data" / "gad7.toml").read_text("utf-8")
    assert parse_instrument(text).scales["total"].min_change == 4
    cut = "\n".join(line for line in text.splitlines() if not line.startswith("min_change_citation"))
    with pytest.raises(InstrumentError, match="min_change needs min_change_citation"):
        parse_instrument(cut, source="mine.toml")


STRAIN = {
    "tension": {"items": (1, 2, 3), "scoring": "mean"},
    "fatigue": {"items": (4, 5, 6), "scoring": "mean"},
    "total": {"items": (1, 2, 3, 4, 5, 6), "scoring": "sum"},
}
STRAIN_RULE = {"low": 1, "high": 5, "max_blank": 1, "reverse": (3, 6)}
STRAIN_ANSWERS = {
    "a": ([4, 4, 1, 3, 3, 3], [2, 2, 4, 2, 2, 4]),  # tension (4 + 4 + 5) / 3 = 13/3 -> eligible
    "b": ([4, 3, None, 1, 1, 5], [1, 1, 5, 1, 1, 5]),  # tension 7/2: below 3.5? no, exactly 3.5
    "c": ([3, 3, 3, 3, 3, 3], [3, 3, 3, 3, 3, 3]),  # tension 3, total 18: not eligible
    "d": ([5, None, None, 5, 5, 1], [1, 1, 5, 1, 1, 5]),  # tension unscored; total unscored (2 blanks)
    "e": ([5, 5, 1, 5, 5, None], [None, None, None, 1, 1, 5]),  # total prorated 25 * 6/5 = 30 > 20
    "f": ([3, 4, 2, 3, 3, 3], [3, 3, 3, 3, 3, 3]),  # tension 11/3 >= 3.5: eligible, last tension 3
}


def _write_strain(tmp_path: Path) -> tuple[Path, Path]:
    """(cohort folder, plan file) for the strain scale as the primary instrument."""
    folder = tmp_path / "c"
    folder.mkdir()

    def write(name: str, header: list[str], rows: list[list[object]]) -> None:
        _write_csv(folder / f"{name}.csv", header, rows)

    write("patients", ["patient_id"], [[p] for p in STRAIN_ANSWERS])
    write("sessions", ["patient_id", "session"], [[p, 1] for p in STRAIN_ANSWERS])
    rows = [
        [p, t, *("" if v is None else v for v in items)]
        for p, waves in STRAIN_ANSWERS.items()
        for t, items in enumerate(waves)
    ]
    write("strain", ["patient_id", "after_session", *(f"item_{i}" for i in range(1, 7))], rows)
    (tmp_path / "defs").mkdir()
    (tmp_path / "defs" / "strain.toml").write_text(STRAIN_TOML, encoding="utf-8")
    plan = tmp_path / "protocol.toml"
    plan.write_text(
        '[instruments]\nprimary = "defs/strain.toml"\n[eligibility]\nrule = "tension >= 3.5 or total > 20"\n'
        "[schedule]\nsessions = 1\nassessments = [0, 1]\n[privacy]\nmin_cell_count = 1\n",
        encoding="utf-8",
    )
    return folder, plan


def test_a_user_definition_as_primary_is_read_validated_and_scored_exactly(tmp_path):
    from burnout.analysis import analyze

    folder, plan_path = _write_strain(tmp_path)
    plan = load_protocol(plan_path)
    cohort = load_cohort(
        folder,
        scheduled_assessments=(0, 1),
        scheduled_sessions=1,
        con=ibis.duckdb.connect(),
        primary=plan.instruments.primary_table,
        definitions=plan.instruments.user_definitions,
    )
    assert cohort.rows["strain"] == 2 * len(STRAIN_ANSWERS) and "mbi_gs" not in cohort.rows
    got = {r["patient_id"]: r for r in build_patient_table(cohort, plan).to_pyarrow().to_pylist()}
    units = 30  # lcm of the denominators: means of 2 or 3 items, a sum of 6 prorated over 5 (6/5)
    rule = eligibility_rule(plan)
    for pid, (first, last) in STRAIN_ANSWERS.items():
        scores = {s: reference_score(first, **STRAIN[s], **STRAIN_RULE) for s in STRAIN}
        for s, score in scores.items():
            assert got[pid][f"{PRIMARY_PREFIX}{s}_0"] == (None if score is None else score * units), (pid, s)
        met = evaluate_exact(rule, scores)
        assert got[pid]["threshold_met"] is bool(met), pid
    assert [p for p in STRAIN_ANSWERS if got[p]["threshold_met"]] == ["a", "b", "e", "f"]
    assert plan.instruments.definition("defs/strain.toml").units_per_point == units
    results = json.loads(analyze(folder, protocol=plan_path).to_json())
    body = results["instruments"]["analyses"]["defs/strain.toml"]
    assert body["role"] == "primary"
    completers = [p for p in STRAIN_ANSWERS if got[p]["completer"]]
    firsts = [reference_score(STRAIN_ANSWERS[p][0], **STRAIN["tension"], **STRAIN_RULE) for p in completers]
    assert body["scales"]["tension"]["timepoints"]["0"]["mean"] == pytest.approx(float(sum(firsts) / len(firsts)))


def test_a_user_definition_table_is_validated_by_its_answer_range(tmp_path):
    folder, plan_path = _write_strain(tmp_path)
    text = (folder / "strain.csv").read_text().replace("a,0,4,4,1,3,3,3", "a,0,4,4,1,3,3,6")
    (folder / "strain.csv").write_text(text)
    from burnout.analysis import analyze

    with pytest.raises(DataError) as err:
        analyze(folder, protocol=plan_path)
    (problem,) = err.value.problems
    assert (problem.file, problem.line, problem.column, problem.value) == ("strain.csv", 2, "item_6", "6")
    assert "an integer 1-5" in problem.allowed
    (folder / "strain.csv").unlink()
    with pytest.raises(DataError, match="strain.csv or strain.parquet"):
        analyze(folder, protocol=plan_path)


def test_validate_summary_counts_a_user_primary_instrument_by_its_table(tmp_path):
    # the plan names the definition by its path; the cohort table (and the summary) by its own name
    from burnout.summary import validate_and_summarize

    folder, plan_path = _write_strain(tmp_path)
    summary = validate_and_summarize(folder, protocol=plan_path)
    assert summary.primary == "strain"
    assert summary.assessments == {0: len(STRAIN_ANSWERS), 1: len(STRAIN_ANSWERS)}
    assert summary.scored == {}  # no MBI-GS subscales counted for another primary
