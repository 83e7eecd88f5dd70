"""The analysis plan: ``protocol.toml`` read into a frozen, validated `Protocol`. (sections)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from fractions import Fraction
from types import MappingProxyType
from typing import Annotated, Final, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StrictBool, ValidationInfo, field_validator, model_validator
from pydantic_core import PydanticCustomError

from burnout.instrument import SCALE, SUBSCALES, Subscale
from burnout.plan.eligibility import RuleError, parse_rule
from burnout.plan.exact import _SCORE_MAX, _Int, _Number, _Str, exact

__all__ = [
    "AGE_MAX",
    "AGE_MIN",
    "ASSESSMENTS_MAX",
    "DEFAULT_PROFILE_BOUNDARIES",
    "DEFAULT_PROFILE_METHOD",
    "DEFAULT_PROFILE_REFERENCE",
    "DEFAULT_TITLE",
    "MIN_CELL_COUNT_MAX",
    "NORM_SD_MAX",
    "SESSIONS_MAX",
    "SUBGROUP_VARIABLES",
    "Z_BOUNDARY_MAX",
    "AnalysisSection",
    "EligibilitySection",
    "NormEntry",
    "Norms",
    "PrivacySection",
    "ProfileMethod",
    "ProfileReference",
    "ProfilesSection",
    "ResponseSection",
    "ScheduleSection",
    "ScoringSection",
    "SubgroupVariable",
    "SubgroupsSection",
]

ProfileMethod = Literal["raw", "zscore"]
ProfileReference = Literal["baseline", "norms"]
SubgroupVariable = Literal["age_band", "sex", "route", "pathway"]

SUBGROUP_VARIABLES: Final[tuple[SubgroupVariable, ...]] = ("age_band", "sex", "route", "pathway")

DEFAULT_TITLE: Final[str] = "At-home ketamine-assisted therapy for burnout"

# Profile boundaries were not published by the reference study. These z-score boundaries
# (against the completers' baseline) are an assumption: the ones with which the calibrated
# synthetic cohort reproduces the published profile figures (docs/synthetic-cohort.md,
# "Profile boundaries"). Change them here, nowhere else.
DEFAULT_PROFILE_METHOD: Final[ProfileMethod] = "zscore"
DEFAULT_PROFILE_REFERENCE: Final[ProfileReference] = "baseline"
DEFAULT_PROFILE_BOUNDARIES: Final[Mapping[Subscale, float]] = MappingProxyType(
    {"exhaustion": -0.65, "cynicism": 0.9, "professional_efficacy": -0.35}
)

AGE_MIN: Final[int] = 18  # the data contract's age range (data-format.md)
AGE_MAX: Final[int] = 120
_SEED_MAX: Final[int] = 2**63 - 1  # TOML integers are signed 64-bit

# Bounds of the plan: each is what the analysis can honour, and says why.
# Sessions: the reach curve is one engine aggregate per session in one query and one
# published count per session (results.json, report). Measured on 400 patients: 6 or
# 1,000 sessions run in about 11 s; 3,000 in 23 s; 20,000 took 139 s and 1.2 GB.
SESSIONS_MAX: Final[int] = 1000
# Assessments: missing-data patterns are an int64 bit mask with one bit per
# assessment (beyond._collect_patterns), so at most 63 of them.
ASSESSMENTS_MAX: Final[int] = 63
# An SD of scores on the 0-6 scale is at most half its range.
NORM_SD_MAX: Final[int] = _SCORE_MAX // 2
# A z boundary b becomes the raw cut-off mean + b * sd (sd <= 3) in units of
# 1/SCALE point, compared in the engine as a 64-bit integer: |b| up to this fits.
Z_BOUNDARY_MAX: Final[int] = (2**63 - 1 - _SCORE_MAX * SCALE) // (NORM_SD_MAX * SCALE)
# Counts are 64-bit integers in every engine: a larger threshold could never be met.
MIN_CELL_COUNT_MAX: Final[int] = 2**63 - 1


class _Section(BaseModel):
    # validate_default: a default can conflict with another key the user set
    # (sessions = 3 with the default assessments, method = "raw" with z boundaries).
    model_config = ConfigDict(frozen=True, extra="forbid", validate_default=True)


def _impossible(*reasons: str) -> PydanticCustomError:
    return PydanticCustomError(
        "impossible_value", "{reason}", {"reason": "; ".join(reasons), "reasons": tuple(reasons)}
    )


_Step = TypeVar("_Step", int, float)


def _strictly_increasing(value: tuple[_Step, ...]) -> tuple[_Step, ...]:
    """``value`` itself, or the plan's error naming every step that does not go up."""
    reasons = [
        f"{after} follows {before}, so it is not strictly increasing"
        for before, after in zip(value, value[1:])
        if after <= before
    ]
    if reasons:
        raise _impossible(*reasons)
    return value


