"""Reproduce first, verify, or abstain: real git, real sandboxed runs of the reproducer on the target's own environment."""

from __future__ import annotations

import importlib.util
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from medic_contracts import ActionStatus, DecisionCode, Evidence, FixStrategy, Producer, RequestContext, StackFrame
from medic_implementer.domain.function_regression import call_arguments
from medic_implementer.domain.reproduction import Observation, ReproductionStatus, judge_reproduction
from medic_implementer.job import FixOptions, OutcomeKind, implement_fix
from medic_testing.implementer import TS_ROUTE, FixtureRepo, diagnosis, git, local_forge, make_repo, python_diagnosis

Audited = list[tuple[str, ActionStatus, str, dict[str, Any]]]


def recorder() -> tuple[Audited, Callable[[str, ActionStatus, str, dict[str, Any]], None]]:
    seen: Audited = []

    def audit(action: str, status: ActionStatus, summary: str, details: dict[str, Any]) -> None:
        seen.append((action, status, summary, details))

    return seen, audit


def expected_of(test_text: str) -> Any:
    """The EXPECTED literal a pinned Python regression test carries."""
    line = next(line for line in test_text.splitlines() if line.startswith("EXPECTED = json.loads("))
    return json.loads(json.loads(line.removeprefix("EXPECTED = json.loads(").removesuffix(")")))


async def test_a_python_handler_failure_is_reproduced_then_the_fix_is_verified_and_pinned_to_its_404(
    python_repo: FixtureRepo, fix_options: Callable[..., FixOptions]
) -> None:
    seen, audit = recorder()
    diag = python_diagnosis(python_repo).model_copy(update={"affected_function": "read_practice"})
    outcome = await implement_fix(
        diag,
        target=python_repo.target,
        repo=python_repo.path,
        options=fix_options(),
        forge=local_forge(python_repo.remote),
        audit=audit,
    )
    assert outcome.kind is OutcomeKind.COMMITTED, (outcome.reasons, outcome.candidates)
    assert outcome.reproduced is True and outcome.verified is True
    [repro] = [s for s in seen if s[0] == "implementer.reproduction"]
    assert repro[1] is ActionStatus.SUCCEEDED and repro[3]["observed"]["raised"] == "AttributeError"
    pinned = git(python_repo.path, "show", f"{outcome.commit_sha}:{outcome.regression_test}")
    assert expected_of(pinned) == {"status": 404, "body_shape": {"detail": "string"}}
    event = outcome.fix_committed(diag, producer=Producer(service="implementer", instance="t"), repository="r")
    assert event.reproduced is True and event.verified is True and event.verification
    assert event.schema_version == "1.3"


def diagnosis_with_function(affected: str, title: str, function: str, vars: dict[str, str], *, line: int = 2, **kw: Any) -> Any:
    frame = StackFrame(file=affected, function=function, line=line, in_app=True, vars=vars)
    return diagnosis(
        affected_file=affected,
        lines=(line, line),
        title=title,
        strategy=FixStrategy.ZERO_GUARD,
        root_cause="average divides by the number of values, which is zero for an empty list",
        evidence=(
            Evidence(kind="stack_frame", summary="crash", source=f"{affected}:{line}"),
            Evidence(kind="frame", summary="locals", detail=frame.model_dump_json()),
        ),
        **kw,
    ).model_copy(update={"affected_function": function})


STATS_GOOD = """def average(values: list[float]) -> float:
    if not values:
        return 0.0
    return sum(values) / len(values)
"""
STATS_BUG = """def average(values: list[float]) -> float:
    return sum(values) / len(values)
"""
STATS_TEST = """import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.stats import average


class AverageTest(unittest.TestCase):
    def test_average(self) -> None:
        self.assertEqual(average([1.0, 3.0]), 2.0)
"""


async def test_a_plain_function_is_called_again_with_the_frames_arguments_and_its_return_value_is_pinned(
    tmp_path: Path, fix_options: Callable[..., FixOptions]
) -> None:
    repo = make_repo(
        tmp_path,
        good={"app/__init__.py": "", "app/stats.py": STATS_GOOD, "tests/test_stats.py": STATS_TEST},
        bug={"app/stats.py": STATS_BUG},
        language="python",
        test_command="python -m unittest discover -s tests",
    )
    diag = diagnosis_with_function(
        "app/stats.py", "ZeroDivisionError: division by zero", "average", {"values": "[]"}, commit_sha=repo.bug_sha
    )
    outcome = await implement_fix(diag, target=repo.target, repo=repo.path, options=fix_options(), forge=local_forge(repo.remote))
    assert outcome.kind is OutcomeKind.COMMITTED, (outcome.reasons, outcome.candidates)
    assert outcome.reproduced and outcome.verified and outcome.regression_test
    pinned = git(repo.path, "show", f"{outcome.commit_sha}:{outcome.regression_test}")
    expected = expected_of(pinned)
    assert set(expected) == {"returned"} and expected["returned"] is not None  # the fix's value, not just "no crash"


