"""The threshold and profile shares expected with no true change (stats.no_change)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from burnout.stats import no_change
from burnout.stats.inference import expected_response_without_change
from burnout.stats.no_change import expected_below_threshold, expected_leaving_burnout, no_change_model

MEAN = (3.2, 2.4, 4.1)
SD = np.array([1.1, 1.3, 1.0])
CORR = np.array([[1.0, 0.5, -0.3], [0.5, 1.0, -0.35], [-0.3, -0.35, 1.0]])
COV = CORR * np.outer(SD, SD)
RHO = (0.65, 0.60, 0.67)
THRESHOLD = {"exhaustion_min": 3.6, "cynicism_min": 2.8, "efficacy_max": 3.8}


def _classical_simulation(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """X = T + E1, Y = T + E2 drawn directly (no conditional formula): the independent reference."""
    rng = np.random.default_rng(seed)
    error_var = (1 - np.asarray(RHO)) * SD**2
    true = rng.multivariate_normal(MEAN, COV - np.diag(error_var), size=n)
    x = true + rng.normal(size=(n, 3)) * np.sqrt(error_var)
    y = true + rng.normal(size=(n, 3)) * np.sqrt(error_var)
    return x, y


def _meets(z: np.ndarray) -> np.ndarray:
    t = THRESHOLD
    return (z[:, 0] >= t["exhaustion_min"]) & ((z[:, 1] >= t["cynicism_min"]) | (z[:, 2] <= t["efficacy_max"]))


def test_expected_below_threshold_against_monte_carlo_of_the_classical_model() -> None:
    x, y = _classical_simulation(60_000, seed=1)
    selected = _meets(x)
    xs, ys = x[selected][:3000], y[selected][:3000]
    got = expected_below_threshold({tuple(row): 1 for row in xs}, no_change_model(MEAN, COV, RHO), **THRESHOLD)
    observed = float(np.mean(~_meets(ys)))
    # Bernoulli SE over 3,000 follow-ups is <= 0.0092; 3.5 SE
    assert got == pytest.approx(observed, abs=0.032)
    assert 0.2 < observed < 0.8  # regression to the mean moves a sizeable share out


def test_expected_leaving_burnout_against_monte_carlo_of_the_classical_model() -> None:
    x, y = _classical_simulation(60_000, seed=2)
    cut_e, cut_c = 4.0, 3.0
    burnout = (x[:, 0] >= cut_e) & (x[:, 1] >= cut_c)
    xs, ys = x[burnout][:3000], y[burnout][:3000]
    got = expected_leaving_burnout(
        {tuple(row): 1 for row in xs}, no_change_model(MEAN, COV, RHO), exhaustion_cut=cut_e, cynicism_cut=cut_c
    )
    observed = float(np.mean(~((ys[:, 0] >= cut_e) & (ys[:, 1] >= cut_c))))
    assert got == pytest.approx(observed, abs=0.032)  # as above: 3.5 Bernoulli SE
    assert observed > 0.2


def test_one_subscale_reduces_to_the_bivariate_response_formula() -> None:
    """With uncorrelated subscales, leaving E >= cut equals expected_response_without_change's
    P(fall >= x - cut) at each baseline: the same bivariate normal written another way."""
    cov = np.diag(SD**2)
    model = no_change_model(MEAN, cov, RHO)
    x = (5.0, 9.0, 4.0)  # cynicism far above its cut: only exhaustion can leave
    got = expected_leaving_burnout({x: 1}, model, exhaustion_cut=4.0, cynicism_cut=-50.0)
    # leaving means Y_E < 4.0, i.e. a fall of more than 1.0 from 5.0
    ref = expected_response_without_change({5.0: 1}, mean=MEAN[0], sd=SD[0], rho=RHO[0], min_change=1.0, direction=-1)
    assert got == pytest.approx(ref, abs=1e-9)


def test_rho_one_leaves_nobody_and_rho_zero_is_the_reference_distribution() -> None:
    model = no_change_model(MEAN, COV, (0.999999, 0.999999, 0.999999))
    assert expected_leaving_burnout({(5.0, 4.0, 3.0): 1}, model, exhaustion_cut=4.0, cynicism_cut=3.0) < 1e-6
    # rho = 0 (only possible for uncorrelated subscales): the follow-up forgets the baseline,
    # P(not met) = 1 - P(E >= e) (1 - P(C < c) P(PE > p)) by independence, entered by hand
    model = no_change_model(MEAN, np.diag(SD**2), (0.0, 0.0, 0.0))
    got = expected_below_threshold({(6.0, 6.0, 0.0): 1}, model, **THRESHOLD)
    t, norm = THRESHOLD, stats.norm
    p_e = norm.sf(t["exhaustion_min"], MEAN[0], SD[0])
    neither = norm.cdf(t["cynicism_min"], MEAN[1], SD[1]) * norm.sf(t["efficacy_max"], MEAN[2], SD[2])
    assert got == pytest.approx(1 - p_e * (1 - neither), abs=1e-5)


def test_reliabilities_too_low_for_the_correlations_fail_with_a_fix() -> None:
    cov = np.array([[1.0, 0.9, 0.0], [0.9, 1.0, 0.0], [0.0, 0.0, 1.0]])
    with pytest.raises(ValueError, match="set larger ones"):
        no_change_model((0, 0, 0), cov, (0.5, 0.5, 0.5))
    with pytest.raises(ValueError, match="rho"):
        no_change_model((0, 0, 0), cov, (1.0, 0.5, 0.5))
    assert expected_leaving_burnout({}, no_change_model(MEAN, COV, RHO), exhaustion_cut=0, cynicism_cut=0) is None


# -- the fast route through scipy's integrator (private scipy pieces) must give the public bits --------


def _random_box(rng: np.random.Generator, dim: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A covariance and limits, some infinite and some given the wrong way round."""
    a = rng.normal(size=(dim, dim))
    cov = a @ a.T + 0.05 * np.eye(dim)
    lower = rng.normal(size=dim) * 1.5
    upper = lower + rng.exponential(size=dim) * 2
    lower[rng.random(dim) < 0.3] = -np.inf
    upper[rng.random(dim) < 0.3] = np.inf
    if rng.random() < 0.15:
        lower, upper = upper, lower
    return cov, lower, upper


