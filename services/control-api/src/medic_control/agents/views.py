"""GET /agents/{name}/logs: a Medic service's recent log lines, for the dashboard's logs view.

Each service keeps its latest lines in a bounded in-memory buffer and serves them on its own
(internal) HTTP port at ``/logs``; control-api reads them from the URLs in ``MEDIC_SERVICE_URLS``,
so a viewer never needs network access to the services themselves. ``control-api`` is itself.
"""

from __future__ import annotations

from typing import Annotated, Any

import httpx
from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field

from medic_runtime.observability import recent_logs

from ..deps import Ctx, Viewer
from ..errors import ControlError, NotFound, error_responses

__all__ = ["router"]

router = APIRouter(prefix="/agents", tags=["agents"], responses=error_responses(401, 403, 422))


class Unreachable(ControlError):
    """The service did not answer."""

    status, code = 502, "service_unreachable"


class LogLine(BaseModel):
    """One log line of a service."""

    ts: str = Field(description="When (UTC, ISO 8601).")
    level: str = Field(description="debug, info, warning, error or critical.")
    logger: str = Field(description="Logger name.")
    msg: str = Field(description="The message.")


class ServiceLogs(BaseModel):
    """A service's latest log lines, oldest first."""

    service: str = Field(description="Service name.", examples=["watcher"])
    instance: str | None = Field(default=None, description="The instance that answered.")
    lines: list[LogLine] = Field(description="Its latest lines, oldest first.")


@router.get(
    "/{name}/logs",
    response_model=ServiceLogs,
    summary="A service's recent log lines",
    responses=error_responses(404, 502),
)
async def service_logs(
    name: Annotated[str, Path(min_length=1, max_length=100, description="control-api, or a key of MEDIC_SERVICE_URLS.")],
    ctx: Ctx,
    _p: Viewer,
    limit: Annotated[int, Query(ge=1, le=2000, description="At most this many lines.")] = 200,
    level: Annotated[str, Query(pattern="^(debug|info|warning|error|critical)$", description="Lowest level shown.")] = "debug",
) -> ServiceLogs:
    """The newest lines from the service's own bounded buffer."""
    if name == ctx.settings.service_name:
        own = {"service": name, "instance": ctx.settings.instance_id, "lines": recent_logs.tail(limit, level)}
        return ServiceLogs.model_validate(own)
    url = ctx.settings.service_urls.get(name)
    if url is None:
        raise NotFound(f"no service {name!r} (configure its URL in MEDIC_SERVICE_URLS)")
    try:
        async with httpx.AsyncClient(timeout=ctx.settings.health_timeout_s) as client:
            response = await client.get(url.rstrip("/") + "/logs", params={"limit": limit, "level": level})
        response.raise_for_status()
        body: dict[str, Any] = response.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise Unreachable(f"{name} did not answer: {type(exc).__name__}") from None
    return ServiceLogs.model_validate({**body, "service": name})
