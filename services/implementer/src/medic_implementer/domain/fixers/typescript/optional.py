"""An optional field written out unconditionally, where the same code writes its other optional fields only
when they are there.

Code that renders a record (an iCalendar event, a sitemap entry, a CSV row) often writes each optional field
behind its own condition::

    out.push(`<lastmod>${new Date(page.updatedAt).toISOString()}</lastmod>`);   // RangeError: Invalid time value
    if (page.changeFrequency) out.push(`<changefreq>${page.changeFrequency}</changefreq>`);

A record without ``updatedAt`` makes ``new Date(undefined)``, and ``toISOString()`` throws. The code's own
convention for an optional field of the same record written the same way (the sibling statement in the same
block: same receiver object, same call) is to leave the line out when the field is absent, so the fix puts the
failing statement behind the sibling's condition, with this field: ``if (page.updatedAt) out.push(...)``.

Grounded only when: the failing statement is one call (``out.push(...)``) that makes a ``Date`` from exactly one
field of one record; a sibling statement of the same block is ``if (<record>.<other field>...) <the same
call>``; and, when the file declares the record's type, the field is declared optional there. Anything else
gets no fix (a date that must be there is an error to report, not a line to drop).
"""

from __future__ import annotations

from tree_sitter import Node

from ..edits import TemplateEdit
from .syntax import checked_edit, parse, statement_at, text_of, walk_all
from .types import object_members

__all__ = ["optional_field_line"]

_DATE_MAKERS = ("Date", "Date.parse")
_PRESENT_TESTS = {(op, absent) for op in ("!==", "!=") for absent in ("undefined", "null")}  # `x.f !== undefined`


def _call_of(stmt: Node) -> Node | None:
    """The call an expression statement is (``out.push(...)``), else None."""
    if stmt.type != "expression_statement" or not stmt.named_children:
        return None
    call = stmt.named_children[0]
    return call if call.type == "call_expression" else None


def _callee(call: Node) -> str:
    callee = call.child_by_field_name("function")
    return text_of(callee) if callee is not None else ""


def _date_fields(stmt: Node) -> list[Node]:
    """The ``<record>.<field>`` member reads a ``Date`` is made from in ``stmt`` (``new Date(page.updatedAt)``)."""
    found: list[Node] = []
    for node in walk_all(stmt):
        if node.type == "new_expression":
            maker, args = node.child_by_field_name("constructor"), node.child_by_field_name("arguments")
        elif node.type == "call_expression":
            maker, args = node.child_by_field_name("function"), node.child_by_field_name("arguments")
        else:
            continue
        if maker is None or args is None or text_of(maker) not in _DATE_MAKERS or args.named_child_count != 1:
            continue
        arg = args.named_children[0]
        if arg.type == "member_expression" and arg.child_by_field_name("object") is not None:
            found.append(arg)
    return found


def _record_and_field(member: Node) -> tuple[str, str]:
    obj, prop = member.child_by_field_name("object"), member.child_by_field_name("property")
    return (text_of(obj) if obj is not None else ""), (text_of(prop) if prop is not None else "")


def _tested_field(condition: Node, record: str) -> tuple[str, str] | None:
    """(field, form) of a condition testing one field of ``record``: ``(page.x)`` → ("x", "{}"), ``(page.x !==
    undefined)`` → ("x", "{} !== undefined"); None for any other condition."""
    expr = (
        condition.named_children[0]
        if condition.type == "parenthesized_expression" and condition.named_child_count == 1
        else condition
    )
    member, form = expr, "{}"
    if expr.type == "binary_expression":
        left, op, right = (expr.child_by_field_name(f) for f in ("left", "operator", "right"))
        if left is None or op is None or right is None or (text_of(op), text_of(right)) not in _PRESENT_TESTS:
            return None
        member, form = left, "{} " + text_of(op) + " " + text_of(right)
    if member.type != "member_expression":
        return None
    owner, field = _record_and_field(member)
    return (field, form) if owner == record else None


def _sibling_forms(stmt: Node, record: str, callee: str) -> list[tuple[str, str]]:
    """(field, form) of each sibling ``if (<record>.<field>) <callee>(...)`` (no else) in the statement's block."""
    block = stmt.parent
    found: list[tuple[str, str]] = []
    for sibling in block.named_children if block is not None else []:
        if sibling.type != "if_statement" or sibling.child_by_field_name("alternative") is not None:
            continue
        condition, body = sibling.child_by_field_name("condition"), sibling.child_by_field_name("consequence")
        if condition is None or body is None:
            continue
        inner = body.named_children[0] if body.type == "statement_block" and body.named_child_count == 1 else body
        call = _call_of(inner)
        tested = _tested_field(condition, record)
        if call is not None and _callee(call) == callee and tested is not None:
            found.append(tested)
    return found


def _declared_required(root: Node, record_fields: set[str], field: str) -> bool:
    """True when an object type of this file that declares the record's fields declares ``field`` required (not
    ``?``, and no top-level ``undefined`` or ``null`` in its union)."""
    for node in walk_all(root):
        members = object_members(node) if node.type in ("interface_body", "object_type") else {}
        if field in members and record_fields <= members.keys():
            return not {"undefined", "null"} & {part.strip() for part in members[field].split("|")}
    return False


def optional_field_line(text: str, line: int, path: str) -> TemplateEdit | None:
    """The failing statement put behind its sibling's condition for ``<record>.<field>``; None when not grounded."""
    root = parse(text, path)
    stmt = statement_at(root, line - 1)
    if stmt is None:
        return None
    call = _call_of(stmt)
    fields = _date_fields(stmt)
    if call is None or len({text_of(f) for f in fields}) != 1:
        return None
    record, field = _record_and_field(fields[0])
    forms = _sibling_forms(stmt, record, _callee(call))
    tested = {f for f, _ in forms}
    if not forms or field in tested or _declared_required(root, tested, field):
        return None  # no sibling convention, the sibling already tests this field, or the file's type requires it
    # The siblings' own form: a bare truthiness test first, else their comparison (`!== undefined`).
    form = next((f for _, f in forms if f == "{}"), forms[0][1])
    condition = form.format(f"{record}.{field}")
    data = text.encode()
    new_text = (data[: stmt.start_byte] + f"if ({condition}) ".encode() + data[stmt.start_byte :]).decode()
    return checked_edit(
        path,
        new_text,
        description=(
            f"optional field: `{record}.{field}` is written only when present, as the statements beside it "
            f"write {', '.join(sorted(tested))} (a Date of an absent value throws)"
        ),
        guarded=f"{record}.{field}",
    )
