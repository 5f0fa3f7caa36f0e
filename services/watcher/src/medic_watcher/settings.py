"""Settings of the watcher service (environment variables prefixed MEDIC_)."""

from __future__ import annotations

from pydantic import Field

from medic_runtime import ServiceSettings


class WatcherSettings(ServiceSettings):
    """The watcher's settings.

    ``MEDIC_TARGETS`` lists the medic.toml files to watch (comma-separated); each file's
    ``[[sources]]`` section configures that target's sources.
    """

    service_name: str = "watcher"
    targets: str = Field(default="", description="Comma-separated paths of medic.toml target files.")
    max_webhook_bytes: int = Field(default=5 * 1024 * 1024, ge=1024, description="Larger webhook bodies get 413.")
    backoff_max_s: float = Field(default=900.0, ge=1, description="Longest wait after repeated source failures.")
    push_backlog_events: int = Field(
        default=20_000, ge=1, description="Pushed events waiting for the pipeline, at most; more get 429 with Retry-After."
    )
    push_max_requests: int = Field(default=256, ge=1, description="Push requests in progress at once, at most; more get 429.")
    push_batch_events: int = Field(default=5_000, ge=1, description="Pushed events run through the pipeline together, at most.")
    normalise_processes: int = Field(
        default=1, ge=0, le=64, description="Worker processes normalising large log batches (0: the worker thread only)."
    )
    poll_lease_ttl_s: float = Field(
        default=30.0,
        ge=1,
        le=3600,
        description="A polled source's lease lapses this long after its replica stops renewing it (a crash); "
        "another replica then takes the source over.",
    )
    anomaly_bucket_s: int = Field(
        default=60, ge=1, le=3600, description="Seconds per judged point of the traffic, error-rate and latency series."
    )
    seen_retention_s: float = Field(default=7 * 86_400, ge=60, description="How long source event ids are remembered.")

    def target_paths(self) -> list[str]:
        """The configured target files."""
        return [p.strip() for p in self.targets.split(",") if p.strip()]
