"""The analysis plan: ``protocol.toml`` read into a frozen, validated `Protocol`.

An analysis is fully determined by the cohort data and this plan. Every key is
optional; a missing key takes the reference study's value (seed-study.md), so
``load_protocol(None)`` is the published study's plan. The plan's sections and keys
are the contract in ``spec/protocol.md``:

``title``; ``[scoring] max_missing_items``; ``[eligibility] exhaustion_min,
cynicism_min, efficacy_max``; ``[schedule] sessions, assessments``;
``[response] min_change``; ``[profiles] method, reference, exhaustion, cynicism,
professional_efficacy, norms``; ``[subgroups] age_bands, by``;
``[privacy] min_cell_count``.

Extension of the contract (ours, not in protocol.md): an ``[analysis]`` section with
``seed = 20240917`` (integer >= 0; the only source of randomness, e.g. for multiple
imputation, passed to ``np.random.default_rng(seed)``) and ``confidence = 0.95``
(the level of every confidence interval, strictly between 0.5 and 1).

Exactness
---------
Cut-offs (eligibility, ``min_change``, profile boundaries, norms) are stored as the
float whose shortest repr is the decimal the user wrote, so ``Fraction(str(value))``
is that decimal exactly (``4.8 -> Fraction(24, 5)``); `Protocol.cutoff` and the
``*_exact`` properties return it. TOML is parsed with ``parse_float=Decimal`` so a
decimal with more significant digits than a double keeps is rejected rather than
silently rounded. NaN and infinities are rejected; TOML integers are accepted where a
number is expected (``4 -> 4.0``), booleans and strings are not.

Bounds
------
Every number and array has a bound the analysis can honour, stated in its error
message: scores 0-6, at most `SESSIONS_MAX` sessions and `ASSESSMENTS_MAX`
assessments, norm SDs up to `NORM_SD_MAX`, z boundaries within `Z_BOUNDARY_MAX`,
``min_cell_count`` up to `MIN_CELL_COUNT_MAX` (each constant says why).

Errors
------
Every problem in a plan is collected into one `burnout.errors.ProtocolError`, one
message per problem, each naming the dotted key, the value received and what is
allowed: unknown keys (with a "did you mean"), wrong types, impossible values,
invalid TOML (with its line) and a missing file. pydantic's own errors never reach
the user.

Identity
--------
`Protocol.resolved` is the full plan with every default filled in, as plain JSON
types; `Protocol.canonical_json` and `Protocol.sha256` identify it, so the same plan
written differently (key order, ``4`` vs ``4.0``, omitted vs explicit defaults)
has the same hash.

Examples
--------
>>> plan = load_protocol()
>>> plan.eligibility.exhaustion_min_exact
Fraction(24, 5)
>>> plan.age_band_labels()
['18-34', '35-49', '50+']
>>> parse_protocol("[schedule]\\nsessions = 6.0\\n")
Traceback (most recent call last):
...
burnout.errors.ProtocolError: invalid analysis plan <string>:
  wrong type for schedule.sessions: got 6.0 (a decimal number), expected an integer; e.g. sessions = 6
"""

from __future__ import annotations

import datetime as _dt
import difflib
import hashlib
import json
import math
import os
import re
import tomllib
from collections.abc import Mapping, Sequence
from decimal import Decimal
from fractions import Fraction
from types import MappingProxyType
from typing import Annotated, Any, Final, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    Strict,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic_core import PydanticCustomError

from burnout.errors import ProtocolError
from burnout.instrument import SCALE, SUBSCALES, Subscale

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
    "Protocol",
    "ResponseSection",
    "ScheduleSection",
    "ScoringSection",
    "SubgroupVariable",
    "SubgroupsSection",
    "age_band_label",
    "load_protocol",
    "parse_protocol",
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
_SCORE_MAX: Final[int] = 6  # MBI-GS items and subscale means are 0..6

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


# --------------------------------------------------------------------------- numbers


