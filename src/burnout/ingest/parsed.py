"""Validate stage: the parse of one table, materialised once in the engine. (parsed).

Every table validation and the :class:`~burnout.ingest.Cohort` use is a selection of
that one cached table: the cells as written, their typed values and a flag per cell
that breaks its column's rule (:mod:`burnout.ingest.columns`).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import ibis
import ibis.expr.types as ir

from burnout.ingest.columns import _parsers, _Rule
from burnout.ingest.parsers import _Parsed, _trim, _typed_column_names
from burnout.ingest.raw import _as_text
from burnout.schema import table_columns

_REQUIRED_CELLS = frozenset({"after_session", "session"})


@dataclass
class _Scratch:
    """Engine objects made while validating: views to drop at the end, cached tables to
    release if validation fails (a valid cohort's typed tables select from them)."""

    con: ibis.BaseBackend
    token: str = field(default_factory=lambda: uuid.uuid4().hex[:10])
    views: list[str] = field(default_factory=list)
    tables: list[ir.Table] = field(default_factory=list)


@contextmanager
def _scratch(con: ibis.BaseBackend) -> Iterator[_Scratch]:
    scratch = _Scratch(con)
    try:
        yield scratch
    except BaseException:
        for table in scratch.tables:
            table.release()
        raise
    finally:
        for view in reversed(scratch.views):
            con.drop_view(view, force=True)


@dataclass(frozen=True)
class _ParsedTable:
    name: str
    present: frozenset[str]  # documented columns in the source
    t: ir.Table  # _line, typed columns, a <col>__b flag per column present
    text: ir.Table  # view: _line, each column as written, <col>__t trimmed text
    screens: dict[str, tuple[ir.Value, int | None, int | None]]  # see _Parsed.screen
    valid: ir.Table  # _line and the typed columns, for use once every cell has passed

    def typed(self) -> ir.Table:
        """The Cohort table: the typed columns of docs/architecture.md."""
        return self.valid.select(*_typed_column_names(self.name))

    def file_columns(self) -> ir.Table:
        """``_line`` and every documented column present in the source, typed."""
        return self.valid.select("_line", *(c for c in table_columns(self.name) if c in self.present))


def _parsed_table(scratch: _Scratch, name: str, t: ir.Table) -> _ParsedTable:
    """Materialise (``Table.cache``) the parse of one table.

    Every table returned is a selection of the one materialised table (which
    ``scratch.tables`` gets).
    """
    con = scratch.con
    present = [c for c in table_columns(name) if c in t.columns]
    parsers = _parsers(name, try_cast=con.name != "postgres")
    natives = {c: rule.typed for c, rule in parsers.items() if rule.typed is not None}
    direct = {c for c in present if c in natives and natives[c](t[c]) is not None}
    text = _text_view(scratch, name, t, present, direct)
    cached = _materialise(scratch, text, parsers, present, direct)
    cols = _typed_columns(cached, parsers, natives, present, direct)
    out = cached.select(**cols, **{f"{c}__n": cached[f"{c}__n"] for c in direct})
    screens: dict[str, tuple[ir.Value, int | None, int | None]] = {}
    for col in direct - _REQUIRED_CELLS:
        screen = _typed_parse(natives[col], out[f"{col}__n"]).screen
        if screen is not None:
            screens[col] = screen
    valid = cached.select(
        **{
            c: (_typed_parse(natives[c], cached[f"{c}__n"]).valid if c in direct else v)
            for c, v in cols.items()
            if not c.endswith("__b")
        }
    )
    if "serious_adverse_event" in direct:
        valid = valid.mutate(serious_adverse_event=valid.serious_adverse_event.fill_null(False))
    return _ParsedTable(name=name, present=frozenset(present), t=out, text=text, screens=screens, valid=valid)


def _text_view(scratch: _Scratch, name: str, t: ir.Table, present: list[str], direct: set[str]) -> ir.Table:
    """The view of the cells as written, each text cell trimmed as ``<col>__t``, each typed one as ``<col>__n``.

    A view, so that Ibis does not inline it into every parser, which would make the SQL
    grow with each use.
    """
    con = scratch.con
    written = {c: (t[c] if t[c].type().is_string() else _as_text(t[c])) for c in present}
    text = t.select(
        _line=t._line.cast("int64"),
        **written,
        **{f"{c}__t": _trim(written[c], engine=con.name) for c in present if c not in direct},
        **{f"{c}__n": t[c] for c in direct},
    )
    scratch.views.append(f"burnout_text_{scratch.token}_{name}")
    return con.create_view(scratch.views[-1], text)


def _materialise(
    scratch: _Scratch, text: ir.Table, parsers: dict[str, _Rule], present: list[str], direct: set[str]
) -> ir.Table:
    """The one cached table: line, trimmed id, the value and flag of each text cell, and
    the typed cell itself where the source had the type (its value and flag are cheap
    range tests, recomputed on read instead of stored: ~40% less to materialise)."""
    stored: dict[str, ir.Value] = {"_line": text._line}
    if "patient_id" in present:
        stored["patient_id"] = text["patient_id__t"]
    for col, rule in parsers.items():
        if col in direct:
            stored[f"{col}__n"] = text[f"{col}__n"]
        elif col in present:
            parsed = rule.text(text[f"{col}__t"], text[col])
            stored[col] = parsed.value
            blank = text[f"{col}__t"].isnull()
            stored[f"{col}__b"] = (blank | parsed.bad) if col in _REQUIRED_CELLS else parsed.bad.fill_null(False)
    cached = text.select(**stored).cache()
    scratch.tables.append(cached)
    return cached


def _typed_columns(
    cached: ir.Table,
    parsers: dict[str, _Rule],
    natives: dict[str, Callable[[ir.Value], _Parsed | None]],
    present: list[str],
    direct: set[str],
) -> dict[str, ir.Value]:
    """Line, id, each column's typed value (null when absent) and its ``<col>__b`` flag."""
    cols: dict[str, ir.Value] = {
        "_line": cached._line,
        "patient_id": cached.patient_id if "patient_id" in present else ibis.null("string"),
    }
    for col, rule in parsers.items():
        if col in direct:
            cell = cached[f"{col}__n"]
            parsed = _typed_parse(natives[col], cell)
            value = parsed.value
            bad = (cell.isnull() | parsed.bad) if col in _REQUIRED_CELLS else parsed.bad.fill_null(False)
        elif col in present:
            value, bad = cached[col], cached[f"{col}__b"]
        else:
            value, bad = ibis.null(rule.text(ibis.null("string"), ibis.null("string")).value.type()), None
        cols[col] = value.fill_null(False) if col == "serious_adverse_event" else value
        if bad is not None:
            cols[f"{col}__b"] = bad
    return cols


def _typed_parse(parse: Callable[[ir.Value], _Parsed | None], cell: ir.Value) -> _Parsed:
    """A typed parser's parse of a cell of a type it takes (``direct`` columns only)."""
    parsed = parse(cell)
    if parsed is None:  # not reached: a column is direct when its typed parser takes its type
        raise TypeError(f"no typed parser for a {cell.type()} cell")
    return parsed
