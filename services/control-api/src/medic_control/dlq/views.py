"""GET /dlq: messages a consumer gave up on."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field
from sqlalchemy import and_, or_, select

from ..deps import ReadConn, Viewer
from ..errors import error_responses
from ..pagination import Page, decode_cursor, encode_cursor
from .models import DeadLetterRow

router = APIRouter(tags=["dlq"], responses=error_responses(401, 403, 422))


class DeadLetterOut(BaseModel):
    """A dead letter with its original bytes (base64)."""

    event_id: str = Field(description="Id of the DeadLetter event.")
    issue_id: str | None = Field(description="Issue (or key) of the original message.")
    original_topic: str = Field(description="Topic it came from.")
    partition: int = Field(description="Partition.")
    offset: int = Field(description="Offset.")
    consumer_group: str = Field(description="Consumer group that gave up.")
    error_type: str = Field(description="Exception class.")
    error: str = Field(description="Error message.")
    attempts: int = Field(description="Attempts made.")
    permanent: bool = Field(description="True when retrying can never succeed (malformed).")
    key_b64: str | None = Field(description="Original key, base64.")
    value_b64: str = Field(description="Original value, base64.")
    headers: dict[str, Any] = Field(description="Original headers.")
    occurred_at: datetime = Field(description="When it was dead-lettered.")
    recorded_at: datetime = Field(description="When control-api recorded it.")


@router.get("/dlq", response_model=Page[DeadLetterOut], summary="Dead letters, newest first")
async def list_dead_letters(
    conn: ReadConn,
    _p: Viewer,
    topic: Annotated[str | None, Query(max_length=255, description="Only from this topic.")] = None,
    limit: Annotated[int, Query(ge=1, le=500, description="At most this many per page.")] = 100,
    cursor: Annotated[str | None, Query(max_length=500, description="`next_cursor` of the previous page.")] = None,
) -> Page[DeadLetterOut]:
    """Messages that failed their retries or were malformed, with enough to replay them."""
    stmt = select(DeadLetterRow).order_by(DeadLetterRow.recorded_at.desc(), DeadLetterRow.event_id.desc())
    if topic:
        stmt = stmt.where(DeadLetterRow.original_topic == topic)
    if cursor:
        at, key = decode_cursor(cursor)
        stmt = stmt.where(
            or_(DeadLetterRow.recorded_at < at, and_(DeadLetterRow.recorded_at == at, DeadLetterRow.event_id < key))
        )
    rows = (await conn.execute(stmt.limit(limit + 1))).all()
    items = [DeadLetterOut.model_validate(r, from_attributes=True) for r in rows[:limit]]
    next_cursor = encode_cursor(items[-1].recorded_at, items[-1].event_id) if len(rows) > limit else None
    return Page[DeadLetterOut](items=items, next_cursor=next_cursor)
