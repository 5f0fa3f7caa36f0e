"""The fix job, one module per step: resume, candidates (with regression and reverts), validate, choose, deliver.

Steps do I/O only through :mod:`medic_implementer.adapters`; every decision they act on is in
:mod:`medic_implementer.domain`; they emit nothing (the worker announces the :class:`FixOutcome`).
"""

from ..domain.guard import guard_for
from ..domain.outcome import ApprovedFix, FixOutcome, OutcomeKind
from .context import Audit, CandidateProposer, FixJob, FixOptions
from .implement import implement_fix, protected_writes

__all__ = [
    "ApprovedFix",
    "Audit",
    "CandidateProposer",
    "FixJob",
    "FixOptions",
    "FixOutcome",
    "OutcomeKind",
    "guard_for",
    "implement_fix",
    "protected_writes",
]
