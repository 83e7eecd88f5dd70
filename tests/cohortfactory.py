"""Write small cohort folders for tests: valid by default, any table replaceable.

Usage::

    from cohortfactory import write_cohort, mbi_rows

    rows = mbi_rows()
    rows[15]["item_3"] = "7"          # data row 16 = line 17 of mbi_gs.csv
    folder = write_cohort(tmp_path, mbi_gs=rows)

Each table argument of :func:`write_cohort` may be

- ``DEFAULT`` (the default): the standard valid table from ``*_rows()``;
- ``None``: the file is not written;
- a list of dicts (one per row; the header is the union of keys in first-seen
  order; ``None`` or missing keys are blank cells) or a pandas DataFrame;
- ``str`` or ``bytes``: written verbatim as the file (for malformed files).

The default cohort has 12 patients (P01..P12), 4 MBI-GS assessments each at
after_session 0, 2, 4, 6 in patient order (48 rows: data row *k* is line *k* + 2),
6 sessions each (72 rows), dates increasing, and no PHQ-9 unless asked.
"""

from __future__ import annotations

import csv
import datetime as _dt
import io
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

__all__ = [
    "DEFAULT",
    "mbi_rows",
    "patient_ids",
    "patients_rows",
    "phq9_rows",
    "sessions_rows",
    "to_csv_bytes",
    "write_cohort",
]

DEFAULT: Any = object()
N_PATIENTS = 12
TIMEPOINTS = (0, 2, 4, 6)
SUBSCALE_ITEMS = {
    "exhaustion": (1, 2, 3, 4, 6),
    "cynicism": (8, 9, 13, 14, 15),
    "professional_efficacy": (5, 7, 10, 11, 12, 16),
}

Rows = list[dict[str, Any]]


def patient_ids(n: int = N_PATIENTS) -> list[str]:
    return [f"P{i:02d}" for i in range(1, n + 1)]


def patients_rows(n: int = N_PATIENTS, *, seed: int = 0) -> Rows:
    rng = np.random.default_rng(seed)
    sexes = ["female", "male", "Female", "other", "", "unknown"]
    routes = ["sublingual", "subcutaneous", "SUBLINGUAL", ""]
    pathways = ["burnout", "Depression", "anxiety ", ""]
    rows = []
    for i, pid in enumerate(patient_ids(n)):
        rows.append(
            {
                "patient_id": pid,
                "age": "" if i == 3 else str(int(rng.integers(18, 121))),
                "sex": sexes[i % len(sexes)],
                "route": routes[i % len(routes)],
                "pathway": pathways[i % len(pathways)],
            }
        )
    return rows


def mbi_rows(
    ids: Sequence[str] | None = None,
    *,
    timepoints: Sequence[int] = TIMEPOINTS,
    items: bool = True,
    subscales: bool = False,
    seed: int = 1,
) -> Rows:
    """One row per patient x timepoint; subscales are item means written with 2 decimals."""
    rng = np.random.default_rng(seed)
    ids = patient_ids() if ids is None else ids
    start = _dt.date(2024, 1, 8)
    rows = []
    for p, pid in enumerate(ids):
        for t in timepoints:
            values = rng.integers(0, 7, size=16)
            if p == 2 and t == 4:
                values = values.astype(object)
                values[0] = None  # one blank item: still scored (max 1 missing)
            row: dict[str, Any] = {
                "patient_id": pid,
                "after_session": str(t),
                "completed_on": (start + _dt.timedelta(days=p + 7 * t)).isoformat(),
            }
            if items:
                row.update({f"item_{i + 1}": "" if v is None else str(v) for i, v in enumerate(values)})
            if subscales:
                for s, pos in SUBSCALE_ITEMS.items():
                    answered = [int(values[i - 1]) for i in pos if values[i - 1] is not None]
                    row[s] = f"{sum(answered) / len(answered):.2f}"
            rows.append(row)
    return rows


def sessions_rows(ids: Sequence[str] | None = None, *, n_sessions: int = 6, seed: int = 2) -> Rows:
    rng = np.random.default_rng(seed)
    ids = patient_ids() if ids is None else ids
    start = _dt.date(2024, 1, 9)
    flags = ["true", "false", "TRUE", "False", "yes", "no", "1", "0", ""]
    rows = []
    for p, pid in enumerate(ids):
        for s in range(1, n_sessions + 1):
            rows.append(
                {
                    "patient_id": pid,
                    "session": str(s),
                    "held_on": (start + _dt.timedelta(days=p + 7 * s)).isoformat(),
                    "dose_mg": f"{rng.choice([1.5, 2, 2.5, 3])}",
                    "monitor_present": flags[(p + s) % 8],
                    "side_effects": flags[(p * 3 + s) % 9],
                    "serious_adverse_event": "" if s % 3 else "false",
                }
            )
    return rows


