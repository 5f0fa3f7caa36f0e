"""Reading a TypeScript or JavaScript file with tree-sitter: the failing statement and the expressions in it."""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache

from tree_sitter import Language, Node, Parser

from medic_contracts import FixStrategy

from ..edits import TemplateEdit

__all__ = [
    "BLOCKS",
    "FUNCTIONS",
    "LOOPS",
    "apply_edits",
    "checked_edit",
    "guard_after",
    "header",
    "parse",
    "parses_cleanly",
    "pure",
    "statement_at",
    "text_of",
    "walk_all",
    "walk_no_nested",
]

FUNCTIONS = {
    "function_declaration",
    "function_expression",
    "arrow_function",
    "method_definition",
    "generator_function_declaration",
    "function",
}
LOOPS = {"for_in_statement", "for_statement", "while_statement", "do_statement"}
BLOCKS = {"statement_block", "program", "switch_case", "switch_default"}


@lru_cache(maxsize=2)
def _parser(tsx: bool) -> Parser:
    import tree_sitter_typescript as grammar

    return Parser(Language(grammar.language_tsx() if tsx else grammar.language_typescript()))


def parse(text: str, path: str) -> Node:
    """The syntax tree of a TypeScript or JavaScript file (TSX grammar for .tsx/.jsx)."""
    return _parser(path.endswith((".tsx", ".jsx"))).parse(text.encode()).root_node


def parses_cleanly(text: str, path: str) -> bool:
    """True when the file parses without syntax errors."""
    return not parse(text, path).has_error


def text_of(node: Node) -> str:
    """The source text of a node."""
    return (node.text or b"").decode("utf-8", "replace")


def pure(node: Node) -> bool:
    """Expressions safe to evaluate twice: identifiers, ``this``, member chains, literal/identifier subscripts."""
    if node.type in ("identifier", "this", "shorthand_property_identifier"):
        return True
    if node.type == "member_expression":
        obj = node.child_by_field_name("object")
        return obj is not None and pure(obj) and b"?." not in (node.text or b"")
    if node.type == "subscript_expression":
        obj, index = node.child_by_field_name("object"), node.child_by_field_name("index")
        return obj is not None and index is not None and pure(obj) and index.type in ("number", "string", "identifier")
    if node.type == "parenthesized_expression" and node.named_child_count == 1:
        child = node.named_children[0]
        return pure(child)
    return False


def walk_no_nested(node: Node) -> Iterator[Node]:
    """Named descendants, not entering nested functions or blocks (their names differ)."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(c for c in reversed(current.named_children) if c.type not in FUNCTIONS and c.type != "statement_block")


def statement_at(root: Node, line: int) -> Node | None:
    """The statement (a direct child of a block) that holds 0-based ``line``."""
    node = root.named_descendant_for_point_range((line, 0), (line, 10_000))
    # Start from the first named node that actually begins on the line when there is one.
    candidates = list(_line_nodes(root, line))
    if candidates:
        node = candidates[0]
    while node is not None and node.parent is not None and node.parent.type not in BLOCKS:
        node = node.parent
    if node is None or node.type in BLOCKS:
        return None
    return node


def _line_nodes(root: Node, line: int) -> list[Node]:
    out: list[Node] = []
    stack = [root]
    while stack:
        current = stack.pop()
        if current.start_point[0] <= line <= current.end_point[0]:
            if current.start_point[0] == line and current.type not in BLOCKS:
                out.append(current)
                continue
            stack.extend(reversed(current.named_children))
    return out


def header(stmt: Node) -> Node:
    """The part of a statement evaluated before its body."""
    for field in ("condition", "right", "value"):
        if stmt.type in ("if_statement", "while_statement", "for_in_statement", "switch_statement"):
            part = stmt.child_by_field_name(field)
            if part is not None:
                return part
    return stmt


def walk_all(node: Node) -> Iterator[Node]:
    """Every named descendant."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(current.named_children)


def apply_edits(data: bytes, edits: list[tuple[int, int, str]]) -> bytes:
    """Apply (start byte, end byte, replacement) edits, last first so earlier offsets stay valid."""
    for start, end, new in sorted(edits, reverse=True):
        data = data[:start] + new.encode() + data[end:]
    return data


def guard_after(data: bytes, statement: Node, condition: str, exit_stmt: str) -> str | None:
    """``if (condition) { exit }`` to insert right after ``statement``, indented like it (one step deeper inside);
    None when the statement does not start its own line."""
    line_start = data.rfind(b"\n", 0, statement.start_byte) + 1
    indent = data[line_start : statement.start_byte].decode()
    if indent.strip():
        return None
    step = "\t" if "\t" in indent else "  "
    body = exit_stmt.replace("\n", f"\n{indent}{step}")
    return f"\n{indent}if ({condition}) {{\n{indent}{step}{body}\n{indent}}}"


def checked_edit(
    path: str, new_text: str, *, description: str, guarded: str, strategy: FixStrategy = FixStrategy.NULL_GUARD
) -> TemplateEdit | None:
    """The template edit of ``path``, or None when the rewritten file does not parse without errors (every
    TypeScript template ends this way)."""
    if not parses_cleanly(new_text, path):
        return None
    return TemplateEdit(path=path, new_text=new_text, strategy=strategy, description=description, guarded=guarded)
