"""_imputation.py and the pooled MI rates of beyond.py against independent references.

- the parameter draws against the analytic posterior of a normal linear regression;
- the pooled rates against Rubin's rules applied by hand to the logits;
- recovery of a known full-data response rate under MAR dropout, where the
  complete-case rate is biased;
- reproducibility from the seed, independence from row order, and that decisions made
  on observed scores are never changed by imputation.
"""

from __future__ import annotations

import math

import ibis
import numpy as np
import pytest
from scipy import special, stats

from burnout.cohort import build_patient_table
from burnout.ingest import load_cohort
from burnout.instrument import SUBSCALES
from burnout.measures import collect_beyond
from burnout.plan import load_protocol
from burnout.results import beyond_results, dumps
from burnout.simulate import simulate_cohort, write_cohort
from burnout.stats import impute_responses
from burnout.stats._fcs import _posterior_draw


# --------------------------------------------------------------------------- the posterior draw
def test_posterior_draw_against_the_analytic_posterior() -> None:
    """beta* ~ multivariate t around beta_hat with E[cov] = RSS/(df-2) (X'X)^-1; E[sigma*^2] = RSS/(df-2).

    The draw the chains make (from X'X, X'y, y'y and n; the public draw_regression wrapper
    that took raw rows was used only here and is gone).

    20,000 draws: Monte Carlo SD of a variance ratio is about 1.1% (t with 22 df), so 5%
    is over 4 SDs; a draw that only added residual noise (no parameter draw) has zero
    spread in beta and fails at once.
    """
    rng = np.random.default_rng(3)
    n, q = 25, 3
    x = np.column_stack([np.ones(n), rng.normal(size=(n, q - 1))])
    y = x @ np.array([1.0, 2.0, -0.5]) + rng.normal(scale=0.7, size=n)
    xtx_inv = np.linalg.inv(x.T @ x)
    beta_hat = xtx_inv @ x.T @ y
    rss = float(np.sum((y - x @ beta_hat) ** 2))
    df = n - q
    draws_rng = np.random.default_rng(4)
    xtx, xty, yty = x.T @ x, x.T @ y, float(y @ y)
    draws = (_posterior_draw(draws_rng, xtx, xty, yty, n)[1:] for _ in range(20_000))
    betas, sigmas = zip(*draws, strict=True)
    b = np.array(betas)
    s2 = np.array(sigmas) ** 2
    expected_s2 = rss / (df - 2)
    assert s2.mean() == pytest.approx(expected_s2, rel=0.03)
    expected_cov = expected_s2 * xtx_inv
    np.testing.assert_allclose(np.cov(b.T), expected_cov, rtol=0.05, atol=0.05 * np.abs(expected_cov).max())
    se_mc = np.sqrt(np.diag(expected_cov) / len(b))
    assert np.all(np.abs(b.mean(axis=0) - beta_hat) < 4 * se_mc)


# --------------------------------------------------------------------------- MAR recovery
def _mar_data(seed: int, n: int = 2000):
    """Three correlated subscales at 4 timepoints, linear-Gaussian (so FCS with norm is correct).

    Dropout is monotone and MAR: after each follow-up, patients whose exhaustion and
    cynicism had improved least so far (observed) are the most likely to stop.
    """
    rng = np.random.default_rng(seed)
    n_s, n_t = 3, 4
    direction = np.array([-1, -1, 1])
    latent = rng.multivariate_normal(np.zeros(n_s), [[1, 0.5, -0.3], [0.5, 1, -0.3], [-0.3, -0.3, 1]], size=n)
    slope = rng.multivariate_normal(np.zeros(n_s), 0.16 * np.eye(n_s), size=n)
    base = np.array([5.5, 4.9, 3.8])
    drift = np.array([-0.35, -0.3, 0.08])
    full = np.empty((n, n_s, n_t))
    for t in range(n_t):
        full[:, :, t] = base + 0.5 * latent + t * (drift + slope) + rng.normal(scale=0.45, size=(n, n_s))
    full = np.clip(np.round(full * 5), 0, 30)  # units of 0.2 point on 0-6, as a 5-item subscale mean
    observed = full.copy()
    stay = np.ones(n, dtype=bool)
    for t in range(1, n_t):
        gain = (observed[:, :2, 0] - observed[:, :2, t - 1]).sum(axis=1) / 5 if t > 1 else np.zeros(n)
        p_drop = special.expit(-1.0 - 1.5 * gain) if t > 1 else np.full(n, 0.3)
        stay &= rng.random(n) >= p_drop
        observed[~stay, :, t] = np.nan
    truth = (full[:, :, -1] - full[:, :, 0]) * direction >= 5
    both = ~np.isnan(observed[:, :, 0]) & ~np.isnan(observed[:, :, -1])
    decided = np.where(both, truth.astype(int), -1)
    covariates = rng.normal(size=(n, 2))
    return observed, covariates, decided, truth, direction


