"""Statistics from aggregates: longitudinal measurement invariance of a one-factor scale. (invariance).

No SEM library is pinned (requirements.lock has neither semopy nor lavaan's peers), so this
is a small maximum-likelihood confirmatory factor analysis on the item means and covariance
matrix of the same patients at T occasions: one factor per occasion, the factors correlated,
each item's residuals correlated across occasions (the usual longitudinal specification,
Widaman, Ferrer & Conger 2010). Three nested levels (Meredith 1993):

- **configural**: loadings and intercepts free at each occasion; factor variances 1, means 0;
- **metric**: loadings equal across occasions; the first factor variance 1, later ones free;
- **scalar**: loadings and intercepts equal; the first factor mean 0, later ones free.

Fit: ``F = log|Sigma| + tr(S Sigma^-1) - log|S| - q + (m - mu)' Sigma^-1 (m - mu)``,
``chi2 = (n - 1) F`` (as :func:`burnout.stats.one_factor_omega`), ``df`` = q(q + 3)/2 moments
minus free parameters; CFI against the independence model (free means and variances),
``RMSEA = sqrt(max(chi2 - df, 0) / (df (n - 1)))``. A level holds when CFI falls by at most
0.010 from the level below (Cheung & Rensvold 2002); the chi-square difference test is
reported beside it (it rejects trivial differences in large samples).
"""

from __future__ import annotations

import ctypes
import functools
import math
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Final, Literal

import numpy as np
import scipy
from scipy import optimize, stats

__all__ = ["DELTA_CFI_MAX", "CfaFit", "Invariance", "fit_longitudinal_cfa", "longitudinal_invariance"]

Level = Literal["configural", "metric", "scalar"]
LEVELS: Final[tuple[Level, ...]] = ("configural", "metric", "scalar")
DELTA_CFI_MAX: Final[float] = 0.010
_VAR_FLOOR: Final[float] = 1e-6
# L-BFGS-B takes a ``workers`` map for its finite differences from scipy 1.16
_SCIPY_MAPS_DIFFERENCES: Final[bool] = tuple(int(part) for part in scipy.__version__.split(".")[:2]) >= (1, 16)


@dataclass(frozen=True, slots=True)
class CfaFit:
    """One level's ML fit: chi-square, df, CFI, RMSEA and the loadings (item scale) per occasion."""

    level: str
    n: int
    chi2: float
    df: int
    cfi: float | None
    rmsea: float | None
    loadings: tuple[tuple[float, ...], ...]
    converged: bool

    def to_json(self) -> dict[str, Any]:
        return {"chi2": self.chi2, "df": self.df, "cfi": self.cfi, "rmsea": self.rmsea}


