"""A real ``next build`` of the shop's App Router app: frames in ``.next/server`` map back to route.ts.

One module-scoped build (npm ci from the committed package-lock.json, then ``next build``) of the
shop web app with a real bad change applied (examples/shop/bad-changes/001: the null check
dropped); the built route handler is called by node and its real stack trace is mapped through
the build's server source maps, and, with the maps removed, by Next.js path conventions.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from medic_stacktrace import RepoPathResolver, SourceMapper, find_culprit, parse_trace

REPO_ROOT = Path(__file__).resolve().parents[3]
SHOP = REPO_ROOT / "examples" / "shop"
CALL_ROUTE = Path(__file__).resolve().parent / "fixtures" / "nextjs" / "call-route.cjs"
ROUTE = "src/app/api/practices/[id]/route.ts"


def _run(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=600, check=False)


@pytest.fixture(scope="module")
def built_app(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shop web app with bad change 001 applied, built by ``next build`` (skip without node)."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.skip("node/npm are not installed (scripts/install-system.sh installs nodejs)")
    root = tmp_path_factory.mktemp("shop")
    shutil.copytree(SHOP / "web", root / "web", ignore=shutil.ignore_patterns("node_modules", ".next"))
    env = {**os.environ, "NEXT_TELEMETRY_DISABLED": "1", "NO_COLOR": "1"}
    patch = SHOP / "bad-changes" / "001-practice-null-check.patch"
    applied = _run(["git", "apply", str(patch)], root, env)
    assert applied.returncode == 0, applied.stderr
    web = root / "web"
    installed = _run([npm, "ci", "--no-audit", "--no-fund", "--prefer-offline"], web, env)
    assert installed.returncode == 0, installed.stderr[-2000:]
    built = _run([npm, "run", "next:build"], web, env)
    assert built.returncode == 0, (built.stdout + built.stderr)[-4000:]
    return web


def _crash(web: Path) -> str:
    node = shutil.which("node")
    assert node is not None
    result = subprocess.run(
        [node, str(CALL_ROUTE), ".next/server/app/api/practices/[id]/route.js", "prc_missing"],
        cwd=web,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 3, f"the patched route should throw, it printed: {result.stdout}{result.stderr}"
    return result.stderr


def _bad_line(web: Path) -> int:
    lines = (web / ROUTE).read_text(encoding="utf-8").splitlines()
    return next(i for i, text in enumerate(lines, start=1) if "id: practice.id" in text)


def test_built_server_frame_maps_to_route_ts_line_through_source_maps(built_app: Path) -> None:
    assert list((built_app / ".next" / "server" / "app").rglob("route.js.map")), "server source maps not emitted"
    stack = _crash(built_app)
    trace = parse_trace(stack)
    assert trace is not None
    raw_top = trace.exceptions[-1].frames[-1]
    assert ".next/server/app/api/practices/[id]/route.js" in raw_top.file
    mapped = SourceMapper(built_app).map_trace(trace)
    files = RepoPathResolver(p.relative_to(built_app).as_posix() for p in (built_app / "src").rglob("*.ts"))
    top = mapped.exceptions[-1].frames[-1]
    assert files.resolve(top.file) == ROUTE, top
    assert top.line == _bad_line(built_app)
    assert top.context_line is not None and "practice.id" in top.context_line
    culprit = find_culprit(mapped, files)
    assert culprit is not None
    assert (culprit.repo_path, culprit.line) == (ROUTE, _bad_line(built_app))


def test_built_server_frame_maps_to_route_ts_file_by_next_conventions_without_maps(built_app: Path) -> None:
    stack = _crash(built_app)
    trace = parse_trace(stack)
    assert trace is not None
    top = trace.exceptions[-1].frames[-1]
    files = RepoPathResolver(p.relative_to(built_app).as_posix() for p in (built_app / "src").rglob("*.ts"))
    assert files.resolve(top.file) == ROUTE
    culprit = find_culprit(trace, files)
    assert culprit is not None and culprit.repo_path == ROUTE
