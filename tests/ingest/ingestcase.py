"""Helpers the ingest tests share: the problems of a folder, a table's lines, CSV bytes, a sorted frame."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd
import pytest

from burnout.errors import DataError, Problem
from burnout.ingest import RawCohort, load_cohort


def problems_of(folder: Path, **kw) -> tuple[Problem, ...]:
    with pytest.raises(DataError) as info:
        load_cohort(folder, **kw)
    return info.value.problems


def lines_of(raw: RawCohort, name: str) -> list[int]:
    return sorted(raw.tables[name].select("_line").to_pyarrow().column(0).to_pylist())


def write_rows(rows: list[list[str]], newline: str) -> bytes:
    buf = io.StringIO()
    csv.writer(buf, lineterminator=newline).writerows(rows)
    return buf.getvalue().encode()


def frame(t) -> pd.DataFrame:
    df = t.to_pandas()
    return df.sort_values(list(df.columns[:2])).reset_index(drop=True)
