"""The path guard: which repository paths a fixer may write, checked canonically.

Error text, diagnoses and LLM output are attacker-influenced, so every path a fixer wants to write
goes through :meth:`PathGuard.check` before anything touches the disk. A path is refused when its
spelling is suspicious (absolute, ``..``, backslashes, control or zero-width characters), when any
existing component on the way to it is a symlink, when it resolves outside the worktree, or when
its canonical form (Unicode NFKC, case-folded, trailing dots and spaces stripped — how
case-insensitive and normalising file systems see it) matches a protected glob. Matching an
approval glob lets the write happen only with a human's approval.
"""

from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from pathlib import Path

from medic_contracts import ALWAYS_PROTECTED_PATHS, DEFAULT_APPROVAL_PATHS, DEFAULT_PROTECTED_PATHS, MedicConfig, TargetConfig

from .diffscan import DiffEntry

__all__ = [
    "GuardVerdict",
    "PathGuard",
    "PathRuling",
    "canonical_path",
    "final_diff_verdicts",
    "glob_matches",
    "guard_for",
]

_SYMLINK, _GITLINK, _EXECUTABLE, _NO_MODE = "120000", "160000", "100755", "000000"


class PathRuling(StrEnum):
    """What the guard says about one path."""

    ALLOWED = "allowed"
    NEEDS_APPROVAL = "needs_approval"
    REFUSED = "refused"


@dataclass(frozen=True, slots=True)
class GuardVerdict:
    """The ruling on one path and why."""

    path: str
    ruling: PathRuling
    reason: str

    @property
    def refused(self) -> bool:
        """True when the path must never be written."""
        return self.ruling is PathRuling.REFUSED


# Characters that render as nothing or steer text direction: a path holding one is refused outright.
_INVISIBLE = re.compile(
    r"[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0]"
)


def _has_invisible(text: str) -> bool:
    return bool(_INVISIBLE.search(text)) or any(unicodedata.category(ch) in ("Cc", "Cf", "Co", "Cs") for ch in text)


def canonical_path(path: str) -> str:
    """The form a forgiving file system would see: NFKC, case-folded, invisible characters and trailing dots/spaces dropped."""
    text = unicodedata.normalize("NFKC", path)
    text = "".join(ch for ch in text if not _has_invisible(ch))
    text = text.replace("\\", "/")
    parts = [p.rstrip(". ") or p for p in text.split("/")]
    parts = [p for p in parts if p not in ("", ".")]
    return "/".join(parts).casefold()


@lru_cache(maxsize=512)
def _glob_regex(pattern: str) -> re.Pattern[str]:
    """Translate a path glob (``**`` any depth, ``*`` within a segment, ``?`` one char) to a regex."""
    out: list[str] = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("/**", i) and i + 3 == len(pattern):
            out.append("(?:/.*)?")  # "dir/**" also names "dir" itself
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif ch == "*":
            out.append("[^/]*")
            i += 1
        elif ch == "?":
            out.append("[^/]")
            i += 1
        elif ch == "[":
            end = pattern.find("]", i + 1)
            if end == -1:
                out.append(re.escape(ch))
                i += 1
            else:
                body = pattern[i + 1 : end].replace("\\", "\\\\")
                if body.startswith("!"):
                    body = "^" + body[1:]
                out.append(f"[{body}]")
                i = end + 1
        else:
            out.append(re.escape(ch))
            i += 1
    return re.compile("^" + "".join(out) + "$", re.DOTALL)


def glob_matches(pattern: str, path: str) -> bool:
    """True when repository-relative ``path`` matches ``pattern`` (both compared canonically)."""
    return bool(_glob_regex(canonical_path(pattern.strip().lstrip("/"))).match(canonical_path(path)))


