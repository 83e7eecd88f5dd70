"""Byte-level checks of a CSV file that the SQL engine cannot locate by line.

Private helpers for :mod:`burnout.ingest.read`:

- :func:`scan_file` streams the file once in large chunks: SHA-256, UTF-8
  validity (reporting the true line of every bad byte), and cheap flags that say
  whether engine row order alone gives the true line numbers.
- :func:`record_lines` (only when those flags say so) finds, vectorised with
  numpy, where each CSV record starts: quoted fields may hold commas, quotes and
  line breaks, and blank lines are records the engine skips.
- :func:`read_header` parses the header record with the csv module.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import re
from dataclasses import dataclass, field
from typing import BinaryIO

import numpy as np

__all__ = ["ByteScan", "RecordMap", "read_header", "record_lines", "scan_file"]

CHUNK = 1 << 24  # 16 MiB: large enough that per-chunk Python overhead is negligible
MAX_REPORTED = 100
_BOM = b"\xef\xbb\xbf"
_SURROGATE = re.compile("[\udc80-\udcff]")


@dataclass
class ByteScan:
    """What one streaming pass over a file found."""

    size: int = 0
    sha256: str = ""
    lf: int = 0  # line feeds
    crlf: int = 0  # CR LF pairs
    lone_cr: int = 0  # CR not followed by LF
    has_quote: bool = False
    has_blank_line: bool = False
    ends_with_lf: bool = True
    bad_utf8_lines: list[int] = field(default_factory=list)  # first MAX_REPORTED lines with a bad byte
    bad_utf8_line_count: int = 0  # all lines with a bad byte
    bad_utf8_example: dict[int, str] = field(default_factory=dict)  # line -> the bad bytes, hex
    long_lines: dict[int, int] = field(default_factory=dict)  # first MAX_REPORTED lines over the limit -> bytes
    long_line_count: int = 0  # all lines over the limit
    open_line: int = 0  # bytes of the line still open at the end of the last piece

    @property
    def irregular(self) -> bool:
        """True when engine row order may not equal file line order (quotes, blank lines, mixed ends)."""
        mixed = 0 < self.crlf < self.lf
        return self.has_quote or self.has_blank_line or mixed or self.lone_cr > 0


def scan_file(
    path: str | os.PathLike[str], *, hash_only: bool = False, chunk: int = CHUNK, max_line_bytes: int | None = None
) -> ByteScan:
    """Stream ``path`` once: hash, UTF-8 check with line numbers, structure flags.

    Pieces handed to the decoder always end just after a line feed (a line feed is
    never part of a multi-byte UTF-8 sequence), so a line's bytes are never split
    between two decodes and each bad byte's line is ``1 + line feeds before it``.
    With ``hash_only`` (Parquet files) only the size and SHA-256 are computed.
    With ``max_line_bytes``, lines longer than that (line end not counted) are
    recorded in ``long_lines``: the engine's reader may skip such a line without a word.
    """
    scan = ByteScan()
    h = hashlib.sha256()
    lines_before = 0  # line feeds in the pieces already decoded
    carry = b""
    prev_last = b""  # last byte of the previous piece, to see blank lines across pieces
    with open(path, "rb") as f:
        while True:
            block = f.read(chunk)
            scan.size += len(block)
            h.update(block)
            if hash_only:
                if not block:
                    break
                continue
            buf = carry + block if carry else block
            if block:
                cut = buf.rfind(b"\n") + 1
                if cut == 0:  # a line longer than a chunk: split it at a character boundary
                    cut = _utf8_boundary(buf)
                piece, carry = buf[:cut], buf[cut:]
            else:
                piece, carry = buf, b""
            if piece:
                _scan_piece(scan, piece, lines_before, prev_last)
                if max_line_bytes is not None:
                    _find_long_lines(scan, piece, lines_before, max_line_bytes)
                lines_before = scan.lf
                prev_last = piece[-1:]
            if not block:
                break
    scan.sha256 = h.hexdigest()
    if not hash_only:
        scan.ends_with_lf = prev_last == b"\n" or scan.size == 0
    return scan


def _utf8_boundary(buf: bytes) -> int:
    """An offset near the end of ``buf`` that does not split a UTF-8 sequence."""
    i = len(buf) - 1
    while i > 0 and len(buf) - i <= 3 and (buf[i] & 0xC0) == 0x80:  # continuation bytes
        i -= 1
    return i if buf[i] >= 0xC0 else len(buf)  # carry a lead byte with its continuations


def _scan_piece(scan: ByteScan, piece: bytes, lines_before: int, prev_last: bytes) -> None:
    scan.lf += piece.count(b"\n")
    scan.crlf += piece.count(b"\r\n")
    scan.lone_cr += piece.count(b"\r") - piece.count(b"\r\n")
    if not scan.has_quote:
        # quotes in the header line (many tools quote every name) cannot shift data lines
        start = piece.find(b"\n") + 1 if lines_before == 0 else 0
        scan.has_quote = piece.find(b'"', start) != -1
    if not scan.has_blank_line and (
        b"\n\n" in piece
        or b"\n\r\n" in piece
        or (prev_last == b"\n" and (piece.startswith(b"\n") or piece.startswith(b"\r\n")))
    ):
        scan.has_blank_line = True
    try:
        piece.decode("utf-8")
    except UnicodeDecodeError:
        _locate_bad_utf8(scan, piece, lines_before)


def _find_long_lines(scan: ByteScan, piece: bytes, lines_before: int, limit: int) -> None:
    """Record lines of ``piece`` longer than ``limit`` bytes (without their line feed).

    Jumps ``limit`` bytes at a time and looks back for a line feed, so a piece of short
    lines costs a few ``rfind`` calls, not a pass over its bytes. A piece ends just
    after a line feed unless a line is longer than a whole chunk: then the line goes on
    in the next piece (``scan.open_line`` bytes of it so far).
    """
    n = len(piece)
    first = piece.find(b"\n")
    head = scan.open_line + (n if first == -1 else first)  # the line that started earlier
    if head > limit:
        line = lines_before + 1
        if scan.open_line > limit:  # noted in an earlier piece: now its size so far
            if line in scan.long_lines:
                scan.long_lines[line] = head
        else:
            _note_long_line(scan, line, head)
    if first == -1:
        scan.open_line = head
        return
    p = first + 1
    while n - p > limit:
        q = piece.rfind(b"\n", p, p + limit + 1)
        if q != -1:
            p = q + 1
            continue
        end = piece.find(b"\n", p + limit)
        size = (n if end == -1 else end) - p
        _note_long_line(scan, lines_before + 1 + piece.count(b"\n", 0, p), size)
        if end == -1:
            scan.open_line = size  # the rest of the piece is this line; it may go on
            return
        p = end + 1
    scan.open_line = n - piece.rfind(b"\n") - 1


def _note_long_line(scan: ByteScan, line: int, size: int) -> None:
    scan.long_line_count += 1
    if len(scan.long_lines) < MAX_REPORTED or line in scan.long_lines:
        scan.long_lines[line] = size


def _locate_bad_utf8(scan: ByteScan, piece: bytes, lines_before: int) -> None:
    """Record the lines of every undecodable byte in ``piece`` (error path only)."""
    text = piece.decode("utf-8", "surrogateescape")
    line = lines_before + 1
    pos = 0
    last_line = 0
    for m in _SURROGATE.finditer(text):
        line += text.count("\n", pos, m.start())
        pos = m.start()
        if line != last_line:
            last_line = line
            scan.bad_utf8_line_count += 1
            if len(scan.bad_utf8_lines) < MAX_REPORTED:
                scan.bad_utf8_lines.append(line)
                scan.bad_utf8_example[line] = m.group().encode("utf-8", "surrogateescape").hex(" ")


@dataclass
class RecordMap:
    """Where the CSV records of a file start.

    ``start_line[i]`` is the 1-based file line on which record ``i`` starts (record 0
    is the header); ``blank[i]`` says the record is an empty line; ``crlf[i]`` says it
    ends with CR LF; ``last_open`` says the last record has no line end.
    """

    start_line: np.ndarray
    blank: np.ndarray
    crlf: np.ndarray
    lone_cr_lines: list[int]
    last_open: bool = False

    @property
    def one_line_records(self) -> bool:
        """Every record is one non-blank line: row k of the engine is on line k + 2."""
        n = len(self.start_line)
        return not self.blank.any() and bool(np.array_equal(self.start_line, np.arange(1, n + 1)))


def record_lines(path: str | os.PathLike[str], *, chunk: int = CHUNK) -> RecordMap:
    """Find the start line of every CSV record, vectorised over large chunks.

    A line feed ends a record unless it lies inside a quoted field, i.e. an odd
    number of quote characters precede it (RFC 4180: quotes inside a quoted field
    are doubled, which keeps the parity). Memory is a few bytes per record.
    """
    starts: list[np.ndarray] = [np.array([1], dtype=np.int64)]
    blanks: list[np.ndarray] = []
    crlfs: list[np.ndarray] = []
    lone_cr_lines: list[int] = []
    parity = 0  # quotes seen so far, mod 2
    lf_seen = 0
    prev_term = -1  # byte offset of the previous record-ending line feed
    prev_byte = -1  # last byte of the previous chunk
    offset = 0
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        while True:
            block = f.read(chunk)
            if not block:
                break
            a = np.frombuffer(block, dtype=np.uint8)
            lf = np.flatnonzero(a == 10)
            q = np.flatnonzero(a == 34)
            inside = (parity + np.searchsorted(q, lf)) & 1
            term_local = lf[inside == 0]
            term_idx = lf_seen + np.flatnonzero(inside == 0)  # 0-based index among all line feeds
            term = term_local + offset
            prev = np.concatenate(([prev_term], term[:-1]))
            length = term - prev - 1
            before = np.where(term_local > 0, a[np.maximum(term_local - 1, 0)], prev_byte)
            ends_crlf = (before == 13) & (length >= 1)
            blanks.append((length == 0) | ((length == 1) & ends_crlf))
            crlfs.append(ends_crlf)
            starts.append(term_idx.astype(np.int64) + 2)  # the record after line feed #k starts on line k + 2
            _note_lone_crs(a, q, lf, f, parity=parity, lf_seen=lf_seen, more=offset + len(a) < size, out=lone_cr_lines)
            parity = (parity + len(q)) & 1
            lf_seen += len(lf)
            if len(term):
                prev_term = int(term[-1])
            prev_byte = int(a[-1])
            offset += len(a)
    start_line = np.concatenate(starts)
    blank = np.concatenate(blanks) if blanks else np.zeros(0, dtype=bool)
    crlf = np.concatenate(crlfs) if crlfs else np.zeros(0, dtype=bool)
    last_open = prev_term != offset - 1
    if not last_open:
        # the file ends with a record-ending line feed: the "record" after it does not exist
        start_line = start_line[:-1]
    else:
        # a last record without a line end (or an empty file)
        last_len = offset - prev_term - 1
        blank = np.append(blank, last_len == 0)
        crlf = np.append(crlf, False)
    return RecordMap(start_line=start_line, blank=blank, crlf=crlf, lone_cr_lines=lone_cr_lines, last_open=last_open)


def _note_lone_crs(
    a: np.ndarray, q: np.ndarray, lf: np.ndarray, f: BinaryIO, *, parity: int, lf_seen: int, more: bool, out: list[int]
) -> None:
    """Add to ``out`` (up to MAX_REPORTED) the lines of the chunk ``a`` with a carriage return
    outside quotes that no line feed follows; ``more``: the file goes on after the chunk."""
    cr = np.flatnonzero(a == 13)
    if not len(cr):
        return
    nxt = np.where(cr + 1 < len(a), a[np.minimum(cr + 1, len(a) - 1)], -1)
    # a CR at the very end of the chunk: look at the next byte of the file
    if cr[-1] == len(a) - 1 and more:
        pos = f.tell()
        nb = f.read(1)
        f.seek(pos)
        nxt[-1] = nb[0] if nb else -1
    lone = cr[(nxt != 10) & (((parity + np.searchsorted(q, cr)) & 1) == 0)]
    if len(lone) and len(out) < MAX_REPORTED:
        lines = np.unique(lf_seen + np.searchsorted(lf, lone) + 1)
        new = [int(x) for x in lines if not out or x > out[-1]]
        out.extend(new[: MAX_REPORTED - len(out)])


def read_header(path: str | os.PathLike[str], *, limit: int = 1 << 20) -> list[str] | None:
    """Column names from the header record (first record, BOM removed), or None if there is none.

    Parsed with the csv module so quoted names work. Returns None when the file
    has no non-blank first line.
    """
    with open(path, "rb") as f:
        head = f.read(limit)
    if head.startswith(_BOM):
        head = head[len(_BOM) :]
    text = head.decode("utf-8", "replace")
    if not text.strip("\r\n \t"):
        return None
    first = next(csv.reader(io.StringIO(text, newline="")), None)
    if not first or first == [""] or (len(first) == 1 and not first[0].strip()):
        return None
    return first
