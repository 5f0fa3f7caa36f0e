"""The abstain gate: whether a fix may be released without a human, and whether anything may be written at all.

One gate for every provider: a template, a revert and the LLM fixer's candidate are judged by the same
:func:`release_verdict`. A fix is releasable without a human only when the failure was reproduced on the
unfixed code and the fix makes that reproduction pass (pinned to the outcome it now produces), the tests
pass, the repository's own type checker and linters report nothing new (:mod:`.static_checks`), the captured
non-failing requests of the route answer as before (:mod:`.behaviour`), and its calibrated confidence reaches
the configured threshold. Anything else becomes a proposal waiting for a human, with the reason.

Checks that could not be made: a configured checker missing from the target's environment (or one that did
not finish) blocks the release like a failure (precision-first: the repository asks for a check Medic could not
make); a repository that configures no checker, or an event without captured passing requests, has nothing to
check and does not block — the verdict says so (``checks``/``behaviour`` in the details).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from medic_contracts import CODE_EVIDENCE_KINDS, DiagnosisReady

from .behaviour import BehaviourVerdict
from .reproduction import Reproduction
from .static_checks import CheckKind, CheckStatus, StaticVerdict

__all__ = [
    "DEFAULT_MIN_CONFIDENCE",
    "GateCode",
    "ReleaseGate",
    "ReleaseVerdict",
    "WriteVerdict",
    "fix_confidence",
    "release_verdict",
    "write_verdict",
]

#: The default confidence a fix needs to be released without a human (``MEDIC_FIX_MIN_CONFIDENCE``).
DEFAULT_MIN_CONFIDENCE = 0.6


class GateCode(StrEnum):
    """Why the gate ruled as it did (the first failed condition; the reasons list every one)."""

    RELEASABLE = "releasable"
    NOT_REPRODUCED = "not_reproduced"  # no reproducer, or it did not fail the way production did
    NOT_VERIFIED = "not_verified"  # reproduced, but the fix does not make the reproduction pass
    TESTS_FAILED = "tests_failed"
    TYPECHECK_FAILED = "typecheck_failed"  # the type checker reports a new error in the changed files or callers
    LINT_FAILED = "lint_failed"  # the repository's linter reports a new error there
    CHECKS_NOT_RUN = "checks_not_run"  # a configured checker is missing from the target's environment, or did not finish
    BEHAVIOUR_CHANGED = "behaviour_changed"  # a captured passing request of the route answers differently
    LOW_CONFIDENCE = "low_confidence"


@dataclass(frozen=True, slots=True)
class ReleaseGate:
    """The gate's settings: the confidence threshold, and whether a reproduction is required."""

    min_confidence: float = DEFAULT_MIN_CONFIDENCE
    require_reproduction: bool = True


@dataclass(frozen=True, slots=True)
class ReleaseVerdict:
    """The gate's ruling on one fix."""

    code: GateCode
    reasons: tuple[str, ...]
    reproduced: bool
    verified: bool
    confidence: float
    checked: tuple[str, ...] = ()  # what the static checks and the replays found (also when releasable)
    checks: tuple[dict[str, Any], ...] = ()  # each checker's outcome (JSON-ready)
    behaviour: dict[str, Any] | None = None  # the replays' verdict (JSON-ready)

    @property
    def releasable(self) -> bool:
        """True when the fix may be released without a human."""
        return self.code is GateCode.RELEASABLE

    @property
    def summary(self) -> str:
        """One line for the audit and FixCommitted."""
        if self.releasable:
            return "; ".join((f"reproduced and verified (confidence {self.confidence:.2f})", *self.checked))
        return "; ".join(self.reasons)

    def details(self) -> dict[str, Any]:
        """JSON-ready (audit details)."""
        return {
            "code": self.code.value,
            "releasable": self.releasable,
            "reasons": list(self.reasons),
            "reproduced": self.reproduced,
            "verified": self.verified,
            "confidence": round(self.confidence, 3),
            "checked": list(self.checked),
            "checks": list(self.checks),
            "behaviour": self.behaviour,
        }


