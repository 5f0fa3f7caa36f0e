"""What a repository says about itself: its language, how its tests run, how it is set up, where its code is.

Only facts read from the repository (manifest files, lock files, scripts, git): nothing is guessed that
the repository does not show. Where it shows nothing, the answer is None and the file written says so.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from medic_forge.git import hardened_argv, hardened_env

__all__ = ["RepoFacts", "detect"]

_SOURCE_DIRS = ("src", "app", "lib", "server", "api", "pages", "packages")
_GITHUB = re.compile(r"github\.com[:/]([A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+?)(?:\.git)?/?$")


@dataclass(slots=True)
class RepoFacts:
    """What :func:`detect` found."""

    root: Path
    name: str
    language: str
    test_command: str | None
    setup_command: str | None
    source_roots: list[str] = field(default_factory=list)
    default_branch: str = "main"
    github_repo: str | None = None
    local_remote: str | None = None
    start_command: str | None = None
    present_protected: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        return {}


def _git(root: Path, *args: str) -> str | None:
    # the repository is the user's, not yet Medic's: read it with the same hardened git as every other call
    done = subprocess.run(
        [*hardened_argv(), "-C", str(root), *args],
        env=hardened_env(os.environ),
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    return done.stdout.strip() or None if done.returncode == 0 else None


def _name(root: Path, package: dict[str, Any], pyproject: dict[str, Any]) -> str:
    raw = str(package.get("name") or pyproject.get("project", {}).get("name") or root.name)
    slug = re.sub(r"[^a-z0-9_-]+", "-", raw.rsplit("/", maxsplit=1)[-1].lower()).strip("-_") or "app"
    return slug[:63] if slug[0].isalnum() else f"app-{slug}"[:63]


def _node(root: Path, package: dict[str, Any], facts: RepoFacts) -> None:
    raw_scripts = package.get("scripts")
    scripts: dict[str, Any] = raw_scripts if isinstance(raw_scripts, dict) else {}
    runner = "pnpm" if (root / "pnpm-lock.yaml").exists() else "yarn" if (root / "yarn.lock").exists() else "npm"
    if scripts.get("test") and "no test specified" not in str(scripts["test"]):
        facts.test_command = f"{runner} test"
    facts.setup_command = {
        "npm": "npm ci" if (root / "package-lock.json").exists() else "npm install",
        "pnpm": "pnpm install --frozen-lockfile",
        "yarn": "yarn install --frozen-lockfile",
    }[runner]
    if scripts.get("start"):
        facts.start_command = f"PORT={{port}} {runner} run start"
    deps = {**(package.get("dependencies") or {}), **(package.get("devDependencies") or {})}
    typescript = (root / "tsconfig.json").exists() or "typescript" in deps
    facts.language = "typescript" if typescript else "javascript"
    if "next" in deps:
        facts.notes.append("Next.js app: frames in .next/server map back to src/app through the build's source maps")


def _python(root: Path, pyproject: dict[str, Any], facts: RepoFacts) -> None:
    facts.language = "python"
    tools = pyproject.get("tool", {})
    has_tests = (root / "tests").is_dir() or (root / "test").is_dir() or "pytest" in tools or (root / "pytest.ini").exists()
    if (root / "uv.lock").exists():
        facts.setup_command = "uv sync --frozen"
        facts.test_command = "uv run pytest" if has_tests else None
    elif (root / "poetry.lock").exists():
        facts.setup_command = "poetry install"
        facts.test_command = "poetry run pytest" if has_tests else None
    else:
        if (root / "requirements.txt").exists():
            facts.setup_command = "python -m venv .venv && .venv/bin/pip install -r requirements.txt"
        elif pyproject:
            facts.setup_command = "python -m venv .venv && .venv/bin/pip install -e ."
        facts.test_command = (".venv/bin/python -m pytest" if facts.setup_command else "python -m pytest") if has_tests else None
    text = " ".join(str(d) for d in pyproject.get("project", {}).get("dependencies", []))
    if (root / "requirements.txt").exists():
        text += " " + (root / "requirements.txt").read_text(encoding="utf-8", errors="replace")
    if "fastapi" in text.lower():
        for module in ("app.main", "main", "app"):
            if (root / (module.replace(".", "/") + ".py")).exists():
                facts.start_command = f"uvicorn {module}:app --host 127.0.0.1 --port {{port}}"
                break


def detect(root: Path, *, protected_candidates: tuple[str, ...] = ()) -> RepoFacts:
    """Read ``root`` and say what it is; ``protected_candidates`` are globs reported when present."""
    root = root.resolve()
    package = _read_json(root / "package.json")
    pyproject = _read_toml(root / "pyproject.toml")
    facts = RepoFacts(root=root, name=_name(root, package, pyproject), language="python", test_command=None, setup_command=None)
    if package:
        _node(root, package, facts)
    elif pyproject or (root / "requirements.txt").exists() or (root / "setup.py").exists():
        _python(root, pyproject, facts)
    else:
        facts.notes.append("no package.json or pyproject.toml: language assumed python, check it")
    facts.source_roots = [d for d in _SOURCE_DIRS if (root / d).is_dir()]
    branch = _git(root, "symbolic-ref", "--short", "HEAD")
    facts.default_branch = branch or "main"
    origin = _git(root, "remote", "get-url", "origin")
    if origin and (match := _GITHUB.search(origin)):
        facts.github_repo = match.group(1)
    elif origin and not re.match(r"^[a-z+]+://|^[^/]+@", origin):
        facts.local_remote = origin
    for glob in protected_candidates:
        if any(root.glob(glob)):
            facts.present_protected.append(glob)
    return facts
