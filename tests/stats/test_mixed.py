"""_mixed.py (random-intercept LMM from pattern statistics) against statsmodels MixedLM on raw long data.

statsmodels fits the same model another way: from the long data (one row per
patient x assessment), with its own optimiser, parameterisation and likelihood code.
The standard errors are also checked against the dense GLS computation
``sigma^2 (sum_i X_i' V_i^{-1} X_i)^{-1}`` with explicit per-patient matrices.
"""

from __future__ import annotations

import math
import warnings

import ibis
import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf

from burnout.cohort import build_patient_table
from burnout.ingest import load_cohort
from burnout.instrument import SCALE, SUBSCALES
from burnout.measures import collect_beyond
from burnout.plan import load_protocol
from burnout.results import beyond_results
from burnout.simulate import simulate_cohort, write_cohort
from burnout.stats import PatternStats, RandomInterceptModel
from burnout.stats.mixed import pattern_stats_from_long


def _long_data(seed: int, *, n: int = 300, n_t: int = 4, tau: float = 0.8, sigma: float = 0.6) -> pd.DataFrame:
    """Unbalanced long data: dropout after a random number of visits and 10% intermittent gaps.

    Scores are integers in units of 1/60 (a 5- or 6-item mean), kept exact.
    """
    rng = np.random.default_rng(seed)
    b = rng.normal(0.0, tau, n)
    rows = []
    for i in range(n):
        stay = rng.integers(1, n_t + 1)
        for t in range(n_t):
            if t >= stay:
                break
            if t > 0 and rng.random() < 0.1:
                continue
            y = 5.0 - 0.3 * t + b[i] + rng.normal(0.0, sigma)
            rows.append((f"p{i}", t, round(y * 60)))
    df = pd.DataFrame(rows, columns=["pid", "t", "units"])
    df["y"] = df.units / 60
    return df


def _statsmodels(df: pd.DataFrame, *, reml: bool):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence chatter; the comparison is the test
        return smf.mixedlm("y ~ 0 + C(t)", df, groups=df.pid).fit(reml=reml)


@pytest.mark.parametrize(("seed", "method"), [(1, "reml"), (2, "reml"), (3, "ml"), (4, "ml")])
def test_means_and_variances_against_statsmodels_mixedlm(seed: int, method: str) -> None:
    df = _long_data(seed)
    model = RandomInterceptModel(method=method).fit(  # type: ignore[arg-type]
        pattern_stats_from_long(df.pid, df.t, df.units, n_timepoints=4), scale=60
    )
    ref = _statsmodels(df, reml=method == "reml")
    np.testing.assert_allclose(model.means_, ref.fe_params.to_numpy(), rtol=0, atol=1e-6)
    assert model.tau2_ == pytest.approx(float(ref.cov_re.iloc[0, 0]), rel=1e-4)
    assert model.sigma2_ == pytest.approx(float(ref.scale), rel=1e-4)
    assert model.neg2loglik_ == pytest.approx(-2.0 * ref.llf, rel=1e-9)
    # statsmodels takes its SEs from the observed Hessian (with fixed x variance cross
    # terms); ours are the GLS covariance given the variance components (lme4's vcov):
    # the two agree to within 0.5% here (0.14% at most over these seeds).
    np.testing.assert_allclose(model.se_, ref.bse_fe.to_numpy(), rtol=5e-3)
    assert model.patients_ == df.pid.nunique() and model.observations_ == len(df)


def test_standard_errors_against_dense_gls() -> None:
    df = _long_data(5)
    model = RandomInterceptModel().fit(pattern_stats_from_long(df.pid, df.t, df.units, n_timepoints=4), scale=60)
    xtvx = np.zeros((4, 4))
    xtvy = np.zeros(4)
    for _, g in df.groupby("pid"):
        x = np.eye(4)[g.t.to_numpy()]
        v = model.sigma2_ * np.eye(len(g)) + model.tau2_ * np.ones((len(g), len(g)))
        vi = np.linalg.inv(v)
        xtvx += x.T @ vi @ x
        xtvy += x.T @ vi @ g.y.to_numpy()
    np.testing.assert_allclose(model.means_, np.linalg.solve(xtvx, xtvy), rtol=0, atol=1e-10)
    np.testing.assert_allclose(model.se_, np.sqrt(np.diag(np.linalg.inv(xtvx))), rtol=1e-9)
    z = 1.959963984540054
    np.testing.assert_allclose(model.ci_[:, 0], model.means_ - z * model.se_, rtol=0, atol=1e-12)
    d, se, ci = model.difference(3, 0)  # type: ignore[misc]
    c = np.array([-1.0, 0.0, 0.0, 1.0])
    assert se == pytest.approx(math.sqrt(c @ np.linalg.inv(xtvx) @ c), rel=1e-9)
    assert d == pytest.approx(model.means_[3] - model.means_[0], abs=1e-12)


def test_no_between_patient_variance_gives_tau2_zero_and_the_plain_means() -> None:
    # Negative within-patient correlation: the likelihood is largest at tau^2 = 0,
    # where the model is ordinary least squares with one mean per timepoint.
    rows = []
    rng = np.random.default_rng(11)
    for i in range(60):
        a = int(rng.integers(200, 400))
        rows += [(i, 0, a), (i, 1, 600 - a)]
        if i % 3:
            rows.append((i, 2, int(rng.integers(200, 400))))
    df = pd.DataFrame(rows, columns=["pid", "t", "units"])
    model = RandomInterceptModel().fit(pattern_stats_from_long(df.pid, df.t, df.units, n_timepoints=3), scale=60)
    assert model.tau2_ == 0.0
    np.testing.assert_allclose(model.means_, df.groupby("t").units.mean().to_numpy() / 60, atol=1e-12)


