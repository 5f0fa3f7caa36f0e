"""GET/PUT /config and GET /config/level3: the configuration control-api owns."""

from __future__ import annotations

from fastapi import APIRouter

from ..deps import Admin, Ctx, ReadConn, Viewer
from ..errors import error_responses
from . import service
from .schemas import ConfigDocument, ConfigUpdate, Level3Check

router = APIRouter(prefix="/config", tags=["config"], responses=error_responses(401, 403, 422))


@router.get("", response_model=ConfigDocument, summary="The configuration in force")
async def get_config(conn: ReadConn, _p: Viewer) -> ConfigDocument:
    """Autonomy level, active flag, caps, protected paths, business hours, severity rules, LLM budget."""
    return await service.current_config(conn)


@router.put("", response_model=ConfigDocument, summary="Replace the configuration", responses=error_responses(409, 429))
async def put_config(body: ConfigUpdate, ctx: Ctx, principal: Admin) -> ConfigDocument:
    """Validate and save a new version, then publish `config_changed` with the full configuration.

    Level 3 is refused (422) unless the last 30 days ran at level 2 with ≥95% success and no failed
    automatic deployment, or `override_reason` is given (audited).
    """
    async with ctx.runtime.transaction() as tx:
        return await service.update_config(tx, body=body, principal=principal)


@router.get("/level3", response_model=Level3Check, summary="Whether level 3 is allowed without an override")
async def get_level3(conn: ReadConn, _p: Viewer) -> Level3Check:
    """The level-3 criteria over the last 30 days and which of them are unmet."""
    return await service.level3_check(conn)
