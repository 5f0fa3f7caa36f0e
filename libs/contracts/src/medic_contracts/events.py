"""Medic's event contracts: the envelope and every event that crosses the bus.

Every event is a frozen pydantic model with ``extra="forbid"``. The envelope fields come first,
then the event's own fields. ``event_type`` is a literal per model, so a topic carrying several
event types decodes through :data:`AnyEvent`, a discriminated union.

Versioning: ``SCHEMA_VERSION`` of a model is ``"<major>.<minor>"``. Additive, optional fields bump
the minor version; anything else is a new model on a new topic (see ``schema.py``).
"""

from __future__ import annotations

import types
import typing
import uuid
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any, ClassVar, Literal, Self, TypeAlias, TypeVar

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, JsonValue, TypeAdapter, model_validator

__all__ = [
    "CODE_EVIDENCE_KINDS",
    "MAX_PASSING_REQUESTS",
    "ActionRecorded",
    "ActionStatus",
    "AnyEvent",
    "ApprovalKind",
    "ApprovalRequested",
    "CheckVerdict",
    "CommandName",
    "ControlCommand",
    "DeadLetter",
    "DeploymentOutcome",
    "DeploymentResult",
    "DeploymentStage",
    "DetectionReason",
    "DiagnosisReady",
    "Envelope",
    "Event",
    "Evidence",
    "ExceptionInfo",
    "FixCommitted",
    "FixStrategy",
    "Frequency",
    "IssueBrief",
    "IssueDetected",
    "IssueType",
    "LineRange",
    "Link",
    "NameChange",
    "Producer",
    "RequestContext",
    "Severity",
    "StackFrame",
    "SuspectCommit",
    "TestOutcome",
    "TestReport",
    "TokenUsage",
    "ValueOrigin",
    "event_adapter",
    "new_event_id",
    "utcnow",
]


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC (every timestamp on the bus is)."""
    return datetime.now(UTC)


def new_event_id() -> str:
    """A fresh event id (UUID4 as text)."""
    return str(uuid.uuid4())


class Contract(BaseModel):
    """Base of every model on the bus: frozen, closed to unknown fields."""

    model_config = ConfigDict(frozen=True, extra="forbid", use_enum_values=False, str_strip_whitespace=False)


# --------------------------------------------------------------------------------------------------
# Vocabulary


class Severity(StrEnum):
    """Issue severity, P0 (most urgent) to P4 (informational)."""

    P0 = "P0"
    P1 = "P1"
    P2 = "P2"
    P3 = "P3"
    P4 = "P4"

    @property
    def rank(self) -> int:
        """0 for P0 up to 4 for P4: lower is more urgent (use it as a queue priority)."""
        return int(self.value[1])


class IssueType(StrEnum):
    """What kind of problem an issue is."""

    API_ERROR = "api_error"
    DATABASE_ERROR = "database_error"
    FRONTEND_CRASH = "frontend_crash"
    PERFORMANCE = "performance"
    ANOMALY = "anomaly"
    AVAILABILITY = "availability"


class DetectionReason(StrEnum):
    """Why the watcher published an IssueDetected now."""

    NEW = "new"
    SEVERITY_RAISED = "severity_raised"
    REGRESSED = "regressed"
    MANUAL_SCAN = "manual_scan"


class FixStrategy(StrEnum):
    """How the implementer should approach the fix."""

    NULL_GUARD = "null_guard"
    MISSING_KEY_GUARD = "missing_key_guard"
    BOUNDS_GUARD = "bounds_guard"
    ZERO_GUARD = "zero_guard"
    EMPTY_ITERABLE_GUARD = "empty_iterable_guard"
    REVERT_COMMIT = "revert_commit"
    PARTIAL_REVERT = "partial_revert"
    LLM_EDIT = "llm_edit"
    CONFIG_CHANGE = "config_change"
    INDEX_PROPOSAL = "index_proposal"
    NEEDS_HUMAN = "needs_human"


class TestOutcome(StrEnum):
    """Result of running a target's test command."""

    PASSED = "passed"
    FAILED = "failed"
    TIMED_OUT = "timed_out"
    ERROR = "error"
    NOT_RUN = "not_run"


class DeploymentStage(StrEnum):
    """Where a release is in its path to production."""

    STAGING = "staging"
    PRODUCTION = "production"


class DeploymentOutcome(StrEnum):
    """What happened to a release at a stage."""

    PROMOTED = "promoted"
    ROLLED_BACK = "rolled_back"
    AWAITING_APPROVAL = "awaiting_approval"
    BLOCKED = "blocked"
    FAILED = "failed"
    VERIFIED = "verified"
    REOPENED = "reopened"


class ActionStatus(StrEnum):
    """How an audited step ended."""

    STARTED = "started"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    REFUSED = "refused"
    SKIPPED = "skipped"


class CommandName(StrEnum):
    """Commands control-api broadcasts to every service instance."""

    PAUSE = "pause"
    RESUME = "resume"
    CONFIG_CHANGED = "config_changed"
    APPROVE = "approve"
    REJECT = "reject"
    SCAN = "scan"
    ROLLBACK = "rollback"
    STATE_SNAPSHOT = "state_snapshot"
    FEEDBACK = "feedback"


class ApprovalKind(StrEnum):
    """What an approval is asked for."""

    FIX = "fix"
    DEPLOY = "deploy"
    ROLLBACK = "rollback"
    CONFIG = "config"


