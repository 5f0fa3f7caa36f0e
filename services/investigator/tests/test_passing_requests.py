"""The issue's captured non-failing requests of the route reach the implementer as ``passing_request`` evidence."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from medic_contracts import IssueDetected, RequestContext
from medic_investigator.adapters.repo import Repository
from medic_investigator.job.investigate import investigate

from .helpers import BASE_DATE, issue_from_trace, make_repo, run_python, target_for
from .test_playbook_python import DB, ROUTES_BUGGY


async def test_recent_passing_requests_of_the_route_become_evidence_for_the_replay(tmp_path: Path) -> None:
    repo, _ = make_repo(tmp_path, {**DB, "app/routes.py": ROUTES_BUGGY})
    trace = run_python(repo, "from app.routes import practice_detail; practice_detail('404')")
    failing = RequestContext(method="GET", route="/practices/{id}", url="https://shop.example.com/practices/404", status=500)
    known = RequestContext(method="GET", route="/practices/{id}", url="https://shop.example.com/practices/1", status=200)
    issue = issue_from_trace(trace, first_seen=BASE_DATE + timedelta(days=60))
    issue = IssueDetected.model_validate({**issue.model_dump(), "request": failing, "passing_requests": [known]})
    inv = await investigate(issue, target=target_for(repo), repo=Repository(repo))
    [passing] = [e for e in inv.evidence if e.kind == "passing_request"]
    assert passing.detail is not None and json.loads(passing.detail)["url"] == known.url
    assert RequestContext.model_validate_json(passing.detail) == known


def test_a_version_1_0_issue_without_passing_requests_still_reads(tmp_path: Path) -> None:
    repo, _ = make_repo(tmp_path, {**DB, "app/routes.py": ROUTES_BUGGY})
    issue = issue_from_trace(run_python(repo, "from app.routes import practice_detail; practice_detail('404')"))
    old = {k: v for k, v in issue.model_dump(mode="json").items() if k != "passing_requests"} | {"schema_version": "1.0"}
    read = IssueDetected.model_validate(old)
    assert read.passing_requests == () and issue.schema_version == "1.1"
