"""`burnout.analyze`: the whole analysis plan on one cohort, from a notebook or the CLI.

>>> from burnout import analyze                           # doctest: +SKIP
>>> result = analyze("cohort/", out="out/")               # doctest: +SKIP
>>> result                                                # doctest: +SKIP
<Analysis: 395 completers of 1,642 who met the threshold (2,710 patients), plan sha256 3f2a...>
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, NoReturn

from burnout._version import __version__

if TYPE_CHECKING:
    import ibis
    from rich.console import Console
    from rich.table import Table

    from burnout._progress import StageProgress
    from burnout.plan import Protocol

__all__ = ["Analysis", "analyze", "connect", "write_outputs"]


@dataclass(frozen=True)
class Analysis:
    """The result of one analysis: the results.json tree and how it was made.

    ``results`` follows results.md (a public contract); ``to_json()`` is the exact
    text written to results.json. Counts below the plan's min_cell_count are already
    suppressed in it. Nothing here identifies a patient. ``results`` is read-only all
    the way down (dicts and lists that refuse changes, so it still indexes and compares
    like JSON); ``json.loads(analysis.to_json())`` is a copy you can change.
    """

    results: dict[str, Any]
    warnings: tuple[str, ...] = field(default=())
    notes: tuple[str, ...] = field(default=())
    """How the data were read when that cost more than it had to (:attr:`burnout.ingest.Cohort.notes`):
    for the terminal, never in results.json."""

    def __post_init__(self) -> None:
        # deeply read-only, yet still dicts and lists: the report, the demo and callers
        # index and compare the tree like the JSON it is (a tuple would not equal a list)
        object.__setattr__(self, "results", _freeze(self.results))
        object.__setattr__(self, "warnings", tuple(self.warnings))
        object.__setattr__(self, "notes", tuple(self.notes))

    def to_json(self) -> str:
        """results.json text: deterministic for the same input, plan and seed."""
        from burnout.results import dumps

        return dumps(self.results)

    def __repr__(self) -> str:
        f = self.results["flow"]
        sha = self.results["protocol"]["sha256"][:8]

        def c(v: int | None) -> str:
            return "<suppressed>" if v is None else f"{v:,}"

        return (
            f"<Analysis: {c(f['completers'])} completers of {c(f['threshold_met'])} who met the threshold "
            f"({c(f['patients'])} patients), plan sha256 {sha}...>"
        )

    def _repr_html_(self) -> str:
        """The key findings and the patient flow as an HTML table, for a notebook."""
        from html import escape

        table = self.summary_table()
        head = "".join(f"<th>{escape(str(c.header))}</th>" for c in table.columns)
        rows = "".join(
            "<tr>" + "".join(f"<td>{escape(str(cell))}</td>" for cell in cells) + "</tr>"
            for cells in zip(*(c.cells for c in table.columns), strict=True)
        )
        return (
            f"<table><caption>{escape(str(table.title))}</caption><thead><tr>{head}</tr></thead>"
            f"<tbody>{rows}</tbody></table><p>{escape(repr(self))}</p>"
        )

    def summary_table(self) -> Table:
        """The headline figures as a terminal table."""
        from burnout.report.terminal import summary_table

        return summary_table(self.results)


def connect(backend: Literal["duckdb", "spark"] = "duckdb", *, spark_master: str | None = None) -> ibis.BaseBackend:
    """A fresh engine connection: in-memory DuckDB by default (without DuckDB's progress bar, which
    would print amid burnout's own progress in a notebook), or a local Spark session."""
    if backend == "duckdb":
        from burnout.engines import duckdb_in_memory

        return duckdb_in_memory()
    if backend == "spark":
        from burnout.engines.spark import spark_connect

        return spark_connect(master=spark_master)
    from burnout.errors import BurnoutError

    raise BurnoutError(f"unknown backend {backend!r}: use 'duckdb' or 'spark'")


def analyze(
    source: str | os.PathLike[str],
    *,
    protocol: Protocol | str | os.PathLike[str] | None = None,
    out: str | os.PathLike[str] | None = None,
    backend: Literal["duckdb", "spark"] = "duckdb",
    spark_master: str | None = None,
    synthetic: bool = False,
    progress: StageProgress | Console | None = None,
    max_line_bytes: int | None = None,
) -> Analysis:
    """Run the analysis plan on a cohort and, when ``out`` is given, write its outputs.

    Parameters
    ----------
    source
        A cohort folder (CSV or Parquet per the data format) or a ``postgresql://`` URL.
    protocol
        A ``Protocol``, a path to protocol.toml, or None for the reference study's plan.
    out
        Output folder, written atomically (a failed run leaves nothing behind). It
        must be new, empty or written by burnout before (``burnout.outdir``); it is
        checked before any work.
    backend
        The relational engine for files: "duckdb" (default) or "spark".
    synthetic
        Mark every output as synthetic data (the demo does); simulated data (``Cohort.synthetic``) are anyway.
    progress
        Where to show the stages as they run: a Rich console, or a
        ``burnout._progress.StageProgress`` shared with a larger run; None is silent.
    max_line_bytes
        The longest CSV line read (default 2,000,000 bytes, DuckDB's); a longer line
        is reported as a problem, never skipped.

    Raises
    ------
    ProtocolError, DataError
        The plan or the cohort is invalid; nothing is written.
    OutputFolderError
        ``out`` holds files burnout did not write, contains the cohort, or cannot be written.
    """
    from burnout._progress import StageProgress
    from burnout._warm import HELPER_MODULES, helper_process

    sources = _checked_sources(source, out)
    stages = progress if isinstance(progress, StageProgress) else StageProgress(progress, total=3 + (out is not None))
    # the imputation chains and the figures are shared with a second process (burnout._warm)
    with stages, helper_process(*HELPER_MODULES):
        return _analyze(
            source,
            protocol=protocol,
            out=out,
            backend=backend,
            spark_master=spark_master,
            synthetic=synthetic,
            stages=stages,
            sources=sources,
            max_line_bytes=max_line_bytes,
        )


def _checked_sources(
    source: str | os.PathLike[str], out: str | os.PathLike[str] | None
) -> tuple[str | os.PathLike[str], ...]:
    """The cohort's files (none for a database); ``out`` is checked against them before any work."""
    from burnout.engines import is_postgres_url

    sources = () if is_postgres_url(source) else (source,)
    if out is not None:
        from burnout.outdir import check_output_folder

        check_output_folder(out, sources=sources)  # a bad --out fails before any work
    return sources


def _analyze(
    source: str | os.PathLike[str],
    *,
    protocol: Protocol | str | os.PathLike[str] | None,
    out: str | os.PathLike[str] | None,
    backend: Literal["duckdb", "spark"],
    spark_master: str | None,
    synthetic: bool,
    stages: StageProgress,
    sources: tuple[str | os.PathLike[str], ...],
    max_line_bytes: int | None,
) -> Analysis:
    from burnout._warm import REPORT_MODULES, STATISTICS_MODULES, warm_imports
    from burnout.engines import connect_source, is_postgres_url

    warm_imports(*STATISTICS_MODULES, *(REPORT_MODULES if out is not None else ()))
    from burnout.cohort import build_patient_table
    from burnout.ingest import load_cohort
    from burnout.plan import Protocol, load_protocol

    plan = protocol if isinstance(protocol, Protocol) else load_protocol(protocol)
    stages.next("Loading and validating")
    con = connect_source(source, backend=backend, spark_master=spark_master)
    cohort = load_cohort(
        source,
        scheduled_assessments=tuple(plan.schedule.assessments),
        scheduled_sessions=plan.schedule.sessions,
        max_missing_items=plan.scoring.max_missing_items,
        con=con,
        max_line_bytes=max_line_bytes,
        primary=plan.instruments.primary_table,
        definitions=plan.instruments.user_definitions,
    )
    stages.next("Scoring and deriving per-patient flags")
    table = build_patient_table(cohort, plan).cache()
    stages.next("Aggregating")
    from burnout.measures import collect_beyond, collect_measures
    from burnout.results import build_results

    measures = collect_measures(table, plan)
    beyond = collect_beyond(table, cohort, plan)
    meta = {
        "tool": "burnout",
        "version": __version__,
        "synthetic": synthetic or cohort.synthetic,
        "data_fingerprint": cohort.fingerprint,
        "backend": "postgres" if is_postgres_url(source) else backend,
    }
    warnings = [*cohort.warnings, *measures.warnings, *beyond.warnings]
    tree = build_results(measures, plan, meta=meta, warnings=warnings, beyond=beyond)
    result = Analysis(results=tree, warnings=tuple(warnings), notes=cohort.notes)
    if out is not None:
        stages.next("Writing outputs")
        from burnout.results import warnings_log

        # the log is not for publication: it names counts and lines the results hide
        write_outputs(result, Path(out), sources=sources, extras=warnings_log(warnings))
    return result


def write_outputs(
    result: Analysis,
    out: str | os.PathLike[str],
    *,
    extras: Mapping[str, str] | None = None,
    sources: tuple[str | os.PathLike[str], ...] = (),
) -> Path:
    """Write results.json, the report and any ``extras`` (name -> text) into ``out`` atomically.

    ``out`` follows the output-folder rule of :mod:`burnout.outdir` (``sources``: the
    folders this run read, which ``out`` must not be or contain): it is built in a
    temporary sibling folder with a manifest and swapped in only when complete, and an
    existing ``out`` is replaced only when burnout wrote it. Returns ``out``.
    """
    from burnout.outdir import write_output_folder

    def write(folder: Path) -> None:
        (folder / "results.json").write_text(result.to_json(), encoding="utf-8")
        from burnout.report import write_report

        write_report(result.results, folder)
        for name, text in (extras or {}).items():
            (folder / name).write_text(text, encoding="utf-8")

    return write_output_folder(out, write, sources=sources)


_READ_ONLY = "Analysis.results is read-only; for a copy you can change, use json.loads(analysis.to_json())"


class _ReadOnlyDict(dict):
    """A dict that refuses changes (so ``json``, ``==`` and ``isinstance(x, dict)`` still work)."""

    __slots__ = ()

    def _refuse(self, *_args: object, **_kwargs: object) -> NoReturn:
        raise TypeError(_READ_ONLY)

    __setitem__ = __delitem__ = __ior__ = clear = pop = popitem = setdefault = update = _refuse  # type: ignore[assignment]  # read-only view: every mutator refuses

    def __reduce__(self) -> tuple[type, tuple[dict[Any, Any]]]:
        return (type(self), (dict(self),))


class _ReadOnlyList(list):
    """A list that refuses changes (equal to the list it was made from, unlike a tuple)."""

    __slots__ = ()

    def _refuse(self, *_args: object, **_kwargs: object) -> NoReturn:
        raise TypeError(_READ_ONLY)

    __setitem__ = __delitem__ = __iadd__ = __imul__ = _refuse  # type: ignore[assignment]  # read-only view: every mutator refuses
    append = extend = insert = pop = remove = clear = sort = reverse = _refuse  # type: ignore[assignment]  # read-only view: every mutator refuses

    def __reduce__(self) -> tuple[type, tuple[list[Any]]]:
        return (type(self), (list(self),))


def _freeze(value: Any) -> Any:
    if isinstance(value, dict):
        return _ReadOnlyDict((k, _freeze(v)) for k, v in value.items())
    if isinstance(value, list):
        return _ReadOnlyList(_freeze(v) for v in value)
    if type(value) is tuple:
        return tuple(_freeze(v) for v in value)
    return value
