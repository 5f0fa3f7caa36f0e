"""Fixture repositories (real git, a bare remote as the forge), their sources, and diagnoses of their bug."""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from medic_contracts import (
    DiagnosisReady,
    Evidence,
    FixStrategy,
    IssueBrief,
    IssueType,
    LineRange,
    Producer,
    RequestContext,
    Severity,
    SuspectCommit,
    TargetConfig,
    utcnow,
)
from medic_forge.git import hardened_argv, hardened_env

GIT_ENV = {
    "GIT_AUTHOR_NAME": "Dev",
    "GIT_AUTHOR_EMAIL": "dev@example.com",
    "GIT_COMMITTER_NAME": "Dev",
    "GIT_COMMITTER_EMAIL": "dev@example.com",
    "GIT_CONFIG_GLOBAL": "/dev/null",
    "GIT_CONFIG_NOSYSTEM": "1",
}


def git(cwd: Path, *args: str) -> str:
    env = {**hardened_env(os.environ), **GIT_ENV}
    return subprocess.run([*hardened_argv(), *args], cwd=cwd, env=env, check=True, capture_output=True, text=True).stdout.strip()


def write_files(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


@dataclass
class FixtureRepo:
    """A target clone with history, its bare remote, and the commit that introduced the bug."""

    path: Path
    remote: Path
    good_sha: str
    bug_sha: str
    target: TargetConfig


def make_repo(
    root: Path, *, good: dict[str, str], bug: dict[str, str], language: str, test_command: str, **target: Any
) -> FixtureRepo:
    remote = root / "remote.git"
    repo = root / "clone"
    subprocess.run(["git", "init", "--quiet", "--bare", "-b", "main", str(remote)], check=True)
    repo.mkdir()
    git(repo, "init", "--quiet", "-b", "main")
    write_files(repo, {".gitignore": "__pycache__/\n.pytest_cache/\nnode_modules/\n", **good})
    git(repo, "add", "-A")
    git(repo, "commit", "--quiet", "-m", "Initial application")
    good_sha = git(repo, "rev-parse", "HEAD")
    write_files(repo, bug)
    git(repo, "add", "-A")
    git(repo, "commit", "--quiet", "-m", "Simplify practice lookup")
    bug_sha = git(repo, "rev-parse", "HEAD")
    git(repo, "remote", "add", "origin", str(remote))
    git(repo, "push", "--quiet", "origin", "main", "main:staging")
    config = TargetConfig(
        name="shop",
        repo=str(repo),
        language=language,  # type: ignore[arg-type]
        test_command=test_command,
        test_timeout_s=120,
        forge={"kind": "local", "remote": str(remote)},
        **target,
    )
    return FixtureRepo(path=repo, remote=remote, good_sha=good_sha, bug_sha=bug_sha, target=config)


PY_DB = '''"""Practice storage."""

from dataclasses import dataclass


@dataclass
class Practice:
    id: str
    name: str


PRACTICES = {"1": Practice(id="1", name="Harbour Dental")}


def get_practice(practice_id: str) -> Practice | None:
    return PRACTICES.get(practice_id)
'''

PY_MAIN_GOOD = """from fastapi import FastAPI, HTTPException

from app.db import get_practice

app = FastAPI()


@app.get("/api/practices/{practice_id}")
def read_practice(practice_id: str) -> dict[str, str]:
    practice = get_practice(practice_id)
    if practice is None:
        raise HTTPException(status_code=404, detail="Practice not found")
    return {"id": practice.id, "name": practice.name}
"""

PY_MAIN_BUG = """from fastapi import FastAPI

from app.db import get_practice

app = FastAPI()


@app.get("/api/practices/{practice_id}")
def read_practice(practice_id: str) -> dict[str, str]:
    practice = get_practice(practice_id)
    return {"id": practice.id, "name": practice.name}
"""

PY_TEST = """import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fastapi.testclient import TestClient

from app.main import app


def test_known_practice_is_returned() -> None:
    response = TestClient(app).get("/api/practices/1")
    assert response.status_code == 200
    assert response.json()["name"] == "Harbour Dental"
"""

PY_TEST_COMMAND = "PYTEST_DISABLE_PLUGIN_AUTOLOAD=1 python -m pytest -q -p no:cacheprovider tests"


TS_DB = """export type Practice = { id: string; name: string };

const practices: Record<string, Practice> = { "1": { id: "1", name: "Harbour Dental" } };

export function getPractice(id: string): Practice | null {
  return practices[id] ?? null;
}
"""

TS_ROUTE_GOOD = """import { getPractice } from "../../../../lib/db";

export async function GET(_request: Request, { params }: { params: { id: string } }) {
  const practice = getPractice(params.id);
  if (!practice) {
    return Response.json({ error: "Practice not found" }, { status: 404 });
  }
  return Response.json({ id: practice.id, name: practice.name });
}
"""

TS_ROUTE_BUG = """import { getPractice } from "../../../../lib/db";

export async function GET(_request: Request, { params }: { params: { id: string } }) {
  const practice = getPractice(params.id);
  return Response.json({ id: practice.id, name: practice.name });
}
"""

TS_TEST = """import { test } from "node:test";
import assert from "node:assert/strict";
import { GET } from "./route";

test("a known practice is returned", async () => {
  const response = await GET(new Request("http://localhost/api/practices/1"), { params: { id: "1" } });
  assert.equal(response.status, 200);
  assert.equal((await response.json()).name, "Harbour Dental");
});
"""

TS_ROUTE = "src/app/api/practices/[id]/route.ts"


def tsx_bin_dir() -> Path | None:
    """A directory holding tsx: the Medic checkout's tools/node, or MEDIC_TEST_NODE_BIN."""
    for candidate in (
        Path(__file__).resolve().parents[5] / "tools" / "node" / "node_modules" / ".bin",
        Path(os.environ.get("MEDIC_TEST_NODE_BIN", "/nonexistent")),
    ):
        if (candidate / "tsx").exists():
            return candidate
    found = shutil.which("tsx")
    return Path(found).parent if found else None


def diagnosis(
    *,
    affected_file: str | None,
    lines: tuple[int, int] | None,
    title: str,
    strategy: FixStrategy = FixStrategy.NULL_GUARD,
    root_cause: str = "the lookup returns None for an unknown id and the handler reads .name",
    fix_hint: str | None = None,
    suspect: str | None = None,
    request: RequestContext | None = None,
    severity: Severity = Severity.P2,
    affected_users: int = 3,
    commit_sha: str | None = None,
    issue_id: str = "iss_practice",
    evidence: tuple[Evidence, ...] = (),
) -> DiagnosisReady:
    ev = list(evidence)
    if request is not None:
        ev.append(Evidence(kind="request", summary="failing request", detail=request.model_dump_json()))
    return DiagnosisReady(
        producer=Producer(service="investigator", instance="test"),
        issue_id=issue_id,
        issue=IssueBrief(
            target="shop",
            service="web",
            title=title,
            severity=severity,
            issue_type=IssueType.API_ERROR,
            fingerprint="fp1",
            affected_users=affected_users,
            commit_sha=commit_sha,
        ),
        root_cause=root_cause,
        affected_file=affected_file,
        affected_lines=LineRange(first=lines[0], last=lines[1]) if lines else None,
        fix_strategy=strategy,
        fix_hint=fix_hint,
        suspect_commit=SuspectCommit(
            sha=suspect, author="Dev <dev@example.com>", date=utcnow(), message="Simplify practice lookup"
        )
        if suspect
        else None,
        confidence=0.9,
        fixability=0.9,
        estimated_fix_time=timedelta(minutes=5),
        evidence=tuple(ev),
        provider="playbook",
    )


def python_diagnosis(repo: FixtureRepo, **overrides: Any) -> DiagnosisReady:
    values: dict[str, Any] = {
        "affected_file": "app/main.py",
        "lines": (11, 11),
        "title": "AttributeError: 'NoneType' object has no attribute 'id'",
        "request": RequestContext(
            method="GET", route="/api/practices/{practice_id}", url="http://testserver/api/practices/999", status=500
        ),
        "commit_sha": repo.bug_sha,
    }
    values.update(overrides)
    return diagnosis(**values)


def python_fixture_repo(root: Path) -> FixtureRepo:
    """A FastAPI-style app whose latest commit dropped the None check on a practice lookup."""
    return make_repo(
        root,
        good={"app/__init__.py": "", "app/db.py": PY_DB, "app/main.py": PY_MAIN_GOOD, "tests/test_main.py": PY_TEST},
        bug={"app/main.py": PY_MAIN_BUG},
        language="python",
        test_command=PY_TEST_COMMAND,
    )
