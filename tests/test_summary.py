"""`burnout validate`'s summary table: the source shown as written."""

from __future__ import annotations

from rich.console import Console

from burnout.instrument import SUBSCALES
from burnout.summary import ValidationSummary


def test_summary_title_prints_the_source_literally_not_as_rich_markup() -> None:
    source = "cohorts/[bold]2024[/bold] [link=https://x.example]export[/link]"
    summary = ValidationSummary(
        source=source,
        patients=1,
        assessments={0: 1},
        sessions=0,
        scored=dict.fromkeys(SUBSCALES, 1),
        unscored=dict.fromkeys(SUBSCALES, 0),
        threshold_met=0,
        phq9_assessments=None,
        warnings=(),
    )
    console = Console(width=400, record=True, color_system=None)
    console.print(summary.to_rich())
    title = " ".join(console.export_text().split("┌")[0].split())  # the title wraps to the table's width
    assert title == f"Valid cohort: {source}"
