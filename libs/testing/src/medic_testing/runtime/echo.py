"""A minimal real service for cross-process runtime tests: ``python -m medic_testing.runtime.echo``.

It consumes ActionRecorded events from ``MEDIC_ECHO_IN`` and, for each, publishes an ActionRecorded
``echo.handled`` (caused by the input, same trace) to ``MEDIC_ECHO_OUT``. With
``MEDIC_ECHO_SIDE_EFFECT=true`` each event also attempts a side effect, which the pause gate
refuses (and audits) while paused. With ``MEDIC_ECHO_HEARTBEAT_S`` it also emits an ActionRecorded
``echo.heartbeat`` to ``MEDIC_ECHO_OUT`` that often, through the outbox (a service that keeps
producing while the broker is away). It declares its own topics, so a broker that lost them gets
them back. It uses nothing but the runtime, so it proves the runtime's
guarantees across process boundaries independently of any domain service.
"""

from __future__ import annotations

from medic_contracts import ActionRecorded, ActionStatus
from medic_runtime import HandlerContext, ServiceRuntime, ServiceSettings, SideEffectRefused, run_service
from medic_runtime.observability import current_trace_id


class EchoSettings(ServiceSettings):
    """Settings of the echo test service."""

    service_name: str = "echo"
    echo_in: str = "echo.in"
    echo_out: str = "echo.out"
    echo_group: str | None = None
    echo_side_effect: bool = False
    echo_heartbeat_s: float | None = None
    echo_partitions: int = 3


def build(settings: EchoSettings) -> ServiceRuntime:
    """Wire the echo handler onto a runtime."""
    runtime = ServiceRuntime(settings)

    async def handle(event: ActionRecorded, ctx: HandlerContext) -> None:
        if settings.echo_side_effect:
            try:
                runtime.control.require_running("echo.side_effect")
            except SideEffectRefused as refused:
                ctx.record("echo.side_effect", ActionStatus.REFUSED, str(refused), issue_id=event.issue_id, caused_by=event)
                return
        reply = event.follow_up(
            ActionRecorded,
            producer=runtime.producer,
            action="echo.handled",
            status=ActionStatus.SUCCEEDED,
            summary=event.summary,
            details={"instance": settings.instance_id, "trace_id": current_trace_id(), "input_event_id": event.event_id},
        )
        ctx.emit(reply, topic=settings.echo_out)

    runtime.bus.subscribe(settings.echo_in, handle, accepts=(ActionRecorded,), group_id=settings.echo_group)
    runtime.declare_topic(settings.echo_in, settings.echo_partitions)
    runtime.declare_topic(settings.echo_out, settings.echo_partitions)
    if settings.echo_heartbeat_s:
        beats = 0

        @runtime.every(settings.echo_heartbeat_s, name="echo-heartbeat")
        async def heartbeat() -> None:
            nonlocal beats
            beats += 1
            async with runtime.transaction() as tx:
                beat = runtime.new(
                    ActionRecorded,
                    action="echo.heartbeat",
                    status=ActionStatus.SUCCEEDED,
                    summary=f"beat {beats}",
                    details={"instance": settings.instance_id, "beat": beats},
                )
                tx.emit(beat, topic=settings.echo_out)

    return runtime


def main() -> None:
    """Run the echo service."""
    run_service(EchoSettings, build)


if __name__ == "__main__":
    main()
