"""Template fixes for TypeScript and JavaScript, located with tree-sitter.

The statement holding the diagnosed line is found in the syntax tree; the guarded expression is
picked from it by the fault's shape (the property read from ``null``/``undefined``, the element
read past the end, the ``reduce`` of an empty array). The early exit suits the context: a
Next.js route handler (``export async function GET`` in ``route.ts``) returns
``NextResponse.json({ error: "Practice not found" }, { status: 404 })`` (or ``Response.json``
when ``next/server`` is not imported), an Express handler returns ``res.status(404).json(...)``,
a loop over the value ``continue``s, other functions ``return null``. The rewritten file must
parse without errors.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

from tree_sitter import Language, Node, Parser

from medic_contracts import FixStrategy

from ..failure import FailureFacts, FailureKind, entity_name
from .edits import TemplateEdit

__all__ = ["parses_cleanly", "typescript_template_fixes"]

_ROUTE_FILE = re.compile(r"(^|/)route\.(ts|js|mjs|tsx|jsx)$")
_HTTP_METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"}
_FUNCTIONS = {
    "function_declaration",
    "function_expression",
    "arrow_function",
    "method_definition",
    "generator_function_declaration",
    "function",
}
_LOOPS = {"for_in_statement", "for_statement", "while_statement", "do_statement"}
_BLOCKS = {"statement_block", "program", "switch_case", "switch_default"}
_STRATEGY = {
    FailureKind.NONE_VALUE: FixStrategy.NULL_GUARD,
    FailureKind.MISSING_KEY: FixStrategy.MISSING_KEY_GUARD,
    FailureKind.OUT_OF_BOUNDS: FixStrategy.BOUNDS_GUARD,
    FailureKind.DIVIDE_BY_ZERO: FixStrategy.ZERO_GUARD,
    FailureKind.EMPTY_ITERABLE: FixStrategy.EMPTY_ITERABLE_GUARD,
}


@lru_cache(maxsize=2)
def _parser(tsx: bool) -> Parser:
    import tree_sitter_typescript as grammar

    return Parser(Language(grammar.language_tsx() if tsx else grammar.language_typescript()))


def _parse(text: str, path: str) -> Node:
    return _parser(path.endswith((".tsx", ".jsx"))).parse(text.encode()).root_node


def parses_cleanly(text: str, path: str) -> bool:
    """True when the file parses without syntax errors."""
    return not _parse(text, path).has_error


def _text(node: Node) -> str:
    return (node.text or b"").decode("utf-8", "replace")


def _pure(node: Node) -> bool:
    """Expressions safe to evaluate twice: identifiers, ``this``, member chains, literal/identifier subscripts."""
    if node.type in ("identifier", "this", "shorthand_property_identifier"):
        return True
    if node.type == "member_expression":
        obj = node.child_by_field_name("object")
        return obj is not None and _pure(obj) and b"?." not in (node.text or b"")
    if node.type == "subscript_expression":
        obj, index = node.child_by_field_name("object"), node.child_by_field_name("index")
        return obj is not None and index is not None and _pure(obj) and index.type in ("number", "string", "identifier")
    if node.type == "parenthesized_expression" and node.named_child_count == 1:
        child = node.named_children[0]
        return _pure(child)
    return False


def _walk_no_nested(node: Node) -> Iterator[Node]:
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(c for c in reversed(current.named_children) if c.type not in _FUNCTIONS and c.type != "statement_block")


def _statement_at(root: Node, line: int) -> Node | None:
    """The statement (a direct child of a block) that holds 0-based ``line``."""
    node = root.named_descendant_for_point_range((line, 0), (line, 10_000))
    # Start from the first named node that actually begins on the line when there is one.
    candidates = list(_line_nodes(root, line))
    if candidates:
        node = candidates[0]
    while node is not None and node.parent is not None and node.parent.type not in _BLOCKS:
        node = node.parent
    if node is None or node.type in _BLOCKS:
        return None
    return node


def _line_nodes(root: Node, line: int) -> list[Node]:
    out: list[Node] = []
    stack = [root]
    while stack:
        current = stack.pop()
        if current.start_point[0] <= line <= current.end_point[0]:
            if current.start_point[0] == line and current.type not in _BLOCKS:
                out.append(current)
                continue
            stack.extend(reversed(current.named_children))
    return out


def _header(stmt: Node) -> Node:
    """The part of a statement evaluated before its body."""
    for field in ("condition", "right", "value"):
        if stmt.type in ("if_statement", "while_statement", "for_in_statement", "switch_statement"):
            part = stmt.child_by_field_name(field)
            if part is not None:
                return part
    return stmt


def _candidates(stmt: Node, facts: FailureFacts) -> list[tuple[Node, str]]:
    found: list[tuple[Node, str]] = []
    for node in _walk_no_nested(_header(stmt)):
        if facts.kind in (FailureKind.NONE_VALUE, FailureKind.MISSING_KEY, FailureKind.OUT_OF_BOUNDS):
            if node.type == "member_expression":
                obj, prop = node.child_by_field_name("object"), node.child_by_field_name("property")
                if obj is not None and obj.type == "non_null_expression" and obj.named_child_count == 1:
                    obj = obj.named_children[0]  # session!.user: the assertion was wrong, guard session itself
                plain = obj is not None and prop is not None and _pure(obj) and b"?." not in (node.text or b"")
                if plain and obj is not None and prop is not None and facts.property_name in (None, _text(prop)):
                    found.append((obj, "none"))
            elif node.type == "subscript_expression":
                obj, index = node.child_by_field_name("object"), node.child_by_field_name("index")
                matches = index is not None and facts.property_name in (None, _text(index).strip("'\"`"))
                if obj is not None and matches and _pure(obj):
                    found.append((obj, "none"))
        elif facts.kind is FailureKind.EMPTY_ITERABLE and node.type == "call_expression":
            fn = node.child_by_field_name("function")
            args = node.child_by_field_name("arguments")
            if fn is not None and fn.type == "member_expression" and args is not None:
                prop = fn.child_by_field_name("property")
                obj = fn.child_by_field_name("object")
                if (
                    prop is not None
                    and obj is not None
                    and _text(prop) in ("reduce", "reduceRight")
                    and args.named_child_count == 1
                    and _pure(obj)
                ):
                    found.append((obj, "empty"))
        elif facts.kind is FailureKind.DIVIDE_BY_ZERO and node.type == "binary_expression":
            op = node.child_by_field_name("operator")
            right = node.child_by_field_name("right")
            if op is not None and _text(op) in ("/", "%") and right is not None and right.type != "number":
                found.append((node, "divide"))
    return found


def _pick(found: list[tuple[Node, str]], facts: FailureFacts) -> tuple[Node, str] | None:
    if not found:
        return None
    if facts.hinted_expression:
        hinted = re.sub(r"\s+", "", facts.hinted_expression)
        for node, role in found:
            if re.sub(r"\s+", "", _text(node)) == hinted:
                return node, role
    # Innermost object of a chain first: for a.b.c read from null the failing read is the outer one.
    return min(found, key=lambda item: (item[0].start_byte, -item[0].end_byte))


@dataclass(frozen=True, slots=True)
class _Context:
    function: Node | None
    route_method: str | None
    express_response: str | None
    loop_names: frozenset[str]


def _function_name(fn: Node) -> str | None:
    name = fn.child_by_field_name("name")
    if name is not None:
        return _text(name)
    parent = fn.parent
    if parent is not None and parent.type == "variable_declarator":
        decl_name = parent.child_by_field_name("name")
        return _text(decl_name) if decl_name is not None else None
    return None


def _param_names(fn: Node) -> list[str]:
    params = fn.child_by_field_name("parameters") or fn.child_by_field_name("parameter")
    if params is None:
        return []
    if params.type == "identifier":
        return [_text(params)]
    names: list[str] = []
    for param in params.named_children:
        pattern = param.child_by_field_name("pattern") or param
        names.append(_text(pattern) if pattern.type == "identifier" else "")
    return names


def _context(stmt: Node, path: str) -> _Context:
    function: Node | None = None
    loops: set[str] = set()
    node = stmt.parent
    while node is not None:
        if node.type in _LOOPS and function is None:
            left = node.child_by_field_name("left") or node.child_by_field_name("initializer")
            if left is not None:
                loops.update(_text(n) for n in _walk_no_nested(left) if n.type == "identifier")
        if node.type in _FUNCTIONS:
            function = node
            break
        node = node.parent
    route_method: str | None = None
    express: str | None = None
    if function is not None:
        name = _function_name(function)
        exported = any(p is not None and p.type == "export_statement" for p in _ancestors(function))
        if name in _HTTP_METHODS and exported and _ROUTE_FILE.search(path):
            route_method = name
        params = _param_names(function)
        if (
            route_method is None
            and len(params) >= 2
            and params[0] in ("req", "request")
            and params[1] in ("res", "response", "reply")
        ):
            express = params[1]
    return _Context(function=function, route_method=route_method, express_response=express, loop_names=frozenset(loops))


def _ancestors(node: Node) -> Iterator[Node | None]:
    current = node.parent
    for _ in range(4):
        yield current
        if current is None:
            return
        current = current.parent


def _imports_next_response(root: Node) -> bool:
    for node in root.named_children:
        if node.type == "import_statement" and b"next/server" in (node.text or b"") and b"NextResponse" in (node.text or b""):
            return True
    return False


def _exit(ctx: _Context, guarded: Node, role: str, facts: FailureFacts, root: Node) -> str:
    name = entity_name(_text(guarded))
    status = facts.exit_status or 404
    message = facts.exit_message or (f"No {name.lower()} found" if role == "empty" else f"{name} not found")
    body = f"{{ error: {json.dumps(message)} }}"
    if ctx.route_method is not None:
        factory = "NextResponse" if _imports_next_response(root) else "Response"
        return f"return {factory}.json({body}, {{ status: {status} }});"
    if ctx.express_response:
        return f"return {ctx.express_response}.status({status}).json({body});"
    names = {_text(n) for n in _walk_no_nested(guarded) if n.type == "identifier"}
    if names & ctx.loop_names:
        return "continue;"
    value = _empty_value(ctx.function)
    return f"return {value};" if value else "return;"


def _empty_value(function: Node | None) -> str:
    """What a function returns for "nothing", by its declared return type (null when unknown)."""
    annotation = function.child_by_field_name("return_type") if function is not None else None
    declared = _text(annotation).lstrip(":").strip() if annotation is not None else ""
    declared = re.sub(r"^Promise<(.*)>$", r"\1", declared).strip()
    if not declared or "null" in declared or "undefined" in declared:
        return "null"
    if declared == "boolean":
        return "false"
    if declared in ("number", "bigint"):
        return "0" if declared == "number" else "0n"
    if declared == "string":
        return '""'
    if declared.endswith("[]") or declared.startswith(("Array<", "ReadonlyArray<")):
        return "[]"
    if declared == "void":
        return ""
    return "null"


_STRING_METHODS = {
    "split",
    "trim",
    "toLowerCase",
    "toUpperCase",
    "replace",
    "startsWith",
    "endsWith",
    "slice",
    "padStart",
    "charAt",
}
_ARRAY_METHODS = {"map", "filter", "forEach", "reduce", "find", "some", "every", "join", "length", "includes", "flatMap", "at"}
_ID_LIKE = re.compile(r"^(id|slug|sku|key|uuid)$|(Id|_id|Slug|Key)$")


def _walk_all(node: Node) -> Iterator[Node]:
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(current.named_children)


def _declarations(function: Node) -> dict[str, Node]:
    """Variables declared in a function body: name → the value they were declared with."""
    found: dict[str, Node] = {}
    for node in _walk_no_nested(function.child_by_field_name("body") or function):
        if node.type != "variable_declarator":
            continue
        name, value = node.child_by_field_name("name"), node.child_by_field_name("value")
        if name is None or value is None:
            continue
        if name.type == "identifier":
            found[_text(name)] = value
        else:
            for part in _walk_no_nested(name):
                if part.type in ("shorthand_property_identifier_pattern", "identifier"):
                    found.setdefault(_text(part), value)
    return found


def _is_primary_lookup(function: Node | None, name: str, depth: int = 0) -> bool:
    """True when ``name`` comes (through plain assignments) from a call taking an id-like argument."""
    if function is None or depth > 3:
        return False
    value = _declarations(function).get(name)
    if value is None:
        return False
    for node in _walk_no_nested(value):
        if node.type == "call_expression":
            args = node.child_by_field_name("arguments")
            if args is not None and any(
                n.type in ("identifier", "property_identifier") and _ID_LIKE.search(_text(n)) for n in _walk_all(args)
            ):
                return True
    inner = value
    while inner.type in (
        "as_expression",
        "non_null_expression",
        "await_expression",
        "parenthesized_expression",
        "satisfies_expression",
    ):
        if not inner.named_children:
            break
        inner = inner.named_children[0]
    if inner.type == "identifier":
        return _is_primary_lookup(function, _text(inner), depth + 1)
    if inner.type == "member_expression":
        root = inner
        while root.type == "member_expression" and root.child_by_field_name("object") is not None:
            root = root.child_by_field_name("object")  # type: ignore[assignment]
        if root.type == "identifier":
            return _is_primary_lookup(function, _text(root), depth + 1)
    return False


def _reads_of(scope: Node, name: str) -> list[Node]:
    """``name.x`` member reads (not optional already) inside ``scope``."""
    return [
        n
        for n in _walk_no_nested(scope)
        if n.type == "member_expression"
        and (obj := n.child_by_field_name("object")) is not None
        and obj.type == "identifier"
        and _text(obj) == name
        and b"?." not in (n.text or b"")[: len(name) + 2]
    ]


def _apply(data: bytes, edits: list[tuple[int, int, str]]) -> bytes:
    for start, end, new in sorted(edits, reverse=True):
        data = data[:start] + new.encode() + data[end:]
    return data


def _loop_bound(stmt: Node) -> tuple[int, int, str] | None:
    """``for (let i = 0; i <= xs.length; i++)`` around a read of ``xs[i]``: the ``<=`` to make ``<``."""
    node = stmt.parent
    while node is not None and node.type not in _FUNCTIONS:
        if node.type == "for_statement":
            condition = node.child_by_field_name("condition")
            test = (
                condition.named_children[0] if condition is not None and condition.type == "expression_statement" else condition
            )
            if test is not None and test.type == "binary_expression":
                op, right = test.child_by_field_name("operator"), test.child_by_field_name("right")
                if op is not None and _text(op) == "<=" and right is not None and _text(right).endswith(".length"):
                    return (op.start_byte, op.end_byte, "<")
        node = node.parent
    return None


def _value_variants(text: str, line: int, facts: FailureFacts, path: str) -> list[TemplateEdit]:
    """Edits that let a missing value flow on as null/empty instead of failing (derived values only)."""
    if facts.kind not in (FailureKind.NONE_VALUE, FailureKind.OUT_OF_BOUNDS):
        return []
    data = text.encode()
    root = _parse(text, path)
    stmt = _statement_at(root, line - 1)
    if stmt is None:
        return []
    ctx = _context(stmt, path)
    out: list[tuple[list[tuple[int, int, str]], str, str]] = []
    bound = _loop_bound(stmt)
    if bound is not None:
        # Reading one past the end is the bug itself: fix the loop bound rather than skip the read.
        fixed = TemplateEdit(
            path=path,
            new_text=_apply(data, [bound]).decode(),
            strategy=FixStrategy.BOUNDS_GUARD,
            description="bounds guard: loop while i < length, not <=",
            guarded="loop bound",
        )
        return [fixed] if parses_cleanly(fixed.new_text, path) else []
    for node in _walk_no_nested(_header(stmt)):
        # E!.split(...) where E is a call: the assertion was wrong; read E ?? "" (or []).
        if node.type == "member_expression":
            obj, prop = node.child_by_field_name("object"), node.child_by_field_name("property")
            if obj is not None and prop is not None and obj.type == "non_null_expression" and obj.named_children:
                inner = obj.named_children[0]
                method = _text(prop)
                default = '""' if method in _STRING_METHODS else "[]" if method in _ARRAY_METHODS else None
                if default is not None and not _pure(inner):
                    out.append(
                        (
                            [(obj.start_byte, obj.end_byte, f"({_text(inner)} ?? {default})")],
                            f"null guard: {_text(inner)} ?? {default}",
                            _text(inner),
                        )
                    )
    guarded_name: str | None = None
    for node in _walk_no_nested(_header(stmt)):
        if node.type == "member_expression":
            obj, prop = node.child_by_field_name("object"), node.child_by_field_name("property")
            if obj is not None and obj.type == "identifier" and prop is not None and facts.property_name in (None, _text(prop)):
                guarded_name = _text(obj)
                break
    if guarded_name and ctx.function is not None and not _is_primary_lookup(ctx.function, guarded_name):
        reads = _reads_of(stmt, guarded_name)
        # The smallest object literal holding every read: when it only describes the value, it becomes null.
        holder: Node | None = None
        if reads:
            candidate = reads[0].parent
            while candidate is not None and candidate is not stmt.parent:
                if candidate.type == "object" and all(
                    candidate.start_byte <= r.start_byte and r.end_byte <= candidate.end_byte for r in reads
                ):
                    holder = candidate
                    break
                candidate = candidate.parent
        if holder is not None and all(
            _reads_of(pair, guarded_name)
            for pair in holder.named_children
            if pair.type in ("pair", "shorthand_property_identifier")
        ):
            new = f"{guarded_name} == null ? null : {_text(holder)}"
            out.append(
                ([(holder.start_byte, holder.end_byte, new)], f"null guard: {guarded_name} == null gives null", guarded_name)
            )
        elif reads:
            edits = [(r.start_byte, r.start_byte + len(guarded_name.encode()), f"{guarded_name}?") for r in reads]
            out.append((edits, f"null guard: optional chaining on {guarded_name}", guarded_name))
    results: list[TemplateEdit] = []
    for edits, description, guarded in out:
        new_text = _apply(data, edits).decode()
        if parses_cleanly(new_text, path):
            results.append(
                TemplateEdit(
                    path=path, new_text=new_text, strategy=FixStrategy.NULL_GUARD, description=description, guarded=guarded
                )
            )
    return results


def _fix_one(text: str, line: int, facts: FailureFacts, path: str) -> TemplateEdit | None:
    data = text.encode()
    root = _parse(text, path)
    stmt = _statement_at(root, line - 1)
    if stmt is None:
        return None
    picked = _pick(_candidates(stmt, facts), facts)
    if picked is None:
        return None
    node, role = picked
    strategy = _STRATEGY[facts.kind]
    if role == "divide":
        right = node.child_by_field_name("right")
        assert right is not None
        # Only BigInt division throws in JavaScript ("RangeError: Division by zero"): its zero is 0n.
        zero = "0n" if "BigInt" in _text(right) or "RangeError" in (facts.exception_type or "") + facts.message else "0"
        replacement = f"({_text(right)} == {zero} ? {zero} : {_text(node)})"
        new = data[: node.start_byte] + replacement.encode() + data[node.end_byte :]
        description = f"zero guard: {_text(node)} evaluates to 0 when {_text(right)} is 0"
        guarded = _text(right)
    else:
        ctx = _context(stmt, path)
        exit_stmt = _exit(ctx, node, role, facts, root)
        line_start = data.rfind(b"\n", 0, stmt.start_byte) + 1
        prefix = data[line_start : stmt.start_byte]
        if prefix.strip():
            return None  # the statement shares its line with other code: no room for a guard
        indent = prefix.decode()
        step = "\t" if "\t" in indent else "  "
        condition = f"{_text(node)} == null" if role == "none" else f"{_text(node)}.length === 0"
        guard = f"if ({condition}) {{\n{indent}{step}{exit_stmt}\n{indent}}}\n{indent}"
        new = data[: stmt.start_byte] + guard.encode() + data[stmt.start_byte :]
        guarded = _text(node)
        description = f"{strategy.value.replace('_', ' ')}: `if ({condition}) {exit_stmt}` before line {stmt.start_point[0] + 1}"
    new_text = new.decode()
    if not parses_cleanly(new_text, path):
        return None
    return TemplateEdit(path=path, new_text=new_text, strategy=strategy, description=description, guarded=guarded)


def typescript_template_fixes(*, path: str, text: str, lines: list[int], facts: FailureFacts) -> list[TemplateEdit]:
    """Template edits for the fault at any of ``lines`` (diagnosed lines first); distinct results only."""
    if facts.kind is FailureKind.UNKNOWN or not parses_cleanly(text, path):
        return []
    edits: list[TemplateEdit] = []
    seen: set[str] = set()
    total = text.count("\n") + 1
    for line in lines:
        if 1 <= line <= total:
            # Value-level variants first (a missing derived value is not an error), then the guard with an exit.
            for edit in [*_value_variants(text, line, facts, path), *filter(None, [_fix_one(text, line, facts, path)])]:
                if edit.new_text not in seen:
                    seen.add(edit.new_text)
                    edits.append(edit)
    return edits
