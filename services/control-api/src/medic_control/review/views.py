"""GET /review/weekly and POST /review/weekly/send: the weekly review, read or delivered now."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request

from ..db import utc
from ..deps import Ctx, Operator, ReadConn, Viewer
from ..errors import error_responses
from . import service
from .digest import WeeklyDigest
from .schemas import ReviewSent, WeeklyReview

router = APIRouter(prefix="/review", tags=["review"], responses=error_responses(401, 403, 422))

Until = Annotated[datetime | None, Query(description="End of the week reviewed (ISO 8601 with offset); default now.")]


@router.get("/weekly", response_model=WeeklyReview, summary="The week in review beside the success targets")
async def weekly_review(conn: ReadConn, ctx: Ctx, _p: Viewer, until: Until = None) -> WeeklyReview:
    """Issues detected, P2–P4 fixed automatically, median time to fix, failed auto-deployments, fix success rate,
    rollbacks, false positives marked by humans, SLA misses and LLM spend, each beside its target; and the P4 issues."""
    return await service.weekly(conn, until=utc(until) if until else ctx.clock())


@router.post("/weekly/send", response_model=ReviewSent, summary="Deliver the weekly review now", responses=error_responses(429))
async def send_weekly_review(request: Request, _p: Operator, until: Until = None) -> ReviewSent:
    """Send the review to the configured Slack channel and email recipients (as the weekly schedule does)."""
    digest: WeeklyDigest = request.app.state.weekly_digest
    return await digest.send(until=utc(until) if until else None)
