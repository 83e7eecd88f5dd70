"""Statistics from aggregates: what the threshold and profile headlines would show with no
true change, from regression to the mean of the three subscales jointly (issue 16).

The model is classical test theory with no change: each baseline X and follow-up Y is
a stable true score T plus independent error, ``X = T + E1``, ``Y = T + E2``, with
``T ~ N(mu, Sigma_T)`` and ``E ~ N(0, diag((1 - rho) sigma^2))``, so X and Y share the
mean ``mu`` and covariance ``Sigma`` (the reference: everyone scored at baseline), each
subscale's test-retest correlation is its ``rho``, and ``Sigma_T = Sigma - diag((1 - rho)
sigma^2)``. Given a baseline x,

.. math:: Y \\mid x \\sim N\\big(\\mu + \\Sigma_T \\Sigma^{-1} (x - \\mu),\\
          \\Sigma - \\Sigma_T \\Sigma^{-1} \\Sigma_T\\big)

which reduces per subscale to the bivariate normal of :func:`regression_to_mean`. A share
expected at follow-up is this probability averaged over the group's baseline triples.
Scores are treated as continuous (observed ones move in steps of 0.2 or 1/6).
"""

from __future__ import annotations

import functools
import math
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import ClassVar, Final

import numpy as np
from scipy import special, stats
from scipy.stats import _qmvnt

__all__ = ["NoChangeModel", "expected_below_threshold", "expected_leaving_burnout", "no_change_model"]

# The trivariate normal probability is a randomised quasi-Monte Carlo integral (Genz):
# a fixed seed per call keeps results.json byte-identical; its error is below 1e-5.
_QMC_SEED: Final[int] = 20_261_202
_INF: Final[float] = math.inf


@dataclass(frozen=True, slots=True)
class NoChangeModel:
    """``Y | x ~ N(mean + slope @ (x - mean), residual)`` for the three subscales."""

    mean: np.ndarray
    slope: np.ndarray
    residual: np.ndarray

    def conditional_mean(self, x: Sequence[float]) -> np.ndarray:
        return self.mean + self.slope @ (np.asarray(x, dtype=float) - self.mean)


def no_change_model(mean: Sequence[float], cov: Sequence[Sequence[float]], rho: Sequence[float]) -> NoChangeModel:
    """The follow-up given the baseline with no true change (module docstring).

    Raises
    ------
    ValueError
        When a ``rho`` is outside [0, 1), the covariance is not positive definite, or the
        true-score covariance it implies is not positive semi-definite (the subscales
        correlate more than their reliabilities allow): give larger reliabilities.

    References
    ----------
    - Lord FM, Novick MR (1968). Statistical Theories of Mental Test Scores. Reading, MA: Addison-Wesley (classical test theory).
    - Barnett AG, van der Pols JC, Dobson AJ (2005). Regression to the mean: what it is and how to deal with it. Int J Epidemiol 34:215-220.
    """
    mu = np.asarray(mean, dtype=float)
    sigma = np.asarray(cov, dtype=float)
    r = np.asarray(rho, dtype=float)
    if np.any(r < 0) or np.any(r >= 1):
        raise ValueError(f"`rho` must be correlations in [0, 1), got {list(r)}.")
    if np.linalg.eigvalsh(sigma).min() <= 0:
        raise ValueError("the baseline covariance is not positive definite (a subscale without spread?).")
    true = sigma - np.diag((1 - r) * np.diag(sigma))
    if np.linalg.eigvalsh(true).min() < -1e-12:
        raise ValueError(
            f"reliabilities {list(r)} imply a true-score covariance that is not positive semi-definite: the subscales "
            "correlate more than these reliabilities allow; set larger ones in [reliable_change]."
        )
    slope = true @ np.linalg.inv(sigma)
    residual = sigma - slope @ true
    return NoChangeModel(mean=mu, slope=slope, residual=(residual + residual.T) / 2)


def _average(baselines: Mapping[tuple[float, ...], int], probability: _Probability) -> float | None:
    """``sum(n * probability(x)) / total`` in ``baselines`` order (the bits of results.json depend on the
    order of the additions). The probabilities are computed in chunks, the helper process taking some
    from the end (:func:`burnout._warm.shared_map`): each depends on its triple alone."""
    from burnout._warm import shared_map

    total = sum(baselines.values())
    if total == 0:
        return None
    _checked_covariance(probability.covariance)
    triples = list(baselines)
    size = probability.chunk
    chunks = [(probability, tuple(triples[i : i + size])) for i in range(0, len(triples), size)]
    probabilities = [p for done in shared_map(_chunk_probabilities, chunks) for p in done]
    return sum(n * p for n, p in zip(baselines.values(), probabilities, strict=True)) / total


