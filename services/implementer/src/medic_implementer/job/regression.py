"""Verify step, per candidate: the reproducer runs again on the fixed code, and the regression test committed with
the fix pins the exact outcome the fix now produces (a handler's status and body shape, a function's return value).

The reproducer (:mod:`.reproduce`) failed on the unfixed code the way production did; with the candidate applied
it must no longer raise (nor answer 5xx). What it observed becomes the pinned test's expectation, and the pinned
test must pass on its own: that is what "verified" means for the release gate.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..adapters.workspace import Workspace
from ..domain.guard import PathGuard
from ..domain.regression import RegressionTest
from ..domain.reproduction import documented_errors, expected_outcome, expected_type, judge_fixed
from .context import FixJob
from .reproduce import Reproducer, observe

__all__ = ["Verification", "verify_fix"]


@dataclass(frozen=True, slots=True)
class Verification:
    """The pinned regression test of a verified fix, or why the fix is not verified."""

    test: RegressionTest | None
    reason: str | None = None

    @property
    def verified(self) -> bool:
        """True when the reproduction passes on the fixed code and the pinned test passes."""
        return self.test is not None


async def verify_fix(job: FixJob, ws: Workspace, guard: PathGuard, reproducer: Reproducer) -> Verification:
    """Run the reproducer on the fixed worktree, pin what it observed, run the pinned test; the pinned test stays
    written when verified, else nothing the reproducer wrote stays."""
    _, observed = await observe(job, ws, guard, reproducer.test)
    diagnosis = job.diagnosis
    source = ws.path / (diagnosis.affected_file or "")
    documented = (
        documented_errors(source.read_text(errors="replace"), source.name, diagnosis.affected_function)
        if diagnosis.affected_function and source.is_file()
        else frozenset()
    )
    still = judge_fixed(observed, documented=documented, production=expected_type(diagnosis.issue.title))
    if still is not None or observed is None:
        (ws.path / reproducer.test.path).unlink(missing_ok=True)
        return Verification(None, still)
    pinned = reproducer.pinned(expected_outcome(observed))
    if pinned is None or pinned.path != reproducer.test.path:
        (ws.path / reproducer.test.path).unlink(missing_ok=True)
        return Verification(None, "the regression test could not be pinned to the fixed outcome")
    passed, _ = await observe(job, ws, guard, pinned)
    if not passed:
        (ws.path / pinned.path).unlink(missing_ok=True)
        return Verification(None, "the pinned regression test does not pass on the fixed code (nondeterministic outcome?)")
    return Verification(pinned)
