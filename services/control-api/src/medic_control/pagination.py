"""One page shape for every list endpoint: ``{"items": [...], "next_cursor": "..."|null}``.

Lists are ordered newest first by a timestamp and broken by id; the cursor is the (timestamp, id)
of the last item returned, opaque to clients (urlsafe base64 of a JSON pair).
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime
from typing import Generic, TypeVar

from pydantic import BaseModel, Field

from .db import utc
from .errors import Unprocessable

__all__ = ["Page", "decode_cursor", "encode_cursor"]

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    """A page of a list, newest first."""

    items: list[T] = Field(description="The items of this page.")
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null at the end.")


def encode_cursor(at: datetime, key: str) -> str:
    """An opaque cursor after (at, key)."""
    raw = json.dumps([utc(at).isoformat(), key], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    """The position a cursor names; :class:`Unprocessable` when it is not one of ours."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        at, key = json.loads(raw)
        return utc(datetime.fromisoformat(at)), str(key)
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError):
        raise Unprocessable("invalid cursor") from None
