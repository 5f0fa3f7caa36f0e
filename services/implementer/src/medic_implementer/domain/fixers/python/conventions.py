"""The code's own conventions for an early exit: its sibling exits, and what its return annotation allows.

An early exit a fix adds copies the exits the code already has, not a framework default: the failing
function's own 4xx raises and returns first (``raise HTTPException(status_code=404, detail=...)``,
``return JSONResponse({"error": ...}, status_code=404)``, ``return {"status": 404, "body": {...}}``,
``return {"error": ...}, 404``, ``abort(404, ...)``), then those of the module's other handlers. The copy
keeps the sibling's shape and changes only its status (by kind: 404 for a missing entity, the sibling's
own 400/422 for bad input) and its message. Outside a handler, ``return None`` is only written where the
declared return type admits ``None``.
"""

from __future__ import annotations

import ast
import json
from dataclasses import dataclass

from .source import walk_no_nested

__all__ = [
    "SiblingExit",
    "admits_none",
    "checked_keys",
    "copy_exit",
    "message_in",
    "optional_key",
    "pick_exit",
    "quoted_like",
    "reindent",
    "sibling_exits",
]

_Function = ast.FunctionDef | ast.AsyncFunctionDef
_STATUS_KEYS = ("status_code", "status", "code", "statusCode")
_MESSAGE_KEYS = ("detail", "description", "message", "error", "msg", "reason", "content", "body")
MISSING_STATUSES = frozenset({404, 410})
BAD_INPUT_STATUSES = frozenset({400, 422})


@dataclass(frozen=True, slots=True)
class SiblingExit:
    """A 4xx exit the code already takes: the statement, its status literal and its message literal."""

    statement: ast.Return | ast.Raise
    status: int
    status_node: ast.Constant
    message_node: ast.expr | None  # a str constant or an f-string, when the exit carries a message

    @property
    def kind(self) -> str:
        """ "missing" (404/410), "input" (400/422) or "other"."""
        if self.status in MISSING_STATUSES:
            return "missing"
        return "input" if self.status in BAD_INPUT_STATUSES else "other"


def _int(node: ast.expr | None) -> ast.Constant | None:
    if not isinstance(node, ast.Constant):
        return None
    value = node.value
    return node if isinstance(value, int) and not isinstance(value, bool) and 400 <= value <= 499 else None


