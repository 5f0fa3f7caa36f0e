"""What the operator does in the demo, through control-api and the ``medic`` CLI like a human would."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx

from medic_contracts import AutonomyLevel, MedicConfig

from .follow import LoopFollower
from .scenario import DemoResult, Scenario
from .screen import Screen

__all__ = ["approve_through_cli", "configure", "operator_token"]


def _operator_env(api_url: str, token: str) -> dict[str, str]:
    return {**os.environ, "MEDIC_API_URL": api_url, "MEDIC_TOKEN": token}


async def _api(client: httpx.AsyncClient, method: str, path: str, token: str, **kwargs: Any) -> Any:
    response = await client.request(method, path, headers={"Authorization": f"Bearer {token}"}, **kwargs)
    if response.status_code >= 400:
        raise RuntimeError(f"{method} {path}: {response.status_code} {response.text[:300]}")
    return response.json() if response.content else None


async def configure(api_url: str, admin: str, scenario: Scenario) -> str:
    """Set the autonomy level for the scenario through the API; return a note for the screen."""
    level = AutonomyLevel.MONITOR if scenario == "approval" else AutonomyLevel.FULL
    async with httpx.AsyncClient(base_url=api_url, timeout=10) as client:
        current = await _api(client, "GET", "/api/v1/config", admin)
        config = MedicConfig.model_validate(current.get("config", current)).model_copy(update={"autonomy_level": level})
        body: dict[str, Any] = {"config": config.model_dump(mode="json"), "reason": f"medic demo ({scenario})"}
        if level is AutonomyLevel.FULL:
            body["override_reason"] = "demo: an unattended loop on the bundled example shop"
        await _api(client, "PUT", "/api/v1/config", admin, json=body)
    return (
        "level 1 — every change and deploy waits for a human"
        if level is AutonomyLevel.MONITOR
        else ("level 3 — full autonomy (admin override, audited)")
    )


async def operator_token(api_url: str, admin: str) -> str:
    async with httpx.AsyncClient(base_url=api_url, timeout=10) as client:
        created = await _api(client, "POST", "/api/v1/tokens", admin, json={"name": "demo-operator", "role": "operator"})
    return str(created["token"])


async def approve_through_cli(follower: LoopFollower, *, api_url: str, operator: str, screen: Screen, result: DemoResult) -> None:
    """What an operator does: `medic approve ID --yes` for each request (the demo plays the human)."""
    medic = str(Path(sys.executable).with_name("medic"))
    while True:
        request = await follower.approvals.get()
        await asyncio.sleep(1.0)  # let control-api project the request first
        for _ in range(20):
            done = await asyncio.to_thread(
                subprocess.run,
                [medic, "approve", request.approval_id, "--yes", "--reason", "looks right (demo)"],
                env=_operator_env(api_url, operator),
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )
            if done.returncode == 0:
                break
            await asyncio.sleep(1.0)
        result.approvals.append(request.approval_id)
        mark = "ok" if done.returncode == 0 else "fail"
        screen.line(
            mark,
            "approved",
            f"$ medic approve {request.approval_id} --yes → {(done.stdout or done.stderr).strip()[:100]}",
            "operator",
        )
