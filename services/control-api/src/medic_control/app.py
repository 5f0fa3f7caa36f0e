"""Builds the control-api process: the projector, the REST API, the dashboard and the state snapshots.

Start-up order: migrations (the store's tables), then the runtime (topics, control plane, bus:
the projector starts consuming), then the initial configuration and any bootstrap token, then
the periodic ``state_snapshot`` every ``MEDIC_SNAPSHOT_INTERVAL_S``, the SLA deadline check every
``MEDIC_SLA_CHECK_INTERVAL_S`` and the weekly review when it is due.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from sqlalchemy import event

from medic_contracts import ControlCommand, TopicRegistry
from medic_runtime import Delivery, HandlerContext, ServiceRuntime, run_service

from . import events_views
from .actions import tree as audit_tree
from .actions import views as action_views
from .actions.keys import load_or_create_signing_key
from .actions.witness import WitnessError, witness_from_url
from .agents import views as agent_views
from .approvals import views as approval_views
from .auth import service as tokens
from .auth import views as auth_views
from .auth.schemas import Role
from .config import service as config_service
from .config import views as config_views
from .context import ControlContext
from .control import views as control_views
from .dashboard import views as dashboard_views
from .db import migrate
from .dlq import views as dlq_views
from .docs import install_docs
from .errors import install_error_handlers
from .issues import views as issue_views
from .metrics import views as metrics_views
from .middleware import BodyLimit, JsonBodies, SecurityHeaders
from .notify import Notifier
from .projector import Delivered, project
from .review import views as review_views
from .review.digest import WeeklyDigest
from .settings import ControlSettings
from .sla.service import DeadlineWatch
from .strategies import views as strategy_views

__all__ = ["ControlRuntime", "build", "main"]

log = logging.getLogger("medic.control")


class ControlRuntime(ServiceRuntime):
    """The runtime, with control-api's migrations run before anything consumes."""

    async def start(self) -> None:
        """Migrate the store, then start the runtime."""
        if self.store.dialect == "sqlite":
            # REPLACE's implicit delete then fires the audit trail's no-delete trigger too (belt and braces:
            # migration 0005's insert guard refuses it without this pragma as well).
            event.listen(self.store.engine.sync_engine, "connect", _sqlite_recursive_triggers)
        await migrate(self.store.engine, schema=self.store.schema)
        await super().start()


