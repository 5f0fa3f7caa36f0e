"""Three narrow fixes to the Kafka client stack, applied once on import of the bus (``apply_client``: the aiokafka ones).

1. aiokafka asks for a producer id with InitProducerId **v0** only. The embedded Tansu broker
   answers v0 with an error (it reads producer id/epoch fields that only exist from v3), so an
   idempotent producer cannot start. We add InitProducerId v3 (flexible; producer id and epoch
   -1, i.e. "new producer"), which Kafka ≥ 2.5 and Tansu both accept; aiokafka picks the highest
   version the broker advertises.
2. FastStream's batch subscriber sleeps a whole ``batch_timeout_ms`` after an empty poll, on top of
   aiokafka's ``getmany`` already waiting that long for data. The sleep only adds latency (a
   message arriving during it waits), so an empty poll returns at once and the loop polls again.
3. Tansu 0.6 keeps a group's leader when that leader leaves while the group is re-forming (its
   ``leave`` in the forming state removes the member but not ``state.leader``). Every later join is
   then answered with the departed leader, whose SyncGroup never comes: followers are refused with
   REBALANCE_IN_PROGRESS at one generation, forever, and ``consumer.start()`` never returns. A
   follower refused :data:`WEDGED_AFTER` times at the same generation under the same leader takes
   the departed leader's member id on its next join, becomes the leader and assigns the partitions.
   On Kafka the generation moves on with every rebalance, so the pattern does not occur; were it to,
   Kafka answers the borrowed id with UNKNOWN_MEMBER_ID and the client joins afresh.
"""

from __future__ import annotations

import logging
from itertools import chain
from typing import TYPE_CHECKING, Any

import aiokafka.producer.sender as _sender
from aiokafka.consumer.group_coordinator import CoordinatorGroupRebalance, GroupCoordinator
from aiokafka.protocol import transaction as _tx
from aiokafka.protocol.api import Request, RequestStruct, Response
from aiokafka.protocol.types import CompactString, Int16, Int32, Int64, Schema, TaggedFields

if TYPE_CHECKING:
    from aiokafka import AIOKafkaConsumer, ConsumerRecord
    from faststream.kafka.subscriber.usecase import BatchSubscriber

__all__ = ["WEDGED_AFTER", "apply", "apply_client"]

log = logging.getLogger(__name__)

#: Follower syncs refused at one generation under one leader before that leader counts as departed.
WEDGED_AFTER = 3
_JOIN_GROUP, _SYNC_GROUP, _REBALANCE_IN_PROGRESS = 11, 14, 27


class InitProducerIdResponseV3(Response):  # type: ignore[misc]
    API_KEY = 22
    API_VERSION = 3
    SCHEMA = Schema(
        ("throttle_time_ms", Int32),
        ("error_code", Int16),
        ("producer_id", Int64),
        ("producer_epoch", Int16),
        ("tags", TaggedFields),
    )


class InitProducerIdRequestV3(RequestStruct):  # type: ignore[misc]
    FLEXIBLE_VERSION = True
    API_KEY = 22
    API_VERSION = 3
    RESPONSE_TYPE = InitProducerIdResponseV3
    SCHEMA = Schema(
        ("transactional_id", CompactString("utf-8")),
        ("transaction_timeout_ms", Int32),
        ("producer_id", Int64),
        ("producer_epoch", Int16),
        ("tags", TaggedFields),
    )


class InitProducerIdRequest(Request[_tx.InitProducerIdRequest_v0 | InitProducerIdRequestV3]):  # type: ignore[misc]
    """InitProducerId offering v0 and v3; the client sends the highest the broker supports."""

    API_KEY = 22

    def __init__(self, transactional_id: str | None, transaction_timeout_ms: int) -> None:
        self._transactional_id = transactional_id
        self._transaction_timeout_ms = transaction_timeout_ms

    def build(self, request_struct_class: type[Any]) -> Any:
        if request_struct_class is InitProducerIdRequestV3:
            return InitProducerIdRequestV3(self._transactional_id, self._transaction_timeout_ms, -1, -1, {})
        return request_struct_class(self._transactional_id, self._transaction_timeout_ms)


async def _batch_get_msg(self: BatchSubscriber, consumer: AIOKafkaConsumer) -> tuple[ConsumerRecord[Any, Any], ...]:
    messages = await consumer.getmany(timeout_ms=self.batch_timeout_ms, max_records=self.max_records)
    return tuple(chain(*messages.values()))


_send_req = GroupCoordinator._send_req
_on_join_follower = CoordinatorGroupRebalance._on_join_follower


async def _watched_send_req(self: Any, request: Any) -> Any:
    """Note the last JoinGroup answer (generation, leader) and whether the last SyncGroup was refused."""
    response = await _send_req(self, request)
    api_key = getattr(response, "API_KEY", None)
    if api_key == _JOIN_GROUP and response.error_code == 0:
        self._medic_joined = (response.generation_id, response.leader_id)
    elif api_key == _SYNC_GROUP:
        self._medic_sync_refused = response.error_code == _REBALANCE_IN_PROGRESS
    return response


async def _unwedging_on_join_follower(self: Any) -> Any:
    """A follower's sync; after :data:`WEDGED_AFTER` refusals under one departed leader, join as that leader."""
    assignment = await _on_join_follower(self)
    coordinator = self._coordinator
    joined = getattr(coordinator, "_medic_joined", None)
    if assignment is not None or joined is None or not getattr(coordinator, "_medic_sync_refused", False):
        coordinator._medic_refusals = None
        return assignment
    previous, count = getattr(coordinator, "_medic_refusals", None) or (None, 0)
    count = count + 1 if previous == joined else 1
    coordinator._medic_refusals = (joined, count)
    generation, leader = joined
    if count >= WEDGED_AFTER and leader and leader != coordinator.member_id:
        log.warning(
            "group %s is stuck at generation %s under leader %s, which never syncs; rejoining with its member id",
            self.group_id,
            generation,
            leader,
        )
        coordinator.member_id = leader
        coordinator._medic_refusals = None
    return assignment


_applied = False
_client_applied = False


def apply_client() -> None:
    """Apply the aiokafka fixes (1 and 3) only: for tools that use aiokafka without FastStream (idempotent)."""
    global _client_applied  # noqa: PLW0603 - one process-wide patch of third-party modules
    if _client_applied:
        return
    _sender.InitProducerIdRequest = InitProducerIdRequest
    GroupCoordinator._send_req = _watched_send_req
    CoordinatorGroupRebalance._on_join_follower = _unwedging_on_join_follower
    _client_applied = True


def apply() -> None:
    """Apply the three fixes (idempotent)."""
    global _applied  # noqa: PLW0603 - one process-wide patch of third-party modules
    if _applied:
        return
    from faststream.kafka.subscriber.usecase import BatchSubscriber  # here: apply_client's users never load FastStream

    apply_client()
    BatchSubscriber.get_msg = _batch_get_msg  # type: ignore[method-assign]
    _applied = True
