"""Reading an instrument definition (TOML) into a validated `Instrument`, with messages.

Messages follow the analysis plan's style, with the same helpers (`burnout.errors`
names keys, shows values and places TOML syntax errors for both): the file, the
dotted key, the value received and what is allowed, every problem at once. Item
wording is never echoed: a ``positions_only`` instrument's text is licensed.
"""

from __future__ import annotations

import difflib
import tomllib
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any, Final

from pydantic import BaseModel, ValidationError

from burnout.errors import BurnoutError, is_wrong_type, show_value, toml_error, wrong_type
from burnout.errors import dotted_key as _dotted
from burnout.instruments.model import Band, Flag, Instrument, Loinc, Norm, Response, Scale

__all__ = ["InstrumentError", "is_definition_path", "load_instrument", "parse_instrument", "shipped_instruments"]

_DATA = "data"


class InstrumentError(ValueError, BurnoutError):
    """An instrument definition is invalid or cannot be found. ``messages`` holds every problem."""

    def __init__(self, messages: list[str] | tuple[str, ...], *, source: str):
        self.messages = tuple(messages)
        self.source = source
        super().__init__(f"invalid instrument definition {source}:\n" + "\n".join(f"  {m}" for m in self.messages))


# last key of a location -> what is allowed there
_ALLOWED: Final[dict[str, str]] = {
    "name": "a name of 1 to 40 characters: lower-case letters, digits and _, starting with a letter",
    "label": "a name of 1 to 40 characters: lower-case letters, digits and _, starting with a letter",
    "title": "text of 1 to 2000 characters",
    "version": 'text of 1 to 2000 characters, e.g. "2016"',
    "citation": "text of 1 to 2000 characters (where the scoring rule was published)",
    "licence": '"wording_allowed" or "positions_only"',
    "items": "a whole number from 1 to 500 (item count) or, in a scale, a non-empty array of item positions",
    "min": "an integer from -10000 to 10000 (the lowest answer)",
    "max": "an integer from -10000 to 10000, above min (the highest answer)",
    "step": "an integer >= 1",
    "reverse": "an array of item positions (1 to items)",
    "scoring": '"mean" or "sum"',
    "max_blank": "an integer from 0 to the scale's item count - 1",
    "prorate": "true or false (sums only)",
    "good": '"lower" or "higher" (which direction of the score is better)',
    "at_least": "a number within the scale's score range",
    "mean": "a number",
    "min_change": "a number > 0 (the minimal important change, in score points)",
    "sd": "a number > 0",
    "n": "an integer >= 1",
    "units": "an integer from 1 to 10^15, a multiple of the lcm of the answered-item counts",
    "item": "an item position (1 to items)",
    "panel": 'a LOINC code such as "44249-1"',
    "loinc": 'a LOINC code such as "44261-6"',
    "answers": 'an array of LOINC answer codes such as "LA6568-5", one per answer',
}
_SECTIONS: Final[dict[str, type[BaseModel]]] = {
    "": Instrument,
    "response": Response,
    "total": Scale,
    "subscales.*": Scale,
    "loinc": Loinc,
    "flags[]": Flag,
    "bands[]": Band,
    "norms[]": Norm,
}


def _show(value: object, *, loc: tuple[Any, ...] = ()) -> str:
    """The value as written, except item wording: it may be licensed, so it is never shown
    (nor a table's values: a misspelt ``[wording]`` would hold it)."""
    if "wording" in loc:
        return "(item wording, not shown)"
    if isinstance(value, dict):
        return "a table with keys " + ", ".join(map(str, value))
    return show_value(value)


def _model_at(loc: tuple[Any, ...]) -> type[BaseModel]:
    parts = [p for p in loc if not isinstance(p, int)]
    if len(parts) >= 2 and parts[-2] == "subscales":
        return Scale
    key = parts[-1] if parts else ""
    if loc and isinstance(loc[-1], int):
        return _SECTIONS.get(f"{key}[]", Instrument)
    return _SECTIONS.get(str(key), Instrument)