async def test_reproduction_runs_in_the_targets_own_virtualenv_with_a_dependency_medic_does_not_have(
    tmp_path: Path, fix_options: Callable[..., FixOptions]
) -> None:
    assert importlib.util.find_spec("medic_tinydep") is None  # only the target's venv has it
    uses_dep = "from medic_tinydep import total\n\n\n" + STATS_BUG.replace("sum(values)", "total(values)")
    setup = (
        "python3 -m venv --without-pip .venv && "
        'cp -r vendored/medic_tinydep "$(.venv/bin/python -c \'import sysconfig; print(sysconfig.get_path("purelib"))\')/"'
    )
    repo = make_repo(
        tmp_path,
        good={
            ".gitignore": "__pycache__/\n.venv/\n",
            "vendored/medic_tinydep/__init__.py": "def total(values):\n    return sum(values)\n",
            "app/__init__.py": "",
            "app/stats.py": "from medic_tinydep import total\n\n\n" + STATS_GOOD.replace("sum(values)", "total(values)"),
            "tests/test_stats.py": STATS_TEST,
        },
        bug={"app/stats.py": uses_dep},
        language="python",
        test_command="python -m unittest discover -s tests",
        setup_command=setup,
    )
    diag = diagnosis_with_function(
        "app/stats.py", "ZeroDivisionError: division by zero", "average", {"values": "[]"}, line=5, commit_sha=repo.bug_sha
    )
    seen, audit = recorder()
    outcome = await implement_fix(
        diag, target=repo.target, repo=repo.path, options=fix_options(), forge=local_forge(repo.remote), audit=audit
    )
    [repro] = [s for s in seen if s[0] == "implementer.reproduction"]
    # With Medic's interpreter the import would fail (ModuleNotFoundError, a different failure): it reproduced.
    assert repro[3]["status"] == ReproductionStatus.REPRODUCED.value, repro
    assert outcome.kind is OutcomeKind.COMMITTED, (outcome.reasons, outcome.candidates)
    assert outcome.verified is True


async def test_a_typescript_handler_failure_is_reproduced_and_the_pinned_node_test_asserts_the_404(
    typescript_repo: FixtureRepo, fix_options: Callable[..., FixOptions]
) -> None:
    diag = diagnosis(
        affected_file=TS_ROUTE,
        lines=(5, 5),
        title="TypeError: Cannot read properties of null (reading 'id')",
        fix_hint="guard `practice`; return 404 'Practice not found'",
        request=RequestContext(method="GET", url="https://shop.example.com/api/practices/999", status=500),
        commit_sha=typescript_repo.bug_sha,
    ).model_copy(update={"affected_function": "GET"})
    outcome = await implement_fix(
        diag,
        target=typescript_repo.target,
        repo=typescript_repo.path,
        options=fix_options(),
        forge=local_forge(typescript_repo.remote),
    )
    assert outcome.kind is OutcomeKind.COMMITTED, (outcome.reasons, outcome.candidates)
    assert outcome.reproduced is True and outcome.verified is True
    pinned = git(typescript_repo.path, "show", f"{outcome.commit_sha}:{outcome.regression_test}")
    assert 'const expected: unknown = {"status": 404, "body_shape": {"error": "string"}};' in pinned


async def test_an_unreproduced_fix_is_not_released_without_a_human_and_the_reason_is_audited(
    python_repo: FixtureRepo, fix_options: Callable[..., FixOptions]
) -> None:
    seen, audit = recorder()
    diag = python_diagnosis(python_repo, request=None)  # nothing to replay: no reproducer
    outcome = await implement_fix(
        diag,
        target=python_repo.target,
        repo=python_repo.path,
        options=fix_options(),
        forge=local_forge(python_repo.remote),
        audit=audit,
    )
    assert outcome.kind is OutcomeKind.NEEDS_APPROVAL, outcome.reasons
    assert outcome.decision is not None and outcome.decision.code is DecisionCode.UNVERIFIED
    assert "not reproduced" in outcome.reasons[0] and outcome.commit_sha is None and outcome.diff
    assert outcome.reproduced is False and outcome.verified is False
    [gate] = [s for s in seen if s[0] == "implementer.release_gate"]
    assert gate[1] is ActionStatus.SKIPPED and gate[3]["code"] == "not_reproduced"
    assert git(python_repo.remote, "branch", "--list", "agent/*") == ""