class PathGuard:
    """Decides, for one worktree, which paths a fixer may write."""

    def __init__(
        self,
        *,
        root: Path,
        protected: Sequence[str] = DEFAULT_PROTECTED_PATHS,
        approval: Sequence[str] = DEFAULT_APPROVAL_PATHS,
    ) -> None:
        self.root = Path(os.path.realpath(root))
        # The always-protected list (git internals, CI, deploy, Medic config) cannot be configured away.
        self.protected: tuple[str, ...] = tuple(dict.fromkeys((*ALWAYS_PROTECTED_PATHS, *protected)))
        self.approval: tuple[str, ...] = tuple(dict.fromkeys(approval))

    def check(self, path: str) -> GuardVerdict:
        """Rule on one repository-relative path a fixer wants to write (it need not exist yet)."""
        spelled = self._spelling_problem(path)
        if spelled:
            return GuardVerdict(path, PathRuling.REFUSED, spelled)
        linked = self._symlink_problem(path)
        if linked:
            return GuardVerdict(path, PathRuling.REFUSED, linked)
        for pattern in self.protected:
            if glob_matches(pattern, path):
                return GuardVerdict(path, PathRuling.REFUSED, f"protected path (matches {pattern!r})")
        for pattern in self.approval:
            if glob_matches(pattern, path):
                return GuardVerdict(path, PathRuling.NEEDS_APPROVAL, f"writing it needs approval (matches {pattern!r})")
        return GuardVerdict(path, PathRuling.ALLOWED, "allowed")

    def check_all(self, paths: Iterable[str]) -> list[GuardVerdict]:
        """Rule on every path (in order)."""
        return [self.check(p) for p in paths]

    def resolve(self, path: str) -> Path:
        """The absolute path to write for an allowed ``path``; raises ValueError when it is refused."""
        verdict = self.check(path)
        if verdict.refused:
            raise ValueError(f"{path!r}: {verdict.reason}")
        return self.root / path

    # ---- checks --------------------------------------------------------------------------------

    @staticmethod
    def _spelling_problem(path: str) -> str | None:
        if not path or not path.strip():
            return "empty path"
        if len(path) > 1024:
            return "path too long"
        if _has_invisible(path):
            return "path holds control, zero-width or direction characters"
        if "\\" in path:
            return "path holds a backslash"
        if path.startswith(("/", "~")) or re.match(r"^[A-Za-z]:", path):
            return "absolute path"
        normal = unicodedata.normalize("NFKC", path)
        for part in normal.split("/"):
            if part.rstrip(". ") == "" and part not in ("", "."):
                return "path component of only dots or spaces (parent directory)"
            if part != part.rstrip(". ") and part not in (".",):
                return "path component with trailing dots or spaces"
        if normal != unicodedata.normalize("NFC", path):
            return "path uses compatibility characters (not in NFKC form)"
        return None

    def _symlink_problem(self, path: str) -> str | None:
        current = self.root
        parts = [p for p in path.split("/") if p not in ("", ".")]
        for part in parts:
            current = current / part
            if current.is_symlink():
                return f"symlink on the path ({current.relative_to(self.root)})"
            if not current.exists():
                break  # the rest does not exist yet: nothing to follow
        resolved = Path(os.path.realpath(self.root / path))
        if resolved != self.root and self.root not in resolved.parents:
            return "resolves outside the worktree"
        try:
            links = os.lstat(self.root / path).st_nlink
        except OSError:
            return None  # not there yet
        if links > 1 and not (self.root / path).is_dir():
            # a hard link: writing it writes every other name of the file, protected ones included
            return f"hard link ({links} names for one file)"
        return None


def _mode_problem(entry: DiffEntry) -> str | None:
    """Why a staged change's modes make it unfit for an automatic fix, if they do."""
    if _SYMLINK in (entry.old_mode, entry.new_mode):
        return "symlink (mode 120000) in the diff"
    if _GITLINK in (entry.old_mode, entry.new_mode):
        return "submodule (mode 160000) in the diff"
    if _NO_MODE not in (entry.old_mode, entry.new_mode) and entry.old_mode != entry.new_mode:
        return f"mode change {entry.old_mode} -> {entry.new_mode}"
    if entry.old_mode == _NO_MODE and entry.new_mode == _EXECUTABLE:
        return "new executable file"
    return None


def final_diff_verdicts(guard: PathGuard, entries: Iterable[DiffEntry]) -> list[GuardVerdict]:
    """The refusals in a fix's final staged diff: every side of every change, its modes, links on disk.

    Both sides of renames and copies and deleted paths are checked against the guard (moving a
    protected file away or deleting it writes it too); symlinks, submodules, mode changes and new
    executables are refused outright, as is a changed file with more than one hard link.
    An empty list means the diff may be committed.
    """
    refused: list[GuardVerdict] = []
    for entry in entries:
        mode = _mode_problem(entry)
        if mode is not None:
            refused.append(GuardVerdict(entry.path, PathRuling.REFUSED, mode))
            continue
        for path in entry.paths:
            verdict = guard.check(path)
            if verdict.refused:
                refused.append(verdict)
    return refused


def guard_for(target: TargetConfig, config: MedicConfig | None, root: Path) -> PathGuard:
    """The path guard for a target: Medic's (or the configuration's) lists plus the target's own globs."""
    base = config or MedicConfig()
    return PathGuard(
        root=root,
        protected=(*base.protected_paths, *target.protected_paths),
        approval=(*base.approval_paths, *target.approval_paths),
    )