def test_mi_recovers_the_full_data_rate_under_mar_where_completers_are_biased() -> None:
    observed, covariates, decided, truth, direction = _mar_data(2024)
    summary = impute_responses(
        observed,
        covariates,
        decided,
        subscales=SUBSCALES,
        good_direction=direction,
        min_change=5,
        scale=5,
        imputations=20,
        iterations=5,
        seed=1,
    )
    n = observed.shape[0]
    completers = decided[:, 0] >= 0
    for i, s in enumerate(SUBSCALES):
        true_rate = truth[:, i].mean()
        cc_rate = truth[completers, i].mean()
        rates = summary.rates(s)
        logit = special.logit(rates)
        u = 1.0 / (n * np.array(rates) * (1 - np.array(rates)))
        qbar, w, b = logit.mean(), u.mean(), logit.var(ddof=1)
        total = w + (1 + 1 / 20) * b
        df = 19 * (1 + w / ((1 + 1 / 20) * b)) ** 2
        half = stats.t.ppf(0.975, df) * math.sqrt(total)
        low, high = special.expit(qbar - half), special.expit(qbar + half)
        assert low <= true_rate <= high, (s, low, true_rate, high)
        if s != "professional_efficacy":  # dropout follows E and C: completers over-state their response
            assert cc_rate - true_rate > 0.05
            assert abs(special.expit(qbar) - true_rate) < abs(cc_rate - true_rate) / 4, (s, cc_rate, true_rate)
    true_any = truth.any(axis=1).mean()
    assert abs(np.mean(summary.rates("at_least_1")) - true_any) < 0.03


def test_observed_decisions_are_never_changed() -> None:
    observed, covariates, decided, truth, direction = _mar_data(7, n=400)
    # first and last observed for everyone; only the middle assessments are missing
    full_ends = observed.copy()
    full_ends[:, :, 0] = np.where(np.isnan(observed[:, :, 0]), 25.0, observed[:, :, 0])
    full_ends[:, :, -1] = np.nan_to_num(observed[:, :, -1], nan=20.0)
    dec = ((full_ends[:, :, -1] - full_ends[:, :, 0]) * direction >= 5).astype(int)
    summary = impute_responses(
        full_ends,
        covariates,
        dec,
        subscales=SUBSCALES,
        good_direction=direction,
        min_change=5,
        scale=5,
        imputations=3,
        iterations=2,
        seed=5,
    )
    for i, s in enumerate(SUBSCALES):
        assert summary.responders[s] == (int(dec[:, i].sum()),) * 3
        assert summary.decided_on_observed[s] == 400


def test_reproducible_from_the_seed_and_independent_of_row_order() -> None:
    observed, covariates, decided, _, direction = _mar_data(9, n=300)
    kw = dict(subscales=SUBSCALES, good_direction=direction, min_change=5, scale=5, imputations=4, iterations=3)
    a = impute_responses(observed, covariates, decided, seed=11, **kw)
    b = impute_responses(observed, covariates, decided, seed=11, **kw)
    perm = np.random.default_rng(0).permutation(len(observed))
    c = impute_responses(observed[perm], covariates[perm], decided[perm], seed=11, **kw)
    d = impute_responses(observed, covariates, decided, seed=12, **kw)
    assert a == b == c
    assert a.responders != d.responders
    assert a.imputed_scores == int(np.isnan(observed).sum())


def test_invalid_inputs_name_the_problem() -> None:
    observed, covariates, decided, _, direction = _mar_data(9, n=50)
    kw = dict(subscales=SUBSCALES, good_direction=direction, min_change=5, scale=5, seed=1)
    with pytest.raises(ValueError, match="imputations"):
        impute_responses(observed, covariates, decided, imputations=1, **kw)
    empty = observed.copy()
    empty[1:, 2, 3] = np.nan
    empty[0, 2, 3] = 20.0
    with pytest.raises(ValueError, match="professional_efficacy at timepoint index 3 has fewer than 2") as err:
        impute_responses(empty, covariates, decided, **kw)
    assert " 1 " not in str(err.value)  # the message reaches results.json: no small count in it
    with pytest.raises(ValueError, match="covariates"):
        impute_responses(observed, covariates[:10], decided, **kw)


