"""The command line: a thin shell over the library.

Each command calls one core function and turns our exceptions into a clean message
and an exit code (2 for bad input or a bad plan; 1 for anything unexpected). Heavy
modules (ibis, scipy, the report) are imported inside the commands so that
``burnout --help`` answers at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Literal, NoReturn

import typer
from rich.console import Console
from typer.core import TyperArgument, TyperCommand, TyperGroup

__all__ = ["app", "main"]


class _PlainHelp:
    """Help that reads SOURCE and --out FOLDER, not typer's {source}, <str> and <bool> placeholders."""

    def get_params(self, ctx):
        params = super().get_params(ctx)  # type: ignore[misc]  # a mixin: super() is typer's command class, unknown to mypy here
        for param in params:
            if isinstance(param, TyperArgument):
                name = (param.metavar or param.name or "").upper()
                param.metavar = name
                param.get_usage_pieces = lambda ctx, name=name: [name]
                param.display_type_rich = lambda ctx: None
            elif param.metavar is None:
                param.metavar = "" if param.is_flag else (param.name or "").upper()
        return params


class _Command(_PlainHelp, TyperCommand):
    pass


class _Group(_PlainHelp, TyperGroup):
    pass


app = typer.Typer(
    name="burnout",
    cls=_Group,
    help=(
        "Measure a burnout treatment program's real-world outcomes (MBI-GS, PHQ-9) as rigorously "
        "as a published study, on its own data. See README.md for the data format."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
# Everything printed may hold the user's text (file names, cell values, paths): no Rich
# markup, emoji codes or highlighting is ever interpreted ("a:100:.csv" stays as typed).
console = Console(markup=False, emoji=False, highlight=False)
err_console = Console(stderr=True, soft_wrap=True, markup=False, emoji=False, highlight=False)

ProtocolOption = Annotated[
    Path | None,
    typer.Option(
        "--protocol", "-p", metavar="FILE", help="Analysis plan (protocol.toml). Default: the reference study's plan."
    ),
]
QuietOption = Annotated[
    bool, typer.Option("--quiet", "-q", help="Do not show progress (errors and results still print).")
]
SourceArgument = Annotated[
    str,
    typer.Argument(
        metavar="SOURCE",
        help="Cohort folder (CSV or Parquet files), a postgresql:// URL, or a duckdb:/// store from burnout import.",
    ),
]
OUT_HELP = (
    "Output folder: a new or empty folder, or one burnout wrote before (replaced atomically). "
    "burnout never deletes files it did not write."
)
Backend = Literal["duckdb", "spark"]
MaxLineSizeOption = Annotated[
    int | None,
    typer.Option(
        "--max-line-size",
        min=1,
        help="Longest CSV line read, in bytes (default 2,000,000); a longer line is reported, never skipped.",
    ),
]


def _print_warnings(warnings: Sequence[str], notes: Sequence[str] = ()) -> None:
    for w in warnings:
        err_console.print(f"warning: {w}", markup=False, highlight=False)
    for n in notes:
        err_console.print(f"note: {n}", markup=False, highlight=False)


def _fail(message: str, *, code: int = 2) -> NoReturn:
    err_console.print(message, markup=False, highlight=False)
    raise typer.Exit(code)


def _run_guarded(func, *args, nothing_done: str = "Nothing was written. ", **kwargs):
    """Call a core function; our errors become a clean message and exit code 2.

    ``nothing_done`` opens the closing line after data problems, per command
    (``validate`` never writes, so it says nothing of the kind).
    """
    from burnout.errors import BurnoutError, DataError

    try:
        return func(*args, **kwargs)
    except DataError as exc:
        _print_warnings(exc.warnings)
        _fail(f"error: {exc}\n{nothing_done}Fix the problems above and run again.")
    except BurnoutError as exc:
        _fail(f"error: {exc}")
    except OSError as exc:  # a file or folder the user named cannot be read or written
        where = f" ({exc.filename})" if exc.filename else ""
        _fail(f"error: {exc.strerror or exc}{where}; check the path and its permissions and run again")


def _version(value: bool) -> None:
    if value:
        from burnout._version import __version__

        console.print(f"burnout {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show burnout's version and exit.")
    ] = False,
) -> None:
    """Options that come before a command (the app's help text above is what --help shows)."""


