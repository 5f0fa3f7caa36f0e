"""The audit hash chain, as pure functions: ``h_i = sha256(h_{i-1} || canonical_json(entry_i))``.

An entry's canonical JSON is built from the values as stored (timestamps normalised to UTC with
microseconds), so a verifier recomputes every hash from the table alone and any edit to any
column of any row breaks the chain at that row.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..db import utc

__all__ = [
    "GENESIS",
    "ChainEntry",
    "PreparedEntry",
    "canonical_json",
    "chain_hash",
    "clean",
    "entry_hash",
    "iso",
    "prepare_entry",
]

#: prev_hash of the first entry.
GENESIS = "0" * 64


def iso(value: datetime) -> str:
    """A timestamp as the chain hashes it: UTC, microseconds, ``Z``."""
    offset = value.utcoffset()
    at = value if offset is not None and not offset else utc(value)  # already UTC: no conversion (the common case)
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


@dataclass(frozen=True, slots=True)
class PreparedEntry:
    """An entry's canonical JSON built up to what only the append lock gives: its seq and time recorded.

    The expensive part (the details above all) is encoded before the lock is taken; under it,
    :meth:`canonical` only joins strings. The result is byte for byte :meth:`ChainEntry.canonical`:
    with sorted keys ``details`` comes after ``action`` and ``actor``, and ``recorded_at`` and ``seq``
    sit between ``reasoning`` and ``service``, so the whole is its slices joined in that order.
    """

    fields: dict[str, Any]  # the ChainEntry fields but seq and recorded_at, details JSON-safe
    details_json: str  # also what the details column stores
    _head: str
    _tail: str

    def canonical(self, *, seq: int, recorded_at: datetime) -> str:
        """The canonical JSON of the entry at ``seq``, recorded at ``recorded_at``."""
        return f'{self._head},"recorded_at":"{iso(recorded_at)}","seq":{int(seq)},{self._tail}'

    def entry(self, *, seq: int, recorded_at: datetime) -> ChainEntry:
        """The full entry (its canonical JSON is :meth:`canonical`)."""
        return ChainEntry(seq=seq, recorded_at=recorded_at, **self.fields)


def prepare_entry(
    *,
    event_id: str,
    event_type: str,
    issue_id: str | None,
    occurred_at: datetime,
    service: str,
    actor: str,
    action: str,
    status: str,
    summary: str,
    reasoning: str | None,
    details: dict[str, Any],
) -> PreparedEntry:
    """Encode an entry's canonical JSON but its seq and time recorded (details made JSON-safe, see :func:`clean`)."""
    try:
        details_json = canonical_json(details)
    except (ValueError, TypeError):
        details_json = "\\u0000"
    if "\\u0000" in details_json:  # NUL or not plain JSON: cleaned, as the database would refuse it
        details = clean(details)
        details_json = canonical_json(details)
    first = canonical_json({"action": action, "actor": actor})
    middle = canonical_json(
        {
            "event_id": event_id,
            "event_type": event_type,
            "issue_id": issue_id,
            "occurred_at": iso(occurred_at),
            "reasoning": reasoning,
        }
    )
    last = canonical_json({"service": service, "status": status, "summary": summary})
    return PreparedEntry(
        fields={
            "event_id": event_id,
            "event_type": event_type,
            "issue_id": issue_id,
            "occurred_at": occurred_at,
            "service": service,
            "actor": actor,
            "action": action,
            "status": status,
            "summary": summary,
            "reasoning": reasoning,
            "details": details,
        },
        details_json=details_json,
        _head=f'{first[:-1]},"details":{details_json},{middle[1:-1]}',
        _tail=last[1:],
    )
