"""The operator's control commands, clients of the REST API: state, pause/resume, scan, rollback, approvals, issues."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from .output import emit, open_client, run_client

__all__ = [
    "approvals",
    "approve",
    "false_positive",
    "issues",
    "pause",
    "reject",
    "resume",
    "review",
    "rollback",
    "scan",
    "status",
]


def status(args: argparse.Namespace) -> int:
    """``medic status``: pause state, autonomy level, config version, pending approvals."""

    def go() -> int:
        with open_client() as client:
            state = client.state()
            pending = client.approvals(status="pending")
        config = state["config"]
        mode = f"PAUSED ({state['reason'] or 'no reason given'})" if state["paused"] else "running"
        if not config.get("active", True):
            mode = "DEACTIVATED (kill switch)"
        text = (
            f"mode: {mode}\nautonomy level: {config['autonomy_level']}\nconfig version: {config['version']}\n"
            f"pending approvals: {len(pending)}"
        )
        emit({**state, "pending_approvals": len(pending)}, as_json=args.json, text=text)
        return 0

    return run_client(go)


def pause(args: argparse.Namespace) -> int:
    """``medic pause [--reason R]``."""
    return run_client(lambda: _command(args, lambda c: c.pause(args.reason), "paused"))


def resume(args: argparse.Namespace) -> int:
    """``medic resume [--reason R]``."""
    return run_client(lambda: _command(args, lambda c: c.resume(args.reason), "resumed"))


def scan(args: argparse.Namespace) -> int:
    """``medic scan [--target T]``."""
    return run_client(lambda: _command(args, lambda c: c.scan(target=args.target, reason=args.reason), "scan requested"))


def rollback(args: argparse.Namespace) -> int:
    """``medic rollback ISSUE_ID --reason R``."""
    return run_client(lambda: _command(args, lambda c: c.rollback(args.issue_id, reason=args.reason), "rollback requested"))


def false_positive(args: argparse.Namespace) -> int:
    """``medic false-positive ISSUE_ID --reason R [--clear]``."""
    verb = "false-positive mark cleared" if args.clear else "marked as a false positive"
    return run_client(
        lambda: _command(args, lambda c: c.false_positive(args.issue_id, reason=args.reason, false_positive=not args.clear), verb)
    )


def review(args: argparse.Namespace) -> int:
    """``medic review [--until ISO] [--send]``: the weekly review beside the targets (``--send`` delivers it)."""

    def go() -> int:
        with open_client() as client:
            week = client.weekly_review(until=args.until)
            sent = client.send_weekly_review(until=args.until) if args.send else None
        lines = [
            f"Weekly review {week['since'][:10]} – {week['until'][:10]}: "
            f"{week['targets_met']}/{week['targets_judged']} targets met"
        ]
        for m in week["metrics"]:
            verdict = {True: "met", False: "MISSED", None: ""}[m["met"]]
            target = f"target {m['target']:<7} {verdict}" if m["target"] else ""
            lines.append(f"  {m['label']:<48} {m['display']:<18} {target}".rstrip())
        lines.append(f"P4 issues ({len(week['p4_issues'])}):")
        lines += [
            f"  {i['id']}  {i['occurrences']:>5}x  {i['title'][:90]}" + ("  [false positive]" if i["false_positive"] else "")
            for i in week["p4_issues"]
        ] or ["  none"]
        if sent is not None:
            lines.append(
                f"sent to: {', '.join(sent['delivered']) or 'no channel configured'}"
                + "".join(f"; {k} failed: {v}" for k, v in sent["failed"].items())
            )
        emit({"review": week, "sent": sent} if args.send else week, as_json=args.json, text="\n".join(lines))
        return 0

    return run_client(go)


def _command(args: argparse.Namespace, call: Any, verb: str) -> int:
    with open_client() as client:
        result = call(client)
    emit(result, as_json=args.json, text=f"{verb} (event {result['event_id']})")
    return 0


def approvals(args: argparse.Namespace) -> int:
    """``medic approvals [--status S]``: approval requests (pending by default)."""

    def go() -> int:
        with open_client() as client:
            items = client.approvals(status=None if args.status == "all" else args.status)
        lines = [
            f"{a['id']}  {a['status']:<8} {a['kind']:<8} {a['issue_id']}  by {a['requested_by']}"
            f"  expires {a['expires_at']}\n    {a['reason']}"
            for a in items
        ]
        emit(items, as_json=args.json, text="\n".join(lines) or "no approvals")
        return 0

    return run_client(go)


def approve(args: argparse.Namespace) -> int:
    """``medic approve ID``: show the diff, confirm, approve it bound to the hash that was shown."""

    def go() -> int:
        with open_client() as client:
            approval = client.approval(args.approval_id)
            diff_hash = args.diff_hash or approval["diff_hash"]
            if not args.diff_hash and not args.yes:
                sys.stdout.write(f"{approval['kind']} approval for {approval['issue_id']}: {approval['reason']}\n")
                sys.stdout.write(approval["diff"] + "\n" if approval["diff"] else "(no diff)\n")
                sys.stdout.write(f"diff hash {diff_hash}\napprove? [y/N] ")
                sys.stdout.flush()
                if sys.stdin.readline().strip().lower() not in ("y", "yes"):
                    sys.stderr.write("medic: not approved\n")
                    return 1
            result = client.approve(args.approval_id, diff_hash=diff_hash, reason=args.reason)
        emit(result, as_json=args.json, text=f"approved {result['id']} ({result['kind']} for {result['issue_id']})")
        return 0

    return run_client(go)


def reject(args: argparse.Namespace) -> int:
    """``medic reject ID --reason R``."""

    def go() -> int:
        with open_client() as client:
            result = client.reject(args.approval_id, reason=args.reason)
        emit(result, as_json=args.json, text=f"rejected {result['id']}")
        return 0

    return run_client(go)


def issues(args: argparse.Namespace) -> int:
    """``medic issues [--status S] [--severity P] [--limit N]`` or ``medic issues ID`` for one issue."""

    def go() -> int:
        with open_client() as client:
            if args.issue_id:
                issue = client.issue(args.issue_id)
                lines = [f"{issue['id']} {issue['severity']} {issue['status']}: {issue['title']}"]
                if issue.get("root_cause"):
                    lines.append(f"root cause: {issue['root_cause']}")
                lines += [f"  {a['occurred_at']}  {a['action']:<32} {a['status']:<9} {a['summary']}" for a in issue["timeline"]]
                emit(issue, as_json=args.json, text="\n".join(lines))
                return 0
            page = client.issues(status=args.status, severity=args.severity, limit=args.limit, cursor=args.cursor)
        lines = [
            f"{i['id']:<24} {i['severity']} {i['status']:<18} {i['detected_at'][:19]}  {i['title'][:70]}" for i in page["items"]
        ]
        if page.get("next_cursor"):
            lines.append(f"more: --cursor {page['next_cursor']}")
        emit(page, as_json=args.json, text="\n".join(lines) or "no issues")
        return 0

    return run_client(go)
