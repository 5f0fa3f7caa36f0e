"""The static checkers Medic runs and what they report: :class:`Checker` (name, argv, files it reads) and
:class:`Diagnostic`, read from each checker's own output by :func:`parse_diagnostics` (mypy's and tsc's text
lines; pyright's, ruff's and ESLint's JSON). Pure: nothing here runs a checker (see :mod:`.static_checks`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

__all__ = ["PYTHON_FILES", "SCRIPT_FILES", "CheckKind", "Checker", "Diagnostic", "parse_diagnostics"]

PYTHON_FILES = (".py", ".pyi")
SCRIPT_FILES = (".ts", ".tsx", ".mts", ".cts", ".js", ".jsx", ".mjs", ".cjs")


class CheckKind(StrEnum):
    """What a checker checks."""

    TYPES = "types"
    LINT = "lint"


class Checker(StrEnum):
    """The static checkers Medic knows how to run."""

    TSC = "tsc"
    MYPY = "mypy"
    PYRIGHT = "pyright"
    RUFF = "ruff"
    ESLINT = "eslint"

    @property
    def executable(self) -> str:
        """The program's name (looked up in the target's environment, never taken from the repository's text)."""
        return self.value

    @property
    def kind(self) -> CheckKind:
        """Type checker or linter."""
        return CheckKind.LINT if self in (Checker.RUFF, Checker.ESLINT) else CheckKind.TYPES

    @property
    def node(self) -> bool:
        """True for checkers installed in ``node_modules/.bin`` (pyright may be either)."""
        return self in (Checker.TSC, Checker.ESLINT)

    @property
    def suffixes(self) -> tuple[str, ...]:
        """Files this checker reports on."""
        return PYTHON_FILES if self in (Checker.MYPY, Checker.PYRIGHT, Checker.RUFF) else SCRIPT_FILES

    @property
    def whole_project(self) -> bool:
        """True when it checks the project its config names (``tsc -p``), not the files given."""
        return self is Checker.TSC

    def args(self, files: Sequence[str]) -> tuple[str, ...]:
        """The argv after the executable: fixed flags, then the files as ``./path`` operands."""
        operands = tuple(f"./{f}" for f in files)
        if self is Checker.TSC:
            return ("--noEmit", "-p", "tsconfig.json", "--pretty", "false")
        if self is Checker.MYPY:
            flags = ("--no-color-output", "--show-error-codes", "--no-error-summary", "--hide-error-context", "--no-pretty")
            return (*flags, "--cache-dir=/dev/null", "--", *operands)
        if self is Checker.PYRIGHT:
            return ("--outputjson", *operands)
        if self is Checker.RUFF:
            return ("check", "--output-format=json", "--no-cache", "--no-fix", "--exit-zero", "--", *operands)
        return ("--format", "json", "--no-error-on-unmatched-pattern", "--", *operands)


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One error a checker reported."""

    file: str  # repository-relative ("" for a project-wide error)
    code: str
    message: str
    line: int | None = None

    @property
    def key(self) -> tuple[str, str, str]:
        """What identifies it across the two runs: file, code and message (line numbers in the text masked)."""
        return (self.file, self.code, re.sub(r"\b(line|lines) \d+", r"\1 N", self.message))

    def render(self) -> str:
        """``file:line: [code] message`` for the audit."""
        where = f"{self.file}:{self.line}" if self.line is not None else self.file or "project"
        return f"{where}: [{self.code}] {self.message}"[:400]


def _relative(file: str, roots: Sequence[str]) -> str:
    normalized = file.replace("\\", "/")
    for root in roots:
        prefix = root.rstrip("/") + "/"
        if root and normalized.startswith(prefix):
            return normalized[len(prefix) :]
    return normalized.removeprefix("./")


def _json_payload(output: str) -> Any:
    """The first JSON object or array in ``output`` (a checker's stderr warnings may precede it)."""
    decoder = json.JSONDecoder()
    for match in re.finditer(r"^[\[{]", output, re.M):
        try:
            value, _ = decoder.raw_decode(output, match.start())
        except ValueError:
            continue
        return value
    return None


_MYPY = re.compile(r"^(?P<file>[^\n:]+?):(?P<line>\d+)(?::\d+)?: error: (?P<message>.*?)(?:\s+\[(?P<code>[\w-]+)\])?$", re.M)
_TSC = re.compile(r"^(?P<file>[^\n(]+?)\((?P<line>\d+),\d+\): error (?P<code>TS\d+): (?P<message>.*)$", re.M)
_TSC_GLOBAL = re.compile(r"^error (?P<code>TS\d+): (?P<message>.*)$", re.M)


def parse_diagnostics(checker: Checker, output: str, *, roots: Sequence[str] = ()) -> tuple[Diagnostic, ...] | None:
    """The errors in a checker's output (paths made relative to one of ``roots``, the worktree as the checker saw
    it); None when the output is not the checker's (it could not run as configured)."""
    if checker is Checker.MYPY:
        return tuple(
            Diagnostic(_relative(m["file"], roots), m["code"] or "error", m["message"].strip(), int(m["line"]))
            for m in _MYPY.finditer(output)
        )
    if checker is Checker.TSC:
        found = [
            Diagnostic(_relative(m["file"].strip(), roots), m["code"], m["message"].strip(), int(m["line"]))
            for m in _TSC.finditer(output)
        ]
        found += [Diagnostic("", m["code"], m["message"].strip()) for m in _TSC_GLOBAL.finditer(output)]
        return tuple(found)
    payload = _json_payload(output)
    if checker is Checker.PYRIGHT:
        if not isinstance(payload, dict) or not isinstance(payload.get("generalDiagnostics"), list):
            return None
        return tuple(
            Diagnostic(
                _relative(str(d.get("file", "")), roots),
                str(d.get("rule") or "error"),
                str(d.get("message", "")).strip(),
                _line(d.get("range"), "line", base=1),
            )
            for d in payload["generalDiagnostics"]
            if isinstance(d, dict) and d.get("severity") == "error"
        )
    if checker is Checker.RUFF:
        if not isinstance(payload, list):
            return None
        return tuple(
            Diagnostic(
                _relative(str(d.get("filename", "")), roots),
                str(d.get("code") or "syntax"),
                str(d.get("message", "")).strip(),
                _line(d.get("location"), "row"),
            )
            for d in payload
            if isinstance(d, dict)
        )
    if not isinstance(payload, list):
        return None
    return tuple(
        Diagnostic(
            _relative(str(f.get("filePath", "")), roots),
            str(m.get("ruleId") or "error"),
            str(m.get("message", "")).strip(),
            m["line"] if isinstance(m.get("line"), int) else None,
        )
        for f in payload
        if isinstance(f, dict) and isinstance(f.get("messages"), list)
        for m in f["messages"]
        if isinstance(m, dict) and m.get("severity") == 2
    )


def _line(location: Any, key: str, *, base: int = 0) -> int | None:
    """A line number from a JSON location (pyright nests it under ``start`` and counts from 0)."""
    if not isinstance(location, dict):
        return None
    start = location.get("start", location)
    value = start.get(key) if isinstance(start, dict) else None
    return value + base if isinstance(value, int) else None
