"""``medic implement``: run the implementer once on a diagnosis, in-process (no broker).

Reads a DiagnosisReady (JSON) and a target file, makes, tests, commits and (unless ``--no-push``)
delivers the fix exactly as the implementer service would, and prints the outcome as JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import Any


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser("implement", help="make, test and commit a fix for one diagnosis")
    parser.add_argument("--target", type=Path, default=Path("medic.toml"), help="the target file (medic.toml)")
    parser.add_argument("--diagnosis", type=Path, required=True, help="a DiagnosisReady event as JSON ('-' for stdin)")
    parser.add_argument("--workdir", type=Path, default=Path(".medic/worktrees"), help="where worktrees are created")
    parser.add_argument("--tool-path", type=Path, action="append", default=None, help="directory put first on PATH for tests")
    parser.add_argument("--no-push", action="store_true", help="commit locally; do not push or open a pull request")
    parser.add_argument("--signing-key", type=Path, default=None, help="SSH key to sign the commit with")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from medic_contracts import ConfigError, DiagnosisReady, load_target
    from medic_implementer.adapters.forge import build_forge
    from medic_implementer.adapters.signing import CommitSigner
    from medic_implementer.adapters.testrun import SandboxLimits
    from medic_implementer.job import FixOptions, implement_fix
    from medic_implementer.settings import default_tool_paths

    try:
        target = load_target(args.target)
    except ConfigError as exc:
        print(f"medic implement: {exc}", file=sys.stderr)
        return 2
    raw = sys.stdin.read() if str(args.diagnosis) == "-" else args.diagnosis.read_text()
    diagnosis = DiagnosisReady.model_validate_json(raw)
    repo = target.repo_path()
    options = FixOptions(
        workspace_root=args.workdir.resolve(),
        limits=SandboxLimits(timeout_s=float(target.test_timeout_s), tool_paths=tuple(args.tool_path or default_tool_paths())),
        signer=CommitSigner(key=args.signing_key),
    )
    forge = (
        None
        if args.no_push
        else build_forge(
            target.forge, base_dir=Path(target.base_dir), work_dir=args.workdir.resolve().parent / "forge", repo=repo
        )
    )
    outcome = asyncio.run(implement_fix(diagnosis, target=target, repo=repo, options=options, forge=forge))
    print(json.dumps(outcome.as_dict(), indent=2))
    return 0 if outcome.committed else 1
