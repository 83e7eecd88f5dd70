"""Measures collected in the engine: the study's flow and moments, the extended analyses, PHQ-9."""

from burnout.measures._moments import CrossMoments
from burnout.measures.extended import (
    IMPUTATIONS,
    ITERATIONS,
    MI_MAX_PATIENTS,
    BeyondMeasures,
    ItemMoments,
    collect_beyond,
)
from burnout.measures.imputation import content_hash
from burnout.measures.phq9 import Phq9Measures, collect_phq9
from burnout.measures.reliable import BaselineReference, ReliableChangeCounts
from burnout.measures.safety import SafetyCounts, collect_safety
from burnout.measures.study import Attrition, Measures, Moments, collect_measures

__all__ = [
    "Attrition",
    "BaselineReference",
    "BeyondMeasures",
    "CrossMoments",
    "IMPUTATIONS",
    "ITERATIONS",
    "ItemMoments",
    "MI_MAX_PATIENTS",
    "Measures",
    "Moments",
    "Phq9Measures",
    "ReliableChangeCounts",
    "SafetyCounts",
    "collect_beyond",
    "collect_measures",
    "collect_phq9",
    "collect_safety",
    "content_hash",
]
