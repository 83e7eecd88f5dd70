"""Load stage: cohort files already validated by DuckDB, read again by another engine. (reread)."""

from __future__ import annotations

import uuid
from pathlib import Path

import ibis
import ibis.expr.types as ir

from burnout.ingest.loaded import _check_header, _Loaded
from burnout.ingest.raw import RawCohort, keep_type
from burnout.ingest.read import read_cohort

__all__ = ["read_checked_files"]


def read_checked_files(checked: RawCohort, *, con: ibis.BaseBackend) -> RawCohort:
    """The cohort files that DuckDB read as ``checked`` and validated, read again by the engine ``con``.

    For engines that read files (Spark): the same tables as :func:`read_cohort`
    (documented columns typed as :func:`keep_type` says), parsed by the engine from the
    same files, so no row passes through Python; the headers and whether a CSV holds
    quotes come from ``checked`` (the files are not scanned again). ``_line`` is null:
    line numbers come from the DuckDB validation that must precede this. Other
    engines get :func:`read_cohort`'s copy. On a Spark cluster the folder must be
    readable at the same path by every executor (a shared file system); ``local[*]``
    needs nothing more.
    """
    if getattr(con, "name", None) != "pyspark":
        return read_cohort(checked.source, con=con, required=checked.files.keys())  # the tables validated
    folder = Path(checked.source)
    session = con._session
    token = uuid.uuid4().hex[:10]
    tables: dict[str, ir.Table] = {}
    owned: list[tuple[str, str]] = []
    for name, display in checked.files.items():
        path = folder / display
        view = f"burnout_raw_{token}_{name}"
        if display.endswith(".csv"):
            header = list(checked.columns[name])
            keep = _check_header(header, display, name, _Loaded(), line=1)  # reported already
            schema = ", ".join(f"`c{i}` STRING" for i in range(len(header)))
            df = session.read.csv(
                str(path.resolve()),
                schema=schema,
                header=True,
                enforceSchema=True,
                sep=",",
                quote='"',
                escape='"',
                encoding="UTF-8",
                # a quoted cell may hold a line break only when the file has quotes;
                # otherwise the file is read in parallel pieces
                multiLine=checked.quoted.get(name, True),
                mode="FAILFAST",
            )
            df.select(*(df[f"c{i}"].alias(col) for i, col in keep.items())).createOrReplaceTempView(view)
            t = con.table(view)
            cols = {col: t[col] for col in keep.values()}
        else:
            session.read.parquet(str(path.resolve())).createOrReplaceTempView(view)
            t = con.table(view)
            keep = _check_header(list(t.columns), display, name, _Loaded(), line=None)  # reported already
            cols = {col: keep_type(t[col]) for col in keep.values()}
        owned.append(("VIEW", view))
        tables[name] = t.select(_line=ibis.null("int64"), **cols)
    return RawCohort(
        con=con,
        tables=tables,
        files=dict(checked.files),
        source=checked.source,
        formats=dict(checked.formats),
        owned=tuple(owned),
    )
