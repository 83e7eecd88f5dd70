"""`burnout demo`: the calibrated synthetic cohort, analysed and compared with the study.

The cohort is synthetic: no patient-level data of the reference study is public.
Every output of the demo says so (results.json ``meta.synthetic``, the report's
banner, the terminal table's title).
"""

from __future__ import annotations

import csv
import io
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console

    from burnout._progress import StageProgress
    from burnout.analysis import Analysis

__all__ = ["DemoResult", "comparison_csv", "comparison_table", "run_demo"]


@dataclass(frozen=True)
class DemoResult:
    """The demo's analysis, its published-vs-this-run rows and how long it took."""

    analysis: Analysis
    comparison: tuple[dict[str, Any], ...]
    out: Path
    seconds: float

    def __repr__(self) -> str:
        ok = sum(r["within_tolerance"] for r in self.comparison)
        return f"<DemoResult: {ok} of {len(self.comparison)} published figures reproduced, SYNTHETIC data, {self.out}>"


def comparison_csv(rows: list[dict[str, Any]] | tuple[dict[str, Any], ...]) -> str:
    """The comparison as CSV text, its first line saying the data are synthetic."""
    buf = io.StringIO()
    buf.write("# SYNTHETIC DATA: this run analysed a simulated cohort calibrated to the published figures\n")
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["figure", "published", "this_run", "within_tolerance"])
    for r in rows:
        writer.writerow([r["label"].strip(), r["published"], r["this_run"], "yes" if r["within_tolerance"] else "no"])
    return buf.getvalue()


def comparison_table(rows: list[dict[str, Any]] | tuple[dict[str, Any], ...]):  # noqa: ANN201 (rich import is lazy)
    """Published | this run, as a Rich table."""
    from rich.table import Table

    table = Table(title="Published study | this run (SYNTHETIC cohort)")
    table.add_column("figure")
    table.add_column("published", justify="right")
    table.add_column("this run", justify="right")
    table.add_column("", justify="center")
    for r in rows:
        table.add_row(r["label"], r["published"], r["this_run"], "ok" if r["within_tolerance"] else "off")
    return table


def run_demo(
    *,
    out: str | Path = "demo-out",
    seed: int = 20240917,
    console: Console | None = None,
    progress: StageProgress | Console | None = None,
) -> DemoResult:
    """Simulate the calibrated cohort, analyse it with the default plan, report, compare.

    Parameters
    ----------
    out
        Output folder: results.json, report.html, figures/, tables/ and
        published-vs-this-run.csv (written atomically).
    seed
        Seed of the synthetic cohort; the default reproduces the published figures.
    console
        Where to print the comparison table and the closing lines (None: nowhere).
    progress
        Where to show the five stages as they run (a Rich console or a
        ``StageProgress``); None is silent.

    Raises
    ------
    OutputFolderError
        ``out`` holds files burnout did not write or cannot be written; checked
        before the cohort is simulated.
    """
    from burnout._progress import StageProgress
    from burnout.outdir import check_output_folder

    check_output_folder(out)  # a bad --out fails before a minute of work
    from burnout._warm import REPORT_MODULES, warm_imports
    from burnout.analysis import analyze, write_outputs

    warm_imports(*REPORT_MODULES)  # the report is written after the analysis
    from burnout.published import compare
    from burnout.simulate import simulate_cohort, write_cohort

    start = time.perf_counter()
    out = Path(out)
    with progress if isinstance(progress, StageProgress) else StageProgress(progress, total=5) as stages:
        stages.next("Simulating the calibrated SYNTHETIC cohort")
        cohort = simulate_cohort(seed=seed)
        with tempfile.TemporaryDirectory(prefix="burnout-demo-") as tmp:
            folder = Path(tmp) / "cohort"
            write_cohort(cohort, folder, fmt="parquet")
            result = analyze(folder, synthetic=True, progress=stages)
        rows = compare(result.results)
        stages.next("Writing results.json and the report")
        write_outputs(result, out, extras={"published-vs-this-run.csv": comparison_csv(rows)})
    seconds = time.perf_counter() - start
    demo = DemoResult(analysis=result, comparison=tuple(rows), out=out, seconds=seconds)
    if console is not None:
        console.print(comparison_table(rows))
        ok = sum(r["within_tolerance"] for r in rows)
        console.print(  # the folder name is the user's text: printed literally
            f"{ok} of {len(rows)} published figures reproduced within tolerance. "
            f"The data are SYNTHETIC (a calibrated model, docs/synthetic-cohort.md).\n"
            f"Report: {out / 'report.html'}   Results: {out / 'results.json'}   ({seconds:.1f} s)",
            markup=False,
            highlight=False,
            emoji=False,
        )
    return demo
