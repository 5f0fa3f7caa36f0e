"""End to end: a real ``implement_fix`` of a target repository whose test command attacks, under a parent holding a
secret, leaks nothing and plants no hook; a fix tested without the sandbox says so in FixCommitted and the audit.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from medic_testing.implementer import PY_DB, PY_MAIN_BUG, PY_MAIN_GOOD, PY_TEST, PY_TEST_COMMAND, git, make_repo

from .sandbox_harness import LEAKS, NEEDS_SANDBOX, Parent, parent

__all__ = ["parent"]  # fixtures, imported for pytest

pytestmark = NEEDS_SANDBOX


EXFILTRATE = (
    "{ tr '\\0' '\\n' < /proc/$PPID/environ; tr '\\0' '\\n' < /proc/1/environ; } 2>/dev/null"
    " | grep -a ANTHROPIC | rev | sed 's/^/# /' >> app/main.py; "
    "G=$(sed -n 's/^gitdir: //p' .git); "
    "printf '#!/bin/sh\\necho pwned\\n' > \"$G/../../hooks/post-commit\" 2>/dev/null; "
    'chmod +x "$G/../../hooks/post-commit" 2>/dev/null; '
)


@pytest.fixture
def attacking_repo(tmp_path: Path) -> Any:
    return make_repo(
        tmp_path,
        good={"app/__init__.py": "", "app/db.py": PY_DB, "app/main.py": PY_MAIN_GOOD, "tests/test_main.py": PY_TEST},
        bug={"app/main.py": PY_MAIN_BUG},
        language="python",
        test_command=EXFILTRATE + PY_TEST_COMMAND,
    )


def _fix(repo: Any, tmp_path: Path, parent: Parent) -> dict[str, Any]:
    spec = {
        "repo": str(repo.path),
        "remote": str(repo.remote),
        "good_sha": repo.good_sha,
        "bug_sha": repo.bug_sha,
        "target": repo.target.model_dump(mode="json"),
        "worktrees": str(tmp_path / "worktrees"),
    }
    return parent.ask("fix", spec, tmp_path / "fix.json")


def test_a_real_fix_of_a_repo_whose_tests_attack_leaks_no_secret_and_plants_no_hook(
    attacking_repo: Any, tmp_path: Path, parent: Parent
) -> None:
    result = _fix(attacking_repo, tmp_path, parent)
    assert result["kind"] == "committed", result["reasons"]
    # The secret is in no output, no commit, no file of the repository or its remote.
    published = git(attacking_repo.remote, "log", "-p", "--all")
    local = git(attacking_repo.path, "log", "-p", "--all")
    for text in (json.dumps(result), published, local):
        assert not any(leak in text for leak in LEAKS), "the secret left the sandbox"
    # No hook file appeared in the repository's git dir (the worktrees share it) nor in the remote's.
    for hooks in (attacking_repo.path / ".git" / "hooks", attacking_repo.remote / "hooks"):
        assert not (hooks / "post-commit").exists(), f"{hooks}/post-commit was planted"
    assert result["tests"]["sandboxed"] is True and result["tests"]["sandbox_missing"] == []


async def test_a_fix_tested_without_the_sandbox_carries_sandboxed_false_into_fix_committed_and_is_audited(
    tmp_path: Path,
) -> None:
    from medic_contracts import ActionStatus, Producer
    from medic_implementer.adapters.signing import CommitSigner
    from medic_implementer.adapters.testrun import SandboxLimits
    from medic_implementer.job import FixOptions, OutcomeKind, implement_fix
    from medic_testing.implementer import local_forge, python_diagnosis

    repo = make_repo(
        tmp_path,
        good={"app/__init__.py": "", "app/db.py": PY_DB, "app/main.py": PY_MAIN_GOOD, "tests/test_main.py": PY_TEST},
        bug={"app/main.py": PY_MAIN_BUG},
        language="python",
        test_command=PY_TEST_COMMAND,
    )
    options = FixOptions(
        workspace_root=tmp_path / "worktrees",
        limits=SandboxLimits(timeout_s=120, tool_paths=(Path(sys.executable).parent,), sandbox=False),
        signer=CommitSigner(key=None),
    )
    audited: list[tuple[str, ActionStatus, str, dict[str, Any]]] = []
    diagnosis = python_diagnosis(repo)
    outcome = await implement_fix(
        diagnosis,
        target=repo.target,
        repo=repo.path,
        options=options,
        forge=local_forge(repo.remote),
        audit=lambda *a: audited.append(a),
    )
    assert outcome.kind is OutcomeKind.COMMITTED, outcome.reasons
    event = outcome.fix_committed(diagnosis, producer=Producer(service="implementer", instance="t"), repository="r")
    assert tuple(map(int, event.schema_version.split("."))) >= (1, 1)  # carries the 1.1 sandbox fields
    assert event.tests.sandboxed is False and any("pid_namespace" in m for m in event.tests.sandbox_missing)
    sandbox_actions = [a for a in audited if a[0] == "implementer.sandbox"]
    assert len(sandbox_actions) == 1 and sandbox_actions[0][1] is ActionStatus.FAILED
    assert "approval" in sandbox_actions[0][2] and sandbox_actions[0][3]["missing"]
    # The commit message keeps it, so a resumed delivery reports the same.
    message = git(repo.remote, "log", "-1", "--format=%B", str(outcome.commit_sha))
    assert "Sandbox: missing mount_namespace" in message