# -------------------------------------------------------------------------- sections


class ScoringSection(_Section):
    """``[scoring]``: how MBI-GS subscales are scored.

    ``max_missing_items`` blank items are allowed per subscale (the subscale is then
    the mean of the answered items); more makes the subscale missing.
    """

    max_missing_items: Annotated[_Int, Field(ge=0, le=4)] = 1


class EligibilitySection(_Section):
    """``[eligibility]``: the burnout threshold, applied at baseline.

    Met when ``exhaustion >= exhaustion_min and (cynicism >= cynicism_min or
    professional_efficacy <= efficacy_max)``.
    """

    exhaustion_min: Annotated[_Number, Field(ge=0, le=_SCORE_MAX)] = 4.8
    cynicism_min: Annotated[_Number, Field(ge=0, le=_SCORE_MAX)] = 3.8
    efficacy_max: Annotated[_Number, Field(ge=0, le=_SCORE_MAX)] = 4.3
    # A rule over the primary instrument's scale names (plan.eligibility's grammar); when
    # given it replaces the three keys above. None: those keys, as the reference study.
    rule: Annotated[_Str, Field(min_length=1, max_length=2000)] | None = None

    @field_validator("rule")
    @classmethod
    def _check_rule(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                parse_rule(value)
            except RuleError as exc:
                raise _impossible(str(exc)) from None
        return value

    @property
    def exhaustion_min_exact(self) -> Fraction:
        """``exhaustion_min`` as the exact decimal written in the plan."""
        return exact(self.exhaustion_min)

    @property
    def cynicism_min_exact(self) -> Fraction:
        """``cynicism_min`` as the exact decimal written in the plan."""
        return exact(self.cynicism_min)

    @property
    def efficacy_max_exact(self) -> Fraction:
        """``efficacy_max`` as the exact decimal written in the plan."""
        return exact(self.efficacy_max)


class ScheduleSection(_Section):
    """``[schedule]``: sessions 1..``sessions`` and the scored ``assessments``.

    ``assessments`` are ``after_session`` values: 0 is baseline, then strictly
    increasing, none after the last session. A completer had every session and
    every assessment scored. At most `SESSIONS_MAX` sessions and `ASSESSMENTS_MAX`
    assessments (the reasons are at their definitions).
    """

    sessions: Annotated[_Int, Field(ge=1, le=SESSIONS_MAX)] = 6
    assessments: Annotated[
        tuple[Annotated[_Int, Field(ge=0, le=SESSIONS_MAX)], ...], Field(min_length=1, max_length=ASSESSMENTS_MAX)
    ] = (0, 2, 4, 6)

    @field_validator("assessments")
    @classmethod
    def _check_assessments(cls, value: tuple[int, ...], info: ValidationInfo) -> tuple[int, ...]:
        reasons = []
        if value[0] != 0:
            reasons.append(f"it starts with {value[0]}, not 0 (baseline)")
        for before, after in zip(value, value[1:]):
            if after <= before:
                reasons.append(f"{after} follows {before}, so it is not strictly increasing")
        sessions = info.data.get("sessions")
        if sessions is not None:
            beyond = [a for a in value if a > sessions]
            if beyond:
                shown = ", ".join(map(str, beyond))
                verb = "is" if len(beyond) == 1 else "are"
                reasons.append(
                    f"{shown} {verb} after the last session (schedule.sessions = {sessions}); "
                    "give assessments that fit the schedule"
                )
        if reasons:
            raise _impossible(*reasons)
        return value


class ResponseSection(_Section):
    """``[response]``: a responder improved by at least ``min_change`` points on a
    subscale, first to last assessment (a decrease for exhaustion and cynicism, an
    increase for professional efficacy)."""

    min_change: Annotated[_Number, Field(gt=0, le=_SCORE_MAX)] = 1.0
    # scale name -> the smallest improvement on it (points of that scale); checked against
    # the primary instrument's scales and ranges by plan.instruments.cross_check
    per_subscale: dict[Annotated[_Str, Field(max_length=40)], _Number] | None = None

    @property
    def min_change_exact(self) -> Fraction:
        """``min_change`` as the exact decimal written in the plan."""
        return exact(self.min_change)


class NormEntry(_Section):
    """Population norms of one subscale: ``{mean, sd}`` on the 0-6 scale (so 0 < sd <= 3)."""

    mean: Annotated[_Number, Field(ge=0, le=_SCORE_MAX)]
    sd: Annotated[_Number, Field(gt=0, le=NORM_SD_MAX)]

    @property
    def mean_exact(self) -> Fraction:
        """``mean`` as the exact decimal written in the plan."""
        return exact(self.mean)

    @property
    def sd_exact(self) -> Fraction:
        """``sd`` as the exact decimal written in the plan."""
        return exact(self.sd)


class Norms(_Section):
    """``[profiles.norms]``: population norms for every subscale (reference = "norms")."""

    exhaustion: NormEntry
    cynicism: NormEntry
    professional_efficacy: NormEntry


class ProfilesSection(_Section):
    """``[profiles]``: critical boundaries for the Leiter & Maslach profiles.

    A subscale is critical when exhaustion >= ``exhaustion``, cynicism >=
    ``cynicism``, professional efficacy <= ``professional_efficacy``; the boundaries
    are raw 0-6 scores (``method = "raw"``) or z-scores (``method = "zscore"``)
    against the cohort at baseline (``reference = "baseline"``) or the given
    ``norms`` (``reference = "norms"``, then ``norms`` is required). Defaults are
    `DEFAULT_PROFILE_METHOD`, `DEFAULT_PROFILE_REFERENCE` and
    `DEFAULT_PROFILE_BOUNDARIES`.
    """

    method: ProfileMethod = DEFAULT_PROFILE_METHOD
    reference: ProfileReference = DEFAULT_PROFILE_REFERENCE
    exhaustion: Annotated[_Number, Field(ge=-Z_BOUNDARY_MAX, le=Z_BOUNDARY_MAX)] = DEFAULT_PROFILE_BOUNDARIES[
        "exhaustion"
    ]
    cynicism: Annotated[_Number, Field(ge=-Z_BOUNDARY_MAX, le=Z_BOUNDARY_MAX)] = DEFAULT_PROFILE_BOUNDARIES["cynicism"]
    professional_efficacy: Annotated[_Number, Field(ge=-Z_BOUNDARY_MAX, le=Z_BOUNDARY_MAX)] = (
        DEFAULT_PROFILE_BOUNDARIES["professional_efficacy"]
    )
    norms: Norms | None = None

    @field_validator("exhaustion", "cynicism", "professional_efficacy")
    @classmethod
    def _check_raw_range(cls, value: float, info: ValidationInfo) -> float:
        if info.data.get("method") == "raw" and not 0 <= value <= _SCORE_MAX:
            raise _impossible(
                'outside the 0-6 score range, and method = "raw" compares raw scores; '
                "the default boundaries are z-scores, so give raw ones"
            )
        return value

    @field_validator("norms")
    @classmethod
    def _check_norms_given(cls, value: Norms | None, info: ValidationInfo) -> Norms | None:
        if value is None and info.data.get("reference") == "norms":
            raise PydanticCustomError("norms_missing", "norms are required when reference = 'norms'")
        return value

    def boundary(self, subscale: Subscale) -> Fraction:
        """The critical boundary of ``subscale`` as the exact decimal written in the plan."""
        if subscale not in SUBSCALES:
            raise ValueError(f"subscale must be one of {', '.join(SUBSCALES)}, got {subscale!r}")
        return exact(getattr(self, subscale))

    @property
    def exhaustion_exact(self) -> Fraction:
        """``exhaustion`` boundary as the exact decimal written in the plan."""
        return exact(self.exhaustion)

    @property
    def cynicism_exact(self) -> Fraction:
        """``cynicism`` boundary as the exact decimal written in the plan."""
        return exact(self.cynicism)

    @property
    def professional_efficacy_exact(self) -> Fraction:
        """``professional_efficacy`` boundary as the exact decimal written in the plan."""
        return exact(self.professional_efficacy)


def _band_labels(bands: Sequence[int]) -> list[str]:
    lowers = list(bands) if bands[0] == AGE_MIN else [AGE_MIN, *bands]
    labels = []
    for lower, nxt in zip(lowers, [*lowers[1:], None]):
        if nxt is None:
            labels.append(f"{lower}+")
        else:  # "18-18" for a one-year band: the same rule as cohort.age_band_expr
            labels.append(f"{lower}-{nxt - 1}")
    return labels


class MergeTargets(_Section):
    """``[subgroups.merge_small_into]``: the real level each variable's small residual
    (unknown, other, not recorded) is merged into (global recoding, docs/privacy.md);
    a variable left out gets its largest level among the threshold-met patients."""

    age_band: Annotated[str, Field(min_length=1, max_length=20)] | None = None
    sex: Literal["female", "male"] | None = None
    route: Literal["sublingual", "subcutaneous"] | None = None
    pathway: Annotated[str, Field(min_length=1, max_length=80)] | None = None


class SubgroupsSection(_Section):
    """``[subgroups]``: age bands (lower bounds, strictly increasing, 18-120) and the
    variables whose levels form subgroups (distinct, among `SUBGROUP_VARIABLES`)."""

    age_bands: Annotated[tuple[Annotated[_Int, Field(ge=AGE_MIN, le=AGE_MAX)], ...], Field(min_length=1)] = (18, 35, 50)
    by: tuple[SubgroupVariable, ...] = SUBGROUP_VARIABLES
    # privacy (issue 12): pathway is free text; only these values, or values seen in at
    # least min_cell_count threshold-met patients, are published as levels ("other" else)
    pathway_levels: tuple[Annotated[str, Field(min_length=1, max_length=80)], ...] = ()
    # privacy (issue 12): a variable's residual levels (unknown/other) that together are
    # small in any published population are merged into a real level (global recoding)
    # rather than hidden with a large complement; false: complementary suppression instead
    merge_small: StrictBool = True
    merge_small_into: MergeTargets = MergeTargets()

    @model_validator(mode="after")
    def _check_merge_targets(self) -> SubgroupsSection:
        """The age band and pathway targets must be levels the analysis publishes."""
        into = self.merge_small_into
        reasons = []
        bands = _band_labels(self.age_bands)
        if into.age_band is not None and into.age_band not in bands:
            reasons.append(
                f"merge_small_into.age_band = {json.dumps(into.age_band)} is not one of the age bands {bands}"
            )
        listed = sorted({v.strip().lower() for v in self.pathway_levels})
        if into.pathway is not None and into.pathway.strip().lower() not in listed:
            reasons.append(
                f"merge_small_into.pathway = {json.dumps(into.pathway)} is not among pathway_levels {listed}: "
                "list it in pathway_levels so it is a published level"
            )
        if reasons:
            raise _impossible(*reasons)
        return self

    @field_validator("age_bands")
    @classmethod
    def _check_increasing(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        return _strictly_increasing(value)

    @field_validator("by")
    @classmethod
    def _check_distinct(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        repeated = sorted({v for v in value if value.count(v) > 1}, key=value.index)
        if repeated:
            raise _impossible(f"{', '.join(json.dumps(v) for v in repeated)} given more than once")
        return value


class PrivacySection(_Section):
    """``[privacy]``: counts 1..``min_cell_count - 1`` are suppressed in every output
    (``min_cell_count = 1`` disables suppression)."""

    min_cell_count: Annotated[_Int, Field(ge=1, le=MIN_CELL_COUNT_MAX)] = 11
    # differencing (issue 12): publish every count rounded to a multiple of round_to
    # (1 = exact counts), and refuse cohorts with fewer than min_cohort patients (0 = any)
    round_to: Annotated[_Int, Field(ge=1, le=1000)] = 1
    min_cohort: Annotated[_Int, Field(ge=0)] = 0


class AnalysisSection(_Section):
    """``[analysis]`` (our extension of the contract): ``seed`` for every random
    step (``np.random.default_rng(seed)``) and the ``confidence`` level of every CI."""

    seed: Annotated[_Int, Field(ge=0, le=_SEED_MAX)] = 20240917
    confidence: Annotated[_Number, Field(gt=0.5, lt=1)] = 0.95
