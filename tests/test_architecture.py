"""The layout rules of docs/architecture.md, checked on the source itself.

- each workspace member declares every third-party package it imports;
- product packages import neither pytest, nor a fake, nor a benchmark-only library;
- the P4 rule, recurrence and Sentry normalisation each have exactly one implementation;
- no module is over 400 lines, in a product package, the test kit, the lab or a test (events.py and
  generated files aside).
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from functools import cache
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MAX_LINES = 400
LONG_BY_DESIGN = {"libs/contracts/src/medic_contracts/events.py"}
#: Imports only tests and benchmarks may make.
TEST_ONLY = {"pytest", "_pytest", "drain3", "testcontainers", "docker", "aiosmtpd", "medic_testing", "medic_lab"}


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def members() -> list[Path]:
    root = tomllib.loads((ROOT / "pyproject.toml").read_text())
    found: list[Path] = []
    for pattern in root["tool"]["uv"]["workspace"]["members"]:
        found += [p.parent for p in sorted(ROOT.glob(f"{pattern}/pyproject.toml"))]
    return found


def product_members() -> list[Path]:
    """Members whose wheels ship to users (not the test kit, not the lab)."""
    return [m for m in members() if m.name not in {"testing", "lab"}]


def sources(member: Path) -> Iterator[Path]:
    yield from sorted((member / "src").rglob("*.py"))


@cache
def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def imports(path: Path) -> set[str]:
    """Top-level names of the absolute imports in a module."""
    names: set[str] = set()
    for node in ast.walk(_tree(path)):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def declared(member: Path) -> set[str]:
    project = tomllib.loads((member / "pyproject.toml").read_text())["project"]
    return {_norm(re.split(r"[<>=!~;\[ ]", d)[0]) for d in project.get("dependencies", [])} | {_norm(project["name"])}


def _distributions() -> dict[str, list[str]]:
    """Import name -> distributions, with the workspace's own members (editable installs may not list them)."""
    found = dict(packages_distributions())
    for member in members():
        name = tomllib.loads((member / "pyproject.toml").read_text())["project"]["name"]
        for package in (member / "src").iterdir():
            if package.is_dir() and (package / "__init__.py").is_file():
                found[package.name] = [name]
    return found


@pytest.mark.parametrize("member", members(), ids=lambda m: m.name)
def test_each_member_declares_every_package_it_imports(member: Path) -> None:
    distributions = _distributions()
    own = {p.name for p in (member / "src").iterdir() if p.is_dir()}
    deps = declared(member)
    undeclared: dict[str, str] = {}
    for path in sources(member):
        for name in imports(path) - own - set(sys.stdlib_module_names) - {"__future__"}:
            dists = {_norm(d) for d in distributions.get(name, [name])}
            if not dists & deps:
                undeclared.setdefault(name, str(path.relative_to(ROOT)))
    assert not undeclared, f"{member.name} imports packages its pyproject.toml does not declare: {undeclared}"


@pytest.mark.parametrize("member", product_members(), ids=lambda m: m.name)
def test_product_packages_import_no_test_or_benchmark_code(member: Path) -> None:
    offending = {
        str(path.relative_to(ROOT)): sorted(found)
        for path in sources(member)
        if (found := imports(path) & TEST_ONLY) or path.parent.name == "testing" or path.name == "testing.py"
    }
    assert not offending, f"test or benchmark code inside a product package: {offending}"


def _product_modules() -> Iterator[tuple[str, ast.Module]]:
    for member in product_members():
        for path in sources(member):
            yield str(path.relative_to(ROOT)), _tree(path)


def _compares_with_p4(tree: ast.Module) -> bool:
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare):
            for side in (node.left, *node.comparators):
                if isinstance(side, ast.Attribute) and side.attr == "P4" and getattr(side.value, "id", "") == "Severity":
                    return True
    return False


def _defines(tree: ast.Module, name: str) -> bool:
    return any(isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef) and n.name == name for n in ast.walk(tree))


def _uses(tree: ast.Module, name: str) -> bool:
    """True when the module imports ``name`` (the way a caller reaches the one implementation)."""
    return any(isinstance(n, ast.ImportFrom) and any(a.name == name for a in n.names) for n in ast.walk(tree))


def _constructs(tree: ast.Module, name: str) -> bool:
    return any(isinstance(n, ast.Call) and getattr(n.func, "id", None) == name for n in ast.walk(tree))


def test_the_p4_rule_has_one_implementation_in_the_policy() -> None:
    deciding = [path for path, tree in _product_modules() if _compares_with_p4(tree)]
    assert deciding == ["libs/contracts/src/medic_contracts/policy.py"], deciding
    callers = [path for path, tree in _product_modules() if _uses(tree, "is_auto_handled") or _uses(tree, "auto_fix_refusal")]
    assert any("investigator" in p for p in callers) and any("implementer" in p for p in callers), callers


def test_recurrence_is_decided_once_and_the_watcher_and_releaser_call_it() -> None:
    defining = [path for path, tree in _product_modules() if _defines(tree, "decide_recurrence")]
    assert defining == ["libs/contracts/src/medic_contracts/recurrence.py"], defining
    callers = {path.split("/")[1] for path, tree in _product_modules() if _uses(tree, "decide_recurrence")}
    assert {"watcher", "releaser"} <= callers, callers


def test_sentry_events_become_issues_in_one_builder() -> None:
    building = sorted(path for path, tree in _product_modules() if _constructs(tree, "IssueDetected"))
    assert building == ["services/watcher/src/medic_watcher/domain/tracker.py"], building
    defining = [path for path, tree in _product_modules() if _defines(tree, "detect_from_sentry_events")]
    assert defining == ["services/watcher/src/medic_watcher/job/detect.py"], defining


def test_no_product_module_is_over_400_lines() -> None:
    long = {
        path: n
        for member in product_members()
        for p in sources(member)
        if (path := str(p.relative_to(ROOT))) not in LONG_BY_DESIGN
        and (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert not long, f"modules over {MAX_LINES} lines: {long}"


def _tracked_python() -> list[Path]:
    """Every Python file git tracks or would (not ignored): members' sources and tests, cross-service tests, examples."""
    try:
        listed = subprocess.run(
            ["git", "-C", str(ROOT), "ls-files", "-z", "--cached", "--others", "--exclude-standard", "*.py"],
            capture_output=True,
            check=True,
            timeout=60,
        ).stdout
    except (OSError, subprocess.SubprocessError) as exc:
        pytest.skip(f"not a git checkout: {exc}")
    return [path for name in listed.decode().split("\0") if name and (path := ROOT / name).is_file()]


def _generated(path: Path) -> bool:
    head = "\n".join(path.read_text(encoding="utf-8").splitlines()[:3])
    return "@generated" in head or "do not edit" in head.lower()


def test_no_test_kit_lab_or_test_module_is_over_400_lines() -> None:
    product = {p for member in product_members() for p in sources(member)}
    long = {
        path: n
        for p in _tracked_python()
        if p not in product
        and (path := str(p.relative_to(ROOT))) not in LONG_BY_DESIGN
        and not _generated(p)
        and (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert not long, f"modules over {MAX_LINES} lines (split a test module by topic, shared fixtures aside): {long}"