def _unknown(loc: tuple[Any, ...], value: object) -> str:
    model = _model_at(loc[:-1])
    allowed = list(model.model_fields)
    close = difflib.get_close_matches(str(loc[-1]), allowed, n=1, cutoff=0.6)
    hint = f"did you mean {close[0]}?" if close else "remove it"
    return f"unknown key {_dotted(loc)} = {_show(value, loc=loc)}: allowed here: {', '.join(allowed)}; {hint}"


def _messages(exc: ValidationError) -> list[str]:
    out: list[str] = []
    for err in exc.errors(include_url=False):
        loc, kind, value = tuple(err["loc"]), err["type"], err.get("input")
        key = _dotted(loc) or "the file"
        last = next((str(p) for p in reversed(loc) if not isinstance(p, int)), "")
        allowed = _ALLOWED.get(last, "see docs/spec/instruments.md")
        if kind == "extra_forbidden":
            out.append(_unknown(loc, value))
        elif is_wrong_type(kind, value):
            out.append(wrong_type(key, value, expected=allowed, shown=_show(value, loc=loc)))
        elif kind == "missing":
            out.append(f"missing key {key}: expected {allowed}")
        elif kind == "impossible_value":
            ctx = err.get("ctx") or {}
            for reason in ctx.get("reasons") or (ctx.get("reason", ""),):
                out.append(f"impossible value for {key}: {reason}")
        else:
            out.append(f"impossible value for {key}: got {_show(value, loc=loc)}; allowed: {allowed}")
    return out


def parse_instrument(text: str, *, source: str = "<string>") -> Instrument:
    """Validate a definition given as TOML text; raise `InstrumentError` listing every problem."""
    try:
        raw = tomllib.loads(text, parse_float=Decimal)
    except tomllib.TOMLDecodeError as exc:
        raise InstrumentError([toml_error(str(exc), text)], source=source) from None
    try:
        return Instrument.model_validate(raw)
    except ValidationError as exc:
        raise InstrumentError(_messages(exc), source=source) from None


def shipped_instruments() -> tuple[str, ...]:
    """Names of the definitions shipped with burnout (``load_instrument(name)`` reads them)."""
    folder = resources.files("burnout.instruments").joinpath(_DATA)
    return tuple(sorted(p.name.removesuffix(".toml") for p in folder.iterdir() if p.name.endswith(".toml")))


def is_definition_path(name_or_path: str | Path) -> bool:
    """Whether ``name_or_path`` names a user's definition file rather than a shipped instrument:
    a `Path`, or text that ends in ``.toml`` (`load_instrument`, a plan's ``[instruments]``)."""
    return isinstance(name_or_path, Path) or name_or_path.endswith(".toml")


def load_instrument(name_or_path: str | Path) -> Instrument:
    """A shipped instrument by name (``"mbi_gs"``) or a user's definition file by path.

    A file's ``name`` must be unique among its own keys only; a path is a `Path` or text
    that ends in ``.toml`` (`is_definition_path`).

    >>> load_instrument("phq9").total.bands[1].label
    'mild'
    """
    text_name = str(name_or_path)
    if is_definition_path(name_or_path):
        path = Path(name_or_path)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            reason = exc.strerror or str(exc)
            raise InstrumentError([f"cannot read the file: {reason}; check the path"], source=str(path)) from None
        except UnicodeDecodeError:
            raise InstrumentError(["the file is not UTF-8 text; save it as UTF-8"], source=str(path)) from None
        return parse_instrument(text, source=str(path))
    shipped = shipped_instruments()
    if text_name not in shipped:
        close = difflib.get_close_matches(text_name, shipped, n=1, cutoff=0.5)
        hint = f"; did you mean {close[0]}?" if close else ""
        raise InstrumentError(
            [
                f"no shipped instrument named {_show(text_name)}: allowed: {', '.join(shipped)}, or a path to a .toml file{hint}"
            ],
            source=text_name,
        )
    resource = resources.files("burnout.instruments").joinpath(_DATA, f"{text_name}.toml")
    return parse_instrument(resource.read_text(encoding="utf-8"), source=f"{text_name}.toml (shipped)")