def _chunk_probabilities(task: tuple[_Probability, tuple[tuple[float, ...], ...]]) -> list[float]:
    probability, triples = task
    return probability.of(triples)


@dataclass(frozen=True, slots=True)
class _NotMeetingThreshold:
    r"""P(not met) at follow-up given the baseline x: :math:`1 - P(E \ge e) + P(E \ge e,\ C < c,\ PE > p)`."""

    model: NoChangeModel
    exhaustion_min: float
    cynicism_min: float
    efficacy_max: float
    chunk: ClassVar[int] = 32  # triples per task handed to the helper: ~12 ms of integrals

    @property
    def covariance(self) -> np.ndarray:
        return self.model.residual

    def of(self, triples: Sequence[tuple[float, ...]]) -> list[float]:
        means = [self.model.conditional_mean(x) for x in triples]
        s = self.model.residual
        sd_e = math.sqrt(s[0, 0])
        neither = _box_probabilities(
            s,
            means,
            lower=np.array([self.exhaustion_min, -_INF, self.efficacy_max]),
            upper=np.array([_INF, self.cynicism_min, _INF]),
        )
        return [
            min(1.0, max(0.0, 1.0 - _normal_sf(self.exhaustion_min, m[0], sd_e) + p))
            for m, p in zip(means, neither, strict=True)
        ]


@dataclass(frozen=True, slots=True)
class _LeavingBurnout:
    r"""P(leaving) at follow-up given the baseline x: :math:`1 - P(E \ge e,\ C \ge c)`."""

    model: NoChangeModel
    exhaustion_cut: float
    cynicism_cut: float
    chunk: ClassVar[int] = 256  # the bivariate probability is a closed form: ~30x cheaper

    @property
    def covariance(self) -> np.ndarray:
        return self.model.residual[:2, :2]

    def of(self, triples: Sequence[tuple[float, ...]]) -> list[float]:
        stay = _box_probabilities(
            self.covariance,
            [self.model.conditional_mean(x)[:2] for x in triples],
            lower=np.array([self.exhaustion_cut, self.cynicism_cut]),
            upper=np.array([_INF, _INF]),
        )
        return [min(1.0, max(0.0, 1.0 - p)) for p in stay]


_Probability = _NotMeetingThreshold | _LeavingBurnout


def expected_below_threshold(
    baselines: Mapping[tuple[float, ...], int],
    model: NoChangeModel,
    *,
    exhaustion_min: float,
    cynicism_min: float,
    efficacy_max: float,
) -> float | None:
    r"""Share expected *not* to meet the threshold ``E >= e and (C >= c or PE <= p)`` at
    follow-up with no true change, averaged over ``baselines`` (``{(E, C, PE): patients}``).

    .. math:: P(\text{not met}) = 1 - P(E \ge e) + P(E \ge e,\ C < c,\ PE > p)

    Validated against a Monte Carlo of the classical test theory model (tests). None
    without patients.

    References
    ----------
    - Genz A (1992). Numerical computation of multivariate normal probabilities. J Comput Graph Stat 1:141-149 (scipy's quasi-Monte Carlo integral).
    """
    return _average(baselines, _NotMeetingThreshold(model, exhaustion_min, cynicism_min, efficacy_max))


def expected_leaving_burnout(
    baselines: Mapping[tuple[float, ...], int], model: NoChangeModel, *, exhaustion_cut: float, cynicism_cut: float
) -> float | None:
    r"""Share expected to leave the Burnout profile (``E >= e and C >= c``) at follow-up with
    no true change, averaged over ``baselines`` (those in the profile at baseline):
    :math:`1 - P(E \ge e,\ C \ge c)` under the bivariate normal of (E, C) given x. None
    without patients.

    References
    ----------
    - Genz A (1992). Numerical computation of multivariate normal probabilities. J Comput Graph Stat 1:141-149 (scipy's quasi-Monte Carlo integral).
    """
    return _average(baselines, _LeavingBurnout(model, exhaustion_cut, cynicism_cut))


# -- scipy's multivariate_normal.cdf, taken apart ----------------------------------------
# The integral is nearly all of the results stage (1,080 calls on the demo, 11,800 at 100k
# patients), and on every call scipy checks the covariance (an eigendecomposition), rebuilds
# its lattice (an FFT) and seeds a generator, though only the mean moves from triple to
# triple. These functions call the same pieces of scipy (private: stats/_qmvnt.py, scipy is
# pinned by the lock) in the same order with the same draws, the lattice and the draws kept,
# and run the first (usually the only) lattice rule of a chunk's integrals side by side in
# numpy (:func:`_first_rules`); tests/stats/test_no_change.py compares them with the public
# functions bit for bit, so a scipy that changes its pieces fails there rather than moving
# results.json. Measured at 100k patients: the results stage from 12.2 s to 4.0 s.

