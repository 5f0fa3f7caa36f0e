"""TypeScript inputs for the reproduce step's search (:mod:`.input_search`): argument lists built from the crashing
function's declared parameter types, and from the project's own test calls of it.

An object parameter of a type the module declares (an interface, ``type X = { … }``, an inline ``{ … }``, or one
imported from a sibling module) is tried with its required members only: the shape a caller's object has when an
optional member is absent. A test call (``releaseNotes("2.4.0", [{ title: "Faster search", pr: 412, mergedAt:
"2026-03-02" }], new Date("2026-03-04"), …)``) gives realistic values for the members that must be valid (a
date string that is parsed, a code a table knows); its objects are tried with their optional members left out,
together and one at a time. JSON has no dates: a ``Date`` is the :data:`DATE_MARKER` object ``{"$date": iso}``,
which the harness and the regression test revive.
"""

from __future__ import annotations

import itertools
import posixpath
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from .fixers.typescript.syntax import parse, text_of, walk_all
from .fixers.typescript.types import object_members
from .input_search import MAX_CANDIDATES, UNKNOWN, bounded, message_literals
from .ts_literals import DATE_MARKER

__all__ = ["declared_objects", "imported_modules", "typescript_candidates"]


def _split_top(text: str, sep: str) -> list[str]:
    """``text`` split on ``sep`` outside brackets and quotes."""
    parts: list[str] = []
    current: list[str] = []
    depth, quote = 0, ""
    for ch in text:
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "\"'`":
            quote = ch
        elif ch in "<([{":
            depth += 1
        elif ch in ">)]}":
            depth -= 1
        elif ch == sep and depth == 0:
            parts.append("".join(current))
            current = []
            continue
        current.append(ch)
    parts.append("".join(current))
    return [p.strip() for p in parts if p.strip()]


def type_aliases(text: str) -> dict[str, str]:
    """``type X = …;`` and ``interface X {…}`` declared in a module (an interface reads as an object type)."""
    aliases = {m.group(1): m.group(2).strip() for m in re.finditer(r"\btype\s+([A-Z]\w*)\s*(?:<[^=]*>)?\s*=\s*([^;]+);", text)}
    for match in re.finditer(r"\binterface\s+([A-Z]\w*)", text):
        aliases.setdefault(match.group(1), "{}")
    return aliases


_SOME_DATE = {DATE_MARKER: "2026-01-01T00:00:00.000Z"}
_OMIT = object()  # a member that may be left out (optional, or admitting undefined)


@dataclass(frozen=True, slots=True)
class _Types:
    """What the module declares: aliases as text, and the members of its object types (interfaces, ``type X = {…}``)."""

    aliases: dict[str, str]
    objects: dict[str, dict[str, str]]
    path: str

    def members(self, declared: str) -> dict[str, str] | None:
        """The members of a declared object type: a name declared in the module, or an inline ``{ … }``."""
        if declared in self.objects:
            return self.objects[declared]
        if declared.startswith("{") and declared.endswith("}"):
            return declared_objects(f"type MedicInline = {declared};", self.path).get("MedicInline")
        return None


def imported_modules(text: str, path: str) -> list[list[str]]:
    """For each relative import of a module (``import { T } from "./types"``), the repository paths it may name,
    in resolution order (``src/types.ts``, ``src/types.tsx``, ``src/types.d.ts``, ``src/types/index.ts``)."""
    base = PurePosixPath(path).parent
    found: list[list[str]] = []
    for node in parse(text, path).named_children:
        source = node.child_by_field_name("source") if node.type == "import_statement" else None
        spec = text_of(source).strip("'\"`") if source is not None else ""
        if not spec.startswith(("./", "../")):
            continue
        target = posixpath.normpath(str(base / spec))
        if target.startswith("../"):
            continue  # outside the repository
        stem = re.sub(r"\.(?:js|mjs|ts|tsx)$", "", target)
        found.append([f"{stem}.ts", f"{stem}.tsx", f"{stem}.d.ts", f"{stem}/index.ts"])
    return found


