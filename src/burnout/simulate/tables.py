"""The calibrated synthetic cohort: a documented statistical model, not copied numbers. (tables)."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from burnout.simulate.draw import _arrays
from burnout.simulate.model import (
    DEFAULT_SEED,
    DEFAULT_THRESHOLD_MET,
    LATENT_CLASSES,
    PATHWAYS,
    ROUTES,
    SESSIONS,
    SEXES,
    TIMEPOINTS,
    ModelParams,
    SimulatedCohort,
)

__all__ = ["simulate_chunks", "simulate_cohort", "write_cohort"]
_EPOCH: Final[_dt.date] = _dt.date(1970, 1, 1)


# --------------------------------------------------------------------------- tables


def _ids(start: int, n: int) -> pa.Array:
    width = max(7, len(str(start + n)))
    nums = np.strings.zfill(np.arange(start + 1, start + n + 1).astype(np.str_), width)
    return pa.array(np.strings.add("P", nums), type=pa.string())


def _dates(days: np.ndarray, first: _dt.date) -> pa.Array:
    offset = (first - _EPOCH).days
    return pa.array((days + offset).astype(np.int32), type=pa.date32())


def _text(codes: np.ndarray, labels: tuple[str, ...]) -> pa.Array:
    """Category codes -> text, "" -> null (a blank cell)."""
    dictionary = pa.array([lab if lab else None for lab in labels], type=pa.string())
    return pc.take(dictionary, pa.array(codes.astype(np.int32)))


def _tables(a: dict[str, np.ndarray], p: ModelParams, id_start: int) -> dict[str, pa.Table]:
    n = a["n_sessions"].shape[0]
    ids = _ids(id_start, n)
    tables: dict[str, pa.Table] = {}
    tables["patients"] = pa.table(
        {
            "patient_id": ids,
            "age": pa.array(a["age"], mask=a["age_blank"], type=pa.int64()),
            "sex": _text(a["sex"], SEXES),
            "route": _text(a["route"], ROUTES),
            "pathway": _text(a["pathway"], PATHWAYS),
        }
    )

    def forms(present: np.ndarray, items: np.ndarray, blank: np.ndarray) -> pa.Table:
        """One row per form returned (patient-major): id, timepoint, date and the items."""
        pi, ti = np.nonzero(present)
        answered, unanswered = items[pi, ti], blank[pi, ti]
        cols: dict[str, Any] = {
            "patient_id": pc.take(ids, pa.array(pi)),
            "after_session": pa.array(np.asarray(TIMEPOINTS)[ti], type=pa.int64()),
            "completed_on": _dates(a["completed_on"][pi, ti], p.first_enrolment),
        }
        for j in range(items.shape[-1]):
            cols[f"item_{j + 1}"] = pa.array(answered[:, j], mask=unanswered[:, j], type=pa.int8())
        return pa.table(cols)

    tables["mbi_gs"] = forms(a["present"], a["items"], a["blank"])

    # sessions: one row per session delivered
    k = np.arange(1, SESSIONS + 1)
    pi, ki = np.nonzero(k[None, :] <= a["n_sessions"][:, None])
    tables["sessions"] = pa.table(
        {
            "patient_id": pc.take(ids, pa.array(pi)),
            "session": pa.array(ki + 1, type=pa.int64()),
            "held_on": _dates(a["held_on"][pi, ki], p.first_enrolment),
            "dose_mg": pa.array(a["dose"][pi, ki], type=pa.float64()),
            "monitor_present": pa.array(a["monitor"][pi, ki]),
            "side_effects": pa.array(a["side_effects"][pi, ki], mask=a["se_not_asked"][pi, ki]),
            "serious_adverse_event": pa.array(a["sae"][pi, ki]),
        }
    )

    # phq9: at the assessments returned, unless the form was missed
    tables["phq9"] = forms(a["phq_present"], a["phq_items"], a["phq_blank"])

    tables["truth"] = _truth(a, ids)
    tables["latent"] = pa.table(
        {
            "patient_id": ids,
            "latent_class": _text(a["latent_class"], LATENT_CLASSES),
            "threshold_met": pa.array(a["threshold_met"]),
        }
    )
    return tables


def _truth(a: dict[str, np.ndarray], ids: pa.Array) -> pa.Table:
    """Every patient's MBI-GS items at every assessment, as the model drew them before any
    form was lost or item left blank: the synthetic truth (``synthetic_truth.csv``).

    One row per patient and scheduled assessment (patient-major): ``patient_id``,
    ``after_session``, ``threshold_met`` (the baseline as observed met the default
    threshold), ``returned`` (the form is in mbi_gs) and ``item_1..item_16`` (0-6, none
    blank). Not cohort data: the loader never reads it.
    """
    n, n_t = a["present"].shape
    pi = np.repeat(np.arange(n), n_t)
    ti = np.tile(np.arange(n_t), n)
    cols: dict[str, Any] = {
        "patient_id": pc.take(ids, pa.array(pi)),
        "after_session": pa.array(np.asarray(TIMEPOINTS)[ti], type=pa.int64()),
        "threshold_met": pa.array(a["threshold_met"][pi]),
        "returned": pa.array(a["present"][pi, ti]),
    }
    items = a["items"][pi, ti]
    for j in range(items.shape[-1]):
        cols[f"item_{j + 1}"] = pa.array(items[:, j], type=pa.int8())
    return pa.table(cols)


# --------------------------------------------------------------------------- public


def simulate_cohort(
    *,
    patients: int | None = None,
    threshold_met: int | None = None,
    seed: int = DEFAULT_SEED,
    params: ModelParams | None = None,
) -> SimulatedCohort:
    """Draw a synthetic cohort from the calibrated latent-class growth model.

    Parameters
    ----------
    patients : int, optional
        Enrolled patients to draw. When given, the number meeting the burnout
        threshold at baseline is whatever the model gives (about 64%).
    threshold_met : int, optional
        Draw enrolled patients until exactly this many meet the threshold at
        baseline (E >= 4.8 and (C >= 3.8 or PE <= 4.3), scored from the items).
        Default 1,642 (the reference study) when ``patients`` is not given.
        Give one of ``patients`` and ``threshold_met``, not both.
    seed : int
        Seed of the random numbers; the default is the one calibrated against.
    params : ModelParams, optional
        Model parameters; default ``ModelParams()``, the calibrated values.

    Returns
    -------
    SimulatedCohort
        pyarrow tables ``patients``, ``mbi_gs``, ``sessions`` and ``phq9`` in the
        data-format.md layout, plus the latent truth. Patient ids are "P0000001"...

    Notes
    -----
    With the defaults, analysing the cohort with the default plan gives 1,642
    patients meeting the threshold and 395 completers, and reproduces the published
    figures within the tolerances listed in docs/synthetic-cohort.md (checked by
    tests/simulate/test_simulate.py with an independent evaluator). Other seeds land within
    sampling error of them. The same seed always gives the same cohort; a smaller
    cohort is a prefix of a larger one with the same seed and parameters.

    Examples
    --------
    >>> cohort = simulate_cohort()
    >>> cohort.threshold_met
    1642
    """
    parts: dict[str, list[pa.Table]] = {}
    for chunk in simulate_chunks(patients=patients, threshold_met=threshold_met, seed=seed, params=params):
        for name, t in chunk.items():
            parts.setdefault(name, []).append(t)
    done = {name: _join(ts) for name, ts in parts.items()}
    return SimulatedCohort(seed=seed, params=params or ModelParams(), **done)


def simulate_chunks(
    *,
    patients: int | None = None,
    threshold_met: int | None = None,
    seed: int = DEFAULT_SEED,
    params: ModelParams | None = None,
) -> Iterator[dict[str, pa.Table]]:
    """:func:`simulate_cohort` as a stream: its tables (and ``latent``) one chunk of
    patients at a time, for writing cohorts too large to hold. Concatenated in order,
    the chunks are ``simulate_cohort``'s tables. Arguments are checked at the call.
    """
    if patients is not None and threshold_met is not None:
        raise ValueError(
            f"give patients or threshold_met, not both (got patients={patients!r}, "
            f"threshold_met={threshold_met!r}); fix: drop one of them"
        )
    for name, v in (("patients", patients), ("threshold_met", threshold_met)):
        if v is not None and (isinstance(v, bool) or not isinstance(v, int) or v < 1):
            raise ValueError(f"{name} must be a positive integer, got {v!r}; fix: pass e.g. {name}=1642")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}; fix: pass e.g. seed={DEFAULT_SEED}")
    if params is None:
        params = ModelParams()
    elif not isinstance(params, ModelParams):
        raise TypeError(f"params must be a ModelParams, got {type(params).__name__}")
    if patients is None and threshold_met is None:
        threshold_met = DEFAULT_THRESHOLD_MET
    return _chunks(seed, params, patients=patients, threshold_met=threshold_met)


def _chunks(
    seed: int, params: ModelParams, *, patients: int | None, threshold_met: int | None
) -> Iterator[dict[str, pa.Table]]:
    start = 0
    for arr in _arrays(seed, params, patients=patients, threshold_met=threshold_met):
        yield _tables(arr, params, start)
        start += arr["n_sessions"].shape[0]


def _join(tables: list[pa.Table]) -> pa.Table:
    # chunked on purpose: combining would copy every column (2x peak memory at 1M patients)
    return tables[0] if len(tables) == 1 else pa.concat_tables(tables)


def write_cohort(
    cohort: SimulatedCohort,
    out_dir: str | Path,
    *,
    fmt: Literal["csv", "parquet"] = "csv",
) -> list[Path]:
    """Write the cohort as patients, mbi_gs, sessions and phq9 files, and the synthetic truth.

    Parameters
    ----------
    cohort : SimulatedCohort
        From ``simulate_cohort``.
    out_dir : str or Path
        Folder to write, atomically: a new or empty folder, or one burnout wrote
        before (it is replaced). It gets burnout's manifest (``burnout.outdir``),
        which the cohort loader ignores.
    fmt : {"csv", "parquet"}
        CSV (UTF-8, header row, blank cells for missing values, booleans true/false,
        dates YYYY-MM-DD) or Parquet with the same columns.

    Returns
    -------
    list of Path
        The files written, in the order patients, mbi_gs, sessions, phq9, then
        ``synthetic_truth`` (every patient's items at every assessment as drawn, before
        dropout and blanks; not cohort data, the loader never reads it). The bytes
        depend only on the cohort, so the same seed gives identical files.

    Raises
    ------
    OutputFolderError
        ``out_dir`` is a file, holds files burnout did not write, or cannot be written.
    """
    if fmt not in ("csv", "parquet"):
        raise ValueError(f"fmt must be 'csv' or 'parquet', got {fmt!r}; fix: pass fmt='csv' or fmt='parquet'")
    if not isinstance(cohort, SimulatedCohort):
        raise TypeError(f"cohort must be a SimulatedCohort from simulate_cohort(), got {type(cohort).__name__}")
    from burnout.outdir import write_output_folder

    names = ("patients", "mbi_gs", "sessions", "phq9", "synthetic_truth")

    def write(folder: Path) -> None:
        for name in names:
            table: pa.Table = cohort.truth if name == "synthetic_truth" else getattr(cohort, name)
            _write_table(table, folder / f"{name}.{fmt}", fmt=fmt)

    out = write_output_folder(out_dir, write, synthetic=True)  # an analysis of it is labelled synthetic
    return [out / f"{name}.{fmt}" for name in names]


def _write_table(table: pa.Table, path: Path, *, fmt: Literal["csv", "parquet"]) -> None:
    """One table as CSV (a plain header line: pyarrow would quote the names; no value ever
    needs quoting) or as zstd Parquet."""
    if fmt == "csv":
        import pyarrow.csv as pacsv

        with open(path, "wb") as fh:
            fh.write((",".join(table.column_names) + "\n").encode())
            pacsv.write_csv(table, fh, write_options=pacsv.WriteOptions(include_header=False, quoting_style="none"))
    else:
        import pyarrow.parquet as pq

        pq.write_table(table, path, compression="zstd")
