"""What the dashboard may say and offer about an issue, decided from facts (pure functions).

- The status label is true to the state: an issue reads "awaiting approval" exactly when an approval
  request is pending for it (and it has not ended); ``awaiting_approval`` without one means it waits for a
  person to act (an escalation, an abstained fix), and reads "needs a human".
- "Roll back" is offered only while something of the fix is deployed: a stage whose last result
  promoted (or verified, or reopened after promotion) it, and that was not rolled back since.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["StatusLabel", "deployed_stages", "status_label"]

_DEPLOYED = frozenset({"promoted", "verified", "reopened"})
_ENDED = frozenset({"resolved", "failed", "rolled_back"})
_UNDEPLOYED = frozenset({"rolled_back"})


@dataclass(frozen=True, slots=True)
class StatusLabel:
    """The label shown for an issue's status and the CSS class it is drawn with."""

    text: str
    css: str


def status_label(status: str, *, approval_pending: bool) -> StatusLabel:
    """The words for ``status`` given whether an approval request is pending for the issue.

    A pending request means the issue waits for that approval whatever its last progress report said: a deploy
    approval is asked after the fix was committed (status "deploying"), and the request can be projected before
    the events that precede it (they come on other topics).
    """
    if approval_pending and status not in _ENDED:
        return StatusLabel("awaiting approval", "status-awaiting_approval")
    if status == "awaiting_approval":
        return StatusLabel("needs a human", "status-needs_human")
    return StatusLabel(status.replace("_", " "), f"status-{status}")


def deployed_stages(results: Iterable[tuple[str, str]]) -> frozenset[str]:
    """The stages that run the fix now, from the issue's deployment results ``(stage, outcome)``, oldest first.

    A rollback takes the fix out of that stage; blocked, failed or awaiting results change nothing.
    """
    deployed: set[str] = set()
    for stage, outcome in results:
        if outcome in _DEPLOYED:
            deployed.add(stage)
        elif outcome in _UNDEPLOYED:
            deployed.discard(stage)
    return frozenset(deployed)