# --------------------------------------------------------------------------------------------------
# Value objects


class Producer(Contract):
    """The service instance that produced an event."""

    service: str = Field(description="Service name.", examples=["watcher"])
    instance: str = Field(description="Instance id (host and pid, or pod name).", examples=["watcher-7f9c-1"])


class StackFrame(Contract):
    """One frame of a stack trace, innermost last (Sentry's order)."""

    file: str = Field(
        description="Path as reported (deployed path or module file).", examples=["src/app/api/practices/[id]/route.ts"]
    )
    function: str | None = Field(default=None, description="Function or method name.", examples=["GET"])
    line: int | None = Field(default=None, ge=0, description="1-based line number.", examples=[42])
    column: int | None = Field(default=None, ge=0, description="1-based column, when known.", examples=[17])
    module: str | None = Field(default=None, description="Module or package name.", examples=["app.api.practices"])
    in_app: bool = Field(default=False, description="True when the frame is the application's own code.", examples=[True])
    context_line: str | None = Field(
        default=None, description="The source line, when the SDK sent it.", examples=["  return NextResponse.json(practice.name)"]
    )
    pre_context: tuple[str, ...] = Field(
        default=(), description="Source lines before context_line.", examples=[["const practice = await db.get(id)"]]
    )
    post_context: tuple[str, ...] = Field(default=(), description="Source lines after context_line.", examples=[["}"]])
    vars: dict[str, str] = Field(
        default_factory=dict, description="Local variables (redacted, truncated).", examples=[{"id": "'42'"}]
    )


class ExceptionInfo(Contract):
    """The exception at the root of an issue (the last in a chain)."""

    type: str = Field(description="Exception class or error name.", examples=["TypeError"])
    value: str = Field(
        default="", description="Exception message (redacted).", examples=["Cannot read properties of null (reading 'name')"]
    )
    module: str | None = Field(default=None, description="Module defining the exception type.", examples=["builtins"])
    chained: tuple[str, ...] = Field(
        default=(), description="Types of the exceptions chained before this one, outermost first.", examples=[["KeyError"]]
    )


class Frequency(Contract):
    """How often an issue occurred in a sliding window."""

    count: int = Field(ge=0, description="Occurrences inside the window.", examples=[15])
    window_seconds: int = Field(gt=0, description="Length of the window in seconds.", examples=[300])
    total: int = Field(default=0, ge=0, description="Occurrences since first seen.", examples=[15])


class RequestContext(Contract):
    """The HTTP request during which the error happened, when there was one."""

    method: str | None = Field(default=None, description="HTTP method.", examples=["POST"])
    route: str | None = Field(
        default=None, description="Route template or path (ids masked).", examples=["/api/campaigns/launch"]
    )
    url: str | None = Field(
        default=None, description="Full URL (redacted).", examples=["https://shop.example.com/api/campaigns/launch"]
    )
    status: int | None = Field(
        default=None, ge=-1, le=999, description="Response status; -1 when the function crashed.", examples=[500]
    )
    duration_ms: float | None = Field(default=None, ge=0, description="Request duration in milliseconds.", examples=[812.5])
    query: str | None = Field(default=None, description="Query string (redacted).", examples=["id=42"])
    body: str | None = Field(
        default=None, description="Request body excerpt (redacted, truncated).", examples=['{"campaignId": "c_1"}']
    )
    headers: dict[str, str] = Field(
        default_factory=dict, description="Selected request headers (redacted).", examples=[{"user-agent": "curl/8"}]
    )


class Link(Contract):
    """A link to the issue in an external system."""

    title: str = Field(description="What the link points at.", examples=["Sentry issue"])
    url: str = Field(description="Where it points.", examples=["https://sentry.io/organizations/acme/issues/123/"])


class LineRange(Contract):
    """An inclusive 1-based line range in a file."""

    first: int = Field(ge=1, description="First line.", examples=[40])
    last: int = Field(ge=1, description="Last line (>= first).", examples=[44])


class ValueOrigin(Contract):
    """Where the bad value came from when that is not the crash site: a callee in another file that changed recently."""

    file: str = Field(description="Repository-relative file of the callee.", examples=["app/prefs.py"])
    lines: LineRange = Field(description="The callee's lines the recent commit changed.", examples=[{"first": 12, "last": 13}])
    function: str | None = Field(default=None, description="The callee.", examples=["load_prefs"])
    commit: str | None = Field(default=None, description="The commit that changed it.", examples=["3f2a9c0d1e4b"])


class NameChange(Contract):
    """A name a commit removed or renamed, found by searching the history for the name an error says is missing."""

    name: str = Field(description="The missing name (an identifier).", examples=["vat_for"])
    new_name: str | None = Field(
        default=None,
        description="The name the commit gave the same definition (same signature); None when it only removed it.",
        examples=["vat_amount"],
    )
    owner: str | None = Field(
        default=None, description="What the error read the name from (a module or an object).", examples=["app.tax"]
    )
    file: str = Field(description="Repository-relative file the definition was removed from.", examples=["app/tax.py"])


