"""Real git repositories and real failing runs for the investigator's tests."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from medic_contracts import ExceptionInfo, Frequency, IssueDetected, IssueType, Producer, Severity, StackFrame, TargetConfig
from medic_stacktrace import parse_trace
from medic_watcher.job.detect import detect_from_sentry_events

WATCHER = Producer(service="watcher", instance="test")
BASE_DATE = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def git(repo: Path, *args: str, date: datetime | None = None) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "Dev",
        "GIT_AUTHOR_EMAIL": "dev@example.com",
        "GIT_COMMITTER_NAME": "Dev",
        "GIT_COMMITTER_EMAIL": "dev@example.com",
        "GIT_CONFIG_GLOBAL": os.devnull,
    }
    if date is not None:
        env["GIT_AUTHOR_DATE"] = env["GIT_COMMITTER_DATE"] = date.isoformat()
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True, env=env).stdout


def write(repo: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = repo / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")


def make_repo(
    root: Path,
    base: dict[str, str],
    *,
    bug: dict[str, str] | None = None,
    bug_message: str = "Refactor",
    bug_date: datetime | None = None,
) -> tuple[Path, str | None]:
    """A repository with a base commit and (optionally) the bug as its own later commit; returns (path, bug sha)."""
    repo = root / "repo"
    repo.mkdir(parents=True)
    git(repo, "init", "-q", "-b", "main")
    write(repo, base)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "Initial app", date=BASE_DATE)
    sha = None
    if bug:
        write(repo, bug)
        git(repo, "add", "-A")
        git(repo, "commit", "-q", "-m", bug_message, date=bug_date or BASE_DATE + timedelta(days=5))
        sha = git(repo, "rev-parse", "HEAD").strip()
    return repo, sha


def run_python(repo: Path, code: str, *, deployed_prefix: str | None = None) -> str:
    """Run ``code`` in the repository and return the traceback it prints (it must fail)."""
    result = subprocess.run([sys.executable, "-c", code], cwd=repo, capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode != 0, result.stdout
    trace = result.stderr
    if deployed_prefix is not None:
        trace = trace.replace(str(repo.resolve()) + "/", deployed_prefix)
    return trace


def run_node(repo: Path, script: str, *, deployed_prefix: str | None = None) -> str:
    """Run a Node script in the repository and return the stack it prints (it must fail)."""
    result = subprocess.run(["node", "-e", script], cwd=repo, capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode != 0, result.stdout
    trace = result.stderr
    if deployed_prefix is not None:
        trace = trace.replace(str(repo.resolve()) + "/", deployed_prefix)
    return trace


def last_exception(trace: str) -> ExceptionInfo:
    """The exception line of a Python traceback or a Node stack."""
    lines = [ln for ln in trace.strip().splitlines() if ln.strip()]
    for line in reversed(lines):
        if ": " in line and not line.startswith((" ", "\t")):
            kind, _, value = line.partition(": ")
            if kind.replace(".", "").replace("_", "").isalnum():
                return ExceptionInfo(type=kind.rsplit(".", 1)[-1], value=value)
    for line in lines:  # Node: "TypeError: ..." comes before the frames
        if ": " in line and not line.startswith((" ", "\t")) and not line.startswith("node:"):
            kind, _, value = line.partition(": ")
            return ExceptionInfo(type=kind, value=value)
    raise AssertionError(f"no exception line in {trace!r}")


def issue_from_trace(
    trace: str,
    *,
    first_seen: datetime | None = None,
    frames: tuple[StackFrame, ...] | None = None,
    issue_id: str = "iss_test",
    fingerprint: str = "fp_test",
    commit: str | None = None,
    severity: Severity = Severity.P2,
    title: str | None = None,
) -> IssueDetected:
    exc = last_exception(trace)
    seen = first_seen or BASE_DATE + timedelta(days=5, hours=2)
    return IssueDetected(
        producer=WATCHER,
        issue_id=issue_id,
        target="shop",
        service="web",
        severity=severity,
        issue_type=IssueType.API_ERROR,
        title=title or f"{exc.type}: {exc.value}"[:200],
        message=f"{exc.type}: {exc.value}",
        fingerprint=fingerprint,
        frequency=Frequency(count=5, window_seconds=300, total=5),
        first_seen=seen,
        last_seen=seen + timedelta(minutes=5),
        exception=exc,
        frames=frames if frames is not None else parse_trace(trace).frames,
        raw_trace=trace,
        commit_sha=commit,
        source="logfile",
    )


def target_for(repo: Path, language: str = "python", **extra: object) -> TargetConfig:
    return TargetConfig.model_validate(
        {"name": "shop", "repo": str(repo), "language": language, "test_command": "pytest -q", **extra}
    )


def issue_from_sentry_event(event: Mapping[str, Any], *, target: TargetConfig | None = None) -> IssueDetected:
    """The IssueDetected the watcher publishes for one Sentry event, from its one builder.

    Frame paths are resolved against ``target``'s checkout; without one, against none (the
    deployed paths are only cleaned).
    """
    (issue,) = detect_from_sentry_events([event], target=target or target_for(Path(__file__).parent / "no-checkout"))
    return issue
