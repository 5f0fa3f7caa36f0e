"""Behaviour preserved: the captured non-failing requests of the failing route, replayed before and after a fix.

The watcher may capture a bounded number of recent successful requests of the issue's route
(``IssueDetected.passing_requests``); the investigator passes them on as ``passing_request`` evidence
(RequestContext JSON). Each is replayed against the unfixed code (twice: a response that differs between two
runs of the same code is nondeterministic and not compared) and against the candidate, in the target's own
environment. Any difference in status or body makes the fix not releasable, and the difference is recorded.
These functions only choose and judge; the replays run in :mod:`..job.behaviour`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

from medic_contracts import DiagnosisReady, RequestContext

from .failure import request_from_evidence
from .reproduction import Observation

__all__ = [
    "MAX_REPLAYS",
    "PASSING_REQUEST_KIND",
    "BehaviourStatus",
    "BehaviourVerdict",
    "Replay",
    "judge_behaviour",
    "passing_requests",
    "response_difference",
]

#: The evidence kind carrying one captured non-failing request (RequestContext JSON).
PASSING_REQUEST_KIND = "passing_request"
#: How many captured requests are replayed per fix (each costs a run per candidate, and two on the unfixed code).
MAX_REPLAYS = 5


def _route_of(request: RequestContext) -> tuple[str, str | None]:
    path = urlsplit(request.url).path if request.url else None
    return ((request.method or "GET").upper(), request.route or path)


def _identity(request: RequestContext) -> tuple[str, str | None, str | None, str | None]:
    method, _ = _route_of(request)
    return (method, request.url or request.route, request.query, request.body)


def passing_requests(diagnosis: DiagnosisReady, *, limit: int = MAX_REPLAYS) -> tuple[RequestContext, ...]:
    """The captured non-failing requests to replay: same method and route as the failing request, answered below 500
    (or with no recorded status), not the failing request itself, once each, at most ``limit``."""
    failing = request_from_evidence(diagnosis)
    wanted = _route_of(failing) if failing is not None else None
    seen = {_identity(failing)} if failing is not None else set()
    chosen: list[RequestContext] = []
    for item in diagnosis.evidence:
        if item.kind != PASSING_REQUEST_KIND or not item.detail or len(chosen) >= limit:
            continue
        try:
            data = json.loads(item.detail)
        except ValueError:
            continue
        if not isinstance(data, dict):
            continue
        try:
            request = RequestContext.model_validate({k: v for k, v in data.items() if k in RequestContext.model_fields})
        except ValueError:
            continue
        if request.status is not None and not 0 <= request.status < 500:
            continue
        if wanted is not None and _route_of(request) != wanted:
            continue
        identity = _identity(request)
        if identity in seen:
            continue
        seen.add(identity)
        chosen.append(request)
    return tuple(chosen)


def _label(request: RequestContext) -> str:
    method, route = _route_of(request)
    target = request.url or route or "?"
    return f"{method} {target}" + (f"?{request.query}" if request.query and "?" not in target else "")


def _outcome(observed: Observation | None) -> dict[str, Any] | None:
    if observed is None:
        return None
    if observed.raised is not None:
        return {"raised": observed.raised}
    return {"status": observed.status, "body": observed.body}


def response_difference(before: Observation | None, after: Observation | None) -> str | None:
    """How the fixed code's response differs from the unfixed code's (None when status and body are the same)."""
    old, new = _outcome(before), _outcome(after)
    if old == new:
        return None
    if new is None:
        return "the replay did not run on the fixed code"
    if old is None:
        return "the replay did not run on the unfixed code"
    if "raised" in new:
        return f"the fixed code raises {new['raised']} (it answered {old.get('status', '?')})"
    if old.get("status") != new.get("status"):
        return f"status {old.get('status')} became {new.get('status')}"
    before_body = json.dumps(old.get("body"), sort_keys=True, default=str)[:200]
    after_body = json.dumps(new.get("body"), sort_keys=True, default=str)[:200]
    return f"the body changed: {before_body} became {after_body}"


@dataclass(frozen=True, slots=True)
class Replay:
    """One captured request and what the unfixed code answered (twice)."""

    request: RequestContext
    first: Observation | None
    second: Observation | None

    @property
    def label(self) -> str:
        """``METHOD url`` for the audit."""
        return _label(self.request)[:300]

    @property
    def comparable(self) -> str | None:
        """Why this replay cannot be compared (None when it can: it answered the same twice, without raising)."""
        if self.first is None or self.second is None:
            return "could not be replayed on the unfixed code"
        if self.first.raised is not None:
            return f"the unfixed code raises {self.first.raised} on it: not a passing request"
        if response_difference(self.first, self.second) is not None:
            return "the unfixed code answers it differently on each run (nondeterministic)"
        return None


class BehaviourStatus(StrEnum):
    """How the replay of captured requests ended for one candidate."""

    PRESERVED = "preserved"
    CHANGED = "changed"
    NOT_CHECKED = "not_checked"  # no captured request could be compared


@dataclass(frozen=True, slots=True)
class BehaviourVerdict:
    """Whether a candidate answers the captured requests as the unfixed code did."""

    status: BehaviourStatus
    reason: str
    compared: int = 0
    differences: tuple[tuple[str, str], ...] = ()  # (request, how its response changed)
    skipped: tuple[tuple[str, str], ...] = ()  # (request, why it was not compared)

    @property
    def preserved(self) -> bool | None:
        """True when compared and unchanged, False when a response changed, None when nothing was compared."""
        if self.status is BehaviourStatus.NOT_CHECKED:
            return None
        return self.status is BehaviourStatus.PRESERVED

    def details(self) -> dict[str, Any]:
        """JSON-ready (audit details)."""
        return {
            "status": self.status.value,
            "reason": self.reason[:500],
            "compared": self.compared,
            "differences": [{"request": r, "difference": d[:500]} for r, d in self.differences],
            "skipped": [{"request": r, "why": w} for r, w in self.skipped],
        }


def judge_behaviour(baseline: Sequence[Replay], after: Sequence[Observation | None]) -> BehaviourVerdict:
    """The verdict on a candidate: ``after[i]`` is what it answered to ``baseline[i]``'s request."""
    skipped = tuple((r.label, why) for r in baseline if (why := r.comparable) is not None)
    differences: list[tuple[str, str]] = []
    compared = 0
    for replay, observed in zip(baseline, after, strict=True):
        if replay.comparable is not None:
            continue
        compared += 1
        difference = response_difference(replay.first, observed)
        if difference is not None:
            differences.append((replay.label, difference))
    if differences:
        head = "; ".join(f"{r}: {d}" for r, d in differences[:3])
        return BehaviourVerdict(
            BehaviourStatus.CHANGED,
            f"behaviour changed on {len(differences)} of {compared} captured requests: {head}",
            compared,
            tuple(differences),
            skipped,
        )
    if not compared:
        why = "no captured non-failing request of the route" if not baseline else "no captured request could be compared"
        return BehaviourVerdict(BehaviourStatus.NOT_CHECKED, why, 0, (), skipped)
    noun = "request" if compared == 1 else "requests"
    return BehaviourVerdict(
        BehaviourStatus.PRESERVED, f"behaviour preserved on {compared} captured {noun}", compared, (), skipped
    )