class SuspectCommit(Contract):
    """The commit that most likely introduced an issue."""

    sha: str = Field(description="Full commit sha.", examples=["3f2a9c0d1e4b5a6978877665544332211000ffee"])
    author: str = Field(description="Author name and email.", examples=["Dev <dev@example.com>"])
    date: AwareDatetime = Field(description="Commit date.", examples=["2026-11-27T09:12:00Z"])
    message: str = Field(description="Commit subject.", examples=["Load practice details in one query"])
    landed_before_first_seen: bool = Field(
        default=False, description="True when it landed shortly before the issue's first_seen.", examples=[True]
    )
    deploy_id: str | None = Field(default=None, description="The deployment that carried it, when known.", examples=["dpl_123"])
    name_change: NameChange | None = Field(
        default=None,
        description="The missing name this commit removed or renamed (history search), when that is why it is the suspect.",
        examples=[{"name": "vat_for", "new_name": "vat_amount", "owner": "app.tax", "file": "app/tax.py"}],
    )


#: Evidence kinds the investigator derives from the code itself (the event's stack frames, blame, history
#: search), never from what a model says: only these may widen the files a fix counts as "within the evidence".
CODE_EVIDENCE_KINDS: frozenset[str] = frozenset({"stack_frame", "git_blame", "git_log"})
#: How many recent non-failing requests of a route an issue carries (``IssueDetected.passing_requests``).
MAX_PASSING_REQUESTS = 5


class Evidence(Contract):
    """One piece of evidence behind a diagnosis."""

    kind: str = Field(
        description="stack_frame, code, git_blame, git_log, log, metric, sql, memory, injection_attempt, tool_refusal.",
        examples=["stack_frame"],
    )
    summary: str = Field(description="One line saying what this shows.", examples=["practice is null when the id does not exist"])
    detail: str | None = Field(
        default=None,
        description="Supporting text (code excerpt, log lines), truncated.",
        examples=["const practice = await getPractice(id)"],
    )
    source: str | None = Field(
        default=None, description="Where it came from (file:line, tool name, URL).", examples=["src/lib/db.ts:12"]
    )


class TokenUsage(Contract):
    """LLM token accounting for one diagnosis or fix."""

    input_tokens: int = Field(default=0, ge=0, description="Prompt tokens billed.", examples=[5120])
    output_tokens: int = Field(default=0, ge=0, description="Completion tokens billed.", examples=[740])
    cache_read_tokens: int = Field(default=0, ge=0, description="Prompt tokens served from the prompt cache.", examples=[4096])
    cache_write_tokens: int = Field(default=0, ge=0, description="Prompt tokens written to the prompt cache.", examples=[1024])


class TestReport(Contract):
    """What a test run of the target repository said."""

    command: str = Field(description="The test command as configured.", examples=["npm test"])
    outcome: TestOutcome = Field(description="How the run ended.", examples=[TestOutcome.PASSED])
    passed: int = Field(default=0, ge=0, description="Tests passed.", examples=[42])
    failed: int = Field(default=0, ge=0, description="Tests failed.", examples=[0])
    duration_s: float = Field(default=0.0, ge=0, description="Wall time of the run.", examples=[3.2])
    summary: str = Field(
        default="", description="The tail of the output, summarised and redacted.", examples=["42 passed in 3.20s"]
    )
    sandboxed: bool | None = Field(
        default=None,
        description="True when the run had every sandbox protection (unprivileged user, private mount, PID and "
        "network namespaces); False when one was missing, and then the fix is released only with approval; "
        "None from producers before FixCommitted 1.1.",
        examples=[True],
    )
    sandbox_missing: tuple[str, ...] = Field(
        default=(),
        description="The protections the run did not have, with why (empty when sandboxed).",
        examples=[["pid_namespace (kernel refused: unshare: Operation not permitted)"]],
    )


class CheckVerdict(Contract):
    """The verdict of one rollout check over a watch window."""

    name: str = Field(
        description="error_rate, new_fingerprints, health, latency, fingerprint_recurrence, smoke.", examples=["error_rate"]
    )
    passed: bool = Field(description="True when the check held.", examples=[True])
    value: float | None = Field(default=None, description="Measured value.", examples=[0.01])
    threshold: float | None = Field(default=None, description="Threshold it was compared with.", examples=[0.012])
    baseline: float | None = Field(default=None, description="Baseline before the deploy.", examples=[0.01])
    detail: str = Field(default="", description="Why, in words.", examples=["error rate 1.0% vs baseline 1.0% (+0%)"])


class IssueBrief(Contract):
    """The facts about an issue that downstream agents need to decide without looking it up."""

    target: str = Field(description="Name of the target application (medic.toml).", examples=["shop"])
    service: str = Field(description="Service of the target the issue was seen in.", examples=["web"])
    title: str = Field(description="Short title.", examples=["TypeError: Cannot read properties of null (reading 'name')"])
    severity: Severity = Field(description="Current severity.", examples=[Severity.P1])
    issue_type: IssueType = Field(description="Kind of problem.", examples=[IssueType.API_ERROR])
    fingerprint: str = Field(description="Grouping fingerprint.", examples=["9b1c0e5d2f3a4b6c"])
    affected_users: int = Field(default=0, ge=0, description="Distinct users affected.", examples=[3])
    commit_sha: str | None = Field(default=None, description="Commit deployed when the issue was seen.", examples=["a1b2c3d"])
    deadline: AwareDatetime | None = Field(
        default=None, description="When the fix is due by its severity SLA.", examples=["2026-11-27T10:00:00Z"]
    )


# --------------------------------------------------------------------------------------------------
# Envelope

EventT = TypeVar("EventT", bound="Envelope")


