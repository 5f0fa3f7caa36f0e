"""Real Sentry-protocol events (../shared/data/sentry-events): frames, culprit choice with repo context, diagnosis."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from medic_contracts import FixStrategy, StackFrame
from medic_investigator.adapters.providers import PlaybookProvider
from medic_investigator.job.diagnose import diagnose_issue
from medic_stacktrace import RepoPathResolver, is_library_path, repo_frame_path, repo_frames
from medic_testing.investigator.sentry_event import issue_from_sentry_event

from .helpers import make_repo, target_for

EVENTS = Path(__file__).resolve().parents[3] / ".." / "shared" / "data" / "sentry-events"
if not EVENTS.is_dir():
    EVENTS = Path("/work/shared/data/sentry-events")
pytestmark = pytest.mark.skipif(not EVENTS.is_dir(), reason="shared data folder not present")


def _manifest() -> list[dict[str, str]]:
    with (EVENTS / "manifest.csv").open() as fh:
        return [row for row in csv.DictReader(fh) if row["platform"] in {"python", "javascript", "node"}]


def _event(name: str) -> dict[str, object]:
    return json.loads((EVENTS / name).read_text())  # type: ignore[no-any-return]


def test_every_python_and_javascript_event_becomes_an_issue_with_its_frames() -> None:
    rows = _manifest()
    assert len(rows) >= 20
    for row in rows:
        issue = issue_from_sentry_event(_event(row["file"]), target="shop")
        if int(row["n_exceptions"]) == 0:
            assert issue.exception is None and issue.frames == (), row["file"]
            continue
        assert issue.exception is not None, row["file"]
        if row["exception_type"] and int(row["n_frames"]):
            assert issue.exception.type == row["exception_type"], row["file"]
            # The manifest counts frames across the chain; the issue carries the last raised exception's.
            if int(row["n_exceptions"]) == 1:
                assert len(issue.frames) == int(row["n_frames"]), row["file"]
            else:
                assert 0 < len(issue.frames) <= int(row["n_frames"]), row["file"]


def _repo_from_frames(tmp_path: Path, event: dict[str, object], app_prefix: str) -> Path:
    """Rebuild the application's files from the source context the SDK sent (lines at their real numbers)."""
    issue = issue_from_sentry_event(event, target="shop")
    files: dict[str, list[str]] = {}
    for frame in issue.frames:
        if not frame.file.startswith(app_prefix) or frame.line is None or frame.context_line is None:
            continue
        rel = frame.file.removeprefix(app_prefix)
        lines = files.setdefault(rel, [])
        start = frame.line - len(frame.pre_context)
        block = [*frame.pre_context, frame.context_line, *frame.post_context]
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
    issue = issue_from_sentry_event(event, target="shop")
    assert issue.frames[-1].in_app  # the SDK calls Django's own frames in-app too…
    assert any(is_library_path(f.file) for f in issue.frames)

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
        issue = issue_from_sentry_event(_event(name), target="shop")
        assert issue.frames and repo_frames(issue.frames, resolver) == [], name
