"""Operator commands, clients of control-api: status, pause, resume, scan, approvals, approve, reject, issues, rollback,
false-positive, review."""

from __future__ import annotations

import argparse
from typing import Any


def _handler(name: str) -> Any:
    def run(args: argparse.Namespace) -> int:
        from medic_control.operator import control

        result: int = getattr(control, name)(args)
        return result

    return run


def register(sub: Any) -> None:
    def add(name: str, help_text: str) -> argparse.ArgumentParser:
        parser: argparse.ArgumentParser = sub.add_parser(name, help=help_text)
        parser.add_argument("--json", action="store_true", help="print the API's JSON")
        parser.set_defaults(handler=_handler(name))
        return parser

    add("status", "pause state, autonomy level and pending approvals (MEDIC_API_URL, MEDIC_TOKEN)")
    for name, verb in (("pause", "pause every agent (kill switch)"), ("resume", "resume every agent")):
        add(name, verb).add_argument("--reason", default="", help="why (audited)")
    scan = add("scan", "ask the watcher to scan its sources now")
    scan.add_argument("--target", default=None)
    scan.add_argument("--reason", default="")
    approvals = add("approvals", "list approval requests")
    approvals.add_argument("--status", default="pending", choices=["pending", "approved", "rejected", "expired", "all"])
    approve = add("approve", "approve a pending fix or deploy (shows the diff first)")
    approve.add_argument("approval_id")
    approve.add_argument("--diff-hash", default=None, help="the diff hash you reviewed (skips the prompt)")
    approve.add_argument("--reason", default="")
    approve.add_argument("--yes", action="store_true", help="approve the diff shown without asking")
    reject = add("reject", "reject a pending approval")
    reject.add_argument("approval_id")
    reject.add_argument("--reason", default="")
    issues = add("issues", "list issues, or show one with its timeline")
    issues.add_argument("issue_id", nargs="?")
    issues.add_argument("--status", action="append")
    issues.add_argument("--severity", action="append")
    issues.add_argument("--limit", type=int, default=50)
    issues.add_argument("--cursor", default=None)
    rollback = add("rollback", "roll back an issue's deployed fix")
    rollback.add_argument("issue_id")
    rollback.add_argument("--reason", default="")
    false_positive = add("false-positive", "mark an issue as a false positive (feeds the weekly review)")
    false_positive.set_defaults(handler=_handler("false_positive"))
    false_positive.add_argument("issue_id")
    false_positive.add_argument("--reason", default="")
    false_positive.add_argument("--clear", action="store_true", help="remove the mark")
    review = add("review", "the weekly review: the week beside the success targets, and the P4 issues")
    review.add_argument("--until", default=None, help="end of the week (ISO 8601 with offset; default now)")
    review.add_argument("--send", action="store_true", help="also deliver it to the configured Slack channel and email")
