"""What the investigator knows about the code at a fault, language-neutral.

The Python reader (``python_code``) and the TypeScript reader (``typescript_code``) both produce a
:class:`CodeContext`: the function around the culprit line, the statement holding it, the
operations on that statement that can fail (attribute access, subscript, division, iteration,
parse) and where each name it uses comes from. The playbook and the LLM prompt read this, never
the raw source.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

__all__ = [
    "LOOKUP_CALL",
    "Binding",
    "CodeContext",
    "FunctionSpan",
    "Operation",
    "OperationKind",
    "numbered",
    "root_name",
]

OperationKind = Literal["attribute", "subscript", "division", "iteration", "parse", "call"]

#: A value produced by one of these calls can be None/undefined/null when nothing matches.
LOOKUP_CALL = re.compile(
    r"(?:\.get\(|\.find\(|\.findOne\(|\.findFirst\(|\.findUnique\(|\.first\(\)|one_or_none\(|\.maybeSingle\(|"
    r"getattr\([^)]*,\s*None\)|next\([^)]*,\s*None\)|\.pop\([^)]*,\s*None\)|re\.(?:match|search|fullmatch)\(|"
    r"\.match\(|\.exec\(|querySelector\(|\.getItem\(|\.at\(|\.shift\(\)|\.pop\(\)|searchParams\.get\(|"
    r"\bgetenv\(|environ\.get\(|process\.env\.)"
)


@dataclass(frozen=True, slots=True)
class FunctionSpan:
    """The function (or method) around a line."""

    name: str
    first: int
    last: int


@dataclass(frozen=True, slots=True)
class Operation:
    """An operation on the fault statement that can raise for a missing or bad value."""

    kind: OperationKind
    text: str  # the whole expression, e.g. ``practice.id``
    base: str  # the value operated on: object, divisor, iterable, parsed argument
    member: str | None  # attribute/property name, subscript key or index text, method or parser name
    line: int
    literal: bool = False  # member is a literal key (``d["plan"]``) or a numeric index (``xs[0]``)


@dataclass(frozen=True, slots=True)
class Binding:
    """Where a name used on the fault statement gets its value."""

    name: str
    line: int
    kind: Literal["parameter", "assignment", "import", "definition", "loop", "global"]
    source: str  # the binding statement as written (first lines)
    value: str | None = None  # right-hand side, when an assignment
    calls: str | None = None  # the function whose result was assigned (``get_practice``), if any
    may_be_missing: bool = False  # the value comes from a lookup that can return None/undefined/null
    guarded: bool = False  # a check for None/undefined sits between the binding and the fault


@dataclass(frozen=True, slots=True)
class CodeContext:
    """The code around one culprit line of one repository file."""

    file: str
    language: Literal["python", "typescript", "javascript"]
    line: int
    function: FunctionSpan | None
    statement_first: int
    statement_last: int
    statement: str
    operations: tuple[Operation, ...] = ()
    bindings: tuple[Binding, ...] = ()
    calls: tuple[str, ...] = ()  # names of functions called on the fault statement
    excerpt: str = ""  # numbered source of the function (or lines around the fault)
    parse_error: str | None = None
    notes: tuple[str, ...] = field(default=())

    def binding(self, name: str) -> Binding | None:
        """The binding of ``name`` (root identifier of an expression like ``a.b[0]``)."""
        root = root_name(name)
        for b in self.bindings:
            if b.name == root:
                return b
        return None


_ROOT = re.compile(r"^\s*(?:await\s+)?(?:this\.|self\.)?([A-Za-z_$][\w$]*)")


def root_name(expression: str) -> str:
    """The first identifier of an expression (``practice`` for ``practice.owner.id``)."""
    match = _ROOT.match(expression)
    return match.group(1) if match else expression


def numbered(lines: list[str], first: int, last: int, *, mark: int | None = None, width: int = 200) -> str:
    """Lines ``first..last`` (1-based, inclusive) prefixed with their numbers; ``mark`` gets an arrow."""
    out = []
    for number in range(max(first, 1), min(last, len(lines)) + 1):
        text = lines[number - 1]
        if len(text) > width:
            text = text[:width] + "…"
        arrow = "→" if number == mark else " "
        out.append(f"{arrow}{number:5d} | {text}")
    return "\n".join(out)
