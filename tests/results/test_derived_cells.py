"""Cells given back by published statistics and their margins (privacy audit, group 2): the
PHQ-9 x subscale table, the response-pattern table behind McNemar/Cochran's Q, and the MI
tipping rates beside a hidden worst case."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any, cast

import ibis
import pytest

from burnout import privacy
from burnout.cohort import build_patient_table
from burnout.ingest import load_cohort
from burnout.instrument import SUBSCALES
from burnout.measures import collect_beyond
from burnout.measures._aggregates import Moments
from burnout.measures.phq9 import SUBSCALE_CELLS, Phq9Measures
from burnout.plan import load_protocol
from burnout.results import beyond_results
from burnout.results._common import BuildContext
from burnout.results.comparison import comparison_results
from burnout.results.phq9 import phq9_results
from burnout.simulate import simulate_cohort, write_cohort

K = 11


def _phq9(cells: dict[str, int]) -> Phq9Measures:
    """PHQ-9 measures whose subscale x PHQ-9 table is ``cells`` for every subscale."""
    r_q, r_other, _, nr_q, nr_other, _ = (cells[c] for c in SUBSCALE_CELLS)
    denominator = r_q + r_other + nr_q + nr_other
    return Phq9Measures(
        population="completers",
        first=0,
        last=6,
        timepoints={0: Moments(0, 0, 0), 6: Moments(0, 0, 0)},
        changes={6: Moments(0, 0, 0)},
        response=(r_q + nr_q, denominator),
        remission=(20, denominator),
        adjusted={},
        subscale_cells={s: dict(cells) for s in SUBSCALES},
    )


def test_subscale_not_phq9_is_withheld_when_it_gives_back_a_small_cell() -> None:
    # the audit's case: 3 subscale responders outside the PHQ-9 denominator (R - n = 3)
    small = dict(zip(SUBSCALE_CELLS, (40, 30, 3, 25, 60, 50), strict=True))
    out = phq9_results(_phq9(small), load_protocol(), publisher=privacy.Publisher(min_cell_count=K))
    for s in SUBSCALES:
        entry = out["subscale_responders_not_phq9_responders"][s]
        assert entry["suppressed"] and entry["count"] is None and entry["n"] is None
    safe = small | {"responder_outside_denominator": 12}
    out = phq9_results(_phq9(safe), load_protocol(), publisher=privacy.Publisher(min_cell_count=K))
    assert out["subscale_responders_not_phq9_responders"]["exhaustion"]["count"] == 30


def _comparison(patterns: dict[tuple[bool, bool, bool], int]) -> dict[str, Any]:
    pub = privacy.Publisher(min_cell_count=K)
    ctx = cast(BuildContext, SimpleNamespace(m=SimpleNamespace(response_patterns=patterns), pub=pub, comp_pub=True))
    shown = {"suppressed": False}
    return comparison_results(ctx, {s: {"response": shown} for s in SUBSCALES}, {"all_3": shown})


def test_mcnemar_and_q_are_withheld_over_a_small_response_pattern() -> None:
    flags = [(a, b, c) for a in (True, False) for b in (True, False) for c in (True, False)]
    patterns = dict.fromkeys(flags, 30)
    out = _comparison(patterns)
    assert not out["cochran_q"].get("withheld") and not any(t["suppressed"] for t in out["mcnemar"].values())
    # one pattern of 4 (the audit rebuilt it from the statistics and the margins); discordant cells stay large
    out = _comparison(patterns | {(True, False, True): 4})
    assert out["cochran_q"]["withheld"] and out["cochran_q"]["statistic"] is None
    assert all(t["suppressed"] and t["statistic"] is None for t in out["mcnemar"].values())


@pytest.fixture(scope="module")
def delta6_tree(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("delta6") / "cohort"
    write_cohort(simulate_cohort(threshold_met=300, seed=1), folder)
    plan = load_protocol().replace({"sensitivity.delta_grid": [0.0, 6.0]})
    cohort = load_cohort(folder, con=ibis.duckdb.connect())
    table = build_patient_table(cohort, plan).cache()
    bm = collect_beyond(table, cohort, plan, imputations=3, iterations=2)
    return beyond_results(bm, plan, threshold_met=bm.threshold_met, completers=bm.completers)


def test_mi_and_tipping_rates_are_withheld_with_a_hidden_worst_case(delta6_tree: dict[str, Any]) -> None:
    itt = delta6_tree["itt"]
    mi = itt["multiple_imputation"]
    hidden = 0
    for s in (*SUBSCALES, "at_least_1"):
        worst = itt["worst_case"]["responders"]["at_least_1"] if s == "at_least_1" else itt["worst_case"][s]["response"]
        pooled = mi["responders"]["at_least_1"] if s == "at_least_1" else mi[s]["response"]
        if worst["suppressed"]:
            hidden += 1
            # the rate at delta 6 x N would be the hidden worst-case count
            assert pooled["rate"] is None and mi["tipping"][s]["rate"] is None
    assert hidden, "the fixture must hide a worst case to test anything"