def fix_confidence(
    *, diagnosis_confidence: float, strategy_confidence: float | None, within_evidence: bool, verified: bool
) -> float:
    """The fix's calibrated confidence: the diagnosis's confidence, tempered by how the strategy fared.

    ``strategy_confidence`` is the strategy memory's Beta posterior of the strategy's success on similar
    issues (None when it has no record): the two combine as a geometric mean, so either being low pulls the
    result down. A fix outside the evidence counts 0.8 of that, an unverified one half.
    """
    base = max(0.0, min(1.0, diagnosis_confidence))
    if strategy_confidence is not None:
        base = math.sqrt(base * max(0.0, min(1.0, strategy_confidence)))
    if not within_evidence:
        base *= 0.8
    if not verified:
        base *= 0.5
    return base


def release_verdict(
    *,
    reproduction: Reproduction,
    verified: bool,
    verify_reason: str | None,
    tests_passed: bool,
    confidence: float,
    gate: ReleaseGate,
    checks: StaticVerdict | None = None,
    behaviour: BehaviourVerdict | None = None,
) -> ReleaseVerdict:
    """Whether a fix is releasable without a human (see the module docstring).

    ``verified``: the reproduction passes on the fixed code, pinned to its new outcome (``verify_reason`` says
    why not); ``checks``: the static checkers' outcomes (None or empty: none configured for the change);
    ``behaviour``: the captured requests' replays (None: not run).
    """
    failed: list[tuple[GateCode, str]] = []
    if not reproduction.reproduced:
        if gate.require_reproduction:
            failed.append((GateCode.NOT_REPRODUCED, f"not reproduced: {reproduction.reason}"))
    elif not verified:
        failed.append((GateCode.NOT_VERIFIED, f"not verified: {verify_reason or 'the reproduction still fails'}"))
    if not tests_passed:
        failed.append((GateCode.TESTS_FAILED, "the repository's tests do not pass"))
    checked: list[str] = []
    for kind, status, reason in checks.blocking() if checks is not None else ():
        if status is CheckStatus.NEW_DIAGNOSTICS:
            failed.append((GateCode.TYPECHECK_FAILED if kind is CheckKind.TYPES else GateCode.LINT_FAILED, reason))
        else:
            failed.append((GateCode.CHECKS_NOT_RUN, f"check not made: {reason}"))
    if checks is not None and checks.configured:
        checked.append(checks.summary)
    if behaviour is not None:
        if behaviour.preserved is False:
            failed.append((GateCode.BEHAVIOUR_CHANGED, behaviour.reason))
        checked.append(behaviour.reason)
    if confidence < gate.min_confidence:
        failed.append((GateCode.LOW_CONFIDENCE, f"confidence {confidence:.2f} below {gate.min_confidence:.2f}"))
    code, reasons = (failed[0][0], tuple(r for _, r in failed)) if failed else (GateCode.RELEASABLE, ())
    return ReleaseVerdict(
        code,
        reasons,
        reproduction.reproduced,
        reproduction.reproduced and verified,
        confidence,
        checked=tuple(checked),
        checks=tuple(checks.details()) if checks is not None else (),
        behaviour=behaviour.details() if behaviour is not None else None,
    )


@dataclass(frozen=True, slots=True)
class WriteVerdict:
    """Whether the job may write anything at all, and why not."""

    allowed: bool
    reason: str = ""


def write_verdict(diagnosis: DiagnosisReady) -> WriteVerdict:
    """No write for a message-only event: no affected file, no code evidence (stack frame, blame, history), no
    suspect commit — a provider timeout or an infrastructure error has nothing in the code to fix."""
    has_code = any(e.kind in CODE_EVIDENCE_KINDS for e in diagnosis.evidence)
    if diagnosis.affected_file or has_code or diagnosis.suspect_commit is not None:
        return WriteVerdict(True)
    return WriteVerdict(False, "message-only event: no stack frame, no code evidence and no suspect commit; nothing is written")
