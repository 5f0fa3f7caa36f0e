"""A real repository with a bug, its medic.toml (offline playbook) and IssueDetected events carrying a real traceback.

Used by the scale test (a burst over three investigators) and the fault bench (one issue delivered three times).
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from datetime import UTC, datetime
from pathlib import Path

from medic_contracts import ExceptionInfo, Frequency, IssueDetected, IssueType, Producer, Severity

__all__ = ["ROUTES", "buggy_target", "issue_detected"]

ROUTES = textwrap.dedent(
    """\
    PRACTICES = {"p1": {"name": "Leeds Dental"}}


    def find_practice(practice_id):
        return PRACTICES.get(practice_id)


    def practice_detail(practice_id):
        practice = find_practice(practice_id)
        return {"id": practice_id, "name": practice["name"]}
    """
)


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=True).stdout.strip()


def buggy_target(tmp_path: Path) -> tuple[Path, str, str]:
    """A real repository with a bug, its medic.toml, and a real traceback of the bug: (toml, commit, trace)."""
    repo = tmp_path / "repo"
    (repo / "app").mkdir(parents=True)
    (repo / "app" / "__init__.py").write_text("")
    (repo / "app" / "routes.py").write_text(ROUTES)
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "-c", "user.name=Dev", "-c", "user.email=dev@example.com", "add", ".")
    _git(repo, "-c", "user.name=Dev", "-c", "user.email=dev@example.com", "commit", "-q", "-m", "routes")
    trace = subprocess.run(
        [sys.executable, "-c", "from app.routes import practice_detail; practice_detail('p404')"],
        cwd=repo,
        capture_output=True,
        text=True,
        check=False,
    ).stderr
    if "TypeError" not in trace:
        raise RuntimeError(f"the fixture bug did not raise a TypeError:\n{trace}")
    toml = tmp_path / "medic.toml"
    toml.write_text(
        f'[target]\nname = "shop"\nrepo = "{repo}"\nlanguage = "python"\ntest_command = "pytest -q"\n\n'
        '[llm]\nprovider = "playbook"\n'
    )
    return toml, _git(repo, "rev-parse", "HEAD"), trace


def issue_detected(n: int, trace: str, commit: str, *, prefix: str = "iss_burst") -> IssueDetected:
    """Issue number ``n`` of the bug (its own id and fingerprint)."""
    now = datetime.now(UTC)
    return IssueDetected(
        producer=Producer(service="watcher", instance="w-1"),
        issue_id=f"{prefix}_{n:03d}",
        target="shop",
        service="web",
        severity=Severity.P2,
        issue_type=IssueType.API_ERROR,
        title="TypeError: 'NoneType' object is not subscriptable",
        message="TypeError: 'NoneType' object is not subscriptable",
        fingerprint=f"fp_{prefix.removeprefix('iss_')}_{n:03d}",
        frequency=Frequency(count=3, window_seconds=300, total=3),
        first_seen=now,
        last_seen=now,
        exception=ExceptionInfo(type="TypeError", value="'NoneType' object is not subscriptable"),
        raw_trace=trace,
        commit_sha=commit,
        source="logfile",
    )