def _exact_number(value: object) -> float:
    """Accept an int, float or Decimal (never a bool or string) and return the float
    whose shortest repr is the same decimal; reject NaN, infinities and decimals a
    double cannot keep exactly."""
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        raise PydanticCustomError("wrong_type", "expected a number")
    if isinstance(value, Decimal) and not value.is_finite():
        raise PydanticCustomError("impossible_value", "{reason}", {"reason": "not a finite number"})
    if isinstance(value, float) and not math.isfinite(value):
        raise PydanticCustomError("impossible_value", "{reason}", {"reason": "not a finite number"})
    try:
        result = float(value)
    except OverflowError:
        result = math.inf
    if not math.isfinite(result):
        raise PydanticCustomError("impossible_value", "{reason}", {"reason": "too large to store"})
    if not isinstance(value, float) and Fraction(repr(result)) != Fraction(value):
        raise PydanticCustomError(
            "impossible_value",
            "{reason}",
            {"reason": "more significant digits than can be kept exactly; write at most 15"},
        )
    return result if result != 0 else 0.0  # -0.0 -> 0.0: one plan, one hash


def _exact(value: float) -> Fraction:
    """The decimal a stored number stands for, exactly."""
    return Fraction(repr(value))


_Number = Annotated[float, BeforeValidator(_exact_number)]
_Int = Annotated[int, Strict()]
_Str = Annotated[str, Strict()]


class _Section(BaseModel):
    # validate_default: a default can conflict with another key the user set
    # (sessions = 3 with the default assessments, method = "raw" with z boundaries).
    model_config = ConfigDict(frozen=True, extra="forbid", validate_default=True)


def _impossible(*reasons: str) -> PydanticCustomError:
    return PydanticCustomError(
        "impossible_value", "{reason}", {"reason": "; ".join(reasons), "reasons": tuple(reasons)}
    )


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

    @property
    def exhaustion_min_exact(self) -> Fraction:
        """``exhaustion_min`` as the exact decimal written in the plan."""
        return _exact(self.exhaustion_min)

    @property
    def cynicism_min_exact(self) -> Fraction:
        """``cynicism_min`` as the exact decimal written in the plan."""
        return _exact(self.cynicism_min)

    @property
    def efficacy_max_exact(self) -> Fraction:
        """``efficacy_max`` as the exact decimal written in the plan."""
        return _exact(self.efficacy_max)


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

    @property
    def min_change_exact(self) -> Fraction:
        """``min_change`` as the exact decimal written in the plan."""
        return _exact(self.min_change)


class NormEntry(_Section):
    """Population norms of one subscale: ``{mean, sd}`` on the 0-6 scale (so 0 < sd <= 3)."""

    mean: Annotated[_Number, Field(ge=0, le=_SCORE_MAX)]
    sd: Annotated[_Number, Field(gt=0, le=NORM_SD_MAX)]

    @property
    def mean_exact(self) -> Fraction:
        """``mean`` as the exact decimal written in the plan."""
        return _exact(self.mean)

    @property
    def sd_exact(self) -> Fraction:
        """``sd`` as the exact decimal written in the plan."""
        return _exact(self.sd)


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
        return _exact(getattr(self, subscale))

    @property
    def exhaustion_exact(self) -> Fraction:
        """``exhaustion`` boundary as the exact decimal written in the plan."""
        return _exact(self.exhaustion)

    @property
    def cynicism_exact(self) -> Fraction:
        """``cynicism`` boundary as the exact decimal written in the plan."""
        return _exact(self.cynicism)

    @property
    def professional_efficacy_exact(self) -> Fraction:
        """``professional_efficacy`` boundary as the exact decimal written in the plan."""
        return _exact(self.professional_efficacy)


