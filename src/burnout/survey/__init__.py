"""``burnout survey``: a cross-sectional staff survey scored by any instrument definition.

Rows are respondents (an id column may be present and is never read or written);
``columns`` maps item positions to the file's columns. The output folder gets
``results.json`` (per scale: n, mean, SD, Cronbach's alpha with Feldt CI, McDonald's
omega where one factor fits, item blanks and floor/ceiling, the published cut-off
bands and a histogram, every count through `burnout.privacy.Publisher`) and a
self-contained ``report.html``. Bad input writes nothing and lists every problem.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from burnout.errors import show_value
from burnout.instruments import (
    Instrument,
    InstrumentError,
    is_definition_path,
    load_instrument,
    shipped_instruments,
)
from burnout.outdir import check_output_folder, write_output_folder
from burnout.privacy import Publisher
from burnout.survey.read import ColumnsError, column_map, read_survey
from burnout.survey.report import render_html
from burnout.survey.results import SCHEMA, build_results
from burnout.survey.score import aggregate

__all__ = ["SCHEMA", "ColumnsError", "SurveyResult", "run_survey"]


@dataclass(frozen=True)
class SurveyResult:
    """What ``run_survey`` wrote: the results tree and the output folder."""

    results: dict[str, Any]
    out: Path

    def __repr__(self) -> str:
        inst = self.results["instrument"]["name"]
        return f"<SurveyResult: {inst}, {self.results['respondents']} respondents, written to {self.out}>"


def run_survey(
    file: str | os.PathLike[str],
    *,
    instrument: str | Path | Instrument,
    out: str | os.PathLike[str],
    columns: str | None = None,
    na: tuple[str, ...] = (),
    min_cell_count: int = 11,
    confidence: float = 0.95,
) -> SurveyResult:
    """Score ``file`` by ``instrument`` and write ``out``/results.json and report.html atomically."""
    inst = instrument if isinstance(instrument, Instrument) else _read_instrument(instrument)
    check_output_folder(out, sources=(file,))  # a bad --out fails before any reading
    mapping = column_map(columns, inst)
    data = read_survey(file, inst, mapping, na=tuple(na))
    pub = Publisher(min_cell_count=min_cell_count, confidence=confidence)
    aggs = aggregate(data.table, inst, data.columns)
    source = {"file": data.file, "columns": {str(p): c for p, c in mapping.items()}, "na": list(na)}
    results = build_results(inst, aggs, pub=pub, source=source)
    text = json.dumps(results, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    html = render_html(results)

    def write(folder: Path) -> None:
        (folder / "results.json").write_text(text, encoding="utf-8")
        (folder / "report.html").write_text(html, encoding="utf-8")

    target = write_output_folder(out, write, sources=(file,))
    return SurveyResult(results=results, out=target)


def _read_instrument(name_or_path: str | Path) -> Instrument:
    """A shipped instrument, or a user's definition file whose ``name`` is its own.

    A file named as a shipped instrument would publish results under that name though
    scored by other rules; ``analyze`` refuses it too (its cohort table would clash).
    """
    inst = load_instrument(name_or_path)
    if is_definition_path(name_or_path) and inst.name in shipped_instruments():
        message = (
            f"impossible value for name: got {show_value(inst.name)}, a shipped instrument's name; "
            f"give your definition a name of its own, or use the shipped {inst.name} by its name"
        )
        raise InstrumentError([message], source=str(name_or_path))
    return inst
