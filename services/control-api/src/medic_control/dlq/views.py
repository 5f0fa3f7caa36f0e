"""GET /dlq: messages a consumer gave up on."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field
from sqlalchemy import select

from ..deps import ReadConn, Viewer
from ..errors import error_responses
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


@router.get("/dlq", response_model=list[DeadLetterOut], summary="Dead letters, newest first")
async def list_dead_letters(
    conn: ReadConn,
    _p: Viewer,
    topic: Annotated[str | None, Query(max_length=255, description="Only from this topic.")] = None,
    limit: Annotated[int, Query(ge=1, le=500, description="At most this many.")] = 100,
) -> list[DeadLetterOut]:
    """Messages that failed their retries or were malformed, with enough to replay them."""
    stmt = select(DeadLetterRow).order_by(DeadLetterRow.recorded_at.desc()).limit(limit)
    if topic:
        stmt = stmt.where(DeadLetterRow.original_topic == topic)
    return [DeadLetterOut.model_validate(r, from_attributes=True) for r in (await conn.execute(stmt)).all()]
