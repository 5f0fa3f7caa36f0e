"""History search for a missing name: which name an error says is missing, and whether a commit removed or
renamed its definition.

The exception text is attacker-controlled: a name is accepted only as a plain ASCII identifier (a module
or object owner only as dotted identifiers), so what reaches ``git log -S`` as an argument is never an
option, a pattern or a path. The decision reads the commit's diff: a *removal* deletes a definition of
the name and adds none back; a *rename* also adds, in the same file, one definition whose line is the
removed one with only the name changed (same signature) and, when the body moved too, the same body.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

__all__ = [
    "FileChange",
    "MissingName",
    "NameVerdict",
    "decide_name_change",
    "is_identifier",
    "missing_name",
    "module_files",
    "parse_commit_diff",
]

_IDENT = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]{0,127}")
_DOTTED = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]{0,127}(?:\.[A-Za-z_$][A-Za-z0-9_$]{0,127}){0,15}")

#: attribute / import: read from a Python module (its file is known); class_attribute: from a class;
#: not_a_function: from a JS/TS object or import alias; export: a named ESM import the module lacks.
MissingKind = Literal["attribute", "class_attribute", "import", "not_a_function", "export"]

# Each: (exception types it applies to, or None for any; the pattern; the kind). Exact engine wordings only.
_MESSAGES: list[tuple[frozenset[str] | None, re.Pattern[str], MissingKind]] = [
    (frozenset({"AttributeError"}), re.compile(r"^module '(?P<owner>[^']+)' has no attribute '(?P<name>[^']+)'"), "attribute"),
    (
        frozenset({"AttributeError"}),
        re.compile(r"^type object '(?P<owner>[^']+)' has no attribute '(?P<name>[^']+)'"),
        "class_attribute",
    ),
    (
        frozenset({"ImportError"}),
        re.compile(r"^cannot import name '(?P<name>[^']+)' from '(?P<owner>[^']+)'"),
        "import",
    ),
    # tsc/esbuild output of a named import call: "(0 , import_seats.formatSeat) is not a function"
    (None, re.compile(r"^\(0\s*,\s*(?P<owner>[^\s()]+)\.(?P<name>[^\s.()]+)\) is not a function$"), "not_a_function"),
    (None, re.compile(r"^(?P<owner>[^\s()]+)\.(?P<name>[^\s.()]+) is not a function$"), "not_a_function"),
    (None, re.compile(r"^(?P<name>[^\s.()]+) is not a function$"), "not_a_function"),
    (
        frozenset({"SyntaxError"}),
        re.compile(r"^The requested module '(?P<owner>[^']+)' does not provide an export named '(?P<name>[^']+)'"),
        "export",
    ),
]


@dataclass(frozen=True, slots=True)
class MissingName:
    """The name an error says is missing, and what it was read from (a module, an object, an import alias)."""

    name: str
    owner: str | None
    kind: MissingKind

    @property
    def module_files(self) -> tuple[str, ...]:
        """The files the definition must have left: the Python module's, when the owner is one; else any file."""
        return module_files(self.owner) if self.kind in ("attribute", "import") else ()


def is_identifier(text: str) -> bool:
    """True for a plain ASCII identifier (Python or JavaScript), at most 128 characters."""
    return _IDENT.fullmatch(text) is not None


def missing_name(exc_type: str, message: str) -> MissingName | None:
    """The missing name of an AttributeError, ImportError, ``x is not a function`` or a missing export; else None.

    None also when the name (or its owner) is not a plain identifier: such text is not searched for.
    """
    short = exc_type.rsplit(".", 1)[-1].strip()
    text = message.strip().splitlines()[0] if message.strip() else ""
    if text.startswith(f"{short}: "):
        text = text[len(short) + 2 :]
    for types, pattern, kind in _MESSAGES:
        if types is not None and short not in types:
            continue
        if kind == "not_a_function" and short not in ("TypeError", ""):
            continue
        match = pattern.match(text)
        if match is None:
            continue
        name = match.group("name")
        owner = match.groupdict().get("owner")
        if not is_identifier(name):
            return None
        if owner is not None and kind != "export" and _DOTTED.fullmatch(owner) is None:
            return None
        if kind == "export":
            owner = None  # a module specifier, not an identifier: never searched for
        return MissingName(name=name, owner=owner, kind=kind)
    return None


def module_files(owner: str | None) -> tuple[str, ...]:
    """Repository-relative files a Python module name can live in (``app.tax`` -> ``app/tax.py``, its package)."""
    if not owner or _DOTTED.fullmatch(owner) is None:
        return ()
    base = owner.replace(".", "/")
    return (f"{base}.py", f"{base}/__init__.py")


@dataclass(frozen=True, slots=True)
class FileChange:
    """One file of a commit's diff, as (prefix, text) lines: prefix is ``-``, ``+`` or `` `` (context)."""

    path: str
    lines: tuple[tuple[str, str], ...]


