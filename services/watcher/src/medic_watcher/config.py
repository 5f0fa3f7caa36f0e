"""The watcher's section of a target file: ``[[sources]]``, validated per kind.

```toml
[[sources]]
kind = "sentry"                # sentry | sentry_ingest | vercel | supabase | healthcheck | prometheus | logfile | postgres
name = "sentry"                # unique per target (default: the kind); keys its cursor and readiness
service = "web"                # which of the target's services it reports on
interval_s = 300               # polling interval (default 5 minutes)
org = "acme"
project = "shop"
token_env = "SENTRY_AUTH_TOKEN"
webhook_secret_env = "SENTRY_CLIENT_SECRET"
```
Secrets never sit in the file: ``*_env`` fields name environment variables.

The official Sentry SDKs send to the watcher itself through a ``sentry_ingest`` source: point a
DSN ``http://<key>@<watcher>:8081/<project_id>`` at it and name the variable holding the key::

```toml
[[sources]]
kind = "sentry_ingest"
name = "sdk"
project_id = "1"
keys_env = "MEDIC_SENTRY_DSN_KEYS"   # comma-separated public keys (rotation: list old and new)
events_per_s = 50                    # per key; over it the SDK gets 429 with Retry-After
```
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = [
    "HealthCheck",
    "HealthcheckSource",
    "LogfileSource",
    "PostgresSource",
    "PrometheusSource",
    "SentryIngestSource",
    "SentrySource",
    "SlowQueryThresholds",
    "SourceConfig",
    "SourcesSection",
    "SupabaseSource",
    "VercelSource",
]


class _Source(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(default="", pattern=r"^[A-Za-z0-9_.-]{0,64}$", description="Unique name in the target (default: kind).")
    service: str | None = Field(default=None, description="Target service it reports on (default: the first).")
    interval_s: float = Field(default=300.0, ge=1, le=86_400, description="Polling interval in seconds.")
    rate_per_s: float = Field(default=5.0, gt=0, le=1000, description="Outbound requests per second, at most.")
    timeout_s: float = Field(default=20.0, gt=0, le=300, description="HTTP timeout per request.")
    environment: str = Field(default="production", description="Environment the source watches.")


class SentrySource(_Source):
    """Sentry REST polling (unresolved issues and their events) and the signed webhook receiver."""

    kind: Literal["sentry"]
    api_url: str = Field(default="https://sentry.io", description="Sentry base URL (self-hosted or SaaS).")
    org: str = Field(description="Organisation slug.")
    project: str = Field(description="Project slug.")
    token_env: str = Field(default="SENTRY_AUTH_TOKEN", description="Variable holding the auth token.")
    webhook_secret_env: str | None = Field(default=None, description="Variable holding the integration's client secret.")
    max_pages: int = Field(default=5, ge=1, le=100, description="Pages read per issue per poll.")


class SentryIngestSource(_Source):
    """Sentry SDK ingest (DSN): ``POST /api/<project_id>/envelope/`` and ``/store/`` on the watcher; push only."""

    kind: Literal["sentry_ingest"]
    project_id: str = Field(pattern=r"^[A-Za-z0-9_-]{1,64}$", description="The DSN's project id (the path after the host).")
    keys_env: str = Field(description="Variable holding the DSN public key(s), comma-separated.")
    events_per_s: float = Field(default=50.0, gt=0, le=100_000, description="Events per second per key; more get 429.")
    burst: int = Field(default=200, ge=1, le=1_000_000, description="Events a key may send at once above its rate.")
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024, description="Larger request bodies get 413.")
    max_decompressed_bytes: int = Field(default=16 * 1024 * 1024, ge=1024, description="Larger bodies once decompressed get 413.")


class VercelSource(_Source):
    """Vercel log drain endpoint (push) and runtime-log polling of a deployment."""

    kind: Literal["vercel"]
    api_url: str = Field(default="https://api.vercel.com", description="Vercel REST base URL.")
    project_id: str = Field(description="Vercel project id or name.")
    team_id: str | None = Field(default=None, description="Team id, when the project belongs to a team.")
    deployment_id: str | None = Field(default=None, description="Deployment to poll (default: latest production).")
    token_env: str = Field(default="VERCEL_TOKEN", description="Variable holding the API token.")
    drain_secret_env: str | None = Field(default=None, description="Variable holding the drain's signature secret.")
    verify_token_env: str | None = Field(default=None, description="Variable holding the x-vercel-verify value.")
    poll: bool = Field(default=True, description="Poll runtime logs (drains push regardless).")
    max_body_bytes: int = Field(default=5 * 1024 * 1024, ge=1024, description="Larger drain bodies get 413.")


class SlowQueryThresholds(BaseModel):
    """When a query is slow: over an absolute budget, or a multiple of its own baseline."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    budget_ms: float = Field(default=500.0, gt=0, description="Mean time per call above which a query is slow.")
    regression_factor: float = Field(default=3.0, gt=1, le=1000, description="Mean per call this many times its baseline.")
    min_delta_ms: float = Field(default=5.0, ge=0, description="A regression must also add at least this much per call.")
    min_calls: int = Field(default=5, ge=1, description="Calls (or scans) in an interval before its mean counts.")
    seq_scan_rows: int = Field(
        default=50_000, ge=1, description="Statistics views: rows read per sequential scan that mark a missing index."
    )
    min_table_rows: int = Field(default=10_000, ge=0, description="Statistics views: smaller tables are never flagged.")


