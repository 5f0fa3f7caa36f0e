"""Real Sentry-protocol events (../shared/data/sentry-events): frames, culprit choice with repo context, diagnosis."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest

from medic_contracts import FixStrategy, StackFrame
from medic_investigator.adapters.providers import PlaybookProvider
from medic_investigator.job.diagnose import diagnose_issue
from medic_stacktrace import RepoPathResolver, is_library_path, repo_frame_path, repo_frames

from .helpers import issue_from_sentry_event, make_repo, target_for

EVENTS = Path(__file__).resolve().parents[3] / ".." / "shared" / "data" / "sentry-events"
if not EVENTS.is_dir():
    EVENTS = Path("/work/shared/data/sentry-events")
pytestmark = pytest.mark.skipif(not EVENTS.is_dir(), reason="shared data folder not present")


def _manifest() -> list[dict[str, str]]:
    with (EVENTS / "manifest.csv").open() as fh:
        return [row for row in csv.DictReader(fh) if row["platform"] in {"python", "javascript", "node"}]


def _event(name: str) -> dict[str, Any]:
    return json.loads((EVENTS / name).read_text())  # type: ignore[no-any-return]


def test_every_python_and_javascript_event_becomes_an_issue_with_its_frames() -> None:
    rows = _manifest()
    assert len(rows) >= 20
    for row in rows:
        issue = issue_from_sentry_event(_event(row["file"]))
        if int(row["n_exceptions"]) == 0:
            assert issue.exception is None and issue.frames == (), row["file"]
            continue
        assert issue.exception is not None, row["file"]
        if row["exception_type"] and int(row["n_frames"]):
            assert issue.exception.type == row["exception_type"], row["file"]
            # The manifest counts every frame; one naming no file, path or module (a V8 builtin such
            # as ``Array.find``) locates nothing, and the watcher's builder leaves it out.
            located = int(row["n_frames"]) - sum(not _located(f) for f in _sdk_frames(_event(row["file"])))
            # The manifest counts frames across the chain; the issue carries the last raised exception's.
            if int(row["n_exceptions"]) == 1:
                assert len(issue.frames) == located, row["file"]
            else:
                assert 0 < len(issue.frames) <= located, row["file"]


def _sdk_frames(event: dict[str, Any]) -> list[dict[str, Any]]:
    """The frames as the SDK sent them, across the exception chain."""
    exception = event.get("exception") or {}
    values = (exception.get("values") or []) if isinstance(exception, dict) else exception
    return [f for v in values for f in (v.get("stacktrace") or {}).get("frames") or [] if isinstance(f, dict)]


def _located(frame: dict[str, Any]) -> bool:
    return bool(frame.get("filename") or frame.get("abs_path") or frame.get("module"))


def _repo_from_frames(tmp_path: Path, event: dict[str, Any], app_prefix: str) -> Path:
    """Rebuild the application's files from the source context the SDK sent (lines at their real numbers)."""
    files: dict[str, list[str]] = {}
    for frame in _sdk_frames(event):
        path, line, context_line = frame.get("abs_path") or "", frame.get("lineno"), frame.get("context_line")
        if not path.startswith(app_prefix) or line is None or context_line is None:
            continue
        rel = path.removeprefix(app_prefix)
        lines = files.setdefault(rel, [])
        pre_context, post_context = frame.get("pre_context") or [], frame.get("post_context") or []
        start = line - len(pre_context)
        block = [*pre_context, context_line, *post_context]
        while len(lines) < start - 1 + len(block):
            lines.append("")
        for i, text in enumerate(block):
            lines[start - 1 + i] = text
    # Lines the SDK did not send are filled so the module still parses.
    texts = {name: "\n".join(line if line.strip() else "#" for line in lines) + "\n" for name, lines in files.items()}
    repo, _ = make_repo(tmp_path, texts)
    return repo


@pytest.mark.parametrize(
    ("name", "strategy", "line"),
    [
        ("python_glitchtip_zero_division.json", FixStrategy.ZERO_GUARD, 18),
        ("python_glitchtip_django_post_error.json", FixStrategy.MISSING_KEY_GUARD, 22),
    ],
)
async def test_django_events_skip_framework_frames_marked_in_app_and_diagnose_the_view(
    tmp_path: Path, name: str, strategy: FixStrategy, line: int
) -> None:
    event = _event(name)
    repo = _repo_from_frames(tmp_path, event, "/code/")
    issue = issue_from_sentry_event(event, target=target_for(repo))
    sent = _sdk_frames(event)
    assert sent[-1]["in_app"]  # the SDK calls Django's own frames in-app too…
    assert any(is_library_path(f["abs_path"]) for f in sent)
    assert not any(f.in_app for f in issue.frames if f.file.startswith("django/"))  # …the watcher's builder does not

    diagnosis = await diagnose_issue(issue, target=target_for(repo), repo=repo, provider=PlaybookProvider())

    assert diagnosis.affected_file == "errors/views.py"  # …the repository decides: the view is the culprit
    assert diagnosis.affected_lines is not None and diagnosis.affected_lines.first == line
    assert diagnosis.fix_strategy == strategy


def test_deployed_and_bundler_paths_map_to_repository_files() -> None:
    files = ["src/app/api/practices/[id]/route.ts", "src/lib/db.ts", "app/routes.py", "errors/views.py", "src/index.ts"]
    resolver = RepoPathResolver(files)
    cases = {
        "/var/task/src/lib/db.ts": "src/lib/db.ts",
        "webpack://shop/./src/lib/db.ts": "src/lib/db.ts",
        "webpack-internal:///(rsc)/./src/app/api/practices/[id]/route.ts": "src/app/api/practices/[id]/route.ts",
        "app:///src/lib/db.ts": "src/lib/db.ts",
        "/app/app/routes.py": "app/routes.py",
        "/code/errors/views.py": "errors/views.py",
        "http://localhost:3000/_next/static/chunks/src/lib/db.ts": "src/lib/db.ts",
        "/usr/local/lib/python3.11/site-packages/django/core/handlers/base.py": None,
        "/var/task/node_modules/next/dist/server/base-server.js": None,
        "node:internal/process/task_queues": None,
    }
    for path, expected in cases.items():
        assert repo_frame_path(StackFrame(file=path), resolver) == expected, path
    prefixed = RepoPathResolver(files, {"/srv/x/": "src/lib/"})
    assert repo_frame_path(StackFrame(file="/srv/x/db.ts"), prefixed) == "src/lib/db.ts"


def test_browser_events_without_repository_files_have_no_culprit() -> None:
    resolver = RepoPathResolver(["src/index.ts"])
    for name in (
        "javascript_sentry_xbrowser_chrome.json",
        "javascript_sentry_xbrowser_firefox.json",
        "javascript_glitchtip_small_error.json",
    ):
        issue = issue_from_sentry_event(_event(name))
        assert issue.frames and repo_frames(issue.frames, resolver) == [], name
