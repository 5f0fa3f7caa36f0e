"""``medic bench api``: control-api's throughput on PostgreSQL beside a bare FastAPI endpoint, and the projector's rate.

Measured in one run, on this machine:

- ``issues_list``: ``GET /api/v1/issues`` (page of 50) with ``issues`` rows in PostgreSQL, one uvicorn worker;
- ``bare``: a bare FastAPI JSON endpoint, one uvicorn worker (the baseline);
- ``event_post``: ``POST /api/v1/events`` of a new IssueDetected (projected with the hash chain);
- ``projector_events_per_s``: events pre-published on the broker, consumed by a control-api process
  through the runtime and projected into PostgreSQL with the hash chain (first publish to last row
  recorded; ``projector_publish_s`` is how long publishing took, on the same machine, inside that window);
- ``projector_batch_events_per_s``: the projector function on batches of 500 in-process (what a batch
  subscription would reach).

Load comes from keep-alive HTTP/1.1 connections on raw asyncio streams (cheap, so the server is what is measured).
"""

from .events import sample_lifecycle
from .run import ADMIN_DSN, BenchOptions, main, run

__all__ = ["ADMIN_DSN", "BenchOptions", "main", "run", "sample_lifecycle"]