def _sqlite_recursive_triggers(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA recursive_triggers = ON")
    cursor.close()


def build(
    settings: ControlSettings, *, clock: Callable[[], datetime] | None = None, notifier: Notifier | None = None
) -> ServiceRuntime:
    """Wire control-api onto a runtime (tests may fix the clock and hand in channels)."""
    runtime = ControlRuntime(settings)
    runtime.publishes(ControlCommand)
    ctx = ControlContext.create(settings, runtime, clock=clock, notifier=notifier)
    app = runtime.http
    app.state.control = ctx
    _request_spans_only(app)
    app.title = "Medic control API"
    app.version = "1"
    app.description = (
        "Config, approvals, audit trail, issues and the kill switch of Medic. Authenticate with "
        "`Authorization: Bearer <token>` (API token or OIDC JWT); viewer < operator < admin."
    )

    async def on_events(batch: Sequence[tuple[Any, Delivery]], hctx: HandlerContext) -> None:
        await project(hctx.conn, [Delivered(event, delivery.replay_of) for event, delivery in batch])

    if settings.projector_enabled:
        # One consumer of every topic: a delivery batch carries each issue's events from all of them, so
        # the issue is read and written once per batch, and batches do not queue on the audit lock behind
        # each other. No runtime inbox: the audit trail is keyed by event id, so a redelivered event is
        # recognised there and projects nothing.
        specs = TopicRegistry(settings.topic_prefix).specs()
        runtime.consume_batch(
            [spec.name for spec in specs],
            *dict.fromkeys(event for spec in specs for event in spec.events),
            group_id=f"{settings.topic_prefix}{settings.service_name}.projector",
            inbox=False,
        )(on_events)

    @runtime.on_start
    async def initial_state() -> None:
        ctx.audit_key = await asyncio.to_thread(load_or_create_signing_key, settings.resolved_audit_key_file())
        await ctx.open_read_pool()
        async with runtime.store.transaction() as conn:
            await config_service.ensure_initial(conn)
            if settings.bootstrap_admin_token:
                await tokens.ensure_token(conn, name="bootstrap-admin", role=Role.ADMIN, secret=settings.bootstrap_admin_token)
            if settings.control_api_token:
                await tokens.ensure_token(conn, name="services", role=Role.VIEWER, secret=settings.control_api_token)

    @runtime.on_stop
    async def close_reads() -> None:
        if ctx.background:
            await asyncio.wait(set(ctx.background), timeout=10)  # refusal audits in flight
        await ctx.close_read_pool()
        if ctx.read_engine is not runtime.store.engine:
            await ctx.read_engine.dispose()

    @runtime.every(settings.snapshot_interval_s, name="state-snapshot")
    async def publish_snapshot() -> None:
        async with runtime.transaction() as tx:
            tx.emit(await config_service.state_snapshot(tx.conn, producer=runtime.producer))

    if settings.audit_witness_url:
        token = settings.audit_witness_token.get_secret_value() if settings.audit_witness_token else None
        witness = witness_from_url(settings.audit_witness_url, token=token)
        published = {"size": -1}

        @runtime.every(settings.audit_checkpoint_interval_s, name="audit-checkpoint")
        async def publish_checkpoint() -> None:
            assert ctx.audit_key is not None  # loaded at start, before any timer runs
            async with ctx.read_engine.connect() as conn:
                checkpoint = await audit_tree.current_checkpoint(conn, key=ctx.audit_key, at=ctx.clock())
            if checkpoint.tree_size == published["size"]:
                return  # nothing new to witness
            try:
                await witness.publish(checkpoint)
            except WitnessError as exc:
                log.warning("audit checkpoint %d not published: %s", checkpoint.tree_size, exc)
                return
            published["size"] = checkpoint.tree_size

    deadlines = DeadlineWatch(runtime, ctx.notifier, clock=ctx.clock, dashboard_url=settings.dashboard_url)
    app.state.deadline_watch = deadlines

    @runtime.every(settings.sla_check_interval_s, name="sla-deadlines")
    async def check_deadlines() -> None:
        await deadlines.run_once()

    weekly = WeeklyDigest(runtime, ctx.notifier, clock=ctx.clock, settings=settings)
    app.state.weekly_digest = weekly

    @runtime.every(600, name="weekly-review")
    async def send_weekly_review() -> None:
        await weekly.send_if_due()

    # Each API router straight on the app (one router level less to match on every request), the most
    # requested first: routes are matched one by one, in this order.
    for module in (
        issue_views,
        control_views,
        config_views,
        approval_views,
        action_views,
        metrics_views,
        dlq_views,
        auth_views,
        events_views,
        strategy_views,
        review_views,
        agent_views,
    ):
        app.include_router(module.router, prefix="/api/v1")
    app.include_router(dashboard_views.router)
    dashboard_views.mount_static(app)
    install_error_handlers(app)
    install_docs(app)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(settings.cors_origins),
            allow_methods=["GET", "POST", "PUT", "DELETE"],
            allow_headers=["Authorization", "Content-Type"],
        )
    app.add_middleware(JsonBodies)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(SecurityHeaders)
    return runtime


def _request_spans_only(app: FastAPI) -> None:
    """Keep FastAPI's request spans but not its per-dependency and serialization spans.

    The runtime installs an SDK tracer provider, and FastAPI's native telemetry then traces every
    dependency, the endpoint and serialization of every request: on the issue list that costs more
    than the query. Request spans (with trace context from callers) are kept. FastAPI offers this
    only as a constructor argument of the app the runtime builds, hence the update of its config.
    """
    config = getattr(app, "_telemetry", None)
    if isinstance(config, dict):
        config.update(operation_spans=False, logs=False)


def main() -> None:
    """Console script `medic-control-api`."""
    run_service(ControlSettings, build)
