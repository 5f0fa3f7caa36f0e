"""What a parsed stack trace is: an exception chain, each exception with its frames.

The order follows Sentry's protocol so events from text traces and from Sentry payloads read the
same: ``exceptions`` runs oldest first (a cause before the exception it caused, the children of an
exception group before the group), and each exception's ``frames`` run innermost last.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from enum import StrEnum

from medic_contracts import ExceptionInfo, StackFrame

__all__ = ["ChainRelation", "FrameTransform", "ParsedException", "ParsedTrace", "TraceLanguage"]

FrameTransform = Callable[[tuple[StackFrame, ...]], tuple[StackFrame, ...]]


class TraceLanguage(StrEnum):
    """Which runtime wrote a trace (``OTHER`` for Sentry payloads of other platforms)."""

    PYTHON = "python"
    JAVASCRIPT = "javascript"
    OTHER = "other"
    UNKNOWN = "unknown"


class ChainRelation(StrEnum):
    """How an exception relates to its parent (the exception it led to, or the group holding it)."""

    CAUSE = "cause"  # Python ``raise ... from``, JavaScript ``Error.cause``
    CONTEXT = "context"  # Python "During handling of the above exception ..."
    GROUP_MEMBER = "group_member"  # one of an ExceptionGroup's / AggregateError's exceptions


@dataclass(frozen=True)
class ParsedException:
    """One exception of a chain: its type, message, defining module and frames (innermost last).

    ``exception_id``/``parent_id`` follow Sentry's ``mechanism`` fields: the exception that was
    finally raised has id 0 and no parent; a cause or group member points at the exception it
    belongs to.
    """

    type: str
    value: str = ""
    module: str | None = None
    frames: tuple[StackFrame, ...] = ()
    exception_id: int = 0
    parent_id: int | None = None
    relation: ChainRelation | None = None
    is_group: bool = False

    @property
    def qualified_type(self) -> str:
        """``module.Type`` when the module is known and not a builtin, else ``Type``."""
        if self.module and self.module not in {"builtins", "exceptions"}:
            return f"{self.module}.{self.type}"
        return self.type

    def with_frames(self, frames: tuple[StackFrame, ...]) -> ParsedException:
        """A copy with other frames (after in-app classification or source-map mapping)."""
        return replace(self, frames=frames)


@dataclass(frozen=True)
class ParsedTrace:
    """A whole trace: the exception chain in Sentry's order and which exception is the main one.

    ``main_index`` points at the exception Sentry would title the issue with: the last one, unless
    the trace is an exception group whose members are all the same error, in which case it is that
    member (Sentry's ``main_exception_id``).
    """

    language: TraceLanguage
    exceptions: tuple[ParsedException, ...] = ()
    main_index: int | None = None
    platform: str | None = None

    @property
    def found(self) -> bool:
        """True when at least one exception (with or without frames) was recognised."""
        return bool(self.exceptions)

    @property
    def main(self) -> ParsedException | None:
        """The exception the issue is about (see ``main_index``), or None when nothing was found."""
        if self.main_index is None or not self.exceptions:
            return None
        return self.exceptions[self.main_index]

    @property
    def root_cause(self) -> ParsedException | None:
        """The oldest exception of the main exception's chain (the first thing that went wrong)."""
        main = self.main
        return self.chain_of(main)[0] if main is not None else None

    @property
    def frames(self) -> tuple[StackFrame, ...]:
        """The main exception's frames, innermost last (empty when there are none)."""
        main = self.main
        return main.frames if main is not None else ()

    def chain_of(self, exception: ParsedException) -> tuple[ParsedException, ...]:
        """The causes/contexts that led to ``exception``, oldest first, ending with ``exception``."""
        chain = [exception]
        seen = {exception.exception_id}
        current = exception
        while True:
            older = next(
                (
                    e
                    for e in self.exceptions
                    if e.parent_id == current.exception_id
                    and e.relation in (ChainRelation.CAUSE, ChainRelation.CONTEXT)
                    and e.exception_id not in seen
                ),
                None,
            )
            if older is None:
                return tuple(reversed(chain))
            seen.add(older.exception_id)
            chain.append(older)
            current = older

    def exception_info(self) -> ExceptionInfo | None:
        """The main exception as the contracts' :class:`ExceptionInfo` (chained = its causes, oldest first)."""
        main = self.main
        if main is None:
            return None
        chained = tuple(e.type for e in self.chain_of(main)[:-1])
        return ExceptionInfo(type=main.type, value=main.value, module=main.module, chained=chained)

    def map_frames(self, transform: FrameTransform) -> ParsedTrace:
        """A copy whose every exception's frames went through ``transform`` (a pure function)."""
        return replace(self, exceptions=tuple(e.with_frames(transform(e.frames)) for e in self.exceptions))
