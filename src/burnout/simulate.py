"""The calibrated synthetic cohort: a documented statistical model, not copied numbers.

No patient-level data of the reference study is public, so the demo runs on a
synthetic cohort drawn from a latent-class growth model whose parameters were
calibrated (``benchmarks/calibrate.py``) so that analysing the cohort with the
default plan reproduces the published figures (seed-study.md). The model, the
meaning of every parameter and how they were found are in docs/synthetic-cohort.md.

In short, per enrolled patient:

1. covariates (age, sex, route, pathway), independent of the outcome;
2. correlated latent baseline levels of Exhaustion, Cynicism and Professional
   Efficacy on the 0-6 item scale (multivariate normal, shifted by pathway);
3. a latent trajectory class (non-responder or one of two responder classes), a
   class-specific total change at session 6 plus a correlated individual deviation,
   reached along a per-subscale time shape;
4. an occasion fluctuation per assessment, then each MBI-GS item drawn from its
   subscale's latent level by an ordinal item model: latent + item offset + noise,
   rounded and clipped to 0-6; items are left blank now and then;
5. attendance: the hazard of stopping after each session falls with the patient's
   latent improvement so far (dropout depends on latent state); follow-up
   assessments are missed now and then; a serious adverse event withdraws the patient;
6. side effects per session (logistic with a patient random effect), doses titrated
   by route, dates, and PHQ-9 items driven by the same latent levels.

Everything is vectorised numpy over patients. Randomness comes from
``np.random.default_rng`` seeded per block of 8,192 patients from
``SeedSequence(seed, spawn_key=(block,))``: a cohort is a prefix of a larger one with
the same seed, and the random numbers do not move when a parameter changes (common
random numbers for calibration).
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from pathlib import Path
from collections.abc import Iterable, Iterator
from typing import Any, Final, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from scipy.special import expit, ndtr, ndtri

from burnout.instrument import MBI_ITEMS, PHQ9_ITEMS, SCALE, SUBSCALE_ITEMS, SUBSCALES
from burnout.protocol import DEFAULT_PROFILE_BOUNDARIES, EligibilitySection, ScoringSection
from burnout.scoring import to_units_ceil, to_units_floor

__all__ = [
    "DEFAULT_SEED",
    "DEFAULT_THRESHOLD_MET",
    "LATENT_CLASSES",
    "PROFILE_BOUNDARIES",
    "ModelParams",
    "SimulatedCohort",
    "simulate_chunks",
    "simulate_cohort",
    "write_cohort",
]

DEFAULT_SEED: Final[int] = 20240917
DEFAULT_THRESHOLD_MET: Final[int] = 1642

LATENT_CLASSES: Final[tuple[str, ...]] = ("non-responder", "responder", "broad responder")

# z-score profile boundaries (exhaustion critical when z >= b[0], cynicism when
# z >= b[1], efficacy when z <= b[2]; reference: the completers at baseline) that
# were calibrated jointly with the model to the published profile figures. They live
# in the default plan (protocol.DEFAULT_PROFILE_BOUNDARIES); this is the same triple.
PROFILE_BOUNDARIES: Final[tuple[float, float, float]] = tuple(  # type: ignore[assignment]
    DEFAULT_PROFILE_BOUNDARIES[s] for s in SUBSCALES
)

TIMEPOINTS: Final[tuple[int, ...]] = (0, 2, 4, 6)  # after_session of the four assessments
SESSIONS: Final[int] = 6
_BLOCK: Final[int] = 8192  # patients per random-number block
_CHUNK_BLOCKS: Final[int] = 16  # blocks turned into tables at a time (bounds peak memory)

# item position (0-based) -> subscale index (0 exhaustion, 1 cynicism, 2 efficacy)
_ITEM_SUBSCALE: Final[np.ndarray] = np.empty(MBI_ITEMS, dtype=np.int64)
for _s, _name in enumerate(SUBSCALES):
    for _item in SUBSCALE_ITEMS[_name]:
        _ITEM_SUBSCALE[_item - 1] = _s
_ITEM_SUBSCALE.setflags(write=False)

SEXES: Final[tuple[str, ...]] = ("female", "male", "other", "")  # "" = blank (unknown)
ROUTES: Final[tuple[str, ...]] = ("sublingual", "subcutaneous", "")
PATHWAYS: Final[tuple[str, ...]] = ("burnout", "depression", "anxiety", "ptsd", "")
_EPOCH: Final[_dt.date] = _dt.date(1970, 1, 1)


@dataclass(frozen=True, slots=True)
class ModelParams:
    """Parameters of the synthetic-cohort model (docs/synthetic-cohort.md).

    Latent levels are on the 0-6 item scale. The defaults are the calibrated values
    (benchmarks/calibrate.py): with ``seed=20240917`` and 1,642 patients meeting the
    threshold they reproduce the reference study's figures under the default analysis
    plan with the profile boundaries ``PROFILE_BOUNDARIES``. Fields marked *fixed* were
    set for plausibility and not fitted (the published figures do not identify them).

    Attributes
    ----------
    baseline_mean, baseline_sd : tuple of 3 float
        Mean and SD of the latent baseline level (exhaustion, cynicism, efficacy) in
        the enrolled population, before the threshold selects patients.
    baseline_corr : tuple of 3 float
        Correlations of the latent baseline levels: (E,C), (E,PE), (C,PE).
    pathway_shift : tuple of 5 (E, C, PE) shifts
        Added to the baseline mean by pathway (order of ``PATHWAYS``). *fixed*
    item_offsets : tuple of 16 float
        Per-item offset from the subscale level (items differ in how often they are
        endorsed); they sum to zero within each subscale. *fixed*
    item_sd : tuple of 3 float
        SD of an item's response noise around latent + offset, per subscale.
    occasion_sd : tuple of 3 float
        SD of a patient's state fluctuation from one assessment to the next.
    class_probs : tuple of 3 float
        Probabilities of the latent classes (``LATENT_CLASSES``), independent of
        covariates and baseline.
    class_change : tuple of 3 (E, C, PE) changes
        Mean latent change at session 6 per class.
    slope_sd : tuple of 3 float
        SD of a patient's deviation from the class change, per subscale.
    slope_corr : tuple of 3 float
        Correlations of those deviations: (E,C), (E,PE), (C,PE). *fixed*
    shape : tuple of 3 (g2, g4)
        Fraction of the session-6 change reached after sessions 2 and 4 per subscale
        (0 at baseline, 1 at session 6).
    p_start : float
        Probability that an enrolled patient has a first session. *fixed*
    continue_logit : float
        Log-odds of going on to the next session for a patient with no latent improvement.
    continue_per_point : float
        Increase of that log-odds per point of latent improvement (mean of exhaustion
        and cynicism decrease) so far: dropout depends on the latent state. *fixed*
    p_missed : float
        Probability that a follow-up assessment is not returned. *fixed*
    p_blank_item : float
        Probability that an MBI-GS item is left blank. *fixed*
    side_effect_logit : tuple of 6 float
        Log-odds of a reported side effect at sessions 1-6 for a sublingual patient
        with a random effect of zero.
    side_effect_subcutaneous : float
        Log-odds shift for the subcutaneous route. *fixed*
    side_effect_patient_sd : float
        SD of the patient random effect on the side-effect log-odds. *fixed*
    p_side_effects_not_asked : float
        Probability that side effects were not asked after a session (blank). *fixed*
    p_serious_adverse_event : float
        Probability of a serious adverse event per session; the patient is withdrawn
        from treatment and follow-up. *fixed*
    p_monitor_absent : float
        Probability that the peer treatment monitor was absent. *fixed*
    phq_mean, phq_loadings, phq_trait_sd, phq_occasion_sd, phq_item_sd : float
        PHQ-9 model: per-item latent depression (0-3 scale) =
        ``phq_mean + loadings . (latent - (5, 4.5, 4)) + trait + occasion``; items are
        latent + noise, rounded and clipped to 0-3. Not calibrated (no published
        PHQ-9 figure): set so that depression overlaps with exhaustion. *fixed*
    """

    baseline_mean: tuple[float, float, float] = (5.3434, 4.7069, 4.135)
    baseline_sd: tuple[float, float, float] = (1.1543, 0.8191, 1.1989)
    baseline_corr: tuple[float, float, float] = (0.3545, -0.4088, -0.4921)
    pathway_shift: tuple[tuple[float, float, float], ...] = (
        (0.15, 0.15, 0.0),  # burnout
        (0.0, 0.0, -0.15),  # depression
        (-0.1, -0.1, 0.0),  # anxiety
        (-0.1, 0.0, 0.0),  # ptsd
        (0.0, 0.0, 0.0),  # blank
    )
    item_offsets: tuple[float, ...] = (
        0.25, 0.15, -0.2, 0.0, 0.2, -0.2, -0.1, 0.2, -0.1,
        0.1, -0.2, -0.15, -0.2, 0.25, -0.15, 0.15,
    )  # fmt: skip
    item_sd: tuple[float, float, float] = (0.8526, 0.9569, 0.8101)
    occasion_sd: tuple[float, float, float] = (0.6, 0.15, 0.2307)
    class_probs: tuple[float, float, float] = (0.7205, 0.1134, 0.1661)
    class_change: tuple[tuple[float, float, float], ...] = (
        (-0.3518, -0.0051, -0.0131),
        (-2.6882, -2.9475, -0.1113),
        (-3.1825, -1.9293, 1.3403),
    )
    slope_sd: tuple[float, float, float] = (0.7286, 0.6459, 0.837)
    slope_corr: tuple[float, float, float] = (0.5, -0.3, -0.3)
    shape: tuple[tuple[float, float], ...] = (
        (0.4117, 0.8459),
        (0.4913, 0.8785),
        (0.7625, 1.0746),
    )
    p_start: float = 0.93
    continue_logit: float = 1.109
    continue_per_point: float = 0.6
    p_missed: float = 0.07
    p_blank_item: float = 0.006
    side_effect_logit: tuple[float, ...] = (-3.5655, -3.7155, -3.821, -3.9265, -3.6422, -3.358)
    side_effect_subcutaneous: float = 0.3
    side_effect_patient_sd: float = 0.8
    p_side_effects_not_asked: float = 0.01
    p_serious_adverse_event: float = 0.0003
    p_monitor_absent: float = 0.03
    phq_mean: float = 1.55
    phq_loadings: tuple[float, float, float] = (0.3, 0.2, -0.15)
    phq_trait_sd: float = 0.35
    phq_occasion_sd: float = 0.2
    phq_item_sd: float = 0.7
    # covariates (fixed, not fitted; the outcome does not depend on them)
    age_loc: float = 42.4
    age_scale: float = 11.0
    age_range: tuple[int, int] = (18, 76)
    p_age_blank: float = 0.005
    sex_probs: tuple[float, float, float, float] = (0.542, 0.436, 0.012, 0.010)
    route_probs: tuple[float, float, float] = (0.695, 0.30, 0.005)
    pathway_probs: tuple[float, float, float, float, float] = (0.46, 0.28, 0.16, 0.07, 0.03)
    first_enrolment: _dt.date = _dt.date(2021, 3, 1)
    enrolment_days: int = 1200

    def __post_init__(self) -> None:
        problems: list[str] = []
        for name in ("class_probs", "sex_probs", "route_probs", "pathway_probs"):
            v = getattr(self, name)
            if any(x < 0 for x in v) or abs(sum(v) - 1.0) > 1e-9:
                problems.append(f"{name} must be non-negative and sum to 1, got {v!r}")
        for name in ("baseline_corr", "slope_corr"):
            r = _corr_matrix(getattr(self, name))
            if np.linalg.eigvalsh(r).min() <= 0:
                problems.append(f"{name} must give a positive-definite correlation matrix, got {getattr(self, name)!r}")
        for name in ("p_start", "p_missed", "p_blank_item", "p_side_effects_not_asked",
                     "p_serious_adverse_event", "p_monitor_absent", "p_age_blank"):  # fmt: skip
            v = getattr(self, name)
            if not 0.0 <= v <= 1.0:
                problems.append(f"{name} is a probability (0 to 1), got {v!r}")
        if len(self.item_offsets) != MBI_ITEMS:
            problems.append(f"item_offsets needs {MBI_ITEMS} values, got {len(self.item_offsets)}")
        if len(self.side_effect_logit) != SESSIONS:
            problems.append(f"side_effect_logit needs {SESSIONS} values, got {len(self.side_effect_logit)}")
        if problems:
            raise ValueError("invalid ModelParams: " + "; ".join(problems) + ". Fix: start from ModelParams() and dataclasses.replace() the fields you change.")


@dataclass(frozen=True, slots=True, repr=False)
class SimulatedCohort:
    """A synthetic cohort in the data-format.md layout, as pyarrow tables.

    ``patients``, ``mbi_gs``, ``sessions`` and ``phq9`` are what ``write_cohort``
    writes. ``latent`` is the generating truth (not part of the data format): per
    patient the latent class and whether the baseline met the threshold, for
    checking methods (e.g. intention-to-treat imputation) against the truth.
    """

    patients: pa.Table
    mbi_gs: pa.Table
    sessions: pa.Table
    phq9: pa.Table
    latent: pa.Table
    seed: int
    params: ModelParams = field(compare=False)

    @property
    def threshold_met(self) -> int:
        """Patients whose baseline met the default burnout threshold."""
        return int(pc.sum(self.latent["threshold_met"]).as_py() or 0)

    def __repr__(self) -> str:
        return (
            f"<SimulatedCohort: {self.patients.num_rows:,} enrolled patients, "
            f"{self.threshold_met:,} met the threshold, seed {self.seed}>"
        )


# --------------------------------------------------------------------------- noise


def _corr_matrix(r: tuple[float, float, float]) -> np.ndarray:
    a, b, c = r
    return np.array([[1.0, a, b], [a, 1.0, c], [b, c, 1.0]])


def _block_noise(seed: int, block: int) -> dict[str, np.ndarray]:
    """Every random number of one block of patients, in a fixed order.

    The sizes depend only on the block size, so a parameter change never shifts
    the stream (common random numbers) and blocks are reproducible on their own.
    """
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(block,)))
    b = _BLOCK
    f4 = np.float32
    return {
        "u_cov": rng.random((b, 5)),  # sex, route, pathway, age, age blank
        "z_base": rng.standard_normal((b, 3)),
        "u_class": rng.random(b),
        "z_slope": rng.standard_normal((b, 3)),
        "z_occ": rng.standard_normal((b, 4, 3)),
        "z_item": rng.standard_normal((b, 4, MBI_ITEMS), dtype=f4),
        "u_blank": rng.random((b, 4, MBI_ITEMS), dtype=f4),
        "u_attend": rng.random((b, SESSIONS)),  # start, then continue after sessions 1..5
        "u_missed": rng.random((b, 3)),
        "u_session": rng.random((b, SESSIONS, 4), dtype=f4),  # side effect, not asked, SAE, monitor
        "z_patient": rng.standard_normal((b, 2)),  # side-effect random effect, dose factor
        "days": rng.integers(0, 2**16, size=(b, 1 + 1 + SESSIONS), dtype=np.int64),
        "z_phq": rng.standard_normal((b, 5)),  # trait, 4 occasions
        "z_phq_item": rng.standard_normal((b, 4, PHQ9_ITEMS), dtype=f4),
        "u_phq": rng.random((b, 4, PHQ9_ITEMS + 1), dtype=f4),  # blanks, whole form missing
    }


def _draw_noise(seed: int, first_block: int, n_blocks: int) -> dict[str, np.ndarray]:
    return _concat(_block_noise(seed, first_block + i) for i in range(n_blocks))


def _take(noise: dict[str, np.ndarray], stop: int) -> dict[str, np.ndarray]:
    return {k: v[:stop] for k, v in noise.items()}


# --------------------------------------------------------------------------- model


def _subscale_units(
    items: np.ndarray, blank: np.ndarray, max_missing: int = ScoringSection().max_missing_items
) -> tuple[np.ndarray, np.ndarray]:
    """Subscale scores in integer units of 1/SCALE (..., 3) and whether each is scored."""
    answered = ~blank
    vals = np.where(answered, items, 0).astype(np.int64)
    total = np.zeros(items.shape[:-1] + (3,), dtype=np.int64)
    count = np.zeros(items.shape[:-1] + (3,), dtype=np.int64)
    for s in range(3):
        cols = _ITEM_SUBSCALE == s
        total[..., s] = vals[..., cols].sum(axis=-1)
        count[..., s] = answered[..., cols].sum(axis=-1)
    n_items = np.bincount(_ITEM_SUBSCALE, minlength=3)
    scored = (n_items - count) <= max_missing
    units = np.where(scored, total * SCALE // np.maximum(count, 1), 0)
    return units, scored


# The default plan's eligibility rule (E >= 4.8 and (C >= 3.8 or PE <= 4.3)) as integer units.
_ELIGIBILITY: Final = EligibilitySection()
_E_MIN: Final[int] = to_units_ceil(_ELIGIBILITY.exhaustion_min_exact)
_C_MIN: Final[int] = to_units_ceil(_ELIGIBILITY.cynicism_min_exact)
_PE_MAX: Final[int] = to_units_floor(_ELIGIBILITY.efficacy_max_exact)


def _meets_threshold(units: np.ndarray, scored: np.ndarray) -> np.ndarray:
    """The default plan's eligibility rule, in integer units.

    A blank subscale is unknown: SQL three-valued logic (unknown OR true = true).
    """
    e = scored[..., 0] & (units[..., 0] >= _E_MIN)
    c = scored[..., 1] & (units[..., 1] >= _C_MIN)
    p = scored[..., 2] & (units[..., 2] <= _PE_MAX)
    return e & (c | p)


def _categorical(u: np.ndarray, probs: tuple[float, ...]) -> np.ndarray:
    return np.searchsorted(np.cumsum(probs)[:-1], u, side="right")


def _shape_matrix(p: ModelParams) -> np.ndarray:
    """g[s, k] for k = 0..6 sessions: fraction of the session-6 change reached."""
    g = np.zeros((3, SESSIONS + 1))
    for s, (g2, g4) in enumerate(p.shape):
        g[s] = np.interp(np.arange(SESSIONS + 1), [0, 2, 4, 6], [0.0, g2, g4, 1.0])
    return g


def _model(nz: dict[str, np.ndarray], p: ModelParams) -> dict[str, np.ndarray]:
    """Apply the model to a block of noise: every latent and observed array."""
    n = nz["z_base"].shape[0]
    out: dict[str, np.ndarray] = {}

    # 1. covariates
    u = nz["u_cov"]
    out["sex"] = _categorical(u[:, 0], p.sex_probs)
    out["route"] = _categorical(u[:, 1], p.route_probs)
    pathway = _categorical(u[:, 2], p.pathway_probs)
    out["pathway"] = pathway
    lo, hi = p.age_range
    a, b = ndtr((lo - p.age_loc) / p.age_scale), ndtr((hi + 1 - p.age_loc) / p.age_scale)
    age = np.floor(p.age_loc + p.age_scale * ndtri(a + u[:, 3] * (b - a)))
    out["age"] = np.clip(age, lo, hi).astype(np.int64)
    out["age_blank"] = u[:, 4] < p.p_age_blank

    # 2. latent baseline: correlated normal, shifted by pathway
    chol = np.linalg.cholesky(_corr_matrix(p.baseline_corr)) * np.asarray(p.baseline_sd)[:, None]
    theta0 = np.asarray(p.baseline_mean) + np.asarray(p.pathway_shift)[pathway] + nz["z_base"] @ chol.T

    # 3. latent class and individual change at session 6
    cls = _categorical(nz["u_class"], p.class_probs)
    out["latent_class"] = cls
    chol_s = np.linalg.cholesky(_corr_matrix(p.slope_corr)) * np.asarray(p.slope_sd)[:, None]
    change = np.asarray(p.class_change)[cls] + nz["z_slope"] @ chol_s.T  # (n, 3)
    g = _shape_matrix(p)  # (3, 7)
    gt = g[:, list(TIMEPOINTS)].T  # (4, 3)

    # 4. latent level at each assessment, then items
    level = theta0[:, None, :] + change[:, None, :] * gt[None] + nz["z_occ"] * np.asarray(p.occasion_sd)
    sub = _ITEM_SUBSCALE
    item_sd = np.asarray(p.item_sd, dtype=np.float32)[sub]
    offs = np.asarray(p.item_offsets, dtype=np.float32)
    x = level.astype(np.float32)[:, :, sub] + offs + item_sd * nz["z_item"]
    items = np.clip(np.floor(x + np.float32(0.5)), 0, 6).astype(np.int8)
    blank = nz["u_blank"] < np.float32(p.p_blank_item)
    out["items"], out["blank"] = items, blank
    units, scored = _subscale_units(items[:, 0], blank[:, 0])
    out["threshold_met"] = _meets_threshold(units, scored)

    # 5. attendance: start, then continue after session k with odds rising with
    #    the latent improvement so far (mean decrease of exhaustion and cynicism)
    ua = nz["u_attend"]
    improvement = -(change[:, :2, None] * g[None, :2, 1:SESSIONS]).mean(axis=1)  # (n, 5) after sessions 1..5
    p_cont = expit(p.continue_logit + p.continue_per_point * improvement)
    started = ua[:, 0] < p.p_start
    goes_on = np.cumprod(ua[:, 1:] < p_cont, axis=1)
    n_sessions = np.where(started, 1 + goes_on.sum(axis=1), 0)
    us = nz["u_session"]
    sae = us[:, :, 2] < np.float32(p.p_serious_adverse_event)  # (n, 6)
    k = np.arange(1, SESSIONS + 1)
    sae &= k[None, :] <= n_sessions[:, None]
    first_sae = np.where(sae.any(axis=1), sae.argmax(axis=1) + 1, SESSIONS + 1)
    n_sessions = np.minimum(n_sessions, first_sae)
    out["n_sessions"], out["sae"] = n_sessions, sae
    # assessment present: baseline always; after session t when reached, not missed,
    # and not withdrawn after a serious adverse event at or before session t
    t_follow = np.array(TIMEPOINTS[1:])
    present = np.ones((n, 4), dtype=bool)
    present[:, 1:] = (
        (n_sessions[:, None] >= t_follow) & (nz["u_missed"] >= p.p_missed) & (first_sae[:, None] > t_follow)
    )
    out["present"] = present

    # 6. side effects (patient random effect, route), monitor, dose
    subcut = out["route"] == 1
    logit = (
        np.asarray(p.side_effect_logit)[None, :]
        + p.side_effect_subcutaneous * subcut[:, None]
        + p.side_effect_patient_sd * nz["z_patient"][:, :1]
    )
    se = us[:, :, 0] < expit(logit).astype(np.float32)
    out["side_effects"] = se
    out["se_not_asked"] = us[:, :, 1] < np.float32(p.p_side_effects_not_asked)
    out["monitor"] = us[:, :, 3] >= np.float32(p.p_monitor_absent)
    # dose: route's starting dose scaled by a patient factor, one titration step up
    # after each earlier session without side effects, capped
    start = np.where(subcut, 40.0, 200.0) * np.exp(0.15 * nz["z_patient"][:, 1])
    step = np.where(subcut, 10.0, 50.0)
    cap = np.where(subcut, 100.0, 450.0)
    unit = np.where(subcut, 5.0, 25.0)
    calm = np.concatenate([np.zeros((n, 1)), np.cumsum(~se[:, :-1], axis=1)], axis=1)
    dose = np.minimum(start[:, None] + step[:, None] * calm, cap[:, None])
    out["dose"] = np.maximum(np.round(dose / unit[:, None]), 1) * unit[:, None]

    # dates: enrolment, first session 1-7 days later, 4-10 days between sessions,
    # assessment the day of the session or the next
    d = nz["days"]
    enrol = d[:, 0] % p.enrolment_days
    first = enrol + 1 + d[:, 1] % 7
    gaps = 4 + d[:, 2 : 2 + SESSIONS - 1] % 7
    held = first[:, None] + np.concatenate([np.zeros((n, 1), dtype=np.int64), np.cumsum(gaps, axis=1)], axis=1)
    out["held_on"] = held
    done = np.empty((n, 4), dtype=np.int64)
    done[:, 0] = enrol
    done[:, 1:] = held[:, t_follow - 1] + d[:, 2 + SESSIONS - 1 : 2 + SESSIONS] % 2
    out["completed_on"] = done

    # 7. PHQ-9 from the same latent levels (depression overlaps with exhaustion)
    zp = nz["z_phq"]
    centre = np.array([5.0, 4.5, 4.0])
    dep = (
        p.phq_mean
        + ((level - centre) * np.asarray(p.phq_loadings)).sum(axis=-1)
        + p.phq_trait_sd * zp[:, :1]
        + p.phq_occasion_sd * zp[:, 1:]
        + np.where(pathway == 1, 0.2, 0.0)[:, None]
    )  # (n, 4)
    y = dep.astype(np.float32)[:, :, None] + np.float32(p.phq_item_sd) * nz["z_phq_item"]
    out["phq_items"] = np.clip(np.floor(y + np.float32(0.5)), 0, 3).astype(np.int8)
    up = nz["u_phq"]
    out["phq_blank"] = up[:, :, :PHQ9_ITEMS] < np.float32(0.004)
    out["phq_present"] = present & (up[:, :, PHQ9_ITEMS] >= np.float32(0.03))
    return out


def _arrays(
    seed: int, params: ModelParams, *, patients: int | None, threshold_met: int | None
) -> Iterator[dict[str, np.ndarray]]:
    """Model arrays chunk by chunk (at most 16 blocks each), sized by ``patients`` or ``threshold_met``."""
    block = 0
    if patients is not None:
        remaining = patients
        while remaining > 0:
            nb = min(_CHUNK_BLOCKS, -(-remaining // _BLOCK))
            arr = _model(_take(_draw_noise(seed, block, nb), min(remaining, nb * _BLOCK)), params)
            remaining -= arr["n_sessions"].shape[0]
            block += nb
            yield arr
        return
    if threshold_met is None:
        raise ValueError("give patients or threshold_met")
    need, nb = threshold_met, 1
    while need > 0:
        arr = _model(_draw_noise(seed, block, nb), params)
        met = np.cumsum(arr["threshold_met"])
        if met[-1] >= need:
            stop = int(np.searchsorted(met, need)) + 1
            yield _take(arr, stop)
            return
        if block >= 1000 and threshold_met - need == 0:
            raise ValueError(
                "no simulated patient meets the threshold in 8 million draws with these ModelParams; "
                "fix: raise baseline_mean[0] (exhaustion)"
            )
        need -= int(met[-1])
        block += nb
        nb = min(_CHUNK_BLOCKS, 2 * nb)
        yield arr


def _concat(chunks: Iterable[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    parts = list(chunks)
    return parts[0] if len(parts) == 1 else {k: np.concatenate([c[k] for c in parts]) for k in parts[0]}


# --------------------------------------------------------------------------- tables


def _ids(start: int, n: int) -> pa.Array:
    width = max(7, len(str(start + n)))
    nums = np.strings.zfill(np.arange(start + 1, start + n + 1).astype(np.str_), width)
    return pa.array(np.strings.add("P", nums), type=pa.string())


def _dates(days: np.ndarray, first: _dt.date) -> pa.Array:
    offset = (first - _EPOCH).days
    return pa.array((days + offset).astype(np.int32), type=pa.date32())


def _text(codes: np.ndarray, labels: tuple[str, ...]) -> pa.Array:
    """Category codes -> text, "" -> null (a blank cell)."""
    dictionary = pa.array([lab if lab else None for lab in labels], type=pa.string())
    return pc.take(dictionary, pa.array(codes.astype(np.int32)))


def _tables(a: dict[str, np.ndarray], p: ModelParams, id_start: int) -> dict[str, pa.Table]:
    n = a["n_sessions"].shape[0]
    ids = _ids(id_start, n)
    tables: dict[str, pa.Table] = {}
    tables["patients"] = pa.table(
        {
            "patient_id": ids,
            "age": pa.array(a["age"], mask=a["age_blank"], type=pa.int64()),
            "sex": _text(a["sex"], SEXES),
            "route": _text(a["route"], ROUTES),
            "pathway": _text(a["pathway"], PATHWAYS),
        }
    )

    def forms(present: np.ndarray, items: np.ndarray, blank: np.ndarray) -> pa.Table:
        """One row per form returned (patient-major): id, timepoint, date and the items."""
        pi, ti = np.nonzero(present)
        answered, unanswered = items[pi, ti], blank[pi, ti]
        cols: dict[str, Any] = {
            "patient_id": pc.take(ids, pa.array(pi)),
            "after_session": pa.array(np.asarray(TIMEPOINTS)[ti], type=pa.int64()),
            "completed_on": _dates(a["completed_on"][pi, ti], p.first_enrolment),
        }
        for j in range(items.shape[-1]):
            cols[f"item_{j + 1}"] = pa.array(answered[:, j], mask=unanswered[:, j], type=pa.int8())
        return pa.table(cols)

    tables["mbi_gs"] = forms(a["present"], a["items"], a["blank"])

    # sessions: one row per session delivered
    k = np.arange(1, SESSIONS + 1)
    pi, ki = np.nonzero(k[None, :] <= a["n_sessions"][:, None])
    tables["sessions"] = pa.table(
        {
            "patient_id": pc.take(ids, pa.array(pi)),
            "session": pa.array(ki + 1, type=pa.int64()),
            "held_on": _dates(a["held_on"][pi, ki], p.first_enrolment),
            "dose_mg": pa.array(a["dose"][pi, ki], type=pa.float64()),
            "monitor_present": pa.array(a["monitor"][pi, ki]),
            "side_effects": pa.array(a["side_effects"][pi, ki], mask=a["se_not_asked"][pi, ki]),
            "serious_adverse_event": pa.array(a["sae"][pi, ki]),
        }
    )

    # phq9: at the assessments returned, unless the form was missed
    tables["phq9"] = forms(a["phq_present"], a["phq_items"], a["phq_blank"])

    tables["latent"] = pa.table(
        {
            "patient_id": ids,
            "latent_class": _text(a["latent_class"], LATENT_CLASSES),
            "threshold_met": pa.array(a["threshold_met"]),
        }
    )
    return tables


# --------------------------------------------------------------------------- public


def simulate_cohort(
    *,
    patients: int | None = None,
    threshold_met: int | None = None,
    seed: int = DEFAULT_SEED,
    params: ModelParams | None = None,
) -> SimulatedCohort:
    """Draw a synthetic cohort from the calibrated latent-class growth model.

    Parameters
    ----------
    patients : int, optional
        Enrolled patients to draw. When given, the number meeting the burnout
        threshold at baseline is whatever the model gives (about 64%).
    threshold_met : int, optional
        Draw enrolled patients until exactly this many meet the threshold at
        baseline (E >= 4.8 and (C >= 3.8 or PE <= 4.3), scored from the items).
        Default 1,642 (the reference study) when ``patients`` is not given.
        Give one of ``patients`` and ``threshold_met``, not both.
    seed : int
        Seed of the random numbers; the default is the one calibrated against.
    params : ModelParams, optional
        Model parameters; default ``ModelParams()``, the calibrated values.

    Returns
    -------
    SimulatedCohort
        pyarrow tables ``patients``, ``mbi_gs``, ``sessions`` and ``phq9`` in the
        data-format.md layout, plus the latent truth. Patient ids are "P0000001"...

    Notes
    -----
    With the defaults, analysing the cohort with the default plan gives 1,642
    patients meeting the threshold and 395 completers, and reproduces the published
    figures within the tolerances listed in docs/synthetic-cohort.md (checked by
    tests/test_simulate.py with an independent evaluator). Other seeds land within
    sampling error of them. The same seed always gives the same cohort; a smaller
    cohort is a prefix of a larger one with the same seed and parameters.

    Examples
    --------
    >>> cohort = simulate_cohort()
    >>> cohort.threshold_met
    1642
    """
    parts: dict[str, list[pa.Table]] = {}
    for chunk in simulate_chunks(patients=patients, threshold_met=threshold_met, seed=seed, params=params):
        for name, t in chunk.items():
            parts.setdefault(name, []).append(t)
    done = {name: _join(ts) for name, ts in parts.items()}
    return SimulatedCohort(seed=seed, params=params or ModelParams(), **done)


def simulate_chunks(
    *,
    patients: int | None = None,
    threshold_met: int | None = None,
    seed: int = DEFAULT_SEED,
    params: ModelParams | None = None,
) -> Iterator[dict[str, pa.Table]]:
    """:func:`simulate_cohort` as a stream: its tables (and ``latent``) one chunk of
    patients at a time, for writing cohorts too large to hold. Concatenated in order,
    the chunks are ``simulate_cohort``'s tables. Arguments are checked at the call.
    """
    if patients is not None and threshold_met is not None:
        raise ValueError(
            f"give patients or threshold_met, not both (got patients={patients!r}, "
            f"threshold_met={threshold_met!r}); fix: drop one of them"
        )
    for name, v in (("patients", patients), ("threshold_met", threshold_met)):
        if v is not None and (isinstance(v, bool) or not isinstance(v, int) or v < 1):
            raise ValueError(f"{name} must be a positive integer, got {v!r}; fix: pass e.g. {name}=1642")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}; fix: pass e.g. seed={DEFAULT_SEED}")
    if params is None:
        params = ModelParams()
    elif not isinstance(params, ModelParams):
        raise TypeError(f"params must be a ModelParams, got {type(params).__name__}")
    if patients is None and threshold_met is None:
        threshold_met = DEFAULT_THRESHOLD_MET
    return _chunks(seed, params, patients=patients, threshold_met=threshold_met)


def _chunks(
    seed: int, params: ModelParams, *, patients: int | None, threshold_met: int | None
) -> Iterator[dict[str, pa.Table]]:
    start = 0
    for arr in _arrays(seed, params, patients=patients, threshold_met=threshold_met):
        yield _tables(arr, params, start)
        start += arr["n_sessions"].shape[0]


def _join(tables: list[pa.Table]) -> pa.Table:
    # chunked on purpose: combining would copy every column (2x peak memory at 1M patients)
    return tables[0] if len(tables) == 1 else pa.concat_tables(tables)


def write_cohort(
    cohort: SimulatedCohort,
    out_dir: str | Path,
    *,
    fmt: Literal["csv", "parquet"] = "csv",
) -> list[Path]:
    """Write the cohort as patients, mbi_gs, sessions and phq9 files.

    Parameters
    ----------
    cohort : SimulatedCohort
        From ``simulate_cohort``.
    out_dir : str or Path
        Folder to write, atomically: a new or empty folder, or one burnout wrote
        before (it is replaced). It gets burnout's manifest (``burnout.outdir``),
        which the cohort loader ignores.
    fmt : {"csv", "parquet"}
        CSV (UTF-8, header row, blank cells for missing values, booleans true/false,
        dates YYYY-MM-DD) or Parquet with the same columns.

    Returns
    -------
    list of Path
        The files written, in the order patients, mbi_gs, sessions, phq9. The bytes
        depend only on the cohort, so the same seed gives identical files.

    Raises
    ------
    OutputFolderError
        ``out_dir`` is a file, holds files burnout did not write, or cannot be written.
    """
    if fmt not in ("csv", "parquet"):
        raise ValueError(f"fmt must be 'csv' or 'parquet', got {fmt!r}; fix: pass fmt='csv' or fmt='parquet'")
    if not isinstance(cohort, SimulatedCohort):
        raise TypeError(f"cohort must be a SimulatedCohort from simulate_cohort(), got {type(cohort).__name__}")
    from burnout.outdir import write_output_folder

    names = ("patients", "mbi_gs", "sessions", "phq9")

    def write(folder: Path) -> None:
        for name in names:
            table: pa.Table = getattr(cohort, name)
            path = folder / f"{name}.{fmt}"
            if fmt == "csv":
                import pyarrow.csv as pacsv

                # plain header line (pyarrow would quote the names); no value ever needs quoting
                with open(path, "wb") as fh:
                    fh.write((",".join(table.column_names) + "\n").encode())
                    pacsv.write_csv(table, fh, write_options=pacsv.WriteOptions(include_header=False, quoting_style="none"))
            else:
                import pyarrow.parquet as pq

                pq.write_table(table, path, compression="zstd")

    out = write_output_folder(out_dir, write)
    return [out / f"{name}.{fmt}" for name in names]
