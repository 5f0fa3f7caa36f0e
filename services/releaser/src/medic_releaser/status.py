"""Release runs as an operator sees them (``medic releases``): read straight from the releaser's store."""

from __future__ import annotations

from typing import Any

from medic_runtime import ServiceStore

from .adapters.store import RunStore, release_metadata

__all__ = ["list_runs"]


async def list_runs(*, store_url: str, active_only: bool = False) -> list[dict[str, Any]]:
    """Every run (or only unfinished ones), newest first, as plain dicts."""
    store = ServiceStore(store_url, service="releaser")
    try:
        await store.create_all(release_metadata)
        runs = RunStore(store)
        if active_only:
            found = await runs.active()
        else:
            found = await runs.all()
        out = []
        for run in sorted(found, key=lambda r: -r.created_at):
            state = run.state()
            out.append(
                {
                    "run_id": run.run_id,
                    "issue_id": run.issue_id,
                    "target": run.target,
                    "severity": run.issue.severity.value,
                    "stage": run.stage.value,
                    "phase": run.phase.value,
                    "status": run.status.value,
                    "reason": run.reason,
                    "deployment": state.deployment.id if state.deployment else None,
                    "watch_until": state.watch_until,
                    "approval_id": state.approval_id,
                    "updated_at": run.updated_at,
                }
            )
        return out
    finally:
        await store.close()
