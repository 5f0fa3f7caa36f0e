"""Hunks of a suspect commit, for reverts finer than a whole file.

``git diff -U0`` of the suspect commit gives hunks in both files' coordinates. Two partial reverts
work from them: reverting only the hunks that overlap the fault lines, and re-inserting a guard
(``if ...`` block) the commit removed next to the fault while keeping the rest of its change.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field

__all__ = ["Hunk", "defines_function", "hunks_patch", "is_entry_point", "overlapping", "parse_hunks", "removed_guard"]

_HEADER = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")


@dataclass
class Hunk:
    """One ``-U0`` hunk: where it sits in the old and new file and its lines."""

    header: str
    old_start: int
    old_len: int
    new_start: int
    new_len: int
    removed: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    body: list[str] = field(default_factory=list)


def parse_hunks(diff: str) -> tuple[list[str], list[Hunk]]:
    """(file header lines, hunks) of a single-file unified diff."""
    header: list[str] = []
    hunks: list[Hunk] = []
    for line in diff.splitlines():
        match = _HEADER.match(line)
        if match:
            old_len = int(match.group(2)) if match.group(2) is not None else 1
            new_len = int(match.group(4)) if match.group(4) is not None else 1
            hunks.append(Hunk(line, int(match.group(1)), old_len, int(match.group(3)), new_len))
        elif hunks:
            hunk = hunks[-1]
            hunk.body.append(line)
            if line.startswith("-"):
                hunk.removed.append(line[1:])
            elif line.startswith("+"):
                hunk.added.append(line[1:])
        else:
            header.append(line)
    return header, hunks


def overlapping(hunks: list[Hunk], first: int, last: int) -> list[Hunk]:
    """Hunks whose new-file lines touch ``first..last`` (one line of slack either side)."""
    out = []
    for hunk in hunks:
        start = hunk.new_start
        end = hunk.new_start + max(hunk.new_len, 1) - 1
        if start <= last + 1 and end >= first - 1:
            out.append(hunk)
    return out


def hunks_patch(header: list[str], hunks: list[Hunk]) -> str:
    """A patch of ``hunks`` only (apply with ``--unidiff-zero``)."""
    lines = list(header)
    for hunk in hunks:
        lines.append(hunk.header)
        lines.extend(hunk.body)
    return "\n".join(lines) + "\n"


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def removed_guard(hunk: Hunk) -> list[str] | None:
    """The ``if`` block (with its body) the hunk removed, or None."""
    lines = hunk.removed
    for i, line in enumerate(lines):
        stripped = line.strip()
        if not re.match(r"^if\b|^if\s*\(", stripped):
            continue
        if stripped.endswith("{") or "{" in stripped:
            depth, block = 0, []
            for candidate in lines[i:]:
                block.append(candidate)
                depth += candidate.count("{") - candidate.count("}")
                if depth <= 0:
                    return block
            return None
        if stripped.endswith(":"):  # Python: the indented lines below belong to the block
            block = [line]
            for candidate in lines[i + 1 :]:
                if candidate.strip() and _indent(candidate) <= _indent(line):
                    break
                block.append(candidate)
            return block if len(block) > 1 else None
        if stripped.endswith(";"):  # one-line `if (x) return y;`
            return [line]
    return None


_ENTRY_DECORATORS = frozenset(
    {"get", "post", "put", "patch", "delete", "head", "options", "route", "api_route", "websocket", "task", "shared_task"}
)
_ROUTE_TABLES = frozenset({"Route", "WebSocketRoute", "add_url_rule", "add_api_route", "add_route"})
_TS_ROUTE_EXPORT = re.compile(r"^(?:GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS)$")


def _python_def(text: str, short: str) -> re.Match[str] | None:
    return re.search(rf"^[ \t]*(?:async\s+)?def\s+{short}\s*\(", text, re.M)


def defines_function(text: str, name: str, *, python: bool) -> bool:
    """True when ``text`` defines the function ``name`` (its last dotted part; JS/TS: a function, method or
    arrow bound to it)."""
    short = re.escape(name.rsplit(".", 1)[-1])
    if python:
        return _python_def(text, short) is not None
    pattern = (
        rf"\bfunction\s*\*?\s*{short}\s*[(<]|\b(?:const|let|var)\s+{short}\s*[=:]"
        rf"|^\s*(?:async\s+|static\s+|public\s+|private\s+)*{short}\s*\("
    )
    return re.search(pattern, text, re.M) is not None


def is_entry_point(text: str, name: str, *, python: bool) -> bool:
    """True when the function ``name`` in ``text`` is where a request or job enters the code: a Python function under
    a route or task decorator (``@app.get``, ``@router.post``, ``@app.task``) or named in a route table
    (``Route("/x", name)``), a Next.js route export (``GET``, ``POST``)."""
    short = name.rsplit(".", 1)[-1]
    if not python:
        return bool(_TS_ROUTE_EXPORT.match(short)) and defines_function(text, short, python=False)
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return False
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == short:
            for deco in node.decorator_list:
                target = deco.func if isinstance(deco, ast.Call) else deco
                word = target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", "")
                if word in _ENTRY_DECORATORS:
                    return True
        if isinstance(node, ast.Call):
            func = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            values = (*node.args, *(k.value for k in node.keywords))
            if func in _ROUTE_TABLES and any(isinstance(v, ast.Name) and v.id == short for v in values):
                return True
    return False
