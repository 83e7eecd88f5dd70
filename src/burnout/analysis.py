"""`burnout.analyze`: the whole analysis plan on one cohort, from a notebook or the CLI.

>>> from burnout import analyze                           # doctest: +SKIP
>>> result = analyze("cohort/", out="out/")               # doctest: +SKIP
>>> result                                                # doctest: +SKIP
<Analysis: 395 completers of 1,642 who met the threshold (2,710 patients), plan sha256 3f2a...>
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from burnout import __version__

if TYPE_CHECKING:
    import ibis
    from rich.console import Console
    from rich.table import Table

    from burnout.protocol import Protocol

__all__ = ["Analysis", "analyze", "connect", "write_outputs"]


@dataclass(frozen=True)
class Analysis:
    """The result of one analysis: the results.json tree and how it was made.

    ``results`` follows results.md (a public contract); ``to_json()`` is the exact
    text written to results.json. Counts below the plan's min_cell_count are already
    suppressed in it. Nothing here identifies a patient.
    """

    results: dict[str, Any]
    warnings: tuple[str, ...] = field(default=())

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

    def summary_table(self) -> Table:
        """The headline figures as a terminal table."""
        from burnout.render_text import summary_table

        return summary_table(self.results)


def connect(backend: Literal["duckdb", "spark"] = "duckdb", *, spark_master: str | None = None) -> ibis.BaseBackend:
    """A fresh engine connection: in-memory DuckDB by default, or a local Spark session."""
    import ibis

    if backend == "duckdb":
        return ibis.duckdb.connect()
    if backend == "spark":
        from burnout._spark import spark_connect

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
    progress: Console | None = None,
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
        Output folder; written atomically (a failed run leaves nothing behind).
    backend
        The relational engine for files: "duckdb" (default) or "spark".
    synthetic
        Mark every output as synthetic data (the demo does).

    Raises
    ------
    ProtocolError, DataError
        The plan or the cohort is invalid; nothing is written.
    """
    from burnout._warm import REPORT_MODULES, STATISTICS_MODULES, warm_imports

    warm_imports(*STATISTICS_MODULES, *(REPORT_MODULES if out is not None else ()))
    from burnout.cohort import build_patient_table
    from burnout.protocol import Protocol, load_protocol
    from burnout.validate import load_cohort

    plan = protocol if isinstance(protocol, Protocol) else load_protocol(protocol)
    steps = ["Loading and validating", "Scoring and deriving per-patient flags", "Aggregating", "Writing outputs"]

    def step(i: int) -> None:
        if progress is not None:
            progress.log(f"[{i + 1}/{len(steps)}] {steps[i]}")

    step(0)
    con = _connect_for(source, backend=backend, spark_master=spark_master)
    cohort = load_cohort(
        source,
        scheduled_assessments=tuple(plan.schedule.assessments),
        scheduled_sessions=plan.schedule.sessions,
        max_missing_items=plan.scoring.max_missing_items,
        con=con,
        max_line_bytes=max_line_bytes,
    )
    step(1)
    table = build_patient_table(cohort, plan).cache()
    step(2)
    from burnout.beyond import collect_beyond
    from burnout.measures import collect_measures
    from burnout.results import build_results

    measures = collect_measures(table, plan)
    beyond = collect_beyond(table, cohort, plan)
    meta = {
        "tool": "burnout",
        "version": __version__,
        "synthetic": synthetic,
        "data_fingerprint": cohort.fingerprint,
        "backend": "postgres" if _is_postgres(source) else backend,
    }
    warnings = [*cohort.warnings, *measures.warnings, *beyond.warnings]
    tree = build_results(measures, plan, meta=meta, warnings=warnings, beyond=beyond)
    result = Analysis(results=tree, warnings=tuple(warnings))
    if out is not None:
        step(3)
        write_outputs(result, Path(out))
    return result


def _is_postgres(source: str | os.PathLike[str]) -> bool:
    return isinstance(source, str) and source.startswith(("postgresql://", "postgres://"))


def _connect_for(source: str | os.PathLike[str], *, backend: str, spark_master: str | None) -> ibis.BaseBackend:
    if _is_postgres(source):
        if backend != "duckdb":
            from burnout.errors import BurnoutError

            raise BurnoutError(
                f"backend {backend!r} reads cohort folders; a postgresql:// source is analysed in PostgreSQL "
                "itself: leave out --backend"
            )
        from burnout._postgres import postgres_connect

        return postgres_connect(str(source))
    return connect(backend, spark_master=spark_master)  # type: ignore[arg-type]


def write_outputs(result: Analysis, out: Path, *, extras: dict[str, str] | None = None) -> None:
    """Write results.json, the report and any ``extras`` (name -> text) into ``out`` atomically.

    Everything is written into a temporary sibling folder first, then moved into
    place with a rename; an existing ``out`` is replaced only after the new one is
    complete.
    """
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        (tmp / "results.json").write_text(result.to_json(), encoding="utf-8")
        from burnout.report import write_report

        write_report(result.results, tmp)
        for name, text in (extras or {}).items():
            (tmp / name).write_text(text, encoding="utf-8")
        old = None
        if out.exists():
            old = out.with_name(f".{out.name}.old-{os.getpid()}")
            out.rename(old)
        tmp.rename(out)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
