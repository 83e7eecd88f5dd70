"""Reading a validated store back (:mod:`burnout.ingest.store` says what it holds).

:func:`stored_cohort` returns the Cohort when the record is as ``burnout import`` wrote
it, every table still has its sums (one scan of all of them, no parsing, no rule) and the
plan's validation options are the import's; else no cohort, and
:func:`burnout.ingest.load_cohort` validates the plain tables as it would a PostgreSQL
database. So a store changed after the import (either kind of table, the record, or a
cohort table added) is validated again: an analysis never reads typed tables that differ
from what was validated, and never ignores an edit to a plain table. DuckDB's ``hash`` is
its own, and may change between versions: a store read by another DuckDB version, or one
of format 3 (before the sums), is checked by the two content fingerprints instead (two
MD5 scans of canonical text: loading a store of 1M patients takes 4.6 s that way against
0.75 s by the sums).

Whenever a store costs more than a matching one (validated again: 9.6 s against 0.86 s at
1M patients; or checked by the fingerprints), the reading carries a note for the user that
says why and what makes the next analysis fast; notes never reach the results.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

import ibis

from burnout.errors import BurnoutError
from burnout.ingest.store import (
    STORE_FORMAT,
    STORE_TABLE,
    TYPED_PREFIX,
    _duckdb_version,
    _record_digest,
    table_sums,
    typed_fingerprint,
)
from burnout.schema import TABLES

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from burnout.ingest.validate import Cohort

__all__ = ["StoreReading", "stored_cohort"]

_PLAN_KEYS: Final = {
    "scheduled_assessments": "[schedule] assessments",
    "scheduled_sessions": "[schedule] sessions",
    "max_missing_items": "[scoring] max_missing_items",
}
"""The validation options a store records, by the plan keys a user sets them with."""


@dataclass(frozen=True)
class StoreReading:
    """What :func:`stored_cohort` found.

    ``cohort`` is None when the store's tables must be validated again; ``note`` says why,
    or why the check was the slow one, and what makes the next analysis fast; ``synthetic``
    keeps the label of simulated data for tables validated again only because the plan's
    options differ (their content is as imported, which a database validation cannot know).
    """

    cohort: Cohort | None
    note: str | None = None
    synthetic: bool = False


def stored_cohort(con: ibis.BaseBackend, url: str, *, options: dict[str, Any]) -> StoreReading:
    """The validated Cohort of a store whose record, content and options match, else none; and the note.

    Raises
    ------
    BurnoutError
        The file is a DuckDB database but not a burnout store (no ``burnout_store``
        table and no cohort tables).
    """
    from burnout.engines import duckdb_table_names
    from burnout.schema import cohort_tables

    existing = duckdb_table_names(con)
    if STORE_TABLE not in existing:
        if not existing & set(TABLES):
            raise BurnoutError(
                f"{url} is a DuckDB database but not a burnout store (no {STORE_TABLE} table, no cohort tables): "
                f"make one with `burnout import COHORT_FOLDER {url}`"
            )
        if any(name.startswith(TYPED_PREFIX) for name in existing):
            return StoreReading(
                None,
                f"{url}: its {STORE_TABLE} record is missing, so its tables were validated again, as they will be on "
                "every analysis; burnout no longer knows it wrote this file and will not replace it: import the "
                "folder into a new file (`burnout import COHORT_FOLDER duckdb:///path/new.duckdb`).",
            )
        return StoreReading(None)  # cohort tables without our record: validated as a database, as asked
    found = con.table(STORE_TABLE).to_pyarrow().to_pylist()
    earlier = found[0].get("format") if len(found) == 1 else None
    if earlier in (1, 2):
        return _validate_again(url, f"it was imported by an earlier burnout (store format {earlier})")
    m = _record(found)
    if m is None:
        return _validate_again(url, f"its {STORE_TABLE} record is not as `burnout import` wrote it")
    rows: dict[str, int] = m["rows"]
    missing = [n for n in rows if n not in existing] + [
        TYPED_PREFIX + n for n in rows if TYPED_PREFIX + n not in existing
    ]
    if missing:
        return _validate_again(url, f"tables it recorded are missing: {', '.join(missing)}")
    added = sorted((existing & set(cohort_tables())) - set(rows))
    if added:  # validated with the rest, not ignored
        return _validate_again(url, f"a cohort table was added after the import: {', '.join(added)}")
    if not _unchanged(con, m, rows):
        return _validate_again(url, "its tables are not as `burnout import` recorded them")
    if m["options"] != options:
        return StoreReading(None, _other_plan(url, m["options"], options), synthetic=m["synthetic"])
    return StoreReading(_cohort(con, url, m, rows), _slow_check(url, m))


def _validate_again(url: str, why: str) -> StoreReading:
    """No cohort: the store's tables are validated as a database's, which every analysis repeats until a new import."""
    return StoreReading(
        None,
        f"{url}: {why}, so its tables were validated again, as they will be on every analysis until it is "
        f"imported again from a folder that holds the data to analyse (`burnout import --replace COHORT_FOLDER {url}`).",
    )


def _other_plan(url: str, stored: dict[str, Any], asked: dict[str, Any]) -> str:
    """The note of a store imported for another plan: which options differ, by their plan keys."""
    differ = [
        f"{_PLAN_KEYS.get(k, k)} {stored.get(k)!r} at the import, {v!r} now"
        for k, v in asked.items()
        if stored.get(k) != v
    ]
    return (
        f"{url} was imported with other validation options than this analysis's plan "
        f"({'; '.join(differ) or 'its record names options this burnout does not set'}), so its tables were "
        "validated again, as they will be on every analysis with this plan. To skip that, import the folder "
        f"again with this plan (`burnout import --replace --protocol PLAN COHORT_FOLDER {url}`; without "
        "--protocol for the reference study's plan), or keep one store per plan."
    )


def _cohort(con: ibis.BaseBackend, url: str, m: dict[str, Any], rows: dict[str, int]) -> Cohort:
    from burnout.ingest.validate import _from_typed

    return _from_typed(
        con,
        {name: con.table(TYPED_PREFIX + name) for name in rows},
        mbi_has_items=m["mbi_has_items"],
        mbi_has_subscales=m["mbi_has_subscales"],
        warnings=m["warnings"],
        source=url,
        files=m["files"],
        fingerprint=m["data_fingerprint"],
        rows=rows,
        file_columns={name: _file_columns(con.table(name)) for name in rows},
        synthetic=m["synthetic"],
    )


def _record(found: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The store's record, parsed; None when it is not one row of format 3 or 4 that parses, or a format-4
    record whose fields are not those its digest was taken of (changed by hand)."""
    if len(found) != 1 or found[0].get("format") not in (3, STORE_FORMAT):
        return None
    raw = found[0]
    try:
        sums = json.loads(raw["table_sums"]) if raw["format"] == STORE_FORMAT else None
        if sums is not None and not (
            isinstance(sums, dict) and sums.get("record") == _record_digest(raw) and isinstance(sums.get("duckdb"), str)
        ):
            return None
        options = json.loads(raw["options"])
        return {
            "options": options if isinstance(options, dict) else {},
            "rows": {str(name): int(n) for name, n in json.loads(raw["rows"]).items()},
            "warnings": tuple(str(w) for w in json.loads(raw["warnings"])),
            "files": {str(k): str(v) for k, v in json.loads(raw["files"]).items()},
            "mbi_has_items": bool(raw["mbi_has_items"]),
            "mbi_has_subscales": bool(raw["mbi_has_subscales"]),
            "data_fingerprint": str(raw["data_fingerprint"]),
            "typed_fingerprint": str(raw["typed_fingerprint"]),
            "synthetic": bool(raw["synthetic"]),
            "table_sums": sums,
        }
    except (TypeError, ValueError, KeyError, AttributeError):
        return None


