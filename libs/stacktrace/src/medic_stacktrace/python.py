"""Parse Python tracebacks as CPython prints them (3.8 to 3.13).

Handles chained exceptions ("During handling of the above exception, another exception
occurred:" and "The above exception was the direct cause of the following exception:"),
``ExceptionGroup`` boxes (``+ Exception Group Traceback``, ``+-+---- 1 ----`` members, nested
groups), ``SyntaxError`` locations (``File "x.py", line 3`` with a caret and no function), caret
and ``~~~^^^`` marker lines, ``[Previous line repeated N more times]``, ANSI colours, and log
prefixes before ``Traceback``. Text that is not a traceback yields an empty trace, never an error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from medic_contracts import StackFrame

from .chain import ExceptionNode, flatten, main_exception_index
from .inapp import DEFAULT_IN_APP_RULES, InAppRules
from .model import ChainRelation, ParsedTrace, TraceLanguage
from .text import clean_lines

__all__ = ["looks_like_python", "parse_python_traceback"]

_TRACEBACK = re.compile(r"(?:^|\s)Traceback \(most recent call last\):\s*$")
_GROUP_TRACEBACK = re.compile(r"^Exception Group Traceback \(most recent call last\):\s*$")
_BOX_HEADER = re.compile(r"^(?P<indent> *)\+ Exception Group Traceback \(most recent call last\):\s*$")
_FILE = re.compile(r'^(?P<indent>\s*)File "(?P<file>[^"]*)", line (?P<line>-?\d+)(?:, in (?P<func>.+))?$')  # on rstripped lines
_CAUSE = "The above exception was the direct cause of the following exception:"
_CONTEXT = "During handling of the above exception, another exception occurred:"
_REPEATED = re.compile(r"^\s*\[Previous line repeated \d+ more times?\]\s*$")
_CARETS = re.compile(r"^\s*[\^~\-]+\s*$")
_EXCEPTION = re.compile(r"^(?P<name>[A-Za-z_][\w]*(?:\.[A-Za-z_][\w]*)*)(?::(?: (?P<value>.*))?)?$")
_SUB_EXCEPTIONS = re.compile(r"\(\d+ sub-exceptions?\)$")
_MAX_VALUE = 8192


def looks_like_python(text: str) -> bool:
    """True when ``text`` contains a CPython traceback header or frame line."""
    return "Traceback (most recent call last)" in text or any(
        _FILE.match(line.rstrip()) for line in clean_lines(text) if "File" in line
    )


@dataclass
class _Block:
    """One exception being read: frames, then the ``Type: message`` line(s)."""

    frames: list[dict[str, Any]] = field(default_factory=list)  # StackFrame fields, built at close
    frame_indent: int = 0
    node: ExceptionNode | None = None
    is_group_traceback: bool = False
    message_open: bool = False
    members: list[ExceptionNode] = field(default_factory=list)


@dataclass
class _Item:
    """A line of one nesting level, or the members of a group that follow it."""

    text: str
    members: list[ExceptionNode] | None = None


def _exception_from_line(line: str) -> ExceptionNode | None:
    match = _EXCEPTION.match(line.strip())
    if match is None:
        return None
    name = match.group("name")
    module, _, type_name = name.rpartition(".")
    value = match.group("value") or ""
    is_group = False
    if _SUB_EXCEPTIONS.search(value):
        value = _SUB_EXCEPTIONS.sub("", value).rstrip()
        is_group = True
    return ExceptionNode(type=type_name, value=value, module=module or None, is_group=is_group)


class _LevelParser:
    """Reads the lines of one nesting level (the top, or one group member) into a chain."""

    def __init__(self, rules: InAppRules) -> None:
        self.rules = rules
        self.chain: list[tuple[ExceptionNode, ChainRelation | None]] = []
        self.block: _Block | None = None
        self.pending_relation: ChainRelation | None = None
        self.expect_exception = True  # at the start and after a chain separator
        self.saw_traceback = False  # a lone "Name: text" line is not a Python traceback

    def _frame(self, match: re.Match[str]) -> dict[str, Any]:
        file = match.group("file")
        line = int(match.group("line"))
        return {"file": file, "function": match.group("func"), "line": line if line > 0 else None, "context_line": None}

    def _build(self, fields: dict[str, Any]) -> StackFrame:
        return StackFrame(**fields, in_app=self.rules.is_in_app(fields["file"]))

    def _close(self) -> None:
        block = self.block
        self.block = None
        if block is None:
            return
        node = block.node
        if node is None:
            if not block.frames:
                return
            # frames without an exception line (a truncated log): keep the frames under an unknown type
            node = ExceptionNode(type="UnknownError")
        node.frames = [self._build(f) for f in block.frames]
        node.value = node.value.rstrip("\n")[:_MAX_VALUE]
        if block.is_group_traceback:
            node.is_group = True
        if block.members:
            node.members = block.members
            node.is_group = True
        self.chain.append((node, self.pending_relation))
        self.pending_relation = None

    def feed(self, item: _Item) -> None:
        if item.members is not None:
            self.saw_traceback = True
            # members belong to the group exception whose line was read last
            if self.block is not None and self.block.node is not None:
                self.block.members.extend(item.members)
                self.block.message_open = False
            elif self.chain:
                last, _ = self.chain[-1]
                last.members.extend(item.members)
                last.is_group = True
            return
        line = item.text
        stripped = line.strip()
        if stripped in (_CAUSE, _CONTEXT):
            self._close()
            self.saw_traceback = True
            self.pending_relation = ChainRelation.CAUSE if stripped == _CAUSE else ChainRelation.CONTEXT
            self.expect_exception = True
            return
        if _GROUP_TRACEBACK.match(stripped) or _TRACEBACK.search(line):
            self._close()
            self.saw_traceback = True
            self.block = _Block(is_group_traceback=_GROUP_TRACEBACK.match(stripped) is not None)
            self.expect_exception = False
            return
        file_match = _FILE.match(line.rstrip())
        if file_match is not None:
            self.saw_traceback = True
            if self.block is None or self.block.node is not None:
                self._close()
                self.block = _Block()
            self.block.frames.append(self._frame(file_match))
            self.block.frame_indent = len(file_match.group("indent"))
            return
        if _REPEATED.match(line) or (not stripped and self.block is None):
            return
        block = self.block
        if block is not None and block.node is None:
            if not stripped:
                return
            if _CARETS.match(line):
                return
            indent = len(line) - len(line.lstrip())
            if block.frames and indent > block.frame_indent:
                if block.frames[-1]["context_line"] is None:
                    block.frames[-1]["context_line"] = stripped
                return  # later source lines of a multi-line statement (3.13) add nothing
            node = _exception_from_line(line)
            if node is not None:
                block.node = node
                block.message_open = True
            return
        if block is not None and block.node is not None:
            if block.message_open and stripped:
                if len(block.node.value) < _MAX_VALUE:  # bounded: no quadratic growth on huge messages
                    block.node.value = f"{block.node.value}\n{line}" if block.node.value else line
                return
            block.message_open = False
            return
        # no open block: an exception printed without a traceback (a chain member, a group member)
        if self.expect_exception and stripped:
            node = _exception_from_line(line)
            if node is not None:
                self.block = _Block(node=node, message_open=True)
                self.expect_exception = False

    def finish(self, *, nested: bool = False) -> ExceptionNode | None:
        self._close()
        if not self.chain or not (self.saw_traceback or nested):
            return None
        newest: ExceptionNode | None = None
        for node, relation in self.chain:
            if newest is not None and relation is not None:
                node.older = newest
                node.older_relation = relation
            newest = node
        return newest


def _parse_members(lines: list[str], start: int, column: int, rules: InAppRules) -> tuple[int, list[ExceptionNode]]:
    """Read group members whose boxes sit at ``column``; ``lines[start]`` is the ``+-+---`` opener."""
    members: list[ExceptionNode] = []
    i = start + 1
    pad = " " * column
    while i < len(lines):
        i, items = _collect_level(lines, i, column, rules)
        member = _parse_items(items, rules, nested=True)
        if member is not None:
            members.append(member)
        if i >= len(lines):
            break
        separator = lines[i]
        if not separator.startswith(pad + "+-"):
            break
        i += 1
        if re.fullmatch(r"\+-+", separator.strip()):
            break  # the closing +------ line
    return i, members


def _collect_level(lines: list[str], start: int, column: int, rules: InAppRules) -> tuple[int, list[_Item]]:
    """The items of one boxed level: ``|``-prefixed lines at ``column`` and nested member blocks."""
    pad = " " * column
    items: list[_Item] = []
    i = start
    while i < len(lines):
        line = lines[i]
        if i == start and line.startswith(pad + "+ Exception Group Traceback"):
            items.append(_Item("Exception Group Traceback (most recent call last):"))
            i += 1
            continue
        if line.startswith(pad + "|"):
            items.append(_Item(line[column + 2 :] if len(line) > column + 1 else ""))
            i += 1
            continue
        if line.startswith(pad + "+-+"):
            i, members = _parse_members(lines, i, column + 2, rules)
            items.append(_Item("", members=members))
            continue
        break
    return i, items


def _parse_items(items: list[_Item], rules: InAppRules, *, nested: bool = False) -> ExceptionNode | None:
    parser = _LevelParser(rules)
    for item in items:
        parser.feed(item)
    return parser.finish(nested=nested)


def parse_python_traceback(text: str, *, rules: InAppRules = DEFAULT_IN_APP_RULES) -> ParsedTrace:
    """Parse a CPython traceback (with chains and exception groups) into a :class:`ParsedTrace`."""
    lines = clean_lines(text)
    items: list[_Item] = []
    i = 0
    while i < len(lines):
        box = _BOX_HEADER.match(lines[i])
        if box is not None:
            i, boxed = _collect_level(lines, i, len(box.group("indent")), rules)
            items.extend(boxed)
            continue
        items.append(_Item(lines[i]))
        i += 1
    root = _parse_items(items, rules)
    if root is None:
        return ParsedTrace(language=TraceLanguage.PYTHON, platform="python")
    exceptions = flatten(root)
    return ParsedTrace(
        language=TraceLanguage.PYTHON,
        exceptions=exceptions,
        main_index=main_exception_index(exceptions),
        platform="python",
    )
