"""The calibrated synthetic cohort: a documented statistical model, not copied numbers. (draw)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Final

import numpy as np
from scipy.special import expit, ndtr, ndtri

from burnout.instrument import MBI_ITEMS, PHQ9_ITEMS, SCALE, SUBSCALE_ITEMS, SUBSCALES
from burnout.plan import EligibilitySection, ScoringSection
from burnout.scoring import to_units_ceil, to_units_floor
from burnout.simulate.model import SESSIONS, TIMEPOINTS, ModelParams, _corr_matrix

_BLOCK: Final[int] = 8192  # patients per random-number block
_CHUNK_BLOCKS: Final[int] = 16  # blocks turned into tables at a time (bounds peak memory)

# item position (0-based) -> subscale index (0 exhaustion, 1 cynicism, 2 efficacy)
_ITEM_SUBSCALE: Final[np.ndarray] = np.empty(MBI_ITEMS, dtype=np.int64)
for _s, _name in enumerate(SUBSCALES):
    for _item in SUBSCALE_ITEMS[_name]:
        _ITEM_SUBSCALE[_item - 1] = _s
_ITEM_SUBSCALE.setflags(write=False)


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
    """Apply the model to a block of noise: every latent and observed array, stage by stage."""
    out: dict[str, np.ndarray] = {}
    _covariates(nz, p, out)
    change, g = _latent_change(nz, p, out)
    level = _mbi_items(nz, p, change, g, out)
    _attendance(nz, p, change, g, out)
    _sessions(nz, p, out)
    _dates(nz, p, out)
    _phq9(nz, p, level, out)
    return out


def _covariates(nz: dict[str, np.ndarray], p: ModelParams, out: dict[str, np.ndarray]) -> None:
    """1. Sex, route, pathway, age (a truncated normal, whole years) and a blank age."""
    u = nz["u_cov"]
    out["sex"] = _categorical(u[:, 0], p.sex_probs)
    out["route"] = _categorical(u[:, 1], p.route_probs)
    out["pathway"] = _categorical(u[:, 2], p.pathway_probs)
    lo, hi = p.age_range
    a, b = ndtr((lo - p.age_loc) / p.age_scale), ndtr((hi + 1 - p.age_loc) / p.age_scale)
    age = np.floor(p.age_loc + p.age_scale * ndtri(a + u[:, 3] * (b - a)))
    out["age"] = np.clip(age, lo, hi).astype(np.int64)
    out["age_blank"] = u[:, 4] < p.p_age_blank


def _latent_change(
    nz: dict[str, np.ndarray], p: ModelParams, out: dict[str, np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    """3. The latent class and each patient's change at session 6 (n, 3); the shape matrix g (3, 7)."""
    cls = _categorical(nz["u_class"], p.class_probs)
    out["latent_class"] = cls
    chol_s = np.linalg.cholesky(_corr_matrix(p.slope_corr)) * np.asarray(p.slope_sd)[:, None]
    change = np.asarray(p.class_change)[cls] + nz["z_slope"] @ chol_s.T  # (n, 3)
    return change, _shape_matrix(p)


def _mbi_items(
    nz: dict[str, np.ndarray], p: ModelParams, change: np.ndarray, g: np.ndarray, out: dict[str, np.ndarray]
) -> np.ndarray:
    """2 and 4. The latent baseline (correlated normal, shifted by pathway), the latent level
    at each assessment (n, 4, 3, returned), the items drawn from it and the threshold."""
    chol = np.linalg.cholesky(_corr_matrix(p.baseline_corr)) * np.asarray(p.baseline_sd)[:, None]
    theta0 = np.asarray(p.baseline_mean) + np.asarray(p.pathway_shift)[out["pathway"]] + nz["z_base"] @ chol.T
    gt = g[:, list(TIMEPOINTS)].T  # (4, 3)
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
    return level


def _attendance(
    nz: dict[str, np.ndarray], p: ModelParams, change: np.ndarray, g: np.ndarray, out: dict[str, np.ndarray]
) -> None:
    """5. Start, then continue after session k with odds rising with the latent improvement
    so far (mean decrease of exhaustion and cynicism); withdrawal after a serious adverse
    event; which assessments are present."""
    n = nz["z_base"].shape[0]
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


def _sessions(nz: dict[str, np.ndarray], p: ModelParams, out: dict[str, np.ndarray]) -> None:
    """6. Side effects (patient random effect, route), not asked, monitor, dose."""
    n = nz["z_base"].shape[0]
    us = nz["u_session"]
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


def _dates(nz: dict[str, np.ndarray], p: ModelParams, out: dict[str, np.ndarray]) -> None:
    """Enrolment, first session 1-7 days later, 4-10 days between sessions, assessment
    the day of the session or the next (days since the first enrolment)."""
    n = nz["z_base"].shape[0]
    t_follow = np.array(TIMEPOINTS[1:])
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


def _phq9(nz: dict[str, np.ndarray], p: ModelParams, level: np.ndarray, out: dict[str, np.ndarray]) -> None:
    """7. PHQ-9 from the same latent levels (depression overlaps with exhaustion)."""
    zp = nz["z_phq"]
    centre = np.array([5.0, 4.5, 4.0])
    dep = (
        p.phq_mean
        + ((level - centre) * np.asarray(p.phq_loadings)).sum(axis=-1)
        + p.phq_trait_sd * zp[:, :1]
        + p.phq_occasion_sd * zp[:, 1:]
        + np.where(out["pathway"] == 1, 0.2, 0.0)[:, None]
    )  # (n, 4)
    y = dep.astype(np.float32)[:, :, None] + np.float32(p.phq_item_sd) * nz["z_phq_item"]
    out["phq_items"] = np.clip(np.floor(y + np.float32(0.5)), 0, 3).astype(np.int8)
    up = nz["u_phq"]
    out["phq_blank"] = up[:, :, :PHQ9_ITEMS] < np.float32(0.004)
    out["phq_present"] = out["present"] & (up[:, :, PHQ9_ITEMS] >= np.float32(0.03))


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
