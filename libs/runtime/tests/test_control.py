"""The control plane: reads state before acting, applies pause/config live, fails closed, refuses side effects."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from medic_contracts import (
    ActionRecorded,
    ActionStatus,
    CommandName,
    ControlCommand,
    MedicConfig,
    Producer,
    TopicName,
    TopicRegistry,
)
from medic_runtime import ServiceRuntime, ServiceSettings, SideEffectRefused

from .conftest import decode, eventually, read_topic

pytestmark = pytest.mark.kafka

OPERATOR = Producer(service="control-api", instance="c-1")


def command(name: CommandName, **fields: object) -> ControlCommand:
    return ControlCommand(producer=OPERATOR, command=name, actor="test", **fields)  # type: ignore[arg-type]


async def test_state_published_before_start_is_read_before_the_service_acts(
    service_settings: Callable[..., ServiceSettings],
) -> None:
    settings = service_settings("svc")
    publisher = ServiceRuntime(service_settings("publisher"))
    await publisher.start()
    try:
        config = MedicConfig(version=3, autonomy_level=1)
        await publisher.bus.publish_now(
            command(
                CommandName.STATE_SNAPSHOT,
                paused=True,
                reason="incident",
                config=config.model_dump(mode="json"),
                config_version=3,
            )
        )
        rt = ServiceRuntime(settings)
        await rt.start()
        try:
            assert rt.paused and rt.control.pause_reason == "incident"
            current = rt.config()
            assert current is not None and current.version == 3 and current.autonomy_level == 1
        finally:
            await rt.stop()
    finally:
        await publisher.stop()


async def test_pause_applies_within_a_second_and_side_effects_are_refused_and_audited(
    service_settings: Callable[..., ServiceSettings], topics: TopicRegistry, kafka_bootstrap: str
) -> None:
    rt = ServiceRuntime(service_settings("svc"))
    await rt.start()
    try:
        assert not rt.paused
        await rt.guard("git.push", issue_id="iss_1")  # allowed while running
        await rt.bus.publish_now(command(CommandName.PAUSE, paused=True, reason="incident"))
        sent = time.monotonic()
        await eventually(lambda: rt.paused, timeout=5)
        assert time.monotonic() - sent < 1.0
        with pytest.raises(SideEffectRefused, match="incident"):
            await rt.guard("git.push", issue_id="iss_1")
        records = await read_topic(
            kafka_bootstrap, topics.name(TopicName.ACTIONS), until=lambda r: any(b"git.push" in (x.value or b"") for x in r)
        )
        refused = [e for e in decode(records) if isinstance(e, ActionRecorded) and e.action == "git.push"]
        assert [e.status for e in refused] == [ActionStatus.REFUSED] and refused[0].issue_id == "iss_1"
    finally:
        await rt.stop()


async def test_kill_switch_in_config_pauses_and_an_older_config_never_replaces_a_newer_one(
    service_settings: Callable[..., ServiceSettings],
) -> None:
    rt = ServiceRuntime(service_settings("svc"))
    await rt.start()
    try:
        await rt.bus.publish_now(
            command(CommandName.CONFIG_CHANGED, config=MedicConfig(version=5, active=False).model_dump(mode="json"))
        )
        await eventually(lambda: rt.paused and "kill switch" in rt.control.pause_reason)
        await rt.bus.publish_now(
            command(CommandName.STATE_SNAPSHOT, paused=False, config=MedicConfig(version=4).model_dump(mode="json"))
        )
        await rt.bus.publish_now(command(CommandName.CONFIG_CHANGED, config=MedicConfig(version=6).model_dump(mode="json")))
        await eventually(lambda: (rt.config() or MedicConfig()).version == 6)
        assert not rt.paused
    finally:
        await rt.stop()


async def test_missing_or_stale_config_fails_closed(service_settings: Callable[..., ServiceSettings]) -> None:
    rt = ServiceRuntime(service_settings("svc", config_max_age_s=1))
    await rt.start()
    try:
        assert rt.config() is None, "no config known: callers fail closed"
        await rt.bus.publish_now(command(CommandName.CONFIG_CHANGED, config=MedicConfig(version=1).model_dump(mode="json")))
        await eventually(lambda: rt.config() is not None)
        assert rt.control.config(now=time.time() + 5) is None, "a config older than config_max_age_s is stale"
    finally:
        await rt.stop()


async def test_live_commands_reach_registered_handlers(service_settings: Callable[..., ServiceSettings]) -> None:
    rt = ServiceRuntime(service_settings("svc"))
    seen: list[str] = []

    @rt.on_command(CommandName.APPROVE)
    async def on_approve(cmd: ControlCommand) -> None:
        seen.append(cmd.approval_id or "")

    await rt.start()
    try:
        await rt.bus.publish_now(command(CommandName.APPROVE, approval_id="apr_1", diff_hash="sha256:x"))
        await eventually(lambda: seen == ["apr_1"])
    finally:
        await rt.stop()
