"""The analysis plan: ``protocol.toml`` read into a frozen, validated `Protocol`. (model)."""

from __future__ import annotations

import hashlib
import json
import os
import tomllib
from collections.abc import Mapping, Sequence
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from burnout.errors import ProtocolError, toml_error, wrong_type
from burnout.instrument import SUBSCALES
from burnout.plan.exact import _Str, exact
from burnout.plan.extensions import ImputationSection, SensitivitySection
from burnout.plan.inference import PlateauSection, RegressionToMeanSection, ReliableChangeSection
from burnout.plan.instruments import InstrumentsSection, cross_check, definitions_relative_to
from burnout.plan.sections import (
    AGE_MAX,
    AGE_MIN,
    DEFAULT_TITLE,
    AnalysisSection,
    EligibilitySection,
    PrivacySection,
    ProfilesSection,
    ResponseSection,
    ScheduleSection,
    ScoringSection,
    SubgroupsSection,
    _band_labels,
    _impossible,
)
from burnout.plan.toml import _toml_value

__all__ = ["Protocol", "age_band_label", "load_protocol", "parse_protocol"]


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
    instruments: InstrumentsSection = Field(default_factory=InstrumentsSection)
    scoring: ScoringSection = Field(default_factory=ScoringSection)
    eligibility: EligibilitySection = Field(default_factory=EligibilitySection)
    schedule: ScheduleSection = Field(default_factory=ScheduleSection)
    response: ResponseSection = Field(default_factory=ResponseSection)
    profiles: ProfilesSection = Field(default_factory=ProfilesSection)
    subgroups: SubgroupsSection = Field(default_factory=SubgroupsSection)
    privacy: PrivacySection = Field(default_factory=PrivacySection)
    analysis: AnalysisSection = Field(default_factory=AnalysisSection)
    imputation: ImputationSection = Field(default_factory=ImputationSection)
    sensitivity: SensitivitySection = Field(default_factory=SensitivitySection)
    reliable_change: ReliableChangeSection = Field(default_factory=ReliableChangeSection)
    regression_to_mean: RegressionToMeanSection = Field(default_factory=RegressionToMeanSection)
    plateau: PlateauSection = Field(default_factory=PlateauSection)

    def __init__(self, /, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as exc:
            from burnout.plan.messages import _messages  # messages lists Protocol's own keys: import it lazily

            raise ProtocolError(_messages(exc), source="<arguments>") from None
        problems = cross_check(self)  # the sections against the primary instrument's scales
        if problems:
            raise ProtocolError(problems, source="<arguments>")

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
    def from_dict(cls, data: Mapping[str, Any], *, source: str = "<dict>", folder: Path | None = None) -> Protocol:
        """Validate a plan given as nested mappings (as TOML parses).

        Parameters
        ----------
        data
            ``{"title": ..., "<section>": {"<key>": value}}``; omitted keys take
            their defaults.
        source
            Names the plan in error messages.
        folder
            The folder ``[instruments]`` definition paths are relative to (the plan
            file's); None: the working directory.

        Raises
        ------
        ProtocolError
            With one message per problem.
        """
        if not isinstance(data, Mapping):
            raise ProtocolError([wrong_type("the plan", data, expected="a table of sections")], source=source)
        bad_keys = [k for k in data if not isinstance(k, str)]
        if bad_keys:
            raise ProtocolError([f"keys must be strings, got {bad_keys[0]!r}"], source=source)
        try:
            with definitions_relative_to(folder):
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
        return type(self).from_dict(data, source="<replace>", folder=self.instruments.folder)

    # -------------------------------------------------------------------- identity

    def resolved(self) -> dict[str, Any]:
        """The full plan, every default filled in, as plain JSON types.

        Keys are in the order of protocol.md (title, instruments when not the default, scoring, eligibility,
        schedule, response, profiles, subgroups, privacy, analysis, imputation, sensitivity, reliable_change,
        regression_to_mean, plateau); arrays are lists, numbers
        that may be fractional are floats, ``profiles.norms`` is ``None`` when not given.
        """
        data = self.model_dump(mode="json")
        # keys added after the reference study leave the plan (and its sha256) as it was
        # while they hold their defaults
        if data["instruments"] == InstrumentsSection().model_dump(mode="json"):
            del data["instruments"]
        for section, key in (("eligibility", "rule"), ("response", "per_subscale")):
            if data[section][key] is None:
                del data[section][key]
        return data

    def canonical_json(self) -> str:
        """`resolved` as canonical JSON: sorted keys, no spaces, UTF-8 text."""
        return json.dumps(self.resolved(), sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)

    @property
    def sha256(self) -> str:
        """Hex SHA-256 of `canonical_json` encoded as UTF-8: the plan's identity.

        A plan naming user definition files ([instruments]) also hashes each definition's
        content (as validated, in canonical JSON), so editing the file changes the identity
        even though the plan's text names only its path. Plans without one are unchanged.
        """
        text = self.canonical_json()
        users = self.instruments.user_definitions
        if users:
            contents = {inst.name: inst.model_dump(mode="json") for inst in users}
            text += json.dumps(contents, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

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
                lines += [f"{k} = {_toml_value(v)}" for k, v in table.items() if v is not None]
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
        return exact(node)

    def age_band_labels(self) -> list[str]:
        """Labels of the age bands, youngest first (``"unknown"`` is not included).

        Ages 18 up to the first lower bound, if it is above 18, form a band of their own.

        >>> load_protocol().replace({"subgroups.age_bands": [25, 65]}).age_band_labels()
        ['18-24', '25-64', '65+']
        """
        return _band_labels(self.subgroups.age_bands)

    def __repr__(self) -> str:
        e, s = self.eligibility, self.schedule
        threshold = (
            f"threshold E>={_short(e.exhaustion_min)} & (C>={_short(e.cynicism_min)} | PE<={_short(e.efficacy_max)})"
            if e.rule is None
            else f"{self.instruments.primary} rule {e.rule!r}"
        )
        return (
            f"<Protocol {self.title!r}: {threshold}, "
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
            [
                f"file not found: {source!r}; give the path of an existing protocol.toml, "
                "or none for the reference study's plan"
            ],
            source=source,
        ) from None
    except OSError as exc:
        raise ProtocolError([f"cannot read {source!r}: {exc.strerror or exc}"], source=source) from None
    return parse_protocol(raw, source=source, folder=Path(source).parent)


def parse_protocol(text: str | bytes, *, source: str = "<string>", folder: Path | None = None) -> Protocol:
    """Validate an analysis plan given as TOML text (``bytes`` must be UTF-8).

    ``folder`` is where ``[instruments]`` definition paths are read from (`load_protocol`
    passes the plan file's folder); None: the working directory.

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
        raise ProtocolError([toml_error(str(exc), text)], source=source) from None
    return Protocol.from_dict(data, source=source, folder=folder)


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
