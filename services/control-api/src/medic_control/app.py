"""Builds the control-api process: pause/resume (the kill switch) on the runtime's bus."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from medic_contracts import CommandName, ControlCommand
from medic_runtime import ServiceRuntime, run_service

from .settings import ControlSettings


class PauseRequest(BaseModel):
    """Why the operator pauses or resumes."""

    reason: str = Field(default="", max_length=500, description="Shown with the pause state.")
    actor: str = Field(default="operator", max_length=200, description="Who asks.")


def build(settings: ControlSettings) -> ServiceRuntime:
    """Wire control-api's routes onto a runtime."""
    runtime = ServiceRuntime(settings)
    router = APIRouter(prefix="/api/v1")

    async def publish(command: CommandName, body: PauseRequest) -> dict[str, Any]:
        paused = command is CommandName.PAUSE
        event = runtime.new(ControlCommand, command=command, actor=body.actor, reason=body.reason, paused=paused)
        await runtime.bus.publish_now(event)
        return {"command": command.value, "event_id": event.event_id, "paused": paused}

    @router.post("/control/pause")
    async def pause(body: PauseRequest) -> dict[str, Any]:
        return await publish(CommandName.PAUSE, body)

    @router.post("/control/resume")
    async def resume(body: PauseRequest) -> dict[str, Any]:
        return await publish(CommandName.RESUME, body)

    @router.get("/control/state")
    async def state() -> dict[str, Any]:
        snap = runtime.control.snapshot()
        return {
            "paused": snap.paused,
            "reason": snap.paused_reason,
            "config": snap.config.model_dump(mode="json") if snap.config else None,
        }

    runtime.http.include_router(router)
    return runtime


def main() -> None:
    """Console script `medic-control-api`."""
    run_service(ControlSettings, build)
