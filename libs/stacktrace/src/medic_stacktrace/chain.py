"""Exception chains as trees, flattened into Sentry's order, and Sentry's choice of main exception.

Text parsers build :class:`ExceptionNode` trees (an exception, the older exception it came from,
and, for groups, its members). :func:`flatten` numbers them the way sentry-python does (the raised
exception is 0, then depth-first: its cause/context chain, then group members) and returns them
oldest first, which is the order of ``exception.values`` in a Sentry event.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from medic_contracts import StackFrame

from .model import ChainRelation, ParsedException

__all__ = ["ExceptionNode", "flatten", "main_exception_index"]


@dataclass
class ExceptionNode:
    """One exception while a parser is still building the chain (mutable on purpose)."""

    type: str
    value: str = ""
    module: str | None = None
    frames: list[StackFrame] = field(default_factory=list)
    is_group: bool = False
    older: ExceptionNode | None = None
    older_relation: ChainRelation = ChainRelation.CONTEXT
    members: list[ExceptionNode] = field(default_factory=list)


def flatten(root: ExceptionNode) -> tuple[ParsedException, ...]:
    """Number the tree like sentry-python and return it oldest first (Sentry's ``values`` order)."""
    out: list[ParsedException] = []
    counter = 0
    # iterative depth-first walk: (node, parent id, relation); a stack keeps deep chains off the C stack
    stack: list[tuple[ExceptionNode, int | None, ChainRelation | None]] = [(root, None, None)]
    while stack:
        node, parent_id, relation = stack.pop()
        exception_id = counter
        counter += 1
        out.append(
            ParsedException(
                type=node.type,
                value=node.value,
                module=node.module,
                frames=tuple(node.frames),
                exception_id=exception_id,
                parent_id=parent_id,
                relation=relation,
                is_group=node.is_group,
            )
        )
        # pushed in reverse so the older chain is visited first, then members in order
        for member in reversed(node.members):
            stack.append((member, exception_id, ChainRelation.GROUP_MEMBER))
        if node.older is not None:
            stack.append((node.older, exception_id, node.older_relation))
    return tuple(reversed(out))


def _grouping_key(exception: ParsedException) -> tuple[object, ...]:
    """What makes two group members "the same error" (Sentry compares their grouping hashes)."""
    in_app = tuple((f.file, f.function) for f in exception.frames if f.in_app)
    frames = in_app or tuple((f.file, f.function) for f in exception.frames)
    return (exception.type, frames) if frames else (exception.type, exception.value)


def main_exception_index(exceptions: Sequence[ParsedException]) -> int | None:
    """Index of the exception Sentry titles the issue with.

    The last exception, except for exception groups: when every top-level member of the root group
    (members of nested groups count, the groups themselves do not) is the same error, that member
    is the main exception, as Sentry's grouping sets ``main_exception_id``.
    """
    if not exceptions:
        return None
    last = len(exceptions) - 1
    root = exceptions[last]
    if not root.is_group:
        return last
    index_by_id = {e.exception_id: i for i, e in enumerate(exceptions)}
    children: dict[int, list[int]] = {}
    for i, e in enumerate(exceptions):
        if e.parent_id is not None and e.relation is ChainRelation.GROUP_MEMBER:
            children.setdefault(e.parent_id, []).append(i)
    top_level: list[int] = []
    pending = [root.exception_id]
    seen: set[int] = set()
    while pending:
        group_id = pending.pop(0)
        if group_id in seen:
            continue
        seen.add(group_id)
        for i in sorted(children.get(group_id, []), key=lambda i: exceptions[i].exception_id):
            if exceptions[i].is_group:
                pending.append(exceptions[i].exception_id)
            else:
                top_level.append(i)
    if not top_level:
        return index_by_id.get(root.exception_id, last)
    distinct = {_grouping_key(exceptions[i]) for i in top_level}
    if len(distinct) == 1:
        return top_level[0]
    return last
