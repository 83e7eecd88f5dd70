"""The plan's sections for the honest-inference analyses (issue 16). (inference).

``[reliable_change]`` (Jacobson-Truax inputs per subscale), ``[regression_to_mean]``
(the sensitivity range of the test-retest correlation) and ``[plateau]`` (the
equivalence margin).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Annotated, Final

from pydantic import Field, ValidationInfo, field_validator

from burnout.instrument import Subscale
from burnout.plan.exact import _SCORE_MAX, _Number, _Str
from burnout.plan.sections import NORM_SD_MAX, _impossible, _Section

__all__ = [
    "DEFAULT_PLATEAU_MARGIN",
    "DEFAULT_TEST_RETEST",
    "TEST_RETEST_SOURCE",
    "PlateauSection",
    "RegressionToMeanSection",
    "ReliableChangeSection",
]

# One-year test-retest correlations of the MBI-GS subscales, attributed to the
# instrument's manual. UNVERIFIED: entered from memory; a literature search (2026-12-02:
# Bakker, Demerouti & Schaufeli 2002; the French, Polish, Persian and South African
# validations; no readable copy of the manual or of Leiter & Schaufeli 1996, Taris et
# al. 1999, Schutte et al. 2000) found no readable text quoting them. A plan should set
# its own values from a source it can cite. If right, they are stability coefficients:
# a year of real change lowers them, so the critical change is conservative (wider).
DEFAULT_TEST_RETEST: Final[Mapping[Subscale, float]] = MappingProxyType(
    {"exhaustion": 0.65, "cynicism": 0.60, "professional_efficacy": 0.67}
)
TEST_RETEST_SOURCE: Final[str] = (
    "unverified (no readable source found; set [reliable_change] from a source you can cite): "
    "one-year test-retest correlations of the MBI-GS (exhaustion 0.65, cynicism 0.60, professional efficacy "
    "0.67): Schaufeli, Leiter, Maslach & Jackson (1996), The Maslach Burnout Inventory-General Survey, in "
    "Maslach, Jackson & Leiter, Maslach Burnout Inventory Manual, 3rd ed., Consulting Psychologists Press"
)
DEFAULT_PLATEAU_MARGIN: Final[float] = 0.2

_Reliability = Annotated[_Number, Field(gt=0, lt=1)]
_Sd = Annotated[_Number, Field(gt=0, le=NORM_SD_MAX)]


class ReliableChangeSection(_Section):
    """``[reliable_change]``: the SD and reliability of each subscale for the Jacobson-Truax
    critical change ``1.96 * sd * sqrt(2 * (1 - reliability))``.

    ``<s>_reliability`` defaults to the published one-year test-retest correlation
    (:data:`TEST_RETEST_SOURCE`); ``<s>_sd`` not set uses the baseline SD of every patient
    with a scored baseline in the cohort (before the threshold selects, so not range
    restricted); set it to a published norm's SD to use that. ``source`` names where the
    plan's values come from (not set: the citation of the defaults, or "the analysis plan").
    """

    exhaustion_reliability: _Reliability = DEFAULT_TEST_RETEST["exhaustion"]
    cynicism_reliability: _Reliability = DEFAULT_TEST_RETEST["cynicism"]
    professional_efficacy_reliability: _Reliability = DEFAULT_TEST_RETEST["professional_efficacy"]
    exhaustion_sd: _Sd | None = None
    cynicism_sd: _Sd | None = None
    professional_efficacy_sd: _Sd | None = None
    source: Annotated[_Str, Field(min_length=1, max_length=400)] | None = None

    def reliability(self, subscale: str) -> float:
        """The plan's reliability of ``subscale``."""
        return float(getattr(self, f"{subscale}_reliability"))

    def sd(self, subscale: str) -> float | None:
        """The plan's SD of ``subscale`` (None: from the cohort's scored baselines)."""
        value = getattr(self, f"{subscale}_sd")
        return None if value is None else float(value)

    def reliability_source(self, subscale: str) -> str:
        """Where ``subscale``'s reliability comes from, in words."""
        if self.source is not None:
            return self.source
        if self.reliability(subscale) == DEFAULT_TEST_RETEST[subscale]:  # type: ignore[index]  # a Subscale at run time
            return TEST_RETEST_SOURCE
        return "the analysis plan ([reliable_change])"


class RegressionToMeanSection(_Section):
    """``[regression_to_mean]``: the range of test-retest correlations over which the
    expected regression to the mean is also reported (a sensitivity analysis around the
    plan's ``[reliable_change]`` reliabilities)."""

    rho_low: _Reliability = 0.5
    rho_high: _Reliability = 0.8

    @field_validator("rho_high")
    @classmethod
    def _ordered(cls, value: float, info: ValidationInfo) -> float:
        low = info.data.get("rho_low")
        if low is not None and value < low:
            raise _impossible(f"below rho_low = {low}; give rho_low <= rho_high")
        return value


class PlateauSection(_Section):
    """``[plateau]``: the last interval's mean change is "equivalent to no change" when its
    two one-sided tests (TOST) reject a change of ``margin`` points or more either way."""

    margin: Annotated[_Number, Field(gt=0, le=_SCORE_MAX)] = DEFAULT_PLATEAU_MARGIN