# --------------------------------------------------------------------------- through the engine
@pytest.fixture(scope="module")
def engine_run(tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("mi") / "cohort"
    write_cohort(simulate_cohort(threshold_met=250, seed=17), folder)
    plan = load_protocol().replace({"privacy.min_cell_count": 1})
    cohort = load_cohort(folder, con=ibis.duckdb.connect())
    table = build_patient_table(cohort, plan).cache()
    return plan, cohort, table, collect_beyond(table, cohort, plan)


def test_pooled_rates_against_hand_applied_rubin_rules(engine_run) -> None:
    plan, _, _, bm = engine_run
    tree = beyond_results(bm, plan, threshold_met=bm.threshold_met, completers=bm.completers)
    mi = tree["itt"]["multiple_imputation"]
    n, m = bm.threshold_met, plan.imputation.m
    assert bm.imputation is not None and bm.imputation.imputations == m and bm.imputation.n == n
    for outcome in (*SUBSCALES, "at_least_1"):
        entry = mi["responders"]["at_least_1"] if outcome == "at_least_1" else mi[outcome]["response"]
        p = np.array(bm.imputation.responders[outcome]) / n
        q = np.log(p / (1 - p))  # logit of each completed-data rate
        u = 1 / (n * p * (1 - p))  # its delta-method variance
        qbar, w = q.mean(), u.mean()
        b = ((q - qbar) ** 2).sum() / (m - 1)
        t_var = w + (1 + 1 / m) * b
        r = (1 + 1 / m) * b / w
        df_old = (m - 1) * (1 + 1 / r) ** 2  # Rubin (1987) eq. 3.1.6
        lam = (1 + 1 / m) * b / t_var  # fraction of missing information
        nu_com = n - 1  # complete-data df of a proportion
        nu_obs = (nu_com + 1) / (nu_com + 3) * nu_com * (1 - lam)
        df = 1 / (1 / df_old + 1 / nu_obs)  # Barnard & Rubin (1999) eq. 3
        half = stats.t.ppf(0.975, df) * math.sqrt(t_var)
        expit = lambda v: 1 / (1 + math.exp(-v))  # noqa: E731
        assert entry["imputations"] == m and entry["suppressed"] is False
        assert entry["rate"] == pytest.approx(expit(qbar), abs=1e-12)
        assert entry["ci"][0] == pytest.approx(expit(qbar - half), abs=1e-12)
        assert entry["ci"][1] == pytest.approx(expit(qbar + half), abs=1e-12)
    assert "seed 20240917" in mi["method"]


def test_engine_run_keeps_observed_decisions_and_is_deterministic(engine_run) -> None:
    plan, cohort, table, bm = engine_run
    rows = table.filter(table.threshold_met).to_pyarrow().to_pandas()
    for s in SUBSCALES:
        both = rows[f"{s}_0"].notna() & rows[f"{s}_6"].notna()
        assert bm.imputation.decided_on_observed[s] == int(both.sum())
        observed_responders = int((both & rows[f"response_{s}"]).sum())
        # imputed patients can only add responders to those decided on observed scores
        assert min(bm.imputation.responders[s]) >= observed_responders
        assert max(bm.imputation.responders[s]) <= observed_responders + int((~both).sum())
    again = collect_beyond(table, cohort, plan)
    kw = dict(threshold_met=bm.threshold_met, completers=bm.completers)
    assert dumps(beyond_results(again, plan, **kw)) == dumps(beyond_results(bm, plan, **kw))
    other = collect_beyond(table, cohort, plan.replace({"analysis.seed": 1}), imputations=2, iterations=1)
    assert other.imputation.seed == 1 and other.imputation.imputations == 2


def test_estimand_never_treated_and_tipping_table(engine_run) -> None:
    plan, _, table, bm = engine_run
    tree = beyond_results(bm, plan, threshold_met=bm.threshold_met, completers=bm.completers)
    mi = tree["itt"]["multiple_imputation"]
    rows = table.filter(table.threshold_met).to_pyarrow().to_pandas()
    untreated = rows[rows.sessions_delivered == 0]
    # never treated: counted, not imputed, and (min_change > 0) never responders unless observed
    assert bm.imputation.fixed == len(untreated) > 0
    assert mi["never_treated"] == len(untreated) and mi["patients_imputed"] == bm.threshold_met
    est = mi["estimand"]
    assert set(est) == {"population", "variable", "intercurrent_events", "summary_measure", "missing_data_assumption"}
    assert "missing at random" in est["missing_data_assumption"]
    assert any("never" in e["event"] for e in est["intercurrent_events"])
    tip = mi["tipping"]
    assert tip["deltas"][0] == 0.0 and tip["deltas"] == sorted(tip["deltas"])
    for o in (*SUBSCALES, "at_least_1"):
        primary = mi["responders"]["at_least_1"] if o == "at_least_1" else mi[o]["response"]
        rates = tip[o]["rate"]
        assert rates[0] == pytest.approx(primary["rate"], abs=1e-12)
        assert all(b <= a + 1e-12 for a, b in zip(rates, rates[1:]))  # monotone in delta
        below = [d for d, r in zip(tip["deltas"], rates) if r < primary["ci"][0]]
        assert tip[o]["tipping_point"] == (below[0] if below else None)
        counts = np.array([d[o] for d in bm.imputation.shifted])
        assert (np.diff(counts, axis=0) <= 0).all()