def test_a_timepoint_nobody_reached_is_not_estimable() -> None:
    df = _long_data(6, n_t=3)
    stats = pattern_stats_from_long(df.pid, df.t, df.units, n_timepoints=4)  # t = 3 never observed
    model = RandomInterceptModel().fit(stats, scale=60)
    ref = RandomInterceptModel().fit(pattern_stats_from_long(df.pid, df.t, df.units, n_timepoints=3), scale=60)
    assert np.isnan(model.means_[3]) and model.difference(3, 0) is None
    np.testing.assert_allclose(model.means_[:3], ref.means_, atol=1e-12)


def test_invalid_inputs_name_the_problem() -> None:
    with pytest.raises(ValueError, match="method"):
        RandomInterceptModel(method="bayes")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="empty"):
        RandomInterceptModel().fit([])
    one = PatternStats(pattern=(True, False), patients=1, sums=(5, 0), sum_sq=25, sum_sq_totals=25)
    with pytest.raises(ValueError, match="residual"):
        RandomInterceptModel().fit([one])
    # 1 patient x 2 scores for 2 means: the message (published in results.json as the model's
    # problem, beside withheld visit counts) states the need, not the 2 scores found
    pair = PatternStats(pattern=(True, True), patients=1, sums=(5, 4), sum_sq=41, sum_sq_totals=81)
    with pytest.raises(ValueError, match="too few scores") as err:
        RandomInterceptModel().fit([pair])
    assert "2 scores" not in str(err.value) and "at least 3" in str(err.value)
    with pytest.raises(ValueError, match="at least one observed"):
        PatternStats(pattern=(False, False), patients=1, sums=(0, 0), sum_sq=0, sum_sq_totals=0)
    assert "not fitted" in repr(RandomInterceptModel())


# --------------------------------------------------------------------------- through the engine
@pytest.fixture(scope="module")
def engine_run(tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("mixed") / "cohort"
    write_cohort(simulate_cohort(threshold_met=300, seed=31), folder)
    plan = load_protocol().replace({"privacy.min_cell_count": 1})
    cohort = load_cohort(folder, con=ibis.duckdb.connect())
    table = build_patient_table(cohort, plan).cache()
    bm = collect_beyond(table, cohort, plan, imputations=2, iterations=1)
    rows = table.filter(table.threshold_met).to_pandas()  # tests may pull rows for an independent reference
    return plan, bm, rows


def test_engine_pattern_statistics_against_long_rows(engine_run) -> None:
    plan, bm, rows = engine_run
    times = list(plan.schedule.assessments)
    for s in SUBSCALES:
        long = rows.melt(id_vars="patient_id", value_vars=[f"{s}_{t}" for t in times]).dropna()
        long["t"] = long.variable.map({f"{s}_{t}": i for i, t in enumerate(times)})
        ref = pattern_stats_from_long(long.patient_id, long.t, long.value.astype("int64"), n_timepoints=len(times))
        assert sorted(bm.mixed[s], key=lambda p: p.pattern) == ref


def test_mixed_model_results_against_statsmodels_on_the_patient_table(engine_run) -> None:
    plan, bm, rows = engine_run
    tree = beyond_results(bm, plan, threshold_met=bm.threshold_met, completers=bm.completers)
    mm = tree["itt"]["mixed_model"]
    assert "missing at random" in mm["assumptions"]
    times = list(plan.schedule.assessments)
    for s in SUBSCALES:
        long = rows.melt(id_vars="patient_id", value_vars=[f"{s}_{t}" for t in times]).dropna()
        long["t"] = long.variable.str.rsplit("_", n=1).str[1].astype(int)
        long["y"] = long.value.astype(float) / SCALE
        ref = _statsmodels(long.rename(columns={"patient_id": "pid"}), reml=True)
        # SEs: the GLS covariance with statsmodels' variance components, from dense matrices.
        tau2, sigma2 = float(ref.cov_re.iloc[0, 0]), float(ref.scale)
        xtvx = np.zeros((len(times), len(times)))
        for _, g in long.groupby("patient_id"):
            x = np.eye(len(times))[[times.index(t) for t in g.t]]
            xtvx += x.T @ np.linalg.inv(sigma2 * np.eye(len(g)) + tau2 * np.ones((len(g), len(g)))) @ x
        se = np.sqrt(np.diag(np.linalg.inv(xtvx)))
        for i, t in enumerate(times):
            entry = mm[s]["timepoints"][str(t)]
            # 1e-5: on this larger cohort statsmodels' optimizer stops a few 1e-6 short of the
            # optimum (its gradient tolerance); the small-data test above holds 1e-6
            assert entry["mean"] == pytest.approx(float(ref.fe_params[f"C(t)[{t}]"]), abs=1e-5)
            assert entry["n"] == int((long.t == t).sum())
            half = (entry["ci"][1] - entry["ci"][0]) / 2
            assert half == pytest.approx(1.959963984540054 * se[i], rel=1e-4)
        assert mm[s]["variance"]["between_patients"] == pytest.approx(tau2, rel=1e-4)
        assert mm[s]["patients"] == long.patient_id.nunique()
