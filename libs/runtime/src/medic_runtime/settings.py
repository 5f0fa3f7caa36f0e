"""Service settings: one pydantic-settings object per service, ``MEDIC_`` prefixed, validated at start-up.

Each service subclasses :class:`ServiceSettings` and adds its own fields. :func:`load_settings` turns
a validation error into :class:`SettingsError`, whose message names the environment variable, so a
bad value stops start-up with a line an operator can act on.
"""

from __future__ import annotations

import os
import re
import socket
import ssl
from pathlib import Path
from typing import Literal, TypeVar

from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["ServiceSettings", "SettingsError", "default_instance_id", "load_settings"]

_HOST_PORT = re.compile(r"^(?:\[[0-9a-fA-F:]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?):(\d{1,5})$")

SettingsT = TypeVar("SettingsT", bound="ServiceSettings")


def default_instance_id() -> str:
    """Host name and pid: unique per process, stable for its life."""
    return f"{socket.gethostname()}-{os.getpid()}"


class SettingsError(ValueError):
    """Settings failed validation; the message names each bad variable."""


class ServiceSettings(BaseSettings):
    """What every Medic service is configured with."""

    model_config = SettingsConfigDict(env_prefix="MEDIC_", extra="ignore", frozen=True, validate_default=True)

    service_name: str = Field(default="service", description="Service name (set by each service).")
    instance_id: str = Field(default_factory=default_instance_id, description="Unique id of this instance.")

    kafka_bootstrap: str = Field(default="127.0.0.1:9092", description="Comma-separated host:port list of Kafka brokers.")
    topic_prefix: str = Field(default="medic.", pattern=r"^[A-Za-z0-9._-]{0,100}$", description="Prefix of every topic name.")
    kafka_session_timeout_ms: int = Field(default=10_000, ge=1_000, le=300_000, description="Consumer group session timeout.")
    kafka_heartbeat_interval_ms: int = Field(default=3_000, ge=100, le=100_000, description="Consumer heartbeat interval.")
    kafka_max_poll_interval_ms: int = Field(default=300_000, ge=10_000, description="Max time between polls before eviction.")
    kafka_fetch_max_wait_ms: int = Field(
        default=100,
        ge=1,
        le=10_000,
        description="Longest a fetch waits for data. Kafka answers as soon as data arrives; the embedded broker "
        "waits the whole time, so this bounds its hop latency.",
    )
    kafka_max_batch: int = Field(default=500, ge=1, le=10_000, description="Max records handled in one delivery transaction.")
    kafka_request_timeout_ms: int = Field(default=30_000, ge=1_000, description="Kafka request timeout.")
    kafka_idempotence: bool = Field(default=True, description="Idempotent producer (acks=all is always used).")

    # Broker security (see kafka_security.py). Checked here, so a bad combination stops start-up naming the field.
    kafka_security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = Field(
        default="PLAINTEXT", description="How clients talk to the brokers: TLS (SSL), SASL authentication, both, or neither."
    )
    kafka_sasl_mechanism: Literal["SCRAM-SHA-256", "SCRAM-SHA-512"] | None = Field(
        default=None, description="SASL mechanism (SASL_PLAINTEXT and SASL_SSL only)."
    )
    kafka_sasl_username: str | None = Field(default=None, max_length=255, description="SASL user (a KafkaUser's name).")
    kafka_sasl_password: SecretStr | None = Field(
        default=None, description="SASL password; prefer kafka_sasl_password_file (never logged either way)."
    )
    kafka_sasl_password_file: Path | None = Field(
        default=None, description="File holding the SASL password (a mounted Secret); read at start-up."
    )
    kafka_ssl_ca_file: Path | None = Field(
        default=None,
        description="PEM CA bundle the brokers' certificates are checked against (SSL and SASL_SSL; default: the system's CAs).",
    )

    kafka_watch_interval_s: float = Field(
        default=0.5,
        gt=0,
        le=60,
        description="How often the broker watch checks that the broker and every topic are there (a restarted "
        "broker is noticed, topics re-declared and the producer replaced within about this long).",
    )
    outbox_ack_timeout_s: float = Field(
        default=15.0, gt=0, description="A send not acknowledged within this long fails and the producer is replaced."
    )
    outbox_max_backoff_s: float = Field(default=2.0, gt=0, description="Longest wait between two outbox relay retries.")
    outbox_stall_ready_s: float = Field(
        default=2.0, ge=0, description="/readyz turns false once the outbox has not drained for this long."
    )
    outbox_stall_live_s: float = Field(
        default=300.0,
        gt=0,
        description="/healthz fails once the outbox has not drained for this long (an orchestrator then restarts the process).",
    )

    delivery_attempts: int = Field(default=3, ge=1, le=100, description="Attempts per message before it is dead-lettered.")
    delivery_backoff_ms: int = Field(default=200, ge=0, le=60_000, description="Wait between attempts (doubles each time).")

    store_url: str | None = Field(
        default=None,
        description="Service store: sqlite+aiosqlite:///path or postgresql+asyncpg://... (default: ./.medic/<service>.db).",
    )
    data_dir: Path = Field(default=Path(".medic"), description="Where default SQLite stores live.")

    http_host: str = Field(default="127.0.0.1", description="Bind address of the service's HTTP endpoints.")
    http_port: int = Field(default=0, ge=0, le=65535, description="Port of /healthz, /readyz, /metrics (0 = any free port).")

    control_api_url: str | None = Field(default=None, description="control-api base URL, to read config at start-up.")
    control_api_token: str | None = Field(default=None, description="Token for control-api (viewer role is enough).")
    config_max_age_s: int = Field(default=3600, ge=1, description="Cached config older than this is stale: fail closed.")
    control_catch_up_timeout_s: float = Field(
        default=15.0, gt=0, description="How long to wait to read the control state at start."
    )

    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(default="INFO", description="Log level.")
    log_format: Literal["json", "text"] = Field(default="json", description="Log line format.")
    otel_exporter: Literal["none", "console", "otlp"] = Field(default="none", description="Where spans go.")
    otel_endpoint: str | None = Field(default=None, description="OTLP endpoint when otel_exporter=otlp.")

    @field_validator("kafka_bootstrap")
    @classmethod
    def _host_ports(cls, value: str) -> str:
        parts = [p.strip() for p in value.split(",")]
        if not parts or any(not p for p in parts):
            raise ValueError("expected a comma-separated list of host:port")
        for part in parts:
            match = _HOST_PORT.match(part)
            if not match or not 0 < int(match.group(1)) < 65536:
                raise ValueError(f"{part!r} is not host:port")
        return ",".join(parts)

    @field_validator("kafka_sasl_mechanism", "kafka_sasl_username")
    @classmethod
    def _sasl_field(cls, value: str | None, info: ValidationInfo) -> str | None:
        protocol = _protocol(info)
        if protocol in _SASL and not value:
            raise ValueError(f"required with MEDIC_KAFKA_SECURITY_PROTOCOL={protocol}")
        if value is not None:
            _only_with(_SASL, protocol)
        return value

    @field_validator("kafka_sasl_password")
    @classmethod
    def _sasl_password(cls, value: SecretStr | None, info: ValidationInfo) -> SecretStr | None:
        if value is None:
            return None
        _only_with(_SASL, _protocol(info))
        if not value.get_secret_value():
            raise ValueError("is empty")
        return value

    @field_validator("kafka_sasl_password_file")
    @classmethod
    def _sasl_password_file(cls, value: Path | None, info: ValidationInfo) -> Path | None:
        protocol = _protocol(info)
        if value is None:
            if protocol in _SASL and info.data.get("kafka_sasl_password") is None:
                raise ValueError(f"{protocol} needs a password: set MEDIC_KAFKA_SASL_PASSWORD_FILE or MEDIC_KAFKA_SASL_PASSWORD")
            return None
        _only_with(_SASL, protocol)
        if info.data.get("kafka_sasl_password") is not None:
            raise ValueError("set MEDIC_KAFKA_SASL_PASSWORD_FILE or MEDIC_KAFKA_SASL_PASSWORD, not both")
        try:
            secret = value.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:  # the message names the file and the reason, never its content
            raise ValueError(f"cannot read {value}: {type(exc).__name__}") from None
        if not secret:
            raise ValueError(f"{value} is empty")
        return value

    @field_validator("kafka_ssl_ca_file")
    @classmethod
    def _ssl_ca_file(cls, value: Path | None, info: ValidationInfo) -> Path | None:
        if value is None:
            return None
        _only_with(_TLS, _protocol(info))
        try:
            ssl.create_default_context(cafile=str(value))
        except FileNotFoundError:
            raise ValueError(f"{value} does not exist") from None
        except (OSError, ssl.SSLError) as exc:
            raise ValueError(f"{value} is not a PEM CA bundle ({type(exc).__name__})") from None
        return value

    def kafka_sasl_secret(self) -> str | None:
        """The SASL password (from its file or the environment); None without SASL. Never log it."""
        if self.kafka_sasl_password_file is not None:
            return self.kafka_sasl_password_file.read_text(encoding="utf-8").strip()
        return self.kafka_sasl_password.get_secret_value() if self.kafka_sasl_password is not None else None

    @field_validator("store_url")
    @classmethod
    def _store_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("must start with sqlite+aiosqlite:// or postgresql+asyncpg://")
        return value

    def resolved_store_url(self) -> str:
        """The store URL, defaulting to a SQLite file per service under ``data_dir``."""
        if self.store_url:
            return self.store_url
        return f"sqlite+aiosqlite:///{(self.data_dir / f'{self.service_name}.db').resolve()}"


_SASL = ("SASL_PLAINTEXT", "SASL_SSL")
_TLS = ("SSL", "SASL_SSL")


def _protocol(info: ValidationInfo) -> str:
    """The Kafka security protocol validated before this field (PLAINTEXT when unset or invalid)."""
    return str(info.data.get("kafka_security_protocol", "PLAINTEXT"))


def _only_with(protocols: tuple[str, ...], protocol: str) -> None:
    """Refuse a Kafka setting that ``protocol`` does not use."""
    if protocol not in protocols:
        raise ValueError(f"only used with {' or '.join(protocols)}, not {protocol}")


def load_settings(cls: type[SettingsT], **overrides: object) -> SettingsT:
    """Build settings from the environment; raise :class:`SettingsError` naming each bad variable."""
    try:
        return cls(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        prefix = str(cls.model_config.get("env_prefix", ""))
        problems = []
        for err in exc.errors():
            field = ".".join(str(p) for p in err["loc"])
            problems.append(f"{prefix}{field.upper()} ({field}): {err['msg']}")
        raise SettingsError("invalid settings: " + "; ".join(problems)) from None
