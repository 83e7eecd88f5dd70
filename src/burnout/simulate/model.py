"""The simulator's parameters, constants and result type."""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from typing import Final

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from burnout.instrument import MBI_ITEMS, SUBSCALES
from burnout.plan import DEFAULT_PROFILE_BOUNDARIES

__all__ = [
    "DEFAULT_SEED",
    "DEFAULT_THRESHOLD_MET",
    "LATENT_CLASSES",
    "PROFILE_BOUNDARIES",
    "ModelParams",
    "SimulatedCohort",
]

DEFAULT_SEED: Final[int] = 20240917
DEFAULT_THRESHOLD_MET: Final[int] = 1642

LATENT_CLASSES: Final[tuple[str, ...]] = ("non-responder", "responder", "broad responder")

# z-score profile boundaries (exhaustion critical when z >= b[0], cynicism when
# z >= b[1], efficacy when z <= b[2]; reference: the completers at baseline) that
# were calibrated jointly with the model to the published profile figures. They live
# in the default plan (protocol.DEFAULT_PROFILE_BOUNDARIES); this is the same triple.
PROFILE_BOUNDARIES: Final[tuple[float, float, float]] = tuple(  # type: ignore[assignment]  # tuple() of a generator is tuple[float, ...]; SUBSCALES has exactly three
    DEFAULT_PROFILE_BOUNDARIES[s] for s in SUBSCALES
)

TIMEPOINTS: Final[tuple[int, ...]] = (0, 2, 4, 6)  # after_session of the four assessments
SESSIONS: Final[int] = 6

SEXES: Final[tuple[str, ...]] = ("female", "male", "other", "")  # "" = blank (unknown)
ROUTES: Final[tuple[str, ...]] = ("sublingual", "subcutaneous", "")
PATHWAYS: Final[tuple[str, ...]] = ("burnout", "depression", "anxiety", "ptsd", "")


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
            raise ValueError(
                "invalid ModelParams: "
                + "; ".join(problems)
                + ". Fix: start from ModelParams() and dataclasses.replace() the fields you change."
            )


@dataclass(frozen=True, slots=True, repr=False)
class SimulatedCohort:
    """A synthetic cohort in the data-format.md layout, as pyarrow tables.

    ``patients``, ``mbi_gs``, ``sessions`` and ``phq9`` are what ``write_cohort``
    writes. ``latent`` is the generating truth (not part of the data format): per
    patient the latent class and whether the baseline met the threshold, for
    checking methods (e.g. intention-to-treat imputation) against the truth. ``truth``
    holds every patient's items at every assessment as drawn, before dropout, missed
    forms and blank items (``write_cohort`` writes it as ``synthetic_truth``).
    """

    patients: pa.Table
    mbi_gs: pa.Table
    sessions: pa.Table
    phq9: pa.Table
    truth: pa.Table
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