@app.command(cls=_Command)
def validate(
    source: SourceArgument,
    protocol: ProtocolOption = None,
    quiet: QuietOption = False,
    max_line_size: MaxLineSizeOption = None,
) -> None:
    """Check a cohort against the data format and summarise it; report every problem found. Writes nothing."""
    from burnout.summary import validate_and_summarize

    progress = None if quiet else err_console
    summary = _run_guarded(
        validate_and_summarize,
        source,
        protocol=protocol,
        progress=progress,
        nothing_done="",
        max_line_bytes=max_line_size,
    )
    _print_warnings(summary.warnings, summary.notes)
    console.print(summary.to_rich())


@app.command(cls=_Command)
def analyze(
    source: SourceArgument,
    out: Annotated[Path, typer.Option("--out", "-o", metavar="FOLDER", help=OUT_HELP)],
    protocol: ProtocolOption = None,
    backend: Annotated[
        str, typer.Option(metavar="ENGINE", help="Relational engine: duckdb (default) or spark.")
    ] = "duckdb",
    spark_master: Annotated[
        str | None, typer.Option(metavar="URL", help="Spark master URL (default local[*]).")
    ] = None,
    quiet: QuietOption = False,
    max_line_size: MaxLineSizeOption = None,
) -> None:
    """Run the whole analysis plan and write results.json and the report to the --out folder."""
    from burnout.analysis import analyze as run_analysis

    if backend not in ("duckdb", "spark"):
        _fail(f"error: --backend must be duckdb or spark, got {backend!r}")
    progress = None if quiet else err_console
    result = _run_guarded(
        run_analysis,
        source,
        protocol=protocol,
        out=out,
        backend=backend,
        spark_master=spark_master,
        progress=progress,
        max_line_bytes=max_line_size,
    )
    _print_warnings(result.warnings, result.notes)
    console.print(result.summary_table())
    console.print(f"Results: {out / 'results.json'}\nReport:  {out / 'report.html'}")


@app.command("import", cls=_Command)
def import_(
    source: Annotated[
        str, typer.Argument(metavar="SOURCE", help="Cohort folder (CSV or Parquet files) to validate and import.")
    ],
    url: Annotated[
        str,
        typer.Argument(
            metavar="URL",
            help="PostgreSQL database (postgresql://user@localhost:5432/clinic) or a DuckDB store (duckdb:///path/cohort.duckdb).",
        ),
    ],
    replace: Annotated[
        bool, typer.Option("--replace", help="Replace the cohort tables if the database has them.")
    ] = False,
    protocol: ProtocolOption = None,
    max_line_size: MaxLineSizeOption = None,
) -> None:
    """Validate a cohort folder and load it into PostgreSQL or a DuckDB store, for `burnout analyze URL`."""
    from burnout.errors import ExistingTablesError
    from burnout.importer import ImportSummary, import_cohort

    def run() -> ImportSummary:
        try:
            return import_cohort(source, url, replace=replace, protocol=protocol, max_line_bytes=max_line_size)
        except ExistingTablesError as exc:  # the library says replace=True; here the fix is --replace
            _fail(f"error: {exc.for_cli()}")

    summary = _run_guarded(run, nothing_done="Nothing was imported. ")
    _print_warnings(summary.warnings)
    rows = ", ".join(f"{name} {n:,} rows" for name, n in summary.rows.items())
    replaced = f" (replaced {', '.join(summary.replaced)})" if summary.replaced else ""
    console.print(f"Imported {rows} into {summary.url}{replaced}")