def _contract_types(annotation: Any) -> list[type[Contract]]:
    """Contract models reachable from a field annotation (through Optional, tuple, list, dict)."""
    if isinstance(annotation, type) and issubclass(annotation, Contract):
        return [annotation]
    found: list[type[Contract]] = []
    if typing.get_origin(annotation) in (typing.Union, types.UnionType, tuple, list, dict, Annotated):
        for arg in typing.get_args(annotation):
            found.extend(_contract_types(arg))
    return found


def _prune_unknown(model: type[Contract], data: Any) -> Any:
    """Drop keys ``model`` does not know, recursively: how an old reader reads a newer minor version."""
    if not isinstance(data, dict):
        return data
    pruned: dict[str, Any] = {}
    for name, value in data.items():
        field = model.model_fields.get(name)
        if field is None:
            continue
        nested = _contract_types(field.annotation)
        if len(nested) == 1 and isinstance(value, dict):
            pruned[name] = _prune_unknown(nested[0], value)
        elif len(nested) == 1 and isinstance(value, list):
            pruned[name] = [_prune_unknown(nested[0], item) for item in value]
        else:
            pruned[name] = value
    return pruned


def _parse_version(version: str) -> tuple[int, int]:
    major, _, minor = version.partition(".")
    return int(major), int(minor or 0)


class Envelope(Contract):
    """Fields every event carries. Trace context travels in Kafka headers, not here."""

    SCHEMA_VERSION: ClassVar[str] = "1.0"

    @model_validator(mode="before")
    @classmethod
    def _version_and_forward_compat(cls, data: Any) -> Any:
        """Stamp this model's schema version; read a newer minor version by ignoring its new fields.

        Fields unknown at this model's own version are still refused (``extra="forbid"``); a newer
        *major* version is refused too: a breaking change travels as a new model on a new topic.
        """
        if not isinstance(data, dict):
            return data
        incoming = data.get("schema_version")
        if incoming is None:
            return {**data, "schema_version": cls.SCHEMA_VERSION}
        if not isinstance(incoming, str):
            return data
        try:
            theirs, ours = _parse_version(incoming), _parse_version(cls.SCHEMA_VERSION)
        except ValueError:
            return data  # the field pattern reports it
        if theirs[0] == ours[0] and theirs[1] > ours[1]:
            return _prune_unknown(cls, data)
        if theirs[0] != ours[0]:
            raise ValueError(f"schema_version {incoming} is not readable by {cls.__name__} {cls.SCHEMA_VERSION}")
        return data

    event_id: str = Field(
        default_factory=new_event_id,
        description="Unique id of this event (UUID).",
        examples=["0b5f7a3e-8a7e-4f1e-9f55-2f0f8c7c4d11"],
    )
    event_type: str = Field(description="The event's type name (discriminator).", examples=["issue_detected"])
    schema_version: str = Field(
        default="1.0", pattern=r"^\d+\.\d+$", description="Schema version of this event type, major.minor.", examples=["1.0"]
    )
    occurred_at: AwareDatetime = Field(
        default_factory=utcnow, description="When it happened (UTC).", examples=["2026-11-27T09:30:00Z"]
    )
    producer: Producer = Field(
        description="Service instance that produced it.", examples=[{"service": "watcher", "instance": "watcher-7f9c-1"}]
    )
    issue_id: str | None = Field(
        default=None,
        description="The issue it belongs to; the Kafka key. None for control-plane events without an issue.",
        examples=["iss_7d1f2a"],
    )
    correlation_id: str = Field(
        default_factory=new_event_id,
        description="Shared by every event of one issue's run through the loop.",
        examples=["c1d2e3f4-0000-4000-8000-000000000001"],
    )
    causation_id: str | None = Field(
        default=None, description="event_id of the event that caused this one.", examples=["0b5f7a3e-8a7e-4f1e-9f55-2f0f8c7c4d11"]
    )

    @property
    def key(self) -> bytes | None:
        """The Kafka key: the issue id, so one issue's events stay ordered on one partition."""
        return self.issue_id.encode() if self.issue_id else None

    def follow_up(self, model: type[EventT], *, producer: Producer, **fields: Any) -> EventT:
        """Build the next event in this one's chain: same issue and correlation, caused by this event."""
        fields.setdefault("issue_id", self.issue_id)
        return model(
            producer=producer,
            correlation_id=self.correlation_id,
            causation_id=self.event_id,
            **fields,
        )

    def with_fresh_id(self, **changes: Any) -> Self:
        """A copy with a new event id (replay, rework), other fields as given."""
        return self.model_copy(update={"event_id": new_event_id(), **changes})


# --------------------------------------------------------------------------------------------------
# Events


