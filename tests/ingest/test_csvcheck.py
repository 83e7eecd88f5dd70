"""The byte scans behind the CSV loader (ingest/csvcheck.py), against Python's own decoding, line
splitting and csv module.
"""

from __future__ import annotations

import csv
import hashlib
import io
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ingestcase import write_rows

from burnout.ingest import csvcheck as _csvcheck


@pytest.mark.parametrize("chunk", [1, 3, 7, 64])
def test_utf8_scan_across_chunk_boundaries_against_python_decoding(tmp_path: Path, chunk: int) -> None:
    text = "a,b\n" + "".join(f"{i},é€𝄞\n" for i in range(20))
    data = bytearray(text.encode())
    bad_lines = [5, 12, 21]
    lines = data.split(b"\n")
    for ln in bad_lines:
        lines[ln - 1] += b"\xff"
    path = tmp_path / "x.csv"
    path.write_bytes(bytes(b"\n".join(lines)))
    scan = _csvcheck.scan_file(path, chunk=chunk)
    assert scan.bad_utf8_lines == bad_lines
    assert scan.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


def test_record_lines_against_csv_module(tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    rows = [["a", "b"]]
    for i in range(300):
        rows.append([str(i), "x\ny" if rng.random() < 0.2 else ('q"q' if rng.random() < 0.2 else "z")])
    data = write_rows(rows, "\n")
    path = tmp_path / "r.csv"
    path.write_bytes(data)
    starts = []
    reader = csv.reader(io.StringIO(data.decode(), newline=""))
    prev = 0
    for _ in reader:
        starts.append(prev + 1)
        prev = reader.line_num
    for chunk in (5, 64, 1 << 20):
        rmap = _csvcheck.record_lines(path, chunk=chunk)
        assert rmap.start_line.tolist() == starts
        assert not rmap.blank.any()


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    lengths=st.lists(st.integers(0, 40), max_size=30),
    final_lf=st.booleans(),
    limit=st.integers(1, 12),
    chunk=st.sampled_from([1, 2, 3, 7, 16, 64, 4096]),
)
def test_long_lines_against_bytes_split(tmp_path_factory, lengths, final_lf, limit, chunk) -> None:
    data = b"\n".join(b"x" * n for n in lengths) + (b"\n" if final_lf and lengths else b"")
    path = tmp_path_factory.mktemp("long") / "f.csv"
    path.write_bytes(data)
    scan = _csvcheck.scan_file(path, chunk=chunk, max_line_bytes=limit)
    lines = data.split(b"\n")[: -1 if data.endswith(b"\n") else None]
    expected = {i + 1: len(line) for i, line in enumerate(lines) if len(line) > limit}
    assert scan.long_lines == expected and scan.long_line_count == len(expected)
