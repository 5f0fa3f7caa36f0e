"""GET /strategies."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from ..deps import ReadConn, Viewer
from ..errors import error_responses
from . import service
from .schemas import StrategyReport

router = APIRouter(prefix="/strategies", tags=["strategies"], responses=error_responses(401, 403, 422))


@router.get("", response_model=StrategyReport, summary="How each fix strategy fares over time")
async def list_strategies(
    conn: ReadConn,
    _p: Viewer,
    days: Annotated[int, Query(ge=1, le=365, description="Window length in days.")] = 28,
    bucket_days: Annotated[int, Query(ge=1, le=90, description="Days per period of the success-rate series.")] = 7,
) -> StrategyReport:
    """Per strategy: fixes, promotions, rollbacks, rejections, failed tests, ratings, success rate and confidence,
    with the success rate per period."""
    return await service.report(conn, days=days, bucket_days=bucket_days)