_MAXPTS_PER_DIM: Final[int] = 1_000_000  # multivariate_normal.cdf's defaults: maxpts = 1e6 * dim,
_ABSEPS: Final[float] = 1e-5  # abseps = 1e-5,
_BATCHES: Final[int] = 10  # and its _cdf's n_batches
_DRAWS: dict[int, tuple[np.random.Generator, list[np.ndarray]]] = {}
_DRAWS_LOCK = threading.Lock()


def _checked_covariance(cov: np.ndarray) -> None:
    """Raise as ``multivariate_normal.cdf(..., cov=cov)`` would (e.g. a singular covariance)."""
    stats.multivariate_normal(mean=np.zeros(len(cov)), cov=cov)


def _normal_sf(x: float, loc: float, scale: float) -> float:
    """``stats.norm.sf(x, loc, scale)`` for a finite x and scale > 0, bit for bit (scipy computes ndtr(-z))."""
    return float(special.ndtr(-((np.float64(x) - loc) / scale)))


def _box_probabilities(
    cov: np.ndarray, means: Sequence[np.ndarray], *, lower: np.ndarray, upper: np.ndarray
) -> list[float]:
    """``multivariate_normal.cdf(upper, mean, cov, lower_limit=lower, rng=default_rng(_QMC_SEED))`` for each
    mean, in 2 or 3 dimensions, for a covariance :func:`_checked_covariance` accepted, bit for bit
    (scipy's ``_cdf``); the first lattice rule of every trivariate integral is computed side by side."""
    boxes = [_zero_mean_box(mean, lower, upper) for mean in means]
    if len(cov) == 2:
        return [float(_qmvnt._bvn(a, b, cov) * sign) for a, b, sign in boxes]
    if _numpy_rule_is_scipys():
        firsts = _first_rules(cov, [(a, b) for a, b, _ in boxes])
    else:
        n = len(cov)
        firsts = [_lattice_rule(_first_points(n), cov, a, b, _draws(n, 0)) for a, b, _ in boxes]
    return [float(_refined(cov, a, b, first) * sign) for (a, b, sign), first in zip(boxes, firsts, strict=True)]


