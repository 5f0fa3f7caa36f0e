"""Which diagnosis round an issue event belongs to, and what a deployment result teaches the memory."""

from __future__ import annotations

from medic_contracts import DeploymentOutcome, DeploymentResult, DeploymentStage, DetectionReason, IssueDetected, is_auto_handled

__all__ = ["OUTCOMES", "diagnosis_key", "memory_outcome"]

#: Which deployment results teach the memory something about a fix strategy.
OUTCOMES: dict[DeploymentOutcome, str] = {
    DeploymentOutcome.PROMOTED: "promoted",
    DeploymentOutcome.VERIFIED: "verified",
    DeploymentOutcome.ROLLED_BACK: "rolled_back",
    DeploymentOutcome.REOPENED: "reopened",
}


def diagnosis_key(event: IssueDetected, *, replay_of: str | None, setbacks: int = 0) -> str:
    """One diagnosis per issue and round; a new round when it regressed, its fix failed, or a replay asks for rework.

    A severity rise is news about the same issue, not a new problem: it moves a waiting diagnosis
    forward (its priority) instead of paying for a second one. ``setbacks`` counts the issue's
    deployed fixes that did not hold (rolled back, reopened): the next detection starts a new round.
    P4 is not diagnosed (the worker records the skip), under a key of its own: a P4 that rises to P2
    is then diagnosed like a new issue.
    """
    if replay_of is not None:
        return f"diagnose:{event.issue_id}:rework:{event.event_id}"
    if event.reason is DetectionReason.REGRESSED:
        return f"diagnose:{event.issue_id}:regressed:{event.event_id}"
    if not is_auto_handled(event.severity):
        return f"diagnose:{event.issue_id}:p4"
    return f"diagnose:{event.issue_id}" + (f":round:{setbacks}" if setbacks else "")


def memory_outcome(event: DeploymentResult) -> str | None:
    """The outcome the memory records for a fix (production results, and rollbacks at any stage), or None."""
    outcome = OUTCOMES.get(event.outcome)
    if outcome is None or (event.stage != DeploymentStage.PRODUCTION and event.outcome != DeploymentOutcome.ROLLED_BACK):
        return None
    return outcome