async def test_a_claude_candidate_goes_through_the_same_gate(
    python_repo: FixtureRepo, fix_options: Callable[..., FixOptions]
) -> None:
    class Proposer:
        async def propose(self, *, diagnosis: Any, workspace: Path, **_: Any) -> tuple[tuple[str, ...], str, FixStrategy]:
            main = workspace / "app" / "main.py"
            main.write_text(main.read_text().replace("    return {", "    if practice is None:\n        return {}\n    return {"))
            return ("app/main.py",), "return an empty object", FixStrategy.LLM_EDIT

    diag = python_diagnosis(python_repo, request=None, strategy=FixStrategy.LLM_EDIT, affected_file=None, lines=None)
    diag = diag.model_copy(update={"evidence": (Evidence(kind="stack_frame", summary="crash", source="app/main.py:11"),)})
    outcome = await implement_fix(
        diag, target=python_repo.target, repo=python_repo.path, options=fix_options(proposer=Proposer())
    )
    assert outcome.kind is OutcomeKind.NEEDS_APPROVAL, outcome.reasons
    assert outcome.decision is not None and outcome.decision.code is DecisionCode.UNVERIFIED
    assert outcome.candidates[0]["origin"] == "claude"


async def test_a_message_only_event_gets_no_write_at_all(
    python_repo: FixtureRepo, fix_options: Callable[..., FixOptions]
) -> None:
    diag = diagnosis(affected_file=None, lines=None, title="upstream provider timed out", strategy=FixStrategy.LLM_EDIT)
    options = fix_options(proposer=object())  # never reached
    outcome = await implement_fix(diag, target=python_repo.target, repo=python_repo.path, options=options)
    assert outcome.kind is OutcomeKind.NEEDS_HUMAN and "message-only" in outcome.reasons[0]
    assert not any(options.workspace_root.glob("*"))


def test_a_failure_in_another_function_is_not_a_reproduction() -> None:
    observed = Observation(raised="TypeError", frames=(("/w/app/main.py", "route"), ("/w/app/main.py", "helper")))
    other = judge_reproduction(observed, exception_type="TypeError", affected_file="app/main.py", function="route")
    assert other.status is ReproductionStatus.DIFFERENT_FAILURE and "in helper" in other.reason
    same = judge_reproduction(observed, exception_type="TypeError", affected_file="app/main.py", function="helper")
    assert same.reproduced
    wrong_type = judge_reproduction(observed, exception_type="KeyError", affected_file="app/main.py", function="helper")
    assert wrong_type.status is ReproductionStatus.DIFFERENT_FAILURE


def test_only_literal_frame_values_become_arguments() -> None:
    source = "def f(a, b=2, *, c):\n    return a\n"
    assert call_arguments(source, "f", {"a": "[1, 2]", "c": "'x'", "other": "1"}) == {"a": "[1, 2]", "c": "'x'"}
    assert call_arguments(source, "f", {"a": "<object at 0x1>", "c": "1"}) is None
    assert call_arguments(source, "f", {"a": "__import__('os').system('x')", "c": "1"}) is None
    assert call_arguments(source, "g", {"a": "1"}) is None
    assert sys.version_info >= (3, 11)


# ---- no arguments in the event: a searched input --------------------------------------------------------------


def diagnosis_without_inputs(affected: str, title: str, function: str, *, line: int, **kw: Any) -> Any:
    """A crash with neither a request nor the frame's variables (the SDK's default for Node, a worker's event)."""
    return diagnosis(
        affected_file=affected,
        lines=(line, line),
        title=title,
        strategy=FixStrategy.ZERO_GUARD,
        root_cause="the function fails for an input its callers send",
        evidence=(Evidence(kind="stack_frame", summary="crash", source=f"{affected}:{line}"),),
        **kw,
    ).model_copy(update={"affected_function": function})


