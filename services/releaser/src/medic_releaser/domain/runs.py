"""A release run: one fix's way from its PR to production, as the releaser's store keeps it.

The run is plain data. The rollout code moves it from phase to phase and saves it by
compare-and-set on ``version``, so two writers (two instances, a worker and a command handler)
can never both win the same transition.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from medic_contracts import CheckVerdict, DeploymentStage, FixCommitted, IssueBrief

from .analysis import Baseline, WatchState

__all__ = ["DeploymentRef", "DeploymentStatus", "Phase", "ReleaseRun", "RunStatus", "StageState", "run_id_for"]


class Phase(StrEnum):
    """Where a run is inside its current stage."""

    GATE = "gate"  # ask policy (and wait for approval)
    BASELINE = "baseline"  # measure the stage before anything changes
    MERGE = "merge"  # merge the fix (staging) or staging (production)
    DEPLOY = "deploy"  # start the deployment and wait until it is ready
    SMOKE = "smoke"  # configured HTTP checks right after the deploy
    WATCH = "watch"  # sample the sources until the window ends or a check fails
    ROLLBACK = "rollback"  # redeploy the previous good deployment, revert the merge
    DONE = "done"


class RunStatus(StrEnum):
    """The run's overall state."""

    ACTIVE = "active"
    AWAITING_APPROVAL = "awaiting_approval"
    BLOCKED = "blocked"
    PROMOTED = "promoted"
    ROLLED_BACK = "rolled_back"
    REOPENED = "reopened"
    FAILED = "failed"
    REJECTED = "rejected"

    @property
    def finished(self) -> bool:
        """True when nothing more happens to the run."""
        return self in (RunStatus.PROMOTED, RunStatus.ROLLED_BACK, RunStatus.REOPENED, RunStatus.FAILED, RunStatus.REJECTED)


class DeploymentStatus(StrEnum):
    """Where a deployment is (as the deployer reports it)."""

    BUILDING = "building"
    READY = "ready"
    ERROR = "error"


class DeploymentRef(BaseModel):
    """A deployment as the deployer names it."""

    model_config = ConfigDict(frozen=True)

    id: str
    url: str | None = None
    ref: str | None = None
    sha: str | None = None


class StageState(BaseModel):
    """What the run knows about one stage."""

    approval_id: str | None = None
    approved_by: str | None = None
    approval_requested: bool = False
    approval_requested_at: float | None = None
    baseline: Baseline | None = None
    baseline_started_at: float | None = None
    pre_merge_sha: str | None = None
    merge_sha: str | None = None
    deploy_key: str | None = None
    deploy_started_at: float | None = None
    deploy_confirmed: bool = False
    serving_log_offset: int | None = None  # the stage log's size when the new deployment took over
    deployment: DeploymentRef | None = None
    previous: DeploymentRef | None = None
    watch_until: float | None = None  # when the window ends if no more time goes unobserved (see domain.watch)
    pre_merge_release: DeploymentRef | None = None  # what served before this run's merge: a rollback redeploys it
    baseline_attempts: int = 0
    watch: WatchState = Field(default_factory=WatchState)
    verdicts: list[CheckVerdict] = Field(default_factory=list)
    outcome: str | None = None
    reverted_sha: str | None = None
    redeployed: bool = False

    def old_release(self) -> frozenset[str]:
        """Names of the release that served before this run's deployment (log lines tagged with them are not ours)."""
        old = self.previous or self.pre_merge_release
        if old is None:
            return frozenset()
        names = {n.lower() for n in (old.id, old.sha) if n}
        new = self.deployment
        # When the two share a name the tag cannot tell them apart: then every line counts against the new one.
        ours = {n.lower() for n in (new.id, new.sha, self.merge_sha) if n} if new else {(self.merge_sha or "").lower()}
        return frozenset(names - ours)


class ReleaseRun(BaseModel):
    """One rollout, stored as JSON and changed by compare-and-set on ``version``."""

    run_id: str
    issue_id: str
    target: str
    fix: FixCommitted
    stage: DeploymentStage = DeploymentStage.STAGING
    phase: Phase = Phase.GATE
    status: RunStatus = RunStatus.ACTIVE
    version: int = 0
    reason: str = ""
    last_verdict: str | None = None
    rollback_reason: str | None = None
    rollback_requested_by: str | None = None
    recurred: bool = False
    created_at: float
    updated_at: float
    staging: StageState = Field(default_factory=StageState)
    production: StageState = Field(default_factory=StageState)
    issue_update: IssueBrief | None = None  # the watcher's latest view (a severity that rose after the fix)

    @property
    def issue(self) -> IssueBrief:
        """The issue's facts: the fix's, or newer ones the watcher published since (severity rises)."""
        return self.issue_update or self.fix.issue

    def state(self, stage: DeploymentStage | None = None) -> StageState:
        """The state of ``stage`` (default: the current stage)."""
        return self.staging if (stage or self.stage) is DeploymentStage.STAGING else self.production

    def to_json(self) -> dict[str, Any]:
        """The run as stored."""
        return self.model_dump(mode="json")


def run_id_for(fix: FixCommitted) -> str:
    """A stable run id per issue and fix attempt, so a redelivered FixCommitted never starts a second run."""
    return f"rel_{fix.issue_id}_{fix.attempt}_{fix.commit_sha[:12]}"
