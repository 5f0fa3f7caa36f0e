"""Reproduction verdicts: did the reproducer fail on the unfixed code the way production did, and what does it
return once fixed.

A reproducer (a generated regression test, see :mod:`.regression` and :mod:`.function_regression`) runs in
the target's own environment and writes what it observed to the file named by ``MEDIC_OBSERVE``: either the
exception it raised with its traceback frames (``{"raised": "TypeError", "frames": [[file, function], ...]}``)
or the outcome (``{"status": 404, "body": {...}}`` for a handler, ``{"returned": ...}`` for a function). These
functions judge that observation; they never run anything.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

__all__ = [
    "OBSERVE_ENV",
    "Observation",
    "Reproduction",
    "ReproductionStatus",
    "crash_site",
    "documented_errors",
    "expected_outcome",
    "expected_type",
    "in_file",
    "judge_fixed",
    "judge_reproduction",
    "observation_from",
    "shape",
]

#: The environment variable naming the file a reproducer writes its observation to (relative to its cwd).
OBSERVE_ENV = "MEDIC_OBSERVE"


class ReproductionStatus(StrEnum):
    """How the reproduction on the unfixed code ended."""

    REPRODUCED = "reproduced"  # same exception type, in the same function
    DIFFERENT_FAILURE = "different_failure"  # it failed, but not the way production did
    DID_NOT_FAIL = "did_not_fail"  # the unfixed code handled the replayed input
    NO_OBSERVATION = "no_observation"  # the reproducer ran but wrote nothing (it could not even start)
    NO_REPRODUCER = "no_reproducer"  # no request or frame arguments to build one from


@dataclass(frozen=True, slots=True)
class Observation:
    """What one run of a reproducer saw."""

    raised: str | None = None  # the exception's type name (unqualified)
    frames: tuple[tuple[str, str], ...] = ()  # (file, function), innermost last
    status: int | None = None  # a handler's response status
    body: Any = None  # a handler's response body (JSON when it parsed, else text)
    returned: Any = None  # a function's return value (JSON-ready; ``{"__repr__": ...}`` otherwise)
    handler: bool = False  # True when the reproducer called an HTTP handler


@dataclass(frozen=True, slots=True)
class Reproduction:
    """The verdict on running the reproducer against the unfixed code."""

    status: ReproductionStatus
    reason: str
    observed: Observation | None = None
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def reproduced(self) -> bool:
        """True when the failure was reproduced: same exception type, same function."""
        return self.status is ReproductionStatus.REPRODUCED


def observation_from(text: str) -> Observation | None:
    """The observation a reproducer wrote (None when the file is empty or not an observation)."""
    try:
        data = json.loads(text)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    raised = data.get("raised")
    frames = tuple((str(f[0]), str(f[1])) for f in data.get("frames") or () if isinstance(f, list | tuple) and len(f) == 2)
    status = data.get("status")
    return Observation(
        raised=str(raised) if raised else None,
        frames=frames,
        status=status if isinstance(status, int) else None,
        body=data.get("body"),
        returned=data.get("returned"),
        handler="status" in data or data.get("handler") is True,
    )


def expected_type(title: str) -> str | None:
    """The exception type a production title names (``TypeError: ...`` → ``TypeError``; dotted → last part)."""
    head, sep, _ = title.partition(":")
    name = head.strip().rsplit(".", 1)[-1]
    if not sep or not re.fullmatch(r"[A-Za-z_$][\w$]*", name):
        return None
    return name


_ENCLOSED = re.compile(r"<(genexpr|listcomp|dictcomp|setcomp|lambda)>")


def enclosed_code(name: str) -> bool:
    """A frame of code that runs inside its function (a comprehension, a generator expression, a lambda): the
    crash site is the function around it, whose frame is next."""
    return _ENCLOSED.fullmatch(name.rsplit(".", 1)[-1]) is not None


def in_file(frame_file: str, affected_file: str) -> bool:
    """True when a traceback's file name is the repository file ``affected_file``."""
    normalized = frame_file.removeprefix("file://").replace("\\", "/")
    return normalized == affected_file or normalized.endswith("/" + affected_file)