class SupabaseSource(_Source):
    """Supabase Management API logs query over a time window (and, if enabled, query performance)."""

    kind: Literal["supabase"]
    api_url: str = Field(default="https://api.supabase.com", description="Management API base URL.")
    project_ref: str = Field(description="Project reference.")
    token_env: str = Field(default="SUPABASE_ACCESS_TOKEN", description="Variable holding the access token.")
    tables: tuple[Literal["edge_logs", "postgres_logs", "auth_logs", "function_logs"], ...] = Field(
        default=("edge_logs", "postgres_logs", "auth_logs", "function_logs"), description="Log tables to query."
    )
    max_window_s: int = Field(default=3600, ge=60, le=86_400, description="Longest window one query covers.")
    limit: int = Field(default=1000, ge=1, le=10_000, description="Rows per table per query.")
    query_performance: bool = Field(
        default=False, description="Also read query performance (pg_stat_statements through the database query endpoint)."
    )
    slow_queries: SlowQueryThresholds = Field(default_factory=SlowQueryThresholds, description="Slow-query thresholds.")


class HealthCheck(BaseModel):
    """One URL probed by a health-check source."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$", description="Check name.")
    url: str = Field(description="URL to GET.")
    expected_status: int = Field(default=200, ge=100, le=599, description="Status that means healthy.")
    timeout_s: float = Field(default=5.0, gt=0, le=120, description="Fail after this long.")
    latency_budget_ms: float | None = Field(default=None, gt=0, description="Slower answers are a performance issue.")
    failures_before_alert: int = Field(default=2, ge=1, le=20, description="Consecutive failures before it is an issue.")


class HealthcheckSource(_Source):
    """HTTP health checks."""

    kind: Literal["healthcheck"]
    checks: tuple[HealthCheck, ...] = Field(min_length=1, description="URLs to probe.")

    @model_validator(mode="after")
    def _unique(self) -> HealthcheckSource:
        names = [c.name for c in self.checks]
        if len(names) != len(set(names)):
            raise ValueError("check names must be unique")
        return self


class PrometheusSource(_Source):
    """Prometheus HTTP query API: error rate, p95 latency and traffic per route."""

    kind: Literal["prometheus"]
    url: str = Field(description="Prometheus base URL.")
    route_label: str = Field(default="route", description="Label holding the route.")
    requests_query: str = Field(
        default="sum by (route) (increase(http_requests_total[1m]))", description="Requests per route in the last minute."
    )
    errors_query: str = Field(
        default='sum by (route) (increase(http_requests_total{status=~"5.."}[1m]))', description="5xx per route."
    )
    p95_query: str = Field(
        default="histogram_quantile(0.95, sum by (route, le) (rate(http_request_duration_seconds_bucket[5m]))) * 1000",
        description="p95 latency per route in milliseconds.",
    )
    token_env: str | None = Field(default=None, description="Variable holding a bearer token, if needed.")


class PostgresSource(_Source):
    """Slow queries read from PostgreSQL itself: pg_stat_statements, else the statistics views."""

    kind: Literal["postgres"]
    dsn_env: str = Field(default="APP_DATABASE_URL", description="Variable holding the connection string (read-only role).")
    statistics: Literal["auto", "pg_stat_statements", "statistics_views"] = Field(
        default="auto", description="auto: pg_stat_statements when it is loaded, else pg_stat_user_tables/pg_stat_activity."
    )
    schemas: tuple[str, ...] = Field(default=("public",), min_length=1, description="Schemas whose tables are watched.")
    top: int = Field(default=200, ge=1, le=5000, description="Statements read per poll (by total time).")
    slow_queries: SlowQueryThresholds = Field(default_factory=SlowQueryThresholds, description="Slow-query thresholds.")


class LogfileSource(_Source):
    """A JSON-lines (or plain) log file, tailed across rotation."""

    kind: Literal["logfile"]
    path: str = Field(description="Log file path (relative to medic.toml).")
    max_line_bytes: int = Field(default=1024 * 1024, ge=1024, description="Longer lines are truncated.")
    max_lines_per_poll: int = Field(
        default=5_000, ge=1, description="Lines read per poll at most; a full read is followed at once by the next."
    )
    max_bytes_per_poll: int = Field(
        default=8 * 1024 * 1024, ge=1024, description="Bytes of lines read per poll at most (with max_lines_per_poll)."
    )
    interval_s: float = Field(default=5.0, ge=0.1, le=86_400, description="Tail interval in seconds.")


SourceConfig = Annotated[
    SentrySource
    | SentryIngestSource
    | VercelSource
    | SupabaseSource
    | HealthcheckSource
    | PrometheusSource
    | LogfileSource
    | PostgresSource,
    Field(discriminator="kind"),
]


class SourcesSection(BaseModel):
    """All sources of a target."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    sources: tuple[SourceConfig, ...] = ()

    @model_validator(mode="after")
    def _names(self) -> SourcesSection:
        named = []
        for source in self.sources:
            if not source.name:
                object.__setattr__(source, "name", source.kind)
            named.append(source.name)
        duplicates = {n for n in named if named.count(n) > 1}
        if duplicates:
            raise ValueError(f"source names must be unique per target: {', '.join(sorted(duplicates))}")
        return self
