"""Read TypeScript/JavaScript code around a culprit line with tree-sitter."""

from __future__ import annotations

import re
from functools import cache
from typing import Literal

from tree_sitter import Language, Node, Parser

from .code import LOOKUP_CALL, Binding, CodeContext, FunctionSpan, Operation, numbered

__all__ = ["typescript_context"]

_FUNCTIONS = {
    "function_declaration",
    "function_expression",
    "function",
    "arrow_function",
    "method_definition",
    "generator_function_declaration",
    "generator_function",
}
_COMPOUND_BODY = {
    "if_statement": "consequence",
    "for_statement": "body",
    "for_in_statement": "body",
    "while_statement": "body",
    "do_statement": "body",
    "switch_statement": "body",
    "try_statement": "body",
}
_OBJECT_ITERATORS = frozenset({"Object.keys", "Object.values", "Object.entries", "Object.getOwnPropertyNames"})
_ARRAY_METHODS = {"map", "forEach", "filter", "reduce", "some", "every", "find", "flatMap", "join", "length", "slice", "sort"}
_PARSERS = {"parse", "parseInt", "parseFloat", "Number", "BigInt", "fromISO", "Date"}


@cache
def _parser(kind: str) -> Parser:
    import tree_sitter_typescript as tst

    language = Language(tst.language_tsx() if kind == "tsx" else tst.language_typescript())
    return Parser(language)


def _text(node: Node | None) -> str:
    if node is None or node.text is None:
        return ""
    return node.text.decode("utf-8", "replace")


def _line(node: Node) -> int:
    return node.start_point.row + 1


def _last_line(node: Node) -> int:
    return node.end_point.row + 1


def _walk(node: Node) -> list[Node]:
    out: list[Node] = []
    stack = [node]
    while stack:
        current = stack.pop()
        out.append(current)
        stack.extend(reversed(current.named_children))
    return out


def _is_statement(node: Node) -> bool:
    return node.type.endswith("_statement") or node.type in {"lexical_declaration", "variable_declaration"}


def _header_last(node: Node) -> int:
    """Last line of a compound statement's header (``if (cond) {``), else the statement's last line."""
    field = _COMPOUND_BODY.get(node.type)
    if field is not None:
        body = node.child_by_field_name(field)
        if body is not None:
            return max(_line(node), _line(body))
    return _last_line(node)


def _function_name(node: Node) -> str:
    name = node.child_by_field_name("name")
    if name is not None:
        owner = node.parent.parent if node.type == "method_definition" and node.parent is not None else None
        if owner is not None and owner.type in {"class_declaration", "class"}:
            cls = owner.child_by_field_name("name")
            if cls is not None:
                return f"{_text(cls)}.{_text(name)}"
        return _text(name)
    parent = node.parent
    while parent is not None and parent.type in {"parenthesized_expression", "as_expression", "call_expression", "arguments"}:
        parent = parent.parent
    if parent is not None and parent.type == "variable_declarator":
        return _text(parent.child_by_field_name("name"))
    if parent is not None and parent.type == "pair":
        return _text(parent.child_by_field_name("key"))
    if parent is not None and parent.type in {"assignment_expression"}:
        return _text(parent.child_by_field_name("left"))
    return "<anonymous>"


def _header_nodes(stmt: Node) -> list[Node]:
    """The parts a statement evaluates itself (not its nested blocks)."""
    field = _COMPOUND_BODY.get(stmt.type)
    if field is None:
        return [stmt]
    skip = {"consequence", "alternative", "body", "handler", "finalizer"}
    parts = []
    for i, child in enumerate(stmt.children):
        if stmt.field_name_for_child(i) in skip or not child.is_named:
            continue
        parts.append(child)
    return parts