class IssueDetected(Envelope):
    """The watcher found a new issue, its severity rose, or it regressed."""

    SCHEMA_VERSION: ClassVar[str] = "1.1"  # 1.1: passing_requests
    event_type: Literal["issue_detected"] = Field(
        default="issue_detected", description="Discriminator: issue_detected.", examples=["issue_detected"]
    )
    issue_id: str = Field(description="The issue id (stable per target, service and fingerprint).", examples=["iss_7d1f2a"])

    target: str = Field(description="Target application (medic.toml name).", examples=["shop"])
    service: str = Field(description="Service of the target it was seen in.", examples=["web"])
    environment: str = Field(default="production", description="Environment it was seen in.", examples=["production"])
    reason: DetectionReason = Field(
        default=DetectionReason.NEW, description="Why it is published now.", examples=[DetectionReason.NEW]
    )
    severity: Severity = Field(description="Severity P0–P4.", examples=[Severity.P1])
    previous_severity: Severity | None = Field(default=None, description="Severity before a rise.", examples=[Severity.P2])
    issue_type: IssueType = Field(description="Kind of problem.", examples=[IssueType.API_ERROR])
    title: str = Field(
        max_length=500,
        description="Short title (exception type and message, or the log template).",
        examples=["POST /api/campaigns/launch returning 500"],
    )
    message: str = Field(
        max_length=20_000,
        description="Representative message (redacted).",
        examples=["TypeError: Cannot read properties of undefined (reading 'id')"],
    )
    fingerprint: str = Field(description="Grouping fingerprint.", examples=["9b1c0e5d2f3a4b6c"])
    frequency: Frequency = Field(
        description="Occurrences in the sliding window.", examples=[{"count": 15, "window_seconds": 300, "total": 15}]
    )
    affected_users: int = Field(default=0, ge=0, description="Distinct users affected.", examples=[3])
    first_seen: AwareDatetime = Field(description="First occurrence.", examples=["2026-11-27T09:25:00Z"])
    last_seen: AwareDatetime = Field(description="Latest occurrence.", examples=["2026-11-27T09:30:00Z"])
    exception: ExceptionInfo | None = Field(
        default=None,
        description="The exception, when the issue is one.",
        examples=[{"type": "TypeError", "value": "Cannot read properties of null (reading 'name')"}],
    )
    frames: tuple[StackFrame, ...] = Field(
        default=(),
        description="Stack frames, innermost last.",
        examples=[[{"file": "src/app/api/practices/[id]/route.ts", "function": "GET", "line": 12, "in_app": True}]],
    )
    raw_trace: str | None = Field(
        default=None,
        max_length=100_000,
        description="The trace as text (redacted, truncated).",
        examples=["Traceback (most recent call last): ..."],
    )
    request: RequestContext | None = Field(
        default=None,
        description="The failing request, when there was one.",
        examples=[{"method": "POST", "route": "/api/campaigns/launch", "status": 500, "duration_ms": 120.0}],
    )
    passing_requests: tuple[RequestContext, ...] = Field(
        default=(),
        max_length=MAX_PASSING_REQUESTS,
        description=(
            "Recent non-failing requests of the same route, when the source saw them (redacted; at most "
            f"{MAX_PASSING_REQUESTS}): the implementer replays them before and after a fix, and a changed answer "
            "keeps the fix from release."
        ),
        examples=[
            [{"method": "GET", "route": "/api/practices/{id}", "url": "https://shop.example.com/api/practices/1", "status": 200}]
        ],
    )
    release: str | None = Field(
        default=None, description="Release name reported by the SDK or platform.", examples=["shop@1.4.2"]
    )
    commit_sha: str | None = Field(default=None, description="Commit deployed when it happened.", examples=["a1b2c3d4e5f6"])
    source: str = Field(
        description="Source that saw it: sentry, vercel, supabase, healthcheck, prometheus, logfile.", examples=["sentry"]
    )
    links: tuple[Link, ...] = Field(
        default=(),
        description="Links to the issue elsewhere.",
        examples=[[{"title": "Sentry issue", "url": "https://sentry.io/organizations/acme/issues/123/"}]],
    )
    tags: dict[str, str] = Field(
        default_factory=dict, description="Extra key/value facts (redacted).", examples=[{"runtime": "nodejs"}]
    )
    deadline: AwareDatetime | None = Field(
        default=None, description="When the fix is due under the severity SLA (P4: none).", examples=["2026-11-27T10:30:00Z"]
    )

    def brief(self) -> IssueBrief:
        """The facts downstream agents carry along."""
        return IssueBrief(
            target=self.target,
            service=self.service,
            title=self.title,
            severity=self.severity,
            issue_type=self.issue_type,
            fingerprint=self.fingerprint,
            affected_users=self.affected_users,
            commit_sha=self.commit_sha,
            deadline=self.deadline,
        )


