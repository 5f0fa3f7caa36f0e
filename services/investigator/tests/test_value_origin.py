"""Where the bad value came from, on real git repositories and real tracebacks: a callee in another file that a
commit changed shortly before the issue is the origin; an old callee is not."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from medic_contracts import FixStrategy
from medic_investigator.adapters.providers import PlaybookProvider
from medic_investigator.job.diagnose import diagnose_issue

from .helpers import BASE_DATE, issue_from_trace, make_repo, run_python, target_for

USERS = '''USERS = {"u1": "ada"}


def display_name(user_id: str) -> str:
    """The user's display name; "guest" for an unknown id."""
    return USERS.get(user_id, "guest")
'''
USERS_BUG = '''USERS = {"u1": "ada"}
AVATARS = {"u1": "ada.png"}


def display_name(user_id: str) -> str:
    """The user's display name; "guest" for an unknown id."""
    return USERS.get(user_id)


def avatar(user_id: str) -> str:
    return AVATARS.get(user_id, "default.png")
'''
MAIN = """
    from app.users import display_name


    def greeting(user_id: str) -> str:
        name = display_name(user_id)
        return "Hello " + name.upper()
"""
BASE = {"app/__init__.py": "", "app/users.py": USERS, "app/main.py": MAIN}
CALL = "from app.main import greeting; greeting('u9')"


async def test_a_callee_changed_shortly_before_the_issue_is_the_origin(tmp_path: Path) -> None:
    repo, sha = make_repo(tmp_path, BASE, bug={"app/users.py": USERS_BUG}, bug_message="Add avatars")
    issue = issue_from_trace(run_python(repo, CALL, deployed_prefix="/app/"))

    diagnosis = await diagnose_issue(issue, target=target_for(repo), repo=repo, provider=PlaybookProvider())

    assert diagnosis.origin is not None
    assert (diagnosis.origin.file, diagnosis.origin.function, diagnosis.origin.commit) == ("app/users.py", "display_name", sha)
    assert diagnosis.origin.lines.first <= 7 <= diagnosis.origin.lines.last
    assert diagnosis.origin.lines.last <= 7  # the callee's own lines, not the function the commit added after it
    assert diagnosis.suspect_commit is not None and diagnosis.suspect_commit.sha == sha
    assert diagnosis.fix_strategy is FixStrategy.PARTIAL_REVERT
    assert diagnosis.affected_file == "app/main.py"  # the crash site: where the failure is reproduced
    assert "display_name" in diagnosis.root_cause


async def test_an_old_callee_is_no_origin_and_the_crash_site_is_guarded(tmp_path: Path) -> None:
    repo, _sha = make_repo(tmp_path, BASE, bug={"app/users.py": USERS_BUG}, bug_date=BASE_DATE + timedelta(days=1))
    issue = issue_from_trace(run_python(repo, CALL, deployed_prefix="/app/"), first_seen=BASE_DATE + timedelta(days=60))

    diagnosis = await diagnose_issue(issue, target=target_for(repo), repo=repo, provider=PlaybookProvider())

    assert diagnosis.origin is None
    assert diagnosis.fix_strategy is FixStrategy.NULL_GUARD
