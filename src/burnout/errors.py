"""Exceptions. Each subclasses the builtin a caller would catch, plus BurnoutError."""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["BurnoutError", "DataError", "Problem", "ProtocolError", "connect_error", "first_line", "redact_url"]


class BurnoutError(Exception):
    """Base of every error burnout raises on purpose."""


@dataclass(frozen=True, slots=True)
class Problem:
    """One violation of the data contract, located precisely enough to fix it.

    ``line`` is the 1-based line in a CSV file (the header is line 1); for a Parquet
    file or a database table, which have no lines, it is the 1-based row number (in
    the file's order, or a fixed sort order for a database). None when the problem is
    about a whole file or column. ``allowed`` says what would be valid.
    """

    file: str
    line: int | None
    patient_id: str | None
    column: str | None
    value: str | None
    allowed: str

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        parts = [where]
        if self.patient_id is not None:
            parts.append(f"patient {self.patient_id!r}")
        if self.column is not None:
            parts.append(f"column {self.column!r}")
        if self.value is not None:
            parts.append(f"value {self.value!r}")
        return ", ".join(parts) + f": {self.allowed}"


class DataError(ValueError, BurnoutError):
    """The cohort breaks the data contract. ``problems`` holds every violation found."""

    def __init__(self, problems: list[Problem] | tuple[Problem, ...], *, warnings: tuple[str, ...] = ()):
        self.problems = tuple(problems)
        self.warnings = tuple(warnings)
        n = len(self.problems)
        head = f"{n} problem{'s' if n != 1 else ''} in the cohort data"
        super().__init__(head + ":\n" + "\n".join(f"  {p}" for p in self.problems))


class ProtocolError(ValueError, BurnoutError):
    """The analysis plan (protocol.toml) is invalid. The message names each bad key."""

    def __init__(self, messages: list[str] | tuple[str, ...], *, source: str = "protocol"):
        self.messages = tuple(messages)
        self.source = source
        super().__init__(f"invalid analysis plan {source}:\n" + "\n".join(f"  {m}" for m in self.messages))


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message (or its type's name when it has none)."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def connect_error(url: str, exc: BaseException) -> BurnoutError:
    """The error for a database that cannot be reached; ``url`` is shown without its password."""
    return BurnoutError(
        f"cannot connect to {redact_url(url)}: {first_line(exc)}; check the host, port, user, password and database"
    )


def redact_url(url: str) -> str:
    """The URL without its password: ``postgresql://me:secret@host/db`` -> ``postgresql://me:***@host/db``."""
    return re.sub(r"(://[^:/@]+):[^@]*@", r"\1:***@", url)
