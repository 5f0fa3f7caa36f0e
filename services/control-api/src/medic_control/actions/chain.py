"""The audit hash chain, as pure functions: ``h_i = sha256(h_{i-1} || canonical_json(entry_i))``.

An entry's canonical JSON is built from the values as stored (timestamps normalised to UTC with
microseconds), so a verifier recomputes every hash from the table alone and any edit to any
column of any row breaks the chain at that row.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from ..db import utc

__all__ = ["GENESIS", "ChainEntry", "canonical_json", "chain_hash", "clean", "cleaned_canonical", "entry_hash", "iso"]

#: prev_hash of the first entry.
GENESIS = "0" * 64


def iso(value: datetime) -> str:
    """A timestamp as the chain hashes it: UTC, microseconds, ``Z``."""
    at = utc(value)
    if at.year < 1000:  # isoformat pads the year to 4 digits, strftime does not: the hashed form is strftime's
        return at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return at.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def clean(value: Any) -> Any:
    """JSON-safe copy: NUL characters and non-finite floats (which databases refuse or alter) replaced."""
    if isinstance(value, dict | list) and _plain(value):
        return value  # the common case, checked by the C encoder instead of a Python walk
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {str(k).replace("\x00", "\ufffd"): clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean(v) for v in value]
    return value


def _plain(value: Any) -> bool:
    try:
        text = json.dumps(value, ensure_ascii=False, allow_nan=False)
    except (ValueError, TypeError):
        return False
    return "\x00" not in text and "\\u0000" not in text


def canonical_json(value: Any) -> str:
    """Sorted keys, no whitespace, UTF-8 text: one byte string per value."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


@dataclass(frozen=True, slots=True)
class ChainEntry:
    """The hashed content of one agent_actions row (everything but its own hashes)."""

    seq: int
    event_id: str
    event_type: str
    issue_id: str | None
    occurred_at: datetime
    recorded_at: datetime
    service: str
    actor: str
    action: str
    status: str
    summary: str
    reasoning: str | None
    details: dict[str, Any]

    def canonical(self) -> str:
        """The entry's canonical JSON."""
        return canonical_json(
            {
                "seq": self.seq,
                "event_id": self.event_id,
                "event_type": self.event_type,
                "issue_id": self.issue_id,
                "occurred_at": iso(self.occurred_at),
                "recorded_at": iso(self.recorded_at),
                "service": self.service,
                "actor": self.actor,
                "action": self.action,
                "status": self.status,
                "summary": self.summary,
                "reasoning": self.reasoning,
                "details": self.details,
            }
        )


def entry_hash(prev_hash: str, entry: ChainEntry) -> str:
    """sha256 of the previous hash followed by the entry's canonical JSON (hex)."""
    return chain_hash(prev_hash, entry.canonical())


def chain_hash(prev_hash: str, canonical: str) -> str:
    """sha256 of the previous hash followed by an entry's canonical JSON (hex)."""
    return hashlib.sha256((prev_hash + canonical).encode("utf-8")).hexdigest()


def cleaned_canonical(entry: ChainEntry) -> tuple[ChainEntry, str]:
    """``entry`` with JSON-safe details (see :func:`clean`) and its canonical JSON.

    The canonical JSON is computed first: when it encodes and holds no NUL, the details were plain
    already and :func:`clean` would return them unchanged, so they are not encoded a second time.
    """
    try:
        text = entry.canonical()
    except (ValueError, TypeError):
        text = "\\u0000"
    if "\\u0000" not in text:
        return entry, text
    entry = replace(entry, details=clean(entry.details))
    return entry, entry.canonical()
