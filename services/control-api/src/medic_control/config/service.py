"""The configuration in force, its history, the level-3 rule, and the pause state."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from medic_contracts import AutonomyLevel, CommandName, ControlCommand, MedicConfig, Producer, utcnow
from medic_runtime import Transaction

from ..actions import service as audit
from ..actions.models import Action
from ..auth.schemas import Principal
from ..errors import Conflict, Unprocessable
from .models import ConfigVersion, ControlState
from .schemas import CommandAccepted, ConfigDocument, ConfigUpdate, ControlStateOut, Level3Check

__all__ = [
    "LEVEL3_WINDOW",
    "current_config",
    "ensure_initial",
    "level3_check",
    "lock_audit",
    "publish_command",
    "set_paused",
    "state",
    "state_snapshot",
    "update_config",
]

#: How long Medic must have run at level 2 before level 3 is allowed without an override.
LEVEL3_WINDOW = timedelta(days=30)
_SUCCESS_RATE = 0.95


def _document(row: Any) -> ConfigDocument:
    return ConfigDocument(
        version=row.version,
        config=MedicConfig.model_validate(row.config),
        created_at=row.created_at,
        created_by=row.created_by,
        reason=row.reason,
        override_reason=row.override_reason,
    )


async def ensure_initial(conn: AsyncConnection, *, now: datetime | None = None) -> None:
    """Create configuration version 1 (defaults) and the running state if the store has none."""
    now = now or utcnow()
    if (await conn.execute(select(ConfigVersion.version).limit(1))).first() is None:
        config = MedicConfig(version=1)
        await conn.execute(
            insert(ConfigVersion).values(
                version=1,
                config=config.model_dump(mode="json"),
                autonomy_level=int(config.autonomy_level),
                active=config.active,
                created_at=now,
                created_by="system",
                reason="initial defaults",
            )
        )
    if (await conn.execute(select(ControlState.id))).first() is None:
        await conn.execute(insert(ControlState).values(id=1, paused=False, reason="", updated_at=now, updated_by="system"))


async def current_config(conn: AsyncConnection) -> ConfigDocument:
    """The configuration in force (the highest version)."""
    row = (await conn.execute(select(ConfigVersion).order_by(ConfigVersion.version.desc()).limit(1))).first()
    if row is None:
        raise Conflict("no configuration yet")  # ensure_initial runs at start-up: only a broken store gets here
    return _document(row)


async def state(conn: AsyncConnection) -> ControlStateOut:
    """The pause state and configuration in force."""
    row = (await conn.execute(select(ControlState).where(ControlState.id == 1))).first()
    doc = await current_config(conn)
    if row is None:
        raise Conflict("no control state yet")
    return ControlStateOut(
        paused=row.paused, reason=row.reason, config=doc.config, updated_at=row.updated_at, updated_by=row.updated_by
    )


async def state_snapshot(conn: AsyncConnection, *, producer: Producer) -> ControlCommand:
    """The ``state_snapshot`` command: paused flag and the full configuration with its version."""
    current = await state(conn)
    return ControlCommand(
        producer=producer,
        command=CommandName.STATE_SNAPSHOT,
        actor="control-api",
        reason=current.reason,
        paused=current.paused,
        config=current.config.model_dump(mode="json"),
        config_version=current.config.version,
    )


async def publish_command(
    tx: Transaction, *, command: ControlCommand, principal: Principal, summary: str, details: dict[str, Any] | None = None
) -> None:
    """Publish a command (outbox, same transaction) and audit it under the caller's identity."""
    tx.emit(command)
    await audit.append(
        tx.conn,
        [
            audit.AuditRecord(
                event_id=command.event_id,
                event_type=command.event_type,
                issue_id=command.issue_id,
                occurred_at=command.occurred_at,
                service="control-api",
                actor=principal.identity,
                action=f"control.{command.command.value}",
                status="succeeded",
                summary=summary,
                reasoning=command.reason or None,
                details={"via": principal.via, "role": principal.role.label, **(details or {})},
            )
        ],
    )


async def lock_audit(tx: Transaction) -> None:
    """Take the audit append lock at the start of an API write."""
    await audit.lock(tx.conn)


async def set_paused(tx: Transaction, *, paused: bool, reason: str, principal: Principal) -> CommandAccepted:
    """Pause or resume every service (the kill switch): state stored, command published, audited."""
    await audit.lock(tx.conn)
    now = utcnow()
    await tx.conn.execute(
        update(ControlState)
        .where(ControlState.id == 1)
        .values(paused=paused, reason=reason if paused else "", updated_at=now, updated_by=principal.identity)
    )
    name = CommandName.PAUSE if paused else CommandName.RESUME
    command = ControlCommand(producer=tx.producer, command=name, actor=principal.identity, reason=reason, paused=paused)
    verb = "paused" if paused else "resumed"
    await publish_command(
        tx, command=command, principal=principal, summary=f"{verb} by {principal.identity}" + (f": {reason}" if reason else "")
    )
    return CommandAccepted(command=name.value, event_id=command.event_id, paused=paused)


