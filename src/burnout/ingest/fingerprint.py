"""The data fingerprint: one hash of a validated cohort's content, whatever its source.

results.json's ``meta.data_fingerprint`` says which data an analysis saw. It is
computed from the validated, typed values, not from file bytes, so the same cohort
gives the same fingerprint from a CSV folder, a Parquet folder or a PostgreSQL
database, on DuckDB, Spark or PostgreSQL; row order, column order, quoting, CRLF line
ends and a byte-order mark do not change it; any changed cell does.

>>> from burnout.ingest import load_cohort                      # doctest: +SKIP
>>> content_fingerprint(load_cohort("cohort/").file_columns)      # doctest: +SKIP
'5d1c...'
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import TYPE_CHECKING

import ibis

from burnout.engines import sql_text

if TYPE_CHECKING:
    import ibis.expr.types as ir

__all__ = ["content_fingerprint"]

# Each row's MD5 (hex) is read as CHUNKS integers of CHUNK_HEX hex digits, and each is
# summed over the rows. A sum of 32-bit numbers stays within int64 for up to 2**31 rows
# per table (on every engine, also Spark's ANSI mode); the four sums keep all 128 bits.
CHUNKS = 4
CHUNK_HEX = 8
_SEP = "|"
_NULL = "\\N"  # a backslash is doubled in text values, so this reads only as "null"
_BLANK_ITEM = 7  # items are validated 0-6 (MBI-GS) or 0-3 (PHQ-9): 7 is a free base-8 digit
_FRACTION_BITS = 62  # doses >= 2**-10 mg are written exactly: floor and 62 fraction bits


@ibis.udf.scalar.builtin(name="md5")
def _md5(text: str) -> str:  # type: ignore[empty-body]  # an ibis builtin UDF: the engine supplies the body
    """MD5 of the UTF-8 text as 32 lower-case hex digits (DuckDB, PostgreSQL and Spark alike)."""


@ibis.udf.scalar.builtin(name="conv")
def _spark_conv(number: str, from_base: int, to_base: int) -> str:  # type: ignore[empty-body]  # an ibis builtin UDF: the engine supplies the body
    """Spark's base conversion (hex digits to decimal text)."""


def content_fingerprint(tables: Mapping[str, ir.Table]) -> str:
    """SHA-256 (hex) identifying the content of a validated cohort, computed in its engine.

    Parameters
    ----------
    tables : Mapping[str, ibis.Table]
        Table name (``patients``, ``mbi_gs``, ``sessions``, ``phq9``) to the validated
        typed columns of the source (:attr:`burnout.ingest.Cohort.file_columns`);
        ``_line`` and any column outside the data format are ignored.

    Returns
    -------
    str
        64 hex digits.

    Notes
    -----
    Which documented columns the source has is part of the content (an optional
    column left out is not the same as one left blank: validation reads a blank sex
    as "unknown"). Each row is written as canonical text, every documented column in
    sorted name order (one the source lacks as null) separated by ``|``, except that
    the questionnaire items (``item_1`` ..., validated 0-6) come first as one integer,
    ``sum(item_k * 8**(k - 1))`` with a blank item as 7 (a third of the text to
    write and hash). Integers are written in decimal; booleans ``t``/``f``; dates as the
    integer YYYYMMDD; floats (``dose_mg``) as their integer part and the exact
    62-bit binary fraction (so no engine's float formatting takes part); text with
    ``\\`` and ``|`` escaped by a backslash; null as ``\\N``. Per table, one pass sums
    the four 32-bit pieces of each row's MD5 (an order-independent multiset hash) and
    counts the rows; the fingerprint is SHA-256 over ``name columns rows sum1 sum2
    sum3 sum4`` lines in table order (``columns``: the source's documented columns,
    sorted, joined by commas). The four sums identify data; they are not a defence against
    someone who crafts rows to collide.
    """
    from burnout.schema import cohort_tables, table_columns

    names = [n for n in cohort_tables() if n in tables]
    if not names:
        return hashlib.sha256(b"").hexdigest()
    texts = {name: tables[name].select(_x=_row_text(tables[name], table_columns(name))) for name in names}
    engine = tables[names[0]]._find_backend().name
    rows = _duckdb_sums(texts) if engine == "duckdb" else _hex_sums(texts, engine=engine)
    lines = []
    for name in names:
        n, sums = rows[name]
        present = ",".join(sorted(c for c in table_columns(name) if c in tables[name].columns))
        lines.append(" ".join([name, present, str(n), *map(str, sums)]) + "\n")
    return hashlib.sha256("".join(lines).encode()).hexdigest()


def _row_text(t: ir.Table, columns: tuple[str, ...]) -> ir.StringValue:
    """A row as the canonical text the fingerprint hashes (see :func:`content_fingerprint`)."""
    items = [c for c in columns if c.startswith("item_")]  # in order: item_1, item_2, ...
    texts = [_packed_items(t, items)] if items else []
    texts += [_canonical(t[c]) if c in t.columns else ibis.literal(_NULL) for c in sorted(columns) if c not in items]
    return ibis.literal(_SEP).join(texts)


