"""Memory of past issues: what was diagnosed, which fix strategy was used, and how it ended.

A new issue is compared with past cases by fingerprint (same issue again) and by similarity of
its error and code context (Jaccard over normalised tokens). A strategy that was promoted before
raises confidence; one that was rolled back or reopened lowers it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from medic_contracts import Evidence, FixStrategy

from .diagnosis import Diagnosis

__all__ = ["BAD_OUTCOMES", "GOOD_OUTCOMES", "PastCase", "adjust_with_memory", "signature_tokens", "similarity"]

GOOD_OUTCOMES = frozenset({"promoted", "verified"})
BAD_OUTCOMES = frozenset({"rolled_back", "reopened", "failed"})

_IDS = re.compile(r"\b(?:[0-9a-f]{8,}|\d+|[0-9a-f-]{36})\b", re.IGNORECASE)
_TOKEN = re.compile(r"[A-Za-z_][A-Za-z0-9_]{1,}")


@dataclass(frozen=True, slots=True)
class PastCase:
    """One remembered issue."""

    issue_id: str
    fingerprint: str
    tokens: frozenset[str]
    strategy: FixStrategy
    affected_file: str | None
    outcome: str | None  # promoted, verified, rolled_back, reopened, failed; None while unknown
    root_cause: str = ""


def signature_tokens(
    *, exception_type: str, message: str, file: str | None, function: str | None, statement: str
) -> frozenset[str]:
    """Normalised tokens of an error and its code context (ids and numbers masked)."""
    text = " ".join([exception_type, _IDS.sub(" ", message), file or "", function or "", statement])
    tokens = {t.lower() for t in _TOKEN.findall(text)}
    if file:
        tokens.add(f"file:{file}")
    if exception_type:
        tokens.add(f"type:{exception_type}")
    return frozenset(tokens)


def similarity(a: frozenset[str], b: frozenset[str]) -> float:
    """Jaccard similarity of two token sets."""
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)


def adjust_with_memory(
    diagnosis: Diagnosis, *, fingerprint: str, tokens: frozenset[str], cases: list[PastCase], threshold: float = 0.5
) -> Diagnosis:
    """Raise or lower confidence by how this strategy fared on the same or similar past issues."""
    delta = 0.0
    evidence: list[Evidence] = []
    for case in cases:
        if case.outcome is None or case.strategy != diagnosis.fix_strategy:
            continue
        weight = 1.0 if case.fingerprint == fingerprint else similarity(tokens, case.tokens)
        if weight < threshold:
            continue
        how = "same fingerprint" if case.fingerprint == fingerprint else f"similarity {weight:.2f}"
        if case.outcome in GOOD_OUTCOMES:
            delta += 0.1 * weight
            evidence.append(
                Evidence(
                    kind="memory",
                    summary=f"{case.strategy.value} worked for {case.issue_id} ({how}): {case.outcome}",
                    source=case.issue_id,
                )
            )
        elif case.outcome in BAD_OUTCOMES:
            delta -= 0.2 * weight
            evidence.append(
                Evidence(
                    kind="memory",
                    summary=f"{case.strategy.value} failed for {case.issue_id} ({how}): {case.outcome}",
                    source=case.issue_id,
                )
            )
    if not evidence:
        return diagnosis
    delta = max(min(delta, 0.15), -0.3)
    return diagnosis.adjusted(confidence=diagnosis.confidence + delta, evidence=(*diagnosis.evidence, *evidence[:5]))
