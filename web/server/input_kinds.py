"""What a request's inputs may hold: small named kinds (an id, a count, text, a date, rows
of a grid…) that ``web/server/input_schema.py`` assigns to every input of every callback, and the
conversion a callback uses for an id. Nothing here raises on any value: a kind says yes or
no, and ``as_id`` refuses with ``BadInput``, which answers 400."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime

__all__ = [
    "ANY",
    "BadInput",
    "ByKey",
    "CHILDREN",
    "COUNT",
    "DAY",
    "FLAG",
    "ID",
    "ID_CHOICE",
    "Kind",
    "LIST",
    "MAX_ID",
    "NUMBER",
    "PATH",
    "SCALAR",
    "SMALL",
    "TEXT",
    "TEXTS",
    "TIMESTAMP",
    "UPLOAD",
    "as_id",
    "choice",
    "list_of",
    "matching",
    "record",
    "rows",
    "whole",
]

MAX_ID = 2**31 - 1  # an integer column of PostgreSQL
MAX_TEXT = 1_000_000  # characters of one text input (an SOP is a few thousand)
MAX_ITEMS = 10_000  # entries of one list (rows of a grid, points of a curve)
MAX_NUMBER = 1e15
_DIGITS = re.compile(r"[0-9]{1,10}")


class BadInput(ValueError):
    """A request's input is malformed (answered 400 with this message)."""


@dataclass(frozen=True, slots=True)
class Kind:
    """What one input may hold: ``name`` for the refusal, ``test`` for any value but None;
    None (Dash's "not set yet") passes unless the kind is ``required``."""

    name: str
    test: Callable[[object], bool]
    nullable: bool = True

    def accepts(self, value: object) -> bool:
        return self.nullable if value is None else self.test(value)

    @property
    def required(self) -> Kind:
        return replace(self, nullable=False)


@dataclass(frozen=True, slots=True)
class ByKey:
    """Components of one pattern whose kind depends on a key of their id (a form row's
    ``field``: its part is an id, its quantity a number)."""

    key: str
    kinds: dict[str, Kind]

    def kind(self, component: dict) -> Kind | None:
        return self.kinds.get(str(component.get(self.key)))


def _whole(value: object, low: int, high: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def _is_id(value: object) -> bool:
    if isinstance(value, str):
        return bool(_DIGITS.fullmatch(value)) and 1 <= int(value) <= MAX_ID
    return _whole(value, 1, MAX_ID)


def as_id(value: object) -> int:
    """An id from a request (an int or its digits) as a bounded int; ``BadInput`` else."""
    if not _is_id(value):
        raise BadInput("not an id")
    return int(value)  # type: ignore[call-overload]


def _is_number(value: object) -> bool:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and abs(value) <= MAX_NUMBER
    )


def _is_text(value: object) -> bool:
    return isinstance(value, str) and len(value) <= MAX_TEXT


def _is_day(value: object) -> bool:
    """What a date picker sends: ``YYYY-MM-DD``, perhaps with a time after it."""
    if not isinstance(value, str) or len(value) > 40:
        return False
    try:
        date.fromisoformat(value[:10])
    except ValueError:
        return False
    return True


def _is_timestamp(value: object) -> bool:
    """A time the server wrote into a store: ISO 8601 with its zone."""
    if not isinstance(value, str) or len(value) > 40:
        return False
    try:
        return datetime.fromisoformat(value).tzinfo is not None
    except ValueError:
        return False


def _is_small(value: object) -> bool:
    """A number, or text that may be one, that fits an integer column when it is one."""
    if isinstance(value, str):
        if len(value) > 32:
            return False
        try:
            return abs(float(value)) <= MAX_ID
        except ValueError:
            return True  # not a number at all: the form's own check says so
    return _is_number(value) and abs(value) <= MAX_ID  # type: ignore[arg-type]


def whole(low: int, high: int) -> Kind:
    """A whole number from ``low`` to ``high``."""
    return Kind(f"a whole number from {low} to {high}", lambda v: _whole(v, low, high))


def choice(*values: str) -> Kind:
    """One of a fixed set of texts."""
    return Kind("one of " + ", ".join(values), lambda v: isinstance(v, str) and v in values)


def matching(regex: str, name: str) -> Kind:
    """Text of a fixed shape (``name`` says which, in the refusal)."""
    shape = re.compile(regex)
    return Kind(name, lambda v: isinstance(v, str) and bool(shape.fullmatch(v)))


def list_of(kind: Kind, *, at_least: int = 0) -> Kind:
    """A list (at most ``MAX_ITEMS`` long) of values of ``kind``."""
    return Kind(
        f"a list of {kind.name}",
        lambda v: (
            isinstance(v, list)
            and at_least <= len(v) <= MAX_ITEMS
            and all(kind.accepts(x) for x in v)
        ),
    )


def record(name: str, /, **fields: Kind) -> Kind:
    """An object whose listed fields (absent counts as None) are of their kinds; other
    fields are let through untouched."""
    return Kind(
        name,
        lambda v: isinstance(v, dict) and all(k.accepts(v.get(f)) for f, k in fields.items()),
    )


def rows(**fields: Kind) -> Kind:
    """A grid's selected rows: each an object with these fields."""
    return list_of(record("a grid row", **fields).required)


COUNT = Kind("a whole number from 0", lambda v: _whole(v, 0, MAX_ID))
ID = Kind("an id", _is_id)
ID_CHOICE = Kind("an id or nothing", lambda v: v == "" or _is_id(v))
NUMBER = Kind("a number", _is_number)
TEXT = Kind("text", _is_text)
SCALAR = Kind("text or a number", lambda v: _is_text(v) or _is_number(v))
SMALL = Kind("a number up to 2147483647", _is_small)  # what a form's number field may hold
FLAG = Kind("true or false", lambda v: isinstance(v, bool))
DAY = Kind("a date", _is_day)
TIMESTAMP = Kind("a time with its zone", _is_timestamp)
PATH = Kind("a path", lambda v: isinstance(v, str) and v.startswith("/") and len(v) <= 2048)
TEXTS = list_of(TEXT.required)
LIST = Kind("a list", lambda v: isinstance(v, list) and len(v) <= MAX_ITEMS)
CHILDREN = Kind("components", lambda v: isinstance(v, str | list | dict))
UPLOAD = Kind("a file", lambda v: isinstance(v, str))  # bounded by the upload's own limit
ANY = Kind("anything", lambda _v: True)