class DiagnosisReady(Envelope):
    """The investigator's diagnosis of an issue."""

    # 1.1: suspect_commit.name_change (the commit that removed or renamed a missing name), origin (a changed callee)
    SCHEMA_VERSION: ClassVar[str] = "1.1"
    event_type: Literal["diagnosis_ready"] = Field(
        default="diagnosis_ready", description="Discriminator: diagnosis_ready.", examples=["diagnosis_ready"]
    )
    issue_id: str = Field(description="The issue diagnosed.", examples=["iss_7d1f2a"])

    issue: IssueBrief = Field(
        description="The issue's facts at diagnosis time.",
        examples=[
            {
                "target": "shop",
                "service": "web",
                "title": "TypeError: practice is null",
                "severity": "P1",
                "issue_type": "api_error",
                "fingerprint": "9b1c0e5d2f3a4b6c",
                "affected_users": 3,
            }
        ],
    )
    root_cause: str = Field(
        max_length=5_000,
        description="The root cause in words.",
        examples=["getPractice returns null for an unknown id and the route reads practice.name"],
    )
    affected_file: str | None = Field(
        description="Repository-relative file holding the fault; None when not localised.",
        examples=["src/app/api/practices/[id]/route.ts"],
    )
    affected_lines: LineRange | None = Field(
        default=None, description="Lines of the fault in affected_file.", examples=[{"first": 40, "last": 44}]
    )
    affected_function: str | None = Field(default=None, description="Function holding the fault.", examples=["GET"])
    origin: ValueOrigin | None = Field(
        default=None,
        description="Where the bad value came from, when a recently changed callee in another file returned it.",
        examples=[{"file": "app/prefs.py", "lines": {"first": 12, "last": 13}, "function": "load_prefs"}],
    )
    suspect_commit: SuspectCommit | None = Field(
        default=None,
        description="Commit that most likely introduced it.",
        examples=[
            {
                "sha": "3f2a9c0d1e4b5a6978877665544332211000ffee",
                "author": "Dev <dev@example.com>",
                "date": "2026-11-27T09:12:00Z",
                "message": "Load practice details in one query",
                "landed_before_first_seen": True,
            }
        ],
    )
    fix_strategy: FixStrategy = Field(description="Suggested approach.", examples=[FixStrategy.NULL_GUARD])
    fix_hint: str | None = Field(
        default=None,
        max_length=5_000,
        description="Details for the fixer (e.g. the guarded expression, the exit to use).",
        examples=["guard `practice`; return 404 'Practice not found'"],
    )
    confidence: float = Field(ge=0, le=1, description="Confidence in the root cause.", examples=[0.85])
    fixability: float = Field(
        ge=0, le=1, description="How likely a code-level automatic fix is (0 none, 1 certain).", examples=[0.9]
    )
    needs_human: bool = Field(
        default=False, description="True when the issue should go to a human instead of a fix.", examples=[False]
    )
    estimated_fix_time: timedelta = Field(description="Estimated time to a tested fix.", examples=["PT5M"])
    evidence: tuple[Evidence, ...] = Field(
        default=(),
        description="Evidence behind the diagnosis.",
        examples=[
            [{"kind": "stack_frame", "summary": "practice is null when the id does not exist", "source": "src/lib/db.ts:12"}]
        ],
    )
    provider: str = Field(description="Diagnosis provider: playbook or claude.", examples=["playbook"])
    model: str | None = Field(default=None, description="LLM model, when one was used.", examples=["claude-sonnet-4-5"])
    tokens: TokenUsage = Field(
        default_factory=TokenUsage,
        description="Tokens used.",
        examples=[{"input_tokens": 5120, "output_tokens": 740, "cache_read_tokens": 4096, "cache_write_tokens": 0}],
    )
    cost_usd: float = Field(default=0.0, ge=0, description="LLM cost of this diagnosis in USD.", examples=[0.042])


class FixCommitted(Envelope):
    """The implementer committed a tested fix on its branch and opened a pull request."""

    # 1.1: tests.sandboxed and tests.sandbox_missing; 1.2: root_cause (the releaser's notices no longer read diagnoses);
    # 1.3: reproduced, verified and verification (the implementer's release gate: reproduce, verify, or abstain)
    SCHEMA_VERSION: ClassVar[str] = "1.3"
    event_type: Literal["fix_committed"] = Field(
        default="fix_committed", description="Discriminator: fix_committed.", examples=["fix_committed"]
    )
    issue_id: str = Field(description="The issue fixed.", examples=["iss_7d1f2a"])

    issue: IssueBrief = Field(
        description="The issue's facts.",
        examples=[
            {
                "target": "shop",
                "service": "web",
                "title": "TypeError: practice is null",
                "severity": "P1",
                "issue_type": "api_error",
                "fingerprint": "9b1c0e5d2f3a4b6c",
                "affected_users": 3,
            }
        ],
    )
    repository: str = Field(description="Repository the fix lives in (URL, path or owner/name).", examples=["acme/shop"])
    branch: str = Field(description="The fix branch.", examples=["agent/fix-iss_7d1f2a"])
    base_sha: str = Field(
        description="Commit the branch started from (the deployed commit).", examples=["a1b2c3d4e5f60718293a4b5c6d7e8f9012345678"]
    )
    commit_sha: str = Field(description="The fix commit.", examples=["f0e1d2c3b4a5968778695a4b3c2d1e0f12345678"])
    files_changed: tuple[str, ...] = Field(
        description="Repository-relative files changed.", examples=[["src/app/api/practices/[id]/route.ts"]]
    )
    diff: str = Field(
        default="",
        max_length=200_000,
        description="The unified diff (truncated for very large fixes).",
        examples=["--- a/route.ts\n+++ b/route.ts\n..."],
    )
    diff_hash: str = Field(description="sha256 of the full diff; approvals bind to it.", examples=["sha256:5f1d..."])
    strategy: FixStrategy = Field(description="Strategy that produced the kept fix.", examples=[FixStrategy.NULL_GUARD])
    regression_test: str | None = Field(
        default=None,
        description="Path of the regression test committed with the fix.",
        examples=["src/app/api/practices/[id]/route.medic.test.ts"],
    )
    tests: TestReport = Field(
        description="The test run that gated the commit.",
        examples=[
            {"command": "npm test", "outcome": "passed", "passed": 42, "failed": 0, "duration_s": 3.2, "summary": "42 passed"}
        ],
    )
    pr_url: str | None = Field(
        default=None, description="Pull request URL, when the forge has one.", examples=["https://github.com/acme/shop/pull/17"]
    )
    pr_number: int | None = Field(default=None, description="Pull request number.", examples=[17])
    signature: str = Field(
        default="unsigned", description="good, bad, unsigned: result of verifying the commit signature.", examples=["good"]
    )
    attempt: int = Field(default=1, ge=1, description="Attempt number for this issue (rework increments it).", examples=[1])
    needs_approval: bool = Field(
        default=False, description="True when policy required (and got) human approval before push.", examples=[False]
    )
    root_cause: str | None = Field(
        default=None,
        max_length=5000,
        description="The diagnosis' root cause, carried for the release notices (None: not known, or an older producer).",
        examples=["practice may be null when the id is unknown"],
    )
    reproduced: bool | None = Field(
        default=None,
        description="True when the failure was reproduced on the unfixed code (same exception type, same function) "
        "in the target's own environment; None when not recorded (a human-approved fix, or an older producer).",
        examples=[True],
    )
    verified: bool | None = Field(
        default=None,
        description="True when the fix makes the reproduction pass, pinned to the outcome it now produces, and passed "
        "the release gate (tests, confidence); False: a human approved it anyway; None when not recorded.",
        examples=[True],
    )
    verification: str | None = Field(
        default=None,
        max_length=1000,
        description="The release gate's verdict in words.",
        examples=["reproduced and verified (confidence 0.90)"],
    )


