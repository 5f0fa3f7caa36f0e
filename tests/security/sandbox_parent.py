"""The implementer side of the sandbox attacks: a process whose *initial* environment holds the secret.

``/proc/PID/environ`` shows the environment a process was started with, so an attack on it needs a
parent started with the secret, not a ``monkeypatch.setenv`` in the test process. ``python
sandbox_parent.py`` reads one request per line on stdin (``{"mode": "run" | "fix", "out": FILE, ...}``),
forks a child per request (the child keeps the initial environment block, secret included, and is
the process the sandbox's ``unshare`` runs under), which writes its JSON result to ``out``; the server
answers each request with the child's wait status on one stdout line. Importing the implementer once
keeps each attack cheap on a busy machine.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any


async def run(spec: dict[str, Any]) -> dict[str, Any]:
    from dataclasses import fields

    from medic_implementer.adapters.testrun import SandboxLimits, TestRunner

    wanted: dict[str, Any] = {"timeout_s": 60, "tool_paths": (Path(sys.executable).parent,), **spec.get("limits", {})}
    known = {f.name for f in fields(SandboxLimits)}  # the same probe runs against older runners (checked on main)
    limits = SandboxLimits(**{k: v for k, v in wanted.items() if k in known})
    command = spec["command"].replace("{parent}", str(os.getpid()))
    result = await TestRunner(limits).run(command, cwd=Path(spec["cwd"]))
    return {
        "outcome": result.report.outcome.value,
        "output": result.output,
        "summary": result.report.summary,
        "sandboxed": getattr(result.report, "sandboxed", None),
        "missing": list(getattr(result.report, "sandbox_missing", ())),
    }


async def fix(spec: dict[str, Any]) -> dict[str, Any]:
    from medic_contracts import TargetConfig
    from medic_implementer.adapters.signing import CommitSigner
    from medic_implementer.adapters.testrun import SandboxLimits
    from medic_implementer.job import FixOptions, implement_fix
    from medic_testing.implementer import FixtureRepo, local_forge, python_diagnosis

    repo = FixtureRepo(
        path=Path(spec["repo"]),
        remote=Path(spec["remote"]),
        good_sha=spec["good_sha"],
        bug_sha=spec["bug_sha"],
        target=TargetConfig.model_validate(spec["target"]),
    )
    options = FixOptions(
        workspace_root=Path(spec["worktrees"]),
        limits=SandboxLimits(timeout_s=120, tool_paths=(Path(sys.executable).parent,)),
        signer=CommitSigner(key=None),
    )
    outcome = await implement_fix(
        python_diagnosis(repo), target=repo.target, repo=repo.path, options=options, forge=local_forge(repo.remote)
    )
    return {
        "kind": outcome.kind.value,
        "reasons": list(outcome.reasons),
        "commit_sha": outcome.commit_sha,
        "diff": outcome.diff,
        "tests": outcome.tests.model_dump(mode="json") if outcome.tests else None,
    }


def main() -> None:
    import medic_implementer.job  # noqa: F401 - imported once, before the forks
    from medic_implementer.adapters.sandbox import sandbox_support

    sandbox_support()  # probed once, inherited by every child
    print(json.dumps({"ready": os.getpid()}), flush=True)
    for line in sys.stdin:
        spec = json.loads(line)
        pid = os.fork()
        if pid == 0:
            try:
                result = asyncio.run(run(spec) if spec["mode"] == "run" else fix(spec))
                Path(spec["out"]).write_text(json.dumps(result))
            finally:
                os._exit(0)
        _, status = os.waitpid(pid, 0)
        print(json.dumps({"status": status, "child": pid}), flush=True)


if __name__ == "__main__":
    main()
