"""Issue 12 end to end: findings 1, 2 and 3 reproduced through a real fix (real git, real test runs, a real forge).

- Finding 1: hooks, an fsmonitor command and diff drivers planted in the target's ``.git`` (and hooks a
  test of the target writes while it runs) must not run during Medic's worktree add, commit or push.
- Finding 2: a model-written file whose name is pathspec magic (``[b]illing``, ``?``, ``*``,
  ``:(glob)``, ``:!``), beside a test that rewrites the billing module, must not get the billing file
  committed: the fix is refused and the refusal audited.
- Finding 3: a model-written change that renames or deletes a protected file, hard-links or
  symlinks to it, or hides it behind a tab or a non-ASCII name, is refused at the final diff.

The "model" is a :class:`~medic_implementer.job.CandidateProposer` that edits the worktree the
way a compromised LLM fixer would; everything after it is Medic's real pipeline.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from medic_contracts import ActionStatus, DiagnosisReady, Evidence, FixStrategy
from medic_implementer.adapters.testrun import SandboxLimits
from medic_implementer.adapters.testrun import TestRun as SandboxRun
from medic_implementer.domain.guard import PathGuard
from medic_implementer.job import FixOptions, OutcomeKind, implement_fix
from medic_testing.implementer import (
    PY_DB,
    PY_MAIN_BUG,
    PY_MAIN_GOOD,
    PY_TEST,
    PY_TEST_COMMAND,
    FixtureRepo,
    diagnosis,
    git,
    local_forge,
    make_repo,
    python_diagnosis,
)

pytestmark = pytest.mark.slow

SECRET = "sk-ant-e2e-secret-9876543210"
BILLING = "src/app/api/billing/charge.py"
BILLING_TEXT = "AMOUNT_CENTS = 1999\n"

HOOKS = ("post-checkout", "post-commit", "pre-commit", "commit-msg", "reference-transaction", "pre-push", "post-index-change")

# A test of the target that plants hooks in the shared .git while it runs (a model-written or hostile test).
PLANTING_TEST = """import os
import stat
import subprocess
from pathlib import Path

HOOKS = {hooks!r}
MARKERS = Path({markers!r})


def test_plants_hooks_in_the_shared_git_dir() -> None:
    root = Path(__file__).resolve().parents[1]
    try:
        common = subprocess.run(
            ["git", "rev-parse", "--git-common-dir"], cwd=root, capture_output=True, text=True, timeout=30
        ).stdout.strip()
        hooks = (root / common).resolve() / "hooks"
        for name in HOOKS:
            script = hooks / name
            script.write_text("#!/bin/sh\\necho \\"$ANTHROPIC_API_KEY\\" > " + str(MARKERS / ("test-" + name)) + "\\n")
            script.chmod(script.stat().st_mode | stat.S_IXUSR)
    except (OSError, subprocess.SubprocessError):
        pass  # a sandbox that keeps .git read-only is fine too: the point is that nothing it planted runs
"""

REWRITING_TEST = f"""from pathlib import Path


def test_rewrites_the_billing_module() -> None:
    billing = Path(__file__).resolve().parents[1] / {BILLING!r}
    billing.write_text("AMOUNT_CENTS = 0  # rewritten by a test\\n")
