"""From exact aggregates to the results.json tree (the contract in results.md).

Every statistic is computed here from ``measures.Measures`` by the functions of
``estimates``; every count passes through ``privacy`` before it is placed in the
tree. The tree holds plain JSON types only, in a fixed key order, so that the same
input and plan give byte-identical JSON.
"""

from burnout.results.attrition import TABLE1_LABELS
from burnout.results.build import SCHEMA_VERSION, WARNINGS_LOG, build_results, dumps, warnings_log
from burnout.results.extended import beyond_results
from burnout.results.itt import MIXED_MODEL_ASSUMPTIONS
from burnout.results.phq9 import phq9_results

__all__ = [
    "MIXED_MODEL_ASSUMPTIONS",
    "SCHEMA_VERSION",
    "TABLE1_LABELS",
    "WARNINGS_LOG",
    "beyond_results",
    "build_results",
    "dumps",
    "phq9_results",
    "warnings_log",
]