class _Spec:
    """Unpacks a parameter vector of one level into loadings, intercepts, residuals, factor moments.

    The optimiser needs the implied moments some 10,000 times a fit, so where each parameter
    lands in them is worked out once here, as index arrays; :meth:`implied` then only copies
    values by fancy indexing, for a whole stack of parameter vectors at once (the same numbers
    as filling each vector's matrices element by element, tested).
    """

    def __init__(self, level: Level, p: int, t: int) -> None:
        self.level, self.p, self.t = level, p, t
        shared_lam, shared_tau = level != "configural", level == "scalar"
        self.sizes = {
            "lam": p if shared_lam else p * t,
            "tau": p if shared_tau else p * t,
            "theta": p * t,
            "rescov": p * (t * (t - 1) // 2),
            "fcorr": t * (t - 1) // 2,
            "fvar": t - 1 if shared_lam else 0,
            "fmean": t - 1 if shared_tau else 0,
        }
        starts = np.cumsum([0, *self.sizes.values()])
        self._block = {
            name: slice(int(a), int(b)) for name, a, b in zip(self.sizes, starts[:-1], starts[1:], strict=True)
        }
        q, item = p * t, np.tile(np.arange(p), t)  # item: each variable's item, occasion by occasion
        # shared loadings (intercepts) repeat the p parameters at every occasion
        self._lam_at = self._block["lam"].start + (item if shared_lam else np.arange(q))
        self._tau_at = self._block["tau"].start + (item if shared_tau else np.arange(q))
        self._variable, self._occasion = np.arange(q), np.repeat(np.arange(t), p)  # the loading's cell in big
        self._factor = np.arange(t)
        pair_a, pair_b = np.triu_indices(t, k=1)  # (0, 1), (0, 2), ..., (1, 2), ...: the fcorr order
        self._pair_a, self._pair_b = pair_a, pair_b
        # rescov j * p + i: item i's residual covariance between the occasions of pair j
        self._rescov_a = (pair_a[:, None] * p + np.arange(p)).ravel()
        self._rescov_b = (pair_b[:, None] * p + np.arange(p)).ravel()

    @property
    def k(self) -> int:
        return sum(self.sizes.values())

    def loadings(self, x: np.ndarray) -> np.ndarray:
        """The p * t loadings, occasion by occasion (shared ones repeated)."""
        return x[self._lam_at]

    def implied(self, xs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The implied means (m, q) and covariances (m, q, q) of m parameter vectors (rows of ``xs``)."""
        m, p, t, block = xs.shape[0], self.p, self.t, self._block
        q = p * t
        big = np.zeros((m, q, t))
        big[:, self._variable, self._occasion] = xs[:, self._lam_at]
        sd = np.ones((m, t))
        if self.sizes["fvar"]:  # metric and scalar: the later factor variances are free
            sd[:, 1:] = np.sqrt(xs[:, block["fvar"]])
        phi = np.zeros((m, t, t))
        phi[:, self._factor, self._factor] = 1.0
        phi[:, self._pair_a, self._pair_b] = phi[:, self._pair_b, self._pair_a] = xs[:, block["fcorr"]]
        phi = phi * (sd[:, :, None] * sd[:, None, :])
        theta = np.zeros((m, q, q))
        theta[:, self._variable, self._variable] = xs[:, block["theta"]]
        theta[:, self._rescov_a, self._rescov_b] = theta[:, self._rescov_b, self._rescov_a] = xs[:, block["rescov"]]
        kappa = np.zeros((m, t, 1))
        if self.sizes["fmean"]:  # scalar: the later factor means are free
            kappa[:, 1:, 0] = xs[:, block["fmean"]]
        return xs[:, self._tau_at] + (big @ kappa)[:, :, 0], big @ phi @ big.transpose(0, 2, 1) + theta

    def bounds(self) -> list[tuple[float | None, float | None]]:
        b: dict[str, tuple[float | None, float | None]] = {
            "lam": (None, None),
            "tau": (None, None),
            "theta": (_VAR_FLOOR, None),
            "rescov": (None, None),
            "fcorr": (-0.999, 0.999),
            "fvar": (1e-4, None),
            "fmean": (None, None),
        }
        return [b[name] for name, size in self.sizes.items() for _ in range(size)]

    def start(self, mean: np.ndarray, cov: np.ndarray) -> np.ndarray:
        p, t = self.p, self.t
        lam = np.empty(p * t)
        for o in range(t):
            block = cov[o * p : (o + 1) * p, o * p : (o + 1) * p]
            w, vec = np.linalg.eigh(block)
            lam[o * p : (o + 1) * p] = np.abs(vec[:, -1]) * math.sqrt(max(w[-1], _VAR_FLOOR)) * 0.9
        theta = np.maximum(np.diag(cov) - lam**2, 0.1 * np.diag(cov))
        parts = {
            "lam": lam[:p] if self.sizes["lam"] == p else lam,
            "tau": mean[:p] if self.sizes["tau"] == p else mean,
            "theta": theta,
            "rescov": np.zeros(self.sizes["rescov"]),
            "fcorr": np.full(self.sizes["fcorr"], 0.5),
            "fvar": np.ones(self.sizes["fvar"]),
            "fmean": np.zeros(self.sizes["fmean"]),
        }
        return np.concatenate([parts[name] for name in self.sizes])


def _discrepancies(mean: np.ndarray, cov: np.ndarray, logdet_s: float, mu: np.ndarray, sigma: np.ndarray) -> np.ndarray:
    """The ML discrepancy of each implied (mu, sigma) pair, 1e10 where sigma is not positive definite;
    ``logdet_s`` is log|cov|, fixed for a fit (computed once, not per call).

    numpy's linear algebra on a stack of matrices makes the same LAPACK/BLAS call per matrix as on
    one matrix, so a stack gives each matrix's discrepancy to the last bit (tested).
    """
    try:  # a covariance with an even number of negative eigenvalues has a positive determinant
        chol = np.linalg.cholesky(sigma)
    except np.linalg.LinAlgError:  # one of the stack: each on its own, to give only those 1e10
        if len(sigma) == 1:
            return np.array([1e10])
        return np.concatenate(
            [_discrepancies(mean, cov, logdet_s, mu[i : i + 1], sigma[i : i + 1]) for i in range(len(sigma))]
        )
    logdet = 2.0 * np.sum(np.log(np.diagonal(chol, axis1=1, axis2=2)), axis=1)
    inv = np.linalg.inv(sigma)
    d = mean - mu
    quadratic = (d[:, None, :] @ inv @ d[:, :, None])[:, 0, 0]
    return logdet + np.trace(cov @ inv, axis1=1, axis2=2) - logdet_s - cov.shape[0] + quadratic


class _Objective:
    """One level's ML discrepancy as a function of its parameter vector, for L-BFGS-B.

    Its gradient is by finite differences, k + 1 evaluations: :meth:`map` is handed to scipy as
    the ``workers`` map of those evaluations and computes the k points as one stack (7 times
    faster than one by one; the same numbers, :func:`_discrepancies`). ``fun`` in ``map`` is
    scipy's wrapper of this same objective, so it is not called.
    """

    def __init__(self, spec: _Spec, mean: np.ndarray, cov: np.ndarray, logdet_s: float) -> None:
        self.spec, self.mean, self.cov, self.logdet_s = spec, mean, cov, logdet_s

    def __call__(self, x: np.ndarray) -> float:
        return float(self.map(None, [x])[0])

    def map(self, fun: object, points: Iterable[np.ndarray]) -> np.ndarray:
        mu, sigma = self.spec.implied(np.array(list(points), dtype=float))
        return _discrepancies(self.mean, self.cov, self.logdet_s, mu, sigma)


def _null_chi2(cov: np.ndarray, n: int, logdet_s: float) -> tuple[float, int]:
    q = cov.shape[0]
    return (n - 1) * float(np.sum(np.log(np.diag(cov))) - logdet_s), q * (q - 1) // 2


# -- OpenBLAS on one thread while L-BFGS-B runs -------------------------------------------
# scipy >= 1.15's L-BFGS-B calls LAPACK (dpotrf, dtrtrs) on tiny matrices at every iteration, and
# OpenBLAS hands such calls to its thread pool: on a busy 2-core machine the 9 fits of the demo
# took 5.6 s of which 4.7 s inside the solver, 1.5 s on one thread (scipy issues 22438, 23191).
# The arithmetic of these small calls does not depend on the thread count (the fits are the same
# bytes either way, tests/stats/test_invariance.py); threadpoolctl is not a dependency, so the
# thread count is set through each loaded OpenBLAS's own functions. The setting is process-wide:
# the first fit to start saves and lowers it, the last to end restores it.

_BLAS_THREAD_FUNCTIONS: Final[tuple[tuple[str, str], ...]] = (  # (get, set): plain, scipy's and numpy's wheels
    ("openblas_get_num_threads", "openblas_set_num_threads"),
    ("scipy_openblas_get_num_threads", "scipy_openblas_set_num_threads"),
    ("scipy_openblas_get_num_threads64_", "scipy_openblas_set_num_threads64_"),
)
_blas_lock = threading.Lock()
_blas_saved: list[tuple[Any, int]] = []  # (set function, thread count before), while fits run
_blas_users = [0]


@functools.cache
def _openblas_thread_setters() -> tuple[tuple[Any, Any], ...]:
    """The (get, set) thread-count functions of each OpenBLAS this process has loaded (numpy's and
    scipy's wheels bundle one each); none where ``/proc/self/maps`` does not list them (not Linux)."""
    try:
        with open("/proc/self/maps", encoding="utf-8", errors="replace") as maps:
            fields = [line.split(maxsplit=5) for line in maps]
    except OSError:
        return ()
    paths = sorted({f[5].strip() for f in fields if len(f) == 6 and "openblas" in f[5].rsplit("/", 1)[-1]})
    found = []
    for path in paths:
        try:
            lib = ctypes.CDLL(path)  # already loaded: the same handle, nothing new mapped
        except OSError:
            continue
        for get_name, set_name in _BLAS_THREAD_FUNCTIONS:
            if hasattr(lib, get_name) and hasattr(lib, set_name):
                get, set_ = getattr(lib, get_name), getattr(lib, set_name)
                get.restype, get.argtypes = ctypes.c_int, []
                set_.restype, set_.argtypes = None, [ctypes.c_int]
                found.append((get, set_))
                break
    return tuple(found)


@contextmanager
def _one_blas_thread() -> Iterator[None]:
    """OpenBLAS on one thread inside the block (see the comment above), restored after."""
    with _blas_lock:
        if _blas_users[0] == 0:
            _blas_saved[:] = [(set_, get()) for get, set_ in _openblas_thread_setters()]
            for set_, _ in _blas_saved:
                set_(1)
        _blas_users[0] += 1
    try:
        yield
    finally:
        with _blas_lock:
            _blas_users[0] -= 1
            if _blas_users[0] == 0:
                for set_, before in _blas_saved:
                    set_(before)
                _blas_saved.clear()


def fit_longitudinal_cfa(mean: np.ndarray, cov: np.ndarray, n: int, *, p: int, level: Level) -> CfaFit:
    """Fit one level to the means and covariance (n - 1 divisor) of p items at q / p occasions,
    ordered occasion by occasion (module docstring).

    References
    ----------
    - Joreskog KG (1969). A general approach to confirmatory maximum likelihood factor analysis. Psychometrika 34:183-202.
    - Widaman KF, Ferrer E, Conger RD (2010). Factorial invariance within longitudinal structural equation models: measuring the same construct across time. Child Dev Perspect 4:10-18.
    - Bentler PM (1990). Comparative fit indexes in structural models. Psychol Bull 107:238-246 (CFI).
    - Steiger JH (1990). Structural model evaluation and modification: an interval estimation approach. Multivariate Behav Res 25:173-180 (RMSEA).
    """
    mean, cov = np.asarray(mean, dtype=float), np.asarray(cov, dtype=float)
    q = cov.shape[0]
    t = q // p
    spec = _Spec(level, p, t)
    logdet_s = float(np.linalg.slogdet(cov)[1])

    objective = _Objective(spec, mean, cov, logdet_s)
    options: dict[str, Any] = {"maxiter": 20_000, "maxfun": 200_000, "ftol": 1e-14, "gtol": 1e-9}
    if _SCIPY_MAPS_DIFFERENCES:
        options["workers"] = objective.map
    with _one_blas_thread():
        res = optimize.minimize(
            objective,
            spec.start(mean, cov),
            method="L-BFGS-B",
            bounds=spec.bounds(),
            options=options,
        )
    chi2 = max((n - 1) * float(res.fun), 0.0)
    df = q * (q + 3) // 2 - spec.k
    null, null_df = _null_chi2(cov, n, logdet_s)
    denominator = max(null - null_df, chi2 - df, 0.0)
    cfi = None if denominator == 0 else 1.0 - max(chi2 - df, 0.0) / denominator
    rmsea = math.sqrt(max(chi2 - df, 0.0) / (df * (n - 1))) if df > 0 else None
    lam = spec.loadings(res.x)
    loadings = tuple(tuple(float(v) for v in lam[o * p : (o + 1) * p]) for o in range(t))
    return CfaFit(
        level=level, n=n, chi2=chi2, df=df, cfi=cfi, rmsea=rmsea, loadings=loadings, converged=bool(res.success)
    )


@dataclass(frozen=True, slots=True)
class Invariance:
    """The three nested fits, the chi-square difference tests and the highest level that holds."""

    fits: dict[str, CfaFit]
    differences: dict[str, dict[str, float | int]]
    holds: str

    def to_json(self) -> dict[str, Any]:
        return {
            **{level: fit.to_json() for level, fit in self.fits.items()},
            "differences": self.differences,
            "holds": self.holds,
            "n": next(iter(self.fits.values())).n,
        }


def longitudinal_invariance(mean: np.ndarray, cov: np.ndarray, n: int, *, p: int) -> Invariance | None:
    """Configural, metric and scalar fits; ``holds`` the highest level whose CFI falls by at most
    :data:`DELTA_CFI_MAX` from the one below ("none" when the configural model has CFI < 0.90).
    None when the covariance is singular or n <= the number of variables.

    References
    ----------
    - Meredith W (1993). Measurement invariance, factor analysis and factorial invariance. Psychometrika 58:525-543 (the levels).
    - Cheung GW, Rensvold RB (2002). Evaluating goodness-of-fit indexes for testing measurement invariance. Struct Equ Modeling 9:233-255 (delta CFI <= 0.010).
    """
    cov = np.asarray(cov, dtype=float)
    if n <= cov.shape[0] or np.linalg.eigvalsh(cov).min() <= 0:
        return None
    fits: dict[str, CfaFit] = {level: fit_longitudinal_cfa(mean, cov, n, p=p, level=level) for level in LEVELS}
    differences: dict[str, dict[str, float | int]] = {}
    holds = "configural" if (fits["configural"].cfi or 0.0) >= 0.90 else "none"
    for lower, upper in (("configural", "metric"), ("metric", "scalar")):
        a, b = fits[lower], fits[upper]
        d_chi2, d_df = max(b.chi2 - a.chi2, 0.0), b.df - a.df
        d_cfi = (b.cfi or 0.0) - (a.cfi or 0.0)
        differences[f"{upper}_vs_{lower}"] = {
            "chi2": d_chi2,
            "df": d_df,
            "p": float(stats.chi2.sf(d_chi2, d_df)),
            "delta_cfi": d_cfi,
        }
        if holds == lower and d_cfi >= -DELTA_CFI_MAX:
            holds = upper
    return Invariance(fits=fits, differences=differences, holds=holds)
