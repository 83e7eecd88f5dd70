"""results/mmrm.py: itt.mmrm and itt.mmrm_tipping through the engine, against references on pulled rows.

The product fits the MMRM from the engine's per-pattern aggregates; the test pulls the
threshold-met rows and fits the REML of an unstructured MMRM written out here (per-pattern
blocks, scipy's optimiser; the product's fit, Kenward-Roger included, is validated in
tests/stats/test_mmrm.py), then checks what the publisher lets through and the tipping
table's arithmetic.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import ibis
import numpy as np
import pytest
from scipy import optimize, stats

from burnout.cohort import build_patient_table
from burnout.ingest import load_cohort
from burnout.instrument import GOOD_DIRECTION, SCALE, SUBSCALES
from burnout.measures import collect_beyond
from burnout.plan import load_protocol
from burnout.results import beyond_results
from burnout.simulate import simulate_cohort, write_cohort

TIMES = (0, 2, 4, 6)


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("mmrm") / "cohort"
    write_cohort(simulate_cohort(threshold_met=300, seed=41), folder)
    plan = load_protocol().replace({"privacy.min_cell_count": 1, "sensitivity.delta_grid": [0, 0.5, 1, 2, 4]})
    cohort = load_cohort(folder, con=ibis.duckdb.connect())
    table = build_patient_table(cohort, plan).cache()
    bm = collect_beyond(table, cohort, plan, imputations=2, iterations=1)
    rows = table.filter(table.threshold_met).to_pandas()
    return {"plan": plan, "bm": bm, "rows": rows}


def _tree(run: dict[str, Any], k: int) -> dict[str, Any]:
    plan = run["plan"].replace({"privacy.min_cell_count": k})
    bm = run["bm"]
    return beyond_results(bm, plan, threshold_met=bm.threshold_met, completers=bm.completers)["itt"]


@dataclass(frozen=True)
class _Reml:
    """An independent REML fit: visit means, Sigma and the GLS covariance of the means (points)."""

    means: np.ndarray
    sigma: np.ndarray
    cov_means: np.ndarray


def _reference(rows: Any, s: str) -> _Reml:
    """REML for an unstructured MMRM written out on the pulled rows, sharing nothing with
    stats.mmrm: patients grouped by their observed visits, -2 log-likelihood as the sum over
    groups of n log|S_v| + tr(S_v^-1 R'R) plus log|X'V^-1 X|, Sigma through a Cholesky factor
    with a log diagonal, minimised by scipy's L-BFGS-B on numerical gradients."""
    y = rows[[f"{s}_{t}" for t in TIMES]].to_numpy(dtype=float) / SCALE
    seen = ~np.isnan(y)
    patterns = sorted({tuple(r) for r in seen.tolist() if any(r)})
    groups = [(np.flatnonzero(v), y[(seen == v).all(axis=1)][:, np.flatnonzero(v)]) for v in patterns]
    k = len(TIMES)
    lower = np.tril_indices(k)

    def sigma_of(theta: np.ndarray) -> np.ndarray:
        chol = np.zeros((k, k))
        chol[lower] = theta
        chol[np.diag_indices(k)] = np.exp(np.diag(chol))
        return chol @ chol.T

    def gls(sig: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        info, score = np.zeros((k, k)), np.zeros(k)
        for v, block in groups:
            inv = np.linalg.inv(sig[np.ix_(v, v)])
            info[np.ix_(v, v)] += len(block) * inv
            score[v] += inv @ block.sum(axis=0)
        return np.linalg.solve(info, score), info

    def neg2(theta: np.ndarray) -> float:
        sig = sigma_of(theta)
        beta, info = gls(sig)
        total = np.linalg.slogdet(info)[1]
        for v, block in groups:
            sv = sig[np.ix_(v, v)]
            resid = block - beta[v]
            total += len(block) * np.linalg.slogdet(sv)[1] + np.trace(np.linalg.solve(sv, resid.T @ resid))
        return float(total)

    start = np.zeros(len(lower[0]))
    start[lower[0] == lower[1]] = np.log(np.nanstd(y, axis=0))
    fit = optimize.minimize(neg2, start, method="L-BFGS-B", options={"ftol": 1e-15, "gtol": 1e-9, "maxiter": 5000})
    sig = sigma_of(fit.x)
    beta, info = gls(sig)
    return _Reml(means=beta, sigma=sig, cov_means=np.linalg.inv(info))


def test_mmrm_results_against_an_independent_reml_on_pulled_rows(run: dict[str, Any]) -> None:
    itt = _tree(run, 1)
    rows = run["rows"]
    for s in SUBSCALES:
        ref = _reference(rows, s)
        entry = itt["mmrm"][s]
        assert entry["patients"] == len(rows)
        assert entry["observations"] == int(rows[[f"{s}_{t}" for t in TIMES]].notna().sum().sum())
        assert entry["converged"] is True
        for j, t in enumerate(TIMES):
            tp = entry["timepoints"][str(t)]
            assert tp["n"] == int(rows[f"{s}_{t}"].notna().sum())
            # the two optimisers stop at slightly different points of a flat optimum (~1e-8 apart here)
            assert tp["mean"]["estimate"] == pytest.approx(ref.means[j], abs=1e-6)
            if j:
                change, lo, hi = tp["change"]["estimate"], *tp["change"]["ci"]
                assert change == pytest.approx(ref.means[j] - ref.means[0], abs=1e-6)
                naive_se = float(np.sqrt(ref.cov_means[j, j] + ref.cov_means[0, 0] - 2 * ref.cov_means[0, j]))
                # Kenward-Roger inflates the model-based SE, never shrinks it, and only a little here
                assert naive_se * (1 - 1e-4) <= tp["change"]["se"] <= naive_se * 1.05
                # the interval is the t interval on that SE and the reported df
                half = stats.t.ppf(0.975, tp["change"]["df"]) * tp["change"]["se"]
                assert (lo, hi) == pytest.approx((change - half, change + half), abs=1e-12)
        sd = np.sqrt(np.diag(ref.sigma))
        assert entry["sd"]["0"] == pytest.approx(sd[0], rel=1e-6)
        np.testing.assert_allclose(entry["correlation"], ref.sigma / np.outer(sd, sd), atol=1e-6)


def test_tipping_table_arithmetic(run: dict[str, Any]) -> None:
    itt = _tree(run, 1)
    rows = run["rows"]
    for s in SUBSCALES:
        tip = itt["mmrm_tipping"][s]
        missing_last = int(rows[f"{s}_6"].isna().sum())
        assert tip["dropout_share"] == pytest.approx(missing_last / len(rows), abs=1e-12)
        mar = itt["mmrm"][s]["timepoints"]["6"]["change"]
        assert tip["rows"][0]["change"] == pytest.approx(mar["estimate"], abs=1e-12)
        worse = -GOOD_DIRECTION[s]  # the shift is in the worse direction
        for r in tip["rows"]:
            assert r["change"] - mar["estimate"] == pytest.approx(worse * r["delta"] * tip["dropout_share"], abs=1e-12)
            assert r["includes_0"] == (r["ci"][0] <= 0 <= r["ci"][1])
        if tip["tipping_delta"]:
            # at the tipping delta the interval's end nearest 0 sits exactly on 0
            moved = worse * tip["tipping_delta"] * tip["dropout_share"]
            end = (mar["ci"][1] if GOOD_DIRECTION[s] < 0 else mar["ci"][0]) + moved
            assert end == pytest.approx(0.0, abs=1e-12)
            first = next((r["delta"] for r in tip["rows"] if r["delta"] >= tip["tipping_delta"]), None)
            assert tip["tipping_on_grid"] == first
    assert itt["mmrm_tipping"]["delta_grid"] == [0.0, 0.5, 1.0, 2.0, 4.0]


def test_privacy_withholds_what_rests_on_few_patients(run: dict[str, Any]) -> None:
    rows = run["rows"]
    n = len(rows)
    big = _tree(run, n + 1)  # every count small: the whole model withheld
    for s in SUBSCALES:
        entry = big["mmrm"][s]
        assert entry["patients"] is None and entry["observations"] is None and entry["correlation"] is None
        for t in TIMES:
            tp = entry["timepoints"][str(t)]
            assert tp["n"] is None and tp["mean"]["estimate"] is None
        assert big["mmrm_tipping"][s]["rows"] == [] and big["mmrm_tipping"][s]["dropout_share"] is None
    # k just above the number of patients scored at the last assessment: that visit and the tipping table go
    last = min(int(rows[f"{s}_6"].notna().sum()) for s in SUBSCALES)
    mid = _tree(run, last + 1)
    s = next(s for s in SUBSCALES if int(rows[f"{s}_6"].notna().sum()) == last)
    assert mid["mmrm"][s]["timepoints"]["6"]["change"]["estimate"] is None
    assert mid["mmrm"][s]["timepoints"]["0"]["mean"]["estimate"] is not None
    assert mid["mmrm_tipping"][s]["tipping_delta"] is None


def test_visit_n_hidden_when_it_gives_away_the_few_non_completers_scored_there() -> None:
    """An audit planted 3 non-completers scored after session 2: attrition's early change hid
    their n, yet the MMRM's n at session 2 (44) minus the published completers (41) gave it back."""
    from types import SimpleNamespace

    from burnout import privacy
    from burnout.results.mmrm import visit_counts
    from burnout.stats import PatternStats

    def scored(pattern: tuple[bool, ...], patients: int) -> PatternStats:
        sums = tuple(24 * patients if seen else 0 for seen in pattern)
        return PatternStats(pattern, patients, sums, 0, 0)

    # baseline all 184; 3, 11 and 0 non-completers scored at the visits after (41 completers)
    patterns = [
        scored((True, True, True, True), 41),
        scored((True, True, False, False), 3),
        scored((True, False, True, False), 11),
        scored((True, False, False, False), 129),
    ]
    bm = SimpleNamespace(threshold_met=184, completers=41, timepoints=(0, 2, 4, 6), mixed={"exhaustion": patterns})
    pub = privacy.Publisher(min_cell_count=11)
    observed, hidden = visit_counts(pub, bm, "exhaustion", whole=True)  # type: ignore[arg-type] # a stand-in with the counts used
    assert observed == [184, 44, 52, 41] and hidden == [False, True, False, False]
    assert pub.hidden_counts["statistic"] == 1
    assert visit_counts(privacy.Publisher(min_cell_count=11), bm, "exhaustion", whole=False)[1] == [True] * 4  # type: ignore[arg-type] # as above