class DeploymentResult(Envelope):
    """The releaser's result for one stage of a rollout."""

    SCHEMA_VERSION: ClassVar[str] = "1.0"
    event_type: Literal["deployment_result"] = Field(
        default="deployment_result", description="Discriminator: deployment_result.", examples=["deployment_result"]
    )
    issue_id: str = Field(description="The issue whose fix is being released.", examples=["iss_7d1f2a"])

    issue: IssueBrief = Field(
        description="The issue's facts.",
        examples=[
            {
                "target": "shop",
                "service": "web",
                "title": "TypeError: practice is null",
                "severity": "P1",
                "issue_type": "api_error",
                "fingerprint": "9b1c0e5d2f3a4b6c",
                "affected_users": 3,
            }
        ],
    )
    run_id: str = Field(description="Release run id in the releaser's store.", examples=["run_01"])
    stage: DeploymentStage = Field(description="Stage this result is for.", examples=[DeploymentStage.STAGING])
    outcome: DeploymentOutcome = Field(description="What happened.", examples=[DeploymentOutcome.PROMOTED])
    commit_sha: str = Field(description="Commit deployed.", examples=["f0e1d2c3b4a5"])
    deployment_id: str | None = Field(default=None, description="Deployer's id for the deployment.", examples=["dpl_456"])
    deployment_url: str | None = Field(
        default=None, description="URL of the deployment.", examples=["https://shop-git-agent-fix.vercel.app"]
    )
    metrics_before: dict[str, float] = Field(
        default_factory=dict, description="Baseline metrics (error_rate, p95_ms, rps, ...).", examples=[{"error_rate": 0.05}]
    )
    metrics_after: dict[str, float] = Field(
        default_factory=dict, description="Metrics over the watch window.", examples=[{"error_rate": 0.0}]
    )
    checks: tuple[CheckVerdict, ...] = Field(
        default=(),
        description="Each check's verdict.",
        examples=[
            [{"name": "error_rate", "passed": True, "value": 0.0, "threshold": 0.012, "baseline": 0.01, "detail": "no increase"}]
        ],
    )
    reason: str = Field(default="", description="Why this outcome, in words.", examples=["all checks held for 600 s"])
    approval_id: str | None = Field(default=None, description="Approval the rollout waits for or used.", examples=["apr_1"])


class ControlCommand(Envelope):
    """A command from control-api (or an operator) to every service instance."""

    SCHEMA_VERSION: ClassVar[str] = "1.1"  # 1.1: feedback command and its fields
    event_type: Literal["control_command"] = Field(
        default="control_command", description="Discriminator: control_command.", examples=["control_command"]
    )

    command: CommandName = Field(description="What to do.", examples=[CommandName.PAUSE])
    actor: str = Field(description="Who asked (token name, OIDC subject, or system).", examples=["alice@example.com"])
    reason: str = Field(default="", description="Why, in words.", examples=["incident in progress"])
    target: str | None = Field(default=None, description="Target it applies to; None means all.", examples=["shop"])
    paused: bool | None = Field(default=None, description="Pause state carried by pause/resume/state_snapshot.", examples=[True])
    approval_id: str | None = Field(default=None, description="Approval decided (approve/reject).", examples=["apr_1"])
    approval_kind: ApprovalKind | None = Field(
        default=None, description="Kind of the approval decided.", examples=[ApprovalKind.FIX]
    )
    diff_hash: str | None = Field(default=None, description="Diff hash the approval is bound to.", examples=["sha256:5f1d..."])
    config: dict[str, JsonValue] | None = Field(
        default=None,
        description="The full configuration (config_changed, state_snapshot).",
        examples=[{"version": 7, "autonomy_level": 2, "active": True}],
    )
    config_version: int | None = Field(default=None, ge=0, description="Version of the configuration carried.", examples=[7])
    rating: int | None = Field(default=None, ge=1, le=5, description="Human rating of a fix, 1–5 (feedback).", examples=[4])
    comment: str | None = Field(
        default=None, max_length=2_000, description="Human comment on a fix (feedback).", examples=["good fix, but log it"]
    )
    fix_strategy: FixStrategy | None = Field(
        default=None, description="Strategy of the fix the feedback is about.", examples=[FixStrategy.NULL_GUARD]
    )
    false_positive: bool | None = Field(
        default=None, description="True when a human marked the issue as a false positive (feedback).", examples=[True]
    )