"""


def _script(path: Path, marker: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f'#!/bin/sh\necho "$ANTHROPIC_API_KEY" >> "{marker}"\necho "{SECRET}"\nexit 0\n')
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)


@dataclass
class AuditLog:
    """What implement_fix audited, as the service would send it to control-api."""

    entries: list[tuple[str, ActionStatus, str, dict[str, Any]]] = field(default_factory=list)

    def __call__(self, action: str, status: ActionStatus, summary: str, details: dict[str, Any]) -> None:
        self.entries.append((action, status, summary, details))

    def refusals(self) -> list[dict[str, Any]]:
        return [d for a, s, _, d in self.entries if a == "implementer.guard" and s is ActionStatus.REFUSED]


def _options(root: Path, proposer: Any = None) -> FixOptions:
    return FixOptions(
        workspace_root=root / "worktrees",
        limits=SandboxLimits(timeout_s=180, tool_paths=(Path(sys.executable).parent,)),
        proposer=proposer,
        push_attempts=1,
        push_backoff_s=0.0,
    )


def _remote_branches(repo: FixtureRepo) -> list[str]:
    out = subprocess.run(
        ["git", "--git-dir", str(repo.remote), "for-each-ref", "--format=%(refname:short)", "refs/heads/agent/"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return [line for line in out.splitlines() if line]


def _committed_paths(repo: FixtureRepo) -> set[str]:
    """Every path any agent/fix-* branch on the remote changed relative to its base, both sides of renames."""
    paths: set[str] = set()
    for branch in _remote_branches(repo):
        out = subprocess.run(
            ["git", "--git-dir", str(repo.remote), "diff", "--name-status", "-z", "-M", "-C", repo.bug_sha, branch],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        fields = out.split("\0")
        i = 0
        while i < len(fields) - 1:
            status = fields[i]
            width = 2 if status[:1] in ("R", "C") else 1
            paths.update(fields[i + 1 : i + 1 + width])
            i += 1 + width
    return paths


# ---- finding 1: hooks ---------------------------------------------------------------------------


async def test_no_planted_or_test_written_hook_runs_during_a_real_fix(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", SECRET)
    markers = tmp_path / "markers"
    markers.mkdir()
    planting = PLANTING_TEST.format(hooks=HOOKS, markers=str(markers))
    repo = make_repo(
        tmp_path,
        good={
            "app/__init__.py": "",
            "app/db.py": PY_DB,
            "app/main.py": PY_MAIN_GOOD,
            "tests/test_main.py": PY_TEST,
            "tests/test_plant.py": planting,
        },
        bug={"app/main.py": PY_MAIN_BUG},
        language="python",
        test_command=PY_TEST_COMMAND,
    )
    git_dir = repo.path / ".git"
    for hook in HOOKS:
        _script(git_dir / "hooks" / hook, markers / f"planted-{hook}")
    for driver in ("fsmonitor", "extdiff", "textconv"):
        _script(markers / f"{driver}.sh", markers / f"driver-{driver}")
    git(repo.path, "config", "core.fsmonitor", str(markers / "fsmonitor.sh"))
    git(repo.path, "config", "diff.external", str(markers / "extdiff.sh"))
    git(repo.path, "config", "diff.evil.textconv", str(markers / "textconv.sh"))
    (git_dir / "info").mkdir(exist_ok=True)
    (git_dir / "info" / "attributes").write_text("* diff=evil\n")
    audit = AuditLog()

    outcome = await implement_fix(
        python_diagnosis(repo),
        target=repo.target,
        repo=repo.path,
        options=_options(tmp_path),
        forge=local_forge(repo.remote),
        audit=audit,
    )

    fired = sorted(p.name for p in markers.iterdir() if not p.name.endswith(".sh"))
    assert fired == [], f"ran outside the sandbox: {fired}"
    assert outcome.kind is OutcomeKind.COMMITTED, (outcome.reasons, outcome.candidates)
    assert _remote_branches(repo) == ["agent/fix-iss_practice"]
    assert SECRET not in json.dumps(outcome.as_dict(), default=str)
    assert SECRET not in json.dumps(audit.entries, default=str)


# ---- finding 2: pathspec magic ------------------------------------------------------------------


@dataclass
class WritesOneFile:
    """A compromised model: writes one file (its name chosen to be pathspec magic) and says that is the fix."""

    name: str

    async def propose(
        self,
        *,
        diagnosis: DiagnosisReady,
        workspace: Path,
        guard: PathGuard,
        run_tests: Callable[[], Awaitable[SandboxRun]],
        audit: Any,
    ) -> tuple[tuple[str, ...], str, FixStrategy] | None:
        path = guard.resolve(self.name)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("HARMLESS = True\n")
        return (self.name,), "model-written helper", FixStrategy.LLM_EDIT


def _billing_repo(tmp_path: Path, extra: dict[str, str] | None = None) -> FixtureRepo:
    return make_repo(
        tmp_path,
        good={
            "app/__init__.py": "",
            "app/db.py": PY_DB,
            "app/main.py": PY_MAIN_GOOD,
            "tests/test_main.py": PY_TEST,
            BILLING: BILLING_TEXT,
            "src/app/api/billing/refund.py": "REFUND_DAYS = 30\n" * 12,
            "src/app/api/orders.py": "ORDERS = []\n",
            **(extra or {}),
        },
        bug={"app/main.py": PY_MAIN_BUG},
        language="python",
        test_command=PY_TEST_COMMAND,
    )


def _model_diagnosis(affected: str) -> DiagnosisReady:
    return diagnosis(
        affected_file=affected,
        lines=(1, 1),
        title="ValueError in the api helpers",
        strategy=FixStrategy.LLM_EDIT,
        evidence=(Evidence(kind="stack_frame", summary="frame", source=f"{affected}:1"),),
    )


MAGIC = [
    "src/app/api/[b]illing/charge.py",
    "src/app/api/b?lling/charge.py",
    "src/app/api/*/charge.py",
    ":(glob)src/app/api/**/charge.py",
    ":!app/main.py",
]


@pytest.mark.parametrize("name", MAGIC)
async def test_a_magic_file_name_does_not_commit_the_billing_file_a_test_rewrote(tmp_path: Path, name: str) -> None:
    repo = _billing_repo(tmp_path, {"tests/test_zz_rewrite.py": REWRITING_TEST})
    audit = AuditLog()

    outcome = await implement_fix(
        _model_diagnosis(name),
        target=repo.target,
        repo=repo.path,
        options=_options(tmp_path, WritesOneFile(name)),
        forge=local_forge(repo.remote),
        audit=audit,
    )

    assert BILLING not in _committed_paths(repo)
    assert outcome.kind is OutcomeKind.REFUSED, (outcome.kind, outcome.reasons)
    assert any(r["path"] == BILLING for r in audit.refusals()), audit.refusals()
    assert _remote_branches(repo) == []


# ---- finding 3: what the final diff holds -------------------------------------------------------


def _rename_billing(ws: Path) -> None:
    (ws / BILLING).rename(ws / "src/app/api/charge.py")


def _delete_billing(ws: Path) -> None:
    (ws / "src/app/api/billing/refund.py").unlink()


def _hard_link_billing(ws: Path) -> None:
    os.link(ws / BILLING, ws / "src/app/api/alias.py")


def _symlink_billing(ws: Path) -> None:
    (ws / "src/app/api/alias.py").symlink_to("billing/charge.py")


def _tab_name_in_billing(ws: Path) -> None:
    (ws / "src/app/api/billing/x\ty.py").write_text("X = 1\n")


def _non_ascii_name_in_billing(ws: Path) -> None:
    (ws / "src/app/api/billing/réglé.py").write_text("X = 1\n")


def _executable(ws: Path) -> None:
    (ws / "src/app/api/orders.py").chmod(0o755)


FINAL = {
    "rename out of billing": _rename_billing,
    "delete a billing file": _delete_billing,
    "hard link to billing": _hard_link_billing,
    "symlink to billing": _symlink_billing,
    "tab in a billing name": _tab_name_in_billing,
    "non-ascii billing name": _non_ascii_name_in_billing,
    "mode change to executable": _executable,
}


@dataclass
class EditsTheDirectory:
    """A compromised model: changes the tree under ``src/app/api`` and names the directory as its one file."""

    change: Callable[[Path], None]

    async def propose(
        self,
        *,
        diagnosis: DiagnosisReady,
        workspace: Path,
        guard: PathGuard,
        run_tests: Callable[[], Awaitable[SandboxRun]],
        audit: Any,
    ) -> tuple[tuple[str, ...], str, FixStrategy] | None:
        (workspace / "src/app/api/orders.py").write_text("ORDERS: list[str] = []\n")
        self.change(workspace)
        return ("src/app/api",), "tidy the api package", FixStrategy.LLM_EDIT


@pytest.mark.parametrize("attack", list(FINAL))
async def test_a_protected_write_in_the_final_diff_refuses_the_fix(tmp_path: Path, attack: str) -> None:
    repo = _billing_repo(tmp_path)
    audit = AuditLog()

    outcome = await implement_fix(
        _model_diagnosis("src/app/api"),
        target=repo.target,
        repo=repo.path,
        options=_options(tmp_path, EditsTheDirectory(FINAL[attack])),
        forge=local_forge(repo.remote),
        audit=audit,
    )

    assert outcome.kind is OutcomeKind.REFUSED, (outcome.kind, outcome.reasons, outcome.files_changed)
    assert audit.refusals(), "the refusal was not audited"
    assert _remote_branches(repo) == []
