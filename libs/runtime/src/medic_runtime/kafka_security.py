"""Broker security from the settings: TLS and SASL/SCRAM for every Kafka client a service opens.

One place turns ``MEDIC_KAFKA_SECURITY_PROTOCOL`` and friends into what the clients take: a FastStream
security object for the broker (its subscribers and publisher), and the same options as keyword
arguments for the aiokafka clients the runtime opens itself (the outbox producer, the control-topic
reader, the admin clients). The settings were checked at start-up (:mod:`.settings`), so nothing here
fails on a bad combination; a broker that refuses the credentials fails the client's start.
"""

from __future__ import annotations

import ssl
from typing import TYPE_CHECKING, Any

from .settings import ServiceSettings

if TYPE_CHECKING:
    from faststream.security import BaseSecurity

__all__ = ["client_options", "faststream_security", "ssl_context"]


def ssl_context(settings: ServiceSettings) -> ssl.SSLContext | None:
    """A verifying TLS context (the CA file's, or the system's CAs) when the protocol uses TLS; else None."""
    if settings.kafka_security_protocol not in ("SSL", "SASL_SSL"):
        return None
    cafile = str(settings.kafka_ssl_ca_file) if settings.kafka_ssl_ca_file is not None else None
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=cafile)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


def faststream_security(settings: ServiceSettings) -> BaseSecurity | None:
    """The security object of the FastStream KafkaBroker (None for PLAINTEXT)."""
    # Imported here: tools that open plain aiokafka clients (medic replay) never load FastStream.
    from faststream.security import BaseSecurity, SASLScram256, SASLScram512

    protocol = settings.kafka_security_protocol
    if protocol == "PLAINTEXT":
        return None
    context = ssl_context(settings)
    if protocol == "SSL":
        return BaseSecurity(ssl_context=context, use_ssl=True)
    username, password = settings.kafka_sasl_username or "", settings.kafka_sasl_secret() or ""
    scram = SASLScram512 if settings.kafka_sasl_mechanism == "SCRAM-SHA-512" else SASLScram256
    return scram(username, password, ssl_context=context, use_ssl=protocol == "SASL_SSL")


def client_options(settings: ServiceSettings) -> dict[str, Any]:
    """Keyword arguments for an aiokafka client (producer, consumer, admin) matching the broker's security."""
    protocol = settings.kafka_security_protocol
    options: dict[str, Any] = {"security_protocol": protocol}
    context = ssl_context(settings)
    if context is not None:
        options["ssl_context"] = context
    if protocol.startswith("SASL_"):
        options["sasl_mechanism"] = settings.kafka_sasl_mechanism
        options["sasl_plain_username"] = settings.kafka_sasl_username
        options["sasl_plain_password"] = settings.kafka_sasl_secret()
    return options
