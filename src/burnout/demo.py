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
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from rich.console import Console

    from burnout._progress import StageProgress
    from burnout.analysis import Analysis

__all__ = ["DemoResult", "comparison_csv", "comparison_table", "run_demo", "with_truth"]


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


COMPARISON_COLUMNS: Final[tuple[tuple[str, str], ...]] = (  # (CSV column, terminal header)
    ("figure", "figure"),
    ("published", "published"),
    ("this_run", "this run"),
    ("tolerance", "tolerance"),
    ("within_tolerance", "within tolerance"),
)


def tolerance_text(row: dict[str, Any]) -> str:
    """How close this run must be to the published figure, in the figure's own unit: "± 3 patients"."""
    from burnout.simulate.published import PUBLISHED

    fig = next((f for f in PUBLISHED if f.label == row["label"]), None)
    if fig is None:  # effect-size labels and plateau conclusions are compared as words
        return "one of the published labels" if "effect size" in row["label"] else "same conclusion"
    if fig.kind == "count":
        return "exact" if fig.tolerance == 0 else f"± {fig.tolerance:g} patients"
    if fig.kind == "rate":
        return f"± {100 * fig.tolerance:.1f} percentage points"
    return f"± {fig.tolerance:.2f} points"


def _comparison_cells(r: dict[str, Any]) -> list[str]:
    return [
        r["label"].strip(),
        r["published"],
        r["this_run"],
        tolerance_text(r),
        "yes" if r["within_tolerance"] else "no",
    ]


def comparison_csv(rows: list[dict[str, Any]] | tuple[dict[str, Any], ...]) -> str:
    """The comparison as CSV text that ``pandas.read_csv`` reads: a ``synthetic_data`` column says the data are synthetic."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["synthetic_data", *(c for c, _ in COMPARISON_COLUMNS)])
    for r in rows:
        writer.writerow(["true", *_comparison_cells(r)])
    return buf.getvalue()


def comparison_table(rows: list[dict[str, Any]] | tuple[dict[str, Any], ...]):
    """Published | this run | tolerance | within tolerance, as a Rich table."""
    from rich.table import Table
    from rich.text import Text

    table = Table(title="Published study | this run (SYNTHETIC cohort)")
    for _, header in COMPARISON_COLUMNS:
        table.add_column(header, justify="left" if header == "figure" else "right")
    for r in rows:
        table.add_row(*(Text(cell) for cell in _comparison_cells(r)))  # Text: never read as Rich markup
    return table


def with_truth(result: Analysis, truth: Any) -> Analysis:
    """The analysis with its ``synthetic_truth`` section (results.md), computed in the engine
    from the simulator's truth table (``SimulatedCohort.truth``) under the default plan."""
    import json

    from burnout.analysis import Analysis
    from burnout.engines import duckdb_in_memory
    from burnout.measures.truth import collect_truth
    from burnout.plan import load_protocol
    from burnout.results.truth import truth_results

    plan = load_protocol()
    tree = json.loads(result.to_json())
    tm = collect_truth(duckdb_in_memory().create_table("synthetic_truth", truth), plan)
    tree["synthetic_truth"] = truth_results(tm, plan, tree)
    return Analysis(results=tree, warnings=result.warnings, notes=result.notes)


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
    from burnout._warm import HELPER_MODULES, REPORT_MODULES, helper_process, warm_imports
    from burnout.analysis import analyze, write_outputs

    warm_imports(*REPORT_MODULES)  # the report is written after the analysis
    from burnout.simulate import simulate_cohort, write_cohort
    from burnout.simulate.published import compare

    start = time.perf_counter()
    out = Path(out)
    stages = progress if isinstance(progress, StageProgress) else StageProgress(progress, total=5)
    # one helper process for the whole demo: it imports while the cohort is simulated
    with stages, helper_process(*HELPER_MODULES):
        stages.next("Simulating the calibrated SYNTHETIC cohort")
        cohort = simulate_cohort(seed=seed)
        with tempfile.TemporaryDirectory(prefix="burnout-demo-") as tmp:
            folder = Path(tmp) / "cohort"
            write_cohort(cohort, folder, fmt="parquet")
            result = analyze(folder, synthetic=True, progress=stages)
        result = with_truth(result, cohort.truth)
        rows = compare(result.results)
        stages.next("Writing results.json and the report")
        write_outputs(result, out, extras={"published-vs-this-run.csv": comparison_csv(rows)})
    seconds = time.perf_counter() - start
    demo = DemoResult(analysis=result, comparison=tuple(rows), out=out, seconds=seconds)
    if console is not None:
        _print_closing(console, demo)
    return demo


def _print_closing(console: Console, demo: DemoResult) -> None:
    """The comparison table and the closing lines: how many figures reproduced, where the outputs are."""
    rows, out = demo.comparison, demo.out
    console.print(comparison_table(rows))
    ok = sum(r["within_tolerance"] for r in rows)
    console.print(  # the folder name is the user's text: printed literally
        f"{ok} of {len(rows)} published figures reproduced within tolerance. "
        f"The data are SYNTHETIC (a calibrated model, docs/synthetic-cohort.md).\n"
        f"Report: {out / 'report.html'}   Results: {out / 'results.json'}   ({demo.seconds:.1f} s)",
        markup=False,
        highlight=False,
        emoji=False,
    )
