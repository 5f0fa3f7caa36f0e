"""Settings of control-api (environment variables prefixed MEDIC_)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator

from medic_runtime import ServiceSettings

#: Roles an OIDC claim value may map to.
ROLE_NAMES = ("viewer", "operator", "admin")


class ControlSettings(ServiceSettings):
    """control-api's settings: the store, access control, the dashboard's service list."""

    service_name: str = "control-api"
    http_port: int = 8080
    kafka_max_batch: int = Field(
        default=2000,
        ge=1,
        le=10_000,
        description="Max events the projector writes in one transaction: its cost is per statement, so larger "
        "batches catch up faster after a burst (an API write may wait for one batch's commit).",
    )

    database_path: Path = Field(
        default=Path("medic.db"), description="SQLite file used when MEDIC_STORE_URL is unset (default ./medic.db)."
    )
    bootstrap_admin_token: str | None = Field(
        default=None,
        min_length=24,
        description="An admin API token to create at start-up if absent (for first login and test harnesses).",
    )
    projector_enabled: bool = Field(
        default=True,
        description="Consume every topic into the store (the single writer); API-only replicas set it false.",
    )
    snapshot_interval_s: float = Field(
        default=30.0, gt=0, le=3600, description="How often the paused flag and full config are re-published (state_snapshot)."
    )
    service_urls: dict[str, str] = Field(
        default_factory=dict,
        description='JSON object of service name to base URL whose /healthz the dashboard shows, e.g. {"watcher": "http://…"}.',
    )
    health_timeout_s: float = Field(default=2.0, gt=0, le=30, description="Timeout of one /healthz probe.")

    write_rate_per_minute: int = Field(default=120, ge=1, description="Write requests per minute per client before 429.")
    write_burst: int = Field(default=30, ge=1, description="Write requests a client may send at once before 429.")
    max_body_bytes: int = Field(default=1_048_576, ge=1024, description="Larger request bodies get 413.")
    cors_origins: tuple[str, ...] = Field(default=(), description="Origins allowed by CORS (none by default: closed).")
    cookie_secure: bool = Field(default=False, description="Mark the dashboard session cookie Secure (set behind HTTPS).")
    token_cache_s: float = Field(default=30.0, ge=0, le=600, description="How long a verified API token is cached in memory.")

    oidc_issuer: str | None = Field(default=None, description="OIDC issuer; enables bearer JWTs when set with audience and JWKS.")
    oidc_audience: str | None = Field(default=None, description="Audience the JWT must carry.")
    oidc_jwks_url: str | None = Field(default=None, description="JWKS URL of the issuer (keys fetched and cached).")
    oidc_role_claim: str = Field(default="medic_role", description="Claim (string or list) that names the role.")
    oidc_role_map: dict[str, str] = Field(
        default_factory=dict, description="Claim value → role (viewer|operator|admin); only mapped values grant a role."
    )
    oidc_identity_claim: str = Field(
        default="email",
        description="Claim used as the user's identity (falls back to sub when absent); `email` counts only with "
        "`email_verified: true`, otherwise the token is refused.",
    )

    audit_signing_key_file: Path | None = Field(
        default=None,
        description="Ed25519 private key (PEM) that signs audit checkpoints; default <data_dir>/control-api-audit-key.pem, "
        "generated on first start when absent.",
    )
    audit_witness_url: str | None = Field(
        default=None,
        description="Where signed checkpoints are published: file:///path.jsonl, git+file:///repo.git[#refs/…] "
        "(default ref refs/medic/audit-checkpoints) or http(s)://… (unset: none).",
    )
    audit_witness_token: SecretStr | None = Field(default=None, description="Bearer token for an http(s) witness.")
    audit_checkpoint_interval_s: float = Field(
        default=300.0, gt=0, le=86_400, description="How often a checkpoint is published to the witness (when the tree grew)."
    )

    sla_check_interval_s: float = Field(
        default=30.0, gt=0, le=3600, description="How often deadlines are checked for escalation and misses."
    )
    dashboard_url: str | None = Field(default=None, description="Public URL of control-api, for links in notifications.")
    review_weekday: int = Field(default=0, ge=0, le=6, description="Weekday the weekly review is sent (0 Monday … 6 Sunday).")
    review_hour_utc: int = Field(default=9, ge=0, le=23, description="Hour (UTC) the weekly review is sent on that day.")

    notify_slack_channel: str | None = Field(default=None, description="Slack channel for escalations and the weekly review.")
    notify_slack_token: SecretStr | None = Field(default=None, description="Slack bot token (chat:write).")
    notify_slack_base_url: str = Field(default="https://slack.com/api/", description="Slack Web API base URL.")
    notify_email_provider: Literal["smtp", "sendgrid"] | None = Field(
        default=None, description="Email escalations and the weekly review through smtp or sendgrid (unset: no email)."
    )
    notify_email_from: str | None = Field(default=None, description="From address of Medic's email.")
    notify_email_to: tuple[str, ...] = Field(default=(), description="Recipients of Medic's email (JSON list).")
    notify_smtp_host: str | None = Field(default=None, description="smtp: host.")
    notify_smtp_port: int = Field(default=25, ge=1, le=65535, description="smtp: port.")
    notify_smtp_starttls: bool = Field(default=False, description="smtp: upgrade with STARTTLS.")
    notify_smtp_username: str | None = Field(default=None, description="smtp: user name.")
    notify_smtp_password: SecretStr | None = Field(default=None, description="smtp: password.")
    notify_sendgrid_api_key: SecretStr | None = Field(default=None, description="sendgrid: API key (mail.send).")
    notify_sendgrid_base_url: str = Field(default="https://api.sendgrid.com", description="sendgrid: API base URL.")

    @model_validator(mode="after")
    def _notification_channels_complete(self) -> ControlSettings:
        if bool(self.notify_slack_channel) != bool(self.notify_slack_token):
            raise ValueError("notify_slack_channel and notify_slack_token: set both or neither")
        provider = self.notify_email_provider
        if provider is not None:
            if not self.notify_email_from or not self.notify_email_to:
                raise ValueError(f"notify_email_from and notify_email_to are required with notify_email_provider={provider}")
            if provider == "smtp" and not self.notify_smtp_host:
                raise ValueError("notify_smtp_host is required with notify_email_provider=smtp")
            if provider == "sendgrid" and not self.notify_sendgrid_api_key:
                raise ValueError("notify_sendgrid_api_key is required with notify_email_provider=sendgrid")
        return self

    @field_validator("oidc_role_map")
    @classmethod
    def _known_roles(cls, value: dict[str, str]) -> dict[str, str]:
        for claim, role in value.items():
            if role not in ROLE_NAMES:
                raise ValueError(f"role {role!r} for {claim!r} is not one of {', '.join(ROLE_NAMES)}")
        return value

    def resolved_store_url(self) -> str:
        """The audit store: MEDIC_STORE_URL, else ./medic.db (SQLite)."""
        if self.store_url:
            return self.store_url
        return f"sqlite+aiosqlite:///{self.database_path.resolve()}"

    def resolved_audit_key_file(self) -> Path:
        """The audit signing key file: MEDIC_AUDIT_SIGNING_KEY_FILE, else <data_dir>/control-api-audit-key.pem."""
        return self.audit_signing_key_file or self.data_dir / "control-api-audit-key.pem"

    @property
    def oidc_enabled(self) -> bool:
        """True when bearer JWTs are accepted."""
        return bool(self.oidc_issuer and self.oidc_audience and self.oidc_jwks_url)