@pytest.mark.parametrize("dim", [2, 3])
def test_box_probability_bit_for_bit_against_scipy_multivariate_normal_cdf(
    dim: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Fails if scipy changes the private pieces (_qmvnt) the fast route calls or the compiled integrator
    its numpy copy follows: results.json would move. Several means per box, integrated side by side."""
    later_rounds = []  # the rules after the first, each with scipy's compiled integrator
    rule = no_change._lattice_rule
    monkeypatch.setattr(no_change, "_lattice_rule", lambda *a: later_rounds.append(a[0]) or rule(*a))
    rng = np.random.default_rng(dim)
    for _ in range(40):
        cov, lower, upper = _random_box(rng, dim)
        means = list(rng.normal(size=(5, dim)))
        got = no_change._box_probabilities(cov, means, lower=lower, upper=upper)
        for mean, p in zip(means, got, strict=True):
            want = stats.multivariate_normal.cdf(
                upper, mean=mean, cov=cov, lower_limit=lower, rng=np.random.default_rng(no_change._QMC_SEED)
            )
            assert p.hex() == float(want).hex()
    if dim == 3:  # the refinement rounds beyond the first (their shifts drawn later) were compared too
        assert len(set(later_rounds)) >= 2


def test_normal_sf_bit_for_bit_against_scipy_norm_sf() -> None:
    rng = np.random.default_rng(7)
    for _ in range(300):
        x, loc, scale = rng.normal() * 3, np.float64(rng.normal() * 3), rng.exponential() + 0.01
        assert no_change._normal_sf(x, loc, scale).hex() == float(stats.norm.sf(x, loc=loc, scale=scale)).hex()


def _public_average(baselines: dict[tuple[float, ...], int], probability: object) -> float:
    """The sum as written before the fast route: each probability from scipy's public functions."""
    return sum(n * probability(x) for x, n in baselines.items()) / sum(baselines.values())  # type: ignore[operator]  # a callable of one triple


def test_expected_shares_bit_for_bit_against_the_public_scipy_route() -> None:
    """Over more triples than one chunk, so the chunks are put back in order before summing."""
    rng = np.random.default_rng(11)
    baselines = {tuple(row): int(n) for row, n in zip(rng.normal(MEAN, SD, size=(75, 3)), rng.integers(1, 9, 75))}
    model = no_change_model(MEAN, COV, RHO)
    s, t = model.residual, THRESHOLD

    def not_met(x: tuple[float, ...]) -> float:
        m = model.conditional_mean(x)
        p_e = float(stats.norm.sf(t["exhaustion_min"], loc=m[0], scale=np.sqrt(s[0, 0])))
        neither = stats.multivariate_normal.cdf(
            [np.inf, t["cynicism_min"], np.inf],
            mean=m,
            cov=s,
            lower_limit=[t["exhaustion_min"], -np.inf, t["efficacy_max"]],
            rng=np.random.default_rng(no_change._QMC_SEED),
        )
        return min(1.0, max(0.0, 1.0 - p_e + float(neither)))

    def leaving(x: tuple[float, ...]) -> float:
        stay = stats.multivariate_normal.cdf(
            [np.inf, np.inf], mean=model.conditional_mean(x)[:2], cov=s[:2, :2], lower_limit=[3.6, 2.8]
        )
        return min(1.0, max(0.0, 1.0 - float(stay)))

    got = expected_below_threshold(baselines, model, **THRESHOLD)
    assert got is not None and got.hex() == _public_average(baselines, not_met).hex()
    got = expected_leaving_burnout(baselines, model, exhaustion_cut=3.6, cynicism_cut=2.8)
    assert got is not None and got.hex() == _public_average(baselines, leaving).hex()


def test_a_singular_residual_raises_as_scipy_does() -> None:
    model = no_change_model(MEAN, COV, RHO)
    singular = type(model)(mean=model.mean, slope=model.slope, residual=np.ones((3, 3)))
    with pytest.raises(np.linalg.LinAlgError):
        expected_below_threshold({(4.0, 3.0, 3.0): 1}, singular, **THRESHOLD)


def test_box_probability_where_numpy_is_not_scipys_compiled_integrator(monkeypatch: pytest.MonkeyPatch) -> None:
    """A machine whose compiled integrator fuses multiply-adds gets scipy's own route, bit for bit too."""
    monkeypatch.setattr(no_change, "_numpy_rule_is_scipys", lambda: False)
    monkeypatch.setattr(no_change, "_first_rules", None)  # not called
    rng = np.random.default_rng(4)
    for _ in range(10):
        cov, lower, upper = _random_box(rng, 3)
        means = list(rng.normal(size=(3, 3)))
        got = no_change._box_probabilities(cov, means, lower=lower, upper=upper)
        for mean, p in zip(means, got, strict=True):
            want = stats.multivariate_normal.cdf(
                upper, mean=mean, cov=cov, lower_limit=lower, rng=np.random.default_rng(no_change._QMC_SEED)
            )
            assert p.hex() == float(want).hex()
