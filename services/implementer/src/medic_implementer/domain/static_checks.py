"""Static checks of a candidate: the repository's own type checker and linters, before and after the fix.

A repository says which checkers it uses through its configuration — ``tsconfig.json`` (``tsc --noEmit -p``),
a mypy config (``mypy.ini``, ``.mypy.ini``, ``[mypy]`` in ``setup.cfg``, ``[tool.mypy]`` in ``pyproject.toml``),
a pyright config (``pyrightconfig.json``, ``[tool.pyright]``), and the linters :mod:`.style` already reads
(ruff, ESLint). Each configured checker runs on the unfixed tree and on the candidate, in the target's own
environment; the candidate may add **no** diagnostic in the files it changed or in their callers. Diagnostics
are compared as multisets keyed by file, code and message — never by line — so lines a fix shifted are not new.

Nothing from the repository's text becomes an argument: its configuration only *selects* among known checkers,
and changed files are passed as ``./path`` operands.

The rule the release gate applies (see :func:`StaticVerdict.blocking`): a new diagnostic refuses the release; a
configured checker that could not run (not installed in the target's environment, crashed, timed out, or its
output could not be read) is recorded as *skipped* and also keeps the fix from being released without a human —
the repository claims a property Medic could not check, and the gate is precision-first.
"""

from __future__ import annotations

import configparser
import re
import tomllib
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import PurePosixPath
from typing import Any

from .diagnostics import PYTHON_FILES, SCRIPT_FILES, Checker, CheckKind, Diagnostic, parse_diagnostics
from .style import StyleTool, declared_tools

__all__ = [
    "CHECK_CONFIG_FILES",
    "CheckKind",
    "CheckOutcome",
    "CheckStatus",
    "Checker",
    "Diagnostic",
    "StaticVerdict",
    "callers_of",
    "configured_checkers",
    "judge_check",
    "new_diagnostics",
    "parse_diagnostics",
]

#: Root files :func:`configured_checkers` reads besides the style tools' (:data:`.style.CONFIG_FILES`).
CHECK_CONFIG_FILES = ("tsconfig.json", "mypy.ini", ".mypy.ini", "setup.cfg", "pyrightconfig.json")

_MAX_LISTED = 20  # new diagnostics kept in a verdict


def _toml_tool(text: str | None) -> dict[str, Any]:
    if not text:
        return {}
    try:
        tool = tomllib.loads(text).get("tool")
    except tomllib.TOMLDecodeError:
        return {}
    return tool if isinstance(tool, dict) else {}


def _setup_cfg_has_mypy(text: str | None) -> bool:
    if not text:
        return False
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read_string(text)
    except configparser.Error:
        return False
    return parser.has_section("mypy")


def configured_checkers(configs: Mapping[str, str]) -> tuple[Checker, ...]:
    """The checkers a repository's root configuration declares (type checkers first, then linters).

    ``configs`` maps a root file name (from :data:`CHECK_CONFIG_FILES` or :data:`.style.CONFIG_FILES`) present
    in the checkout to its text.
    """
    tool = _toml_tool(configs.get("pyproject.toml"))
    found: list[Checker] = []
    if "tsconfig.json" in configs:
        found.append(Checker.TSC)
    if "mypy.ini" in configs or ".mypy.ini" in configs or "mypy" in tool or _setup_cfg_has_mypy(configs.get("setup.cfg")):
        found.append(Checker.MYPY)
    if "pyrightconfig.json" in configs or "pyright" in tool:
        found.append(Checker.PYRIGHT)
    style = declared_tools(configs)
    if StyleTool.RUFF_CHECK in style:
        found.append(Checker.RUFF)
    if StyleTool.ESLINT in style:
        found.append(Checker.ESLINT)
    return tuple(found)


def _module_names(path: str) -> set[str]:
    """The names an import of ``path`` would use: its stem (or its folder for ``__init__``/``index``)."""
    pure = PurePosixPath(path)
    stem = pure.stem.split(".")[0]
    if stem in ("__init__", "index") and pure.parent.name:
        return {pure.parent.name}
    return {stem}


def callers_of(changed: Sequence[str], sources: Mapping[str, str]) -> tuple[str, ...]:
    """The files among ``sources`` (path → text) that import one of ``changed`` (by its module name: over-inclusive
    on purpose — a wider scope only checks more)."""
    names = {n for path in changed for n in _module_names(path) if re.fullmatch(r"[\w$-]+", n)}
    if not names:
        return ()
    alternatives = "|".join(re.escape(n) for n in sorted(names))
    python = re.compile(
        rf"^\s*(?:from\s+[\w.]*\b(?:{alternatives})\b[\w.]*\s+import|from\s+[\w.]+\s+import\s+.*\b(?:{alternatives})\b|import\s+.*\b(?:{alternatives})\b)",
        re.M,
    )
    script = re.compile(rf"""(?:from|import|require\s*\()\s*["'](?:[^"'\n]*/)?(?:{alternatives})(?:\.[cm]?[jt]sx?)?["']""")
    wanted = set(changed)
    found = []
    for path, text in sorted(sources.items()):
        if path in wanted:
            continue
        pattern = python if path.endswith(PYTHON_FILES) else script if path.endswith(SCRIPT_FILES) else None
        if pattern is not None and pattern.search(text):
            found.append(path)
    return tuple(found)


