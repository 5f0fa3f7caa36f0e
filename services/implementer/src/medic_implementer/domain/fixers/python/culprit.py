"""Which expression of the failing Python statement was ``None`` at the crash.

The exception text names the operation that met ``None`` (``'NoneType' object is not subscriptable``: a
subscript's container; ``has no attribute 'x'``: the object ``.x`` was read from; ``is not iterable``: the
iterated value; ``is not callable``: the callee; ``unsupported operand type(s) for *: 'NoneType' and
'float'``: the left operand of a ``*``). The statement's syntax tree gives every expression in such a
position; the crashing frame's local variables (``'None'`` in the event's ``vars``) rule out the names that
held a value and pick the one that was ``None``. The guard goes on that expression, never on a sub-expression
or a larger one: ``user["name"].upper()`` with ``user`` None guards ``user``, not ``user["name"]``.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable

from ...failure import FailureFacts
from .source import pure

__all__ = ["NoneSite", "none_sites", "operation_of"]

_OPS: dict[str, type[ast.operator]] = {
    "+": ast.Add,
    "-": ast.Sub,
    "*": ast.Mult,
    "/": ast.Div,
    "//": ast.FloorDiv,
    "%": ast.Mod,
    "**": ast.Pow,
    "@": ast.MatMult,
    "&": ast.BitAnd,
    "|": ast.BitOr,
    "^": ast.BitXor,
    "<<": ast.LShift,
    ">>": ast.RShift,
}
_OPERAND = re.compile(r"unsupported operand type\(s\) for (\S+?)=?: '(\w+)' and '(\w+)'")
_ATTRIBUTE = re.compile(r"'NoneType' object has no attribute '(\w+)'")
_COMPARE = re.compile(r"'(?:<|<=|>|>=)' not supported between instances of '(\w+)' and '(\w+)'")

#: An expression that was None, and what the statement did with it ("attribute", "subscript", "iterate", "call",
#: "operand", "compare").
NoneSite = tuple[ast.expr, str]


def operation_of(message: str) -> str | None:
    """The operation the exception text says met ``None`` (None when the text names none)."""
    if _ATTRIBUTE.search(message):
        return "attribute"
    if "'NoneType' object is not subscriptable" in message:
        return "subscript"
    if "'NoneType' object is not iterable" in message or "argument of type 'NoneType' is not iterable" in message:
        return "iterate"
    if "'NoneType' object is not callable" in message:
        return "call"
    if (m := _OPERAND.search(message)) and "NoneType" in (m.group(2), m.group(3)):
        return "operand"
    if (m := _COMPARE.search(message)) and "NoneType" in (m.group(1), m.group(2)):
        return "compare"
    return None


_ITERATING = frozenset(
    {"set", "list", "sorted", "tuple", "sum", "any", "all", "dict", "frozenset", "enumerate", "zip", "map", "filter"}
)
_ITERATING_METHODS = frozenset({"join", "extend", "update", "union", "intersection"})


def _iterates(call: ast.Call) -> bool:
    if isinstance(call.func, ast.Name):
        return call.func.id in _ITERATING
    return isinstance(call.func, ast.Attribute) and call.func.attr in _ITERATING_METHODS


def _positions(nodes: Iterable[ast.AST], message: str, operation: str) -> list[ast.expr]:
    found: list[ast.expr] = []
    attribute = _ATTRIBUTE.search(message)
    operand = _OPERAND.search(message)
    compare = _COMPARE.search(message)
    for node in nodes:
        if (operation == "attribute" and isinstance(node, ast.Attribute) and attribute and node.attr == attribute.group(1)) or (
            operation == "subscript" and isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load)
        ):
            found.append(node.value)
        elif operation == "iterate":
            if isinstance(node, ast.For | ast.AsyncFor | ast.comprehension):
                found.append(node.iter)
            elif isinstance(node, ast.Call) and node.args and _iterates(node):
                found.append(node.args[0])
            elif isinstance(node, ast.Compare) and any(isinstance(op, ast.In | ast.NotIn) for op in node.ops):
                found.append(node.comparators[0])
            elif isinstance(node, ast.Starred):
                found.append(node.value)
        elif operation == "call" and isinstance(node, ast.Call):
            found.append(node.func)
        elif operation == "operand" and operand and isinstance(node, ast.BinOp):
            op = _OPS.get(operand.group(1))
            if op is not None and isinstance(node.op, op):
                if operand.group(2) == "NoneType":
                    found.append(node.left)
                if operand.group(3) == "NoneType":
                    found.append(node.right)
        elif operation == "compare" and compare and isinstance(node, ast.Compare) and len(node.ops) == 1:
            if compare.group(1) == "NoneType":
                found.append(node.left)
            if compare.group(2) == "NoneType":
                found.append(node.comparators[0])
    return found


def _root_name(node: ast.expr) -> str | None:
    while isinstance(node, ast.Attribute | ast.Subscript):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def none_sites(nodes: list[ast.AST], facts: FailureFacts) -> list[NoneSite] | None:
    """The expressions among ``nodes`` (a statement's header, walked) that can have been the ``None`` the exception
    met, most likely first; None when the exception text names no operation on ``None`` (the caller falls back).

    An expression the frame says held a value is dropped; a name the frame says was ``None`` comes first. Several
    different expressions left over is ambiguous: the sites are returned for the caller to decide (a guard on the
    wrong one does not fix anything, so callers abstain unless one remains).
    """
    operation = operation_of(facts.message)
    if operation is None:
        return None
    sites: list[NoneSite] = []
    seen: set[str] = set()
    for expr in _positions(nodes, facts.message, operation):
        if not pure(expr):
            continue
        key = ast.dump(expr)
        if key in seen:
            continue
        seen.add(key)
        if isinstance(expr, ast.Name) and expr.id in facts.bound_names:
            continue  # the frame shows it held a value
        sites.append((expr, operation))
    known = [s for s in sites if isinstance(s[0], ast.Name) and s[0].id in facts.none_names]
    if known:
        return known
    # An attribute chain or subscript whose root the frame says was None: the root is what met the operation
    # only if the root itself sits in the position; otherwise keep the chain.
    return sorted(sites, key=lambda s: 0 if _root_name(s[0]) in facts.none_names else 1)