def crash_site(frames: Iterable[tuple[str, str]], affected_file: str) -> str | None:
    """The function of the innermost frame in ``affected_file`` (frames innermost last; a comprehension or lambda
    frame counts as the function around it), unqualified; None when no frame is in that file."""
    names = [name for file, name in frames if in_file(file, affected_file) and not enclosed_code(name)]
    return names[-1].rsplit(".", 1)[-1] if names else None


def judge_reproduction(
    observed: Observation | None, *, exception_type: str | None, affected_file: str | None, function: str | None
) -> Reproduction:
    """Reproduced only when the unfixed code raised the production exception type in the production function.

    The function is the innermost traceback frame in ``affected_file`` (an exception raised inside a library
    called from it still counts: the frame in the application's file is the crash site; a comprehension or
    lambda frame counts as the function around it).
    """
    if observed is None:
        return Reproduction(ReproductionStatus.NO_OBSERVATION, "the reproducer wrote no observation: it did not run")
    if observed.raised is None:
        outcome = f"status {observed.status}" if observed.handler else "a return value"
        return Reproduction(
            ReproductionStatus.DID_NOT_FAIL, f"the unfixed code did not fail on the replayed input ({outcome})", observed
        )
    if exception_type is not None and observed.raised != exception_type:
        return Reproduction(
            ReproductionStatus.DIFFERENT_FAILURE,
            f"the reproducer raised {observed.raised}, production raised {exception_type}",
            observed,
        )
    if affected_file is not None and function is not None:
        wanted = function.rsplit(".", 1)[-1]
        site = crash_site(observed.frames, affected_file)
        if site != wanted:
            where = f"in {site}" if site else f"outside {affected_file}"
            return Reproduction(
                ReproductionStatus.DIFFERENT_FAILURE,
                f"the reproducer raised {observed.raised} {where}, production raised it in {wanted}",
                observed,
            )
    return Reproduction(
        ReproductionStatus.REPRODUCED,
        f"reproduced: {observed.raised} in {function or affected_file or 'the application'} on the unfixed code",
        observed,
    )


def judge_fixed(
    observed: Observation | None, *, documented: frozenset[str] = frozenset(), production: str | None = None
) -> str | None:
    """Why a fixed run still fails (None when the fix handled the replayed input: no exception, no 5xx).

    Raising an error the function's own doc promises (``documented``: "Throws UnknownUnitError for ...") counts as
    handled, unless it is the very exception production raised (then nothing changed).
    """
    if observed is None:
        return "the reproducer wrote no observation on the fixed code"
    if observed.raised is not None:
        if observed.raised in documented and observed.raised != production and not observed.handler:
            return None
        return f"the fixed code still raises {observed.raised}"
    if observed.handler and (observed.status is None or observed.status >= 500):
        return f"the fixed handler still answers {observed.status}"
    return None


_ERROR_NAME = re.compile(r"\b([A-Z]\w*(?:Error|Exception))\b")


def documented_errors(source: str, path: str, function: str) -> frozenset[str]:
    """The error classes the doc of ``function`` names: its Python docstring, or the comment right above its
    TypeScript declaration (``/** ... Throws UnknownUnitError for ... */``), found in the syntax tree as the
    exits find it (:func:`~medic_implementer.domain.fixers.typescript.exits.function_doc`)."""
    if path.endswith(".py"):
        return frozenset(_ERROR_NAME.findall(_python_doc(source, function)))
    from .fixers.typescript.exits import function_doc  # tree-sitter loads only for TypeScript targets

    return frozenset(_ERROR_NAME.findall(function_doc(source, path, function)))


def _python_doc(source: str, function: str) -> str:
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return ""
    wanted = function.rsplit(".", 1)[-1]
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == wanted:
            return ast.get_docstring(node) or ""
    return ""


def shape(value: Any) -> Any:
    """The shape of a JSON value: object keys with their shapes, a list's first item, scalar type names."""
    if isinstance(value, dict):
        return {str(k): shape(v) for k, v in sorted(value.items())}
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if value is None:
        return "null"
    return "string"


def expected_outcome(observed: Observation) -> dict[str, Any]:
    """What the pinned regression test asserts: a handler's status and body shape, a function's return value (or
    the documented error it now raises)."""
    if observed.raised is not None:
        return {"raised": observed.raised}
    if observed.handler:
        return {"status": observed.status, "body_shape": shape(observed.body)}
    return {"returned": observed.returned}