def _nodes_in(parts: list[Node]) -> list[Node]:
    nodes: list[Node] = []
    for part in parts:
        for node in _walk(part):
            body = node.child_by_field_name("body") if node.type in _FUNCTIONS else None
            if body is not None and body.type == "statement_block" and node is not part:
                continue  # a block-bodied callback has statements of its own; an expression body is part of this line
            nodes.append(node)
    return nodes


def _strip(node: Node | None) -> Node | None:
    while node is not None and node.type in {"non_null_expression", "parenthesized_expression", "await_expression"}:
        named = node.named_children
        node = named[0] if named else None
    return node


def _operations(parts: list[Node]) -> list[Operation]:
    ops: list[Operation] = []
    for node in _nodes_in(parts):
        line = _line(node)
        if node.type == "member_expression":
            obj = node.child_by_field_name("object")
            prop = node.child_by_field_name("property")
            optional = any(c.type == "optional_chain" for c in node.children)
            if obj is not None and prop is not None and not optional:
                base = _text(obj)
                inner = obj.named_children[0] if obj.type == "non_null_expression" and obj.named_children else None
                if inner is not None and inner.type == "binary_expression":
                    # tree-sitter parses `a / b!.c` as `(a / b)!.c`; TypeScript binds `b!.c` first.
                    right = inner.child_by_field_name("right")
                    base = f"{_text(right)}!"
                ops.append(
                    Operation(
                        "attribute", f"{base}.{_text(prop)}" if base != _text(obj) else _text(node), base, _text(prop), line
                    )
                )
        elif node.type == "subscript_expression":
            obj = node.child_by_field_name("object")
            index = node.child_by_field_name("index")
            if obj is not None and index is not None:
                literal = index.type in {"number", "string"}
                ops.append(Operation("subscript", _text(node), _text(obj), _text(index), line, literal))
        elif node.type in {"binary_expression", "augmented_assignment_expression"}:
            op = node.child_by_field_name("operator")
            if _text(op) in {"/", "%", "/=", "%="}:
                right = node.child_by_field_name("right")
                ops.append(Operation("division", _text(node), _text(right), None, line))
        elif node.type == "for_in_statement":
            right = node.child_by_field_name("right")
            if right is not None:
                ops.append(Operation("iteration", _text(right), _text(right), None, _line(right)))
        elif node.type == "spread_element":
            inner = node.named_children[0] if node.named_children else None
            ops.append(Operation("iteration", _text(node), _text(inner), "...", line))
        elif node.type in {"call_expression", "new_expression"}:
            fn = node.child_by_field_name("function") or node.child_by_field_name("constructor")
            fn = _strip(fn)
            name = _text(fn.child_by_field_name("property")) if fn is not None and fn.type == "member_expression" else _text(fn)
            args = node.child_by_field_name("arguments")
            first_arg = args.named_children[0] if args is not None and args.named_children else None
            if _text(fn) in _OBJECT_ITERATORS and first_arg is not None:
                # Object.keys(x) walks x's properties: x is what must not be undefined
                ops.append(Operation("iteration", _text(node), _text(first_arg), name, line))
            elif fn is not None and fn.type == "member_expression" and name in _ARRAY_METHODS:
                ops.append(Operation("iteration", _text(node), _text(fn.child_by_field_name("object")), name, line))
            elif name in _PARSERS and first_arg is not None:
                ops.append(Operation("parse", _text(node), _text(first_arg), name, line))
            else:
                ops.append(Operation("call", _text(node), _text(fn), name, line))
    return ops


def _identifiers(parts: list[Node]) -> list[str]:
    names: list[str] = []
    for node in _nodes_in(parts):
        if node.type in {"identifier", "shorthand_property_identifier"}:
            parent = node.parent
            if parent is not None and parent.type == "variable_declarator" and parent.child_by_field_name("name") == node:
                continue
            text = _text(node)
            if text not in names:
                names.append(text)
    return names


def _pattern_names(node: Node) -> list[str]:
    return [
        _text(n)
        for n in _walk(node)
        if n.type in {"identifier", "shorthand_property_identifier_pattern", "shorthand_property_identifier"}
    ]


