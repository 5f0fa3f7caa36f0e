"""The projector: every event on the bus becomes audit rows, issue state, approvals and dead letters.

control-api is the single writer of its store. :func:`project` takes a batch of events (with the
id of the event each one replays, if any) and writes them in the caller's transaction:

- every event is appended to the hash-chained audit trail, keyed by its event id (a replay is
  keyed by the id of the event it replays), so a redelivery or a replay adds nothing;
- issue events create or move the issue (``issues.lifecycle``), never backwards within a run;
- ApprovalRequested opens an approval; DeadLetter is kept for ``GET /dlq``;
- fixes, deployments and failure analyses become per-strategy outcomes (``strategies``).
"""

from .audit_entry import audit_record
from .project import Delivered, ProjectionResult, project

__all__ = ["Delivered", "ProjectionResult", "audit_record", "project"]