async def test_a_plain_function_without_frame_arguments_is_reproduced_with_a_searched_input_and_released(
    tmp_path: Path, fix_options: Callable[..., FixOptions]
) -> None:
    repo = make_repo(
        tmp_path,
        good={"app/__init__.py": "", "app/stats.py": STATS_GOOD, "tests/test_stats.py": STATS_TEST},
        bug={"app/stats.py": STATS_BUG},
        language="python",
        test_command="python -m unittest discover -s tests",
    )
    diag = diagnosis_without_inputs(
        "app/stats.py", "ZeroDivisionError: division by zero", "average", line=2, commit_sha=repo.bug_sha
    )
    seen, audit = recorder()
    outcome = await implement_fix(
        diag, target=repo.target, repo=repo.path, options=fix_options(), forge=local_forge(repo.remote), audit=audit
    )
    [search] = [s for s in seen if s[0] == "implementer.input_search"]
    assert search[1] is ActionStatus.SUCCEEDED and json.loads(search[3]["arguments"]) == {"values": "[]"}
    [repro] = [s for s in seen if s[0] == "implementer.reproduction"]
    assert repro[1] is ActionStatus.SUCCEEDED and "searched input" in repro[2], repro
    assert outcome.kind is OutcomeKind.COMMITTED, (outcome.reasons, outcome.candidates)
    assert outcome.reproduced and outcome.verified and outcome.regression_test
    pinned = git(repo.path, "show", f"{outcome.commit_sha}:{outcome.regression_test}")
    assert "values" in pinned and expected_of(pinned) == {"returned": 0.0}  # the guard the code already had
    assert "medic_input_search" not in git(repo.path, "show", "--stat", str(outcome.commit_sha))  # the harness is gone


UNITS_GOOD = """const UNITS: Record<string, { name: string }> = { kg: { name: "kilogram" } };

export function unitName(code: string): string {
  const unit = UNITS[code];
  if (unit === undefined) return "";
  return unit.name;
}
"""
UNITS_BUG = """const UNITS: Record<string, { name: string }> = { kg: { name: "kilogram" } };

export function unitName(code: string): string {
  return UNITS[code].name;
}
"""
UNITS_TEST = """import assert from "node:assert/strict";
import { test } from "node:test";

import { unitName } from "../src/units";

test("a known unit has a name", () => {
  assert.equal(unitName("kg"), "kilogram");
});
"""


async def test_an_exported_typescript_function_without_frame_arguments_is_reproduced_with_a_searched_input(
    tmp_path: Path, fix_options: Callable[..., FixOptions]
) -> None:
    repo = make_repo(
        tmp_path,
        good={"src/units.ts": UNITS_GOOD, "tests/units.test.ts": UNITS_TEST, "package.json": '{"type": "module"}\n'},
        bug={"src/units.ts": UNITS_BUG},
        language="typescript",
        test_command="tsx --test tests/units.test.ts",
    )
    diag = diagnosis_without_inputs(
        "src/units.ts",
        "TypeError: Cannot read properties of undefined (reading 'name')",
        "unitName",
        line=4,
        commit_sha=repo.bug_sha,
    ).model_copy(update={"fix_strategy": FixStrategy.NULL_GUARD})
    seen, audit = recorder()
    outcome = await implement_fix(
        diag, target=repo.target, repo=repo.path, options=fix_options(), forge=local_forge(repo.remote), audit=audit
    )
    [search] = [s for s in seen if s[0] == "implementer.input_search"]
    assert search[1] is ActionStatus.SUCCEEDED, search
    assert outcome.kind is OutcomeKind.COMMITTED, (outcome.reasons, outcome.candidates)
    assert outcome.reproduced and outcome.verified
    pinned = git(repo.path, "show", f"{outcome.commit_sha}:{outcome.regression_test}")
    assert 'const expected: unknown = {"returned": ""};' in pinned  # the declared type's empty value, pinned


async def test_a_searched_input_that_fails_another_way_is_no_reproduction(
    tmp_path: Path, fix_options: Callable[..., FixOptions]
) -> None:
    repo = make_repo(
        tmp_path,
        good={"app/__init__.py": "", "app/stats.py": STATS_GOOD, "tests/test_stats.py": STATS_TEST},
        bug={"app/stats.py": STATS_BUG},
        language="python",
        test_command="python -m unittest discover -s tests",
    )
    # Production said "float division by zero": no searched input fails with exactly that message.
    diag = diagnosis_without_inputs(
        "app/stats.py", "ZeroDivisionError: float division by zero", "average", line=2, commit_sha=repo.bug_sha
    )
    seen, audit = recorder()
    outcome = await implement_fix(
        diag, target=repo.target, repo=repo.path, options=fix_options(), forge=local_forge(repo.remote), audit=audit
    )
    [search] = [s for s in seen if s[0] == "implementer.input_search"]
    assert search[1] is ActionStatus.SKIPPED and search[3]["matched"] is None and search[3]["tried"] >= 3
    [repro] = [s for s in seen if s[0] == "implementer.reproduction"]
    assert repro[3]["status"] == ReproductionStatus.NO_REPRODUCER.value and "no searched input" in repro[2]
    assert outcome.reproduced is False and outcome.commit_sha is None