def _by_sums(m: dict[str, Any]) -> bool:
    """The store's sums are comparable here: format 4, taken by this DuckDB version (its ``hash`` is its own)."""
    return m["table_sums"] is not None and m["table_sums"]["duckdb"] == _duckdb_version()


def _unchanged(con: ibis.BaseBackend, m: dict[str, Any], rows: dict[str, int]) -> bool:
    """Every table (plain and typed) as at the import.

    By the tables' DuckDB hash sums (one scan), else, for a store of format 3 or one read
    by another DuckDB version, by the two content fingerprints (MD5 of canonical text).
    """
    from burnout.ingest.fingerprint import content_fingerprint
    from burnout.instrument import SUBSCALES

    if _by_sums(m):
        db = con.con  # type: ignore[attr-defined]  # ibis's DuckDB backend: the duckdb connection
        return bool(table_sums(db, [*rows, *(TYPED_PREFIX + name for name in rows)]) == m["table_sums"].get("tables"))
    plain = {name: con.table(name) for name in rows}
    if any(c in SUBSCALES and not t[c].type().is_numeric() for t in plain.values() for c in t.columns):
        return False  # a score column retyped by hand: its fingerprint cannot even be taken
    if typed_fingerprint({name: con.table(TYPED_PREFIX + name) for name in rows}) != m["typed_fingerprint"]:
        return False
    return content_fingerprint({name: _file_columns(t) for name, t in plain.items()}) == m["data_fingerprint"]


def _slow_check(url: str, m: dict[str, Any]) -> str | None:
    """The note of a store checked by its fingerprints rather than its sums (None when by the sums)."""
    if _by_sums(m):
        return None
    sums = m["table_sums"]
    by = (
        "an earlier burnout (store format 3)"
        if sums is None
        else f"DuckDB {sums['duckdb']} (this is {_duckdb_version()})"
    )
    return (
        f"{url} was imported by {by}, so it was checked by its content fingerprints, which read every row of "
        "both its copies: slower than the check a store imported by this burnout and DuckDB gets. "
        f"`burnout import --replace COHORT_FOLDER {url}` again makes later analyses of it faster."
    )


def _file_columns(t: ir.Table) -> ir.Table:
    """A plain table as :attr:`Cohort.file_columns`: ``_line`` (the row number) and scores in units."""
    from burnout.instrument import SCALE, SUBSCALES

    cols: dict[str, ir.Value] = {}
    for c in t.columns:
        # stored as exact decimals (10 places) of units / SCALE: units are their nearest integer
        cols[c] = (t[c] * SCALE).round().cast("int64") if c in SUBSCALES else t[c]
    return t.select(_line=(ibis.row_number() + 1).cast("int64"), **cols)
