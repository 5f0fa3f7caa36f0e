"""GET /metrics/summary."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from ..deps import ReadConn, Viewer
from ..errors import error_responses
from . import service
from .schemas import MetricsSummary

router = APIRouter(prefix="/metrics", tags=["metrics"], responses=error_responses(401, 403, 422))


@router.get("/summary", response_model=MetricsSummary, summary="What Medic did this week")
async def metrics_summary(
    conn: ReadConn, _p: Viewer, days: Annotated[int, Query(ge=1, le=90, description="Window length in days.")] = 7
) -> MetricsSummary:
    """Issues detected, fixed automatically, mean/median time to fix, success rate, rollbacks, LLM spend, daily series."""
    return await service.summary(conn, days=days)
