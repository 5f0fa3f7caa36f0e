"""The fixer matches the target's style: the repository's own formatters/linters run on the fix before its tests."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from medic_contracts import ActionStatus, FixStrategy
from medic_implementer.adapters.style import find_tool
from medic_implementer.domain.release_gate import ReleaseGate
from medic_implementer.domain.style import StyleTool, declared_tools, formatting_kept, style_steps
from medic_implementer.job import FixOptions, OutcomeKind, implement_fix
from medic_testing.implementer import (
    PY_DB,
    PY_MAIN_BUG,
    PY_MAIN_GOOD,
    PY_TEST,
    PY_TEST_COMMAND,
    TS_DB,
    TS_ROUTE,
    TS_ROUTE_BUG,
    TS_ROUTE_GOOD,
    TS_TEST,
    diagnosis,
    make_repo,
    python_diagnosis,
    tsx_bin_dir,
)

RUFF_CONFIG = (
    '[project]\nname = "shop"\nversion = "0"\n\n[tool.ruff]\nline-length = 100\n\n[tool.ruff.format]\nquote-style = "single"\n'
)

# Fixes here have no request to replay: this file is not about the release gate (test_reproduction.py is).
UNGATED = ReleaseGate(require_reproduction=False, min_confidence=0.0)


def test_the_declared_tools_come_from_the_repository_configuration() -> None:
    assert declared_tools({}) == ()
    assert declared_tools({"pyproject.toml": RUFF_CONFIG}) == (StyleTool.RUFF_CHECK, StyleTool.RUFF_FORMAT)
    black = '[tool.black]\nline-length = 88\n[tool.ruff.lint]\nselect = ["F"]\n'
    assert declared_tools({"pyproject.toml": black}) == (StyleTool.RUFF_CHECK, StyleTool.BLACK)
    assert declared_tools({"ruff.toml": ""}) == (StyleTool.RUFF_CHECK, StyleTool.RUFF_FORMAT)
    package = '{"devDependencies": {"prettier": "^3.3.0", "typescript": "5.9.3"}, "scripts": {"lint": "eslint ."}}'
    assert declared_tools({"package.json": package}) == (StyleTool.ESLINT, StyleTool.PRETTIER)
    assert declared_tools({"package.json": "{}", ".prettierrc": "{}"}) == (StyleTool.PRETTIER,)
    assert declared_tools({"package.json": "not json", "pyproject.toml": "not = [toml"}) == ()


def test_each_tool_gets_only_its_files_as_dot_slash_operands() -> None:
    tools = (StyleTool.RUFF_FORMAT, StyleTool.PRETTIER)
    steps = style_steps(tools, ["app/main.py", "--config=evil.py", "src/route.ts", "../outside.py", "README"])
    assert [(s.tool, s.files) for s in steps] == [
        (StyleTool.RUFF_FORMAT, ("app/main.py", "--config=evil.py")),
        (StyleTool.PRETTIER, ("src/route.ts",)),
    ]
    assert steps[0].args == ("format", "--quiet", "--no-cache", "./app/main.py", "./--config=evil.py")


def test_formatting_that_rewrites_untouched_lines_is_not_kept() -> None:
    base = "a = 1\nb = 2\n"
    fixed = "a = 1\nif b is None:\n    b = 0\nb = 2\n"
    assert formatting_kept(base=base, fixed=fixed, formatted=fixed.replace("0", "(0)"))
    rewritten = "".join(f"x{i} = {i}\n" for i in range(30))
    assert not formatting_kept(base=base, fixed=fixed, formatted=rewritten)


def _ruff_formatted(text: str) -> str:
    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent))
    assert ruff, "ruff is in the workspace venv"
    done = subprocess.run(
        [ruff, "format", "--config", "format.quote-style = 'single'", "--stdin-filename", "x.py", "-"],
        input=text,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


async def test_a_python_fix_is_formatted_with_the_ruff_style_the_repository_declares(
    tmp_path: Path, fix_options: Callable[..., FixOptions]
) -> None:
    good = {name: _ruff_formatted(text) for name, text in {"app/main.py": PY_MAIN_GOOD, "app/db.py": PY_DB}.items()}
    repo = make_repo(
        tmp_path,
        good={"pyproject.toml": RUFF_CONFIG, "app/__init__.py": "", **good, "tests/test_main.py": PY_TEST},
        bug={"app/main.py": _ruff_formatted(PY_MAIN_BUG)},
        language="python",
        test_command=PY_TEST_COMMAND,
    )
    assert find_tool(StyleTool.RUFF_FORMAT, repo.path, fix_options().limits.tool_paths) is not None
    audits: list[tuple[str, ActionStatus, str]] = []
    outcome = await implement_fix(
        python_diagnosis(repo, request=None),
        target=repo.target,
        repo=repo.path,
        options=fix_options(gate=UNGATED),
        audit=lambda action, status, summary, _details: audits.append((action, status, summary)),
    )
    assert outcome.kind is OutcomeKind.COMMITTED and outcome.strategy is FixStrategy.NULL_GUARD
    added = [line for line in outcome.diff.splitlines() if line.startswith("+") and not line.startswith("+++")]
    assert any("detail='Practice not found'" in line for line in added), outcome.diff  # the repository's quotes
    assert not any('"' in line for line in added)
    assert outcome.candidates[0]["styled"] == ["ruff check --fix", "ruff format"]
    ran = [summary for action, status, summary in audits if action == "implementer.style" and status is ActionStatus.SUCCEEDED]
    assert "ran ruff format on app/main.py" in ran and "ran ruff check --fix on app/main.py" in ran


async def test_a_declared_formatter_that_is_not_installed_is_skipped_and_said_so(
    tmp_path: Path, fix_options: Callable[..., FixOptions]
) -> None:
    if tsx_bin_dir() is None:
        pytest.skip("tsx not installed (make install puts it in tools/node)")
    package = '{"name": "shop", "private": true, "type": "module", "devDependencies": {"prettier": "^3.3.0"}}\n'
    repo = make_repo(
        tmp_path,
        good={
            "package.json": package,
            ".prettierrc": "{}\n",
            "src/lib/db.ts": TS_DB,
            TS_ROUTE: TS_ROUTE_GOOD,
            TS_ROUTE[:-3] + ".test.ts": TS_TEST,
        },
        bug={TS_ROUTE: TS_ROUTE_BUG},
        language="typescript",
        test_command="tsx --test $(find src -name '*.test.ts')",
    )
    audits: list[tuple[str, ActionStatus, str]] = []
    outcome = await implement_fix(
        diagnosis(affected_file=TS_ROUTE, lines=(5, 5), title="TypeError: Cannot read properties of null (reading 'id')"),
        target=repo.target,
        repo=repo.path,
        options=fix_options(gate=UNGATED),
        audit=lambda action, status, summary, _details: audits.append((action, status, summary)),
    )
    assert outcome.kind is OutcomeKind.COMMITTED  # the fix is still made, unformatted
    skipped = [s for a, st, s in audits if a == "implementer.style" and st is ActionStatus.SKIPPED]
    assert skipped == ["the repository declares prettier but it is not installed in the checkout: not run"]