def _called(value: Node | None) -> str | None:
    value = _strip(value)
    if value is not None and value.type == "call_expression":
        fn = _strip(value.child_by_field_name("function"))
        if fn is not None and fn.type == "member_expression":
            return _text(fn.child_by_field_name("property"))
        return _text(fn)
    return None


def _guard_between(scope: Node, name: str, after: int, before: int) -> bool:
    check = re.compile(
        rf"(?:!\s*{re.escape(name)}\b|\b{re.escape(name)}\s*[!=]==?\s*(?:null|undefined)|"
        rf"(?:null|undefined)\s*[!=]==?\s*{re.escape(name)}\b|\b{re.escape(name)}\s*\?\?|typeof\s+{re.escape(name)}\b)"
    )
    for node in _walk(scope):
        if node.type in {"if_statement", "ternary_expression"} and after < _line(node) <= before:
            condition = node.child_by_field_name("condition")
            if condition is not None and check.search(_text(condition)):
                return True
    return False


def _bindings(root: Node, fn: Node | None, names: list[str], line: int, lines: list[str]) -> list[Binding]:
    def source(node: Node) -> str:
        first = _line(node)
        return "\n".join(lines[first - 1 : min(_last_line(node), first + 2)]).strip()[:400]

    found: dict[str, Binding] = {}
    scopes = [root] if fn is None else [fn]
    if fn is not None:
        params = fn.child_by_field_name("parameters")
        single = fn.child_by_field_name("parameter")
        for param_root in [p for p in (params, single) if p is not None]:
            for param in param_root.named_children if param_root.type == "formal_parameters" else [param_root]:
                optional = param.type == "optional_parameter" or "null" in _text(param) or "undefined" in _text(param)
                for name in _pattern_names(param.child_by_field_name("pattern") or param):
                    if name in names:
                        found[name] = Binding(name, _line(param), "parameter", source(param), None, None, optional)
    candidates: list[Binding] = []
    for scope in scopes:
        for node in _walk(scope):
            if _line(node) > line:
                continue
            if node.type == "variable_declarator":
                target = node.child_by_field_name("name")
                value = node.child_by_field_name("value")
                if target is None:
                    continue
                for name in _pattern_names(target):
                    if name not in names:
                        continue
                    if value is not None and value.type in {"for_in_statement"}:
                        continue
                    value_text = _text(value) if value is not None else None
                    declared = _text(node.child_by_field_name("type"))
                    missing = bool(
                        (value_text and (LOOKUP_CALL.search(value_text) or re.match(r"(?:null|undefined)\b", value_text)))
                        or re.search(r"\|\s*(?:null|undefined)\b", declared)
                    )
                    parent = node.parent.parent if node.parent is not None else None
                    kind: Literal["assignment", "loop"] = (
                        "loop" if parent is not None and parent.type == "for_in_statement" else "assignment"
                    )
                    candidates.append(Binding(name, _line(node), kind, source(node), value_text, _called(value), missing))
            elif node.type == "for_in_statement":
                left = node.child_by_field_name("left")
                if left is not None:
                    for name in _pattern_names(left):
                        if name in names:
                            candidates.append(
                                Binding(name, _line(node), "loop", source(node), _text(node.child_by_field_name("right")))
                            )
    for binding in sorted(candidates, key=lambda b: b.line):
        found[binding.name] = binding
    for node in root.named_children:
        inner = node.named_children[0] if node.type == "export_statement" and node.named_children else node
        for name in names:
            if name in found:
                continue
            if node.type == "import_statement" and name in _pattern_names(node):
                found[name] = Binding(name, _line(node), "import", source(node))
            elif inner.type in {"function_declaration", "class_declaration"} and _text(inner.child_by_field_name("name")) == name:
                found[name] = Binding(name, _line(inner), "definition", source(inner).split("{")[0].strip())
            elif inner.type in {"lexical_declaration", "variable_declaration"}:
                for declarator in inner.named_children:
                    target = declarator.child_by_field_name("name")
                    if target is not None and name in _pattern_names(target):
                        value = declarator.child_by_field_name("value")
                        found[name] = Binding(name, _line(declarator), "global", source(declarator), _text(value) or None)
    scope = fn if fn is not None else root
    for name, binding in list(found.items()):
        if binding.may_be_missing and _guard_between(scope, name, binding.line, line):
            found[name] = Binding(
                binding.name, binding.line, binding.kind, binding.source, binding.value, binding.calls, True, True
            )
    return [found[n] for n in names if n in found]


