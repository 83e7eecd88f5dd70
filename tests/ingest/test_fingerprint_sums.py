"""The fingerprint's per-table sums (ingest/fingerprint.py): DuckDB's route from ``md5_number``
byte sums gives the integers of the hex-digit route every engine takes, and of Python's hashlib."""

from __future__ import annotations

import hashlib

import ibis
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from burnout.ingest.fingerprint import CHUNK_HEX, CHUNKS, _duckdb_sums, _hex_sums


def _python_sums(texts: list[str]) -> list[int]:
    """Each 8-hex-digit piece of each text's MD5, summed over the texts (the definition)."""
    digests = [hashlib.md5(t.encode()).hexdigest() for t in texts]
    return [sum(int(d[i * CHUNK_HEX : (i + 1) * CHUNK_HEX], 16) for d in digests) for i in range(CHUNKS)]


@settings(max_examples=25, deadline=None)
@given(st.lists(st.text(min_size=0, max_size=40), min_size=0, max_size=60))
def test_duckdb_byte_sums_against_hex_route_and_hashlib(texts: list[str]) -> None:
    con = ibis.duckdb.connect()
    table = con.create_table("rows_", pa.table({"_x": pa.array(texts, pa.string())}))
    by_bytes = _duckdb_sums({"t": table})
    by_hex = _hex_sums({"t": table}, engine="duckdb")
    assert by_bytes == by_hex == {"t": (len(texts), _python_sums(texts))}


def test_duckdb_byte_sums_of_two_tables_and_an_empty_one() -> None:
    con = ibis.duckdb.connect()
    one = con.create_table("one", pa.table({"_x": ["a", "b|c", "\\N"]}))
    empty = con.create_table("empty", pa.table({"_x": pa.array([], pa.string())}))
    got = _duckdb_sums({"one": one, "it's empty": empty})
    assert got == {"one": (3, _python_sums(["a", "b|c", "\\N"])), "it's empty": (0, [0, 0, 0, 0])}