class ActionRecorded(Envelope):
    """One audited step taken (or refused) by a service."""

    SCHEMA_VERSION: ClassVar[str] = "1.0"
    event_type: Literal["action_recorded"] = Field(
        default="action_recorded", description="Discriminator: action_recorded.", examples=["action_recorded"]
    )

    action: str = Field(description="Dotted name of the step.", examples=["implementer.commit"])
    status: ActionStatus = Field(description="How it ended.", examples=[ActionStatus.SUCCEEDED])
    summary: str = Field(
        max_length=2_000,
        description="One line for the activity feed.",
        examples=["committed fix f0e1d2c on agent/fix-iss_7d1f2a"],
    )
    reasoning: str | None = Field(
        default=None,
        max_length=20_000,
        description="Why the service did it.",
        examples=["null guard keeps the route from reading practice.name"],
    )
    details: dict[str, JsonValue] = Field(
        default_factory=dict,
        description="Structured details: diff, test output, verdicts (redacted).",
        examples=[{"diff": "--- a/app.py\n+++ b/app.py\n...", "tests": "12 passed"}],
    )


class ApprovalRequested(Envelope):
    """A service asks a human to approve a step before it proceeds."""

    SCHEMA_VERSION: ClassVar[str] = "1.0"
    event_type: Literal["approval_requested"] = Field(
        default="approval_requested", description="Discriminator: approval_requested.", examples=["approval_requested"]
    )
    issue_id: str = Field(description="The issue the step belongs to.", examples=["iss_7d1f2a"])

    approval_id: str = Field(description="Stable id of this request (a redelivery reuses it).", examples=["apr_iss_7d1f2a_fix_1"])
    kind: ApprovalKind = Field(description="What is to be approved.", examples=[ApprovalKind.FIX])
    requested_by: str = Field(description="Identity of the requester (service instance or user).", examples=["implementer"])
    reason: str = Field(description="Why approval is needed.", examples=["diff touches package.json"])
    summary: str = Field(
        default="", max_length=5_000, description="What will happen if approved.", examples=["null guard in route.ts, 4 lines"]
    )
    diff: str = Field(
        default="",
        max_length=200_000,
        description="The diff to approve (deploy approvals: the release diff).",
        examples=["--- a/app.py\n+++ b/app.py\n@@ -1 +1,2 @@\n+if x is None: raise NotFound()"],
    )
    diff_hash: str = Field(description="sha256 of the diff; the approval is bound to it.", examples=["sha256:5f1d..."])
    expires_at: AwareDatetime = Field(
        description="After this, the request can no longer be approved.", examples=["2026-11-28T09:30:00Z"]
    )
    issue: IssueBrief | None = Field(
        default=None,
        description="The issue's facts.",
        examples=[
            {
                "target": "shop",
                "service": "web",
                "title": "TypeError: practice is null",
                "severity": "P1",
                "issue_type": "api_error",
                "fingerprint": "9b1c0e5d2f3a4b6c",
                "affected_users": 3,
            }
        ],
    )


class DeadLetter(Envelope):
    """A message a consumer could not process after its retries, with its original bytes."""

    SCHEMA_VERSION: ClassVar[str] = "1.0"
    event_type: Literal["dead_letter"] = Field(
        default="dead_letter", description="Discriminator: dead_letter.", examples=["dead_letter"]
    )

    original_topic: str = Field(description="Topic the message came from.", examples=["medic.issues.detected"])
    partition: int = Field(ge=0, description="Partition it came from.", examples=[2])
    offset: int = Field(ge=0, description="Offset it had.", examples=[1042])
    key_b64: str | None = Field(default=None, description="Original key, base64.", examples=["aXNzXzdkMWYyYQ=="])
    value_b64: str = Field(description="Original value bytes, base64 (nothing is lost).", examples=["eyJub3QiOiAianNvbiJ9"])
    headers: dict[str, str] = Field(
        default_factory=dict,
        description="Original headers (values base64 when not UTF-8).",
        examples=[{"medic-event-type": "issue_detected"}],
    )
    consumer_group: str = Field(description="Consumer group that gave up.", examples=["medic.investigator"])
    error_type: str = Field(description="Exception class.", examples=["ValidationError"])
    error: str = Field(
        max_length=10_000, description="Error message (truncated).", examples=["1 validation error for IssueDetected ..."]
    )
    attempts: int = Field(ge=1, description="Attempts made.", examples=[3])
    permanent: bool = Field(
        default=False, description="True when the error can never succeed on retry (malformed input).", examples=[True]
    )


Event: TypeAlias = (
    IssueDetected
    | DiagnosisReady
    | FixCommitted
    | DeploymentResult
    | ControlCommand
    | ActionRecorded
    | ApprovalRequested
    | DeadLetter
)
AnyEvent = Annotated[Event, Field(discriminator="event_type")]

EVENT_MODELS: tuple[type[Envelope], ...] = (
    IssueDetected,
    DiagnosisReady,
    FixCommitted,
    DeploymentResult,
    ControlCommand,
    ActionRecorded,
    ApprovalRequested,
    DeadLetter,
)
EVENT_TYPES: dict[str, type[Envelope]] = {m.model_fields["event_type"].default: m for m in EVENT_MODELS}

_EVENT_ADAPTER: TypeAdapter[Event] = TypeAdapter(AnyEvent)


def event_adapter() -> TypeAdapter[Event]:
    """The TypeAdapter that decodes any event by its ``event_type``."""
    return _EVENT_ADAPTER
