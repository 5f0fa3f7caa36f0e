"""Matching the target repository's style: which formatters and linters it declares, and what to run.

A fix should look like the code around it. The repository says which tools it uses through its
configuration — ``package.json`` dependencies and scripts, ``.prettierrc``, ESLint configs,
``pyproject.toml``'s ``[tool.ruff]`` / ``[tool.black]``, ``ruff.toml`` — and :func:`style_steps`
turns that (plus the files a fix changed) into the tool runs to make, each a fixed argv: the
tool, fixed flags, then the changed files as ``./path`` operands. Nothing from the repository's
text becomes a flag or a command: config contents only *select* among the known tools.

:func:`formatting_kept` guards the diff: a formatter run on a file that was not formatted before
rewrites lines the fix never touched, and such output is dropped in favour of the plain fix.
"""

from __future__ import annotations

import difflib
import json
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

__all__ = ["CONFIG_FILES", "StyleStep", "StyleTool", "declared_tools", "formatting_kept", "style_steps"]

_PY = (".py", ".pyi")
_JS = (".js", ".jsx", ".mjs", ".cjs", ".ts", ".tsx", ".mts", ".cts")
_PRETTIER_ALSO = (".json", ".css", ".scss", ".md", ".yaml", ".yml", ".html", ".vue")

_PRETTIER_FILES = (
    ".prettierrc",
    ".prettierrc.json",
    ".prettierrc.yaml",
    ".prettierrc.yml",
    ".prettierrc.json5",
    ".prettierrc.js",
    ".prettierrc.cjs",
    ".prettierrc.mjs",
    ".prettierrc.toml",
    "prettier.config.js",
    "prettier.config.cjs",
    "prettier.config.mjs",
)
_ESLINT_FILES = (
    ".eslintrc",
    ".eslintrc.json",
    ".eslintrc.js",
    ".eslintrc.cjs",
    ".eslintrc.yaml",
    ".eslintrc.yml",
    "eslint.config.js",
    "eslint.config.mjs",
    "eslint.config.cjs",
    "eslint.config.ts",
)
_RUFF_FILES = ("ruff.toml", ".ruff.toml")

#: Files at the repository root :func:`declared_tools` reads (existence or content).
CONFIG_FILES = ("package.json", "pyproject.toml", *_RUFF_FILES, *_PRETTIER_FILES, *_ESLINT_FILES)


class StyleTool(StrEnum):
    """The formatters and fixers Medic knows how to run."""

    RUFF_CHECK = "ruff check --fix"
    RUFF_FORMAT = "ruff format"
    BLACK = "black"
    ESLINT = "eslint --fix"
    PRETTIER = "prettier --write"

    @property
    def executable(self) -> str:
        """The program's name (looked up in the checkout, never taken from the repository's text)."""
        return self.value.split()[0]

    @property
    def node(self) -> bool:
        """True for tools installed in ``node_modules/.bin``."""
        return self in (StyleTool.ESLINT, StyleTool.PRETTIER)

    @property
    def flags(self) -> tuple[str, ...]:
        """Fixed flags: write in place, quietly, never reading caches or asking questions."""
        return {
            StyleTool.RUFF_CHECK: ("check", "--fix", "--quiet", "--no-cache", "--exit-zero"),
            StyleTool.RUFF_FORMAT: ("format", "--quiet", "--no-cache"),
            StyleTool.BLACK: ("--quiet",),
            StyleTool.ESLINT: ("--fix", "--no-error-on-unmatched-pattern"),
            StyleTool.PRETTIER: ("--write",),
        }[self]

    @property
    def suffixes(self) -> tuple[str, ...]:
        """Files this tool is run on."""
        if self in (StyleTool.RUFF_CHECK, StyleTool.RUFF_FORMAT, StyleTool.BLACK):
            return _PY
        if self is StyleTool.ESLINT:
            return _JS
        return _JS + _PRETTIER_ALSO


@dataclass(frozen=True, slots=True)
class StyleStep:
    """One tool run: the tool, and the argv after its executable (flags, then ``./file`` operands)."""

    tool: StyleTool
    files: tuple[str, ...]

    @property
    def args(self) -> tuple[str, ...]:
        """Flags then the files, each as ``./path`` so no operand can be read as an option."""
        return (*self.tool.flags, *(f"./{f}" for f in self.files))


def _package(text: str | None) -> dict[str, Any]:
    if not text:
        return {}
    try:
        data = json.loads(text)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _pyproject(text: str | None) -> dict[str, Any]:
    if not text:
        return {}
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return {}
    tool = data.get("tool")
    return tool if isinstance(tool, dict) else {}


def _mentions(package: Mapping[str, Any], name: str) -> bool:
    for section in ("devDependencies", "dependencies"):
        deps = package.get(section)
        if isinstance(deps, dict) and any(k == name or k.startswith(f"{name}-config") for k in deps):
            return True
    scripts = package.get("scripts")
    if isinstance(scripts, dict) and any(isinstance(v, str) and name in v.split() for v in scripts.values()):
        return True
    return name in package or f"{name}Config" in package  # "prettier": {...} / "eslintConfig": {...}


def declared_tools(configs: Mapping[str, str]) -> tuple[StyleTool, ...]:
    """The tools a repository's root configuration declares, in the order to run them (fixers, then formatters).

    ``configs`` maps a root file name (one of :data:`CONFIG_FILES`) present in the checkout to its text.
    """
    package = _package(configs.get("package.json"))
    tool = _pyproject(configs.get("pyproject.toml"))
    ruff = "ruff" in tool or any(name in configs for name in _RUFF_FILES)
    black = "black" in tool
    tools: list[StyleTool] = []
    if ruff:
        tools.append(StyleTool.RUFF_CHECK)
    if black:
        tools.append(StyleTool.BLACK)  # a project that declares black formats with it, even when ruff lints
    elif ruff:
        tools.append(StyleTool.RUFF_FORMAT)
    if _mentions(package, "eslint") or any(name in configs for name in _ESLINT_FILES):
        tools.append(StyleTool.ESLINT)
    if _mentions(package, "prettier") or any(name in configs for name in _PRETTIER_FILES):
        tools.append(StyleTool.PRETTIER)  # last: its layout wins over a linter's fixes
    return tuple(tools)


def style_steps(tools: Sequence[StyleTool], changed: Sequence[str]) -> list[StyleStep]:
    """The runs to make for the changed files: each tool on the files it handles (none: no run)."""
    steps = []
    for tool in tools:
        # Repository-relative paths only; each is passed as ./path, so even "-x.py" is an operand, never an option.
        files = tuple(f for f in changed if f.endswith(tool.suffixes) and not f.startswith("/") and ".." not in f.split("/"))
        if files:
            steps.append(StyleStep(tool=tool, files=files))
    return steps


def _changed_lines(before: str, after: str) -> int:
    diff = difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0)
    return sum(1 for line in diff if line[:1] in "+-" and not line.startswith(("+++", "---")))


def formatting_kept(*, base: str, fixed: str, formatted: str) -> bool:
    """True when formatting the fixed file changed about as many lines as the fix did (it only restyled the fix).

    A file that was not formatted before comes back rewritten; that diff would bury the fix, so it is not kept.
    """
    fix_size = _changed_lines(base, fixed)
    return _changed_lines(base, formatted) <= 2 * fix_size + 4