def parse_commit_diff(diff: str) -> list[FileChange]:
    """The per-file lines of ``git show --format= --no-renames`` output (binary and mode-only entries carry no lines)."""
    out: list[FileChange] = []
    path: str | None = None
    lines: list[tuple[str, str]] = []
    in_hunk = False
    for raw in diff.splitlines():
        if raw.startswith("diff --git "):
            if path is not None:
                out.append(FileChange(path, tuple(lines)))
            path, lines, in_hunk = None, [], False
            continue
        if raw.startswith("+++ ") and not in_hunk:
            target = raw[4:]
            path = target[2:] if target.startswith("b/") else None
            continue
        if raw.startswith("--- ") and not in_hunk:
            if raw[4:].startswith("a/") and path is None:
                path = raw[6:]  # a deleted file: its old path
            continue
        if raw.startswith("@@"):
            in_hunk = True
            continue
        if in_hunk and raw[:1] in ("-", "+", " "):
            lines.append((raw[:1], raw[1:]))
    if path is not None:
        out.append(FileChange(path, tuple(lines)))
    return out


def _definition(name: str) -> re.Pattern[str]:
    n = re.escape(name)
    return re.compile(
        rf"^\s*(?:(?:async\s+)?def\s+{n}\s*\(|class\s+{n}\b|{n}\s*(?::[^=]+)?=(?!=))"  # Python
        rf"|^\s*(?:export\s+)?(?:default\s+)?(?:async\s+)?function\s*\*?\s*{n}\s*[<(]"  # JS/TS function
        rf"|^\s*(?:export\s+)?(?:const|let|var)\s+{n}\s*[:=]"  # JS/TS binding
        rf"|^\s*(?:export\s+)?(?:abstract\s+)?class\s+{n}\b"
        rf"|^\s*export\s*\{{[^}}]*\b{n}\b"  # export { name }
        rf"|^\s*(?:module\.)?exports\.{n}\s*=(?!=)"  # CommonJS
    )


@dataclass(frozen=True, slots=True)
class NameVerdict:
    """What a commit did to a name: removed it, or renamed it (``new_name``), in ``file``; ``clean`` when the
    renamed definition has the same signature and body."""

    removed: bool
    file: str | None = None
    new_name: str | None = None
    clean: bool = False
    reason: str = ""


def _body_after(lines: tuple[tuple[str, str], ...], at: int, prefix: str) -> list[str]:
    """The lines of the same prefix following ``at`` (a definition's body when it moved), up to the next definition."""
    body: list[str] = []
    for sign, text in lines[at + 1 : at + 80]:
        if sign != prefix:
            break
        body.append(text)
    return body


def decide_name_change(changes: list[FileChange], name: str, *, files: tuple[str, ...] = ()) -> NameVerdict:
    """Did this commit remove (or rename) the definition of ``name``? Only in ``files`` when given (the owner's
    module), else in any file. A rename needs exactly one same-signature definition added in the same file."""
    if not is_identifier(name):
        return NameVerdict(False, reason="not an identifier")
    defines = _definition(name)
    for change in changes:
        if files and change.path not in files:
            continue
        removed_at = [i for i, (sign, text) in enumerate(change.lines) if sign == "-" and defines.search(text)]
        if not removed_at:
            continue
        if any(sign in ("+", " ") and defines.search(text) for sign, text in change.lines):
            continue  # still defined in this file (changed in place, not removed)
        at = removed_at[0]
        old_line = change.lines[at][1]
        # The same line with every occurrence of the name replaced by one new name (``exports.a = function a(``).
        parts = re.split(rf"(?<![\w$]){re.escape(name)}(?![\w$])", old_line)
        shape = re.compile(
            "^"
            + re.escape(parts[0])
            + "(?P<new>[A-Za-z_$][A-Za-z0-9_$]{0,127})"
            + "".join(re.escape(p) + "(?P=new)" for p in parts[1:-1])
            + re.escape(parts[-1])
            + "$"
        )
        renamed = [
            (i, m.group("new"))
            for i, (sign, text) in enumerate(change.lines)
            if sign == "+" and (m := shape.match(text)) is not None and m.group("new") != name
        ]
        if len(renamed) != 1:
            why = "no definition with the same signature was added" if not renamed else "several candidate new names"
            return NameVerdict(True, file=change.path, reason=f"the commit removed the definition of `{name}`; {why}")
        new_at, new_name = renamed[0]
        old_body = "\n".join(_body_after(change.lines, at, "-")).rstrip().splitlines()
        new_body = "\n".join(_body_after(change.lines, new_at, "+")).rstrip().splitlines()
        same_body = [line.replace(name, new_name) for line in old_body] == new_body[: len(old_body)] if old_body else True
        return NameVerdict(
            True,
            file=change.path,
            new_name=new_name,
            clean=same_body,
            reason=(
                f"the commit renamed `{name}` to `{new_name}` in {change.path} (same signature"
                + (", same body)" if same_body and old_body else ")" if same_body else ", but the body changed)")
            ),
        )
    return NameVerdict(False, reason=f"the commit removed no definition of `{name}`")
