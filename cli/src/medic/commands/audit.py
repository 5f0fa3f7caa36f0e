"""``medic audit verify`` / ``head`` / ``checkpoint``: check and export the audit trail and its signed tree heads."""

from __future__ import annotations

import argparse
from typing import Any


def _verify(args: argparse.Namespace) -> int:
    from medic_control.operator import audit

    return audit.audit_verify(args)


def _head(args: argparse.Namespace) -> int:
    from medic_control.operator import audit

    return audit.audit_head(args)


def _checkpoint(args: argparse.Namespace) -> int:
    from medic_control.operator import audit

    return audit.audit_checkpoint(args)


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser("audit", help="the audit trail (verify, head, checkpoint)")
    actions = parser.add_subparsers(dest="audit_action", required=True, metavar="ACTION")
    verify = actions.add_parser("verify", help="recompute the hash chain and Merkle tree; exit 1 naming the first bad entry")
    verify.add_argument("--expected-head", default=None, help="a head hash exported earlier (detects truncation)")
    verify.add_argument(
        "--checkpoint", default=None, metavar="FILE", help="signed checkpoint(s) saved earlier: detects truncation and rewrites"
    )
    verify.add_argument(
        "--witness", default=None, metavar="URL", help="read the checkpoints from this witness (file://, git+file://, http(s)://)"
    )
    verify.add_argument(
        "--public-key",
        default=None,
        metavar="FILE",
        help="PEM key the checkpoints must be signed with (default with --database-url: control-api's key file)",
    )
    head = actions.add_parser("head", help="print the head seq and hash")
    for p, fn in ((verify, _verify), (head, _head)):
        p.add_argument("--database-url", default=None, help="read this store directly instead of the API")
        p.add_argument("--json", action="store_true")
        p.set_defaults(handler=fn)
    checkpoint = actions.add_parser("checkpoint", help="fetch the current signed checkpoint from the API")
    checkpoint.add_argument("--out", default=None, metavar="FILE", help="append it to FILE (one JSON line each)")
    checkpoint.add_argument("--json", action="store_true")
    checkpoint.set_defaults(handler=_checkpoint)
