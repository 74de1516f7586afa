"""Cursor pagination with a stable order, and the query parameters every list shares.

A cursor is the opaque (base64url JSON) sort key of the last item a page returned; the next
page starts strictly after it, so items added or removed meanwhile never shift a page."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

from pydantic import AwareDatetime, BaseModel, Field, model_validator

from web.server.api.api_problems import FieldProblem, ProblemError

__all__ = ["Page", "PageQuery", "RangeQuery", "decode_cursor", "encode_cursor", "page_of"]

T = TypeVar("T")


class PageQuery(BaseModel):
    limit: int = Field(100, ge=1, le=1000, description="items per page")
    cursor: str | None = Field(
        None, max_length=200, pattern=r"^[A-Za-z0-9_-]*$", description="the last page's next_cursor"
    )


class RangeQuery(BaseModel):
    """A time range in ISO 8601 *with* its zone (a naive time is refused: 400)."""

    start: AwareDatetime
    end: AwareDatetime

    @model_validator(mode="after")
    def _ordered(self) -> RangeQuery:
        if self.start >= self.end:
            raise ValueError("start must come before end")
        return self


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = Field(None, description="absent on the last page")


def encode_cursor(key: Sequence[Any]) -> str:
    raw = json.dumps(list(key), separators=(",", ":"), default=str).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None, kinds: Sequence[type]) -> tuple[Any, ...] | None:
    """The sort key a cursor carries, checked against ``kinds``; a 400 problem if forged."""
    if not cursor:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        key = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if not isinstance(key, list) or len(key) != len(kinds):
            raise ValueError("wrong length")
        return tuple(kind(value) for kind, value in zip(kinds, key, strict=True))
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        bad = FieldProblem(field="cursor", message="not a cursor this API gave out")
        raise ProblemError(400, "Unknown cursor.", errors=[bad]) from None


def page_of(
    rows: Sequence[T], limit: int, key: Callable[[T], Sequence[Any]]
) -> tuple[list[T], str | None]:
    """``rows`` holds up to ``limit + 1`` items in order: the page and the next cursor."""
    items = list(rows[:limit])
    more = len(rows) > limit
    return items, encode_cursor(key(items[-1])) if more and items else None
