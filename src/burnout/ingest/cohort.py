"""The validated cohort: typed tables in the engine, parsed once (what ``load_cohort`` returns)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import ibis
import ibis.expr.types as ir

__all__ = ["Cohort"]


@dataclass(frozen=True, eq=False, repr=False)
class Cohort:
    """A validated cohort: typed tables in the engine, parsed once.

    Attributes
    ----------
    con : ibis.BaseBackend
        The engine holding the tables.
    patients : ibis.Table
        ``patient_id`` string, ``age`` int64 (null = blank), ``sex`` string
        (female|male|other|unknown), ``route`` string (sublingual|subcutaneous|unknown),
        ``pathway`` string (lower-cased, trimmed; blank = "unknown").
    mbi_gs : ibis.Table
        ``patient_id``, ``after_session`` int64, ``item_1`` .. ``item_16`` int64
        (null = blank or column absent), ``exhaustion``, ``cynicism``,
        ``professional_efficacy`` int64 in units of ``1/instrument.SCALE`` (null
        when blank or the column is absent). All rows, also at unscheduled timepoints.
    sessions : ibis.Table
        ``patient_id``, ``session`` int64, ``dose_mg`` float64, ``monitor_present``
        bool, ``side_effects`` bool (null = not asked), ``serious_adverse_event``
        bool (blank = false).
    phq9 : ibis.Table or None
        ``patient_id``, ``after_session`` int64, ``item_1`` .. ``item_9`` int64;
        None when the folder has no phq9 file.
    instruments : Mapping[str, ibis.Table]
        Every other instrument's table in the folder (``gad7``, ``bat23``, ... and
        ``phq9`` again), by name: ``patient_id``, ``after_session``, ``item_1`` ..
        ``item_k`` int64 within the definition's answer range.
    mbi_has_items : bool
        mbi_gs carries all 16 item columns (subscales are scored from items).
    mbi_has_subscales : bool
        mbi_gs carries the three subscale columns.
    warnings : tuple[str, ...]
        Things that do not make the data wrong (unknown columns, dates out of
        order, unscheduled timepoints, sessions beyond the schedule). They go into
        the results, so they name files, columns and lines, never a patient id.
    source : str
        Where the cohort was read from.
    files : Mapping[str, str]
        Table name to file name, e.g. ``{"mbi_gs": "mbi_gs.csv", ...}``.
    fingerprint : str
        SHA-256 of the validated content (see :func:`burnout.ingest.fingerprint.content_fingerprint`).
    rows : Mapping[str, int]
        Rows per table.
    file_columns : Mapping[str, ibis.Table]
        Per table, ``_line`` and every documented column present in its file, typed
        as above (dates as ``date``; ``patient_id`` trimmed): for consumers that need
        the columns the analysis tables leave out, e.g. a database import.
    synthetic : bool
        The data are simulated: every file read is one ``burnout simulate`` wrote, unchanged
        (:func:`burnout.outdir.simulated_sha256`), or a store imported from such a folder and
        unchanged since. Every output of an analysis then says so.
    notes : tuple[str, ...]
        How the cohort was read when that cost more than it had to, and what to do about it
        (a store validated again, or checked the slow way). Not about the data: never in the results.

    Notes
    -----
    Each table is a column selection of one materialised engine table (which also
    holds the line numbers and validation flags), so using it never re-reads or
    re-parses the input files.
    """

    con: ibis.BaseBackend
    patients: ir.Table
    mbi_gs: ir.Table
    sessions: ir.Table
    phq9: ir.Table | None
    mbi_has_items: bool
    mbi_has_subscales: bool
    warnings: tuple[str, ...]
    source: str
    files: Mapping[str, str]
    fingerprint: str
    rows: Mapping[str, int] = field(default_factory=dict)
    file_columns: Mapping[str, ir.Table] = field(default_factory=dict)
    instruments: Mapping[str, ir.Table] = field(default_factory=dict)  # every instrument table but mbi_gs
    synthetic: bool = False
    notes: tuple[str, ...] = ()

    def __repr__(self) -> str:
        r = self.rows
        phq = f"{r.get('phq9', 0):,} PHQ-9 assessments" if self.phq9 is not None else "no PHQ-9"
        warn = f", {len(self.warnings)} warnings" if self.warnings else ""
        return (
            f"<Cohort: {r.get('patients', 0):,} patients, {r.get('mbi_gs', 0):,} assessments, "
            f"{r.get('sessions', 0):,} sessions, {phq}{warn} from {self.source}>"
        )