class SubgroupsSection(_Section):
    """``[subgroups]``: age bands (lower bounds, strictly increasing, 18-120) and the
    variables whose levels form subgroups (distinct, among `SUBGROUP_VARIABLES`)."""

    age_bands: Annotated[
        tuple[Annotated[_Int, Field(ge=AGE_MIN, le=AGE_MAX)], ...], Field(min_length=1)
    ] = (18, 35, 50)
    by: tuple[SubgroupVariable, ...] = SUBGROUP_VARIABLES
    # privacy (issue 12): pathway is free text; only these values, or values seen in at
    # least min_cell_count threshold-met patients, are published as levels ("other" else)
    pathway_levels: tuple[Annotated[str, Field(min_length=1, max_length=80)], ...] = ()

    @field_validator("age_bands")
    @classmethod
    def _check_increasing(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        reasons = [
            f"{after} follows {before}, so it is not strictly increasing"
            for before, after in zip(value, value[1:])
            if after <= before
        ]
        if reasons:
            raise _impossible(*reasons)
        return value

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


# --------------------------------------------------------------------------- the plan


class Protocol(BaseModel):
    """The analysis plan: frozen, validated, with every default filled in.

    Build one with `load_protocol` (a TOML file, or ``None`` for the reference
    study's plan), `parse_protocol` (TOML text), `Protocol.from_dict` or
    ``Protocol(**sections)``; every route validates and raises
    `burnout.errors.ProtocolError` listing every problem.

    Identity is `resolved` -> `canonical_json` -> `sha256`; `to_toml` writes the
    resolved plan back so that ``parse_protocol(p.to_toml()) == p``.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    title: _Str = DEFAULT_TITLE
    scoring: ScoringSection = Field(default_factory=ScoringSection)
    eligibility: EligibilitySection = Field(default_factory=EligibilitySection)
    schedule: ScheduleSection = Field(default_factory=ScheduleSection)
    response: ResponseSection = Field(default_factory=ResponseSection)
    profiles: ProfilesSection = Field(default_factory=ProfilesSection)
    subgroups: SubgroupsSection = Field(default_factory=SubgroupsSection)
    privacy: PrivacySection = Field(default_factory=PrivacySection)
    analysis: AnalysisSection = Field(default_factory=AnalysisSection)

    def __init__(self, /, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise ProtocolError(_messages(exc), source="<arguments>") from None

    @field_validator("title")
    @classmethod
    def _check_title(cls, value: str) -> str:
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise _impossible("not encodable as UTF-8 (lone surrogate)") from None
        return value

    # ----------------------------------------------------------------- construction

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, source: str = "<dict>") -> Protocol:
        """Validate a plan given as nested mappings (as TOML parses).

        Parameters
        ----------
        data
            ``{"title": ..., "<section>": {"<key>": value}}``; omitted keys take
            their defaults.
        source
            Names the plan in error messages.

        Raises
        ------
        ProtocolError
            With one message per problem.
        """
        if not isinstance(data, Mapping):
            raise ProtocolError(
                [f"wrong type for the plan: got {_show(data)} ({_kind(data)}), expected a table of sections"],
                source=source,
            )
        bad_keys = [k for k in data if not isinstance(k, str)]
        if bad_keys:
            raise ProtocolError([f"keys must be strings, got {bad_keys[0]!r}"], source=source)
        try:
            return cls(**data)  # __init__ turns pydantic's errors into our messages
        except ProtocolError as exc:
            raise ProtocolError(exc.messages, source=source) from None

    def replace(self, changes: Mapping[str, Any]) -> Protocol:
        """A new, validated plan with some values changed, given by dotted key.

        >>> load_protocol().replace({"profiles.exhaustion": 0.25}).profiles.exhaustion
        0.25
        """
        data = _drop_none(self.resolved())
        for dotted, value in changes.items():
            *parents, last = dotted.split(".")
            node = data
            for part in parents:
                child = node.get(part)
                if not isinstance(child, dict):
                    child = node[part] = {}
                node = child
            node[last] = value
        return type(self).from_dict(data, source="<replace>")

    # -------------------------------------------------------------------- identity

    def resolved(self) -> dict[str, Any]:
        """The full plan, every default filled in, as plain JSON types.

        Keys are in the order of protocol.md (title, scoring, eligibility, schedule,
        response, profiles, subgroups, privacy, analysis); arrays are lists, numbers
        that may be fractional are floats, ``profiles.norms`` is ``None`` when not given.
        """
        return self.model_dump(mode="json")

    def canonical_json(self) -> str:
        """`resolved` as canonical JSON: sorted keys, no spaces, UTF-8 text."""
        return json.dumps(
            self.resolved(), sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
        )

    @property
    def sha256(self) -> str:
        """Hex SHA-256 of `canonical_json` encoded as UTF-8: the plan's identity."""
        return hashlib.sha256(self.canonical_json().encode("utf-8")).hexdigest()

    def to_toml(self) -> str:
        """The resolved plan as TOML text, every key explicit.

        ``parse_protocol(plan.to_toml()) == plan`` for every valid plan.
        """
        plan = self.resolved()
        lines = [
            "# burnout analysis plan, resolved: every key explicit",
            f"# sha256 {self.sha256}",
            f"title = {_toml_value(plan['title'])}",
        ]
        for section, body in plan.items():
            if not isinstance(body, dict):
                continue
            lines += ["", f"[{section}]"]
            tables = []
            for key, value in body.items():
                if value is None:
                    continue
                if isinstance(value, dict):
                    tables.append((key, value))
                else:
                    lines.append(f"{key} = {_toml_value(value)}")
            for key, table in tables:
                lines += ["", f"[{section}.{key}]"]
                lines += [f"{k} = {_toml_value(v)}" for k, v in table.items()]
        return "\n".join(lines) + "\n"

    # -------------------------------------------------------------------- helpers

    def cutoff(self, name: str) -> Fraction:
        """A cut-off as the exact decimal written in the plan.

        Parameters
        ----------
        name
            Dotted key: ``eligibility.exhaustion_min``, ``eligibility.cynicism_min``,
            ``eligibility.efficacy_max``, ``response.min_change``,
            ``profiles.exhaustion``, ``profiles.cynicism``,
            ``profiles.professional_efficacy``, or ``profiles.norms.<subscale>.mean|sd``
            when norms are given.

        >>> load_protocol().cutoff("eligibility.efficacy_max")
        Fraction(43, 10)
        """
        names = _cutoff_names(self)
        if name not in names:
            raise ValueError(f"no cut-off named {name!r}; the plan's cut-offs are {', '.join(names)}")
        node: Any = self
        for part in name.split("."):
            node = getattr(node, part)
        return _exact(node)

    def age_band_labels(self) -> list[str]:
        """Labels of the age bands, youngest first (``"unknown"`` is not included).

        Ages 18 up to the first lower bound, if it is above 18, form a band of their own.

        >>> load_protocol().replace({"subgroups.age_bands": [25, 65]}).age_band_labels()
        ['18-24', '25-64', '65+']
        """
        return _band_labels(self.subgroups.age_bands)

    def __repr__(self) -> str:
        e, s = self.eligibility, self.schedule
        return (
            f"<Protocol {self.title!r}: threshold E>={_short(e.exhaustion_min)} & "
            f"(C>={_short(e.cynicism_min)} | PE<={_short(e.efficacy_max)}), "
            f"{s.sessions} session{'s' if s.sessions != 1 else ''}, "
            f"assessments {list(s.assessments)}, sha256 {self.sha256[:8]}\u2026>"
        )

    __str__ = __repr__


# ------------------------------------------------------------------------ public fns


def load_protocol(path: str | os.PathLike[str] | None = None) -> Protocol:
    """Read and validate an analysis plan.

    Parameters
    ----------
    path
        A ``protocol.toml`` file, or ``None`` for the reference study's plan (every
        default).

    Returns
    -------
    Protocol
        Frozen, every default filled in.

    Raises
    ------
    ProtocolError
        Naming the file when it is missing, unreadable or not valid TOML (with the
        line), or listing every invalid key of the plan.
    """
    if path is None:
        return Protocol()
    source = os.fspath(path)
    try:
        with open(source, "rb") as file:
            raw = file.read()
    except FileNotFoundError:
        raise ProtocolError(
            [f"file not found: {source!r}; give the path of an existing protocol.toml, "
             "or none for the reference study's plan"],
            source=source,
        ) from None
    except OSError as exc:
        raise ProtocolError([f"cannot read {source!r}: {exc.strerror or exc}"], source=source) from None
    return parse_protocol(raw, source=source)


def parse_protocol(text: str | bytes, *, source: str = "<string>") -> Protocol:
    """Validate an analysis plan given as TOML text (``bytes`` must be UTF-8).

    Raises
    ------
    ProtocolError
        For invalid TOML (naming the line and column) or any invalid key.
    """
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = text.count(b"\n", 0, exc.start) + 1
            raise ProtocolError(
                [f"line {line}: not UTF-8 text (byte 0x{text[exc.start]:02x}); save the file as UTF-8"],
                source=source,
            ) from None
    try:
        data = tomllib.loads(text, parse_float=Decimal)
    except tomllib.TOMLDecodeError as exc:
        raise ProtocolError([_toml_error(str(exc), text)], source=source) from None
    return Protocol.from_dict(data, source=source)


def age_band_label(age: int | None, bands: Sequence[int]) -> str:
    """The label of the age band ``age`` falls in; ``"unknown"`` for ``None``.

    ``bands`` are strictly increasing lower bounds; the labels are those of
    `Protocol.age_band_labels`. A reference implementation for tests.

    >>> [age_band_label(a, [18, 35, 50]) for a in (18, 34, 35, 49, 50, 120, None)]
    ['18-34', '18-34', '35-49', '35-49', '50+', '50+', 'unknown']
    """
    if age is None:
        return "unknown"
    if isinstance(age, bool) or not isinstance(age, int) or not AGE_MIN <= age <= AGE_MAX:
        raise ValueError(f"age must be an integer from {AGE_MIN} to {AGE_MAX} or None, got {age!r}")
    labels = _band_labels(bands)
    lowers = list(bands) if bands[0] == AGE_MIN else [AGE_MIN, *bands]
    index = max(i for i, lower in enumerate(lowers) if age >= lower)
    return labels[index]


# ------------------------------------------------------------------------- internals


def _band_labels(bands: Sequence[int]) -> list[str]:
    lowers = list(bands) if bands[0] == AGE_MIN else [AGE_MIN, *bands]
    labels = []
    for lower, nxt in zip(lowers, [*lowers[1:], None]):
        if nxt is None:
            labels.append(f"{lower}+")
        else:  # "18-18" for a one-year band: the same rule as cohort.age_band_expr
            labels.append(f"{lower}-{nxt - 1}")
    return labels


def _short(value: float) -> str:
    text = repr(value)
    return text[:-2] if text.endswith(".0") else text


def _cutoff_names(plan: Protocol) -> list[str]:
    names = [
        "eligibility.exhaustion_min",
        "eligibility.cynicism_min",
        "eligibility.efficacy_max",
        "response.min_change",
        *(f"profiles.{s}" for s in SUBSCALES),
    ]
    if plan.profiles.norms is not None:
        names += [f"profiles.norms.{s}.{k}" for s in SUBSCALES for k in ("mean", "sd")]
    return names


def _drop_none(data: dict[str, Any]) -> dict[str, Any]:
    return {k: _drop_none(v) if isinstance(v, dict) else v for k, v in data.items() if v is not None}


# TOML writing ---------------------------------------------------------------------

_TOML_ESCAPES: Final[dict[str, str]] = {
    "\\": "\\\\", '"': '\\"', "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r",
}


def _toml_string(text: str) -> str:
    out = []
    for ch in text:
        if ch in _TOML_ESCAPES:
            out.append(_TOML_ESCAPES[ch])
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04X}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _toml_value(value: Any) -> str:
    """One value as TOML: the plan only holds strings, ints, finite floats, lists of
    those and tables of numbers."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return _toml_string(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"cannot write a non-finite number to TOML: {value!r}")
        return repr(value)  # always has "." or "e": read back as a float
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {_toml_value(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"cannot write {type(value).__name__} to TOML: {value!r}")


# Error messages -------------------------------------------------------------------

# dotted key (list items: "key[]") -> (what type is expected, what values are allowed)
_NUMBER_0_6 = ("a number", "a number from 0 to 6 (subscale points)")
_KEYS: Final[dict[str, tuple[str, str]]] = {
    "title": ("a string", "any text"),
    "scoring.max_missing_items": (
        "an integer",
        "an integer from 0 to 4 (a 5-item subscale needs at least one answered item)",
    ),
    "eligibility.exhaustion_min": _NUMBER_0_6,
    "eligibility.cynicism_min": _NUMBER_0_6,
    "eligibility.efficacy_max": _NUMBER_0_6,
    "schedule.sessions": (
        "an integer",
        f"an integer from 1 to {SESSIONS_MAX:,} (the reach curve costs one engine aggregate per session)",
    ),
    "schedule.assessments": (
        "an array of integers",
        f"a non-empty, strictly increasing array of at most {ASSESSMENTS_MAX} integers starting with 0 (baseline), "
        f"none greater than schedule.sessions (missing-data patterns are a {ASSESSMENTS_MAX}-bit mask)",
    ),
    "schedule.assessments[]": ("an integer", "an integer from 0 (baseline) to schedule.sessions"),
    "response.min_change": ("a number", "a number > 0 and <= 6 (points)"),
    "profiles.method": ("a string", '"raw" or "zscore"'),
    "profiles.reference": ("a string", '"baseline" or "norms"'),
    "profiles.norms": (
        "a table",
        "a table [profiles.norms] with exhaustion, cynicism and professional_efficacy, "
        f'each {{mean = <0 to 6>, sd = <above 0, at most {NORM_SD_MAX}>}}; required when reference = "norms"',
    ),
    "subgroups.age_bands": (
        "an array of integers",
        f"a non-empty, strictly increasing array of integers from {AGE_MIN} to {AGE_MAX} "
        "(lower bounds of the age bands)",
    ),
    "subgroups.age_bands[]": ("an integer", f"an integer from {AGE_MIN} to {AGE_MAX}"),
    "subgroups.by": (
        "an array of strings",
        "distinct values among " + ", ".join(f'"{v}"' for v in SUBGROUP_VARIABLES),
    ),
    "subgroups.by[]": ("a string", " or ".join(f'"{v}"' for v in SUBGROUP_VARIABLES)),
    "privacy.min_cell_count": (
        "an integer",
        f"an integer from 1 (no suppression) to {MIN_CELL_COUNT_MAX} (counts are 64-bit integers)",
    ),
    "privacy.round_to": ("an integer", "an integer from 1 (exact counts) to 1000, e.g. 5"),
    "privacy.min_cohort": ("an integer", "an integer >= 0 (0: no minimum)"),
    "subgroups.pathway_levels": ("an array of strings", "an array of pathway values to publish as levels"),
    "subgroups.pathway_levels[]": ("a string", "a pathway value of 1 to 80 characters"),
    "analysis.seed": ("an integer", f"an integer from 0 to {_SEED_MAX}"),
    "analysis.confidence": ("a number", "a number strictly between 0.5 and 1"),
}
for _s in SUBSCALES:
    _KEYS[f"profiles.{_s}"] = (
        "a number",
        f"a number from -{Z_BOUNDARY_MAX} to {Z_BOUNDARY_MAX} (a z-score; its raw cut-off must fit a 64-bit "
        'integer of score units); with method = "raw" a score from 0 to 6',
    )
    _KEYS[f"profiles.norms.{_s}"] = ("a table", f"{{mean = <0 to 6>, sd = <above 0, at most {NORM_SD_MAX}>}}")
    _KEYS[f"profiles.norms.{_s}.mean"] = _NUMBER_0_6
    _KEYS[f"profiles.norms.{_s}.sd"] = (
        "a number",
        f"a number > 0 and <= {NORM_SD_MAX} (the largest SD of scores on the 0-6 scale)",
    )

# section path -> the model whose keys are allowed there
_SECTION_MODELS: Final[dict[str, type[BaseModel]]] = {
    "": Protocol,
    "scoring": ScoringSection,
    "eligibility": EligibilitySection,
    "schedule": ScheduleSection,
    "response": ResponseSection,
    "profiles": ProfilesSection,
    "subgroups": SubgroupsSection,
    "privacy": PrivacySection,
    "analysis": AnalysisSection,
    "profiles.norms": Norms,
    **{f"profiles.norms.{s}": NormEntry for s in SUBSCALES},
}
for _name in _SECTION_MODELS:
    if _name:
        _KEYS.setdefault(_name, ("a table", f"a table [{_name}]"))

_EXAMPLES: Final[dict[str, str]] = {
    "profiles.norms": "[profiles.norms] exhaustion = {mean = 2.5, sd = 1.3} ...",
    **{f"profiles.norms.{s}": f"{s} = {{mean = 2.5, sd = 1.3}}" for s in SUBSCALES},
    **{f"profiles.norms.{s}.mean": "mean = 2.5" for s in SUBSCALES},
    **{f"profiles.norms.{s}.sd": "sd = 1.3" for s in SUBSCALES},
}


def _default_example(key: str) -> str | None:
    if key in _EXAMPLES:
        return _EXAMPLES[key]
    node: Any = _drop_none(Protocol.model_construct().model_dump(mode="json"))
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    last = key.rsplit(".", 1)[-1]
    if isinstance(node, dict):
        return f"[{key}]"
    return f"{last} = {_toml_value(node)}"


def _kind(value: object) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, (float, Decimal)):
        return "a decimal number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, (list, tuple)):
        return "an array"
    if isinstance(value, Mapping):
        return "a table"
    if isinstance(value, (_dt.date, _dt.time)):
        return "a date/time"
    return type(value).__name__


def _show(value: object, limit: int = 80) -> str:
    """A value as the user would have written it in TOML, shortened."""
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, str):
        text = json.dumps(value, ensure_ascii=False)
    elif isinstance(value, Decimal):
        text = str(value).lower().replace("infinity", "inf")
    elif isinstance(value, (int, float)):
        text = repr(value)
    elif isinstance(value, (list, tuple)):
        text = "[" + ", ".join(_show(v, limit) for v in value) + "]"
    elif isinstance(value, Mapping):
        text = "{" + ", ".join(f"{k} = {_show(v, limit)}" for k, v in value.items()) + "}"
    elif isinstance(value, (_dt.date, _dt.time)):
        text = value.isoformat()
    elif isinstance(value, BaseModel):
        text = _show(value.model_dump(), limit)
    else:
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def _dotted(loc: tuple[Any, ...]) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += ("." if text else "") + str(part)
    return text


def _spec_key(loc: tuple[Any, ...]) -> str:
    text = ""
    for part in loc:
        text += "[]" if isinstance(part, int) else ("." if text else "") + str(part)
    return text


def _allowed_keys(section: str) -> list[str]:
    return list(_SECTION_MODELS[section].model_fields)


def _suggest_key(name: str, section: str) -> str | None:
    # A key that exists verbatim in another section was most likely put in the wrong
    # place (``sessions = 6`` above ``[schedule]``); otherwise look for a typo.
    for other, model in _SECTION_MODELS.items():
        if other != section and name in model.model_fields and not other.startswith("profiles.norms."):
            return f"{other}.{name}" if other else name
    close = difflib.get_close_matches(name, _allowed_keys(section), n=1, cutoff=0.6)
    if close:
        return f"{section}.{close[0]}" if section else close[0]
    return None


def _unknown_key(loc: tuple[Any, ...], value: object) -> str:
    section = ".".join(str(p) for p in loc[:-1])
    name = str(loc[-1])
    key = _dotted(loc)
    where = f"[{section}]" if section else "the top level"
    allowed = ", ".join(_allowed_keys(section))
    suggestion = _suggest_key(name, section)
    hint = f"did you mean {suggestion}?" if suggestion else "remove it"
    if isinstance(value, Mapping):
        return f"unknown section [{key}] (holding {_show(value)}): {where} allows {allowed}; {hint}"
    return f"unknown key {key} = {_show(value)}: {where} allows {allowed}; {hint}"


def _messages(exc: ValidationError) -> list[str]:
    """One message per pydantic error, in our words."""
    messages: list[str] = []
    for err in exc.errors(include_url=False):
        loc = tuple(err["loc"])
        kind = err["type"]
        value = err.get("input")
        key = _dotted(loc) or "the plan"
        expected, allowed = _KEYS.get(_spec_key(loc), ("a valid value", "see protocol.md"))
        ctx = err.get("ctx") or {}
        if kind == "extra_forbidden":
            messages.append(_unknown_key(loc, value))
        elif kind == "missing":
            example = _default_example(_spec_key(loc))
            fix = f"; e.g. {example}" if example else ""
            messages.append(f"missing key {key}: expected {expected}{fix}")
        elif kind == "norms_missing":
            messages.append(
                f'missing key {key}: reference = "norms" needs population norms; add {_EXAMPLES["profiles.norms"]} '
                'for every subscale, or set reference = "baseline"'
            )
        elif kind in {
            "int_type", "float_type", "string_type", "tuple_type", "list_type", "model_type",
            "dict_type", "bool_type", "wrong_type", "model_attributes_type",
        } or (kind == "literal_error" and not isinstance(value, str)):
            example = _default_example(_spec_key(loc).removesuffix("[]"))
            fix = f"; e.g. {example}" if example else ""
            messages.append(
                f"wrong type for {key}: got {_show(value)} ({_kind(value)}), expected {expected}{fix}"
            )
        elif kind == "literal_error":
            close = difflib.get_close_matches(value, _literal_choices(allowed), n=1, cutoff=0.6)
            hint = f"; did you mean {json.dumps(close[0])}?" if close else ""
            messages.append(f"impossible value for {key}: got {_show(value)}; allowed: {allowed}{hint}")
        elif kind == "impossible_value":
            for reason in ctx.get("reasons") or (ctx.get("reason", ""),):
                messages.append(f"impossible value for {key}: got {_show(value)} ({reason}); allowed: {allowed}")
        elif kind in {
            "greater_than", "greater_than_equal", "less_than", "less_than_equal", "too_short", "too_long",
            "finite_number",
        }:
            messages.append(f"impossible value for {key}: got {_show(value)}; allowed: {allowed}")
        else:  # not expected; still no traceback
            messages.append(f"invalid value for {key}: got {_show(value)} ({err['msg']}); allowed: {allowed}")
    return messages


def _literal_choices(allowed: str) -> list[str]:
    return re.findall(r'"([^"]+)"', allowed)


_TOML_AT = re.compile(r"\s*\(at (?:line (\d+), column (\d+)|end of document)\)\s*$")


def _toml_error(message: str, text: str) -> str:
    match = _TOML_AT.search(message)
    what = _TOML_AT.sub("", message) if match else message
    if match and match.group(1):
        where = f"line {match.group(1)}, column {match.group(2)}"
    else:
        where = f"line {text.count(chr(10)) + (0 if text.endswith(chr(10)) else 1)} (end of file)"
    return f"{where}: not valid TOML: {what}; fix the syntax (see https://toml.io)"