def declared_objects(text: str, path: str) -> dict[str, dict[str, str]]:
    """Name → members (name → declared type, an optional member admitting ``undefined``) of every interface and
    object-type alias of a module, read from its syntax tree."""
    found: dict[str, dict[str, str]] = {}
    for node in walk_all(parse(text, path)):
        if node.type == "interface_declaration":
            name, body = node.child_by_field_name("name"), node.child_by_field_name("body")
        elif node.type == "type_alias_declaration":
            name, body = node.child_by_field_name("name"), node.child_by_field_name("value")
            body = body if body is not None and body.type == "object_type" else None
        else:
            continue
        if name is not None and body is not None:
            found.setdefault(text_of(name), object_members(body))
    return found


def _typical(declared: str, types: _Types, depth: int) -> Any:
    """A plain value of a required member's type (a string, 1, false, a date, the minimal object); ``_OMIT`` when
    the type admits ``undefined``."""
    if _admits_undefined(declared):
        return _OMIT
    parts = [p for p in _split_top(declared.strip(), "|") if p != "null"] or ["null"]
    t = parts[0]
    if t in types.aliases and depth < 4:
        return _typical(types.aliases[t], types, depth + 1)
    if t == "string":
        return UNKNOWN
    if t in ("number", "bigint"):
        return 1
    if t == "boolean":
        return False
    if t == "Date":
        return dict(_SOME_DATE)
    if re.fullmatch(r"\"[^\"]*\"|'[^']*'", t):
        return t[1:-1]
    if _element(t) is not None:
        return []
    members = types.members(t) if depth < 4 else None
    return _minimal(members, types, depth + 1) if members is not None else None


def _minimal(members: dict[str, str], types: _Types, depth: int) -> dict[str, Any]:
    """The object a caller writes with its required members only: the shape an optional member's absence has."""
    values = {name: _typical(declared, types, depth) for name, declared in members.items()}
    return {name: value for name, value in values.items() if value is not _OMIT}


def _element(declared: str) -> str | None:
    """The element type of ``T[]`` / ``Array<T>`` / ``ReadonlyArray<T>`` (None for another type)."""
    if declared.endswith("[]"):
        inner = declared[:-2].strip()
        return inner[1:-1].strip() if inner.startswith("(") and inner.endswith(")") else inner
    match = re.fullmatch(r"(?:Readonly)?Array<(.+)>", declared)
    return match.group(1).strip() if match else None


def _ts_pool(declared: str, types: _Types, strings: list[str], numbers: list[float], depth: int = 0) -> list[Any]:
    """JSON values for a parameter of this declared type (edge values first)."""
    t = declared.strip()
    if not t:
        return [None, "", 0, [], {}]
    if depth < 4 and t in types.aliases:
        return _ts_pool(types.aliases[t], types, strings, numbers, depth + 1)
    union = _split_top(t, "|")
    if len(union) > 1:
        return list(_unique(v for part in union for v in _ts_pool(part, types, strings, numbers, depth + 1)))
    if t in ("null", "undefined", "void"):
        return [None]
    if t.startswith("readonly "):
        t = t[len("readonly ") :].strip()
    element = _element(t)
    if element is not None:
        members = types.members(types.aliases.get(element, element)) if depth < 4 else None
        return list(_unique([[], *([[_minimal(members, types, depth + 1)]] if members else []), [None], [{}]]))
    if re.fullmatch(r"\"[^\"]*\"|'[^']*'", t):
        return [t[1:-1]]
    if t == "string":
        return list(_unique(["", *strings, UNKNOWN]))
    if t in ("number", "bigint"):
        return list(_unique([0, -1, *numbers, 1]))
    if t == "boolean":
        return [False, True]
    if t == "Date":
        return [dict(_SOME_DATE), None]
    members = types.members(t) if depth < 4 else None
    if members:  # an object type of the module: its required members only, empty, or nothing at all
        return list(_unique([_minimal(members, types, depth + 1), {}, None]))
    return [{}, None]  # a record, a class, a type declared elsewhere: empty, or nothing at all


def _unique(values: Iterable[Any]) -> Iterable[Any]:
    seen: list[Any] = []
    for value in values:
        if not any(type(value) is type(s) and value == s for s in seen):
            seen.append(value)
            yield value


