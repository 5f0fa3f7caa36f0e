"""Fixing at the origin, on a real git repository with real test runs: the callee a commit broke is restored as it
was, and only it (the commit's other additions stay); the function-level restore refuses what it cannot do safely."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from medic_contracts import Evidence, FixStrategy, LineRange, RequestContext, SuspectCommit, ValueOrigin, utcnow
from medic_implementer.domain.origin_revert import restore_function
from medic_implementer.job import FixOptions, OutcomeKind, implement_fix
from medic_testing.implementer import PY_TEST_COMMAND, FixtureRepo, diagnosis, git, local_forge, make_repo

PREFS = '''DEFAULT_HOUR = 8
SETTINGS = {"r1": {"hour": 6}}


def digest_hour(reader_id: str) -> int:
    """The digest hour; 8 when the reader never chose one."""
    return SETTINGS.get(reader_id, {}).get("hour", DEFAULT_HOUR)
'''
PREFS_BUG = '''DEFAULT_HOUR = 8
SETTINGS = {"r1": {"hour": 6, "quiet": 22}}


def _saved(reader_id: str) -> dict[str, int] | None:
    return SETTINGS.get(reader_id)


def digest_hour(reader_id: str) -> int:
    """The digest hour; 8 when the reader never chose one."""
    saved = _saved(reader_id)
    if saved is None:
        return None  # type: ignore[return-value]
    return saved.get("hour", DEFAULT_HOUR)


def quiet_from(reader_id: str) -> int:
    return (_saved(reader_id) or {}).get("quiet", 23)
'''
MAIN = """from fastapi import FastAPI

from app.prefs import digest_hour

app = FastAPI()


@app.get("/readers/{reader_id}/digest")
def digest(reader_id: str) -> dict[str, int]:
    hour = digest_hour(reader_id)
    return {"at": (hour + 1) % 24}
"""
TESTS = """import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fastapi.testclient import TestClient

from app.main import app


def test_saved_hour() -> None:
    assert TestClient(app).get("/readers/r1/digest").json() == {"at": 7}
"""


@pytest.fixture
def origin_repo(tmp_path: Path) -> FixtureRepo:
    return make_repo(
        tmp_path,
        good={"app/__init__.py": "", "app/prefs.py": PREFS, "app/main.py": MAIN, "tests/test_digest.py": TESTS},
        bug={"app/prefs.py": PREFS_BUG},
        language="python",
        test_command=PY_TEST_COMMAND,
    )


async def test_the_broken_callee_is_restored_and_the_commits_other_additions_stay(
    origin_repo: FixtureRepo, fix_options: Callable[..., FixOptions]
) -> None:
    base = diagnosis(
        affected_file="app/main.py",
        lines=(11, 11),
        title="TypeError: unsupported operand type(s) for +: 'NoneType' and 'int'",
        strategy=FixStrategy.PARTIAL_REVERT,
        root_cause="`hour` is nothing: digest_hour can return nothing since the last commit",
        request=RequestContext(
            method="GET", route="/readers/{reader_id}/digest", url="http://testserver/readers/r9/digest", status=500
        ),
        commit_sha=origin_repo.bug_sha,
        issue_id="iss_digest",
        evidence=(
            Evidence(kind="git_blame", summary="app/prefs.py:13 last changed by the suspect", source="app/prefs.py:11-14"),
        ),
    )
    diag = base.model_copy(
        update={
            "suspect_commit": SuspectCommit(
                sha=origin_repo.bug_sha, author="Dev <dev@example.com>", date=utcnow(), message="Quiet hours"
            ),
            "origin": ValueOrigin(
                file="app/prefs.py", lines=LineRange(first=11, last=14), function="digest_hour", commit=origin_repo.bug_sha
            ),
        }
    )
    outcome = await implement_fix(
        diag, target=origin_repo.target, repo=origin_repo.path, options=fix_options(), forge=local_forge(origin_repo.remote)
    )
    assert outcome.kind is OutcomeKind.COMMITTED, (outcome.reasons, outcome.candidates)
    assert outcome.description.startswith("restore `digest_hour` in app/prefs.py")
    fixed = git(origin_repo.path, "show", f"{outcome.commit_sha}:app/prefs.py")
    assert 'return SETTINGS.get(reader_id, {}).get("hour", DEFAULT_HOUR)' in fixed
    assert "def quiet_from(" in fixed and "def _saved(" in fixed and '"quiet": 22' in fixed
    assert git(origin_repo.path, "show", f"{outcome.commit_sha}:app/main.py") == MAIN.rstrip("\n")
    assert outcome.reproduced and outcome.verified


def test_restore_replaces_only_the_named_function() -> None:
    restored = restore_function(PREFS_BUG, PREFS, "digest_hour", path="app/prefs.py")
    assert restored is not None
    assert 'return SETTINGS.get(reader_id, {}).get("hour", DEFAULT_HOUR)' in restored
    assert "return None" not in restored
    assert "def quiet_from(" in restored and '"quiet": 22' in restored


@pytest.mark.parametrize(
    ("current", "previous", "name", "path"),
    [
        (PREFS_BUG, PREFS, "quiet_from", "app/prefs.py"),  # absent before: nothing to restore
        (PREFS_BUG, PREFS, "digest_hour", "src/prefs.ts"),  # not Python
        (PREFS_BUG, "def digest_hour(:\n", "digest_hour", "app/prefs.py"),  # the old file does not parse
        (PREFS, PREFS, "digest_hour", "app/prefs.py"),  # nothing would change
        (PREFS_BUG + "\n\nclass A:\n    def digest_hour(self) -> int:\n        return 1\n", PREFS, "digest_hour", "app/prefs.py"),
    ],
)
def test_restore_refuses_what_it_cannot_do_safely(current: str, previous: str, name: str, path: str) -> None:
    assert restore_function(current, previous, name, path=path) is None