@app.command(cls=_Command)
def simulate(
    out: Annotated[
        Path,
        typer.Option(
            "--out",
            "-o",
            metavar="FOLDER",
            help="Folder to write the synthetic cohort to: new, empty, or written by burnout before.",
        ),
    ],
    patients: Annotated[
        int | None, typer.Option(metavar="N", help="Patients enrolled (default: sized so 1,642 meet the threshold).")
    ] = None,
    seed: Annotated[int, typer.Option(metavar="N", help="Random seed.")] = 20240917,
    format: Annotated[str, typer.Option("--format", metavar="FORMAT", help="csv or parquet.")] = "csv",  # noqa: A002
) -> None:
    """Write a synthetic cohort calibrated to the published study (the data are not real)."""
    from burnout.simulate import simulate_cohort, write_cohort

    if format not in ("csv", "parquet"):
        _fail(f"error: --format must be csv or parquet, got {format!r}")
    if patients is not None and patients < 1:
        _fail(f"error: --patients must be at least 1, got {patients}")
    from burnout.outdir import check_output_folder

    _run_guarded(check_output_folder, out)  # a bad --out fails before the cohort is simulated
    cohort = simulate_cohort(patients=patients, seed=seed)
    files = _run_guarded(write_cohort, cohort, out, fmt=format)
    console.print(
        f"Wrote a SYNTHETIC cohort (simulated, not real patients) to {out}: {cohort.patients.num_rows:,} patients, "
        f"{cohort.threshold_met:,} of whom met the burnout threshold at baseline (seed {seed}).\n"
        f"Files: {', '.join(f.name for f in files)} ({files[-1].name}: every patient's full follow-up as simulated, "
        "for checking methods; not cohort data, never read by analyze)"
    )


@app.command(cls=_Command)
def survey(
    file: Annotated[
        str, typer.Argument(metavar="FILE", help="Survey answers: a CSV or Parquet file, one row per respondent.")
    ],
    instrument: Annotated[
        str,
        typer.Option(
            "--instrument",
            "-i",
            metavar="NAME|PATH",
            help="A shipped instrument (mbi_gs, mbi_hss, mbi_es, bat23, bat12, olbi, cbi, phq9, gad7) or a definition .toml file.",
        ),
    ],
    out: Annotated[Path, typer.Option("--out", "-o", metavar="FOLDER", help=OUT_HELP)],
    columns: Annotated[
        str | None,
        typer.Option(
            metavar="PATTERN|MAP",
            help='Item columns: a pattern such as "ITEM{n}" or a .toml file with [columns] "1" = "ex01" ... '
            "(default item_1, item_2, ...).",
        ),
    ] = None,
    na: Annotated[
        list[str] | None, typer.Option("--na", metavar="TEXT", help="An extra blank marker such as NA (repeatable).")
    ] = None,
    min_cell_count: Annotated[
        int, typer.Option(min=1, metavar="K", help="Hide counts of 1 to K-1 respondents (default 11).")
    ] = 11,
) -> None:
    """Score a staff survey by an instrument: per subscale n, mean, SD, alpha, omega, bands; results.json and report.html."""
    from burnout.survey import run_survey

    result = _run_guarded(
        run_survey,
        file,
        instrument=instrument,
        out=out,
        columns=columns,
        na=tuple(na or ()),
        min_cell_count=min_cell_count,
    )
    for name, s in result.results["subscales"].items():
        alpha = s["alpha"]["value"]
        shown = "hidden" if s["mean"] is None else f"mean {s['mean']:.2f}, SD {s['sd']:.2f}"
        console.print(
            f"{name}: n {s['n'] if s['n'] is not None else 'hidden'}, {shown}, alpha {'-' if alpha is None else f'{alpha:.3f}'}"
        )
    console.print(f"Results: {out / 'results.json'}\nReport:  {out / 'report.html'}")


@app.command(cls=_Command)
def demo(
    out: Annotated[Path, typer.Option("--out", "-o", metavar="FOLDER", help=OUT_HELP)] = Path("demo-out"),
    seed: Annotated[int, typer.Option(metavar="N", help="Random seed of the synthetic cohort.")] = 20240917,
    quiet: QuietOption = False,
) -> None:
    """Simulate the calibrated synthetic cohort, analyse it, write the report, compare with the study."""
    from burnout.demo import run_demo

    _run_guarded(run_demo, out=out, seed=seed, console=console, progress=None if quiet else err_console)


def main() -> None:
    """Entry point of the ``burnout`` command."""
    from burnout._exit import run_and_exit

    run_and_exit(app)
