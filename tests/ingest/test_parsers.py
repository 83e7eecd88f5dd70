"""Cell parsers (ingest/parsers.py) against Python's own reading of the same text."""

from __future__ import annotations

import datetime
import re
from fractions import Fraction

import ibis
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from burnout.ingest.parsers import _date, _int, _trim, _units
from burnout.instrument import SCALE

DATE_CASES = [
    "2024-02-29",
    "2023-02-29",
    "2000-02-29",
    "1900-02-29",
    "2024-04-31",
    "2024-04-30",
    "2024-13-01",
    "2024-00-10",
    "2024-01-00",
    "2024-01-32",
    "0000-01-01",
    "0001-01-01",
    "2024-1-01",
    "24-01-01",
    "2024/01/01",
    "2024-01-01T00:00",
    " 2024-01-01",
    "9999-12-31",
]


def _python_date(text: str) -> datetime.date | None:
    if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text.strip()):
        return None
    try:
        return datetime.date.fromisoformat(text.strip())
    except ValueError:
        return None


INT_CASES = [
    "0",
    "6",
    "7",
    "-1",
    "+3",
    "03",
    "3.0",
    "3.00",
    "3.5",
    "4,5",
    "1e0",
    "0x3",
    " 4 ",
    "\t5",
    "2\n",
    "4 4",
    "",
    " ",
    "99999999999999999999",
]


@settings(max_examples=30, deadline=None)
@given(st.lists(st.decimals(min_value=0, max_value=6, places=5, allow_nan=False), min_size=1, max_size=50))
def test_subscale_units_against_fraction_property(values) -> None:
    """Any decimal 0-6 with up to 5 places becomes exactly value * SCALE units (tolerance 0)."""
    texts = [str(v) for v in values]
    t = ibis.memtable({"x": texts}, schema={"x": "string"})
    parsed = _units(t.x, 6)
    got = t.select(u=parsed.value, b=parsed.bad).to_pyarrow().to_pylist()
    assert [r["u"] for r in got] == [Fraction(x) * SCALE for x in texts]
    assert not any(r["b"] for r in got)


@pytest.mark.parametrize("try_cast", [True, False])
def test_date_parser_against_python_datetime(try_cast: bool) -> None:
    """Both paths (engine cast on DuckDB/Spark, arithmetic on PostgreSQL) agree with datetime."""
    t = ibis.memtable({"x": DATE_CASES}, schema={"x": "string"})
    parsed = _date(t.x.strip(), try_cast=try_cast)
    got = t.select(v=parsed.value, b=parsed.bad).to_pyarrow().to_pylist()
    want = [_python_date(x) for x in DATE_CASES]
    assert [r["v"] for r in got] == want
    assert [r["b"] for r in got] == [w is None for w in want]


@pytest.mark.parametrize("try_cast", [True, False])
def test_int_parser_against_python(try_cast: bool) -> None:
    def python(text: str) -> int | None:
        m = re.fullmatch(r"[+-]?([0-9]{1,15})(\.0*)?", text.strip())
        return int(text.strip().split(".")[0]) if m and 0 <= int(text.strip().split(".")[0]) <= 6 else None

    t = ibis.memtable({"x": INT_CASES}, schema={"x": "string"})
    parsed = _int(_trim(t.x), t.x, 0, 6, try_cast=try_cast)
    got = t.select(v=parsed.value, b=parsed.bad).to_pyarrow().to_pylist()
    assert [r["v"] for r in got] == [python(x) for x in INT_CASES]
    assert [r["b"] for r in got] == [x.strip() != "" and python(x) is None for x in INT_CASES]