def new_diagnostics(base: Iterable[Diagnostic], candidate: Iterable[Diagnostic], scope: Iterable[str]) -> tuple[Diagnostic, ...]:
    """The candidate's diagnostics in ``scope`` (or project-wide) that the unfixed tree does not have: a key the
    candidate reports more often than the base counts as new that many times."""
    files = set(scope)
    remaining = Counter(d.key for d in base)
    new: list[Diagnostic] = []
    for diagnostic in candidate:
        if diagnostic.file and diagnostic.file not in files:
            continue
        if remaining[diagnostic.key] > 0:
            remaining[diagnostic.key] -= 1
        else:
            new.append(diagnostic)
    return tuple(new)


class CheckStatus(StrEnum):
    """How one checker's comparison ended."""

    PASSED = "passed"  # it ran on both trees and the candidate adds nothing
    NEW_DIAGNOSTICS = "new_diagnostics"
    SKIPPED = "skipped"  # configured, but not installed in the target's environment
    NOT_RUN = "not_run"  # it started but did not finish, or its output could not be read


@dataclass(frozen=True, slots=True)
class CheckOutcome:
    """One checker's verdict on one candidate."""

    checker: Checker
    status: CheckStatus
    reason: str
    new: tuple[Diagnostic, ...] = ()
    scope: tuple[str, ...] = ()

    def details(self) -> dict[str, Any]:
        """JSON-ready (audit details)."""
        return {
            "checker": self.checker.value,
            "kind": self.checker.kind.value,
            "status": self.status.value,
            "reason": self.reason[:500],
            "new": [d.render() for d in self.new[:_MAX_LISTED]],
            "scope": list(self.scope[:_MAX_LISTED]),
        }


def judge_check(
    checker: Checker,
    *,
    base: Sequence[Diagnostic] | None,
    candidate: Sequence[Diagnostic] | None,
    scope: Sequence[str],
    installed: bool = True,
    failure: str = "",
) -> CheckOutcome:
    """The verdict for one checker: ``base``/``candidate`` are its diagnostics on each tree (None: that run did not
    finish or could not be read, ``failure`` says how); ``installed`` False when the target's environment lacks it."""
    if not installed:
        return CheckOutcome(
            checker,
            CheckStatus.SKIPPED,
            f"{checker.value} is configured but not installed in the target's environment",
            (),
            tuple(scope),
        )
    if base is None or candidate is None:
        which = "the unfixed tree" if base is None else "the candidate"
        return CheckOutcome(
            checker, CheckStatus.NOT_RUN, f"{checker.value} did not run on {which}: {failure}".strip(), (), tuple(scope)
        )
    new = new_diagnostics(base, candidate, scope)
    if new:
        noun = "error" if len(new) == 1 else "errors"
        listed = "; ".join(d.render() for d in new[:3])
        return CheckOutcome(
            checker,
            CheckStatus.NEW_DIAGNOSTICS,
            f"{checker.value} reports {len(new)} new {noun}: {listed}",
            new[:_MAX_LISTED],
            tuple(scope),
        )
    return CheckOutcome(checker, CheckStatus.PASSED, f"{checker.value}: no new errors", (), tuple(scope))


@dataclass(frozen=True, slots=True)
class StaticVerdict:
    """Every configured checker's outcome on one candidate."""

    outcomes: tuple[CheckOutcome, ...] = ()

    @property
    def configured(self) -> bool:
        """True when the repository configures at least one checker that applies to the change."""
        return bool(self.outcomes)

    @property
    def clean(self) -> bool:
        """True when no checker reports a new diagnostic (skipped checkers are not failures of the candidate)."""
        return not any(o.status is CheckStatus.NEW_DIAGNOSTICS for o in self.outcomes)

    def blocking(self) -> tuple[tuple[CheckKind, CheckStatus, str], ...]:
        """Why the release must wait for a human: each new diagnostic, and each configured checker that did not run
        (precision-first: a check the repository asks for and Medic could not make is not a pass)."""
        return tuple((o.checker.kind, o.status, o.reason) for o in self.outcomes if o.status is not CheckStatus.PASSED)

    @property
    def summary(self) -> str:
        """One line: each checker's outcome."""
        return "; ".join(o.reason for o in self.outcomes) if self.outcomes else "no static checker configured"

    def details(self) -> list[dict[str, Any]]:
        """JSON-ready (audit details)."""
        return [o.details() for o in self.outcomes]
