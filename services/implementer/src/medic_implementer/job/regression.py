"""Candidates step, first: a regression test generated from the failing request, kept only if it fails on the
unfixed code the way the issue did."""

from __future__ import annotations

import re
from pathlib import Path

from medic_contracts import ActionStatus, DiagnosisReady, RequestContext, TargetConfig, TestOutcome

from ..adapters.workspace import Workspace
from ..domain.guard import PathGuard
from ..domain.regression import (
    RegressionTest,
    find_python_app,
    python_regression_test,
    reproduces,
    typescript_regression_test,
)
from .context import FixJob
from .validate import write_guarded

__all__ = ["reproducing_test"]


async def reproducing_test(job: FixJob, ws: Workspace, guard: PathGuard, request: RequestContext | None) -> RegressionTest | None:
    """A regression test that fails on the unfixed code as the issue did (audited and dropped when it does not)."""
    regression = await _generate(ws, job.diagnosis, job.target, request)
    if regression is None or guard.check(regression.path).refused:
        return None
    write_guarded(guard, regression.path, regression.content)
    before = await job.runner.run(regression.command, cwd=ws.path / regression.cwd)
    if (
        before.passed
        or before.report.outcome is TestOutcome.TIMED_OUT
        or not reproduces(before.output, title=job.diagnosis.issue.title)
    ):
        job.audit(
            "implementer.regression_test",
            ActionStatus.SKIPPED,
            f"generated test {regression.path} does not reproduce the failure: not kept",
            {"path": regression.path, "output": before.report.summary[-1000:]},
        )
        regression = None
    await ws.reset()
    return regression


async def _generate(
    ws: Workspace, diagnosis: DiagnosisReady, target: TargetConfig, request: RequestContext | None
) -> RegressionTest | None:
    """The regression test for the affected file's language, placed beside the project's tests; None without one."""
    if request is None or diagnosis.affected_file is None:
        return None
    affected = diagnosis.affected_file
    if affected.endswith(".py"):
        files = await ws.source_files((".py",))
        app = find_python_app(files)
        if app is None:
            return None
        test_dirs = sorted({str(Path(p).parent) for p in files if re.search(r"(^|/)test_[^/]*\.py$", p)}, key=len)
        return python_regression_test(
            issue_id=diagnosis.issue_id,
            title=diagnosis.issue.title,
            request=request,
            app=app,
            test_dir=test_dirs[0] if test_dirs else "tests",
        )
    route = ws.path / affected
    if not route.is_file():
        return None
    suffix = Path(affected).suffix
    slug = re.sub(r"[^A-Za-z0-9]+", "-", diagnosis.issue_id)[:30]
    names = await ws.tracked_files()
    existing = sorted(n for n in names if re.search(r"\.(test|spec)\.[cm]?[jt]sx?$", n))
    # Beside the project's own tests when it has some (their tsconfig/paths apply there), else beside the route.
    folder = Path(existing[0]).parent if existing else Path(affected).parent
    test_file = str(folder / f"medic-regression-{slug}.test{suffix}")
    package = next(
        (
            d
            for d in (folder, *folder.parents)
            if (ws.path / d / "package.json").is_file() or (ws.path / d / "tsconfig.json").is_file()
        ),
        None,
    )
    return typescript_regression_test(
        issue_id=diagnosis.issue_id,
        title=diagnosis.issue.title,
        request=request,
        route_file=affected,
        route_text=route.read_text(errors="replace"),
        test_command=target.test_command,
        test_file=test_file,
        package_dir="" if package is None or str(package) == "." else str(package),
    )
