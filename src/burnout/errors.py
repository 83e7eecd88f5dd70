"""Exceptions. Each subclasses the builtin a caller would catch, plus BurnoutError."""

from __future__ import annotations

import datetime as _dt
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final

__all__ = [
    "BurnoutError",
    "DataError",
    "ExistingTablesError",
    "Problem",
    "ProtocolError",
    "connect_error",
    "dotted_key",
    "first_line",
    "is_wrong_type",
    "redact_url",
    "show_value",
    "toml_error",
    "toml_kind",
    "wrong_type",
]


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
    """The cohort (or, as ``about`` says, another input) breaks the data contract. ``problems`` holds every violation found."""

    def __init__(
        self,
        problems: list[Problem] | tuple[Problem, ...],
        *,
        warnings: tuple[str, ...] = (),
        about: str = "the cohort data",
    ):
        self.problems = tuple(problems)
        self.warnings = tuple(warnings)
        n = len(self.problems)
        head = f"{n} problem{'s' if n != 1 else ''} in {about}"
        super().__init__(head + ":\n" + "\n".join(f"  {p}" for p in self.problems))


class ProtocolError(ValueError, BurnoutError):
    """The analysis plan (protocol.toml) is invalid. The message names each bad key."""

    def __init__(self, messages: list[str] | tuple[str, ...], *, source: str = "protocol"):
        self.messages = tuple(messages)
        self.source = source
        super().__init__(f"invalid analysis plan {source}:\n" + "\n".join(f"  {m}" for m in self.messages))


