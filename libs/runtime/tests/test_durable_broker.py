"""The embedded broker kept in an S3 bucket survives kill -9: records, committed offsets and producers carry on.

The bucket is served by moto's S3 server on 127.0.0.1 (the documented S3 API, no network); Tansu's
own object-store client talks to it through the ``AWS_*`` variables, as it would to MinIO or S3.
"""

from __future__ import annotations

import os
import signal
import socket
from collections.abc import Iterator

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.structs import TopicPartition

from medic_runtime.embedded import MEMORY_STORAGE, EmbeddedBroker, broker_storage
from medic_runtime.kafka_compat import apply_client

BUCKET = "medic-broker"
TOPIC = "medic.durable"


@pytest.fixture
def s3_bucket(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """An empty bucket on a local S3 server, with the AWS_* variables Tansu reads pointing at it."""
    boto3 = pytest.importorskip("boto3")
    from moto.server import ThreadedMotoServer

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    for name, value in {
        "AWS_ENDPOINT": endpoint,
        "AWS_ALLOW_HTTP": "true",
        "AWS_ACCESS_KEY_ID": "medic-test",
        "AWS_SECRET_ACCESS_KEY": "medic-test-secret",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    client = boto3.client(
        "s3", endpoint_url=endpoint, aws_access_key_id="medic-test", aws_secret_access_key="x", region_name="us-east-1"
    )
    client.create_bucket(Bucket=BUCKET)
    try:
        yield f"s3://{BUCKET}/"
    finally:
        server.stop()


async def _consume(bootstrap: str, count: int) -> list[bytes]:
    # Assigned, not subscribed: the group's committed offset is the point, not a rebalance.
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id="durable", auto_offset_reset="earliest", enable_auto_commit=False
    )
    await consumer.start()
    consumer.assign([TopicPartition(TOPIC, 0)])
    try:
        got: list[bytes] = []
        for _ in range(30):
            for records in (await consumer.getmany(timeout_ms=500)).values():
                got += [r.value for r in records if r.value is not None]
            if len(got) >= count:
                break
        got = got[:count]
        position = (await consumer.committed(TopicPartition(TOPIC, 0))) or 0
        await consumer.commit({TopicPartition(TOPIC, 0): position + len(got)})
        return got
    finally:
        await consumer.stop()


async def _produce(bootstrap: str, values: list[bytes]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True, acks="all")
    await producer.start()
    try:
        for value in values:
            await producer.send_and_wait(TOPIC, value)
    finally:
        await producer.stop()


async def test_a_broker_killed_and_restarted_on_its_bucket_keeps_records_offsets_and_takes_new_producers(
    s3_bucket: str,
) -> None:
    apply_client()  # the idempotent producer's InitProducerId v3, as every service runs it
    first = EmbeddedBroker(storage=s3_bucket)
    await first.start({TOPIC: 1})
    try:
        await _produce(first.bootstrap, [f"m{i}".encode() for i in range(20)])
        assert await _consume(first.bootstrap, 12) == [f"m{i}".encode() for i in range(12)]
    finally:
        assert first.process is not None
        os.killpg(first.process.pid, signal.SIGKILL)  # no clean shutdown: what a crash or an OOM kill does
        first.process.wait(timeout=10)
        first.stop()

    second = EmbeddedBroker(port=first.port, storage=s3_bucket)
    await second.start({TOPIC: 1})  # declaring again on start, as the dev stack does, keeps what is there
    try:
        await _produce(second.bootstrap, [b"after-restart"])
        # The group resumes at its committed offset; the records before the kill are all there, then the new one.
        assert await _consume(second.bootstrap, 9) == [f"m{i}".encode() for i in range(12, 20)] + [b"after-restart"]
    finally:
        second.stop()


def test_the_storage_setting_is_memory_by_default_and_refuses_what_the_broker_cannot_run() -> None:
    assert broker_storage(None) == broker_storage("") == MEMORY_STORAGE
    assert broker_storage("s3://medic-broker/") == "s3://medic-broker/"
    for bad in ("postgres://postgres@127.0.0.1/tansu", "s3://", "/var/lib/broker", "file:///tmp/x"):
        with pytest.raises(ValueError, match="MEDIC_BROKER_STORAGE") as refused:
            broker_storage(bad)
        assert repr(bad) in str(refused.value)
