"""The release gate: the shared policy (:func:`medic_contracts.decide`) fed with the releaser's facts.

Config comes from the control plane (``None`` when unknown or stale: fail closed), counters from
the releaser's own store. The verdict and its reason are returned for the caller to record.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from medic_contracts import Decision, DeploymentStage, IssueBrief, MedicConfig, PolicyFacts, Stage, TestReport, decide

__all__ = ["GateCounters", "evaluate_gate", "policy_stage"]


@dataclass(frozen=True, slots=True)
class GateCounters:
    """What the store counted for the decision."""

    deploys_today: int = 0
    rollbacks_for_issue: int = 0


def policy_stage(stage: DeploymentStage) -> Stage:
    """The policy step for a deployment stage."""
    return Stage.STAGING if stage is DeploymentStage.STAGING else Stage.PRODUCTION


def evaluate_gate(
    *,
    config: MedicConfig | None,
    issue: IssueBrief,
    stage: DeploymentStage,
    now: datetime,
    paused: bool,
    counters: GateCounters,
    approved: bool,
    tests: TestReport | None,
    verified: bool | None = None,
    verification: str = "",
) -> Decision:
    """Whether ``stage`` of a release may start now, needs approval, or is blocked (and why).

    ``tests`` is the fix's gating test run (None: not known): one not recorded as fully sandboxed needs a human.
    ``verified`` is what the fix's release gate said (FixCommitted 1.3; None from older producers and for fixes a
    human already approved): False, not reproduced or not verified, needs a human at every stage.
    """
    facts = PolicyFacts(
        issue=issue,
        stage=policy_stage(stage),
        now=now,
        paused=paused,
        deploys_today=counters.deploys_today,
        rollbacks_for_issue=counters.rollbacks_for_issue,
        approved=approved,
        tests_sandboxed=tests.sandboxed if tests is not None else None,
        sandbox_missing=tests.sandbox_missing if tests is not None else (),
        fix_verified=verified,
        unverified_reason=verification,
    )
    return decide(config, facts)
