"""Static checks of a candidate: the repository's own type checker (real mypy, real tsc) and linters run on the
unfixed tree and on the candidate, in the target's environment; a new diagnostic keeps the fix from release."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from medic_contracts import ActionStatus, DecisionCode, Evidence, FixStrategy, RequestContext, StackFrame
from medic_implementer.domain.release_gate import GateCode
from medic_implementer.domain.static_checks import (
    Checker,
    CheckStatus,
    Diagnostic,
    callers_of,
    configured_checkers,
    judge_check,
    new_diagnostics,
    parse_diagnostics,
)
from medic_implementer.job import FixOptions, OutcomeKind, implement_fix
from medic_testing.implementer import TS_ROUTE, FixtureRepo, diagnosis, git, local_forge, make_repo, write_files

Audited = list[tuple[str, ActionStatus, str, dict[str, Any]]]

PRICING_BUG = '''def shipping_cost(weight: float | None) -> float:
    """The shipping cost of a parcel; a parcel of unknown weight ships at the standard rate, 4.5."""
    return weight * 1.5
'''
PRICING_TEST = """import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.pricing import shipping_cost


class ShippingTest(unittest.TestCase):
    def test_known_weight(self) -> None:
        self.assertEqual(shipping_cost(2.0), 3.0)
"""
MYPY_CONFIG = "[tool.mypy]\nignore_missing_imports = true\n"
CRASH = "    return weight * 1.50"
RETURNS_NONE = "    if weight is None:\n        return None\n" + CRASH  # violates ``-> float``
RETURNS_RATE = "    if weight is None:\n        return 4.5\n" + CRASH


def recorder() -> tuple[Audited, Callable[[str, ActionStatus, str, dict[str, Any]], None]]:
    seen: Audited = []

    def audit(action: str, status: ActionStatus, summary: str, details: dict[str, Any]) -> None:
        seen.append((action, status, summary, details))

    return seen, audit


class Rewrite:
    """A fixer that edits the worktree itself (the LLM fixer's shape): replaces ``old`` by ``new`` in ``path``."""

    def __init__(self, path: str, old: str, new: str) -> None:
        self.path, self.old, self.new = path, old, new

    async def propose(self, *, workspace: Path, **_: Any) -> tuple[tuple[str, ...], str, FixStrategy]:
        target = workspace / self.path
        text = target.read_text()
        assert self.old in text
        target.write_text(text.replace(self.old, self.new, 1))
        return (self.path,), "guard the unknown weight", FixStrategy.LLM_EDIT


def pricing_repo(tmp_path: Path, **extra: str) -> FixtureRepo:
    return make_repo(
        tmp_path,
        good={"app/__init__.py": "", "app/pricing.py": PRICING_BUG, "tests/test_pricing.py": PRICING_TEST, **extra},
        bug={"app/pricing.py": PRICING_BUG.replace("1.5", "1.50")},
        language="python",
        test_command="python -m unittest discover -s tests",
    )


def pricing_diagnosis(repo: FixtureRepo) -> Any:
    frame = StackFrame(file="app/pricing.py", function="shipping_cost", line=3, in_app=True, vars={"weight": "None"})
    return diagnosis(
        affected_file="app/pricing.py",
        lines=(3, 3),
        title="TypeError: unsupported operand type(s) for *: 'NoneType' and 'float'",
        strategy=FixStrategy.LLM_EDIT,
        root_cause="shipping_cost multiplies a weight that can be None",
        evidence=(
            Evidence(kind="stack_frame", summary="crash", source="app/pricing.py:3"),
            Evidence(kind="frame", summary="locals", detail=frame.model_dump_json()),
        ),
        commit_sha=repo.bug_sha,
    ).model_copy(update={"affected_function": "shipping_cost"})


def only(fixer: Rewrite, fix_options: Callable[..., FixOptions]) -> FixOptions:
    """Options whose only candidate is ``fixer``'s (no template, no revert)."""
    return fix_options(proposer=fixer, max_candidates=0)


@pytest.mark.skipif(shutil.which("mypy", path=str(Path(sys.executable).parent)) is None, reason="mypy not in the venv")
async def test_a_candidate_that_adds_a_mypy_error_is_refused_and_the_reason_is_recorded_and_audited(
    tmp_path: Path, fix_options: Callable[..., FixOptions]
) -> None:
    repo = pricing_repo(tmp_path, **{"pyproject.toml": MYPY_CONFIG})
    bad = Rewrite("app/pricing.py", CRASH, RETURNS_NONE)
    seen, audit = recorder()
    outcome = await implement_fix(
        pricing_diagnosis(repo), target=repo.target, repo=repo.path, options=only(bad, fix_options), audit=audit
    )
    # Reproduced, the tests pass and the reproduction passes: only the type checker stands in the way.
    assert outcome.reproduced is True and outcome.verified is True, (outcome.reasons, outcome.candidates)
    assert outcome.kind is OutcomeKind.NEEDS_APPROVAL and outcome.commit_sha is None
    assert outcome.decision is not None and outcome.decision.code is DecisionCode.UNVERIFIED
    assert outcome.verification is not None and "mypy reports 1 new error" in outcome.verification
    assert "[return-value]" in outcome.verification
    [checks] = [s for s in seen if s[0] == "implementer.static_checks"]
    assert checks[1] is ActionStatus.FAILED
    [mypy] = checks[3]["checks"]
    assert mypy["status"] == "new_diagnostics" and "app/pricing.py" in mypy["new"][0]
    [gate] = [s for s in seen if s[0] == "implementer.release_gate"]
    assert gate[3]["code"] == GateCode.TYPECHECK_FAILED.value and not gate[3]["releasable"]


@pytest.mark.skipif(shutil.which("mypy", path=str(Path(sys.executable).parent)) is None, reason="mypy not in the venv")
async def test_a_candidate_that_keeps_the_declared_type_passes_mypy_and_is_released(
    tmp_path: Path, fix_options: Callable[..., FixOptions]
) -> None:
    repo = pricing_repo(tmp_path, **{"pyproject.toml": MYPY_CONFIG})
    good = Rewrite("app/pricing.py", CRASH, RETURNS_RATE)
    seen, audit = recorder()
    outcome = await implement_fix(
        pricing_diagnosis(repo),
        target=repo.target,
        repo=repo.path,
        options=only(good, fix_options),
        forge=local_forge(repo.remote),
        audit=audit,
    )
    assert outcome.kind is OutcomeKind.COMMITTED, (outcome.reasons, outcome.candidates)
    # The base's own error ("None" * float) is gone, nothing new came: mypy passes on the candidate.
    assert outcome.verified is True and outcome.verification is not None and "mypy: no new errors" in outcome.verification
    [checks] = [s for s in seen if s[0] == "implementer.static_checks"]
    assert checks[1] is ActionStatus.SUCCEEDED


async def test_a_configured_checker_missing_from_the_targets_environment_is_skipped_and_blocks_release(
    tmp_path: Path, fix_options: Callable[..., FixOptions]
) -> None:
    tools = fix_options().limits.tool_paths
    if shutil.which("pyright", path=":".join([*(str(p) for p in tools), "/usr/local/bin", "/usr/bin", "/bin"])):
        pytest.skip("pyright is installed here: it would run")
    repo = pricing_repo(tmp_path, **{"pyrightconfig.json": "{}\n"})
    good = Rewrite("app/pricing.py", CRASH, RETURNS_RATE)
    seen, audit = recorder()
    outcome = await implement_fix(
        pricing_diagnosis(repo), target=repo.target, repo=repo.path, options=only(good, fix_options), audit=audit
    )
    assert outcome.kind is OutcomeKind.NEEDS_APPROVAL, (outcome.reasons, outcome.candidates)
    assert outcome.verification is not None and "pyright is configured but not installed" in outcome.verification
    [checks] = [s for s in seen if s[0] == "implementer.static_checks"]
    assert checks[1] is ActionStatus.SKIPPED and checks[3]["checks"][0]["status"] == CheckStatus.SKIPPED.value
    [gate] = [s for s in seen if s[0] == "implementer.release_gate"]
    assert gate[3]["code"] == GateCode.CHECKS_NOT_RUN.value


TSCONFIG = """{
  "compilerOptions": {
    "target": "ES2022", "module": "ESNext", "moduleResolution": "bundler", "lib": ["ES2022", "DOM"],
    "strict": true, "noEmit": true, "skipLibCheck": true
  },
  "include": ["src"]
}
"""


async def test_a_typescript_candidate_that_adds_a_tsc_error_is_refused(
    typescript_repo: FixtureRepo, fix_options: Callable[..., FixOptions]
) -> None:
    tools = fix_options().limits.tool_paths
    if not any((p / "tsc").exists() for p in tools):
        pytest.skip("tsc not installed (scripts/install-node-tools.sh puts it in tools/node)")
    write_files(typescript_repo.path, {"tsconfig.json": TSCONFIG})
    git(typescript_repo.path, "add", "tsconfig.json")
    git(typescript_repo.path, "commit", "--quiet", "-m", "Type-check the app")
    head = git(typescript_repo.path, "rev-parse", "HEAD")
    # The status as a string: the runtime converts it (the tests and the reproduction pass), the declared type does not.
    bad = Rewrite(
        TS_ROUTE,
        "  return Response.json({ id: practice.id",
        '  if (!practice) return Response.json({ error: "Practice not found" }, { status: "404" });\n'
        "  return Response.json({ id: practice.id",
    )
    diag = diagnosis(
        affected_file=TS_ROUTE,
        lines=(5, 5),
        title="TypeError: Cannot read properties of null (reading 'id')",
        strategy=FixStrategy.LLM_EDIT,
        request=RequestContext(method="GET", url="https://shop.example.com/api/practices/999", status=500),
        commit_sha=head,
    ).model_copy(update={"affected_function": "GET"})
    seen, audit = recorder()
    outcome = await implement_fix(
        diag, target=typescript_repo.target, repo=typescript_repo.path, options=only(bad, fix_options), audit=audit
    )
    assert outcome.reproduced is True, (outcome.reasons, outcome.candidates)
    assert outcome.kind is OutcomeKind.NEEDS_APPROVAL and outcome.commit_sha is None
    assert outcome.verification is not None and "tsc reports 1 new error" in outcome.verification
    assert "TS2322" in outcome.verification
    [gate] = [s for s in seen if s[0] == "implementer.release_gate"]
    assert gate[3]["code"] == GateCode.TYPECHECK_FAILED.value


def test_diagnostics_are_compared_by_file_code_and_message_not_by_line() -> None:
    base = [Diagnostic("a.py", "union-attr", 'Item "None" has no attribute "id"', 10)]
    shifted = [Diagnostic("a.py", "union-attr", 'Item "None" has no attribute "id"', 13)]
    assert new_diagnostics(base, shifted, ["a.py"]) == ()
    twice = [*shifted, Diagnostic("a.py", "union-attr", 'Item "None" has no attribute "id"', 20)]
    assert [d.line for d in new_diagnostics(base, twice, ["a.py"])] == [20]  # a second occurrence is new
    elsewhere = [Diagnostic("other.py", "misc", "unrelated", 1)]
    assert new_diagnostics([], elsewhere, ["a.py"]) == ()  # outside the changed files and their callers
    outcome = judge_check(Checker.MYPY, base=base, candidate=twice, scope=["a.py"])
    assert outcome.status is CheckStatus.NEW_DIAGNOSTICS and "a.py:20" in outcome.reason


def test_the_repository_configuration_selects_the_checkers_and_callers_widen_the_scope() -> None:
    configs = {"tsconfig.json": "{}", "pyproject.toml": "[tool.mypy]\nstrict = true\n[tool.ruff]\n", "package.json": "{}"}
    assert configured_checkers(configs) == (Checker.TSC, Checker.MYPY, Checker.RUFF)
    assert configured_checkers({"setup.cfg": "[mypy]\n", ".eslintrc.json": "{}"}) == (Checker.MYPY, Checker.ESLINT)
    assert configured_checkers({"pyproject.toml": "[project]\nname = 'x'\n"}) == ()
    sources = {
        "app/main.py": "from app.tax import vat\n",
        "app/other.py": "import app.taxes\n",
        "src/page.ts": 'import { avatar } from "@/lib/avatar";\n',
    }
    assert callers_of(["app/tax.py", "src/lib/avatar.ts"], sources) == ("app/main.py", "src/page.ts")


def test_checker_output_is_parsed_into_diagnostics() -> None:
    tsc = "src/a.ts(3,7): error TS2322: Type 'string' is not assignable to type 'number'.\nerror TS5058: no tsconfig\n"
    assert [(d.file, d.code, d.line) for d in parse_diagnostics(Checker.TSC, tsc) or ()] == [
        ("src/a.ts", "TS2322", 3),
        ("", "TS5058", None),
    ]
    mypy = 'app/p.py:3: error: Incompatible return value type (got "None", expected "float")  [return-value]\n'
    mypy += "app/p.py:3: note: x\n"
    assert [(d.code, d.line) for d in parse_diagnostics(Checker.MYPY, mypy) or ()] == [("return-value", 3)]
    ruff = 'warning: something\n[{"filename": "/w/app/p.py", "code": "F821", '
    ruff += '"message": "Undefined name `x`", "location": {"row": 2}}]'
    assert parse_diagnostics(Checker.RUFF, ruff, roots=("/w",)) == (Diagnostic("app/p.py", "F821", "Undefined name `x`", 2),)
    assert parse_diagnostics(Checker.ESLINT, "Oops! Something went wrong") is None
