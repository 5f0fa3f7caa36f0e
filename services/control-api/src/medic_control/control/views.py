"""POST /control/pause|resume|scan and GET /control/state: the kill switch and manual scans."""

from __future__ import annotations

from fastapi import APIRouter

from medic_contracts import CommandName, ControlCommand

from ..config import service as config_service
from ..config.schemas import CommandAccepted, ControlReason, ControlStateOut, ScanRequest
from ..deps import Ctx, Operator, ReadConn, Viewer
from ..errors import error_responses

router = APIRouter(prefix="/control", tags=["control"], responses=error_responses(401, 403, 422))


@router.get("/state", response_model=ControlStateOut, summary="Pause state and configuration in force")
async def get_state(conn: ReadConn, _p: Viewer) -> ControlStateOut:
    """What services read at start-up: `{paused, reason, config}` (viewer role is enough)."""
    return await config_service.state(conn)


@router.post(
    "/pause", response_model=CommandAccepted, summary="Pause every service (kill switch)", responses=error_responses(429)
)
async def pause(body: ControlReason, ctx: Ctx, principal: Operator) -> CommandAccepted:
    """Store the pause and broadcast a `pause` ControlCommand: every side effect stops within a second."""
    async with ctx.runtime.transaction() as tx:
        return await config_service.set_paused(tx, paused=True, reason=body.reason, principal=principal)


@router.post("/resume", response_model=CommandAccepted, summary="Resume every service", responses=error_responses(429))
async def resume(body: ControlReason, ctx: Ctx, principal: Operator) -> CommandAccepted:
    """Store the resume and broadcast a `resume` ControlCommand."""
    async with ctx.runtime.transaction() as tx:
        return await config_service.set_paused(tx, paused=False, reason=body.reason, principal=principal)


@router.post(
    "/scan", response_model=CommandAccepted, summary="Ask the watcher to scan its sources now", responses=error_responses(429)
)
async def scan(body: ScanRequest, ctx: Ctx, principal: Operator) -> CommandAccepted:
    """Broadcast a `scan` ControlCommand (the watcher polls every source at once)."""
    async with ctx.runtime.transaction() as tx:
        await config_service.lock_audit(tx)
        command = ControlCommand(
            producer=tx.producer, command=CommandName.SCAN, actor=principal.identity, reason=body.reason, target=body.target
        )
        await config_service.publish_command(
            tx,
            command=command,
            principal=principal,
            summary=f"scan requested by {principal.identity}" + (f" for {body.target}" if body.target else ""),
        )
    return CommandAccepted(command=command.command.value, event_id=command.event_id)