def _zero_mean_box(mean: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """The integrator's limits (it takes a zero mean and low <= high) and the sign of the probability."""
    b, a = upper - mean, lower - mean
    swapped = b < a  # bounds given the wrong way round: swapped, and the sign turned
    return np.where(swapped, b, a), np.where(swapped, a, b), (-1) ** int(swapped.sum())


def _first_points(n: int) -> int:
    """The points of ``_qauto``'s first lattice rule (each next one has sqrt(2) times as many)."""
    return round(np.sqrt(2) * min(_MAXPTS_PER_DIM * n, n * 1000))


def _refined(cov: np.ndarray, low: np.ndarray, high: np.ndarray, first: tuple[float, float, int]) -> float:
    """scipy's ``_qauto(_qmvn, ...)`` given its first lattice rule's result: rules of growing size, averaged
    with weights, until three standard errors are below ``abseps``."""
    n = len(cov)
    limit = _MAXPTS_PER_DIM * n
    points = _first_points(n)
    prob = 0.0
    est_error = 1.0
    n_samples = 0
    rounds = 0
    while est_error > _ABSEPS and n_samples < limit:
        pi, ei, ni = first if rounds == 0 else _lattice_rule(points, cov, low, high, _draws(n, rounds))
        rounds += 1
        points = round(np.sqrt(2) * points)
        n_samples += ni
        wt = 1.0 / (1 + (ei / est_error) ** 2)
        prob += wt * (pi - prob)
        est_error = np.sqrt(wt) * ei
    return prob


def _lattice_rule(
    points: int, cov: np.ndarray, low: np.ndarray, high: np.ndarray, shifts: np.ndarray
) -> tuple[float, float, int]:
    """scipy's ``_qmvn``, its lattice and random shifts given."""
    cho, lo, hi = _qmvnt._permuted_cholesky(cov, low, high)
    if not cho.flags.c_contiguous:
        cho = cho.copy()
    q, n_qmc_samples = _lattice(len(cho) - 1, max(points // _BATCHES, 1))
    return _qmvnt._qmvn_inner(q, shifts, int(n_qmc_samples), _BATCHES, cho, lo, hi)  # type: ignore[no-any-return]  # compiled scipy


def _first_rules(cov: np.ndarray, boxes: Sequence[tuple[np.ndarray, np.ndarray]]) -> list[tuple[float, float, int]]:
    """``_lattice_rule`` at the first round's points for every box at once: scipy's compiled
    ``_qmvn_inner`` written with numpy over the boxes, the same operations in the same order on
    each point (tests check the bits), so the special functions run over whole arrays."""
    n = len(cov)
    factors = [_qmvnt._permuted_cholesky(cov, low, high) for low, high in boxes]
    cho = np.array([f[0] for f in factors])
    lo, hi = np.array([f[1] for f in factors]), np.array([f[2] for f in factors])
    q, n_qmc = _lattice(n - 1, max(_first_points(n) // _BATCHES, 1))
    shifts = _draws(n, 0)
    k1 = np.arange(1, n_qmc + 1, dtype=float)  # the lattice's point numbers k + 1
    ct = cho[:, 0, 0]
    ci = special.ndtr(lo[:, 0] / ct)[:, None]
    dci = (special.ndtr(hi[:, 0] / ct) - special.ndtr(lo[:, 0] / ct))[:, None]
    prob = np.zeros(len(boxes))
    error_var = np.zeros(len(boxes))
    y = np.empty((n - 1, len(boxes), n_qmc))
    for j in range(_BATCHES):
        c, dc, pv = ci, dci, dci
        for i in range(1, n):
            x = np.abs(2 * np.modf(q[i - 1] * k1 + shifts[j, i])[0] - 1)  # shifted lattice, tent-periodised
            res = special.ndtri(c + x * dc)
            res[res == _INF] = 1e100  # as scipy: no inf - inf = nan below
            res[res == -_INF] = -1e100
            y[i - 1] = res
            s = 0.0 + cho[:, i, 0:1] * y[0]
            for ii in range(1, i):
                s = s + cho[:, i, ii : ii + 1] * y[ii]
            c = _ndtr_rows(lo[:, i : i + 1], s, cho[:, i, i : i + 1], skipped=-_INF)
            dc = _ndtr_rows(hi[:, i : i + 1], s, cho[:, i, i : i + 1], skipped=_INF) - c
            pv = pv * dc
        dd = (np.mean(pv, axis=1) - prob) / (j + 1)
        prob = prob + dd
        error_var = (j - 1) * error_var / (j + 1) + dd * dd
    error = 3 * np.sqrt(error_var)
    return [(float(p), float(e), n_qmc * _BATCHES) for p, e in zip(prob, error, strict=True)]


@functools.cache
def _numpy_rule_is_scipys() -> bool:
    """Whether :func:`_first_rules` gives the bits of scipy's compiled integrator on this machine, checked
    once on fixed boxes: a compiler may fuse the compiled multiply-adds (arm64 does by default) where
    numpy does not. If not, every rule runs compiled: slower, the same bits as the public function."""
    cov = np.array([[1.0, 0.5, -0.3], [0.5, 1.0, -0.35], [-0.3, -0.35, 1.0]])
    boxes = [
        (np.array([-0.4, -_INF, 0.2]), np.array([_INF, 0.3, _INF])),
        (np.array([-1.0, -0.5, -_INF]), np.array([0.7, _INF, 1.2])),
    ]
    compiled = [_lattice_rule(_first_points(3), cov, low, high, _draws(3, 0)) for low, high in boxes]
    return _first_rules(cov, boxes) == compiled


def _ndtr_rows(limit: np.ndarray, s: np.ndarray, scale: np.ndarray, *, skipped: float) -> np.ndarray:
    """``ndtr((limit - s) / scale)``; rows whose limit is ``skipped`` (an infinity, with s finite and
    scale > 0) take ndtr's own value there unevaluated: ndtr is slowest at infinity, and the boxes here
    are half infinite."""
    rows = limit[:, 0] != skipped
    if rows.all():
        return special.ndtr((limit - s) / scale)  # type: ignore[no-any-return]  # untyped scipy ufunc
    out = np.full(s.shape, special.ndtr(skipped))
    out[rows] = special.ndtr((limit[rows] - s[rows]) / scale[rows])
    return out


@functools.cache
def _lattice(dim: int, points: int) -> tuple[np.ndarray, int]:
    """scipy's lattice rule: a function of the dimension and the point count alone. Shared by every call
    and left writable (the compiled integrator takes writable buffers); nothing writes to it."""
    return _qmvnt._cbc_lattice(dim, points)  # type: ignore[no-any-return]  # untyped scipy


def _draws(dim: int, k: int) -> np.ndarray:
    """The k-th ``random(size=(10, dim))`` of ``default_rng(_QMC_SEED)``: the shifts every call's k-th
    round draws from its own freshly seeded generator."""
    with _DRAWS_LOCK:
        if dim not in _DRAWS:
            _DRAWS[dim] = (np.random.default_rng(_QMC_SEED), [])
        rng, blocks = _DRAWS[dim]
        while len(blocks) <= k:
            blocks.append(rng.random(size=(_BATCHES, dim)))
        return blocks[k]
