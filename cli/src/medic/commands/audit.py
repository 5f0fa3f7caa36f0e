"""``medic audit verify`` / ``medic audit head``: check and export the hash-chained audit trail."""

from __future__ import annotations

import argparse
from typing import Any


def _verify(args: argparse.Namespace) -> int:
    from medic_control import cli

    return cli.audit_verify(args)


def _head(args: argparse.Namespace) -> int:
    from medic_control import cli

    return cli.audit_head(args)


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser("audit", help="the audit trail (verify, head)")
    actions = parser.add_subparsers(dest="audit_action", required=True, metavar="ACTION")
    verify = actions.add_parser("verify", help="recompute the hash chain; exit 1 naming the first bad row")
    verify.add_argument("--expected-head", default=None, help="a head hash exported earlier (detects truncation)")
    head = actions.add_parser("head", help="print the head seq and hash")
    for p, fn in ((verify, _verify), (head, _head)):
        p.add_argument("--database-url", default=None, help="read this store directly instead of the API")
        p.add_argument("--json", action="store_true")
        p.set_defaults(handler=fn)