def _hex_sums(texts: Mapping[str, ir.Table], *, engine: str) -> dict[str, tuple[int, list[int]]]:
    """Rows and the CHUNKS sums of each table, from the MD5's hex digits (any engine)."""
    parts = []
    for name, t in texts.items():
        hashed = t.select(_h=_md5(t._x))
        sums = {f"_s{i}": _hex_value(hashed._h, i * CHUNK_HEX, CHUNK_HEX, engine=engine).sum() for i in range(CHUNKS)}
        parts.append(hashed.aggregate(_table=ibis.literal(name), _n=hashed.count(), **sums))
    got = ibis.union(*parts, distinct=False).to_pyarrow().to_pylist()
    return {r["_table"]: (int(r["_n"]), [int(r[f"_s{i}"] or 0) for i in range(CHUNKS)]) for r in got}


def _duckdb_sums(texts: Mapping[str, ir.Table]) -> dict[str, tuple[int, list[int]]]:
    """:func:`_hex_sums` on DuckDB at a third of the CPU: from each MD5 as one number.

    DuckDB's ``md5_number`` is the digest's 16 bytes read little-endian; cutting it into
    the hex route's 32-bit pieces per row would need byte swaps, so each byte's sum over
    the rows is taken instead (16 shifts and masks of two 64-bit halves), and each piece's
    sum is put together from its four bytes' sums in Python: the same integers, since
    sum(piece) = sum over its bytes b of 256**(3 - b) * sum(byte b) (the hex text reads
    byte 0 first).
    """
    con = next(iter(texts.values()))._find_backend()
    byte_sums = ", ".join(
        f"sum(({'lo' if j < 8 else 'hi'} >> {8 * (j % 8)}) & 255) AS _b{j}" for j in range(CHUNKS * CHUNK_HEX // 2)
    )
    low = 2**64 - 1
    # raw SQL around Ibis's: Ibis has no 128-bit unsigned integer type for md5_number
    selects = [
        f"SELECT '{sql_text(name)}' AS _table, count(*) AS _n, {byte_sums} FROM ("
        f"SELECT CAST(h & {low} AS UBIGINT) AS lo, CAST(h >> 64 AS UBIGINT) AS hi FROM ("
        f"SELECT md5_number(_x) AS h FROM ({con.compile(t)})))"
        for name, t in texts.items()
    ]
    rows = con.raw_sql(" UNION ALL ".join(selects)).fetchall()
    out: dict[str, tuple[int, list[int]]] = {}
    for table, n, *bytes_ in rows:
        sums = [sum(int(bytes_[4 * i + b] or 0) * 256 ** (3 - b) for b in range(4)) for i in range(CHUNKS)]
        out[table] = (int(n), sums)
    return out


def _packed_items(t: ir.Table, items: list[str]) -> ir.StringValue:
    """The items of a row as one integer in base 8 (item_1 the lowest digit; blank or absent = 7)."""
    absent = sum(_BLANK_ITEM * 8**k for k, c in enumerate(items) if c not in t.columns)
    packed: ir.IntegerValue = ibis.literal(absent, type="int64")
    for k, c in enumerate(items):
        if c in t.columns:
            packed = packed + t[c].cast("int64").fill_null(_BLANK_ITEM) * ibis.literal(8**k, type="int64")
    return packed.cast("string")


def _canonical(col: ir.Value) -> ir.StringValue:
    """The value as text that every engine writes alike; null as ``\\N``."""
    typ = col.type()
    if typ.is_boolean():
        text = ibis.cases((col.isnull(), ibis.null("string")), (col, "t"), else_="f")  # a null condition is not false
    elif typ.is_integer():
        text = col.cast("int64").cast("string")
    elif typ.is_date():
        text = (col.year().cast("int64") * 10000 + col.month() * 100 + col.day()).cast("string")
    elif typ.is_floating():
        whole = col.floor().cast("int64")
        fraction = ((col - whole) * float(2**_FRACTION_BITS)).cast("int64")
        exact = whole.cast("string") + "~" + fraction.cast("string")
        # only absurd doses (> 2**52) fall back to the engine's own float text
        text = ibis.ifelse(col.abs() < float(2**52), exact, col.cast("string"))
    elif typ.is_string():
        text = col.replace("\\", "\\\\").replace(_SEP, "\\" + _SEP)
    else:  # not produced by validation; still canonical within one engine
        text = col.cast("string").replace("\\", "\\\\").replace(_SEP, "\\" + _SEP)
    return text.fill_null(_NULL)


def _hex_value(digest: ir.StringValue, start: int, length: int, *, engine: str) -> ir.IntegerValue:
    """The integer written by ``length`` lower-case hex digits of ``digest`` from ``start`` (0-based).

    The same number on every engine, by the cheapest route each has: DuckDB casts
    ``0x`` text, Spark converts the base; others add up the digits' character codes
    (about twice as slow on DuckDB, measured).
    """
    piece = digest.substr(start, length)
    if engine == "duckdb":
        return ("0x" + piece).cast("int64")
    if engine == "pyspark":
        return _spark_conv(piece, 16, 10).cast("int64")
    value: ir.IntegerValue = ibis.literal(0, type="int64")
    for i in range(start, start + length):
        code = digest.substr(i, 1).ascii_str().cast("int64")
        value = value * 16 + ibis.ifelse(code > 57, code - 87, code - 48)  # '0'-'9' = 48-57, 'a'-'f' = 97-102
    return value
