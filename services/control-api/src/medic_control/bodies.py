"""The base of every request body: an unknown field is refused (422 naming it), never silently dropped.

A typo such as ``{"confg": {...}}`` or ``{"config": {...}, "levle": 3}`` must not be accepted as a
valid request (and, for ``PUT /config``, make a new config version).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

__all__ = ["RequestBody"]


class RequestBody(BaseModel):
    """A JSON request body with ``extra="forbid"``."""

    model_config = ConfigDict(extra="forbid")
