"""``medic diagnose``: diagnose one stored Sentry event against a target's repository, print the DiagnosisReady."""

from __future__ import annotations

import argparse
import asyncio
import json
from pathlib import Path
from typing import Any


def _handle(args: argparse.Namespace) -> int:
    from medic_contracts import ConfigError, load_target, section
    from medic_investigator.adapters.llm.section import LlmSection
    from medic_investigator.adapters.providers import build_provider
    from medic_investigator.adapters.store import InMemorySpendLedger
    from medic_investigator.job.diagnose import diagnose_issue
    from medic_investigator.settings import InvestigatorSettings
    from medic_watcher.job.detect import detect_from_sentry_events

    try:
        target = load_target(args.target)
        llm = section(LlmSection, target.llm, name="llm")
    except ConfigError as exc:
        print(f"medic diagnose: {exc}")
        return 2
    if args.provider:
        llm = llm.model_copy(update={"provider": args.provider})
    try:
        event = json.loads(
            Path(args.event).read_text(encoding="utf-8").splitlines()[0]
            if args.event.endswith(".jsonl")
            else Path(args.event).read_text(encoding="utf-8")
        )
    except (OSError, json.JSONDecodeError, IndexError) as exc:
        print(f"medic diagnose: cannot read event {args.event}: {exc}")
        return 2
    try:
        provider = build_provider(llm, api_key=InvestigatorSettings().api_key(), ledger=InMemorySpendLedger())
    except ValueError as exc:
        print(f"medic diagnose: {exc}")
        return 2
    (issue,) = detect_from_sentry_events([event], target=target)
    repo = Path(args.repo) if args.repo else target.repo_path()
    diagnosis = asyncio.run(diagnose_issue(issue, target=target, repo=repo, provider=provider))
    print(diagnosis.model_dump_json(indent=2))
    return 0


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser("diagnose", help="diagnose one Sentry event against a target's repository")
    parser.add_argument("--target", required=True, help="the target's medic.toml")
    parser.add_argument("--event", required=True, help="a Sentry event (.json, or the first line of a .jsonl)")
    parser.add_argument("--repo", help="checkout to read (default: the target's repo as it is)")
    parser.add_argument("--provider", choices=["playbook", "claude", "auto"], help="override [llm] provider")
    parser.set_defaults(handler=_handle)
