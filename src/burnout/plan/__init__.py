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

from burnout.plan.extensions import ImputationSection, SensitivitySection
from burnout.plan.inference import (
    DEFAULT_PLATEAU_MARGIN,
    DEFAULT_TEST_RETEST,
    TEST_RETEST_SOURCE,
    PlateauSection,
    RegressionToMeanSection,
    ReliableChangeSection,
)
from burnout.plan.instruments import (
    DEFAULT_PRIMARY,
    InstrumentsSection,
    eligibility_rule,
    min_changes,
    primary_instrument,
)
from burnout.plan.model import Protocol, age_band_label, load_protocol, parse_protocol
from burnout.plan.sections import (
    AGE_MAX,
    AGE_MIN,
    ASSESSMENTS_MAX,
    DEFAULT_PROFILE_BOUNDARIES,
    DEFAULT_PROFILE_METHOD,
    DEFAULT_PROFILE_REFERENCE,
    DEFAULT_TITLE,
    MIN_CELL_COUNT_MAX,
    NORM_SD_MAX,
    SESSIONS_MAX,
    SUBGROUP_VARIABLES,
    Z_BOUNDARY_MAX,
    AnalysisSection,
    EligibilitySection,
    NormEntry,
    Norms,
    PrivacySection,
    ProfileMethod,
    ProfileReference,
    ProfilesSection,
    ResponseSection,
    ScheduleSection,
    ScoringSection,
    SubgroupsSection,
    SubgroupVariable,
)

__all__ = [
    "DEFAULT_PRIMARY",
    "InstrumentsSection",
    "eligibility_rule",
    "min_changes",
    "primary_instrument",
    "AGE_MAX",
    "AGE_MIN",
    "ASSESSMENTS_MAX",
    "AnalysisSection",
    "DEFAULT_PLATEAU_MARGIN",
    "DEFAULT_PROFILE_BOUNDARIES",
    "DEFAULT_PROFILE_METHOD",
    "DEFAULT_PROFILE_REFERENCE",
    "DEFAULT_TEST_RETEST",
    "DEFAULT_TITLE",
    "EligibilitySection",
    "ImputationSection",
    "SensitivitySection",
    "MIN_CELL_COUNT_MAX",
    "NORM_SD_MAX",
    "NormEntry",
    "Norms",
    "PlateauSection",
    "PrivacySection",
    "ProfileMethod",
    "ProfileReference",
    "ProfilesSection",
    "Protocol",
    "RegressionToMeanSection",
    "ReliableChangeSection",
    "ResponseSection",
    "SESSIONS_MAX",
    "SUBGROUP_VARIABLES",
    "ScheduleSection",
    "ScoringSection",
    "SubgroupVariable",
    "SubgroupsSection",
    "TEST_RETEST_SOURCE",
    "Z_BOUNDARY_MAX",
    "age_band_label",
    "load_protocol",
    "parse_protocol",
]