def typescript_context(source: str, *, file: str, line: int) -> CodeContext:
    """The :class:`CodeContext` of ``line`` in TypeScript/JavaScript ``source`` (TSX for ``.tsx``/``.jsx``)."""
    kind = "tsx" if file.endswith((".tsx", ".jsx")) else "typescript"
    language: Literal["typescript", "javascript"] = (
        "javascript" if file.endswith((".js", ".mjs", ".cjs", ".jsx")) else "typescript"
    )
    data = source.encode("utf-8")
    tree = _parser(kind).parse(data)
    root = tree.root_node
    lines = source.splitlines()
    row = line - 1
    stmt: Node | None = None
    for node in _walk(root):
        inside = _line(node) <= line <= _header_last(node) and _is_statement(node)
        if inside and (stmt is None or (_header_last(node) - _line(node)) <= (_header_last(stmt) - _line(stmt))):
            stmt = node
    fn: Node | None = None
    anchor = stmt
    for node in _walk(root):
        if node.type not in _FUNCTIONS:
            continue
        if anchor is not None and node.start_byte <= anchor.start_byte and node.end_byte >= anchor.end_byte:
            if fn is None or node.start_byte >= fn.start_byte:
                fn = node
        elif anchor is None and _line(node) <= line <= _last_line(node) and (fn is None or node.start_byte >= fn.start_byte):
            fn = node
    if fn is None and stmt is not None:
        # `const handler = async (a) => a.trim()`: the arrow on the fault line is the function.
        inner = [n for n in _walk(stmt) if n.type in _FUNCTIONS and _line(n) <= line <= _last_line(n)]
        fn = inner[0] if inner else None
    if stmt is None:
        first = last = line
        text = lines[row].strip() if 0 <= row < len(lines) else ""
        parts: list[Node] = []
    else:
        first, last = _line(stmt), _header_last(stmt)
        text = "\n".join(lines[first - 1 : last])
        parts = _header_nodes(stmt)
    ops = _operations(parts)
    if stmt is not None and stmt.type == "for_in_statement":  # `for (x of xs)`: the header iterates xs
        iterated = stmt.child_by_field_name("right")
        if iterated is not None:
            ops.insert(0, Operation("iteration", _text(iterated), _text(iterated), None, _line(iterated)))
    ops.sort(key=lambda o: o.line != line)
    names = _identifiers(parts)
    span = None
    if fn is not None:
        span = FunctionSpan(_function_name(fn), _line(fn), _last_line(fn))
        excerpt_first, excerpt_last = max(_line(fn), line - 60), min(_last_line(fn), _line(fn) + 80)
    else:
        excerpt_first, excerpt_last = line - 10, line + 10
    calls = [o.member for o in ops if o.kind in {"call", "parse"} and o.member]
    return CodeContext(
        file=file,
        language=language,
        line=line,
        function=span,
        statement_first=first,
        statement_last=last,
        statement=text,
        operations=tuple(ops),
        bindings=tuple(_bindings(root, fn, names, line, lines)),
        calls=tuple(dict.fromkeys(calls)),
        excerpt=numbered(lines, excerpt_first, excerpt_last, mark=line),
        parse_error="syntax errors in file" if root.has_error else None,
    )