def typescript_candidates(
    params: list[tuple[str, str]],
    module_text: str,
    message: str,
    *,
    path: str = "module.ts",
    declarations: str = "",
    test_calls: Iterable[list[Any]] = (),
) -> list[list[Any]]:
    """Argument lists (JSON values) to try for a function with these (name, declared type) parameters.

    The project's ``test_calls`` come first, each with its objects' optional members left out (all of them, then
    one at a time); then the typed edge values. The module's own types (and ``declarations``: the text of the
    modules it imports types from) say what an object parameter holds."""
    strings, numbers = message_literals(message)
    texts = [t for t in (module_text, declarations) if t]
    objects: dict[str, dict[str, str]] = {}
    for text in texts:
        for name, members in declared_objects(text, path).items():
            objects.setdefault(name, members)
    aliases = {name: value for name, value in type_aliases("\n".join(texts)).items() if name not in objects}
    types = _Types(aliases, objects, path)
    found: list[list[Any]] = []
    seen: set[str] = set()

    def add(arguments: list[Any]) -> None:
        key = repr(arguments)
        if key not in seen and len(found) < MAX_CANDIDATES:
            seen.add(key)
            found.append(arguments)

    declared = [d for _, d in params]
    for call in list(test_calls)[:_MAX_CALLS]:
        if len(call) > len(params):
            continue  # a call the signature does not take (a rest or a newer parameter list)
        add([_required_only(v, d, types, 0) for v, d in zip(call, declared, strict=False)])
        for position, (value, kind) in enumerate(zip(call, declared, strict=False)):
            for dropped in itertools.islice(_single_drops(value, kind, types, 0), _MAX_DROPS):
                add([*call[:position], dropped, *call[position + 1 :]])
    pools = [_ts_pool(d, types, strings, [int(n) if n == int(n) else n for n in numbers]) for d in declared]
    for arguments in bounded(pools):
        add(arguments)
    return found


_MAX_CALLS = 8  # test calls read
_MAX_DROPS = 16  # one-member-left-out variants of one argument


def _admits_undefined(declared: str) -> bool:
    return any(part in ("undefined", "void") for part in _split_top(declared, "|"))


def _shape(declared: str, types: _Types) -> tuple[str | None, dict[str, str] | None]:
    """A declared type's array element type, or its object members (null and undefined set aside)."""
    parts = [p for p in _split_top(declared.strip(), "|") if p not in ("null", "undefined", "void")]
    if len(parts) != 1:
        return None, None
    t = types.aliases.get(parts[0], parts[0])
    t = t[len("readonly ") :].strip() if t.startswith("readonly ") else t
    element = _element(t)
    return (element, None) if element is not None else (None, types.members(t))


def _required_only(value: Any, declared: str, types: _Types, depth: int) -> Any:
    """``value`` with every optional member of its declared object types left out, at any depth."""
    element, members = _shape(declared, types) if depth < 6 else (None, None)
    if element is not None and isinstance(value, list):
        return [_required_only(v, element, types, depth + 1) for v in value]
    if members is not None and isinstance(value, dict):
        kept = {k: v for k, v in value.items() if not (k in members and _admits_undefined(members[k]))}
        return {k: _required_only(v, members[k], types, depth + 1) if k in members else v for k, v in kept.items()}
    return value


def _single_drops(value: Any, declared: str, types: _Types, depth: int) -> Iterator[Any]:
    """Copies of ``value``, each with one optional member of a declared object type left out."""
    element, members = _shape(declared, types) if depth < 6 else (None, None)
    if element is not None and isinstance(value, list):
        for index, item in enumerate(value):
            for dropped in _single_drops(item, element, types, depth + 1):
                yield [*value[:index], dropped, *value[index + 1 :]]
    elif members is not None and isinstance(value, dict):
        for key, item in value.items():
            if key in members and _admits_undefined(members[key]):
                yield {k: v for k, v in value.items() if k != key}
            elif key in members:
                for dropped in _single_drops(item, members[key], types, depth + 1):
                    yield {**value, key: dropped}
