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

from burnout.simulate.model import (
    DEFAULT_SEED,
    DEFAULT_THRESHOLD_MET,
    LATENT_CLASSES,
    PROFILE_BOUNDARIES,
    ModelParams,
    SimulatedCohort,
)
from burnout.simulate.tables import simulate_chunks, simulate_cohort, write_cohort

__all__ = [
    "DEFAULT_SEED",
    "DEFAULT_THRESHOLD_MET",
    "LATENT_CLASSES",
    "ModelParams",
    "PROFILE_BOUNDARIES",
    "SimulatedCohort",
    "simulate_chunks",
    "simulate_cohort",
    "write_cohort",
]
