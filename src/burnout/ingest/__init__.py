"""Reading and checking a cohort: files or a database in, a typed, validated Cohort out."""

from burnout.ingest.loaded import MAX_PER_RULE
from burnout.ingest.raw import RawCohort, keep_type
from burnout.ingest.read import DEFAULT_MAX_LINE_BYTES, read_cohort
from burnout.ingest.reread import read_checked_files
from burnout.ingest.validate import Cohort, load_cohort, validate_cohort

__all__ = [
    "Cohort",
    "DEFAULT_MAX_LINE_BYTES",
    "MAX_PER_RULE",
    "RawCohort",
    "keep_type",
    "load_cohort",
    "read_checked_files",
    "read_cohort",
    "validate_cohort",
]
