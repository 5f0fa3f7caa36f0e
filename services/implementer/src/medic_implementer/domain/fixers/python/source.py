"""Finding the failing statement in a Python file and editing the file's text around it.

Positions come from :mod:`ast`; edits are made on the source text so formatting and comments stay.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

__all__ = [
    "Source",
    "add_import",
    "constant_index",
    "function_of",
    "header_nodes",
    "parses",
    "pure",
    "replace",
    "statement_at",
    "walk_no_nested",
]


def parses(text: str) -> bool:
    """True when the text is valid Python (every rewrite must stay so)."""
    try:
        ast.parse(text)
    except SyntaxError:
        return False
    return True


def pure(node: ast.expr) -> bool:
    """True for expressions safe to evaluate twice: names, attribute chains, constant/name subscripts."""
    if isinstance(node, ast.Name):
        return True
    if isinstance(node, ast.Attribute):
        return pure(node.value)
    if isinstance(node, ast.Subscript):
        return pure(node.value) and isinstance(node.slice, ast.Constant | ast.Name | ast.UnaryOp)
    return False


def constant_index(node: ast.expr) -> int | None:
    """The integer a subscript's index is written as (``0``, ``-1``), or None when it is not a literal."""
    if isinstance(node, ast.Constant) and isinstance(node.value, int) and not isinstance(node.value, bool):
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        inner = constant_index(node.operand)
        return -inner if inner is not None else None
    return None


def walk_no_nested(node: ast.AST) -> Iterator[ast.AST]:
    """ast.walk that does not enter nested functions, lambdas or comprehensions (their names differ)."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        for child in ast.iter_child_nodes(current):
            if isinstance(child, ast.Lambda | ast.FunctionDef | ast.AsyncFunctionDef | ast.ListComp | ast.GeneratorExp):
                continue
            stack.append(child)


def statement_at(tree: ast.Module, line: int) -> tuple[ast.stmt, list[ast.AST]] | None:
    """The innermost statement whose own line span holds ``line``, with its ancestors (outermost first)."""
    best: tuple[ast.stmt, list[ast.AST]] | None = None

    def visit(node: ast.AST, parents: list[ast.AST]) -> None:
        nonlocal best
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.stmt):
                end = child.end_lineno or child.lineno
                if child.lineno <= line <= end:
                    best = (child, [*parents, node])
                    visit(child, [*parents, node])
            elif not isinstance(child, ast.expr):
                visit(child, [*parents, node])

    visit(tree, [])
    return best


def header_nodes(stmt: ast.stmt) -> list[ast.AST]:
    """The parts of a statement evaluated before its body (a compound statement's header)."""
    if isinstance(stmt, ast.If | ast.While):
        return [stmt.test]
    if isinstance(stmt, ast.For | ast.AsyncFor):
        return [stmt.iter]
    if isinstance(stmt, ast.With | ast.AsyncWith):
        return [item.context_expr for item in stmt.items]
    if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Try):
        return []
    return [stmt]


def function_of(parents: list[ast.AST]) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
    """The innermost function among a statement's ancestors."""
    return next((p for p in reversed(parents) if isinstance(p, ast.FunctionDef | ast.AsyncFunctionDef)), None)


class Source:
    """Byte-exact positions in a source text (ast columns are UTF-8 byte offsets)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.lines = text.splitlines(keepends=True)

    def offset(self, line: int, col: int) -> int:
        head = "".join(self.lines[: line - 1])
        return len(head) + len(self.lines[line - 1].encode()[:col].decode("utf-8", "replace"))

    def segment(self, node: ast.expr) -> str:
        return ast.get_source_segment(self.text, node) or ast.unparse(node)

    def indent_of(self, line: int) -> str:
        raw = self.lines[line - 1]
        return raw[: len(raw) - len(raw.lstrip())]

    def line_starts_statement(self, stmt: ast.stmt) -> bool:
        raw = self.lines[stmt.lineno - 1].encode()[: stmt.col_offset].decode("utf-8", "replace")
        return raw.strip() == ""


def replace(text: str, src: Source, edits: list[tuple[ast.AST, str]]) -> str:
    """Apply (node → replacement text) edits, last first so earlier offsets stay valid."""
    spans = []
    for node, new in edits:
        start = src.offset(node.lineno, node.col_offset)  # type: ignore[attr-defined]
        end = src.offset(node.end_lineno or node.lineno, node.end_col_offset or 0)  # type: ignore[attr-defined]
        spans.append((start, end, new))
    for start, end, new in sorted(spans, reverse=True):
        text = text[:start] + new + text[end:]
    return text


def add_import(text: str, import_line: str) -> str:
    """``text`` with ``from m import n`` added: onto an existing one-line import from ``m``, else after the imports."""
    module, _, name = import_line.removeprefix("from ").partition(" import ")
    tree = ast.parse(text)
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module == module and any(a.name == name for a in node.names):
            return text
    lines = text.splitlines(keepends=True)
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module == module and node.lineno == node.end_lineno:
            raw = lines[node.lineno - 1]
            if "(" not in raw and "#" not in raw and "\\" not in raw:
                lines[node.lineno - 1] = raw.rstrip("\r\n") + f", {name}" + raw[len(raw.rstrip("\r\n")) :]
                return "".join(lines)
    last_import = 0
    for node in tree.body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            last_import = node.end_lineno or node.lineno
        elif last_import or not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)):
            break
    lines.insert(last_import, import_line + "\n")
    return "".join(lines)
