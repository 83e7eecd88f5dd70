"""`burnout validate`: load, validate and summarise a cohort without analysing it."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from burnout.instrument import SUBSCALES

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

    from burnout.ingest import Cohort
    from burnout.plan import Protocol

__all__ = ["ValidationSummary", "summarize", "validate_and_summarize"]


@dataclass(frozen=True, slots=True)
class ValidationSummary:
    """What a valid cohort holds, in counts (no patient ids).

    ``assessments`` maps after_session to rows of the primary instrument's table
    (``primary``, the MBI-GS by default); ``scored``/``unscored`` map each MBI-GS
    subscale to assessments where it was scored or not (too many blank items), and are
    empty for another primary instrument, whose cohort need not hold MBI-GS data.
    """

    source: str
    patients: int
    assessments: dict[int, int]
    sessions: int
    scored: dict[str, int]
    unscored: dict[str, int]
    threshold_met: int
    phq9_assessments: int | None
    warnings: tuple[str, ...]
    primary: str = "mbi_gs"
    notes: tuple[str, ...] = ()
    """How the data were read when that cost more than it had to (:attr:`burnout.ingest.Cohort.notes`)."""

    def __repr__(self) -> str:
        return (
            f"<ValidationSummary {self.source}: {self.patients:,} patients, "
            f"{sum(self.assessments.values()):,} assessments, {self.sessions:,} sessions, "
            f"{self.threshold_met:,} met the threshold at baseline>"
        )

    def to_rich(self) -> Table:
        """A two-column table for the terminal."""
        from rich.table import Table
        from rich.text import Text

        # the source is the user's folder name or URL: shown literally, never as Rich markup
        table = Table(title=Text(f"Valid cohort: {self.source}"), show_header=False)
        table.add_column("measure")
        table.add_column("value", justify="right")
        mbi = self.primary == "mbi_gs"
        table.add_row("patients", f"{self.patients:,}")
        for t, n in sorted(self.assessments.items()):
            label = "baseline" if t == 0 else f"after session {t}"
            table.add_row(f"{'MBI-GS' if mbi else self.primary} assessments, {label}", f"{n:,}")
        table.add_row("sessions delivered", f"{self.sessions:,}")
        for s in self.scored:
            table.add_row(f"{s}: scored / not scored", f"{self.scored[s]:,} / {self.unscored[s]:,}")
        threshold = "burnout threshold" if mbi else "eligibility threshold"
        table.add_row(f"met the {threshold} at baseline", f"{self.threshold_met:,}")
        if self.phq9_assessments is not None:
            table.add_row("PHQ-9 assessments", f"{self.phq9_assessments:,}")
        table.add_row("warnings", f"{len(self.warnings)}")
        return table


def summarize(cohort: Cohort, protocol: Protocol) -> ValidationSummary:
    """Counts of a validated cohort, computed in the engine."""
    from burnout.cohort import build_patient_table
    from burnout.plan.instruments import DEFAULT_PRIMARY
    from burnout.scoring import score_mbi

    primary = protocol.instruments.primary
    if primary != DEFAULT_PRIMARY:  # its own table's rows (keyed by the definition's name); no MBI-GS subscales
        rows = _rows_by_assessment(cohort.instruments.get(protocol.instruments.primary_table))
        total, scored_counts = 0, {}
    else:
        scored = score_mbi(
            cohort.mbi_gs, max_missing_items=protocol.scoring.max_missing_items, has_items=cohort.mbi_has_items
        )
        by_t = scored.group_by("after_session").aggregate(
            n=scored.count(),
            **{f"scored_{s}": scored[s].count() for s in SUBSCALES},
        )
        rows = by_t.to_pyarrow().to_pylist()
        total = sum(int(r["n"]) for r in rows)
        scored_counts = {s: sum(int(r[f"scored_{s}"]) for r in rows) for s in SUBSCALES}
    table = build_patient_table(cohort, protocol)
    threshold_met = int(table.threshold_met.cast("int64").sum().to_pyarrow().as_py() or 0)
    return ValidationSummary(
        source=str(cohort.source),
        patients=int(cohort.patients.count().to_pyarrow().as_py()),
        assessments={int(r["after_session"]): int(r["n"]) for r in rows},
        sessions=int(cohort.sessions.count().to_pyarrow().as_py()),
        scored=scored_counts,
        unscored={s: total - n for s, n in scored_counts.items()},
        threshold_met=threshold_met,
        phq9_assessments=None if cohort.phq9 is None else int(cohort.phq9.count().to_pyarrow().as_py()),
        warnings=tuple(cohort.warnings),
        primary=protocol.instruments.primary_table,
        notes=cohort.notes,
    )


def _rows_by_assessment(table: Any) -> list[dict[str, Any]]:
    """Rows per ``after_session`` of an instrument's table ([] when the cohort has none)."""
    if table is None:
        return []
    by_t = table.group_by("after_session").aggregate(n=table.count())
    rows: list[dict[str, Any]] = by_t.to_pyarrow().to_pylist()
    return rows


def validate_and_summarize(
    source: str | os.PathLike[str],
    *,
    protocol: str | os.PathLike[str] | None = None,
    progress: Console | None = None,
    max_line_bytes: int | None = None,
) -> ValidationSummary:
    """Load the plan and the cohort, validate every rule, and summarise.

    Raises
    ------
    ProtocolError
        The plan is invalid.
    DataError
        The cohort breaks the data format; ``problems`` lists every violation.
    BurnoutError
        The database cannot be reached or read (see :func:`burnout.engines.connect_source`).
    """
    from burnout.ingest import load_cohort
    from burnout.plan import load_protocol

    plan = load_protocol(protocol)
    status = progress.status("Validating the cohort...") if progress is not None else None
    if status is not None:
        status.start()
    try:
        cohort = load_cohort(
            source,
            scheduled_assessments=tuple(plan.schedule.assessments),
            scheduled_sessions=plan.schedule.sessions,
            max_missing_items=plan.scoring.max_missing_items,
            max_line_bytes=max_line_bytes,
            primary=plan.instruments.primary_table,
            definitions=plan.instruments.user_definitions,
        )
        return summarize(cohort, plan)
    finally:
        if status is not None:
            status.stop()
