"""The releaser's sections of ``medic.toml``: ``[release]``, ``[deployer]``, ``[[notifiers]]`` (``[forge]`` is medic_forge's).

Each is validated with :func:`medic_contracts.section`, so a bad value stops start-up naming the
field (``release.staging.threshold``). Durations are seconds so the demo can run in seconds and
production in minutes with the same code.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from medic_contracts import ConfigError, DeploymentStage, TargetConfig, section

__all__ = [
    "CommandStage",
    "ConsoleNotifier",
    "DeployerSection",
    "EmailNotifier",
    "NotifierSection",
    "PrometheusQueries",
    "ReleaseSection",
    "ReleaserTarget",
    "SlackNotifier",
    "SmokeCheck",
    "StageChecks",
    "load_releaser_target",
]


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class SmokeCheck(_Section):
    """One HTTP request made right after a deploy; the deploy fails when it does not answer as expected."""

    url: str = Field(description="URL to request.")
    method: Literal["GET", "HEAD", "POST"] = "GET"
    expect_status: int = Field(default=200, ge=100, le=599, description="Status the response must have.")
    contains: str | None = Field(default=None, description="Text the body must contain.")
    timeout_s: float = Field(default=5.0, gt=0, le=120)


class PrometheusQueries(_Section):
    """PromQL instant queries answering the rollout questions for one stage (Prometheus HTTP API)."""

    url: str = Field(description="Prometheus base URL (…/api/v1/query is appended).")
    error_rate: str | None = Field(default=None, description="PromQL giving the error ratio (0–1) over a recent window.")
    latency_ms: str | None = Field(default=None, description="PromQL giving latency in milliseconds (e.g. p95).")
    rps: str | None = Field(default=None, description="PromQL giving requests per second (reported only).")


class StageChecks(_Section):
    """Where to look while a stage is watched: the same kinds of sources the watcher reads."""

    health: tuple[str, ...] = Field(default=(), description="Health check URLs (2xx = healthy).")
    metrics_url: str | None = Field(default=None, description="The app's own /metrics (Prometheus text format).")
    prometheus: PrometheusQueries | None = Field(default=None, description="Prometheus queries for this stage.")
    logfile: str | None = Field(default=None, description="JSON-lines application log of this stage (new fingerprints).")
    smoke: tuple[SmokeCheck, ...] = Field(default=(), description="HTTP checks run right after the deploy.")
    requests_metric: str = Field(default="http_requests_total", description="Counter of requests, labelled by status.")
    status_label: str = Field(default="status", description="Label of requests_metric holding the HTTP status.")
    latency_metric: str = Field(
        default="http_request_duration_seconds", description="Histogram or summary of request durations in seconds."
    )

    @property
    def has_sources(self) -> bool:
        """True when at least one watch source is configured."""
        return bool(self.health or self.metrics_url or self.prometheus or self.logfile)


class ReleaseSection(_Section):
    """``[release]``: watch windows and rollback thresholds."""

    staging_watch_s: float = Field(default=600, gt=0, description="How long staging is watched (default 10 minutes).")
    production_watch_s: float = Field(default=1800, gt=0, description="How long production is watched (default 30 minutes).")
    sample_interval_s: float = Field(default=30, gt=0, description="Time between two samples of the watch sources.")
    baseline_s: float = Field(default=60, gt=0, description="Window measured before a deploy as the baseline.")
    threshold: int = Field(default=3, ge=1, le=100, description="Consecutive bad samples before a check fails.")
    error_rate_increase: float = Field(default=0.2, ge=0, description="Roll back when the error rate rises more than this.")
    error_rate_floor: float = Field(
        default=0.01, ge=0, le=1, description="An error rate at or below this never counts as a rise (zero baselines)."
    )
    latency_factor: float = Field(default=2.0, gt=1, description="Roll back when latency exceeds this × baseline.")
    latency_floor_ms: float = Field(default=5.0, ge=0, description="Latency at or below this never counts as a rise.")
    deploy_timeout_s: float = Field(default=900, gt=0, description="A deploy not ready after this has failed.")
    approval_poll_s: float = Field(default=5, gt=0, description="How often a run waiting for approval looks again.")
    blocked_retry_s: float = Field(default=60, gt=0, description="How often a blocked run asks policy again.")
    staging: StageChecks = Field(default_factory=StageChecks, description="Checks for the staging watch.")
    production: StageChecks = Field(default_factory=StageChecks, description="Checks for the production watch.")

    def checks(self, stage: DeploymentStage) -> StageChecks:
        """The checks of one stage."""
        return self.staging if stage is DeploymentStage.STAGING else self.production

    def watch_s(self, stage: DeploymentStage) -> float:
        """The watch window of one stage."""
        return self.staging_watch_s if stage is DeploymentStage.STAGING else self.production_watch_s


class CommandStage(_Section):
    """How the command deployer deploys one stage: a long-running process, a one-shot command, or an HTTP hook."""

    run: str | None = Field(
        default=None,
        description="Start the app from a checkout of the ref (placeholders {port} {checkout} {ref} {sha} {stage}); "
        "the previous process is stopped.",
    )
    build: str | None = Field(
        default=None,
        description="With run: build the checkout first (e.g. npm ci && next build; placeholders as for run). "
        "The previous process keeps serving until the build succeeds; a failed build fails the deploy.",
    )
    build_timeout_s: float = Field(default=900, gt=0, description="Give up on the build after this long.")
    command: str | None = Field(default=None, description="One-shot deploy command (exit 0 = deployed); placeholders as for run.")
    hook: str | None = Field(default=None, description="HTTP hook: POST {stage, ref, sha, deploy_key} (2xx = deployed).")
    port: int | None = Field(default=None, ge=1, le=65535, description="Port the app listens on ({port}).")
    ready_url: str | None = Field(default=None, description="URL that answers 2xx once the deployed app is ready.")
    ready_timeout_s: float = Field(default=60, gt=0, description="Give up waiting for ready_url after this long.")
    url: str | None = Field(default=None, description="Public URL of the stage (reported in DeploymentResult).")
    env: dict[str, str] = Field(default_factory=dict, description="Extra environment for the app or command.")

    @model_validator(mode="after")
    def _exactly_one(self) -> CommandStage:
        given = [n for n in ("run", "command", "hook") if getattr(self, n)]
        if len(given) != 1:
            raise ValueError("set exactly one of run, command or hook")
        if self.build and not self.run:
            raise ValueError("build is for run (a command or hook builds for itself)")
        return self


class DeployerSection(_Section):
    """``[deployer]``: Vercel (REST) or the command deployer."""

    kind: Literal["command", "vercel"] = Field(description="Which deployer.")
    # command
    staging: CommandStage | None = Field(default=None, description="command: how staging is deployed.")
    production: CommandStage | None = Field(default=None, description="command: how production is deployed.")
    state_dir: str | None = Field(default=None, description="command: where checkouts and process state live.")
    # vercel
    project: str | None = Field(default=None, description="vercel: project id or name.")
    team_id: str | None = Field(default=None, description="vercel: team id (teamId query parameter).")
    api_url: str = Field(default="https://api.vercel.com", description="vercel: REST API base URL.")
    token_env: str = Field(default="VERCEL_TOKEN", description="vercel: environment variable holding the token.")
    git_provider: Literal["github", "gitlab", "bitbucket"] = Field(default="github", description="vercel: git source type.")
    git_repo: str | None = Field(default=None, description="vercel: owner/name of the connected repository.")
    staging_alias: str | None = Field(default=None, description="vercel: domain aliased to the staging deployment.")
    poll_s: float = Field(default=5, gt=0, description="vercel: how often deployment state is polled.")

    @model_validator(mode="after")
    def _complete(self) -> DeployerSection:
        if self.kind == "command":
            if self.staging is None or self.production is None:
                raise ValueError("the command deployer needs [deployer.staging] and [deployer.production]")
        elif not self.project or not self.git_repo:
            raise ValueError("the vercel deployer needs project and git_repo")
        return self


class SlackNotifier(_Section):
    """A Slack channel, posted to with slack-sdk (Block Kit)."""

    kind: Literal["slack"]
    channel: str = Field(description="Channel id or name.")
    token_env: str = Field(default="SLACK_BOT_TOKEN", description="Environment variable holding the bot token.")
    base_url: str = Field(default="https://slack.com/api/", description="Slack Web API base URL.")
    on: Literal["failures", "all"] | None = Field(default=None, description="Override the global notify setting.")


class EmailNotifier(_Section):
    """Email through an SMTP server or SendGrid's v3 mail-send API."""

    kind: Literal["email"]
    provider: Literal["smtp", "sendgrid"] = Field(default="smtp", description="smtp, or sendgrid (the v3 API).")
    host: str | None = Field(default=None, description="smtp: SMTP host.")
    port: int = Field(default=25, ge=1, le=65535, description="smtp: SMTP port.")
    sender: str = Field(description="From address.")
    to: tuple[str, ...] = Field(min_length=1, description="Recipients.")
    starttls: bool = Field(default=False, description="smtp: upgrade the connection with STARTTLS.")
    username_env: str | None = Field(default=None, description="smtp: environment variable holding the user name.")
    password_env: str | None = Field(default=None, description="smtp: environment variable holding the password.")
    api_key_env: str = Field(default="SENDGRID_API_KEY", description="sendgrid: environment variable holding the API key.")
    base_url: str = Field(default="https://api.sendgrid.com", description="sendgrid: API base URL.")
    on: Literal["failures", "all"] | None = None

    @model_validator(mode="after")
    def _smtp_needs_a_host(self) -> EmailNotifier:
        if self.provider == "smtp" and not self.host:
            raise ValueError("an smtp email notifier needs host")
        return self


class ConsoleNotifier(_Section):
    """Lines on the releaser's log (the demo)."""

    kind: Literal["console"]
    on: Literal["failures", "all"] | None = None


NotifierSection = Annotated[SlackNotifier | EmailNotifier | ConsoleNotifier, Field(discriminator="kind")]


class _Notifiers(_Section):
    items: tuple[NotifierSection, ...] = ()


class ReleaserTarget(_Section):
    """Everything the releaser reads from one target file, validated."""

    target: TargetConfig
    release: ReleaseSection
    deployer: DeployerSection
    notifiers: tuple[NotifierSection, ...]


def load_releaser_target(target: TargetConfig) -> ReleaserTarget:
    """Validate the releaser's sections of a loaded target; ConfigError names the bad field."""
    release = section(ReleaseSection, target.release, name="release")
    if not target.deployer:
        raise ConfigError("deployer: the releaser needs a [deployer] section")
    deployer = section(DeployerSection, target.deployer, name="deployer")
    notifiers = section(_Notifiers, {"items": list(target.notifiers)}, name="notifiers").items
    return ReleaserTarget(target=target, release=release, deployer=deployer, notifiers=notifiers)
