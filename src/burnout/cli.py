"""The command line: a thin shell over the library.

Each command calls one core function and turns our exceptions into a clean message
and an exit code (2 for bad input or a bad plan; 1 for anything unexpected). Heavy
modules (ibis, scipy, the report) are imported inside the commands so that
``burnout --help`` answers at once.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Literal, NoReturn

import typer
from rich.console import Console

__all__ = ["app", "main"]

app = typer.Typer(
    name="burnout",
    help=(
        "Measure a burnout treatment program's real-world outcomes (MBI-GS, PHQ-9) as rigorously "
        "as a published study, on its own data. See README.md for the data format."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console()
err_console = Console(stderr=True, soft_wrap=True)

ProtocolOption = Annotated[
    Path | None,
    typer.Option("--protocol", "-p", help="Analysis plan (protocol.toml). Default: the reference study's plan."),
]
Backend = Literal["duckdb", "spark"]
MaxLineSizeOption = Annotated[
    int | None,
    typer.Option(
        "--max-line-size",
        min=1,
        help="Longest CSV line read, in bytes (default 2,000,000); a longer line is reported, never skipped.",
    ),
]


def _print_warnings(warnings: Sequence[str]) -> None:
    for w in warnings:
        err_console.print(f"warning: {w}", markup=False, highlight=False)


def _fail(message: str, *, code: int = 2) -> NoReturn:
    err_console.print(message, markup=False, highlight=False)
    raise typer.Exit(code)


def _run_guarded(func, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
    """Call a core function; our errors become a clean message and exit code 2."""
    from burnout.errors import BurnoutError, DataError

    try:
        return func(*args, **kwargs)
    except DataError as exc:
        _print_warnings(exc.warnings)
        _fail(f"error: {exc}\nNothing was written. Fix the rows above and run again.")
    except BurnoutError as exc:
        _fail(f"error: {exc}")


@app.command()
def validate(
    source: Annotated[str, typer.Argument(help="Cohort folder (CSV or Parquet files), or a postgresql:// URL.")],
    protocol: ProtocolOption = None,
    max_line_size: MaxLineSizeOption = None,
) -> None:
    """Check a cohort against the data format and summarise it; report every problem found."""
    from burnout.summary import validate_and_summarize

    summary = _run_guarded(validate_and_summarize, source, protocol=protocol, progress=console, max_line_bytes=max_line_size)
    _print_warnings(summary.warnings)
    console.print(summary.to_rich())


@app.command()
def analyze(
    source: Annotated[str, typer.Argument(help="Cohort folder (CSV or Parquet files), or a postgresql:// URL.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder (written atomically).")],
    protocol: ProtocolOption = None,
    backend: Annotated[str, typer.Option(help="Relational engine: duckdb (default) or spark.")] = "duckdb",
    spark_master: Annotated[str | None, typer.Option(help="Spark master URL (default local[*]).")] = None,
    max_line_size: MaxLineSizeOption = None,
) -> None:
    """Run the whole analysis plan and write results.json and the report to OUT."""
    from burnout.analysis import analyze as run_analysis

    if backend not in ("duckdb", "spark"):
        _fail(f"error: --backend must be duckdb or spark, got {backend!r}")
    result = _run_guarded(
        run_analysis, source, protocol=protocol, out=out, backend=backend, spark_master=spark_master, progress=console,
        max_line_bytes=max_line_size,
    )
    _print_warnings(result.warnings)
    console.print(result.summary_table())
    console.print(f"Results: {out / 'results.json'}\nReport:  {out / 'report.html'}")


@app.command("import")
def import_(
    source: Annotated[str, typer.Argument(help="Cohort folder (CSV or Parquet files) to validate and import.")],
    url: Annotated[str, typer.Argument(help="PostgreSQL database, e.g. postgresql://user@localhost:5432/clinic.")],
    replace: Annotated[bool, typer.Option("--replace", help="Replace the cohort tables if the database has them.")] = False,
    protocol: ProtocolOption = None,
    max_line_size: MaxLineSizeOption = None,
) -> None:
    """Validate a cohort folder and load it into PostgreSQL, for `burnout analyze postgresql://...`."""
    from burnout.importer import import_cohort

    summary = _run_guarded(import_cohort, source, url, replace=replace, protocol=protocol, max_line_bytes=max_line_size)
    _print_warnings(summary.warnings)
    rows = ", ".join(f"{name} {n:,} rows" for name, n in summary.rows.items())
    replaced = f" (replaced {', '.join(summary.replaced)})" if summary.replaced else ""
    console.print(f"Imported {rows} into {summary.url}{replaced}", markup=False, highlight=False)


@app.command()
def simulate(
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder to write the synthetic cohort to.")],
    patients: Annotated[int | None, typer.Option(help="Patients enrolled (default: sized so 1,642 meet the threshold).")] = None,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 20240917,
    format: Annotated[str, typer.Option("--format", help="csv or parquet.")] = "csv",  # noqa: A002
) -> None:
    """Write a synthetic cohort calibrated to the published study (the data are not real)."""
    from burnout.simulate import simulate_cohort, write_cohort

    if format not in ("csv", "parquet"):
        _fail(f"error: --format must be csv or parquet, got {format!r}")
    if patients is not None and patients < 1:
        _fail(f"error: --patients must be at least 1, got {patients}")
    cohort = simulate_cohort(patients=patients, seed=seed)
    write_cohort(cohort, out, fmt=format)  # type: ignore[arg-type]
    console.print(f"Wrote a SYNTHETIC cohort ({cohort!r}) to {out}")


@app.command()
def demo(
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder.")] = Path("demo-out"),
    seed: Annotated[int, typer.Option(help="Random seed of the synthetic cohort.")] = 20240917,
) -> None:
    """Simulate the calibrated synthetic cohort, analyse it, write the report, compare with the study."""
    from burnout.demo import run_demo

    _run_guarded(run_demo, out=out, seed=seed, console=console)


def main() -> None:
    """Entry point of the ``burnout`` command."""
    try:
        app()
    except KeyboardInterrupt:  # pragma: no cover
        sys.exit(130)