def phq9_rows(ids: Sequence[str] | None = None, *, timepoints: Sequence[int] = TIMEPOINTS, seed: int = 3) -> Rows:
    rng = np.random.default_rng(seed)
    ids = patient_ids() if ids is None else ids
    start = _dt.date(2024, 1, 8)
    rows = []
    for p, pid in enumerate(ids):
        for t in timepoints:
            row = {"patient_id": pid, "after_session": str(t), "completed_on": (start + _dt.timedelta(days=p + 7 * t)).isoformat()}
            row.update({f"item_{i}": str(int(v)) for i, v in enumerate(rng.integers(0, 4, size=9), start=1)})
            rows.append(row)
    return rows


def _header(rows: Rows) -> list[str]:
    cols: dict[str, None] = {}
    for r in rows:
        cols.update(dict.fromkeys(r))
    return list(cols)


def to_csv_bytes(rows: Rows, *, newline: str = "\n", bom: bool = False) -> bytes:
    """Rows as CSV bytes (UTF-8), quoting only where needed."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator=newline)
    cols = _header(rows)
    w.writerow(cols)
    for r in rows:
        w.writerow(["" if r.get(c) is None else str(r.get(c)) for c in cols])
    data = buf.getvalue().encode("utf-8")
    return (b"\xef\xbb\xbf" + data) if bom else data


_INT = re.compile(r"^-?[0-9]+$")
_FLOAT = re.compile(r"^-?[0-9]*\.[0-9]+$")
_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


def _arrow_column(values: list[Any]) -> pa.Array:
    """Infer a Parquet type the way an export tool would: int, float, bool, date or text."""
    cells = [None if v is None or str(v).strip() == "" else str(v).strip() for v in values]
    filled = [c for c in cells if c is not None]
    if filled and all(_INT.match(c) for c in filled):
        return pa.array([None if c is None else int(c) for c in cells], pa.int64())
    if filled and all(_INT.match(c) or _FLOAT.match(c) for c in filled):
        return pa.array([None if c is None else float(c) for c in cells], pa.float64())
    if filled and all(c.lower() in ("true", "false") for c in filled):
        return pa.array([None if c is None else c.lower() == "true" for c in cells], pa.bool_())
    if filled and all(_DATE.match(c) for c in filled):
        try:
            return pa.array([None if c is None else _dt.date.fromisoformat(c) for c in cells], pa.date32())
        except ValueError:
            pass
    return pa.array(cells, pa.string())


def _to_rows(table: Any) -> Rows:
    if hasattr(table, "to_dict"):  # pandas DataFrame
        return [{k: (None if v is None or v != v else v) for k, v in r.items()} for r in table.to_dict("records")]
    return list(table)


def write_cohort(
    dir: str | os.PathLike[str],
    *,
    patients: Any = DEFAULT,
    mbi_gs: Any = DEFAULT,
    sessions: Any = DEFAULT,
    phq9: Any = None,
    fmt: Literal["csv", "parquet"] | Mapping[str, Literal["csv", "parquet"]] = "csv",
    newline: str = "\n",
    bom: bool = False,
) -> Path:
    """Write a cohort folder (created if needed) and return its path.

    ``fmt`` is one format for every table or a mapping table -> format (missing =
    csv). ``newline`` and ``bom`` apply to CSV files written from rows.
    """
    folder = Path(dir)
    folder.mkdir(parents=True, exist_ok=True)
    defaults = {
        "patients": patients_rows,
        "mbi_gs": mbi_rows,
        "sessions": sessions_rows,
        "phq9": phq9_rows,
    }
    for name, table in (("patients", patients), ("mbi_gs", mbi_gs), ("sessions", sessions), ("phq9", phq9)):
        if table is None:
            continue
        if table is DEFAULT:
            table = defaults[name]()
        kind = fmt if isinstance(fmt, str) else fmt.get(name, "csv")
        path = folder / f"{name}.{kind}"
        if isinstance(table, (bytes, str)):
            path.write_bytes(table.encode("utf-8") if isinstance(table, str) else table)
            continue
        rows = _to_rows(table)
        if kind == "csv":
            path.write_bytes(to_csv_bytes(rows, newline=newline, bom=bom))
        else:
            cols = _header(rows)
            arrays = {c: _arrow_column([r.get(c) for r in rows]) for c in cols}
            pq.write_table(pa.table(arrays), path)
    return folder