class ExistingTablesError(BurnoutError):
    """``burnout import`` found cohort tables in the database and was not told to replace them.

    ``url`` is the database without its password; ``tables`` the cohort tables it
    holds. The message speaks the library's language (``replace=True``);
    :meth:`for_cli` says the same in the command line's (``--replace``).
    """

    def __init__(self, url: str, tables: tuple[str, ...]):
        self.url = redact_url(url)
        self.tables = tuple(tables)
        super().__init__(self._message("pass replace=True to replace them"))

    def for_cli(self) -> str:
        """The message for ``burnout import``: the fix is its ``--replace`` option."""
        return self._message("run the same command with --replace to replace them")

    def _message(self, fix: str) -> str:
        s = "s" if len(self.tables) > 1 else ""
        return (
            f"the database {self.url} already has cohort table{s} {', '.join(self.tables)}; "
            f"{fix}, or import into another database"
        )


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message (or its type's name when it has none)."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def connect_error(url: str, exc: BaseException) -> BurnoutError:
    """The error for a database that cannot be reached; ``url`` is shown without its password."""
    detail = first_line(exc)
    userinfo, secrets = _credentials(url)
    if "@" in userinfo:
        # drivers split at the first @, so their message would hold the rest of the password
        detail = "the user or password holds an unencoded '@': write it as %40"
    for secret in sorted(secrets, key=len, reverse=True):
        detail = detail.replace(secret, "***")
    return BurnoutError(
        f"cannot connect to {redact_url(url)}: {detail}; check the host, port, user, password and database"
    )


def _credentials(url: str) -> tuple[str, list[str]]:
    """The user information of ``url`` (before its last ``@``) and every password in it, as written and decoded."""
    from urllib.parse import unquote, unquote_plus

    parts = _split_url(url)
    if parts is None:
        return "", []
    _scheme, hier, query, _fragment = parts
    userinfo = hier.rpartition("@")[0]
    written = [param.partition("=")[2] for param in (query or "").split("&") if _is_password_param(param)]
    secrets = [userinfo.partition(":")[2], *written, *(unquote_plus(v) for v in written)]  # as a driver decodes a query
    secrets += [unquote(s) for s in secrets]
    return userinfo, [s for s in secrets if s]


def _split_url(url: str) -> tuple[str, str, str | None, str] | None:
    """``scheme://hier?query#fragment`` as (scheme, hier, query or None, ``#fragment`` or ""); None without ``://``.

    The hierarchical part ends at the first ``?`` or ``#``, so a password holding ``@`` or
    ``/`` stays in it.
    """
    scheme, sep, rest = url.partition("://")
    if not sep:
        return None
    end = min((i for i in (rest.find("?"), rest.find("#")) if i >= 0), default=len(rest))
    hier, tail = rest[:end], rest[end:]
    if not tail.startswith("?"):
        return scheme, hier, None, tail
    query, hash_, fragment = tail[1:].partition("#")
    return scheme, hier, query, hash_ + fragment


def _is_password_param(param: str) -> bool:
    """A query parameter ``key=value`` whose (decoded) name contains ``password``, any case."""
    from urllib.parse import unquote

    key, eq, _value = param.partition("=")
    return bool(eq) and "password" in unquote(key).lower()


def redact_url(url: str) -> str:
    """The URL as it may be printed or stored: every password replaced by ``***``.

    The URL is parsed, not pattern-matched. Its user information is everything
    between ``://`` and the LAST ``@`` before the query (``?``) or fragment (``#``),
    so a password holding an unencoded ``@`` or ``/`` is hidden whole, whichever
    ``@`` a driver would split at; the user is what precedes the first ``:`` (it may
    be empty). In the query, the value of every parameter whose name contains
    ``password`` (libpq's ``password``, ``sslpassword``; any case, percent-encoded
    or not) is hidden too. Text that is not a URL (no ``scheme://``) is returned
    unchanged.

    >>> redact_url("postgresql://me:secret@host:5432/db")
    'postgresql://me:***@host:5432/db'
    >>> redact_url("postgres://:pw@host/db")
    'postgres://:***@host/db'
    >>> redact_url("postgresql://me:p@ss@host/db")
    'postgresql://me:***@host/db'
    >>> redact_url("postgresql://me@host/db?sslmode=require&password=secret")
    'postgresql://me@host/db?sslmode=require&password=***'
    """
    parts = _split_url(url)
    if parts is None:
        return url
    scheme, hier, query, fragment = parts
    if not scheme or not all(c.isalnum() or c in "+.-" for c in scheme):
        return url
    userinfo, at, hostpath = hier.rpartition("@")
    if at:
        user, colon, _password = userinfo.partition(":")
        hier = f"{user}:***@{hostpath}" if colon else f"{user}@{hostpath}"
    if query is not None:  # the fragment is kept as written
        params = (f"{p.partition('=')[0]}=***" if _is_password_param(p) else p for p in query.split("&"))
        hier += "?" + "&".join(params)
    return f"{scheme}://{hier}{fragment}"


# Messages about TOML files (the analysis plan, instrument definitions): one way to name a
# key, show a value and place a syntax error, so both files speak alike.


def dotted_key(loc: tuple[Any, ...]) -> str:
    """A validation location as the user would write the key: ``subscales.ee.items[2]``."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else ("." if text else "") + str(part)
    return text


def show_value(value: object, limit: int = 80) -> str:
    """A value as the user would have written it in TOML, shortened to ``limit`` characters."""
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, str):
        text = json.dumps(value, ensure_ascii=False)
    elif isinstance(value, Decimal):
        text = str(value).lower().replace("infinity", "inf")
    elif isinstance(value, int | float):
        text = repr(value)
    elif isinstance(value, list | tuple):
        text = "[" + ", ".join(show_value(v, limit) for v in value) + "]"
    elif isinstance(value, Mapping):
        text = "{" + ", ".join(f"{k} = {show_value(v, limit)}" for k, v in value.items()) + "}"
    elif isinstance(value, _dt.date | _dt.time):
        text = value.isoformat()
    elif hasattr(value, "model_dump"):  # a pydantic model: shown as the table it was read from
        text = show_value(value.model_dump(), limit)
    else:
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def toml_kind(value: object) -> str:
    """The TOML kind of a value as the messages name it: "an integer", "a table", "a date/time" ..."""
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float | Decimal):
        return "a decimal number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list | tuple):
        return "an array"
    if isinstance(value, Mapping):
        return "a table"
    if isinstance(value, _dt.date | _dt.time):
        return "a date/time"
    return type(value).__name__


# pydantic error types that mean "not even the right kind of value"
_WRONG_TYPE_ERRORS: Final[frozenset[str]] = frozenset(
    {
        "int_type",
        "float_type",
        "decimal_type",
        "string_type",
        "bool_type",
        "tuple_type",
        "list_type",
        "dict_type",
        "model_type",
        "model_attributes_type",
        "wrong_type",
    }
)


def is_wrong_type(error_type: str, value: object) -> bool:
    """Whether a pydantic error of ``error_type`` on ``value`` is a value of the wrong TOML kind
    (a non-string given where one of some strings is allowed counts too)."""
    return error_type in _WRONG_TYPE_ERRORS or (error_type == "literal_error" and not isinstance(value, str))


def wrong_type(key: str, value: object, *, expected: str, shown: str | None = None) -> str:
    """The message for a value of the wrong kind: the key, the value as written (``shown``,
    else `show_value`) with its `toml_kind`, and what is expected."""
    got = show_value(value) if shown is None else shown
    return f"wrong type for {key}: got {got} ({toml_kind(value)}), expected {expected}"


_TOML_AT = re.compile(r"\s*\(at (?:line (\d+), column (\d+)|end of document)\)\s*$")


def toml_error(message: str, text: str) -> str:
    """tomllib's error as one message: where (line and column, or the end of the file) and what."""
    match = _TOML_AT.search(message)
    what = _TOML_AT.sub("", message) if match else message
    if match and match.group(1):
        where = f"line {match.group(1)}, column {match.group(2)}"
    else:
        where = f"line {text.count(chr(10)) + (0 if text.endswith(chr(10)) else 1)} (end of file)"
    return f"{where}: not valid TOML: {what}; fix the syntax (see https://toml.io)"
