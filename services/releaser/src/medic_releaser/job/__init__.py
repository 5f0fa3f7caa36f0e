"""The steps of a release run, one module each: gate, baseline, merge, deploy, smoke, watch, rollback.

A step takes the worker (:class:`medic_releaser.worker.Rollout`: adapters, config, and the one
place that records, emits and notifies), the run and the work context. It gathers facts through
the adapters, asks ``domain.transitions`` what they mean, and saves the run's next state. It raises
:class:`Continue` when the next step can run at once, ``RetryLater`` to wait, or returns when done.
"""

from __future__ import annotations

__all__ = ["Continue"]


class Continue(Exception):
    """The step saved the run and the next step can run at once."""
