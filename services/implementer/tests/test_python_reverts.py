"""A revert that deletes the route the suspect commit added drops the feature, not the fault: it is no candidate."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from medic_contracts import FixStrategy, RequestContext
from medic_implementer.job import FixOptions, implement_fix
from medic_testing.implementer import PY_TEST_COMMAND, diagnosis, local_forge, make_repo

GOOD = """from fastapi import FastAPI

app = FastAPI()
WEEK = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]


@app.get("/week")
def week() -> list[str]:
    return WEEK
"""

BUG = (
    GOOD
    + """

@app.get("/week/{day}")
def day_name(day: int) -> dict[str, str]:
    return {"name": WEEK[day]}
"""
)

TEST = """from fastapi.testclient import TestClient

from app.main import app


def test_week() -> None:
    assert len(TestClient(app).get("/week").json()) == 7
"""


async def test_a_revert_deleting_the_failing_route_is_no_candidate(
    tmp_path: Path, fix_options: Callable[..., FixOptions]
) -> None:
    repo = make_repo(
        tmp_path,
        good={"app/__init__.py": "", "app/main.py": GOOD, "tests/test_main.py": TEST},
        bug={"app/main.py": BUG},
        language="python",
        test_command=PY_TEST_COMMAND,
    )
    diag = diagnosis(
        affected_file="app/main.py",
        lines=(14, 14),
        title="IndexError: list index out of range",
        strategy=FixStrategy.REVERT_COMMIT,
        root_cause="the new route indexes the week with the request's day",
        suspect=repo.bug_sha,
        commit_sha=repo.bug_sha,
        request=RequestContext(method="GET", route="/week/{day}", url="http://testserver/week/7", status=500),
    ).model_copy(update={"affected_function": "day_name"})
    outcome = await implement_fix(diag, target=repo.target, repo=repo.path, options=fix_options(), forge=local_forge(repo.remote))
    assert outcome.strategy not in (FixStrategy.REVERT_COMMIT, FixStrategy.PARTIAL_REVERT), outcome
    assert not [c for c in outcome.candidates if c["origin"] == "revert"], outcome.candidates
