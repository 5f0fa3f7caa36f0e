"""Kafka TLS and SASL/SCRAM settings: checked at start-up, passed to every client, TLS tried for real.

No broker here serves TLS or SCRAM itself: the bundled Tansu 0.6.0 lists ``--cert``/``--key`` but refuses
them together, keeps speaking plaintext with ``--cert`` alone, and with ``--authentication`` cannot
create its first SCRAM user (``tansu user create`` must authenticate too). So TLS is tested through a
TLS-terminating proxy in front of a real Tansu that advertises the proxy: the real aiokafka and
FastStream clients verify the certificate against the CA file and speak Kafka over TLS. SCRAM is
tested up to the client: the mechanism, user and password the aiokafka clients are built with.
"""

from __future__ import annotations

import os
import ssl
import uuid
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError
from faststream.security import BaseSecurity, SASLScram256, SASLScram512

from medic_runtime import ServiceSettings, SettingsError, build_broker, load_settings
from medic_runtime.aio import bounded
from medic_runtime.kafka_admin import declare_topics
from medic_runtime.kafka_security import client_options, faststream_security, ssl_context
from medic_testing.runtime.tls import make_pki, tls_broker

PASSWORD = "scram-pw-" + "7" * 12


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A test CA and a server certificate for localhost / 127.0.0.1 signed by it (openssl)."""
    return make_pki(tmp_path_factory.mktemp("pki"))


def settings_with(monkeypatch: pytest.MonkeyPatch, **env: str) -> ServiceSettings:
    for key in [k for k in os.environ if k.startswith("MEDIC_KAFKA_")]:
        monkeypatch.delenv(key)
    for key, value in env.items():
        monkeypatch.setenv(f"MEDIC_{key.upper()}", value)
    return load_settings(ServiceSettings)


# ---- start-up checks ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("env", "field"),
    [
        ({"kafka_security_protocol": "TLS"}, "MEDIC_KAFKA_SECURITY_PROTOCOL"),
        ({"kafka_security_protocol": "SASL_SSL", "kafka_sasl_username": "watcher", "kafka_sasl_password": PASSWORD},
         "MEDIC_KAFKA_SASL_MECHANISM"),
        ({"kafka_security_protocol": "SASL_SSL", "kafka_sasl_mechanism": "SCRAM-SHA-1", "kafka_sasl_username": "w",
          "kafka_sasl_password": PASSWORD}, "MEDIC_KAFKA_SASL_MECHANISM"),
        ({"kafka_security_protocol": "SASL_SSL", "kafka_sasl_mechanism": "SCRAM-SHA-512", "kafka_sasl_password": PASSWORD},
         "MEDIC_KAFKA_SASL_USERNAME"),
        ({"kafka_security_protocol": "SASL_PLAINTEXT", "kafka_sasl_mechanism": "SCRAM-SHA-256", "kafka_sasl_username": "w"},
         "MEDIC_KAFKA_SASL_PASSWORD_FILE"),
        ({"kafka_security_protocol": "SASL_SSL", "kafka_sasl_mechanism": "SCRAM-SHA-512", "kafka_sasl_username": "w",
          "kafka_sasl_password_file": "/nonexistent/password"}, "MEDIC_KAFKA_SASL_PASSWORD_FILE"),
        ({"kafka_sasl_username": "w"}, "MEDIC_KAFKA_SASL_USERNAME"),  # SASL settings under PLAINTEXT: a mistake
        ({"kafka_security_protocol": "SASL_PLAINTEXT", "kafka_sasl_mechanism": "SCRAM-SHA-256", "kafka_sasl_username": "w",
          "kafka_sasl_password": PASSWORD, "kafka_ssl_ca_file": "ca.crt"}, "MEDIC_KAFKA_SSL_CA_FILE"),  # no TLS to check
        ({"kafka_security_protocol": "SSL", "kafka_ssl_ca_file": "/nonexistent/ca.crt"}, "MEDIC_KAFKA_SSL_CA_FILE"),
        ({"kafka_security_protocol": "SSL", "kafka_ssl_ca_file": "not-a-ca.pem"}, "MEDIC_KAFKA_SSL_CA_FILE"),
    ],
)  # fmt: skip
def test_bad_kafka_security_settings_stop_start_up_naming_the_field(
    env: dict[str, str], field: str, pki: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    env = {k: str(pki[v]) if v in pki else v for k, v in env.items()}
    with pytest.raises(SettingsError) as caught:
        settings_with(monkeypatch, **env)
    assert field in str(caught.value)
    assert PASSWORD not in str(caught.value)


def test_the_sasl_password_comes_from_a_file_or_the_environment_and_is_never_shown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = tmp_path / "password"
    secret.write_text(PASSWORD + "\n")  # a mounted Secret often ends with a newline
    base = {
        "kafka_security_protocol": "SASL_SSL",
        "kafka_sasl_mechanism": "SCRAM-SHA-512",
        "kafka_sasl_username": "medic-watcher",
    }
    from_file = settings_with(monkeypatch, **base, kafka_sasl_password_file=str(secret))
    from_env = settings_with(monkeypatch, **base, kafka_sasl_password=PASSWORD)
    for settings in (from_file, from_env):
        assert settings.kafka_sasl_secret() == PASSWORD
        assert PASSWORD not in repr(settings) and PASSWORD not in str(settings) and PASSWORD not in settings.model_dump_json()
    with pytest.raises(SettingsError, match="not both") as caught:
        settings_with(monkeypatch, **base, kafka_sasl_password=PASSWORD, kafka_sasl_password_file=str(secret))
    assert PASSWORD not in str(caught.value)
    secret.write_text("\n")
    with pytest.raises(SettingsError, match=r"MEDIC_KAFKA_SASL_PASSWORD_FILE.*is empty"):
        settings_with(monkeypatch, **base, kafka_sasl_password_file=str(secret))


# ---- what the clients are built with -----------------------------------------------------------


def test_plaintext_by_default_adds_nothing_to_the_clients(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = settings_with(monkeypatch)
    assert client_options(settings) == {"security_protocol": "PLAINTEXT"}
    assert faststream_security(settings) is None and ssl_context(settings) is None


@pytest.mark.parametrize(("mechanism", "kind"), [("SCRAM-SHA-512", SASLScram512), ("SCRAM-SHA-256", SASLScram256)])
async def test_sasl_ssl_scram_reaches_the_aiokafka_clients_and_the_faststream_broker(
    mechanism: str, kind: type[BaseSecurity], pki: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = tmp_path / "password"
    secret.write_text(PASSWORD)
    settings = settings_with(monkeypatch, kafka_security_protocol="SASL_SSL", kafka_sasl_mechanism=mechanism,
                             kafka_sasl_username="medic-watcher", kafka_sasl_password_file=str(secret),
                             kafka_ssl_ca_file=str(pki["ca.crt"]))  # fmt: skip
    options = client_options(settings)
    context = options["ssl_context"]
    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode is ssl.CERT_REQUIRED and context.check_hostname
    assert [dict(x[0] for x in c["subject"]) for c in context.get_ca_certs()] == [{"commonName": "medic test CA"}]

    producer = AIOKafkaProducer(bootstrap_servers="localhost:9093", **options)
    consumer = AIOKafkaConsumer(bootstrap_servers="localhost:9093", group_id=None, **options)
    admin = AIOKafkaAdminClient(bootstrap_servers="localhost:9093", **options)
    try:
        for client in (producer.client, consumer._client, admin._client):
            assert client._security_protocol == "SASL_SSL" and client._sasl_mechanism == mechanism
            assert client._sasl_plain_username == "medic-watcher" and client._sasl_plain_password == PASSWORD
            assert client._ssl_context is not None and client._ssl_context.get_ca_certs() == context.get_ca_certs()
    finally:
        await producer.stop()
        await consumer.stop()
        await admin.close()

    security = faststream_security(settings)
    assert isinstance(security, kind) and security.use_ssl
    assert (security.username, security.password) == ("medic-watcher", PASSWORD)  # type: ignore[attr-defined]
    broker = build_broker(settings)
    kwargs: dict[str, Any] = broker._connection_kwargs
    assert (kwargs["security_protocol"], kwargs["sasl_mechanism"], kwargs["sasl_plain_username"]) == (
        "SASL_SSL",
        mechanism,
        "medic-watcher",
    )
    assert kwargs["ssl_context"].get_ca_certs() == context.get_ca_certs()


# ---- TLS for real --------------------------------------------------------------------------------


async def test_kafka_over_tls_verifies_the_broker_against_the_ca_file(
    pki: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    async with tls_broker(pki) as (bootstrap, peers):
        settings = settings_with(monkeypatch, kafka_bootstrap=bootstrap, kafka_security_protocol="SSL",
                                 kafka_ssl_ca_file=str(pki["ca.crt"]))  # fmt: skip
        options = client_options(settings)
        topic = f"tls-{uuid.uuid4().hex[:8]}"
        await declare_topics(bootstrap, {topic: 1}, options=options)
        broker = build_broker(settings)  # the FastStream broker the services publish and subscribe with
        await broker.connect()
        try:
            await broker.publish(b"over tls", topic=topic)
        finally:
            await broker.stop()
        consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=None, auto_offset_reset="earliest", **options)
        await consumer.start()
        try:
            batch = await consumer.getmany(timeout_ms=10_000)
        finally:
            await consumer.stop()
        assert [r.value for records in batch.values() for r in records] == [b"over tls"]
        assert peers and set(peers) <= {"TLSv1.2", "TLSv1.3"}

        # Without the CA file the system's CAs do not know the broker's certificate: no connection.
        untrusting = settings_with(monkeypatch, kafka_bootstrap=bootstrap, kafka_security_protocol="SSL")
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=3000, **client_options(untrusting))
        with pytest.raises((KafkaError, TimeoutError, ssl.SSLError)):
            await bounded(admin.start(), 15)
        await admin.close()
