"""The one scenario materialiser: a scenario folder (DESIGN.md §8) made a real git repository.

Every benchmark (``medic bench diagnosis``, ``fix``, ``implement``) and the corpus tooling
(``examples/scenarios/_tools``) build a scenario's repository here, so blame and suspect-commit
results never depend on which of them built it:

- ``repo/`` is committed as ``Initial import`` by the scenario author, dated 30 days before the bug
  commit (or on a fixed date when the scenario has no ``bug.patch``);
- ``bug.patch`` (an ``mbox`` patch, ``git format-patch`` style) is committed on top with its own
  author, date and message (``git am --committer-date-is-author-date``); a plain diff is applied
  and committed one hour before the fixed date;
- optionally the scenario's ``setup_command`` runs, and a bare remote gets ``main`` and ``staging``.

Git runs through medic_forge's hardened argv and environment (no hooks, no global config).
"""

from __future__ import annotations

import email.utils
import os
import shutil
import subprocess
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from medic_forge.git import hardened_argv, hardened_env

__all__ = ["AUTHOR", "Materialised", "git", "materialise"]

#: Who wrote a scenario's application (the bug commit has the patch's own author).
AUTHOR = ("Scenario Author", "author@example.com")
#: The application's commit date when the scenario has no dated patch.
FIXED_DATE = datetime(2025, 5, 1, 9, 0, tzinfo=UTC)
#: How long before the bug commit the application was committed.
HISTORY = timedelta(days=30)


@dataclass(frozen=True, slots=True)
class Materialised:
    """A materialised scenario: its clone, the bug commit (None without a patch) and the bare remote."""

    repo: Path
    bug_sha: str | None
    remote: Path | None = None


def _env(date: datetime) -> dict[str, str]:
    name, mail = AUTHOR
    stamp = date.isoformat()
    return {
        **hardened_env(os.environ),
        "GIT_AUTHOR_NAME": name,
        "GIT_AUTHOR_EMAIL": mail,
        "GIT_COMMITTER_NAME": name,
        "GIT_COMMITTER_EMAIL": mail,
        "GIT_AUTHOR_DATE": stamp,
        "GIT_COMMITTER_DATE": stamp,
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_CONFIG_NOSYSTEM": "1",
    }


def git(repo: Path, *args: str, date: datetime = FIXED_DATE) -> str:
    """Run hardened git in ``repo`` as the scenario author at ``date``; stdout (RuntimeError on failure)."""
    done = subprocess.run(
        [*hardened_argv(), *args], cwd=repo, env=_env(date), capture_output=True, text=True, check=False, timeout=120
    )
    if done.returncode != 0:
        raise RuntimeError(f"git {' '.join(args[:2])} failed in {repo}: {done.stderr.strip()[:500]}")
    return done.stdout.strip()


def _patch_date(patch: Path) -> datetime | None:
    """The ``Date:`` header of an mbox patch (None for a plain diff or an unreadable date)."""
    for line in patch.read_text(encoding="utf-8", errors="replace").splitlines()[:40]:
        if line.startswith("Date: "):
            try:
                return email.utils.parsedate_to_datetime(line.removeprefix("Date: ").strip())
            except (TypeError, ValueError):
                return None
        if not line.strip():
            break  # the headers end at the first blank line
    return None


def materialise(
    scenario: Path,
    repo: Path,
    *,
    setup_env: Mapping[str, str] | None = None,
    remote: Path | None = None,
) -> Materialised:
    """Make ``scenario`` a git repository at ``repo`` (replaced if present); see the module docstring.

    ``setup_env``: run the scenario's ``setup_command`` with this environment (not run when None).
    ``remote``: also create this bare repository and push ``main`` and ``main:staging`` to it.
    """
    if repo.exists():
        shutil.rmtree(repo)
    repo.parent.mkdir(parents=True, exist_ok=True)
    shutil.copytree(scenario / "repo", repo, symlinks=True)
    patch = scenario / "bug.patch"
    mbox = patch.is_file() and patch.read_text(encoding="utf-8", errors="replace").startswith("From ")
    bug_date = _patch_date(patch) if mbox else None
    app_date = min(FIXED_DATE, bug_date - HISTORY) if bug_date else FIXED_DATE
    git(repo, "init", "-q", "-b", "main", date=app_date)
    git(repo, "add", "-A", date=app_date)
    git(repo, "commit", "-q", "--no-verify", "-m", "Initial import", date=app_date)
    bug_sha: str | None = None
    if patch.is_file():
        if mbox:
            git(repo, "am", "-q", "--committer-date-is-author-date", str(patch.resolve()), date=app_date)
        else:
            changed = FIXED_DATE + timedelta(hours=1)
            git(repo, "apply", str(patch.resolve()), date=changed)
            git(repo, "add", "-A", date=changed)
            git(repo, "commit", "-q", "--no-verify", "-m", f"{scenario.name}: change", date=changed)
        bug_sha = git(repo, "rev-parse", "HEAD")
    if setup_env is not None:
        setup = tomllib.loads((scenario / "scenario.toml").read_text(encoding="utf-8")).get("setup_command")
        if setup:
            done = subprocess.run(setup, shell=True, cwd=repo, env=dict(setup_env), capture_output=True, text=True, check=False)  # noqa: S602 - the scenario's own command
            if done.returncode != 0:
                raise RuntimeError(f"setup_command failed in {repo}: {(done.stdout + done.stderr)[-2000:]}")
    if remote is not None:
        if remote.exists():
            shutil.rmtree(remote)
        remote.parent.mkdir(parents=True, exist_ok=True)
        git(remote.parent, "init", "-q", "--bare", "-b", "main", str(remote))
        git(repo, "remote", "add", "origin", str(remote))
        git(repo, "push", "-q", "origin", "main", "main:staging")
    return Materialised(repo=repo, bug_sha=bug_sha, remote=remote)
