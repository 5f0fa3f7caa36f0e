"""A minimal real service for cross-process runtime tests: ``python -m medic_runtime.testing.echo``.

It consumes ActionRecorded events from ``MEDIC_ECHO_IN`` and, for each, publishes an ActionRecorded
``echo.handled`` (caused by the input, same trace) to ``MEDIC_ECHO_OUT``. With
``MEDIC_ECHO_SIDE_EFFECT=true`` each event also attempts a side effect, which the pause gate
refuses (and audits) while paused. It uses nothing but the runtime, so it proves the runtime's
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
    return runtime


def main() -> None:
    """Run the echo service."""
    run_service(EchoSettings, build)


if __name__ == "__main__":
    main()
