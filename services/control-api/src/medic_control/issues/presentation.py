"""What the dashboard may say and offer about an issue, decided from facts (pure functions).

- The status label is true to the state: ``awaiting_approval`` reads "awaiting approval" only when an
  approval request is pending for the issue; without one the issue is waiting for a person to act
  (an escalation, an abstained fix), and reads "needs a human".
- "Roll back" is offered only while something of the fix is deployed: a stage whose last result
  promoted (or verified, or reopened after promotion) it, and that was not rolled back since.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["StatusLabel", "deployed_stages", "status_label"]

_DEPLOYED = frozenset({"promoted", "verified", "reopened"})
_UNDEPLOYED = frozenset({"rolled_back"})


@dataclass(frozen=True, slots=True)
class StatusLabel:
    """The label shown for an issue's status and the CSS class it is drawn with."""

    text: str
    css: str


def status_label(status: str, *, approval_pending: bool) -> StatusLabel:
    """The words for ``status`` given whether an approval request is pending for the issue."""
    if status == "awaiting_approval" and not approval_pending:
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