def message_in(node: ast.expr | None) -> ast.expr | None:
    """The message literal inside ``node``: itself, the first message-like value of a dict, recursively."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node
    if isinstance(node, ast.JoinedStr):
        return node
    if isinstance(node, ast.Dict):
        pairs = [(k.value if isinstance(k, ast.Constant) else None, v) for k, v in zip(node.keys, node.values, strict=True)]
        for key, value in sorted(pairs, key=lambda p: 0 if p[0] in _MESSAGE_KEYS else 1):
            found = message_in(value)
            if found is not None and key not in _STATUS_KEYS:
                return found
    if isinstance(node, ast.Call):
        for kw in node.keywords:
            if kw.arg in _MESSAGE_KEYS and (found := message_in(kw.value)) is not None:
                return found
        for arg in node.args:
            if (found := message_in(arg)) is not None:
                return found
    return None


def _call_status(call: ast.Call) -> ast.Constant | None:
    for kw in call.keywords:
        if kw.arg in _STATUS_KEYS and (found := _int(kw.value)) is not None:
            return found
    for arg in call.args[:2]:
        if (found := _int(arg)) is not None:
            return found
    return None


def _dict_status(node: ast.Dict) -> ast.Constant | None:
    for key, value in zip(node.keys, node.values, strict=True):
        if isinstance(key, ast.Constant) and key.value in _STATUS_KEYS and (found := _int(value)) is not None:
            return found
    return None


def _read_exit(stmt: ast.stmt) -> SiblingExit | None:
    value = stmt.exc if isinstance(stmt, ast.Raise) else stmt.value if isinstance(stmt, ast.Return) else None
    if value is None or not isinstance(stmt, ast.Return | ast.Raise):
        return None
    status: ast.Constant | None = None
    body: ast.expr | None = value
    if isinstance(value, ast.Call):
        status = _call_status(value)
    elif isinstance(value, ast.Dict):
        status = _dict_status(value)
    elif isinstance(value, ast.Tuple) and len(value.elts) == 2 and isinstance(stmt, ast.Return):
        status, body = _int(value.elts[1]), value.elts[0]  # Flask: return body, 404
    if status is None:
        return None
    return SiblingExit(statement=stmt, status=int(str(status.value)), status_node=status, message_node=message_in(body))


def _exits_in(fn: _Function) -> list[SiblingExit]:
    found = [e for node in walk_no_nested(fn) if isinstance(node, ast.stmt) and (e := _read_exit(node)) is not None]
    return sorted(found, key=lambda e: e.statement.lineno)


def sibling_exits(fn: _Function, handlers: tuple[_Function, ...]) -> list[SiblingExit]:
    """The 4xx exits the code already takes: ``fn``'s own first, then those of the module's other handlers."""
    return _exits_in(fn) + [e for h in handlers if h is not fn for e in _exits_in(h)]


def pick_exit(exits: list[SiblingExit], kind: str) -> SiblingExit | None:
    """The sibling to copy for an exit of ``kind`` ("missing" or "input"): the first of that kind, else the first."""
    same = [e for e in exits if e.kind == kind]
    if same:
        return same[0]
    return exits[0] if exits else None


def quoted_like(text: str, like: str) -> str:
    """``text`` as a string literal quoted the way ``like`` (the sibling's literal) is."""
    quote = "'" if like.lstrip("rbfuRBFU").startswith("'") else '"'
    body = json.dumps(text)[1:-1]
    if quote == "'":
        body = body.replace('\\"', '"').replace("'", "\\'")
    return f"{quote}{body}{quote}"


def copy_exit(sibling: SiblingExit, text: str, *, status: int, message: str, indent: str) -> str:
    """The sibling's exit statement with ``status`` and ``message`` put in, re-indented for ``indent``.

    A message that is an identifier-like code (``"not_found"``) is kept when the status stays the same kind.
    """
    lines = text.splitlines(keepends=True)
    stmt = sibling.statement

    def offset(line: int, col: int) -> int:
        return sum(len(x) for x in lines[: line - 1]) + len(lines[line - 1].encode()[:col].decode("utf-8", "replace"))

    start = offset(stmt.lineno, stmt.col_offset)
    end = offset(stmt.end_lineno or stmt.lineno, stmt.end_col_offset or 0)
    edits: list[tuple[int, int, str]] = []
    node = sibling.status_node
    if sibling.status != status:
        edits.append(
            (offset(node.lineno, node.col_offset), offset(node.end_lineno or node.lineno, node.end_col_offset or 0), str(status))
        )
    msg = sibling.message_node
    if msg is not None:
        old = ast.get_source_segment(text, msg) or ""
        literal = msg.value if isinstance(msg, ast.Constant) and isinstance(msg.value, str) else None
        is_code = literal is not None and literal.replace("_", "").isalnum() and literal.islower()
        same_kind = (status in MISSING_STATUSES) == (sibling.status in MISSING_STATUSES)
        if not (is_code and same_kind):
            if literal is not None and literal[:1].islower():
                message = message[:1].lower() + message[1:]  # the sibling's case style
            edits.append(
                (
                    offset(msg.lineno, msg.col_offset),
                    offset(msg.end_lineno or msg.lineno, msg.end_col_offset or 0),
                    quoted_like(message, old or '"'),
                )
            )
    out = text[start:end]
    for s, e, new in sorted(edits, reverse=True):
        out = out[: s - start] + new + out[e - start :]
    return reindent(out, lines[stmt.lineno - 1], indent)


def reindent(statement: str, first_line: str, indent: str) -> str:
    """A statement's text copied from the line ``first_line`` with its continuation lines moved to ``indent``."""
    own = first_line[: len(first_line) - len(first_line.lstrip())]
    first, *rest = statement.split("\n")
    moved = [indent + line[len(own) :] if line.startswith(own) else line for line in rest]
    return "\n".join([first, *moved])


def admits_none(fn: _Function) -> bool | None:
    """Whether ``fn``'s declared return type admits ``None`` (None: no annotation, so nothing is declared)."""
    ann = fn.returns
    if ann is None:
        return None
    return _admits(ann)


def _admits(ann: ast.expr) -> bool:
    if isinstance(ann, ast.Constant):
        if ann.value is None:
            return True
        if isinstance(ann.value, str):  # a string annotation
            try:
                return _admits(ast.parse(ann.value, mode="eval").body)
            except SyntaxError:
                return False
        return False
    if isinstance(ann, ast.Name):
        return ann.id in ("None", "Any", "object", "NoneType")
    if isinstance(ann, ast.Attribute):
        return ann.attr in ("Any", "NoneType")
    if isinstance(ann, ast.BinOp) and isinstance(ann.op, ast.BitOr):
        return _admits(ann.left) or _admits(ann.right)
    if isinstance(ann, ast.Subscript):
        base = ann.value.id if isinstance(ann.value, ast.Name) else ann.value.attr if isinstance(ann.value, ast.Attribute) else ""
        if base == "Optional":
            return True
        if base == "Union":
            parts = ann.slice.elts if isinstance(ann.slice, ast.Tuple) else [ann.slice]
            return any(_admits(p) for p in parts)
        if base == "Annotated":
            first = ann.slice.elts[0] if isinstance(ann.slice, ast.Tuple) else ann.slice
            return _admits(first)
    return False


def checked_keys(fn: _Function, container: str, text: str) -> set[str]:
    """The literal keys ``fn`` itself tests for in ``container`` (``if "lat" not in payload: ...``): the keys the
    code treats as required, by its own validation."""
    keys: set[str] = set()
    for node in walk_no_nested(fn):
        if not isinstance(node, ast.If) or not any(isinstance(stmt, ast.Raise | ast.Return) for stmt in node.body):
            continue  # only a test that exits early validates a key (``if "k" in d: use(d["k"])`` makes it optional)
        for cmp in ast.walk(node.test):
            if (
                isinstance(cmp, ast.Compare)
                and len(cmp.ops) == 1
                and isinstance(cmp.ops[0], ast.NotIn)
                and isinstance(cmp.left, ast.Constant)
                and isinstance(cmp.left.value, str)
                and (ast.get_source_segment(text, cmp.comparators[0]) or "").replace(" ", "") == container.replace(" ", "")
            ):
                keys.add(cmp.left.value)
    return keys


def optional_key(fn: _Function | None, container: str, key: str | None, text: str) -> bool:
    """True when ``fn`` validates other keys of ``container`` but not ``key``: by the code's own convention the key
    is optional, so its absence is not an error to answer with a 4xx."""
    if fn is None or key is None:
        return False
    checked = checked_keys(fn, container, text)
    return bool(checked) and key not in checked
