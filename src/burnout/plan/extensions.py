"""The plan's extension sections for the analyses beyond the reference study: ``[imputation]``
(multiple imputation) and ``[sensitivity]`` (the MNAR tipping-point grid)."""

from __future__ import annotations

from typing import Annotated, Final

from pydantic import Field, field_validator

from burnout.plan.exact import _Int, _Number
from burnout.plan.sections import _Section, _strictly_increasing

__all__ = ["DELTA_GRID_MAX", "ImputationSection", "SensitivitySection"]


DELTA_GRID_MAX: Final = 50  # rows of the tipping-point table


class SensitivitySection(_Section):
    """``[sensitivity]`` (our extension): ``delta_grid``, the shifts in subscale points (in the
    worse direction) given to post-dropout scores in the MNAR tipping-point analyses."""

    delta_grid: Annotated[
        tuple[Annotated[_Number, Field(ge=0, le=6)], ...], Field(min_length=1, max_length=DELTA_GRID_MAX)
    ] = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0, 1.2, 1.4, 1.6, 1.8, 2.0)

    @field_validator("delta_grid")
    @classmethod
    def _check_grid(cls, value: tuple[float, ...]) -> tuple[float, ...]:
        return _strictly_increasing(value)


class ImputationSection(_Section):
    """``[imputation]`` (our extension): multiple imputation of the intention-to-treat
    response (``itt.multiple_imputation``): ``m`` completed data sets (White, Royston &
    Wood 2011: m >= the percentage of incomplete cases) and the predictive-mean-matching
    ``donors`` per missing value (mice's default 5; van Buuren 2018, sec. 3.4.3)."""

    m: Annotated[_Int, Field(ge=2, le=1000)] = 100
    donors: Annotated[_Int, Field(ge=1, le=50)] = 5