async def _days_at_level_2(conn: AsyncConnection, now: datetime) -> float:
    rows = (
        await conn.execute(
            select(ConfigVersion.version, ConfigVersion.autonomy_level, ConfigVersion.active, ConfigVersion.created_at).order_by(
                ConfigVersion.version.desc()
            )
        )
    ).all()
    since: datetime | None = None
    for row in rows:  # newest first: walk back while the level stayed 2 and Medic stayed active
        if row.autonomy_level != int(AutonomyLevel.AUTO_LOW_RISK) or not row.active:
            break
        since = row.created_at
    return 0.0 if since is None else (now - since).total_seconds() / 86400


async def level3_check(conn: AsyncConnection, *, now: datetime | None = None) -> Level3Check:
    """Whether the last 30 days allow level 3: at level 2 throughout, ≥95% success, no failed auto-deploys."""
    now = now or utcnow()
    days = await _days_at_level_2(conn, now)
    rows = (
        await conn.execute(
            select(Action.action, Action.details).where(
                and_(Action.action.like("deployment.production.%"), Action.occurred_at >= now - LEVEL3_WINDOW)
            )
        )
    ).all()
    good = bad = failed_auto = 0
    for row in rows:
        outcome = row.action.rsplit(".", 1)[-1]
        event = (row.details or {}).get("event") or {}
        if outcome in ("promoted", "verified"):
            good += 1
        elif outcome in ("failed", "rolled_back"):
            bad += 1
            if not event.get("approval_id"):
                failed_auto += 1
    judged = good + bad
    rate = good / judged if judged else None
    unmet: list[str] = []
    if days < LEVEL3_WINDOW.days:
        unmet.append(f"level 2 has run for {days:.1f} of the required {LEVEL3_WINDOW.days} days")
    if rate is None:
        unmet.append("no production deployments in the last 30 days to judge the success rate")
    elif rate < _SUCCESS_RATE:
        unmet.append(f"success rate {rate:.1%} is below {_SUCCESS_RATE:.0%}")
    if failed_auto:
        unmet.append(f"{failed_auto} automatic production deployment(s) failed or were rolled back")
    return Level3Check(
        eligible=not unmet,
        unmet=unmet,
        days_at_level_2=round(days, 2),
        production_deployments=judged,
        success_rate=rate,
        failed_auto_deployments=failed_auto,
    )


async def update_config(tx: Transaction, *, body: ConfigUpdate, principal: Principal) -> ConfigDocument:
    """Save a new configuration version, publish ``config_changed`` with it, and audit the change.

    Raising the autonomy level to 3 is refused unless :func:`level3_check` passes or an admin gives
    an override reason (audited with the criteria that were not met).
    """
    await audit.lock(tx.conn)
    now = utcnow()
    current = await current_config(tx.conn)
    if body.expected_version is not None and body.expected_version != current.version:
        raise Conflict(f"configuration is at version {current.version}, not {body.expected_version}")
    raising_to_3 = body.config.autonomy_level == AutonomyLevel.FULL and current.config.autonomy_level != AutonomyLevel.FULL
    check: Level3Check | None = None
    override: str | None = None
    if raising_to_3:
        check = await level3_check(tx.conn, now=now)
        if not check.eligible:
            if not body.override_reason:
                raise Unprocessable(
                    "autonomy level 3 refused: " + "; ".join(check.unmet) + " (an admin may override with a reason)"
                )
            override = body.override_reason
    version = current.version + 1
    config = body.config.model_copy(update={"version": version})
    data = config.model_dump(mode="json")
    await tx.conn.execute(
        insert(ConfigVersion).values(
            version=version,
            config=data,
            autonomy_level=int(config.autonomy_level),
            active=config.active,
            created_at=now,
            created_by=principal.identity,
            reason=body.reason,
            override_reason=override,
        )
    )
    command = ControlCommand(
        producer=tx.producer,
        command=CommandName.CONFIG_CHANGED,
        actor=principal.identity,
        reason=body.reason,
        config=data,
        config_version=version,
    )
    changed = sorted(k for k, v in data.items() if k != "version" and current.config.model_dump(mode="json").get(k) != v)
    details: dict[str, Any] = {"version": version, "previous_version": current.version, "changed": changed}
    if override is not None and check is not None:
        details["level3_override"] = {"reason": override, "unmet": check.unmet}
    summary = f"configuration v{version} by {principal.identity}: " + (", ".join(changed) or "no field changed")
    if override is not None:
        summary += " (level-3 rule overridden)"
    await publish_command(tx, command=command, principal=principal, summary=summary, details=details)
    return ConfigDocument(
        version=version,
        config=config,
        created_at=now,
        created_by=principal.identity,
        reason=body.reason,
        override_reason=override,
    )
