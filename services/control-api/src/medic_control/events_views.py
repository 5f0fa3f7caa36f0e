"""POST /events (project an event sent over HTTP) and GET /stream (server-sent audit feed)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Body, Header, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field, JsonValue, ValidationError

from medic_contracts import event_adapter

from .actions import service as audit
from .actions.schemas import ActionOut
from .config import service as config_service
from .deps import Admin, Ctx, Viewer
from .errors import Unprocessable, error_responses
from .projector import Delivered, project

router = APIRouter(tags=["events"], responses=error_responses(401, 403, 422))


class EventAccepted(BaseModel):
    """An event projected over HTTP."""

    event_id: str = Field(description="The event's id.")
    projected: bool = Field(description="False when the event (or the one it replays) was already projected.")


@router.post(
    "/events", response_model=EventAccepted, status_code=202, summary="Project one event", responses=error_responses(413, 429)
)
async def post_event(
    ctx: Ctx,
    _p: Admin,
    event: Annotated[dict[str, JsonValue], Body(description="One Medic event (any type), as published on the bus.")],
    replay_of: Annotated[
        str | None, Header(alias="replay-of", max_length=64, description="Id of the event this one replays.")
    ] = None,
) -> EventAccepted:
    """Project an event exactly as the bus consumer would (idempotent on its id): for tools and tests without Kafka."""
    try:
        parsed = event_adapter().validate_python(event)
    except ValidationError as exc:
        raise Unprocessable(
            "not a valid Medic event: " + "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()[:5])
        ) from None
    async with ctx.runtime.store.transaction() as conn:
        result = await project(conn, [Delivered(parsed, replay_of)])
    return EventAccepted(event_id=parsed.event_id, projected=result.appended > 0)


def _sse(event: str, data: Any, event_id: int | None = None) -> str:
    lines = [f"event: {event}"]
    if event_id is not None:
        lines.append(f"id: {event_id}")
    lines.append("data: " + json.dumps(data, default=str, separators=(",", ":")))
    return "\n".join(lines) + "\n\n"


@router.get(
    "/stream",
    summary="Live feed of audit entries and pause state (server-sent events)",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description": "`action` and `state` events."}},
)
async def stream(
    request: Request,
    ctx: Ctx,
    _p: Viewer,
    after: Annotated[int | None, Query(ge=0, le=2**62, description="Start after this seq (default: now).")] = None,
    last_event_id: Annotated[int | None, Header(alias="last-event-id", ge=0, le=2**62)] = None,
    poll_s: Annotated[float, Query(ge=0.2, le=10, description="How often the store is polled.")] = 1.0,
) -> StreamingResponse:
    """New audit entries as `action` events and pause/config changes as `state` events, until the client leaves."""
    engine = ctx.read_engine

    async def events() -> AsyncIterator[str]:
        async with engine.connect() as conn:
            cursor = last_event_id if last_event_id is not None else after
            if cursor is None:
                cursor, _ = await audit.head(conn)
            current = await config_service.state(conn)
        seen_state = (current.paused, current.reason, current.config.version)
        yield _sse("state", {"paused": current.paused, "reason": current.reason, "config_version": current.config.version})
        while not await request.is_disconnected():
            async with engine.connect() as conn:
                rows = await audit.list_actions(conn, filters=audit.ActionFilter(after_seq=cursor), limit=200, newest_first=False)
                current = await config_service.state(conn)
            for row in rows:
                item = ActionOut.model_validate(row, from_attributes=True).model_dump(mode="json", exclude={"details"})
                cursor = row.seq
                yield _sse("action", item, row.seq)
            state = (current.paused, current.reason, current.config.version)
            if state != seen_state:
                seen_state = state
                yield _sse(
                    "state", {"paused": current.paused, "reason": current.reason, "config_version": current.config.version}
                )
            if not rows:
                yield ": keep-alive\n\n"
                await asyncio.sleep(poll_s)

    return StreamingResponse(
        events(), media_type="text/event-stream", headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    )
